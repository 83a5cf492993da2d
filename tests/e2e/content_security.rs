//! The app runs under the Content-Security-Policy the endpoint serves it with (issue 18):
//! nothing it does in a party (joining, a film, chat, a call with cameras) is refused by the
//! policy, and the policy is really in force, and a refusal really seen: a script injected at
//! the end is refused, and counted.

use crate::harness::actions::{gather, play_clip_together, say};
use crate::harness::call::{call_party, join_call, wait_for_moving_tile};
use crate::harness::{Browser, Place, ServerOptions, UI_TIMEOUT};
use anyhow::{ensure, Result};
use std::time::Duration;

/// Installed before the app starts: every `securitypolicyviolation` the document sees, as text.
const WATCH_VIOLATIONS: &str = "
window.__cspViolations = [];
document.addEventListener('securitypolicyviolation', (e) => window.__cspViolations.push(
  `${e.effectiveDirective} refused ${e.blockedURI || '(inline)'} at ${e.sourceFile}:${e.lineNumber} ${e.sample}`));
";

async fn violations(browser: &Browser) -> Result<Vec<String>> {
    let list = browser
        .client
        .execute("return window.__cspViolations || null;", vec![])
        .await?;
    ensure!(
        !list.is_null(),
        "{}: the violation watcher was not installed",
        browser.name
    );
    Ok(serde_json::from_value(list)?)
}

#[tokio::test(flavor = "multi_thread")]
async fn the_app_runs_under_its_content_security_policy() -> Result<()> {
    let names = [("alice", "Alice"), ("bob", "Bob")];
    let places = [("alice", Place::default()), ("bob", Place::default())];
    let party = call_party(
        "the_app_runs_under_its_content_security_policy",
        &places,
        ServerOptions::default(),
    )
    .await?;
    let outcome = async {
        let (alice, bob) = (party.person("alice"), party.person("bob"));
        for person in [alice, bob] {
            person.add_script_before_pages(WATCH_VIOLATIONS).await?;
        }
        gather(&party, &names).await?;
        play_clip_together(&[alice, bob]).await?;
        say(alice, "under the policy").await?;
        bob.wait_for_text("under the policy").await?;
        join_call(alice).await?;
        join_call(bob).await?;
        wait_for_moving_tile(alice, "Bob", UI_TIMEOUT).await?;
        wait_for_moving_tile(bob, "Alice", UI_TIMEOUT).await?;
        for person in [alice, bob] {
            let seen = violations(person).await?;
            ensure!(seen.is_empty(), "{} met the policy: {seen:#?}", person.name);
        }

        // The policy is in force, and a refusal would have been seen.
        let ran = alice
            .client
            .execute(
                "const s = document.createElement('script');
                 s.textContent = 'window.__injected = true;';
                 document.head.appendChild(s);
                 return window.__injected === true;",
                vec![],
            )
            .await?;
        ensure!(ran == serde_json::json!(false), "an inline script ran");
        let deadline = tokio::time::Instant::now() + Duration::from_secs(5);
        loop {
            let seen = violations(alice).await?;
            if let [only] = seen.as_slice() {
                ensure!(only.starts_with("script-src"), "{only}");
                break;
            }
            ensure!(
                seen.is_empty() && tokio::time::Instant::now() < deadline,
                "expected one refusal of the injected script, saw {seen:#?}"
            );
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        Ok(())
    }
    .await;
    party.finish(outcome).await
}

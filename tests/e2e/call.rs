//! The video call inside a party (issue 17): cameras and voices between real browsers, with
//! headless Chromium's fake camera and microphones that play WAV files made at test time.
//!
//! What people receive is measured by the harness, not read from the app: the peer connections'
//! own `getStats()` (audio energy, bytes), frames presented on each tile's `<video>`
//! (`requestVideoFrameCallback`), and the film's effective `volume` (see `harness::call`). The
//! tolerances are loose on purpose (shared, noisy machines); `cargo xtask bench call` measures.

use crate::harness::actions::{gather, play_together, say};
use crate::harness::call::{
    call_party, energy_growth, fetched_call_code, film_volumes, join_call, live_captures,
    place_with_mic, press_join_call, rtc_totals, set_switch, switch_is_on, unplug,
    wait_for_moving_tile, wait_for_tile_state, wait_until_no_tile, Mic,
};
use crate::harness::capture::RelayCapture;
use crate::harness::media::{wait_for_sync, LONG_CLIP_PATH};
use crate::harness::{Browser, Party, Place, ServerOptions, UI_TIMEOUT};
use anyhow::{ensure, Context, Result};
use std::time::Duration;

/// Everyone within this of each other counts as in sync (three 60 Hz frames), as in
/// `synced_playback`.
const TOLERANCE_MS: f64 = 50.0;
const SETTLE: Duration = Duration::from_secs(15);
/// Audio energy (`totalAudioEnergy`, level² × seconds) a talking person's stream must add in
/// [`LISTEN`]. A muted or silent stream adds about 1e-9; speech adds 1e-4 to tenths. The low end
/// is real: every fake microphone here plays the same speech at the same moments, and each
/// browser's echo canceller damps its own talker while the others' voices play (double talk),
/// which people in a real call rarely do for long.
const SPEAKING_ENERGY: f64 = 2e-5;
const LISTEN: Duration = Duration::from_secs(2);
/// How many [`LISTEN`] windows a voice gets to be heard in.
const LISTEN_WINDOWS: usize = 8;

/// Everyone named gathers, the first loads the long clip and the second presses Play; returns the
/// link once everyone plays in sync.
async fn gather_and_play(party: &Party, names: &[(&str, &str)]) -> Result<String> {
    let link = gather(party, names).await?;
    play_together(&browsers(party, names), LONG_CLIP_PATH).await?;
    Ok(link)
}

fn browsers<'a>(party: &'a Party, names: &[(&str, &str)]) -> Vec<&'a Browser> {
    names.iter().map(|(b, _)| party.person(b)).collect()
}

/// Everyone at a place whose microphone talks on and on.
async fn talking(people: &[&'static str]) -> Result<Vec<(&'static str, Place)>> {
    let place = place_with_mic(Mic::Talk).await?;
    Ok(people.iter().map(|p| (*p, place.clone())).collect())
}

/// `viewer` sees `other`'s tile with its video moving and hears them (audio energy grows).
async fn sees_and_hears(viewer: &Browser, other: &str) -> Result<()> {
    wait_for_moving_tile(viewer, other, UI_TIMEOUT).await?;
    // Audio starts with the connection, but the fake microphone's speech has pauses, and with
    // three talkers at once each echo canceller damps the others (double talk): give it several
    // windows before calling it silent. (Four were once too few: 1.95e-5 at best, on a busy
    // host.)
    let mut growths = Vec::new();
    for _ in 0..LISTEN_WINDOWS {
        let growth = energy_growth(viewer, other, LISTEN).await?;
        if growth > SPEAKING_ENERGY {
            return Ok(());
        }
        growths.push(growth);
    }
    anyhow::bail!(
        "{} hears nothing from {other}: audio energy grew by {growths:?} per {LISTEN:?}, want > {SPEAKING_ENERGY}",
        viewer.name
    )
}

/// Too heavy for the suite's host: three browsers each encoding their camera twice, decoding
/// two, and playing the film take about 1.7 of its 2 cores on a quiet host (56 % of a core
/// each, docs/measurements/call.md), and on 2026-12-07, with 4 % steal, each page fell seconds
/// behind: the people list read round trips of 2.0 and 3.5 s, and a page's own camera preview
/// presented one frame in 2 s for 10 s, in the full run and again alone. CI failed it in two of
/// its last three runs. The other call tests put three people in a call without the film, and
/// pass; `cargo xtask bench call` measures this one's figures. Run it on a larger host with
/// `INSIEME_E2E_INCLUDE_IGNORED=1 cargo xtask test e2e three_people`.
#[tokio::test(flavor = "multi_thread")]
#[ignore = "three camera calls and a film starve two cores: a page's own preview showed 1 frame \
            in 2 s for 10 s, alone, on 2026-12-07"]
async fn three_people_in_a_call_see_and_hear_each_other_and_the_film_stays_in_sync() -> Result<()> {
    let names = [("alice", "Alice"), ("bob", "Bob"), ("carol", "Carol")];
    let party = call_party(
        "call_three_people_see_and_hear",
        &talking(&["alice", "bob", "carol"]).await?,
        ServerOptions::default(),
    )
    .await?;
    let outcome = async {
        gather_and_play(&party, &names).await?;
        for (browser, _) in names {
            join_call(party.person(browser)).await?;
        }
        for (browser, name) in names {
            // Our own preview shows our camera moving, like everyone else's tile.
            wait_for_moving_tile(party.person(browser), &format!("{name} (you)"), UI_TIMEOUT)
                .await?;
        }
        // The film in sync with the three calls up. Checked before the voices: hearing them can
        // take up to 8 windows of 2 s for each of the six pairs, and the film must not have
        // ended first (see `LONG_CLIP_SECONDS`).
        let everyone = browsers(&party, &names);
        wait_for_sync(&everyone, true, TOLERANCE_MS, None, SETTLE)
            .await
            .context("the film with the three calls up")?;
        for (browser, _) in names {
            let viewer = party.person(browser);
            for (_, other) in names.iter().filter(|(b, _)| *b != browser) {
                sees_and_hears(viewer, other).await?;
            }
        }
        Ok(())
    }
    .await;
    party.finish(outcome).await
}

#[tokio::test(flavor = "multi_thread")]
async fn mute_camera_off_and_leave_reach_the_others() -> Result<()> {
    let names = [("alice", "Alice"), ("bob", "Bob"), ("carol", "Carol")];
    let party = call_party(
        "call_mute_camera_off_and_leave",
        &talking(&["alice", "bob", "carol"]).await?,
        ServerOptions::default(),
    )
    .await?;
    let outcome = async {
        gather(&party, &names).await?;
        let (alice, bob, carol) = (
            party.person("alice"),
            party.person("bob"),
            party.person("carol"),
        );
        for person in [alice, bob, carol] {
            join_call(person).await?;
        }
        for listener in [bob, carol] {
            sees_and_hears(listener, "Alice").await?;
        }

        // Mute: within a second Alice's audio energy stops growing at the others.
        let before = [
            energy_growth(bob, "Alice", LISTEN).await?,
            energy_growth(carol, "Alice", LISTEN).await?,
        ];
        alice.click_button("Mute").await?;
        alice.wait_for_button("Unmute").await?;
        tokio::time::sleep(Duration::from_secs(1)).await;
        for (listener, before) in [bob, carol].into_iter().zip(before) {
            ensure_no_longer_hears(listener, "Alice", before, "she muted").await?;
            wait_for_tile_state(listener, "Alice", "data-muted", "true").await?;
        }

        // Camera off: the others see her avatar instead of her video.
        alice.click_button("Camera off").await?;
        alice.wait_for_button("Camera on").await?;
        for viewer in [bob, carol] {
            wait_for_tile_state(viewer, "Alice", "data-camera", "off").await?;
            let avatar = viewer
                .wait_for_xpath(
                    &format!(
                        "{}//span[contains(@class,'avatar')]",
                        crate::harness::call::tile_xpath("Alice")
                    ),
                    UI_TIMEOUT,
                )
                .await
                .with_context(|| format!("{} shows no avatar for Alice", viewer.name))?;
            ensure!(
                avatar.is_displayed().await?,
                "{}: Alice's avatar is in the page but not displayed",
                viewer.name
            );
        }

        ensure_camera_released(alice, "once").await?;

        // Camera on and off again: her video comes back, and the second "Camera off" releases
        // the camera too (once, the track turned off was a copy of the one captured, and the
        // light stayed on).
        alice.click_button("Camera on").await?;
        alice.wait_for_button("Camera off").await?;
        wait_for_tile_state(bob, "Alice", "data-camera", "on").await?;
        wait_for_moving_tile(bob, "Alice", UI_TIMEOUT).await?;
        alice.click_button("Camera off").await?;
        alice.wait_for_button("Camera on").await?;
        wait_for_tile_state(bob, "Alice", "data-camera", "off").await?;
        ensure_camera_released(alice, "again").await?;

        // Bob's microphone unplugged: his page says so and Carol stops hearing him.
        let before = energy_growth(carol, "Bob", LISTEN).await?;
        unplug(bob, "audio").await?;
        bob.wait_for_text("Your camera or microphone was disconnected")
            .await
            .context("Bob's page after his microphone was unplugged")?;
        tokio::time::sleep(Duration::from_secs(1)).await;
        ensure_no_longer_hears(carol, "Bob", before, "his microphone was unplugged").await?;

        // Leave call: her tile goes everywhere, she stays in the party, the others stay in
        // the call.
        alice.click_button("Leave call").await?;
        alice.wait_for_button("Join call").await?;
        for viewer in [bob, carol] {
            wait_until_no_tile(viewer, "Alice", UI_TIMEOUT).await?;
            viewer.wait_for_person("Alice").await?;
        }
        say(alice, "still in the party").await?;
        bob.wait_for_text("still in the party").await?;
        carol.wait_for_text("still in the party").await?;
        wait_for_moving_tile(bob, "Carol", UI_TIMEOUT).await?;
        wait_for_moving_tile(carol, "Bob", UI_TIMEOUT).await?;
        Ok(())
    }
    .await;
    party.finish(outcome).await
}

/// `listener` no longer hears `other`, 1 s after `what`: the audio energy grows by at most 2 % of
/// what it grew by `before`, or by no more than a silent stream's.
async fn ensure_no_longer_hears(
    listener: &Browser,
    other: &str,
    before: f64,
    what: &str,
) -> Result<()> {
    let after = energy_growth(listener, other, LISTEN).await?;
    eprintln!(
        "{} hears {other}: energy grew {before} before {what}, {after} after",
        listener.name
    );
    ensure!(
        after <= (before * 0.02).max(1e-5),
        "{} still hears {other} 1 s after {what}: energy grew by {after} per {LISTEN:?} (before: {before})",
        listener.name
    );
    Ok(())
}

/// Every camera track `person`'s page was given has ended: the camera is free and its light off.
async fn ensure_camera_released(person: &Browser, when: &str) -> Result<()> {
    let live = live_captures(person, "video").await?;
    ensure!(
        live == 0,
        "{} turned the camera off {when}, and {live} camera track(s) the page captured are still live",
        person.name
    );
    Ok(())
}

/// The film's volume at the listener: ducked to ≤ −9 dB while the other person's speech bursts
/// play, back near full between them; untouched with the switch off.
#[tokio::test(flavor = "multi_thread")]
async fn smart_volume_lowers_the_film_while_someone_speaks() -> Result<()> {
    let names = [("alice", "Alice"), ("bob", "Bob")];
    let people = [
        ("alice", place_with_mic(Mic::Bursts).await?),
        ("bob", place_with_mic(Mic::Silence).await?),
    ];
    let party = call_party("call_smart_volume", &people, ServerOptions::default()).await?;
    let outcome = async {
        gather_and_play(&party, &names).await?;
        let (alice, bob) = (party.person("alice"), party.person("bob"));
        let full = film_volumes(bob, Duration::from_millis(200), Duration::from_millis(50)).await?;
        ensure!(
            full.iter().all(|(_, v)| *v > 0.99),
            "Bob's film does not play at volume 1 before the call: {full:?}"
        );
        join_call(alice).await?;
        join_call(bob).await?;
        wait_for_moving_tile(bob, "Alice", UI_TIMEOUT).await?;
        ensure!(
            switch_is_on(bob, "Smart volume").await?,
            "smart volume is not on by default"
        );

        // Alice's bursts: 2.5 s of speech every 6.5 s, so 15 s hold two or three.
        let ducked = 10f64.powf(-9.0 / 20.0); // −9 dB ≈ 0.355
        let samples =
            film_volumes(bob, Duration::from_secs(15), Duration::from_millis(50)).await?;
        eprintln!("Bob's film volume, smart volume on: {}", summarize(&samples));
        let first_dip = samples.iter().position(|(_, v)| *v <= ducked);
        let recovered = first_dip.and_then(|dip| samples[dip..].iter().find(|(_, v)| *v >= 0.9));
        ensure!(
            first_dip.is_some() && recovered.is_some(),
            "Bob's film volume while Alice's speech bursts played (want a dip to ≤ {ducked:.3} and a return to ≥ 0.9): {}",
            summarize(&samples)
        );
        ensure!(
            samples.iter().all(|(_, v)| *v <= 1.0),
            "the film's volume went above 1: {}",
            summarize(&samples)
        );

        set_switch(bob, "Smart volume", false).await?;
        tokio::time::sleep(Duration::from_secs(1)).await; // the release of a dip under way
        let off = film_volumes(bob, Duration::from_secs(8), Duration::from_millis(50)).await?;
        ensure!(
            off.iter().all(|(_, v)| *v >= 0.97),
            "with smart volume off, Bob's film volume still moves: {}",
            summarize(&off)
        );
        wait_for_sync(&[alice, bob], true, TOLERANCE_MS, None, SETTLE).await?;
        Ok(())
    }
    .await;
    party.finish(outcome).await
}

/// Volume samples as runs of similar values: "0.0–2.1 s: 1.00; 2.1–4.6 s: 0.25…".
fn summarize(samples: &[(f64, f64)]) -> String {
    let mut runs: Vec<(f64, f64, f64, f64)> = Vec::new(); // from, to, min, max
    for &(t, v) in samples {
        match runs.last_mut() {
            Some(run) if (v - run.2).abs() < 0.05 && (v - run.3).abs() < 0.05 => {
                run.1 = t;
                run.2 = run.2.min(v);
                run.3 = run.3.max(v);
            }
            _ => runs.push((t, t, v, v)),
        }
    }
    let text: Vec<String> = runs
        .iter()
        .map(|(from, to, min, max)| {
            format!(
                "{:.2}–{:.2} s: {min:.3}–{max:.3}",
                from / 1000.0,
                to / 1000.0
            )
        })
        .collect();
    format!("{} samples; {}", samples.len(), text.join("; "))
}

#[tokio::test(flavor = "multi_thread")]
async fn a_late_joiner_sees_and_hears_everyone_in_the_call() -> Result<()> {
    let names = [("alice", "Alice"), ("bob", "Bob")];
    let party = call_party(
        "call_late_joiner",
        &talking(&["alice", "bob", "carol"]).await?,
        ServerOptions::default(),
    )
    .await?;
    let outcome = async {
        let link = gather_and_play(&party, &names).await?;
        let (alice, bob, carol) = (
            party.person("alice"),
            party.person("bob"),
            party.person("carol"),
        );
        // The call's code is its own download, fetched only once someone needs it.
        for viewer in [alice, bob] {
            ensure!(
                !fetched_call_code(viewer).await?,
                "{} fetched the call's code before anyone joined the call",
                viewer.name
            );
        }
        join_call(alice).await?;
        join_call(bob).await?;
        wait_for_moving_tile(bob, "Alice", UI_TIMEOUT).await?;
        wait_for_moving_tile(alice, "Bob", UI_TIMEOUT).await?;

        // Carol only opens the link and joins the party: she is not in the call herself, so
        // the others' presence is what fetches the call's code for her.
        carol.join_as(&link, "Carol").await?;
        for other in ["Alice", "Bob"] {
            sees_and_hears(carol, other).await?;
        }
        ensure!(
            fetched_call_code(carol).await?,
            "Carol sees the call without its code"
        );
        wait_for_sync(&[alice, bob, carol], true, TOLERANCE_MS, None, SETTLE).await?;
        Ok(())
    }
    .await;
    party.finish(outcome).await
}

#[tokio::test(flavor = "multi_thread")]
async fn denied_permission_explains_keeps_the_party_and_retry_joins_once_granted() -> Result<()> {
    let names = [("alice", "Alice"), ("bob", "Bob")];
    let alice_place = Place {
        media_prompt: true,
        ..place_with_mic(Mic::Talk).await?
    };
    let people = [
        ("alice", alice_place),
        ("bob", place_with_mic(Mic::Talk).await?),
    ];
    let party = call_party("call_permission_denied", &people, ServerOptions::default()).await?;
    let outcome = async {
        gather_and_play(&party, &names).await?;
        let (alice, bob) = (party.person("alice"), party.person("bob"));
        join_call(bob).await?;

        alice.set_media_permission("denied").await?;
        press_join_call(alice).await?;
        let problem =
            "//p[contains(@class,'call-problem') and @role='alert' and @data-problem='denied']";
        alice
            .wait_for_xpath(problem, UI_TIMEOUT)
            .await
            .context("Alice, refused the camera and microphone, sees no call-problem 'denied'")?;
        wait_for_sync(&[alice, bob], true, TOLERANCE_MS, None, SETTLE).await?;

        alice.set_media_permission("granted").await?;
        alice.click_button("Try again").await?;
        alice.wait_for_button("Leave call").await?;
        wait_for_moving_tile(bob, "Alice", UI_TIMEOUT).await?;
        wait_for_moving_tile(alice, "Bob", UI_TIMEOUT).await?;
        ensure!(
            alice
                .client
                .find_all(fantoccini::Locator::XPath(problem))
                .await?
                .is_empty(),
            "Alice is in the call but still sees the 'denied' problem"
        );
        wait_for_sync(&[alice, bob], true, TOLERANCE_MS, None, SETTLE).await?;
        Ok(())
    }
    .await;
    party.finish(outcome).await
}

/// The call's media goes browser to browser: the endpoint relays only sealed signaling, and
/// far fewer bytes of it than the media that flowed.
#[tokio::test(flavor = "multi_thread")]
async fn no_media_passes_through_the_endpoint() -> Result<()> {
    let capture = RelayCapture::new()?;
    let party = call_party(
        "call_no_media_through_the_endpoint",
        &talking(&["alice", "bob"]).await?,
        capture.options(),
    )
    .await?;
    let outcome = async {
        let (alice, bob) = (party.person("alice"), party.person("bob"));
        gather(&party, &[("alice", "Alice"), ("bob", "Bob")]).await?;
        join_call(alice).await?;
        join_call(bob).await?;
        wait_for_moving_tile(bob, "Alice", UI_TIMEOUT).await?;
        wait_for_moving_tile(alice, "Bob", UI_TIMEOUT).await?;

        // Let media flow until Bob has received well over 100 KB of video (the signaling the
        // endpoint relays for two people is about 40 KB).
        let deadline = tokio::time::Instant::now() + Duration::from_secs(30);
        let received = loop {
            let totals = [rtc_totals(alice).await?, rtc_totals(bob).await?];
            if totals[1].inbound_video_bytes >= 500_000.0 {
                break totals;
            }
            ensure!(
                tokio::time::Instant::now() < deadline,
                "Bob received only {} bytes of video in 30 s: {totals:?}",
                totals[1].inbound_video_bytes
            );
            tokio::time::sleep(Duration::from_millis(500)).await;
        };
        let media_bytes: f64 = received
            .iter()
            .map(|t| t.inbound_audio_bytes + t.inbound_video_bytes)
            .sum();

        let relayed = capture.check_sealed(
            &["v=0", "a=fingerprint", "candidate:", "m=audio", "m=video"],
            |_| false,
        )?;
        eprintln!(
            "the endpoint relayed {} payloads, {} bytes; the browsers received {media_bytes} bytes of media",
            relayed.payloads, relayed.bytes
        );
        ensure!(
            (relayed.bytes as f64) * 10.0 < media_bytes,
            "the endpoint relayed {} bytes while the browsers received {media_bytes} bytes of media: not an order of magnitude below",
            relayed.bytes
        );
        Ok(())
    }
    .await;
    party.finish(outcome).await
}

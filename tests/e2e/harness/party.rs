//! A test's world: its own server and one browser per person, torn down together, with
//! screenshots and consoles of everyone saved under `target/e2e-artifacts/<test>/` on failure.

use super::browser::Place;
use super::{Browser, TestServer};
use anyhow::{Context, Result};
use std::path::PathBuf;
use std::sync::{Arc, LazyLock};
use tokio::sync::{Mutex, OwnedMutexGuard};

/// One party at a time on this host, however the tests are run (cargo runs two at a time on two
/// cores). Three browsers playing a film take most of two cores; a second party beside them
/// starves both, and the bounds the tests hold (on the frame within a second, a call's frames,
/// a start's landing) are those of one party on the host. A full run with two at a time took
/// 1,073 s here and failed five tests (a core sync test among them, a call whose 90 s film
/// ended before its checks, two slow-device tests back on the frame after 4.9 s and 6.4 s).
static ONE_PARTY_AT_A_TIME: LazyLock<Arc<Mutex<()>>> = LazyLock::new(Default::default);

pub struct Party {
    pub server: TestServer,
    test_name: String,
    people: Vec<Browser>,
    /// Its turn on the host ([`ONE_PARTY_AT_A_TIME`]), taken before its browsers start and
    /// given back once they closed.
    turn: OwnedMutexGuard<()>,
}

impl Party {
    /// Starts a server and one separate Chromium process per name, in parallel.
    pub async fn start(test_name: &str, names: &[&str]) -> Result<Self> {
        Self::start_with(test_name, TestServer::start().await?, names).await
    }

    /// Like [`Party::start`], around a server the test configured.
    pub async fn start_with(test_name: &str, server: TestServer, names: &[&str]) -> Result<Self> {
        let people: Vec<(&str, Place)> = names.iter().map(|n| (*n, Place::default())).collect();
        Self::start_at(test_name, server, &people).await
    }

    /// Like [`Party::start_with`], each browser in its own place (a home network).
    pub async fn start_at(
        test_name: &str,
        server: TestServer,
        people: &[(&str, Place)],
    ) -> Result<Self> {
        let turn = ONE_PARTY_AT_A_TIME.clone().lock_owned().await;
        let people = launch_all(people.iter().map(|(name, place)| {
            let (name, place) = (name.to_string(), place.clone());
            async move { Browser::launch_at(&name, &place).await }
        }))
        .await?;
        Ok(Self {
            server,
            test_name: test_name.to_owned(),
            people,
            turn,
        })
    }

    pub fn person(&self, name: &str) -> &Browser {
        self.people
            .iter()
            .find(|b| b.name == name)
            .unwrap_or_else(|| panic!("no person named {name}"))
    }

    /// One person leaves the party the way people do: their page goes away.
    pub async fn leave(&self, name: &str) -> Result<()> {
        self.person(name).open("about:blank").await
    }

    /// Saves everyone's screenshot and console under `dir` (failures are reported, not fatal).
    pub async fn save_artifacts(&self, dir: &std::path::Path) {
        for person in &self.people {
            if let Err(error) = person.save_artifacts(dir).await {
                eprintln!("could not save artifacts of {}: {error:#}", person.name);
            }
        }
    }

    /// Ends the test: on failure (or with `INSIEME_E2E_KEEP_ARTIFACTS` set, to read the
    /// consoles of a run that passed) saves everyone's artifacts, then closes every browser.
    pub async fn finish(self, outcome: Result<()>) -> Result<()> {
        if outcome.is_err() || std::env::var_os("INSIEME_E2E_KEEP_ARTIFACTS").is_some() {
            let dir = artifacts_dir().join(&self.test_name);
            self.save_artifacts(&dir).await;
            eprintln!("artifacts of the test are in {}", dir.display());
        }
        for person in self.people {
            person.close().await;
        }
        drop(self.turn);
        outcome.with_context(|| format!("end-to-end test {} failed", self.test_name))
    }
}

fn artifacts_dir() -> PathBuf {
    std::env::var_os("INSIEME_E2E_ARTIFACTS")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("target/e2e-artifacts"))
}

/// Launches every browser at once (each start takes about a second).
async fn launch_all<F>(starts: impl Iterator<Item = F>) -> Result<Vec<Browser>>
where
    F: std::future::Future<Output = Result<Browser>> + Send + 'static,
{
    let handles: Vec<_> = starts.map(tokio::spawn).collect();
    let mut browsers = Vec::new();
    for handle in handles {
        browsers.push(handle.await??);
    }
    Ok(browsers)
}

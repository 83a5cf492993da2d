//! The video call (issue 17) as the harness sees it, independently of the app: what each
//! browser's peer connections carry (`getStats()` on every `RTCPeerConnection` the page made,
//! recorded by a script that runs before the app), whether a tile's video is presenting frames
//! (`requestVideoFrameCallback`), the film's effective volume, and microphones fed from WAV files
//! made at test time with Debian's `espeak-ng` and `sox`.
//!
//! The DOM the tests rely on: a call bar `section.call`; one `div.tile` per person in the call,
//! a group named after them (`aria-label`, "{Name} (you)" for oneself) with `data-muted`,
//! `data-camera`, `data-speaking`, and a `video.tile-video` playing that person's audio and video;
//! a failure as `p.call-problem[data-problem]`; the film is `video.video`.

use super::media::{long_clip, test_clip, FILM};
use super::{Browser, Party, Place, ServerOptions, TestServer, UI_TIMEOUT};
use anyhow::{bail, ensure, Context, Result};
use std::path::{Path, PathBuf};
use std::time::Duration;
use tokio::sync::OnceCell;

/// Wraps `RTCPeerConnection` so that every connection the page makes is kept in
/// `window.__insiemePcs`; a subclass, so the app sees the same constructor, statics and
/// `instanceof`. Also keeps every track `getUserMedia` gives the page in
/// `window.__insiemeCaptured` (see [`live_captures`]). Runs before the app (see
/// [`record_call_media`]).
const RECORD_CALL_MEDIA: &str = "(() => {
    const Native = window.RTCPeerConnection;
    if (!Native || Native.__insiemeRecorded) return;
    window.__insiemePcs = [];
    class Recorded extends Native {
        constructor(...args) {
            super(...args);
            window.__insiemePcs.push(this);
        }
    }
    Recorded.__insiemeRecorded = true;
    window.RTCPeerConnection = Recorded;
})();
(() => {
    const devices = navigator.mediaDevices;
    if (!devices || devices.__insiemeRecorded) return;
    devices.__insiemeRecorded = true;
    window.__insiemeCaptured = [];
    const capture = devices.getUserMedia.bind(devices);
    devices.getUserMedia = async (constraints) => {
        const stream = await capture(constraints);
        window.__insiemeCaptured.push(...stream.getTracks());
        return stream;
    };
})();";

/// Makes every page `browser` loads from now on record its peer connections and captured
/// tracks. Call it before the browser opens the app.
pub async fn record_call_media(browser: &Browser) -> Result<()> {
    browser.add_script_before_pages(RECORD_CALL_MEDIA).await
}

/// What a microphone hears, fed to Chromium with `--use-file-for-fake-audio-capture` (which
/// loops the file).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Mic {
    /// Someone talking on and on: a spoken sentence (4.3 s) looped, its pauses those of speech.
    Talk,
    /// Speech bursts: 2.5 s of speech, then 4 s of silence, six times (39 s).
    Bursts,
    /// Nothing at all.
    Silence,
}

/// A spoken line long enough for a 2.5 s burst and a few seconds of talk.
const LINE: &str = "Hello everyone, this film is great, look at that scene over there";

static WAVS: OnceCell<PathBuf> = OnceCell::const_new();

/// The WAV a microphone plays, made once per run (48 kHz, mono, 16-bit, peaks at −3 dBFS).
pub async fn mic_wav(mic: Mic) -> Result<PathBuf> {
    let dir = WAVS
        .get_or_try_init(|| async {
            let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("target/e2e-media/call");
            make_wavs(&dir).await?;
            Ok::<_, anyhow::Error>(dir)
        })
        .await?;
    Ok(dir.join(match mic {
        Mic::Talk => "talk.wav",
        Mic::Bursts => "bursts.wav",
        Mic::Silence => "silence.wav",
    }))
}

async fn make_wavs(dir: &Path) -> Result<()> {
    let names = ["talk.wav", "bursts.wav", "silence.wav"];
    if names.iter().all(|n| dir.join(n).exists()) {
        return Ok(());
    }
    std::fs::create_dir_all(dir)?;
    let work = tempfile::tempdir_in(dir)?;
    let line = work.path().join("line.wav");
    run(
        tokio::process::Command::new("espeak-ng")
            .args(["-v", "en", "-s", "160", "-w"])
            .arg(&line)
            .arg(LINE),
        "espeak-ng (Debian package espeak-ng)",
    )
    .await?;
    let format = ["-r", "48000", "-c", "1", "-b", "16"];
    let sox = |input: Option<&Path>, output: &Path, effects: &[&str]| {
        let mut command = tokio::process::Command::new("sox");
        match input {
            Some(input) => command.arg(input),
            None => command.arg("-n"),
        };
        command.args(format).arg(output).args(effects);
        command
    };
    let talk = work.path().join("talk.wav");
    run(
        &mut sox(Some(&line), &talk, &["gain", "-n", "-3"]),
        "sox (Debian package sox)",
    )
    .await?;
    let bursts = work.path().join("bursts.wav");
    run(
        &mut sox(
            Some(&line),
            &bursts,
            &[
                "gain", "-n", "-3", "trim", "0", "2.5", "pad", "0", "4", "repeat", "5",
            ],
        ),
        "sox",
    )
    .await?;
    let silence = work.path().join("silence.wav");
    run(&mut sox(None, &silence, &["trim", "0", "5"]), "sox").await?;
    for name in names {
        std::fs::rename(work.path().join(name), dir.join(name))?;
    }
    Ok(())
}

async fn run(command: &mut tokio::process::Command, what: &str) -> Result<()> {
    let status = command
        .status()
        .await
        .with_context(|| format!("running {what}"))?;
    if !status.success() {
        bail!("{what} failed ({status})");
    }
    Ok(())
}

/// Where a person runs whose microphone hears `mic`.
pub async fn place_with_mic(mic: Mic) -> Result<Place> {
    Ok(Place {
        extra_flags: vec![format!(
            "--use-file-for-fake-audio-capture={}",
            mic_wav(mic).await?.display()
        )],
        ..Default::default()
    })
}

/// A party for the call tests: a server serving the test clip (with `options`), one browser per
/// person at its place, each recording its peer connections before it opens anything.
pub async fn call_party(
    test_name: &str,
    people: &[(&str, Place)],
    options: ServerOptions,
) -> Result<Party> {
    let options = ServerOptions {
        // The long clip too: a film beside three calls must outlast their joining on a busy
        // host (see `LONG_CLIP_SECONDS`).
        media: vec![test_clip().await?, long_clip().await?],
        ..options
    };
    let server = TestServer::start_with(options).await?;
    let party = Party::start_at(test_name, server, people).await?;
    for (name, _) in people {
        if let Err(error) = record_call_media(party.person(name)).await {
            return Err(party.finish(Err(error)).await.unwrap_err());
        }
    }
    Ok(party)
}

/// Presses "Join call" and waits until the call bar offers "Leave call".
pub async fn join_call(browser: &Browser) -> Result<()> {
    press_join_call(browser).await?;
    browser.wait_for_button("Leave call").await?;
    Ok(())
}

/// Presses "Join call". Until the call's code runs the page shows a stand-in of the bar, which
/// that code replaces when it arrives; a friend's presence can fetch it just as this clicks,
/// leaving the button found gone from the page: then the new bar's button is pressed.
pub async fn press_join_call(browser: &Browser) -> Result<()> {
    if browser.click_button("Join call").await.is_err() {
        browser.click_button("Join call").await?;
    }
    Ok(())
}

/// Whether the page has fetched the call's own part of the download (the wasm xtask splits off,
/// `split_call-*.wasm`), as the browser's resource timing lists it.
pub async fn fetched_call_code(browser: &Browser) -> Result<bool> {
    let fetched = browser
        .client
        .execute(
            "return performance.getEntriesByType('resource').some(e => /\\/split_call-[0-9a-f]+\\.wasm$/.test(e.name));",
            vec![],
        )
        .await
        .context("reading resource timing")?;
    fetched
        .as_bool()
        .context("resource timing check returned no boolean")
}

/// The tile named `label` ("Bob", or "Alice (you)" for Alice's own), as XPath.
pub fn tile_xpath(label: &str) -> String {
    format!("//div[contains(concat(' ', normalize-space(@class), ' '), ' tile ') and @aria-label='{label}']")
}

/// Waits until `browser` shows the tile `label`.
pub async fn wait_for_tile(browser: &Browser, label: &str) -> Result<()> {
    browser
        .wait_for_xpath(&tile_xpath(label), UI_TIMEOUT)
        .await
        .with_context(|| format!("{} never showed the tile of {label}", browser.name))?;
    Ok(())
}

/// Waits until `browser` shows no tile `label`.
pub async fn wait_until_no_tile(browser: &Browser, label: &str, timeout: Duration) -> Result<()> {
    ensure!(
        browser
            .wait_for_no_xpath(&tile_xpath(label), timeout)
            .await?,
        "{} still shows the tile of {label}",
        browser.name
    );
    Ok(())
}

/// Waits until the tile `label` at `browser` has `attribute` = `value`.
pub async fn wait_for_tile_state(
    browser: &Browser,
    label: &str,
    attribute: &str,
    value: &str,
) -> Result<()> {
    let xpath = format!("{}[@{attribute}='{value}']", tile_xpath(label));
    browser
        .wait_for_xpath(&xpath, UI_TIMEOUT)
        .await
        .with_context(|| {
            format!(
                "{} never showed {label}'s tile with {attribute}={value:?}",
                browser.name
            )
        })?;
    Ok(())
}

/// Finds a tile by its exact label without building a selector from it.
const FIND_TILE: &str =
    "const tileNamed = (label) => Array.from(document.querySelectorAll('.tile'))
    .find((tile) => tile.getAttribute('aria-label') === label);";

/// How many frames the tile `label`'s video presented at `browser` during `window`; `None`
/// when the tile has no video element.
///
/// Counted from the `presentedFrames` of the first and last `requestVideoFrameCallback` in the
/// window, not from the callbacks: the compositor presents a video's frames on its own, while
/// the callbacks come with the page's rendering, which a starved page (three calls and a film
/// on two cores) does once a second or less.
pub async fn tile_frames(browser: &Browser, label: &str, window: Duration) -> Result<Option<u64>> {
    let script = format!(
        "{FIND_TILE}
        const [label, ms, done] = arguments;
        const tile = tileNamed(label);
        const video = tile && tile.querySelector('video.tile-video');
        if (!video) return done(null);
        let first = null, last = null;
        let handle;
        const onFrame = (_now, meta) => {{
            if (first === null) first = meta.presentedFrames;
            last = meta.presentedFrames;
            handle = video.requestVideoFrameCallback(onFrame);
        }};
        handle = video.requestVideoFrameCallback(onFrame);
        setTimeout(() => {{
            video.cancelVideoFrameCallback(handle);
            done(first === null ? 0 : last - first + 1);
        }}, ms);"
    );
    let value = browser
        .client
        .execute_async(
            &script,
            vec![
                serde_json::json!(label),
                serde_json::json!(window.as_millis() as u64),
            ],
        )
        .await
        .with_context(|| format!("{} counting the frames of {label}'s tile", browser.name))?;
    Ok(value.as_u64())
}

/// Frames a tile must present in [`MOVING_WINDOW`] to count as moving: the fake camera sends
/// 20 a second, and a starved machine (three calls and a film on two cores) still presents a
/// few, though its page may see only one or two of them (see [`tile_frames`]).
pub const MOVING_FRAMES: u64 = 3;
pub const MOVING_WINDOW: Duration = Duration::from_secs(2);

/// Waits until the tile `label`'s video at `browser` presents frames (see
/// [`MOVING_FRAMES`]); fails with the last count.
pub async fn wait_for_moving_tile(browser: &Browser, label: &str, timeout: Duration) -> Result<()> {
    let deadline = tokio::time::Instant::now() + timeout;
    loop {
        let shown = !browser
            .client
            .find_all(fantoccini::Locator::XPath(&tile_xpath(label)))
            .await?
            .is_empty();
        let last = if shown {
            tile_frames(browser, label, MOVING_WINDOW).await?
        } else {
            tokio::time::sleep(Duration::from_millis(100)).await;
            None
        };
        if last.is_some_and(|frames| frames >= MOVING_FRAMES) {
            return Ok(());
        }
        if tokio::time::Instant::now() >= deadline {
            bail!(
                "{}: the tile of {label} presented {} frames in {MOVING_WINDOW:?}, not ≥ {MOVING_FRAMES}",
                browser.name,
                match last {
                    Some(frames) => frames.to_string(),
                    None => "no tile or no video, so no".into(),
                }
            );
        }
    }
}

/// What `browser` receives from the person of tile `label`: the inbound RTP streams whose
/// track is one of the tracks the tile's video plays.
#[derive(Clone, Copy, Debug, Default, serde::Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Inbound {
    /// How many inbound RTP streams matched the tile's tracks.
    pub streams: u32,
    pub total_audio_energy: f64,
    pub audio_bytes: f64,
    pub video_bytes: f64,
    pub frames_decoded: f64,
}

/// [`Inbound`] from the person of tile `label`; fails when the tile plays no stream.
pub async fn inbound_from(browser: &Browser, label: &str) -> Result<Inbound> {
    let script = format!(
        "{FIND_TILE}
        const [label, done] = arguments;
        (async () => {{
            const tile = tileNamed(label);
            const video = tile && tile.querySelector('video.tile-video');
            const stream = video && video.srcObject;
            if (!stream || !stream.getTracks) return null;
            const ids = new Set(stream.getTracks().map((track) => track.id));
            const out = {{ streams: 0, totalAudioEnergy: 0, audioBytes: 0, videoBytes: 0, framesDecoded: 0 }};
            for (const pc of window.__insiemePcs || []) {{
                if (pc.connectionState === 'closed') continue;
                let report;
                try {{ report = await pc.getStats(); }} catch (_) {{ continue; }}
                report.forEach((s) => {{
                    if (s.type !== 'inbound-rtp' || !ids.has(s.trackIdentifier)) return;
                    out.streams += 1;
                    if (s.kind === 'audio') {{
                        out.totalAudioEnergy += s.totalAudioEnergy || 0;
                        out.audioBytes += s.bytesReceived || 0;
                    }} else {{
                        out.videoBytes += s.bytesReceived || 0;
                        out.framesDecoded += s.framesDecoded || 0;
                    }}
                }});
            }}
            return out;
        }})().then(done, (error) => done('error: ' + error));"
    );
    let value = browser
        .client
        .execute_async(&script, vec![serde_json::json!(label)])
        .await
        .with_context(|| format!("{} reading what it receives from {label}", browser.name))?;
    if value.is_null() {
        bail!(
            "{}: the tile of {label} has no video element playing a stream",
            browser.name
        );
    }
    if let Some(error) = value.as_str() {
        bail!("{}: getStats failed: {error}", browser.name);
    }
    Ok(serde_json::from_value(value)?)
}

/// How much audio energy `browser` received from `label` during `window` (the growth of
/// `totalAudioEnergy`, summed over the matching streams).
pub async fn energy_growth(browser: &Browser, label: &str, window: Duration) -> Result<f64> {
    let before = inbound_from(browser, label).await?;
    tokio::time::sleep(window).await;
    let after = inbound_from(browser, label).await?;
    ensure!(
        after.streams > 0,
        "{}: no inbound RTP stream carries the tracks of {label}'s tile",
        browser.name
    );
    Ok(after.total_audio_energy - before.total_audio_energy)
}

/// Everything a browser's peer connections carry, summed over all of them.
#[derive(Clone, Copy, Debug, Default, serde::Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct RtcTotals {
    /// Connections not closed.
    pub connections: u32,
    pub inbound_audio_energy: f64,
    pub inbound_audio_bytes: f64,
    pub inbound_video_bytes: f64,
    pub outbound_audio_bytes: f64,
    pub outbound_video_bytes: f64,
    /// Every byte sent and received on the connections' transports (media, data channels,
    /// RTCP, DTLS), for comparison with the media alone.
    pub transport_bytes_sent: f64,
    pub transport_bytes_received: f64,
    /// Video frames decoded from all peers, and encoded for all of them.
    pub frames_decoded: f64,
    pub frames_encoded: f64,
    /// The largest video frame received (pixels wide × high).
    pub largest_frame_received: (f64, f64),
}

/// [`RtcTotals`] of `browser` now.
pub async fn rtc_totals(browser: &Browser) -> Result<RtcTotals> {
    let value = browser
        .client
        .execute_async(
            "const [done] = arguments;
            (async () => {
                const out = { connections: 0, inboundAudioEnergy: 0, inboundAudioBytes: 0,
                    inboundVideoBytes: 0, outboundAudioBytes: 0, outboundVideoBytes: 0,
                    transportBytesSent: 0, transportBytesReceived: 0, framesDecoded: 0,
                    framesEncoded: 0, largestFrameReceived: [0, 0] };
                for (const pc of window.__insiemePcs || []) {
                    if (pc.connectionState === 'closed') continue;
                    out.connections += 1;
                    let report;
                    try { report = await pc.getStats(); } catch (_) { continue; }
                    report.forEach((s) => {
                        if (s.type === 'inbound-rtp' && s.kind === 'audio') {
                            out.inboundAudioEnergy += s.totalAudioEnergy || 0;
                            out.inboundAudioBytes += s.bytesReceived || 0;
                        } else if (s.type === 'inbound-rtp' && s.kind === 'video') {
                            out.inboundVideoBytes += s.bytesReceived || 0;
                            out.framesDecoded += s.framesDecoded || 0;
                            const [w, h] = out.largestFrameReceived;
                            if ((s.frameWidth || 0) * (s.frameHeight || 0) > w * h) {
                                out.largestFrameReceived = [s.frameWidth, s.frameHeight];
                            }
                        } else if (s.type === 'outbound-rtp' && s.kind === 'audio') {
                            out.outboundAudioBytes += s.bytesSent || 0;
                        } else if (s.type === 'outbound-rtp' && s.kind === 'video') {
                            out.outboundVideoBytes += s.bytesSent || 0;
                            out.framesEncoded += s.framesEncoded || 0;
                        } else if (s.type === 'transport') {
                            out.transportBytesSent += s.bytesSent || 0;
                            out.transportBytesReceived += s.bytesReceived || 0;
                        }
                    });
                }
                return out;
            })().then(done, (error) => done('error: ' + error));",
            vec![],
        )
        .await
        .with_context(|| format!("{} reading its peer connections' stats", browser.name))?;
    if value.is_null() {
        bail!("{}: no peer connections were recorded", browser.name);
    }
    if let Some(error) = value.as_str() {
        bail!("{}: getStats failed: {error}", browser.name);
    }
    Ok(serde_json::from_value(value)?)
}

/// The film's `volume` at `browser` every `every` for `duration`, sampled inside the page (so
/// WebDriver's round trips do not space the samples): (milliseconds since the first, volume).
pub async fn film_volumes(
    browser: &Browser,
    duration: Duration,
    every: Duration,
) -> Result<Vec<(f64, f64)>> {
    let value = browser
        .client
        .execute_async(
            "const [film, ms, every, done] = arguments;
            const start = performance.now();
            const samples = [];
            const timer = setInterval(() => {
                const video = document.querySelector(film);
                samples.push([performance.now() - start, video ? video.volume : -1]);
                if (performance.now() - start >= ms) { clearInterval(timer); done(samples); }
            }, every);",
            vec![
                serde_json::json!(FILM),
                serde_json::json!(duration.as_millis() as u64),
                serde_json::json!(every.as_millis() as u64),
            ],
        )
        .await
        .with_context(|| format!("{} sampling the film's volume", browser.name))?;
    let samples: Vec<(f64, f64)> = serde_json::from_value(value)?;
    ensure!(
        samples.iter().all(|(_, v)| *v >= 0.0),
        "{} had no film element ({FILM}) while its volume was sampled",
        browser.name
    );
    Ok(samples)
}

/// The checkbox (or switch) with this accessible name, waiting for it to appear.
async fn find_switch(browser: &Browser, label: &str) -> Result<fantoccini::elements::Element> {
    let xpath = format!("//input[@type='checkbox' and @aria-label='{label}']");
    browser
        .wait_for_xpath(&xpath, UI_TIMEOUT)
        .await
        .with_context(|| format!("{} sees no switch {label:?}", browser.name))
}

async fn is_checked(switch: &fantoccini::elements::Element) -> Result<bool> {
    Ok(switch.prop("checked").await?.as_deref() == Some("true"))
}

/// Whether the checkbox (or switch) with this accessible name is on.
pub async fn switch_is_on(browser: &Browser, label: &str) -> Result<bool> {
    is_checked(&find_switch(browser, label).await?).await
}

/// Sets the checkbox (or switch) with this accessible name to `on`, by clicking it as a person
/// would when it is not already so.
pub async fn set_switch(browser: &Browser, label: &str, on: bool) -> Result<()> {
    let switch = find_switch(browser, label).await?;
    if is_checked(&switch).await? != on {
        switch
            .click()
            .await
            .with_context(|| format!("{} clicking the switch {label:?}", browser.name))?;
    }
    Ok(())
}

/// The page's captured tracks of the kind in the script's first argument that are still live.
const LIVE_CAPTURES: &str =
    "window.__insiemeCaptured.filter(t => t.kind === arguments[0] && t.readyState === 'live')";

/// How many of the camera (`"video"`) or microphone (`"audio"`) tracks the browser ever gave the
/// page are still live: a camera the app turned off must be 0 (its light goes out).
pub async fn live_captures(browser: &Browser, kind: &str) -> Result<u64> {
    let live = browser
        .client
        .execute(
            &format!("return {LIVE_CAPTURES}.length;"),
            vec![serde_json::json!(kind)],
        )
        .await
        .with_context(|| format!("{} counting its live {kind} captures", browser.name))?;
    live.as_u64()
        .with_context(|| format!("{}: no count of captures in {live}", browser.name))
}

/// Tells the app its live microphone or camera (`kind`) went away, as the browser does when a
/// device is unplugged: an `ended` event on the captured track. (Headless Chromium's fake
/// devices cannot be unplugged; the track itself stays live, which the app must not rely on.)
pub async fn unplug(browser: &Browser, kind: &str) -> Result<()> {
    let unplugged = browser
        .client
        .execute(
            &format!(
                "const [track] = {LIVE_CAPTURES};
                if (!track) return false;
                track.dispatchEvent(new Event('ended'));
                return true;"
            ),
            vec![serde_json::json!(kind)],
        )
        .await
        .with_context(|| format!("{} unplugging its {kind} device", browser.name))?;
    ensure!(
        unplugged.as_bool() == Some(true),
        "{} has no live {kind} capture to unplug",
        browser.name
    );
    Ok(())
}

//! The player as the sync engine sees it: the engine's commands carried out on the player
//! adapter, and what the player presents fed back to the engine. Components get a player that is
//! already in sync and only turn the person's clicks into intents.

use super::party::Party;
use super::player::{
    use_video_player_with_options, FrameSource, PlayerPhase, UseVideoPlayer, UseVideoPlayerOptions,
};
use crate::room::media_source::{self, Refusal};
use crate::room::wire::ViewerPhase;
use crate::sync::PlayerCommand;
use leptos::prelude::*;

/// A video player driven by the party's engine, for as long as the calling component lives.
///
/// Not told: the frame grid (`Input::FrameGrid`), for aligning starts. The controller aligns the
/// starts it schedules on the refreshes its player last presented frames at, and where the player
/// reads its media clock it finds the grid's offset from the presented frames itself and steers
/// the clock onto it. (A browser measurement of the grid, `GridEstimator`, is in the history at
/// 77bd8bd: without clock steering, aligned starts left a viewer a frame off in two runs of
/// seven in headless Chromium.)
pub fn use_synced_player(party: &Party) -> UseVideoPlayer {
    let (observer, stepper, precision) = (party.clone(), party.clone(), party.clone());
    let options = UseVideoPlayerOptions::default()
        .on_frame(move |frame| {
            // The clock first: the frame's observation is where the controller acts on both.
            if let Some(clock) = frame.clock {
                observer.observe_clock(clock.media_time_secs, clock.read_at_ms);
            }
            // A hidden page shows no frames, but its sound plays on: its clock alone steers it.
            if frame.source != FrameSource::Unseen {
                observer.observe(frame.media_time_secs, frame.presented_at_ms)
            }
        })
        .on_presentation_step(move |step| stepper.presentation_step(step))
        .on_picture_within(move |within| precision.picture_within(within));
    let player = use_video_player_with_options(NodeRef::new(), options);
    party.attach_player(move |command| carry_out(player, command));
    let reporter = party.clone();
    Effect::new(move |_| {
        let phase = player.phase.get();
        reporter.media_ended(phase == PlayerPhase::Ended);
        reporter.set_local_phase(viewer_phase(&phase));
    });
    player
}

/// One engine command on the player; a refusal is logged, as the engine's next command or the
/// person's next intent is the recovery.
fn carry_out(player: UseVideoPlayer, command: PlayerCommand) {
    // Hidden unless the console shows verbose messages: enough to follow a sync problem.
    super::debug_log!("sync: {command:?} at {:.1}", super::now_ms());
    let done = match command {
        PlayerCommand::Load { media_id } => match refusal(&media_id) {
            None => player.load(&media_id),
            Some(refusal) => player.refuse(refusal.message()),
        },
        PlayerCommand::SeekTo(position) => player.seek_to(position.as_secs_f64()),
        PlayerCommand::SetRate(rate) => player.set_rate(rate),
        PlayerCommand::PlayAt(at) => player.play_at(at.as_millis_f64()),
        PlayerCommand::Pause => player.pause(),
    };
    if let Err(error) = done {
        web_sys::console::warn_1(&format!("the player could not follow the room: {error}").into());
    }
}

/// A link to queue, as the queue keeps it: absolute, as the browser resolves it against this
/// page, and one this page would load (see [`media_source`]); else why not, for the person.
pub fn link_to_queue(link: &str) -> Result<String, String> {
    let page = super::location::page_url();
    let url = web_sys::Url::new_with_base(link.trim(), &page)
        .map_err(|_| "That is not a link.".to_string())?
        .href();
    match refusal(&url) {
        Some(refusal) => Err(refusal.message()),
        None => Ok(url),
    }
}

/// Why a link shared in the room may not be loaded here (see [`media_source`]), as the
/// browser's own URL parser reads it against this page.
fn refusal(media_id: &str) -> Option<Refusal> {
    let location = web_sys::window()?.location();
    let page = location.href().ok()?;
    let Ok(link) = web_sys::Url::new_with_base(media_id.trim(), &page) else {
        // Not a URL at all: the player's own load error says so.
        return None;
    };
    let (page_scheme, page_host) = (location.protocol().ok()?, location.hostname().ok()?);
    let (link_scheme, link_host) = (link.protocol(), link.hostname());
    media_source::check(
        media_source::Origin {
            scheme: link_scheme.trim_end_matches(':'),
            host: &link_host,
        },
        media_source::Origin {
            scheme: page_scheme.trim_end_matches(':'),
            host: &page_host,
        },
    )
    .err()
}

/// How the local player's phase is shown to the others.
fn viewer_phase(phase: &PlayerPhase) -> ViewerPhase {
    match phase {
        PlayerPhase::Empty => ViewerPhase::Idle,
        PlayerPhase::Loading => ViewerPhase::Loading,
        PlayerPhase::Paused | PlayerPhase::Ended => ViewerPhase::Paused,
        PlayerPhase::Playing => ViewerPhase::Playing,
        PlayerPhase::Buffering => ViewerPhase::Buffering,
        PlayerPhase::AutoplayBlocked => ViewerPhase::AutoplayBlocked,
        PlayerPhase::Error(failure) => ViewerPhase::Failed(failure.reason),
    }
}

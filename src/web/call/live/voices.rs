//! Everyone's voice, measured: speaking rings, who spoke last (for the tiles), and smart volume
//! (the film lowered while a friend speaks).

use super::levels::Meters;
use super::{CallPhase, LiveCall, Loudness};
use crate::call::ring_level;
use crate::num::Clamp;
use crate::web::local_now;
use gloo_timers::callback::Interval;
use leptos::prelude::*;

/// How often voices are measured: fast enough for smart volume's 50 ms attack.
const TICK_MS: u32 = 20;
/// The film's gain is republished only when it moved this much (the ramps are smooth anyway).
const GAIN_STEP: f64 = 0.005;

impl LiveCall {
    pub fn set_smart_volume(&self, on: bool) {
        self.update_my(|my| my.smart_volume = on);
        self.ensure_ticking();
    }

    /// Any click may let a suspended audio context run (needed to hear who speaks).
    pub fn wake_audio(&self) {
        let meters = self.meters();
        if let Some(meters) = meters {
            meters.resume();
        }
    }

    /// Measures every voice, updates speaking rings, tiles and the film's gain.
    pub(super) fn tick(&self) {
        let now = local_now();
        let (any_remote_speaking, speakers_changed, smart_volume) = {
            let mut inner = self.inner.borrow_mut();
            let inner = &mut *inner;
            let (mut any, mut changed) = (false, false);
            for (session, remote) in inner.remotes.iter_mut() {
                let Some(meter) = remote.meter.as_mut() else {
                    continue;
                };
                remote.level_dbfs = meter.read_dbfs();
                let was_speaking = remote.presence.joined && remote.voice.is_speaking();
                let speaking =
                    remote.presence.joined && remote.voice.update(now, remote.level_dbfs);
                changed |= speaking != was_speaking;
                if speaking {
                    inner.history.spoke(*session, now);
                    any = true;
                }
            }
            if let Some(meter) = inner.my_meter.as_mut() {
                inner.my_level_dbfs = meter.read_dbfs();
                inner.my_voice.update(now, inner.my_level_dbfs);
            }
            (any, changed, inner.my.smart_volume)
        };
        let gain = self
            .inner
            .borrow_mut()
            .ducker
            .update(now, any_remote_speaking, smart_volume);
        if (gain - self.view.film_gain.get_untracked()).abs() >= GAIN_STEP
            || (gain == 1.0 && self.view.film_gain.get_untracked() != 1.0)
        {
            self.set.film_gain.set(gain);
        }
        self.publish_loudness();
        // Who keeps video changes only when someone starts or stops speaking: between those
        // moments everyone speaking shares the latest time and nobody else's moves.
        if speakers_changed {
            self.replan_tiles();
        }
        if !self.needs_ticking() && gain == 1.0 {
            self.inner.borrow_mut().ticker = None;
        }
    }

    pub(super) fn needs_ticking(&self) -> bool {
        let inner = self.inner.borrow();
        inner.my_meter.is_some() || inner.remotes.values().any(|r| r.meter.is_some())
    }

    pub(super) fn ensure_ticking(&self) {
        if self.inner.borrow().ticker.is_some() || !self.needs_ticking() {
            return;
        }
        let call = self.clone();
        let ticker = Interval::new(TICK_MS, move || call.tick());
        self.inner.borrow_mut().ticker = Some(ticker);
    }

    pub(super) fn publish_loudness(&self) {
        let loudness: Vec<Loudness> = {
            let inner = self.inner.borrow();
            let mut all: Vec<Loudness> = inner
                .remotes
                .iter()
                .filter(|(_, r)| r.presence.joined)
                .map(|(session, remote)| Loudness {
                    session: *session,
                    level: ring_step(remote.level_dbfs),
                    speaking: remote.voice.is_speaking(),
                })
                .collect();
            if inner.my.phase == CallPhase::In {
                let muted = inner
                    .local
                    .as_ref()
                    .and_then(|l| l.audio.as_ref())
                    .is_none_or(|t| !t.enabled());
                all.push(Loudness {
                    session: inner.me,
                    level: if muted {
                        0
                    } else {
                        ring_step(inner.my_level_dbfs)
                    },
                    speaking: !muted && inner.my_voice.is_speaking(),
                });
            }
            all
        };
        crate::web::set_if_changed(self.set.loudness, loudness);
    }

    pub(super) fn meters(&self) -> Option<Meters> {
        let existing = self.inner.borrow().meters.clone();
        if existing.is_some() {
            return existing;
        }
        match Meters::new() {
            Ok(meters) => {
                self.inner.borrow_mut().meters = Some(meters.clone());
                Some(meters)
            }
            Err(error) => {
                let problem = crate::web::describe_js_error("measuring voices", error);
                web_sys::console::warn_1(&problem.into());
                None
            }
        }
    }
}

/// A level on the ring's 0–10 scale (so the rings redraw at most ten steps, not per reading).
fn ring_step(level_dbfs: f64) -> u8 {
    (ring_level(level_dbfs) * 10.0).round().clamp_to(0.0, 10.0) as u8
}

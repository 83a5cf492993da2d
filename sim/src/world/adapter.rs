//! What each page does between its engine and its player, as the browser glue does: it drives
//! the engine (inputs in, outputs out, its timer armed), carries out the engine's commands on
//! the player as the browser's player adapter (`src/web/player/`) does, and reports what the
//! player shows, frame by frame.
//!
//! Starts are timed with [`insieme::sync::start_lead`]: `play()` is called early by the lead
//! learned from the player's measured starts, so the engine's `PlayAt` moves the media at the
//! instant asked, as it ships.

use super::events::Ev;
use super::{Node, World};
use crate::player::Shown;
use insieme::sync::start_lead::{AtCall, PendingStart, StartProgress};
use insieme::sync::{
    ClockReading, Input, LocalTime, MediaTime, Observation, Output, PlayerCommand,
};

impl World {
    /// Hands `input` to the engine on `slot` and carries out everything it answers.
    pub(super) fn drive(&mut self, slot: usize, input: Input) {
        let now = self.now;
        let local = self.slots[slot].clock.local(now as f64);
        let Some(node) = self.slots[slot].node.as_mut() else {
            return;
        };
        node.engine.handle_input(local, input);
        let mut outs = Vec::new();
        while let Some(o) = node.engine.poll_output() {
            outs.push(o);
        }
        let trace = self.trace;
        for o in outs {
            if trace && !matches!(o, Output::Send(_)) {
                let n = self.slots[slot].node.as_ref().unwrap();
                let e = &n.engine;
                // The media clock's true error, beside what the engine believes it is.
                let clock_ms = e
                    .expected_position(local)
                    .map(|x| (n.player.pos_at(now) - x.as_secs_f64()) * 1e3);
                eprintln!(
                    "{:>10.3} s{slot} {:?} [rank {:?} tb {:?} room {:?} clock {:?} ms, engine {:?}]",
                    now as f64 / 1e6,
                    o,
                    e.rank(),
                    e.timebase(),
                    e.room_time(local),
                    clock_ms,
                    e.playback_error()
                );
            }
            match o {
                Output::Send(tx) => self.route(slot, tx.to, tx.channel, tx.msg),
                Output::Player(cmd) => self.command(slot, cmd),
                Output::Event(_) => {}
            }
        }
        // A command may have started a seek while playing.
        self.report_buffering(slot);
        let clock = self.slots[slot].clock;
        let node = self.slots[slot].node.as_mut().unwrap();
        if let Some(t) = node.engine.poll_timeout() {
            let t = clock.to_true(t).max(now + 100);
            if let Some(token) = node.engine_timer.arm(t) {
                let gen = node.gen;
                self.push(t, Ev::EngineWake { slot, gen, token });
            }
        }
    }

    /// Carries out an engine's command as the browser's player adapter does.
    fn command(&mut self, slot: usize, cmd: PlayerCommand) {
        let now = self.now;
        let clock = self.slots[slot].clock;
        let local = clock.local(now as f64);
        let node = self.slots[slot].node.as_mut().unwrap();
        match &cmd {
            PlayerCommand::SeekTo(to) => {
                self.seeks.push((now, slot, node.joined_at));
                // A start awaiting its first frame now starts from the target.
                if let Some(start) = node.start.as_mut() {
                    start.seeked(*to);
                }
            }
            PlayerCommand::SetRate(r) => {
                if let Some(base) = node.engine.expected_speed(local).filter(|b| *b > 0.0) {
                    self.out.max_rate_dev = self.out.max_rate_dev.max((r / base - 1.0).abs());
                }
            }
            PlayerCommand::Load { .. } | PlayerCommand::Pause => Self::cancel_start(node),
            PlayerCommand::PlayAt(at) => {
                // `play()` early by the learned lead: now if that has passed, else on a timer.
                Self::cancel_start(node);
                node.start_call = Some(*at);
                let call_at = clock.to_true(node.start_lead.call_at(*at));
                if call_at > now {
                    if let Some(token) = node.start_timer.arm(call_at) {
                        let gen = node.gen;
                        self.push(call_at, Ev::PlayCall { slot, gen, token });
                    }
                } else {
                    self.call_play(slot);
                }
                return;
            }
        }
        let shown = node.player.command(now, &cmd, None);
        self.show(slot, shown);
        self.schedule_player(slot);
    }

    /// A start called off (a pause, a load, a new start): neither its `play()` call nor its
    /// first frame is awaited.
    fn cancel_start(node: &mut Node) {
        node.start_timer.cancel();
        node.start_call = None;
        node.start = None;
    }

    /// The adapter calls `play()` now for the start asked for by `start_call`.
    pub(super) fn call_play(&mut self, slot: usize) {
        let now = self.now;
        let local = self.slots[slot].clock.local(now as f64);
        let node = self.slots[slot].node.as_mut().unwrap();
        let Some(requested) = node.start_call.take() else {
            return;
        };
        let p = &node.player;
        node.start = Some(PendingStart::new(
            requested,
            local,
            MediaTime::from_secs_f64(p.pos_at(now)),
            p.playback_rate(),
            AtCall {
                paused: p.is_paused(),
                seeking: p.is_seeking(),
                ready_to_play: p.loaded(),
            },
        ));
        let shown = node
            .player
            .command(now, &PlayerCommand::PlayAt(local), Some(now));
        self.show(slot, shown);
        self.schedule_player(slot);
    }

    /// Reports what the player on `slot` just showed to its engine: each frame, preceded by the
    /// media clock read in the same callback where the page reads it, as the browser's glue
    /// tells it (`BrowserKind::clock_for_engine`: in Firefox, half a presentation step behind),
    /// every instant on the page's coarse clock.
    fn show(&mut self, slot: usize, shown: Vec<Shown>) {
        let now = self.now;
        let clock = self.slots[slot].clock;
        let browser = self.slots[slot].browser;
        let Some(node) = self.slots[slot].node.as_mut() else {
            return;
        };
        let timer_us = node.player.spec.timer_us;
        // What the page's `performance.now()` says at true µs `t`: the local clock in whole
        // steps of its resolution.
        let page_time = |t: f64| {
            let local = clock.local(t);
            if timer_us > 1.0 {
                LocalTime((local.0 as f64 / timer_us).floor() as i64 * timer_us as i64)
            } else {
                local
            }
        };
        // The step the glue halves for Firefox: it learns the refresh and the frame duration
        // within the first second; the simulator takes them as known from the start.
        let step_secs = node
            .player
            .spec
            .presentation_step()
            .map(|s| s.as_secs_f64());
        let gen = node.gen;
        let trace = self.trace;
        let mut reports = Vec::new();
        for s in shown {
            if let Some(media_s) = node.player.read_clock(now) {
                reports.push(Input::MediaClock(ClockReading {
                    media_time: MediaTime::from_secs_f64(
                        browser.clock_for_engine(media_s, step_secs),
                    ),
                    read_at: page_time(now as f64),
                }));
            }
            let at = s.at_true_us + node.player.noise();
            let media_time = MediaTime::from_secs_f64(s.media_s);
            let presented_at = page_time(at);
            if let Some(start) = node.start {
                // Every frame the page sees is timed by requestVideoFrameCallback: precise.
                match start.on_frame(media_time, presented_at, node.player.moving()) {
                    StartProgress::Pending => {}
                    StartProgress::Lost => node.start = None,
                    StartProgress::Started(started_at) => {
                        node.start = None;
                        let learned = node.start_lead.learn_start(&start, started_at, true);
                        if trace {
                            eprintln!(
                                "{:>10.3} s{slot} started {:+.1} ms from the asked instant, \
                                 play() {:.1} ms ahead; learned {learned}, lead {:.1} ms",
                                now as f64 / 1e6,
                                (started_at - start.requested_at).as_millis_f64(),
                                (start.requested_at - start.called_at).as_millis_f64(),
                                node.start_lead.lead().as_millis_f64()
                            );
                        }
                    }
                }
            }
            reports.push(Input::Observation(Observation {
                media_time,
                presented_at,
            }));
        }
        for report in reports {
            self.push(now, Ev::Report { slot, gen, report });
        }
    }

    /// Queues the player's next wake, if it wants one.
    pub(super) fn schedule_player(&mut self, slot: usize) {
        let now = self.now;
        let Some(node) = self.slots[slot].node.as_mut() else {
            return;
        };
        if let Some(t) = node.player.next_event() {
            let t = t.max(now + 1);
            if let Some(token) = node.player_timer.arm(t) {
                let gen = node.gen;
                self.push(t, Ev::PlayerWake { slot, gen, token });
            }
        }
    }

    /// Serves the player's wake (its timer already spent).
    pub(super) fn wake_player(&mut self, slot: usize) {
        let Some(node) = self.slots[slot].node.as_mut() else {
            return;
        };
        let shown = node.player.wake(self.now);
        self.show(slot, shown);
        self.report_buffering(slot);
        self.schedule_player(slot);
    }

    /// Tells the engine on `slot` when its player starts or stops buffering.
    pub(super) fn report_buffering(&mut self, slot: usize) {
        let Some(node) = self.slots[slot].node.as_mut() else {
            return;
        };
        let buffering = node.player.is_buffering();
        if buffering != node.buffering {
            node.buffering = buffering;
            self.drive(slot, Input::Buffering(buffering));
        }
    }
}

//! What the integrator hears from the adapter beyond the signals: handlers for frames, seeks,
//! starts, the presentation step and the picture's precision, and whether to sample frames where callbacks exist.

use super::{FrameObservation, SeekReport, StartReport};
use crate::sync::Span;
use std::rc::Rc;

type Handler<T> = Option<Rc<dyn Fn(T)>>;

/// What the integrator hears from the adapter, beyond the signals.
#[derive(Clone, Default)]
pub struct UseVideoPlayerOptions {
    pub(super) on_frame: Handler<FrameObservation>,
    pub(super) on_seeked: Handler<SeekReport>,
    pub(super) on_started: Handler<StartReport>,
    pub(super) on_presentation_step: Handler<Span>,
    pub(super) on_picture_within: Handler<Span>,
    pub(super) sample_frames: bool,
}

impl UseVideoPlayerOptions {
    /// Called for every presented frame, and a few times a second while paused.
    pub fn on_frame(mut self, handler: impl Fn(FrameObservation) + 'static) -> Self {
        self.on_frame = Some(Rc::new(handler));
        self
    }
    /// Called once per seek, when its new frame is shown (or `seeked` if none comes).
    pub fn on_seeked(mut self, handler: impl Fn(SeekReport) + 'static) -> Self {
        self.on_seeked = Some(Rc::new(handler));
        self
    }
    /// Called once per start, when the first moving frame is shown.
    pub fn on_started(mut self, handler: impl Fn(StartReport) + 'static) -> Self {
        self.on_started = Some(Rc::new(handler));
        self
    }
    /// Called with the step presented frames are quantized to (the finer of the display's
    /// refresh interval and the video's frame duration) once measured, and again if it changes.
    pub fn on_presentation_step(mut self, handler: impl Fn(Span) + 'static) -> Self {
        self.on_presentation_step = Some(Rc::new(handler));
        self
    }
    /// Called with how far either way the picture may be from where its frames' times put it
    /// (`BrowserKind::picture_within`) once measured, and again if it changes.
    pub fn on_picture_within(mut self, handler: impl Fn(Span) + 'static) -> Self {
        self.on_picture_within = Some(Rc::new(handler));
        self
    }
    /// Observe by sampling `currentTime` even where frame callbacks exist (to test the fallback).
    pub fn sample_frames(mut self, sample: bool) -> Self {
        self.sample_frames = sample;
        self
    }
}

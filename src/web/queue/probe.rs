//! What this browser reads of a video itself: its length and a thumbnail, from a hidden
//! `<video preload=metadata>` seeked a little in and drawn to a canvas. Probed once per link
//! for the page's life (the answer is shared by every row showing it), at most
//! [`MAX_PROBING`] at a time, and never for a link this page would not load (the same check
//! as the player's, so a friend's entry cannot make this browser probe its home network).
//!
//! A source that forbids reading its pixels (another origin without CORS: a "tainted"
//! canvas), fails, or takes longer than [`PROBE_TIMEOUT_MS`] gets a neutral placeholder, never
//! an error: the length is kept when it was read.

use crate::web::event_listener::Listener;
use gloo_timers::callback::Timeout;
use leptos::prelude::*;
use std::cell::RefCell;
use std::collections::{HashMap, VecDeque};
use wasm_bindgen::JsCast;

/// Videos probed at once: each is a connection and a decoder; a queue of hundreds waits.
const MAX_PROBING: usize = 2;
/// How long a probe may take before the placeholder stands.
const PROBE_TIMEOUT_MS: u32 = 10_000;
/// Where the thumbnail is taken: a little in (the first frame is often black), at most a
/// tenth of a short clip.
const SEEK_SECS: f64 = 2.0;
/// The thumbnail's size in pixels (16:9, drawn at half size).
const THUMB_W: u32 = 160;
const THUMB_H: u32 = 90;

/// A thumbnail as a row shows it.
#[derive(Clone, Debug, Default, PartialEq)]
pub enum Thumb {
    Pending,
    /// A `data:` URL of the frame.
    Image(String),
    #[default]
    Placeholder,
}

/// What is known of a video.
#[derive(Clone, Debug, PartialEq)]
pub struct Probe {
    /// Seconds.
    pub duration: Option<f64>,
    pub thumb: Thumb,
}

impl Default for Probe {
    fn default() -> Self {
        Probe {
            duration: None,
            thumb: Thumb::Placeholder,
        }
    }
}

struct Probes {
    /// Owns every probe's signal: the answers live as long as the page.
    owner: Owner,
    known: HashMap<String, RwSignal<Probe>>,
    waiting: VecDeque<String>,
    running: Vec<Running>,
}

/// A probe under way: its element and listeners (dropped when it is done).
struct Running {
    url: String,
    _video: web_sys::HtmlVideoElement,
    _listeners: Vec<Listener>,
    _timeout: Timeout,
}

thread_local! {
    static PROBES: RefCell<Probes> = RefCell::new(Probes {
        owner: Owner::new_root(None),
        known: HashMap::new(),
        waiting: VecDeque::new(),
        running: Vec::new(),
    });
}

/// What is known of the video at `url` (absolute), probing it the first time it is asked.
pub fn probe(url: &str) -> RwSignal<Probe> {
    let (signal, start) = PROBES.with_borrow_mut(|p| {
        if let Some(s) = p.known.get(url) {
            return (*s, false);
        }
        let allowed = crate::web::player_driver::link_to_queue(url).is_ok();
        let first = Probe {
            duration: None,
            thumb: if allowed {
                Thumb::Pending
            } else {
                Thumb::Placeholder
            },
        };
        let s = p.owner.with(|| RwSignal::new(first));
        p.known.insert(url.to_owned(), s);
        if allowed {
            p.waiting.push_back(url.to_owned());
        }
        (s, allowed)
    });
    if start {
        next();
    }
    signal
}

/// Starts waiting probes while fewer than [`MAX_PROBING`] run.
fn next() {
    loop {
        let url = PROBES.with_borrow_mut(|p| {
            (p.running.len() < MAX_PROBING)
                .then(|| p.waiting.pop_front())
                .flatten()
        });
        let Some(url) = url else { return };
        match start(&url) {
            Some(running) => PROBES.with_borrow_mut(|p| p.running.push(running)),
            None => set(&url, None, Thumb::Placeholder),
        }
    }
}

/// Records the answer for `url`, ends its probe and starts the next. Only the first answer of
/// a probe counts (an error after the frame was drawn, a late timeout, are ignored).
fn finish(url: &str, duration: Option<f64>, thumb: Thumb) {
    let done = PROBES.with_borrow_mut(|p| {
        let i = p.running.iter().position(|r| r.url == url)?;
        Some(p.running.remove(i))
    });
    let Some(done) = done else { return };
    set(url, duration, thumb);
    // Dropping it from inside its own listener would free the closure that is running.
    Timeout::new(0, move || drop(done)).forget();
    next();
}

fn set(url: &str, duration: Option<f64>, thumb: Thumb) {
    if let Some(s) = PROBES.with_borrow(|p| p.known.get(url).copied()) {
        s.update(|probe| {
            probe.duration = duration.or(probe.duration);
            probe.thumb = thumb;
        });
    }
}

fn start(url: &str) -> Option<Running> {
    let document = web_sys::window()?.document()?;
    let video: web_sys::HtmlVideoElement =
        document.create_element("video").ok()?.dyn_into().ok()?;
    video.set_preload("metadata");
    video.set_muted(true);
    let target: &web_sys::EventTarget = video.as_ref();
    let on_metadata = {
        let video = video.clone();
        move |_| {
            let length = video.duration();
            let at = if length.is_finite() && length > 0.0 {
                SEEK_SECS.min(length / 10.0)
            } else {
                0.0
            };
            video.set_current_time(at);
        }
    };
    let on_seeked = {
        let (video, url) = (video.clone(), url.to_owned());
        move |_| {
            let length = Some(video.duration()).filter(|d| d.is_finite() && *d > 0.0);
            let thumb = draw(&video).map_or(Thumb::Placeholder, Thumb::Image);
            finish(&url, length, thumb);
        }
    };
    let on_error = {
        let url = url.to_owned();
        move |_| finish(&url, None, Thumb::Placeholder)
    };
    let listeners = vec![
        Listener::new(target, "loadedmetadata", on_metadata).ok()?,
        Listener::new(target, "seeked", on_seeked).ok()?,
        Listener::new(target, "error", on_error).ok()?,
    ];
    let timeout = {
        let (video, url) = (video.clone(), url.to_owned());
        Timeout::new(PROBE_TIMEOUT_MS, move || {
            let length = Some(video.duration()).filter(|d| d.is_finite() && *d > 0.0);
            finish(&url, length, Thumb::Placeholder)
        })
    };
    video.set_src(url);
    Some(Running {
        url: url.to_owned(),
        _video: video,
        _listeners: listeners,
        _timeout: timeout,
    })
}

/// The current frame as a JPEG `data:` URL; `None` when the canvas may not be read (a frame
/// from another origin without CORS) or there is no frame.
fn draw(video: &web_sys::HtmlVideoElement) -> Option<String> {
    let document = web_sys::window()?.document()?;
    let canvas: web_sys::HtmlCanvasElement =
        document.create_element("canvas").ok()?.dyn_into().ok()?;
    canvas.set_width(THUMB_W);
    canvas.set_height(THUMB_H);
    let context: web_sys::CanvasRenderingContext2d =
        canvas.get_context("2d").ok()??.dyn_into().ok()?;
    context
        .draw_image_with_html_video_element_and_dw_and_dh(
            video,
            0.0,
            0.0,
            f64::from(THUMB_W),
            f64::from(THUMB_H),
        )
        .ok()?;
    // Throws a SecurityError on a tainted canvas.
    canvas.to_data_url_with_type("image/jpeg").ok()
}

//! The tiles' elements, drawn with the DOM directly into the container the interface gives.
//!
//! Tiles are a media island: each holds a `<video>` whose `srcObject` is a live stream, its
//! own volume, and a ring redrawn as the voice moves. Leptos views of them cost about 30 KB
//! of the gzipped download (keyed lists and reactive attributes instantiate much generic
//! code), more than the rest of the call; a few DOM calls do the same. The interface still
//! owns the container and says when to redraw.

use super::{CallPhase, LiveCall, Loudness, Tile};
use crate::num::Clamp;
use crate::room::wire::CallPresence;
use crate::signaling::payload::SessionId;
use crate::web::event_listener::Listener;
use leptos::prelude::*;
use std::collections::btree_map::{BTreeMap, Entry};
use wasm_bindgen::JsCast;
use web_sys::{Document, Element, HtmlInputElement, HtmlVideoElement, MediaStream};

/// One drawn tile.
pub(super) struct TileElement {
    root: Element,
    video: HtmlVideoElement,
    avatar: Element,
    name: Element,
    volume: Option<HtmlInputElement>,
    /// The call's stream version when `video` last got its stream.
    streams_seen: Option<u32>,
    /// Kept while the tile lives: the volume slider's listener.
    _listener: Option<Listener>,
}

/// What a tile shows, gathered from the call and the people list.
pub struct TileLook {
    pub session: SessionId,
    pub name: String,
    pub mine: bool,
    pub presence: CallPresence,
    pub show_video: bool,
    pub loudness: Option<Loudness>,
    pub stream: Option<MediaStream>,
    /// [`super::CallView::streams_changed`] when this look was taken.
    pub streams_version: u32,
}

impl LiveCall {
    /// Draws the tiles into `container`: ours first (while we are in the call), then everyone
    /// else's in the call's order. `name_of` names a remote session.
    pub fn draw_tiles(
        &self,
        container: &Element,
        my_name: &str,
        name_of: impl Fn(SessionId) -> String,
    ) {
        let looks = self.tile_looks(my_name, name_of);
        if let Some(container) = container.dyn_ref::<web_sys::HtmlElement>() {
            let size = format!("{}px", self.tile_px());
            let _ = container.style().set_property("--tile", &size);
        }
        let Some(document) = container.owner_document() else {
            return;
        };
        let mut drawn = std::mem::take(&mut self.inner.borrow_mut().tile_elements);
        // Gone: removed from the page (their streams stop with them).
        drawn.retain(|session, tile| {
            let keep = looks.iter().any(|look| look.session == *session);
            if !keep {
                tile.video.set_src_object(None);
                tile.root.remove();
            }
            keep
        });
        for (index, look) in looks.iter().enumerate() {
            let tile = match drawn.entry(look.session) {
                Entry::Occupied(drawn) => drawn.into_mut(),
                Entry::Vacant(slot) => match new_tile(&document, look.mine) {
                    Some(tile) => slot.insert(tile),
                    None => continue,
                },
            };
            // Placed before its stream is given (a detached element given a stream never
            // starts showing it), and moved only when out of place (a media element taken out
            // of the page, even for an instant, may stop showing frames).
            let here = container.children().item(index as u32);
            if here.as_ref() != Some(&tile.root) {
                let _ = container.insert_before(&tile.root, here.as_ref().map(|e| e.as_ref()));
            }
            update(tile, look);
        }
        self.inner.borrow_mut().tile_elements = drawn;
    }

    fn tile_looks(&self, my_name: &str, name_of: impl Fn(SessionId) -> String) -> Vec<TileLook> {
        let inner = self.inner.borrow();
        let loudness = |session: SessionId| {
            self.view
                .loudness
                .try_with_untracked(|all| all.iter().find(|l| l.session == session).copied())
                .flatten()
        };
        let streams_version = self.view.streams_changed.try_get_untracked().unwrap_or(0);
        let mut looks = Vec::new();
        if inner.my.phase == CallPhase::In {
            looks.push(TileLook {
                session: inner.me,
                name: format!("{my_name} (you)"),
                mine: true,
                presence: CallPresence {
                    joined: true,
                    muted: inner.told.muted,
                    camera: inner.my.camera,
                    tile_px: 0,
                },
                show_video: inner.my.camera,
                loudness: loudness(inner.me),
                // A second handle to our stream, not `l.stream.clone()`: that is the JS
                // method, a new stream of new tracks at every redraw (see clippy.toml).
                stream: inner.local.as_ref().map(|l| Clone::clone(&l.stream)),
                streams_version,
            });
        }
        let tiles: Vec<Tile> = self.view.tiles.try_get_untracked().unwrap_or_default();
        for tile in tiles {
            looks.push(TileLook {
                session: tile.session,
                name: name_of(tile.session),
                mine: false,
                presence: tile.presence,
                show_video: tile.show_video,
                loudness: loudness(tile.session),
                stream: inner
                    .remotes
                    .get(&tile.session)
                    .and_then(|r| r.stream.clone()),
                streams_version,
            });
        }
        looks
    }
}

fn new_tile(document: &Document, mine: bool) -> Option<TileElement> {
    let element = |tag: &str, class: &str| {
        let element = document.create_element(tag).ok()?;
        element.set_class_name(class);
        Some(element)
    };
    let root = element("div", if mine { "tile self" } else { "tile" })?;
    let _ = root.set_attribute("role", "group");
    let video: HtmlVideoElement = element(
        "video",
        if mine {
            "tile-video self"
        } else {
            "tile-video"
        },
    )?
    .unchecked_into();
    video.set_autoplay(true);
    let _ = video.set_attribute("playsinline", "");
    // We never hear ourselves.
    video.set_muted(mine);
    let avatar = element("span", "avatar")?;
    let _ = avatar.set_attribute("aria-hidden", "true");
    let name = element("span", "tile-name")?;
    let _ = root.append_child(&video);
    let _ = root.append_child(&avatar);
    let _ = root.append_child(&name);
    let (volume, listener) = if mine {
        (None, None)
    } else {
        let slider: HtmlInputElement = element("input", "tile-volume")?.unchecked_into();
        slider.set_type("range");
        for (key, value) in [("min", "0"), ("max", "1"), ("step", "0.05"), ("value", "1")] {
            let _ = slider.set_attribute(key, value);
        }
        let _ = root.append_child(&slider);
        let (target, reading) = (video.clone(), slider.clone());
        let listener = Listener::new(&slider, "input", move |_| {
            // The browser's number, not a parse of the text: Rust's float parser and its
            // tables would cost about 10 KB of the download.
            let volume = reading.value_as_number();
            if volume.is_finite() {
                target.set_volume(volume.clamp_to(0.0, 1.0));
            }
        })
        .ok();
        (Some(slider), listener)
    };
    Some(TileElement {
        root,
        video,
        avatar,
        name,
        volume,
        streams_seen: None,
        _listener: listener,
    })
}

fn update(tile: &mut TileElement, look: &TileLook) {
    let set = |key: &str, value: &str| {
        if tile.root.get_attribute(key).as_deref() != Some(value) {
            let _ = tile.root.set_attribute(key, value);
        }
    };
    let on_off = |on: bool, yes: &'static str, no: &'static str| if on { yes } else { no };
    set("aria-label", &look.name);
    set("data-session", &look.session.to_string());
    set("data-muted", on_off(look.presence.muted, "true", "false"));
    set("data-camera", on_off(look.presence.camera, "on", "off"));
    set("data-video", on_off(look.show_video, "shown", "hidden"));
    let loudness = look.loudness.unwrap_or(Loudness {
        session: look.session,
        level: 0,
        speaking: false,
    });
    set("data-speaking", on_off(loudness.speaking, "true", "false"));
    // Through the CSSOM, not a `style` attribute, which the served Content-Security-Policy
    // refuses (see signal/src/site_headers.rs).
    if let Some(root) = tile.root.dyn_ref::<web_sys::HtmlElement>() {
        let level = ring_text(loudness.level);
        let style = root.style();
        if style.get_property_value("--level").ok().as_deref() != Some(level.as_str()) {
            let _ = style.set_property("--level", &level);
        }
    }
    let shown_name = if look.presence.muted && !look.mine {
        format!("{} (muted)", look.name)
    } else {
        look.name.clone()
    };
    if tile.name.text_content().as_deref() != Some(shown_name.as_str()) {
        tile.name.set_text_content(Some(&shown_name));
    }
    let initials = initials(look.name.trim_end_matches(" (you)"));
    if tile.avatar.text_content().as_deref() != Some(initials.as_str()) {
        tile.avatar.set_text_content(Some(&initials));
    }
    if let Some(slider) = &tile.volume {
        let label = format!("Volume of {}", look.name);
        if slider.get_attribute("aria-label").as_deref() != Some(label.as_str()) {
            let _ = slider.set_attribute("aria-label", &label);
        }
    }
    // Given again only when the call says streams changed: reassigning a stream restarts the
    // element. (Comparing the streams themselves proved unreliable for our own camera's.)
    if tile.streams_seen != Some(look.streams_version) {
        let replacing = tile.streams_seen.is_some();
        tile.streams_seen = Some(look.streams_version);
        tile.video.set_src_object(look.stream.as_ref());
        // Autoplay starts the first stream; a replacement needs an explicit play, whose promise
        // fails harmlessly when a newer stream interrupts it.
        if !replacing {
            return;
        }
        if let Ok(playing) = tile.video.play() {
            wasm_bindgen_futures::spawn_local(async move {
                let _ = wasm_bindgen_futures::JsFuture::from(playing).await;
            });
        }
    }
}

/// A ring step (0–10) as a CSS number (0–1), without float formatting.
fn ring_text(step: u8) -> String {
    match step {
        0..=9 => format!("0.{step}"),
        _ => "1".to_owned(),
    }
}

/// Up to two initials for the avatar of a camera that is off. Upper-cased by the browser:
/// Rust's own case tables would add about 30 KB to the download.
fn initials(name: &str) -> String {
    let letters: String = name
        .split_whitespace()
        .filter_map(|word| word.chars().next())
        .take(2)
        .collect();
    js_sys::JsString::from(letters).to_upper_case().into()
}

/// The drawn tiles, by session.
pub(super) type TileElements = BTreeMap<SessionId, TileElement>;

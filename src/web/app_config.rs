//! Loading `config.json` at start-up.

use crate::config::AppConfig;
use leptos::prelude::*;
use wasm_bindgen::JsCast;
use wasm_bindgen_futures::JsFuture;

/// Where the deployment configuration stands.
#[derive(Debug, Clone, PartialEq)]
pub enum ConfigState {
    Loading,
    Ready(AppConfig),
    /// The file exists but is wrong: shown to the person, because the party cannot work.
    Failed(String),
}

/// Fetches `config.json` (relative to the page, so a sub-path deployment works) once.
/// A missing file means "use the defaults", which is what a plain static host gives.
pub fn use_app_config() -> ReadSignal<ConfigState> {
    let (state, set_state) = signal(ConfigState::Loading);
    leptos::task::spawn_local(async move {
        let next = match fetch_config().await {
            Ok(config) => ConfigState::Ready(config),
            Err(problem) => {
                web_sys::console::error_1(&problem.clone().into());
                ConfigState::Failed(problem)
            }
        };
        set_state.set(next);
    });
    state
}

async fn fetch_config() -> Result<AppConfig, String> {
    let describe = super::describe_js_error;
    let window = web_sys::window().ok_or("this page has no window")?;
    let response = JsFuture::from(window.fetch_with_str("config.json"))
        .await
        .map_err(|e| describe("could not fetch config.json", e))?;
    let response: web_sys::Response = response
        .dyn_into()
        .map_err(|e| describe("fetch returned no response", e))?;
    if response.status() == 404 {
        return Ok(AppConfig::default());
    }
    if !response.ok() {
        return Err(format!("config.json answered HTTP {}", response.status()));
    }
    let text = response
        .text()
        .map_err(|e| describe("could not read config.json", e))?;
    let text = JsFuture::from(text)
        .await
        .map_err(|e| describe("could not read config.json", e))?;
    AppConfig::from_json(&text.as_string().unwrap_or_default()).map_err(|e| e.to_string())
}

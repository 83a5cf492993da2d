//! The interface: Leptos components that render state and call into `web` and the pure core.

pub(crate) mod call;
mod chat_panel;
pub(crate) mod host_panel;
mod insecure_page;
mod invalid_link;
mod landing;
mod name_prompt;
mod people_list;
pub(crate) mod programme_tabs;
mod reactions;
pub(crate) mod ready_prompt;
mod room;
pub mod stage;
pub(crate) mod suggested;
pub(crate) mod up_next;

use crate::room_link::Route;
use crate::web::app_config::{use_app_config, ConfigState};
use crate::web::location::{is_secure_context, use_location_hash};
use leptos::prelude::*;

pub use insecure_page::InsecurePage;
pub use invalid_link::InvalidLink;
pub use landing::Landing;
pub use room::RoomPage;

/// Starts the app on the page's `<body>`.
pub fn mount() {
    crate::web::panic_log::log_panics();
    leptos::mount::mount_to_body(App);
}

/// The whole app: routes on the location fragment, which holds the room secret.
#[component]
pub fn App() -> impl IntoView {
    let hash = use_location_hash();
    let config = use_app_config();
    provide_context(config);

    // Without WebCrypto no room can be joined: say so before anything else is asked.
    let secure = is_secure_context();
    let page = move || match Route::from_hash(&hash.get()) {
        _ if !secure => view! { <InsecurePage/> }.into_any(),
        Route::Landing => view! { <Landing/> }.into_any(),
        Route::Room(secret, host) => view! { <RoomPage secret host/> }.into_any(),
        Route::InvalidLink(error) => view! { <InvalidLink error/> }.into_any(),
    };
    view! {
        <header class="topbar">
            <a class="brand" href="#">"Insieme"</a>
        </header>
        <ConfigProblem config/>
        <main class="page">{page}</main>
    }
}

/// A banner when `config.json` is broken: the deployment needs fixing, and the person should know.
#[component]
fn ConfigProblem(config: ReadSignal<ConfigState>) -> impl IntoView {
    move || match config.get() {
        ConfigState::Failed(problem) => Some(view! {
            <p class="banner error" role="alert">"This site is misconfigured: " {problem}</p>
        }),
        _ => None,
    }
}

/// The key of a list's item that is its own key (a session, a line number).
fn same_key(key: &u64) -> u64 {
    *key
}

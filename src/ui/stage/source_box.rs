//! The box where anyone pastes a video link for the whole room.

use super::video_url::VideoUrl;
use leptos::prelude::*;

/// A "Video URL" text box with "Load video" and "Add to queue" buttons; both get only links
/// that passed [`VideoUrl::parse`], and a refused one is explained under the box.
#[component]
pub fn SourceBox(
    #[prop(into)] on_load: UnsyncCallback<String>,
    /// Queues the link with the title typed (maybe empty), or says why it was not.
    #[prop(optional, into)]
    on_queue: Option<UnsyncCallback<(String, String), Result<(), String>>>,
    /// Whether "Add to queue" may be pressed yet (the page may edit the queue).
    #[prop(optional, into)]
    can_queue: Signal<bool>,
    /// The link currently playing, shown in the box so everyone sees what is loaded.
    #[prop(optional, into)]
    current: Option<Signal<Option<String>>>,
) -> impl IntoView {
    let (text, set_text) = signal(String::new());
    // Read when "Add to queue" is pressed (no signal: this box is part of the first load).
    let title = NodeRef::<leptos::html::Input>::new();
    let (problem, set_problem) = signal(None::<String>);
    if let Some(current) = current {
        Effect::new(move |_| {
            if let Some(url) = current.get() {
                set_text.set(url);
            }
        });
    }
    let parsed = move || VideoUrl::parse(&text.get_untracked()).map_err(|why| why.to_string());
    let submit = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        let loaded = parsed().map(|url| on_load.run(url.into_string()));
        set_problem.set(loaded.err());
    };
    let queue = move |_| {
        let Some(on_queue) = on_queue else { return };
        let typed = title.get_untracked().map(|t| t.value()).unwrap_or_default();
        match parsed().and_then(|url| on_queue.run((url.into_string(), typed))) {
            // Cleared for the next link.
            Ok(()) => {
                set_text.set(String::new());
                if let Some(t) = title.get_untracked() {
                    t.set_value("");
                }
            }
            Err(why) => set_problem.set(Some(why)),
        }
    };
    view! {
        <form class="source-box" novalidate on:submit=submit>
            <label for="video-url">"Video URL"</label>
            <div class="source-row">
                <input id="video-url" type="url" inputmode="url" autocomplete="off"
                    placeholder="https://example.com/movie.mp4"
                    aria-invalid=move || problem.with(Option::is_some).to_string()
                    aria-describedby="video-url-problem"
                    prop:value=text
                    on:input=move |ev| { set_text.set(event_target_value(&ev)); set_problem.set(None); }/>
                <button type="submit" class="primary">"Load video"</button>
                <button type="button" disabled=move || !can_queue.get() on:click=queue>"Add to queue"</button>
            </div>
            <input class="queue-title" aria-label="Title (optional)" placeholder="Title (optional)"
                maxlength="200" node_ref=title hidden=on_queue.is_none()/>
            <p id="video-url-problem" class="source-problem error" role="alert">{problem}</p>
        </form>
    }
}

//! The box where anyone pastes a video link for the whole room.

use super::video_url::VideoUrl;
use leptos::prelude::*;

/// A "Video URL" text box and a "Load video" button; `on_load` gets only links that passed
/// [`VideoUrl::parse`], and a refused one is explained under the box.
#[component]
pub fn SourceBox(
    #[prop(into)] on_load: UnsyncCallback<String>,
    /// The link currently playing, shown in the box so everyone sees what is loaded.
    #[prop(optional, into)]
    current: Option<Signal<Option<String>>>,
) -> impl IntoView {
    let (text, set_text) = signal(String::new());
    let (problem, set_problem) = signal(None::<String>);
    if let Some(current) = current {
        Effect::new(move |_| {
            if let Some(url) = current.get() {
                set_text.set(url);
            }
        });
    }
    let submit = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        match VideoUrl::parse(&text.get_untracked()) {
            Ok(url) => {
                set_problem.set(None);
                on_load.run(url.into_string());
            }
            Err(why) => set_problem.set(Some(why.to_string())),
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
            </div>
            <p id="video-url-problem" class="source-problem error" role="alert">{problem}</p>
        </form>
    }
}

//! Asks for a display name on the first visit (and when the person wants to change it).

use leptos::prelude::*;

#[component]
pub fn NamePrompt(
    #[prop(optional)] current: Option<String>,
    on_name: impl Fn(String) + 'static,
) -> impl IntoView {
    // First visit joins the party; later it only renames.
    let submit_label = if current.is_some() {
        "Save name"
    } else {
        "Join the party"
    };
    let (typed, set_typed) = signal(current.unwrap_or_default());
    let submit = move |event: leptos::ev::SubmitEvent| {
        event.prevent_default();
        on_name(typed.get_untracked());
    };
    view! {
        <form class="name-prompt" on:submit=submit>
            <label for="your-name">"What should the others call you?"</label>
            <div class="row">
                <input id="your-name" aria-label="Your name" autocomplete="nickname" maxlength="40" required
                    prop:value=typed on:input=move |e| set_typed.set(event_target_value(&e))/>
                <button class="primary" type="submit">{submit_label}</button>
            </div>
        </form>
    }
}

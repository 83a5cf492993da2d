//! What someone sees on a page served over plain http from another computer: browsers offer
//! WebCrypto, which seals everything a room says, only to secure pages (https, or localhost).
//! Said at once, instead of letting them name themselves and then fail with the browser's words.

use crate::web::location::page_url;
use leptos::prelude::*;

#[component]
pub fn InsecurePage() -> impl IntoView {
    let page = page_url();
    let https = page
        .strip_prefix("http:")
        .map(|rest| ["https:", rest].concat());
    view! {
        <section class="notice" role="alert">
            <h1>"This page must be opened over https"</h1>
            <p>"Browsers offer the encryption a party needs only to pages served over https (or \
                opened on this computer, as localhost). This page came over plain http: no party \
                can be started or joined here."</p>
            <p>"Open the link with https:// instead. If that does not load, whoever runs this \
                site must serve it over https."</p>
            <a class="button" href=https>"Open over https"</a>
        </section>
    }
}

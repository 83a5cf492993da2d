//! Entry point of the browser app (built by Trunk).

fn main() {
    #[cfg(target_arch = "wasm32")]
    insieme::ui::mount();

    #[cfg(not(target_arch = "wasm32"))]
    eprintln!("Insieme runs in the browser: `cargo xtask run` builds and serves it.");
}

//! `static-headers DIR`: prints the `_headers` file (the format Netlify and Cloudflare Pages
//! read) that gives a static host's copy of the app the same security headers and
//! Content-Security-Policy the endpoint sends with `--static DIR`:
//!
//! ```text
//! cargo run -p insieme-signal --bin static-headers -- dist > dist/_headers
//! ```
//!
//! Run it after every build: the policy holds the hash of the loader script Trunk inlines into
//! index.html, which changes with the build.

use std::path::PathBuf;
use std::process::ExitCode;

use insieme_signal::site_headers::Csp;

fn main() -> ExitCode {
    let mut args = std::env::args_os().skip(1);
    let (Some(dir), None) = (args.next(), args.next()) else {
        eprintln!("usage: static-headers DIR   (prints DIR's _headers file)");
        return ExitCode::FAILURE;
    };
    let dir = PathBuf::from(dir);
    if !dir.join("index.html").is_file() {
        eprintln!("static-headers: {} has no index.html", dir.display());
        return ExitCode::FAILURE;
    }
    match Csp::for_site(&dir) {
        Ok(csp) => {
            print!("{}", csp.headers_file());
            ExitCode::SUCCESS
        }
        Err(error) => {
            eprintln!("static-headers: {error}");
            ExitCode::FAILURE
        }
    }
}

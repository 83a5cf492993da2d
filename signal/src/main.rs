//! `insieme-signal`: the signaling endpoint, and a static file server for local runs.

use clap::Parser;
use insieme_signal::{Config, Server};
use tracing_subscriber::EnvFilter;

#[tokio::main]
async fn main() -> std::process::ExitCode {
    tracing_subscriber::fmt()
        .with_env_filter(
            EnvFilter::try_from_env("INSIEME_SIGNAL_LOG")
                .unwrap_or_else(|_| EnvFilter::new("info")),
        )
        .with_writer(std::io::stderr)
        .with_ansi(std::io::IsTerminal::is_terminal(&std::io::stderr()))
        .init();
    let config = Config::parse();
    let server = match Server::bind(config).await {
        Ok(server) => server,
        Err(error) => {
            eprintln!("insieme-signal: {error}");
            return std::process::ExitCode::FAILURE;
        }
    };
    // Tests and scripts parse this exact line to learn the port (e.g. with --listen 127.0.0.1:0).
    println!("listening on http://{}", server.local_addr());
    server.run_until_signal().await;
    std::process::ExitCode::SUCCESS
}

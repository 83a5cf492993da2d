//! `insieme-signal`: the signaling endpoint, and a static file server for local runs.

use clap::Parser;
use insieme_signal::server::ShutdownSignals;
use insieme_signal::{Config, Server};
use tracing_subscriber::EnvFilter;

fn main() -> std::process::ExitCode {
    let mut config = Config::parse();
    // Still one thread here, so removing the variable from the environment is sound.
    if let Err(error) = config.take_turn_secret_from_env() {
        eprintln!("insieme-signal: {error}");
        return std::process::ExitCode::FAILURE;
    }
    let mut builder = match config.threads {
        1 => tokio::runtime::Builder::new_current_thread(),
        _ => tokio::runtime::Builder::new_multi_thread(),
    };
    // 0 keeps tokio's default: one worker per CPU.
    if config.threads > 1 {
        builder.worker_threads(config.threads);
    }
    match builder.enable_all().build() {
        Ok(runtime) => runtime.block_on(serve(config)),
        Err(error) => {
            eprintln!("insieme-signal: cannot start the runtime: {error}");
            std::process::ExitCode::FAILURE
        }
    }
}

async fn serve(config: Config) -> std::process::ExitCode {
    tracing_subscriber::fmt()
        .with_env_filter(
            EnvFilter::try_from_env("INSIEME_SIGNAL_LOG")
                .unwrap_or_else(|_| EnvFilter::new("info")),
        )
        .with_writer(std::io::stderr)
        .with_ansi(std::io::IsTerminal::is_terminal(&std::io::stderr()))
        .init();
    let server = match Server::bind(config).await {
        Ok(server) => server,
        Err(error) => {
            eprintln!("insieme-signal: {error}");
            return std::process::ExitCode::FAILURE;
        }
    };
    let signals = match ShutdownSignals::install() {
        Ok(signals) => signals,
        Err(error) => {
            eprintln!("insieme-signal: cannot catch SIGTERM/SIGINT: {error}");
            return std::process::ExitCode::FAILURE;
        }
    };
    // Tests and scripts parse this exact line to learn the port (e.g. with --listen 127.0.0.1:0).
    println!("listening on http://{}", server.local_addr());
    if let Some(metrics) = server.metrics_addr() {
        // After the line above, which scripts read first.
        println!("metrics on http://{metrics}/metrics");
    }
    server.run(signals.received()).await;
    std::process::ExitCode::SUCCESS
}

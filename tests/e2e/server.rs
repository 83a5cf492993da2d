//! The local server serves the app, its configuration and its health check.

use crate::harness::{http_get, TestServer};
use anyhow::{ensure, Result};

#[tokio::test]
async fn serves_health_config_and_the_app() -> Result<()> {
    let server = TestServer::start().await?;
    let (status, _) = http_get(&server.url, "/healthz").await?;
    ensure!(status == 200, "/healthz answered {status}");

    let (status, config) = http_get(&server.url, "/config.json").await?;
    ensure!(status == 200, "/config.json answered {status}");
    insieme::config::AppConfig::from_json(&config)?;

    let (status, index) = http_get(&server.url, "/").await?;
    ensure!(
        status == 200 && index.contains(".wasm"),
        "index.html does not load the wasm"
    );
    // Release builds minify index.html, which leaves attribute values unquoted.
    let wasm = index
        .split(['"', '\'', ' ', '=', '>'])
        .find(|part| part.ends_with(".wasm"))
        .unwrap_or_default()
        .to_owned();
    ensure!(!wasm.is_empty(), "no .wasm path found in index.html");
    let (status, _) = http_get(&server.url, &format!("/{}", wasm.trim_start_matches('/'))).await?;
    ensure!(status == 200, "{wasm} answered {status}");
    Ok(())
}

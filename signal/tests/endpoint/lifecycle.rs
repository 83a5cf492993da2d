//! Start-up, static files, observability, graceful shutdown and restart, and the test-only
//! relay capture.

use std::time::Duration;

use insieme_signal::Config;

use crate::common::*;

#[tokio::test]
async fn serves_static_files_health_and_metrics() {
    let dir = std::env::temp_dir().join(format!("insieme-signal-static-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    std::fs::write(
        dir.join("index.html"),
        "<!doctype html><title>Insieme</title><script type=module>start()</script>",
    )
    .unwrap();
    std::fs::write(dir.join("app_bg.wasm"), b"\0asm\x01\0\0\0").unwrap();
    std::fs::write(dir.join("config.json"), "{}").unwrap();
    let server = TestServer::start(Config {
        static_dir: Some(dir.clone()),
        ..with_metrics(config())
    })
    .await;
    let (status, headers, body) = http_get(server.addr, "/", &[]).await;
    assert_eq!(status, 200);
    assert!(String::from_utf8_lossy(&body).contains("Insieme"));
    let content_type = |headers: &[(String, String)]| {
        headers
            .iter()
            .find(|(n, _)| n == "content-type")
            .map(|(_, v)| v.clone())
            .unwrap_or_default()
    };
    assert!(content_type(&headers).starts_with("text/html"));
    let header = |headers: &[(String, String)], name: &str| {
        headers
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, v)| v.clone())
            .unwrap_or_default()
    };
    assert_eq!(header(&headers, "x-content-type-options"), "nosniff");
    assert_eq!(header(&headers, "referrer-policy"), "no-referrer");
    assert_eq!(header(&headers, "x-frame-options"), "DENY");
    let csp = header(&headers, "content-security-policy");
    // echo -n 'start()' | openssl dgst -sha256 -binary | base64
    for part in [
        "default-src 'none'",
        "script-src 'self' 'wasm-unsafe-eval' 'sha256-DIm7WJS6ZKDYe5qFLPy+h4JFI9Bol5QmYC57mt3Fb00='",
        &format!("connect-src 'self' ws://{0} wss://{0}", server.addr),
        "frame-ancestors 'none'",
    ] {
        assert!(csp.contains(part), "{part} missing from {csp:?}");
    }
    let (status, headers, _) = http_get(server.addr, "/app_bg.wasm", &[]).await;
    assert_eq!(
        (status, content_type(&headers).as_str()),
        (200, "application/wasm")
    );
    let (_, headers, _) = http_get(server.addr, "/config.json", &[]).await;
    assert_eq!(content_type(&headers), "application/json");
    assert_eq!(http_status(server.addr, "/missing.js").await, 404);
    assert_eq!(http_status(server.addr, "/healthz").await, 200);

    // Some traffic, then the metrics reflect it.
    let room = topic();
    let mut a = server.join(&room).await;
    let b = server.join(&room).await;
    a.next_json().await;
    a.send_data(&b.id, "aGk").await;
    a.send_text("oops").await;
    a.expect_error("bad_json").await;
    let _ = http_status(server.addr, "/ws/bad").await;
    assert_eq!(
        http_status(server.addr, "/metrics").await,
        404,
        "the counters are not on the public port"
    );
    let (status, headers, body) = http_get(server.metrics_addr(), "/metrics", &[]).await;
    assert_eq!(status, 200);
    assert!(content_type(&headers).starts_with("text/plain"));
    let text = String::from_utf8(body).unwrap();
    for line in [
        "insieme_signal_peers 2",
        "insieme_signal_topics 1",
        "insieme_signal_messages_relayed_total 1",
        "insieme_signal_errors_total{code=\"bad_json\"} 1",
        "insieme_signal_refusals_total{reason=\"bad_topic\"} 1",
    ] {
        assert!(
            text.lines().any(|l| l == line),
            "missing `{line}` in\n{text}"
        );
    }
    server.stop().await;
    std::fs::remove_dir_all(dir).unwrap();
}

#[tokio::test]
async fn shutdown_closes_every_socket_with_1012() {
    let server = TestServer::start(config()).await;
    let room = topic();
    let mut a = server.join(&room).await;
    let mut b = server.join(&room).await;
    let mut c = server.join(&topic()).await;
    a.next_json().await;
    server.token.cancel();
    for client in [&mut b, &mut c] {
        assert_eq!(client.expect_close().await.0, 1012);
    }
    let (code, _) = a.expect_close().await;
    assert_eq!(code, 1012);
    tokio::time::timeout(Duration::from_secs(10), server.handle)
        .await
        .expect("stops in time")
        .unwrap();
}

#[tokio::test]
async fn while_draining_healthz_and_joins_answer_503_then_the_listener_closes() {
    let server = TestServer::start(Config {
        drain: Duration::from_secs(2),
        ..config()
    })
    .await;
    assert_eq!(http_status(server.addr, "/healthz").await, 200);
    let mut a = server.join(&topic()).await;
    let started = std::time::Instant::now();
    server.token.cancel();
    assert_eq!(a.expect_close().await.0, 1012, "open sockets close at once");
    assert_eq!(http_status(server.addr, "/healthz").await, 503);
    match tokio_tungstenite::connect_async(server.url(&topic())).await {
        Err(tokio_tungstenite::tungstenite::Error::Http(response)) => {
            assert_eq!(response.status().as_u16(), 503)
        }
        other => panic!("expected a 503 refusal while draining, got {other:?}"),
    }
    tokio::time::timeout(Duration::from_secs(10), server.handle)
        .await
        .expect("stops in time")
        .unwrap();
    assert!(
        started.elapsed() >= Duration::from_secs(2),
        "drained for the whole period"
    );
    assert!(
        tokio::net::TcpStream::connect(server.addr).await.is_err(),
        "the listener is closed after the drain"
    );
}

#[tokio::test]
async fn after_a_restart_clients_reconnect_and_find_each_other() {
    let first = Process::start("127.0.0.1:0", &[]).await;
    let addr = first.addr;
    let room = topic();
    let mut a = Client::join(&first.url(&room)).await;
    let mut b = Client::join(&first.url(&room)).await;
    a.next_json().await;
    a.send_data(&b.id, "YmVmb3Jl").await;
    assert_eq!(b.next_json().await["data"], "YmVmb3Jl");

    let terminating = tokio::spawn(first.terminate());
    assert_eq!(a.expect_close().await.0, 1012);
    assert_eq!(b.expect_close().await.0, 1012);
    terminating.await.unwrap();

    // Same address, new process: nothing was stored, clients simply join again.
    let second = Process::start(&addr.to_string(), &[]).await;
    let mut a = Client::join(&second.url(&room)).await;
    let mut b = Client::join(&second.url(&room)).await;
    assert_eq!(b.peers, vec![a.id.clone()]);
    assert_eq!(a.next_json().await["peer"], b.id);
    b.send_data(&a.id, "YWZ0ZXI").await;
    assert_eq!(a.next_json().await["data"], "YWZ0ZXI");
    second.terminate().await;
}

#[tokio::test]
async fn capture_relayed_appends_each_payload_as_a_line() {
    let path = std::env::temp_dir().join(format!("insieme-capture-{}.txt", std::process::id()));
    let _ = std::fs::remove_file(&path);
    let process = Process::start(
        "127.0.0.1:0",
        // Also covers the single-threaded runtime (`--threads 1`).
        &[
            "--capture-relayed",
            path.to_str().unwrap(),
            "--threads",
            "1",
        ],
    )
    .await;
    let room = topic();
    let mut a = Client::join(&process.url(&room)).await;
    let mut b = Client::join(&process.url(&room)).await;
    a.next_json().await;
    a.send_data(&b.id, "b25l").await;
    b.next_json().await;
    b.send_data(&a.id, "dHdv").await;
    a.next_json().await;
    a.send_data(&b.id, "not base64!").await; // refused: not relayed, not captured
    a.expect_error("bad_data").await;
    process.terminate().await;
    let captured = std::fs::read_to_string(&path).unwrap();
    assert_eq!(captured, "b25l\ndHdv\n");
    std::fs::remove_file(path).unwrap();
}

#[tokio::test]
async fn sigterm_right_after_the_listening_line_is_still_graceful() {
    // The handlers are installed before the address is announced, so there is no window in
    // which SIGTERM would kill the process outright.
    for _ in 0..3 {
        Process::start("127.0.0.1:0", &[]).await.terminate().await;
    }
}

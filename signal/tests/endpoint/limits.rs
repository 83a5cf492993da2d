//! Each limit is enforced, with the answer a client can act on.

use std::time::Duration;

use futures_util::{SinkExt, StreamExt};
use insieme_signal::Config;
use tokio::io::AsyncReadExt;
use tokio_tungstenite::tungstenite::client::IntoClientRequest;
use tokio_tungstenite::tungstenite::{self, Message};

use crate::common::*;

fn http_error_status(result: Result<impl Sized, tungstenite::Error>) -> u16 {
    match result {
        Err(tungstenite::Error::Http(response)) => response.status().as_u16(),
        Err(other) => panic!("expected an HTTP refusal, got {other}"),
        Ok(_) => panic!("expected an HTTP refusal, got a WebSocket"),
    }
}

#[tokio::test]
async fn a_full_topic_refuses_with_topic_full_then_1013() {
    let server = TestServer::start(Config {
        max_peers_per_topic: 2,
        ..config()
    })
    .await;
    let room = topic();
    let _a = server.join(&room).await;
    let _b = server.join(&room).await;
    let (ws, _) = tokio_tungstenite::connect_async(server.url(&room))
        .await
        .unwrap();
    let mut third = Client {
        ws,
        id: String::new(),
        peers: Vec::new(),
        welcome: serde_json::Value::Null,
    };
    let (code, frames) = third.expect_close().await;
    assert_eq!(code, 1013);
    assert_eq!(frames.len(), 1);
    assert_eq!(frames[0]["code"], "topic_full");
    // Another topic is unaffected.
    server.join(&topic()).await;
    server.stop().await;
}

#[tokio::test]
async fn connections_per_ip_are_limited_with_429() {
    let server = TestServer::start(Config {
        max_connections_per_ip: 3,
        ..config()
    })
    .await;
    let room = topic();
    let mut held = Vec::new();
    for _ in 0..3 {
        held.push(server.join(&room).await);
    }
    let refused = tokio_tungstenite::connect_async(server.url(&room)).await;
    assert_eq!(http_error_status(refused), 429);
    drop(held.pop());
    // The slot frees once the server sees the close; retry briefly.
    let mut joined = false;
    for _ in 0..50 {
        if tokio_tungstenite::connect_async(server.url(&room))
            .await
            .is_ok()
        {
            joined = true;
            break;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    assert!(joined, "a freed slot can be used again");
    server.stop().await;
}

#[tokio::test]
async fn total_connections_are_limited_with_503() {
    let server = TestServer::start(Config {
        max_connections: 2,
        ..config()
    })
    .await;
    let _a = server.join(&topic()).await;
    let _b = server.join(&topic()).await;
    let refused = tokio_tungstenite::connect_async(server.url(&topic())).await;
    assert_eq!(http_error_status(refused), 503);
    let metrics = String::from_utf8(
        // The limit also covers plain HTTP, so read the metrics through a held slot's absence:
        // free one first.
        {
            drop(_a);
            tokio::time::sleep(Duration::from_millis(100)).await;
            http_get(server.addr, "/metrics", &[]).await.2
        },
    )
    .unwrap();
    assert!(metrics.contains("insieme_signal_refusals_total{reason=\"server_full\"} 1"));
    server.stop().await;
}

#[tokio::test]
async fn origin_allow_list_refuses_others_with_403() {
    let server = TestServer::start(Config {
        allow_origins: vec!["https://watch.example".into()],
        ..config()
    })
    .await;
    let room = topic();
    let url = server.url(&room);
    let refused = tokio_tungstenite::connect_async(url.as_str()).await;
    assert_eq!(http_error_status(refused), 403, "no Origin");
    for origin in ["https://evil.example", "https://watch.example.evil"] {
        let mut request = url.as_str().into_client_request().unwrap();
        request
            .headers_mut()
            .insert("origin", origin.parse().unwrap());
        let refused = tokio_tungstenite::connect_async(request).await;
        assert_eq!(http_error_status(refused), 403, "{origin}");
    }
    let mut request = url.as_str().into_client_request().unwrap();
    request
        .headers_mut()
        .insert("origin", "https://watch.example".parse().unwrap());
    let (mut ws, _) = tokio_tungstenite::connect_async(request).await.unwrap();
    let welcome = ws.next().await.unwrap().unwrap();
    assert!(welcome.to_text().unwrap().contains("welcome"));
    server.stop().await;
}

#[tokio::test]
async fn a_connection_that_never_joins_is_dropped_at_the_deadline() {
    let server = TestServer::start(Config {
        join_timeout: Duration::from_millis(300),
        ..config()
    })
    .await;
    let mut silent = tokio::net::TcpStream::connect(server.addr).await.unwrap();
    let started = std::time::Instant::now();
    let mut buffer = [0u8; 256];
    let read = tokio::time::timeout(STEP, silent.read(&mut buffer))
        .await
        .expect("the server hangs up in time");
    // hyper may answer 408 before closing; either way the connection ends.
    if let Ok(n) = read {
        if n > 0 {
            let text = String::from_utf8_lossy(&buffer[..n]);
            assert!(text.starts_with("HTTP/1.1 408"), "{text}");
        }
    }
    let elapsed = started.elapsed();
    assert!(elapsed >= Duration::from_millis(250), "{elapsed:?}");
    assert!(elapsed < Duration::from_secs(3), "{elapsed:?}");
    let metrics = String::from_utf8(http_get(server.addr, "/metrics", &[]).await.2).unwrap();
    assert!(
        metrics.contains("insieme_signal_refusals_total{reason=\"join_timeout\"} 1"),
        "{metrics}"
    );
    server.stop().await;
}

#[tokio::test]
async fn an_idle_client_is_pinged_then_closed_1001() {
    let server = TestServer::start(Config {
        ping_interval: Duration::from_millis(100),
        idle_timeout: Duration::from_millis(350),
        ..config()
    })
    .await;
    let room = topic();
    let mut responsive = server.join(&room).await;
    let mut silent = server.join(&room).await;
    responsive.next_json().await; // joined
                                  // `silent` does not read, so it answers no ping. `responsive` keeps reading, so its
                                  // WebSocket layer answers every ping and it stays.
    let deadline = tokio::time::Instant::now() + STEP;
    let mut left = None;
    while left.is_none() && tokio::time::Instant::now() < deadline {
        if let Ok(Some(Ok(Message::Text(text)))) =
            tokio::time::timeout(Duration::from_millis(50), responsive.ws.next()).await
        {
            left = Some(text.to_string());
        }
    }
    let left = left.expect("the silent peer left");
    assert!(
        left.contains("\"left\"") && left.contains(&silent.id),
        "{left}"
    );
    let (code, _) = silent.expect_close().await;
    assert_eq!(code, 1001);
    responsive.send_text(r#"{"type":"leave"}"#).await;
    assert_eq!(responsive.expect_close().await.0, 1000);
    server.stop().await;
}

#[tokio::test]
async fn a_peer_that_stops_reading_is_evicted_not_buffered() {
    let server = TestServer::start(Config {
        outbound_queue: 4,
        rate: 1_000_000,
        rate_burst: 1_000_000,
        idle_timeout: Duration::from_secs(2),
        ..config()
    })
    .await;
    let room = topic();
    let mut sender = server.join(&room).await;
    let stalled = server.join(&room).await;
    sender.next_json().await; // joined
    let payload = "Q".repeat(30_000);
    let frame = serde_json::json!({"type": "data", "to": stalled.id, "data": payload}).to_string();
    let mut evicted = false;
    // The kernel buffers a few MiB on loopback before the server's queue fills; bound the loop.
    for _ in 0..2_000 {
        sender.ws.send(Message::text(frame.clone())).await.unwrap();
        if let Ok(Some(Ok(Message::Text(text)))) =
            tokio::time::timeout(Duration::from_millis(1), sender.ws.next()).await
        {
            assert!(
                text.contains("\"left\"") || text.contains("unknown_peer"),
                "{text}"
            );
            evicted = true;
            break;
        }
    }
    assert!(evicted, "the stalled peer was evicted");
    let metrics = String::from_utf8(http_get(server.addr, "/metrics", &[]).await.2).unwrap();
    assert!(metrics.contains("insieme_signal_refusals_total{reason=\"stalled\"} 1"));
    drop(stalled);
    server.stop().await;
}

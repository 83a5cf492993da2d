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
        ..with_metrics(config())
    })
    .await;
    let _a = server.join(&topic()).await;
    let _b = server.join(&topic()).await;
    let refused = tokio_tungstenite::connect_async(server.url(&topic())).await;
    assert_eq!(http_error_status(refused), 503);
    // The metrics listener is apart from the limits of the public one.
    assert_eq!(
        server
            .metric("insieme_signal_refusals_total{reason=\"server_full\"}")
            .await,
        1
    );
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
async fn serving_the_app_admits_only_its_own_origin_by_default() {
    let dir = tempdir("origin");
    std::fs::write(dir.join("index.html"), "<!doctype html>").unwrap();
    let server = TestServer::start(Config {
        static_dir: Some(dir.clone()),
        ..config()
    })
    .await;
    let url = server.url(&topic());
    let own = format!("http://{}", server.addr);
    assert!(open_with(&url, &[("origin", &own)]).await.is_ok());
    assert!(
        open_with(&url, &[]).await.is_ok(),
        "not a browser: nothing to protect"
    );
    for other in ["https://evil.example", "http://127.0.0.1:1", "null"] {
        assert_eq!(
            open_with(&url, &[("origin", other)]).await.err(),
            Some(403),
            "{other}"
        );
    }
    server.stop().await;
    // `*` opens it to any page again.
    let server = TestServer::start(Config {
        static_dir: Some(dir.clone()),
        allow_origins: vec!["*".into()],
        ..config()
    })
    .await;
    let url = server.url(&topic());
    assert!(open_with(&url, &[("origin", "https://evil.example")])
        .await
        .is_ok());
    server.stop().await;
    std::fs::remove_dir_all(dir).unwrap();
}

/// A fresh empty folder for this test.
fn tempdir(name: &str) -> std::path::PathBuf {
    let dir = std::env::temp_dir().join(format!(
        "insieme-signal-{name}-{}-{}",
        std::process::id(),
        topic()
    ));
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

#[tokio::test]
async fn a_connection_that_never_joins_is_dropped_at_the_deadline() {
    let server = TestServer::start(Config {
        join_timeout: Duration::from_millis(300),
        ..with_metrics(config())
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
    let metrics =
        String::from_utf8(http_get(server.metrics_addr(), "/metrics", &[]).await.2).unwrap();
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

/// Reads frames until one satisfies `wanted`, up to `limit` frames; panics on close.
async fn read_until(
    client: &mut Client,
    limit: usize,
    wanted: impl Fn(&serde_json::Value) -> bool,
) -> serde_json::Value {
    for _ in 0..limit {
        let frame = client.next_json().await;
        if wanted(&frame) {
            return frame;
        }
    }
    panic!("no wanted frame among {limit}");
}

#[tokio::test]
async fn a_peer_that_stops_reading_costs_its_byte_budget_then_is_dropped_at_the_write_deadline() {
    let budget = 64 * 1024;
    let server = TestServer::start(Config {
        outbound_bytes: budget,
        rate: 1_000_000,
        rate_burst: 1_000_000,
        write_timeout: Duration::from_millis(500),
        // Far away, so that only the write deadline can be what drops the stalled peer.
        idle_timeout: Duration::from_secs(60),
        ..with_metrics(config())
    })
    .await;
    let room = topic();
    let mut sender = server.join(&room).await;
    let stalled = server.join_with_small_buffer(&room).await;
    sender.next_json().await; // joined
    let payload = "Q".repeat(30_000);
    let frame = serde_json::json!({"type": "data", "to": stalled.id, "data": payload}).to_string();
    // The kernel takes a few frames before the stalled peer's socket is full; after that its
    // queue fills, and the sender is refused. Bounded: 64 KiB of budget and the socket buffers.
    let mut refused = false;
    for _ in 0..200 {
        sender.ws.send(Message::text(frame.clone())).await.unwrap();
        if let Ok(Some(Ok(Message::Text(text)))) =
            tokio::time::timeout(Duration::from_millis(20), sender.ws.next()).await
        {
            assert!(text.contains("peer_busy"), "{text}");
            refused = true;
            break;
        }
    }
    assert!(refused, "the sender was told the peer is busy");
    let queued = server.metric("insieme_signal_queued_bytes").await;
    assert!(
        queued <= budget as u64,
        "{queued} bytes queued for a {budget}-byte budget"
    );
    // Its socket takes no more writes: dropped at the deadline, and the others are told.
    let started = std::time::Instant::now();
    let left = read_until(&mut sender, 10, |f| f["type"] == "left").await;
    assert_eq!(left["peer"], stalled.id.as_str());
    assert!(
        started.elapsed() < Duration::from_secs(3),
        "{:?}",
        started.elapsed()
    );
    assert_eq!(
        server
            .metric("insieme_signal_refusals_total{reason=\"stalled\"}")
            .await,
        1
    );
    assert_eq!(server.metric("insieme_signal_queued_bytes").await, 0);
    drop(stalled);
    server.stop().await;
}

#[tokio::test]
async fn a_flooder_is_refused_and_throttled_while_its_target_stays() {
    let server = TestServer::start(Config {
        outbound_bytes: 64 * 1024,
        rate: 1_000_000,
        rate_burst: 1_000_000,
        ..config()
    })
    .await;
    let room = topic();
    // The victim's socket buffer is small, so that its pause shows in its queue at once.
    let mut victim = server.join_with_small_buffer(&room).await;
    let mut flooder = server.join(&room).await;
    let mut friend = server.join(&room).await;
    victim.next_json().await; // joined: flooder
    victim.next_json().await; // joined: friend
    flooder.next_json().await; // joined: friend
                               // The victim is slow for a moment (it does not read); the flooder sends on and on.
    let payload = "Q".repeat(30_000);
    let frame = serde_json::json!({"type": "data", "to": victim.id, "data": payload}).to_string();
    let mut busy = false;
    for _ in 0..400 {
        flooder.ws.send(Message::text(frame.clone())).await.unwrap();
        if let Ok(Some(Ok(Message::Text(text)))) =
            tokio::time::timeout(Duration::from_millis(5), flooder.ws.next()).await
        {
            assert!(text.contains("peer_busy"), "{text}");
            busy = true;
            break;
        }
    }
    assert!(busy, "the flooder was told the peer is busy");
    // Throttled: for a while nothing more it sends is even read (each of these would be
    // answered at once, with `peer_busy`, if it were).
    for _ in 0..3 {
        flooder.ws.send(Message::text(frame.clone())).await.unwrap();
    }
    let quiet = tokio::time::timeout(Duration::from_millis(700), flooder.ws.next()).await;
    assert!(quiet.is_err(), "read while paused: {quiet:?}");
    // The victim was never evicted: it reads what was queued, and still hears from its friend.
    let mut flood = 0;
    while let Ok(Some(Ok(message))) =
        tokio::time::timeout(Duration::from_millis(300), victim.ws.next()).await
    {
        let text = message.into_text().unwrap();
        assert!(
            text.contains(&flooder.id) && text.contains("\"data\""),
            "{text}"
        );
        flood += 1;
    }
    assert!(flood >= 2, "what was queued for the victim is delivered");
    friend.send_data(&victim.id, "aGVsbG8").await;
    // (The rest of the flood may still trickle in, once per pause.)
    let data = read_until(&mut victim, 100, |f| {
        assert_eq!(f["type"], "data", "{f}");
        f["from"] == friend.id.as_str()
    })
    .await;
    assert_eq!(data["data"], "aGVsbG8");
    // And the flooder, throttled rather than cut off, is still in the room (its message
    // arrives once the rest of its flood has been read).
    flooder.send_data(&friend.id, "aGk").await;
    let data = read_until(&mut friend, 1, |f| f["type"] == "data").await;
    assert_eq!(data["from"], flooder.id.as_str());
    server.stop().await;
}

/// Opens a WebSocket with these extra request headers; the HTTP status if it was refused.
async fn open_with(url: &str, headers: &[(&'static str, &str)]) -> Result<Socket, u16> {
    let mut request = url.into_client_request().unwrap();
    for (name, value) in headers {
        request.headers_mut().append(*name, value.parse().unwrap());
    }
    match tokio_tungstenite::connect_async(request).await {
        Ok((ws, _)) => Ok(ws),
        Err(error) => Err(http_error_status(Err::<(), _>(error))),
    }
}

#[tokio::test]
async fn topics_per_ip_are_limited_with_429() {
    let server = TestServer::start(Config {
        max_topics_per_ip: 2,
        ..with_metrics(config())
    })
    .await;
    let (one, two) = (topic(), topic());
    let _a = server.join(&one).await;
    let _b = server.join(&two).await;
    assert_eq!(open_with(&server.url(&topic()), &[]).await.err(), Some(429));
    // More members in a topic the address is in already are fine.
    let _c = server.join(&one).await;
    assert_eq!(
        server
            .metric("insieme_signal_refusals_total{reason=\"ip_topics\"}")
            .await,
        1
    );
    server.stop().await;
}

#[tokio::test]
async fn behind_a_trusted_proxy_the_forwarded_address_is_the_client() {
    let server = TestServer::start(Config {
        max_connections_per_ip: 1,
        trusted_proxies: vec!["127.0.0.1".parse().unwrap()],
        ..config()
    })
    .await;
    let url = server.url(&topic());
    let xff = |chain: &'static str| [("x-forwarded-for", chain)];
    // Two clients behind the proxy (this test plays it, from 127.0.0.1): counted apart.
    let _a = open_with(&url, &xff("203.0.113.1")).await.unwrap();
    let _b = open_with(&url, &xff("203.0.113.2")).await.unwrap();
    assert_eq!(open_with(&url, &xff("203.0.113.1")).await.err(), Some(429));
    // The right-most address that is not a trusted proxy is the client, whatever it claims.
    assert_eq!(
        open_with(&url, &xff("198.51.100.77, 203.0.113.1, 127.0.0.1"))
            .await
            .err(),
        Some(429)
    );
    // IPv6 clients count per /64.
    let _c = open_with(&url, &xff("2001:db8:0:1::1")).await.unwrap();
    assert_eq!(
        open_with(&url, &xff("2001:db8:0:1:ffff::2")).await.err(),
        Some(429)
    );
    assert!(open_with(&url, &xff("2001:db8:0:2::1")).await.is_ok());
    server.stop().await;
}

#[tokio::test]
async fn without_a_trusted_proxy_x_forwarded_for_is_ignored() {
    let server = TestServer::start(Config {
        max_connections_per_ip: 1,
        ..config()
    })
    .await;
    let url = server.url(&topic());
    let _a = open_with(&url, &[("x-forwarded-for", "203.0.113.1")])
        .await
        .unwrap();
    assert_eq!(
        open_with(&url, &[("x-forwarded-for", "203.0.113.2")])
            .await
            .err(),
        Some(429),
        "a client cannot make itself someone else"
    );
    server.stop().await;
}

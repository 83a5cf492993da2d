//! TURN credentials in the welcome, minted from the configured secret.

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use insieme_signal::turn::{credential_for, TurnSecret};
use insieme_signal::Config;

use crate::common::{config, topic, TestServer};

const SECRET: &str = "a-test-secret-for-turn";

#[tokio::test]
async fn without_a_secret_the_welcome_has_no_turn_field() {
    let server = TestServer::start(config()).await;
    let client = server.join(&topic()).await;
    assert!(client.welcome.get("turn").is_none(), "{}", client.welcome);
    server.stop().await;
}

#[tokio::test]
async fn each_welcome_carries_a_fresh_credential_coturn_would_accept() {
    let path = std::env::temp_dir().join(format!("insieme-turn-secret-{}", std::process::id()));
    std::fs::write(&path, format!("{SECRET}\n")).unwrap();
    let server = TestServer::start(Config {
        turn_secret_file: Some(path.clone()),
        turn_ttl: Duration::from_secs(3600),
        ..config()
    })
    .await;
    let room = topic();
    let a = server.join(&room).await;
    let b = server.join(&room).await;
    let now = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap()
        .as_secs();
    let secret = TurnSecret::new(SECRET).unwrap();
    for client in [&a, &b] {
        let turn = &client.welcome["turn"];
        let username = turn["username"].as_str().unwrap();
        let (expiry, _id) = username.split_once(':').unwrap();
        let expiry: u64 = expiry.parse().unwrap();
        assert!(
            expiry.abs_diff(now + 3600) <= 5,
            "expiry {expiry}, now {now}"
        );
        assert_eq!(turn["ttl_secs"], 3600);
        assert_eq!(turn["credential"], credential_for(&secret, username));
        assert!(!client.welcome.to_string().contains(SECRET));
    }
    assert_ne!(a.welcome["turn"]["username"], b.welcome["turn"]["username"]);
    server.stop().await;
    std::fs::remove_file(path).unwrap();
}

#[tokio::test]
async fn a_missing_secret_file_stops_the_start_with_its_path() {
    let error = insieme_signal::serve(Config {
        listen: "127.0.0.1:0".parse().unwrap(),
        turn_secret_file: Some("/nonexistent/turn-secret".into()),
        ..config()
    })
    .await
    .expect_err("refuses to start");
    assert!(
        error.to_string().contains("/nonexistent/turn-secret"),
        "{error}"
    );
}

//! Hardening of the HTTP listener and the gateway: slow or half-sent
//! requests are cut off and cannot keep a normal client out, shutdown takes
//! bounded time, and a user's WebSocket sessions are bounded.

use std::time::{Duration, Instant};

use serde_json::{json, Value};
use tokio::io::{AsyncRead, AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;
use tokio_tungstenite::tungstenite::protocol::frame::coding::CloseCode;
use tokio_tungstenite::tungstenite::Message;

use crate::chat::{pushed_msg, single_body, Ws, WAIT};
use crate::harness::*;

/// A request line and one header, and then nothing.
const HALF_SENT_HEADER: &[u8] = b"POST /user/get_users_info HTTP/1.1\r\nHost: x\r\n";

/// A whole header announcing 1000 bytes of body, and 11 of them.
fn half_sent_body(token: &str) -> Vec<u8> {
    format!(
        "POST /user/get_users_info HTTP/1.1\r\nHost: x\r\noperationID: op-slow\r\nX-Tenant-ID: {TENANT}\r\n\
         token: {token}\r\ncontent-type: application/json\r\nContent-Length: 1000\r\n\r\n{{\"userIDs\":"
    )
    .into_bytes()
}

/// A whole request, on a connection kept alive.
fn whole_request(token: &str) -> Vec<u8> {
    let body = json!({"userIDs": ["alice"]}).to_string();
    format!(
        "POST /user/get_users_info HTTP/1.1\r\nHost: x\r\noperationID: op-whole\r\nX-Tenant-ID: {TENANT}\r\n\
         token: {token}\r\ncontent-type: application/json\r\nContent-Length: {}\r\n\r\n{body}",
        body.len()
    )
    .into_bytes()
}

fn address(server: &Server) -> String {
    let base = server.base().expect("an API node is running");
    base.strip_prefix("http://").expect("an http base").to_owned()
}

/// A connection to the server that has sent `bytes`.
async fn send(server: &Server, bytes: &[u8]) -> TcpStream {
    let mut stream = TcpStream::connect(address(server)).await.expect("connect");
    stream.write_all(bytes).await.expect("send");
    stream
}

/// Reads until the server closes the connection: how long that took and
/// what it sent, or None if it is still open after `within`.
async fn closed(stream: &mut (impl AsyncRead + Unpin), within: Duration) -> Option<(Duration, String)> {
    let started = Instant::now();
    let mut got = Vec::new();
    let mut buf = [0u8; 4096];
    loop {
        match tokio::time::timeout_at((started + within).into(), stream.read(&mut buf)).await {
            Err(_) => return None,
            Ok(Ok(0) | Err(_)) => return Some((started.elapsed(), String::from_utf8_lossy(&got).into_owned())),
            Ok(Ok(n)) => got.extend_from_slice(&buf[..n]),
        }
    }
}

/// get_users_info of alice by a new client on a new connection.
async fn newcomer_asks(server: &Server, token: &str) -> Result<Value, reqwest::Error> {
    let client = reqwest::Client::builder().timeout(Duration::from_secs(5)).build()?;
    let base = server.base().expect("an API node is running");
    client
        .post(format!("{base}/user/get_users_info"))
        .header("operationID", "op-newcomer")
        .header("X-Tenant-ID", TENANT)
        .header("token", token)
        .json(&json!({"userIDs": ["alice"]}))
        .send()
        .await?
        .json()
        .await
}

#[tokio::test]
async fn hardening_half_sent_requests_beyond_the_cap_do_not_keep_a_client_out() {
    let dir = tempfile::tempdir().unwrap();
    // With 256 open files the server keeps at most 128 connections.
    let server = Server::start_with_open_files(dir.path(), &[], 256);
    let token = server.user("alice").await;
    let mut held = Vec::new();
    for i in 0..300 {
        let bytes = if i % 2 == 0 {
            HALF_SENT_HEADER.to_vec()
        } else {
            half_sent_body(&token)
        };
        held.push(send(&server, &bytes).await);
    }
    for n in 0..20 {
        let reply = newcomer_asks(&server, &token)
            .await
            .unwrap_or_else(|e| panic!("request {n} with 300 half-sent requests held: {e}"));
        assert_eq!(ok(reply)["usersInfo"][0]["userID"], "alice");
    }
    let mut evicted = 0;
    for stream in &mut held[..100] {
        if closed(stream, Duration::from_millis(100)).await.is_some() {
            evicted += 1;
        }
    }
    assert!(evicted > 0, "the oldest half-sent requests gave way");
}

#[tokio::test]
async fn hardening_slow_requests_and_idle_connections_are_closed() {
    let dir = tempfile::tempdir().unwrap();
    let timeouts = [
        "--header-timeout-ms",
        "1000",
        "--body-timeout-ms",
        "1000",
        "--idle-timeout-ms",
        "3000",
    ];
    let server = Server::start_in(dir.path(), &timeouts);
    let token = server.user("alice").await;
    let margin = Duration::from_secs(3);

    let header = async {
        let mut stream = send(&server, HALF_SENT_HEADER).await;
        closed(&mut stream, Duration::from_secs(10)).await
    };
    let drip = async {
        let stream = send(&server, HALF_SENT_HEADER).await;
        let (mut reader, mut writer) = stream.into_split();
        let dripping = tokio::spawn(async move {
            for n in 0.. {
                tokio::time::sleep(Duration::from_millis(300)).await;
                if writer.write_all(format!("X-Drip-{n}: y\r\n").as_bytes()).await.is_err() {
                    break;
                }
            }
        });
        let outcome = closed(&mut reader, Duration::from_secs(10)).await;
        dripping.abort();
        outcome
    };
    let body = async {
        let mut stream = send(&server, &half_sent_body(&token)).await;
        closed(&mut stream, Duration::from_secs(10)).await
    };
    let idle = async {
        let mut stream = send(&server, &whole_request(&token)).await;
        closed(&mut stream, Duration::from_secs(10)).await
    };
    let (header, drip, body, idle) = tokio::join!(header, drip, body, idle);

    let (took, _) = header.expect("a half-sent header is cut off");
    assert!(
        took >= Duration::from_millis(800) && took < Duration::from_secs(1) + margin,
        "{took:?}"
    );
    let (took, _) = drip.expect("a header sent a line every 300 ms is cut off");
    assert!(
        took >= Duration::from_millis(800) && took < Duration::from_secs(1) + margin,
        "{took:?}"
    );
    let (took, reply) = body.expect("a half-sent body is cut off");
    assert!(
        took >= Duration::from_millis(800) && took < Duration::from_secs(1) + margin,
        "{took:?}"
    );
    assert!(reply.starts_with("HTTP/1.1 200"), "{reply}");
    assert!(reply.to_ascii_lowercase().contains("connection: close"), "{reply}");
    assert!(reply.contains("\"errCode\":1001"), "{reply}");
    assert!(reply.contains("did not arrive within 1000 ms"), "{reply}");
    let (took, reply) = idle.expect("an idle connection is closed");
    assert!(reply.starts_with("HTTP/1.1 200"), "{reply}");
    assert!(
        took >= Duration::from_millis(2500) && took < Duration::from_secs(3) + margin,
        "idle for the idle timeout, not the header's: {took:?}"
    );
    assert!(server.stop().success());
}

#[tokio::test]
async fn hardening_sigterm_with_a_half_sent_request_exits_promptly_and_keeps_what_was_acknowledged() {
    let dir = tempfile::tempdir().unwrap();
    let server = Server::start_in(dir.path(), &[]);
    let token = server.user("alice").await;
    let rename = json!({"userInfo": {"userID": "alice", "nickname": "Ally"}});
    ok(server.post("/user/update_user_info_ex", Some(&token), rename).await);
    let _header = send(&server, HALF_SENT_HEADER).await;
    let mut session = Ws::connect(&server, &token, "alice").await;

    let stopping = tokio::task::spawn_blocking(move || server.stop_within(Duration::from_secs(15)));
    let close = session.until_closed(WAIT).await.expect("a close frame");
    assert_eq!(close.code, CloseCode::Away, "{close:?}");
    assert_eq!(close.reason, "server shutting down");
    // The client's side of the closing handshake: its socket closes.
    drop(session);
    let (status, took) = stopping.await.unwrap();
    assert!(status.success(), "{status:?}");
    assert!(
        took < Duration::from_secs(3),
        "a half-sent request is not in flight: shutdown took {took:?}"
    );

    let server = Server::start_in(dir.path(), &[]);
    assert_eq!(server.users_info(&token, &["alice"]).await[0]["nickname"], "Ally");
    assert!(server.stop().success());
}

#[tokio::test]
async fn hardening_shutdown_grace_bounds_a_request_whose_body_never_arrives() {
    let dir = tempfile::tempdir().unwrap();
    let server = Server::start_in(dir.path(), &["--shutdown-grace-ms", "2000"]);
    let token = server.user("alice").await;
    let mut body = send(&server, &half_sent_body(&token)).await;

    let stopping = tokio::task::spawn_blocking(move || server.stop_within(Duration::from_secs(15)));
    let (_, reply) = closed(&mut body, Duration::from_secs(10))
        .await
        .expect("the request is cut off");
    assert_eq!(reply, "", "nothing is answered to a request cut off");
    let (status, took) = stopping.await.unwrap();
    assert!(status.success(), "{status:?}");
    assert!(
        took >= Duration::from_millis(1800) && took < Duration::from_secs(2 + 3),
        "the request in flight gets the 2 s grace, and no more: {took:?}"
    );
}

#[tokio::test]
async fn hardening_a_session_beyond_the_bound_per_user_displaces_the_oldest() {
    let dir = tempfile::tempdir().unwrap();
    let limits = [
        "--max-sessions-per-user",
        "3",
        "--header-timeout-ms",
        "500",
        "--idle-timeout-ms",
        "500",
    ];
    let server = Server::start_in(dir.path(), &limits);
    let [alice, bob] = users(&server, ["alice", "bob"]).await;
    // The bound is per node: every session on one.
    let node = server.base().unwrap();
    let mut oldest = Ws::connect_to(&node, &alice, "alice").await;
    let mut newer = Vec::new();
    for _ in 0..3 {
        newer.push(Ws::connect_to(&node, &alice, "alice").await);
    }

    let kick = loop {
        match oldest.next_frame(WAIT).await {
            Some(Message::Text(text)) => {
                let frame: Value = serde_json::from_str(text.as_str()).unwrap();
                if frame["reqIdentifier"] != 2001 {
                    break frame;
                }
            }
            other => panic!("expected the kick frame, got {other:?}"),
        }
    };
    assert_eq!(kick["reqIdentifier"], 2002, "{kick}");
    let close = oldest.until_closed(WAIT).await.expect("a close frame");
    assert_eq!(close.code, CloseCode::Policy, "{close:?}");
    assert_eq!(close.reason, "1506 kicked: more than 3 sessions of this user");

    // Sessions outlive the HTTP header and idle timeouts.
    tokio::time::sleep(Duration::from_millis(1500)).await;
    let sent = server
        .post(
            "/msg/send_msg",
            Some(&bob),
            single_body("bob", "alice", "still here?", "c-1"),
        )
        .await;
    ok(sent);
    for session in &mut newer {
        let push = session.push().await;
        assert_eq!(pushed_msg(&push, "si_alice_bob")["clientMsgID"], "c-1");
    }
}

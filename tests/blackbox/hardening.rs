//! What an attacker tried: forged system messages, loose tokens, password
//! floods, and a lagging read side answered as a failure.

use std::net::IpAddr;
use std::time::Duration;

use futures::future::join_all;
use serde_json::{json, Value};

use crate::chat::*;
use crate::harness::*;

/// A client whose connections come from `source` (any 127/8 address
/// reaches the server on 127.0.0.1).
fn client_from(source: [u8; 4]) -> reqwest::Client {
    reqwest::Client::builder()
        .local_address(IpAddr::from(source))
        .build()
        .unwrap()
}

/// POSTs a login to the API node at `node` from `client`; the reply and
/// its Retry-After header. (Throttles are per node.)
async fn login_from(node: &str, client: &reqwest::Client, user: &str, password: &str) -> (Value, Option<u64>) {
    let response = client
        .post(format!("{node}/user/self_login"))
        .header("operationID", "op-login")
        .header("X-Tenant-ID", TENANT)
        .json(&json!({"userID": user, "platformID": 1, "password": password}))
        .send()
        .await
        .unwrap();
    let retry_after = response
        .headers()
        .get("retry-after")
        .map(|v| v.to_str().unwrap().parse().unwrap());
    (response.json().await.unwrap(), retry_after)
}

#[tokio::test]
async fn clients_cannot_send_what_only_the_server_sends() {
    let server = Server::start();
    let [alice, _bob] = users(&server, ["alice", "bob"]).await;
    let sent = ok(server
        .post("/msg/send_msg", Some(&alice), single_body("alice", "bob", "hi", "c-1"))
        .await);
    // A forged revoke notice of bob's, and a forged friend notification.
    for content_type in [2101, 1201, 1501, 2200] {
        let mut forged = single_body("alice", "bob", "x", &format!("forged-{content_type}"));
        forged["contentType"] = json!(content_type);
        forged["content"] = json!({"revokerUserID": "bob", "clientMsgID": "c-1", "seq": sent["seq"]});
        let reply = server.post("/msg/send_msg", Some(&alice), forged.clone()).await;
        assert_err(&reply, 1001, "contentType");
        let mut ws = Ws::connect(&server, &alice, "alice").await;
        let reply = ws.request(WS_SEND, forged).await;
        assert_eq!(reply["errCode"], 1001, "{reply}");
        assert!(reply["errMsg"].as_str().unwrap().contains("contentType"), "{reply}");
    }
    let newest = ok(server
        .post("/msg/newest_seq", Some(&alice), json!({"userID": "alice"}))
        .await);
    assert_eq!(newest["maxSeqs"]["si_alice_bob"], 1, "nothing forged was stored");
}

#[tokio::test]
async fn tokens_are_held_to_what_the_docs_promise() {
    let server = Server::start();
    server.user("alice").await;
    let ask = |token: String| {
        let server = &server;
        async move {
            server
                .post("/user/get_users_info", Some(&token), json!({"userIDs": ["alice"]}))
                .await
        }
    };
    let claims = |user: &str, platform: i64, nbf: Option<i64>| {
        let mut claims = json!({"userID": user, "platformID": platform, "tenant": TENANT,
            "iat": now_secs(), "exp": now_secs() + 3600});
        if let Some(nbf) = nbf {
            claims["nbf"] = json!(nbf);
        }
        token_with(claims, SECRET)
    };
    assert_err(&ask(claims("alice", 1, Some(now_secs() + 3600))).await, 1504, "token");
    assert_err(&ask(claims("", 1, None)).await, 1503, "userID");
    assert_err(&ask(claims("alice", 0, None)).await, 1503, "platformID");
    assert_err(&ask(claims("alice", 13, None)).await, 1503, "platformID");
    assert_eq!(ask(claims("alice", 5, Some(now_secs() - 10))).await["errCode"], 0);

    // The WebSocket's platformID must be the token's.
    let token = claims("alice", 2, None);
    let base = server.base().unwrap().replace("http://", "ws://");
    for platform in ["1", "", "x"] {
        let url = format!("{base}/ws?token={token}&sendID=alice&platformID={platform}");
        let (mut socket, _) = tokio_tungstenite::connect_async(url).await.unwrap();
        let close = closed_with(&mut socket).await;
        assert!(close.starts_with("1001 platformID"), "platformID={platform}: {close}");
    }
    let url = format!("{base}/ws?token={token}&sendID=alice&platformID=2");
    let (socket, _) = tokio_tungstenite::connect_async(url).await.unwrap();
    let mut ws = Ws::from_stream(socket, "alice");
    let reply = ws.request(WS_NEWEST_SEQ, json!({"userID": "alice"})).await;
    assert_eq!(reply["errCode"], 0, "{reply}");
}

/// The close reason a refused WebSocket gets.
async fn closed_with(
    socket: &mut tokio_tungstenite::WebSocketStream<tokio_tungstenite::MaybeTlsStream<tokio::net::TcpStream>>,
) -> String {
    use futures::StreamExt;
    use tokio_tungstenite::tungstenite::Message;
    loop {
        match tokio::time::timeout(Duration::from_secs(10), socket.next()).await {
            Ok(Some(Ok(Message::Close(Some(frame))))) => return frame.reason.to_string(),
            Ok(Some(Ok(_))) => continue,
            other => panic!("no close frame: {other:?}"),
        }
    }
}

#[tokio::test]
async fn failed_logins_are_throttled_but_the_real_user_gets_in() {
    let server = Server::start();
    server.user("alice").await;
    let node = server.base().unwrap();
    let attacker = client_from([127, 0, 0, 3]);
    for guess in 0..5 {
        let (reply, _) = login_from(&node, &attacker, "alice", &format!("guess-{guess}")).await;
        assert_err(&reply, 1002, "login refused");
    }
    // alice's five failures a minute are spent: the attacker's address waits.
    let (reply, retry_after) = login_from(&node, &attacker, "alice", "guess-5").await;
    assert_err(&reply, 1010, "too many failed logins for this user");
    assert!(retry_after.is_some_and(|s| (1..=12).contains(&s)), "{retry_after:?}");
    // The right password from the attacker's address is refused too (it
    // is not even checked).
    let (reply, _) = login_from(&node, &attacker, "alice", PASSWORD).await;
    assert_err(&reply, 1010, "retry after");
    // alice herself, from her own address, gets in.
    let (reply, _) = login_from(&node, &client_from([127, 0, 0, 2]), "alice", PASSWORD).await;
    assert_eq!(reply["errCode"], 0, "{reply}");

    // One address may fail 10 times a minute, whatever the users.
    let sprayer = client_from([127, 0, 0, 4]);
    for i in 0..10 {
        let user = format!("spray{i}");
        server.register(&user, &user).await;
        let (reply, _) = login_from(&node, &sprayer, &user, "wrong-pw").await;
        assert_err(&reply, 1002, "login refused");
    }
    server.register("spray10", "s").await;
    let (reply, retry_after) = login_from(&node, &sprayer, "spray10", "wrong-pw").await;
    assert_err(&reply, 1010, "too many failed logins from this address");
    assert!(retry_after.is_some_and(|s| (1..=6).contains(&s)), "{retry_after:?}");
}

#[tokio::test]
async fn registrations_per_address_are_bounded() {
    let dir = tempfile::tempdir().unwrap();
    let server = Server::start_in(dir.path(), &["--registrations-per-minute", "3"]);
    // The bound is per node: every registration to one.
    let node = server.base().unwrap();
    let register = |client: reqwest::Client, user: String| {
        let url = format!("{node}/user/self_register");
        async move {
            let reply: Value = client
                .post(url)
                .header("operationID", "op")
                .header("X-Tenant-ID", TENANT)
                .json(&json!({"userID": user, "nickname": "R", "password": PASSWORD}))
                .send()
                .await
                .unwrap()
                .json()
                .await
                .unwrap();
            reply
        }
    };
    let one = client_from([127, 0, 0, 6]);
    for i in 0..3 {
        assert_eq!(register(one.clone(), format!("r{i}")).await["errCode"], 0);
    }
    assert_err(
        &register(one.clone(), "r3".into()).await,
        1010,
        "too many registrations",
    );
    // The refused ID was not taken; another address may register.
    let reply = register(client_from([127, 0, 0, 5]), "r3".into()).await;
    assert_eq!(reply["errCode"], 0, "{reply}");
}

/// 200 wrong passwords at once, throttles off: at most `--password-checks`
/// hashes run (19 MiB each), the rest wait their turn, and the server stays
/// small and answers others meanwhile.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn concurrent_password_checks_are_bounded() {
    if scale_out() {
        return; // The memory of one local process is measured.
    }
    let dir = tempfile::tempdir().unwrap();
    let server = Server::start_in(
        dir.path(),
        &[
            "--password-checks",
            "2",
            "--login-failures-per-minute",
            "0",
            "--user-login-failures-per-minute",
            "0",
        ],
    );
    let token = server.user("alice").await;
    let pid = server.api_pids()[0];
    let node = server.base().unwrap();
    let client = reqwest::Client::new();
    let logins = (0..200).map(|_| login_from(&node, &client, "alice", "wrong-guess"));
    let asking = async {
        tokio::time::sleep(Duration::from_millis(300)).await;
        let started = std::time::Instant::now();
        let reply = server.users_info(&token, &["alice"]).await;
        (reply, started.elapsed())
    };
    let (replies, (info, took)) = tokio::join!(join_all(logins), asking);
    assert_eq!(info[0]["userID"], "alice");
    assert!(took < Duration::from_secs(2), "get_users_info took {took:?}");
    let codes: Vec<i64> = replies.iter().map(|(r, _)| r["errCode"].as_i64().unwrap()).collect();
    assert!(codes.iter().all(|&c| c == 1002), "every guess was checked: {codes:?}");
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap();
    let peak_kib: u64 = status
        .lines()
        .find_map(|l| l.strip_prefix("VmHWM:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
        .unwrap();
    assert!(peak_kib < 300 * 1024, "peak RSS {peak_kib} KiB");
}

#[tokio::test]
async fn a_command_applied_while_read_models_lag_is_answered_as_applied() {
    let dir = tempfile::tempdir().unwrap();
    let server = Server::start_in(dir.path(), &["--read-wait-ms", "0"]);
    for user in ["alice", "bob"] {
        assert_eq!(server.register(user, user).await["errCode"], 0);
    }
    // A registration is answered before the read models show it: log in
    // once they do.
    let alice = loop {
        let body = json!({"userID": "alice", "platformID": 1, "password": PASSWORD});
        let reply = server.post("/user/self_login", None, body).await;
        if reply["errCode"] == 0 {
            break reply["data"]["token"].as_str().unwrap().to_owned();
        }
        assert_eq!(reply["errCode"], 1101, "{reply}");
        tokio::time::sleep(Duration::from_millis(20)).await;
    };
    for i in 0..5 {
        let body = json!({"ownerUserID": "alice", "memberUserIDs": ["bob"],
            "groupInfo": {"groupID": format!("g{i}"), "groupName": "Team", "groupType": 2}});
        let reply = ok(server.post("/group/create_group", Some(&alice), body).await);
        assert_eq!(reply["groupInfo"]["groupID"], format!("g{i}"));
        assert_eq!(reply["groupInfo"]["groupName"], "Team");
        assert_eq!(reply["groupInfo"]["ownerUserID"], "alice");
        assert_eq!(reply["groupInfo"]["memberCount"], 2);
    }
}

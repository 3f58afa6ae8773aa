//! `/msg/*` and the WebSocket gateway: sending (one-to-one and group),
//! idempotent retries, the rejections of a send, newest seqs and pulls,
//! pushes to every online session, dense seqs under concurrency, recovery
//! after being offline, and what a member who left may still see.

use std::time::Duration;

use futures::future::join_all;
use serde_json::{json, Value};
use tokio_tungstenite::tungstenite::Message;

use crate::chat::*;
use crate::harness::*;

/// newest_seq's `field` (maxSeqs or minSeqs) of the user's chats (its
/// notification conversations left out).
fn chats(data: &Value, field: &str) -> Value {
    let seqs = data[field].as_object().expect("a seq map");
    let chats = seqs
        .iter()
        .filter(|(c, _)| c.starts_with("si_") || c.starts_with("sg_"));
    Value::Object(chats.map(|(c, s)| (c.clone(), s.clone())).collect())
}

async fn send(server: &Server, token: &str, body: Value) -> Value {
    server.post("/msg/send_msg", Some(token), body).await
}

async fn newest(server: &Server, token: &str, user: &str) -> Value {
    server
        .post("/msg/newest_seq", Some(token), json!({ "userID": user }))
        .await
}

fn pull_body(user: &str, conversation: &str, begin: u64, end: u64, num: u64, order: i64) -> Value {
    json!({"userID": user, "order": order,
        "seqRanges": [{"conversationID": conversation, "begin": begin, "end": end, "num": num}]})
}

async fn pull(server: &Server, token: &str, body: Value) -> Value {
    server.post("/msg/pull_msg_by_seq", Some(token), body).await
}

/// The seqs of a list of MsgData.
fn seqs(msgs: &Value) -> Vec<u64> {
    msgs.as_array()
        .unwrap_or_else(|| panic!("not a list: {msgs}"))
        .iter()
        .map(|m| m["seq"].as_u64().unwrap())
        .collect()
}

#[tokio::test]
async fn one_to_one_send_newest_seq_and_pull() {
    let server = Server::start();
    assert_eq!(server.register("alice", "Alice A").await["errCode"], 0);
    let alice = server.login("alice").await;
    let [bob, carol] = users(&server, ["bob", "carol"]).await;
    let conv = "si_alice_bob";

    let before = now_ms();
    let mut receipts = Vec::new();
    for i in 1..=3 {
        let mut body = single_body("alice", "bob", &format!("hello {i}"), &format!("cm-{i}"));
        body["ex"] = json!(format!("ex-{i}"));
        let data = ok(send(&server, &alice, body).await);
        assert_eq!(data["seq"], i, "{data}");
        assert_eq!(data["conversationID"], conv, "{data}");
        assert_eq!(data["clientMsgID"], format!("cm-{i}"), "{data}");
        assert!(!data["serverMsgID"].as_str().unwrap().is_empty(), "{data}");
        receipts.push(data);
    }
    let after = now_ms();
    // The conversation ID does not depend on who sends.
    let data = ok(send(&server, &bob, single_body("bob", "alice", "hi back", "cm-b")).await);
    assert_eq!(data["conversationID"], conv, "{data}");
    assert_eq!(data["seq"], 4, "{data}");

    for (user, token) in [("alice", &alice), ("bob", &bob)] {
        let data = ok(newest(&server, token, user).await);
        assert_eq!(chats(&data, "maxSeqs"), json!({ conv: 4 }), "{user}: {data}");
        assert_eq!(chats(&data, "minSeqs"), json!({ conv: 1 }), "{user}: {data}");
    }
    let data = ok(newest(&server, &carol, "carol").await);
    assert_eq!(chats(&data, "maxSeqs"), json!({}), "{data}");

    let data = ok(pull(&server, &bob, pull_body("bob", conv, 1, 3, 100, 0)).await);
    let range = &data["msgs"][conv];
    assert_eq!(range["isEnd"], true, "{data}");
    assert_eq!(range["endSeq"], 3, "{data}");
    let msgs = range["Msgs"].as_array().unwrap();
    assert_eq!(msgs.len(), 3, "{data}");
    let mut server_ids = std::collections::HashSet::new();
    for (i, (msg, receipt)) in msgs.iter().zip(&receipts).enumerate() {
        let n = i + 1;
        assert_eq!(msg["serverMsgID"], receipt["serverMsgID"], "{msg}");
        assert!(server_ids.insert(msg["serverMsgID"].as_str().unwrap().to_owned()));
        assert_eq!(msg["clientMsgID"], format!("cm-{n}"), "{msg}");
        assert_eq!(msg["sendID"], "alice", "{msg}");
        assert_eq!(msg["recvID"], "bob", "{msg}");
        assert_eq!(msg["groupID"], "", "{msg}");
        assert_eq!(msg["senderNickname"], "Alice A", "{msg}");
        assert_eq!(msg["senderFaceURL"], "", "{msg}");
        assert_eq!(msg["sessionType"], SINGLE, "{msg}");
        assert_eq!(msg["msgFrom"], 100, "{msg}");
        assert_eq!(msg["contentType"], TEXT, "{msg}");
        assert_eq!(msg["content"], text(&format!("hello {n}")), "{msg}");
        assert_eq!(msg["seq"], n, "{msg}");
        assert_eq!(msg["sendTime"], receipt["sendTime"], "{msg}");
        let sent = msg["sendTime"].as_i64().unwrap();
        assert!((before..=after).contains(&sent), "{sent} not in {before}..={after}");
        assert_eq!(msg["createTime"], msg["sendTime"], "{msg}");
        assert_eq!(msg["status"], 2, "{msg}");
        assert_eq!(msg["ex"], format!("ex-{n}"), "{msg}");
    }
    // The sender sees the same.
    let mine = ok(pull(&server, &alice, pull_body("alice", conv, 1, 3, 100, 0)).await);
    assert_eq!(mine["msgs"][conv]["Msgs"], range["Msgs"]);

    let data = ok(pull(&server, &bob, pull_body("bob", conv, 1, 3, 2, 1)).await);
    let range = &data["msgs"][conv];
    assert_eq!(seqs(&range["Msgs"]), vec![3, 2], "{data}");
    assert_eq!(range["isEnd"], false, "{data}");
    assert_eq!(range["endSeq"], 2, "{data}");

    let data = ok(pull(&server, &bob, pull_body("bob", conv, 1, 4, 2, 0)).await);
    assert_eq!(seqs(&data["msgs"][conv]["Msgs"]), vec![1, 2], "{data}");
    assert_eq!(data["msgs"][conv]["isEnd"], false, "{data}");

    // Someone else's pull or newest seq.
    let reply = pull(&server, &carol, pull_body("bob", conv, 1, 3, 100, 0)).await;
    assert_eq!(reply["errCode"], 1002, "{reply}");
    let reply = newest(&server, &carol, "bob").await;
    assert_eq!(reply["errCode"], 1002, "{reply}");
    // A conversation one is not in.
    let reply = pull(&server, &carol, pull_body("carol", conv, 1, 3, 100, 0)).await;
    assert_err(&reply, 1002, conv);
}

#[tokio::test]
async fn a_retry_with_the_same_client_msg_id_gets_the_original_reply() {
    let server = Server::start();
    let [alice, bob] = users(&server, ["alice", "bob"]).await;
    let first = ok(send(&server, &alice, single_body("alice", "bob", "once", "retry-1")).await);
    let again = ok(send(&server, &alice, single_body("alice", "bob", "once", "retry-1")).await);
    assert_eq!(first, again);
    assert_eq!(first["seq"], 1, "{first}");
    assert_eq!(first["clientMsgID"], "retry-1", "{first}");
    let data = ok(newest(&server, &bob, "bob").await);
    assert_eq!(chats(&data, "maxSeqs"), json!({"si_alice_bob": 1}), "{data}");
    let data = ok(pull(&server, &bob, pull_body("bob", "si_alice_bob", 1, 10, 10, 0)).await);
    assert_eq!(seqs(&data["msgs"]["si_alice_bob"]["Msgs"]), vec![1], "{data}");

    // The same clientMsgID in another conversation is another message.
    let [_carol] = users(&server, ["carol"]).await;
    let other = ok(send(&server, &alice, single_body("alice", "carol", "once", "retry-1")).await);
    assert_eq!(other["conversationID"], "si_alice_carol", "{other}");
    assert_ne!(other["serverMsgID"], first["serverMsgID"], "{other}");
}

#[tokio::test]
async fn one_to_one_send_rejections() {
    let server = Server::start();
    let [alice, bob, _carol] = users(&server, ["alice", "bob", "carol"]).await;

    let reply = send(&server, &alice, single_body("alice", "nobody", "hi", "")).await;
    assert_err(&reply, 1101, "nobody");
    let reply = send(&server, &alice, single_body("bob", "carol", "hi", "")).await;
    assert_err(&reply, 1002, "bob");

    let mut body = single_body("alice", "bob", "hi", "");
    body["content"] = json!({"text": "no content field"});
    assert_err(&send(&server, &alice, body).await, 1001, "content");
    let mut body = single_body("alice", "bob", "hi", "");
    body["content"] = json!({"content": 5});
    assert_err(&send(&server, &alice, body).await, 1001, "content");
    let mut body = single_body("alice", "bob", "hi", "");
    body["sessionType"] = json!(2);
    assert_err(&send(&server, &alice, body).await, 1001, "sessionType");
    let big = "x".repeat(64 * 1024);
    let body = single_body("alice", "bob", &big, "");
    assert_err(&send(&server, &alice, body).await, 1001, "content");

    let body = json!({"ownerUserID": "bob", "blackUserID": "alice"});
    ok(server.post("/friend/add_black", Some(&bob), body).await);
    let reply = send(&server, &alice, single_body("alice", "bob", "hi", "")).await;
    assert_err(&reply, 1302, "bob");

    // Nothing was stored.
    let data = ok(newest(&server, &alice, "alice").await);
    assert_eq!(chats(&data, "maxSeqs"), json!({}), "{data}");
    // The one who blacklisted may still be messaged by others.
    ok(send(&server, &alice, single_body("alice", "carol", "hi", "")).await);
}

#[tokio::test]
async fn group_send_needs_membership_of_an_open_group() {
    let server = Server::start();
    let [owner, bob, carol] = users(&server, ["owner", "bob", "carol"]).await;
    create_group(&server, &owner, "owner", "g1", &[], &["bob"]).await;

    let data = ok(send(&server, &bob, group_body("bob", "g1", "hi")).await);
    assert_eq!(data["conversationID"], "sg_g1", "{data}");
    assert_eq!(data["seq"], 1, "{data}");

    let reply = send(&server, &carol, group_body("carol", "g1", "hi")).await;
    assert_err(&reply, 1203, "carol");
    let reply = send(&server, &carol, group_body("carol", "nogroup", "hi")).await;
    assert_ne!(reply["errCode"], 0, "{reply}");

    ok(server
        .post("/group/dismiss_group", Some(&owner), json!({"groupID": "g1"}))
        .await);
    let reply = send(&server, &owner, group_body("owner", "g1", "hi")).await;
    assert_eq!(reply["errCode"], 1204, "{reply}");
    let reply = send(&server, &bob, group_body("bob", "g1", "hi")).await;
    assert_eq!(reply["errCode"], 1204, "{reply}");
}

#[tokio::test]
async fn a_muted_member_may_not_send_but_the_owner_may() {
    let server = Server::start();
    let [owner, admin, bob, carol] = users(&server, ["owner", "admin", "bob", "carol"]).await;
    create_group(&server, &owner, "owner", "g1", &["admin"], &["bob", "carol"]).await;

    for user in ["bob", "admin"] {
        let body = json!({"groupID": "g1", "userID": user, "mutedSeconds": 600});
        ok(server.post("/group/mute_group_member", Some(&owner), body).await);
    }
    let reply = send(&server, &bob, group_body("bob", "g1", "hi")).await;
    assert_err(&reply, 1402, "bob");
    let reply = send(&server, &admin, group_body("admin", "g1", "hi")).await;
    assert_err(&reply, 1402, "admin");
    // The owner cannot be muted, and the others are not.
    let body = json!({"groupID": "g1", "userID": "owner", "mutedSeconds": 600});
    let reply = server
        .post("/group/mute_group_member", Some(&admin_token()), body)
        .await;
    assert_ne!(reply["errCode"], 0, "{reply}");
    assert_eq!(
        ok(send(&server, &owner, group_body("owner", "g1", "hi")).await)["seq"],
        1
    );
    assert_eq!(
        ok(send(&server, &carol, group_body("carol", "g1", "hi")).await)["seq"],
        2
    );

    let body = json!({"groupID": "g1", "userID": "bob"});
    ok(server.post("/group/cancel_mute_group_member", Some(&owner), body).await);
    assert_eq!(ok(send(&server, &bob, group_body("bob", "g1", "hi")).await)["seq"], 3);
}

#[tokio::test]
async fn a_muted_group_takes_messages_from_the_owner_and_admins_only() {
    let server = Server::start();
    let [owner, admin, bob] = users(&server, ["owner", "admin", "bob"]).await;
    create_group(&server, &owner, "owner", "g1", &["admin"], &["bob"]).await;
    ok(server
        .post("/group/mute_group", Some(&owner), json!({"groupID": "g1"}))
        .await);

    let reply = send(&server, &bob, group_body("bob", "g1", "hi")).await;
    assert_eq!(reply["errCode"], 1403, "{reply}");
    assert_eq!(
        ok(send(&server, &owner, group_body("owner", "g1", "hi")).await)["seq"],
        1
    );
    assert_eq!(
        ok(send(&server, &admin, group_body("admin", "g1", "hi")).await)["seq"],
        2
    );

    ok(server
        .post("/group/cancel_mute_group", Some(&owner), json!({"groupID": "g1"}))
        .await);
    assert_eq!(ok(send(&server, &bob, group_body("bob", "g1", "hi")).await)["seq"], 3);
}

#[tokio::test]
async fn a_message_sent_over_websocket_is_pushed_to_every_other_session() {
    let server = Server::start();
    let [alice, bob] = users(&server, ["alice", "bob"]).await;
    let mut a1 = Ws::connect(&server, &alice, "alice").await;
    let mut a2 = Ws::connect(&server, &alice, "alice").await;
    let mut b1 = Ws::connect(&server, &bob, "bob").await;
    let mut b2 = Ws::connect(&server, &bob, "bob").await;

    let body = single_body("alice", "bob", "over ws", "ws-1");
    let reply = a1.request(WS_SEND, body).await;
    assert_eq!(reply["errCode"], 0, "{reply}");
    assert_eq!(reply["errMsg"], "", "{reply}");
    assert_eq!(reply["operationID"], "op-alice-2", "{reply}");
    let receipt = &reply["data"];
    assert_eq!(receipt["seq"], 1, "{reply}");
    assert_eq!(receipt["clientMsgID"], "ws-1", "{reply}");
    assert_eq!(receipt["conversationID"], "si_alice_bob", "{reply}");

    for ws in [&mut b1, &mut b2, &mut a2] {
        let push = ws.push().await;
        let msg = pushed_msg(&push, "si_alice_bob");
        assert_eq!(msg["serverMsgID"], receipt["serverMsgID"], "{msg}");
        assert_eq!(msg["clientMsgID"], "ws-1", "{msg}");
        assert_eq!(msg["sendID"], "alice", "{msg}");
        assert_eq!(msg["recvID"], "bob", "{msg}");
        assert_eq!(msg["sessionType"], SINGLE, "{msg}");
        assert_eq!(msg["contentType"], TEXT, "{msg}");
        assert_eq!(msg["content"], text("over ws"), "{msg}");
        assert_eq!(msg["seq"], 1, "{msg}");
        assert_eq!(msg["sendTime"], receipt["sendTime"], "{msg}");
        assert_eq!(msg["senderNickname"], "alice", "{msg}");
        assert_eq!(msg["status"], 2, "{msg}");
        assert_eq!(msg["msgFrom"], 100, "{msg}");
    }
    // The pushed message equals the stored one.
    let data = ok(pull(&server, &bob, pull_body("bob", "si_alice_bob", 1, 1, 1, 0)).await);
    let stored = &data["msgs"]["si_alice_bob"]["Msgs"][0];
    let over_ws = b1.request(WS_PULL, pull_body("bob", "si_alice_bob", 1, 1, 1, 0)).await;
    assert_eq!(&pushed_msg(&over_ws, "si_alice_bob"), stored);

    // The sending session gets its reply only.
    a1.assert_quiet().await;
    for ws in [&mut a2, &mut b1, &mut b2] {
        ws.assert_quiet().await;
    }

    // A message sent over HTTP is pushed to all of the sender's sessions.
    let data = ok(send(&server, &alice, single_body("alice", "bob", "over http", "http-1")).await);
    for ws in [&mut a1, &mut a2, &mut b1, &mut b2] {
        let msg = pushed_msg(&ws.push().await, "si_alice_bob");
        assert_eq!(msg["serverMsgID"], data["serverMsgID"], "{msg}");
        assert_eq!(msg["seq"], 2, "{msg}");
    }
}

#[tokio::test]
async fn a_group_message_is_pushed_to_every_member_once() {
    let server = Server::start();
    let [owner, m1, m2, m3, outsider] = users(&server, ["owner", "m1", "m2", "m3", "outsider"]).await;
    create_group(&server, &owner, "owner", "g1", &[], &["m1", "m2", "m3"]).await;
    let mut sessions = Vec::new();
    for (user, token) in [("owner", &owner), ("m1", &m1), ("m2", &m2), ("m3", &m3)] {
        sessions.push(Ws::connect(&server, token, user).await);
    }
    let mut other = Ws::connect(&server, &outsider, "outsider").await;

    let data = ok(send(&server, &m2, group_body("m2", "g1", "to all")).await);
    assert_eq!(data["conversationID"], "sg_g1", "{data}");
    for ws in &mut sessions {
        let msg = pushed_msg(&ws.push().await, "sg_g1");
        assert_eq!(msg["serverMsgID"], data["serverMsgID"], "{msg}");
        assert_eq!(msg["clientMsgID"], data["clientMsgID"], "{msg}");
        assert_eq!(msg["sendID"], "m2", "{msg}");
        assert_eq!(msg["recvID"], "", "{msg}");
        assert_eq!(msg["groupID"], "g1", "{msg}");
        assert_eq!(msg["sessionType"], GROUP, "{msg}");
        assert_eq!(msg["content"], text("to all"), "{msg}");
        assert_eq!(msg["seq"], data["seq"], "{msg}");
    }
    for ws in &mut sessions {
        ws.assert_quiet().await;
    }
    other.assert_quiet().await;
}

#[tokio::test]
async fn concurrent_group_sends_get_dense_seqs() {
    let server = Server::start();
    let ids: Vec<String> = (0..20).map(|i| format!("u{i:02}")).collect();
    let tokens: Vec<String> = join_all(ids.iter().map(|id| server.user(id))).await;
    let members: Vec<&str> = ids[1..].iter().map(String::as_str).collect();
    create_group(&server, &tokens[0], &ids[0], "big", &[], &members).await;

    let sends = ids.iter().zip(&tokens).flat_map(|(id, token)| {
        let server = &server;
        (0..5).map(move |i| async move { send(server, token, group_body(id, "big", &format!("{id}-{i}"))).await })
    });
    let replies = join_all(sends).await;
    let mut got: Vec<u64> = replies.iter().map(|r| ok(r.clone())["seq"].as_u64().unwrap()).collect();
    got.sort_unstable();
    assert_eq!(got, (1..=100).collect::<Vec<u64>>());

    let data = ok(newest(&server, &tokens[7], &ids[7]).await);
    assert_eq!(chats(&data, "maxSeqs"), json!({"sg_big": 100}), "{data}");
    let data = ok(pull(&server, &tokens[7], pull_body(&ids[7], "sg_big", 1, 100, 100, 0)).await);
    let msgs = &data["msgs"]["sg_big"]["Msgs"];
    assert_eq!(seqs(msgs), (1..=100).collect::<Vec<u64>>(), "{data}");
    assert_eq!(data["msgs"]["sg_big"]["isEnd"], true, "{data}");
    // Each send's text is stored at the seq its reply named.
    for reply in &replies {
        let receipt = &reply["data"];
        let seq = receipt["seq"].as_u64().unwrap() as usize;
        assert_eq!(
            msgs[seq - 1]["serverMsgID"],
            receipt["serverMsgID"],
            "{}",
            msgs[seq - 1]
        );
    }
}

#[tokio::test]
async fn a_client_back_online_recovers_over_websocket() {
    let server = Server::start();
    let [alice, bob] = users(&server, ["alice", "bob"]).await;
    let mut sent = Vec::new();
    for i in 1..=5 {
        let data = ok(send(
            &server,
            &alice,
            single_body("alice", "bob", &format!("m{i}"), &format!("c{i}")),
        )
        .await);
        sent.push(data);
    }
    let mut ws = Ws::open(&server, &bob, "bob").await;
    let reply = ws.request(WS_NEWEST_SEQ, json!({"userID": "bob"})).await;
    assert_eq!(reply["errCode"], 0, "{reply}");
    assert_eq!(reply["data"]["maxSeqs"], json!({"si_alice_bob": 5}), "{reply}");
    assert_eq!(reply["data"]["minSeqs"], json!({"si_alice_bob": 1}), "{reply}");

    let reply = ws
        .request(WS_PULL, pull_body("bob", "si_alice_bob", 1, 5, 100, 0))
        .await;
    assert_eq!(reply["errCode"], 0, "{reply}");
    let range = &reply["data"]["msgs"]["si_alice_bob"];
    assert_eq!(seqs(&range["Msgs"]), vec![1, 2, 3, 4, 5], "{reply}");
    assert_eq!(range["isEnd"], true, "{reply}");
    for (i, (msg, receipt)) in range["Msgs"].as_array().unwrap().iter().zip(&sent).enumerate() {
        assert_eq!(msg["serverMsgID"], receipt["serverMsgID"], "{msg}");
        assert_eq!(msg["content"], text(&format!("m{}", i + 1)), "{msg}");
    }

    // Errors come back as replies with the same codes as over HTTP.
    let reply = ws.request(WS_NEWEST_SEQ, json!({"userID": "alice"})).await;
    assert_eq!(reply["errCode"], 1002, "{reply}");
    assert_eq!(reply["data"], Value::Null, "{reply}");
    let reply = ws.request(WS_SEND, single_body("alice", "bob", "as alice", "")).await;
    assert_eq!(reply["errCode"], 1002, "{reply}");
    let reply = ws.request(4242, json!({})).await;
    assert_eq!(reply["errCode"], 1001, "{reply}");
    // Nothing was pushed (bob was offline, and nothing new was sent).
    ws.assert_quiet().await;
}

#[tokio::test]
async fn a_bad_token_closes_the_websocket_with_1008() {
    let server = Server::start();
    let [_alice] = users(&server, ["alice"]).await;
    let forged = token_with(
        json!({"userID": "alice", "platformID": 1, "tenant": TENANT, "iat": now_secs(), "exp": now_secs() + 3600}),
        "another-secret-0123456789abcdefgh",
    );
    for token in ["not-a-token", forged.as_str()] {
        let mut ws = Ws::open(&server, token, "alice").await;
        match ws.next_frame(WAIT).await {
            Some(Message::Close(Some(frame))) => {
                assert_eq!(u16::from(frame.code), 1008, "{frame:?}");
                assert!(frame.reason.as_str().starts_with("15"), "{frame:?}");
            }
            other => panic!("expected a close frame, got {other:?}"),
        }
    }
}

#[tokio::test]
async fn a_member_who_quit_sees_messages_up_to_leaving() {
    let server = Server::start();
    let [owner, bob] = users(&server, ["owner", "bob"]).await;
    create_group(&server, &owner, "owner", "g1", &[], &["bob"]).await;
    for i in 1..=3 {
        ok(send(&server, &owner, group_body("owner", "g1", &format!("before {i}"))).await);
    }
    let body = json!({"groupID": "g1", "userID": "bob"});
    ok(server.post("/group/quit_group", Some(&bob), body).await);
    for i in 4..=5 {
        ok(send(&server, &owner, group_body("owner", "g1", &format!("after {i}"))).await);
    }

    let data = ok(newest(&server, &bob, "bob").await);
    assert_eq!(chats(&data, "maxSeqs"), json!({"sg_g1": 3}), "{data}");
    let data = ok(newest(&server, &owner, "owner").await);
    assert_eq!(chats(&data, "maxSeqs"), json!({"sg_g1": 5}), "{data}");

    let data = ok(pull(&server, &bob, pull_body("bob", "sg_g1", 1, 10, 100, 0)).await);
    let range = &data["msgs"]["sg_g1"];
    assert_eq!(seqs(&range["Msgs"]), vec![1, 2, 3], "{data}");
    assert_eq!(range["Msgs"][2]["content"], text("before 3"), "{data}");
    assert_eq!(range["isEnd"], true, "{data}");
    let data = ok(pull(&server, &bob, pull_body("bob", "sg_g1", 4, 5, 100, 0)).await);
    assert_eq!(seqs(&data["msgs"]["sg_g1"]["Msgs"]), Vec::<u64>::new(), "{data}");
    let data = ok(pull(&server, &bob, pull_body("bob", "sg_g1", 1, 10, 2, 1)).await);
    assert_eq!(seqs(&data["msgs"]["sg_g1"]["Msgs"]), vec![3, 2], "{data}");
    // And a former member can no longer send.
    let reply = send(&server, &bob, group_body("bob", "g1", "still here?")).await;
    assert_eq!(reply["errCode"], 1203, "{reply}");
}

#[tokio::test]
async fn a_slow_reader_is_disconnected_while_a_fast_one_gets_everything() {
    const MESSAGES: u64 = 500;
    let server = Server::start();
    let [alice, bob] = users(&server, ["alice", "bob"]).await;
    let mut fast = Ws::connect(&server, &bob, "bob").await;
    // Connected, then never read: the server's queue for it must overflow.
    let mut slow = Ws::connect(&server, &bob, "bob").await;
    let reader = tokio::spawn(async move {
        let mut seqs = Vec::new();
        while (seqs.len() as u64) < MESSAGES {
            let push = fast
                .push_within(Duration::from_secs(60))
                .await
                .expect("fast reader pushed to");
            seqs.push(pushed_msg(&push, "si_alice_bob")["seq"].as_u64().unwrap());
        }
        seqs
    });
    // 60 KiB per message: the socket buffers fill after a few hundred.
    let bulk = "x".repeat(60 * 1024);
    let bodies: Vec<Value> = (1..=MESSAGES)
        .map(|n| single_body("alice", "bob", &format!("{n}{bulk}"), &format!("bulk-{n}")))
        .collect();
    // Sent 100 at a time, so the slow session starts reading well within
    // the 30 s the server waits on a blocked socket (or it would drop the
    // session without a close frame), even on a loaded CI machine.
    for chunk in bodies.chunks(100) {
        let replies = futures::future::join_all(chunk.iter().map(|b| send(&server, &alice, b.clone()))).await;
        for reply in replies {
            ok(reply);
        }
    }
    let mut seqs = reader.await.unwrap();
    seqs.sort();
    assert_eq!(
        seqs,
        (1..=MESSAGES).collect::<Vec<_>>(),
        "the fast reader got every message once"
    );

    // Closed for its overflowing queue; or, when the sends above took the
    // server's 30 s send limit on a loaded machine (even the close frame
    // could not get through), dropped without a close frame.
    if let Some(closed) = slow.until_closed(WAIT).await {
        assert_eq!(u16::from(closed.code), 1008, "{closed:?}");
        assert!(closed.reason.as_str().contains("overflowed"), "{closed:?}");
    }

    // The slow client comes back and recovers everything by pull.
    let mut back = Ws::connect(&server, &bob, "bob").await;
    let newest = back.request(1001, json!({"userID": "bob"})).await;
    assert_eq!(newest["data"]["maxSeqs"]["si_alice_bob"], MESSAGES, "{newest}");
    let pulled = back
        .request(1002, pull_body("bob", "si_alice_bob", 401, MESSAGES, 100, 0))
        .await;
    assert_eq!(seqs_of(&pulled), (401..=MESSAGES).collect::<Vec<_>>());
}

fn seqs_of(reply: &Value) -> Vec<u64> {
    seqs(&reply["data"]["msgs"]["si_alice_bob"]["Msgs"])
}

#[tokio::test]
async fn without_history_for_new_members_a_joiner_sees_only_later_messages() {
    let dir = tempfile::tempdir().unwrap();
    let server = Server::start_in(dir.path(), &["--group-history-for-new-members", "false"]);
    let [alice, bob] = users(&server, ["alice", "bob"]).await;
    create_group(&server, &alice, "alice", "g1", &[], &[]).await;
    for n in 1..=2 {
        ok(send(&server, &alice, group_body("alice", "g1", &format!("before {n}"))).await);
    }
    let join = json!({"groupID": "g1", "joinSource": 3});
    ok(server.post("/group/join_group", Some(&bob), join).await);
    ok(send(&server, &alice, group_body("alice", "g1", "after")).await);

    let seqs_of_bob = ok(newest(&server, &bob, "bob").await);
    assert_eq!(seqs_of_bob["maxSeqs"]["sg_g1"], 3, "{seqs_of_bob}");
    assert_eq!(seqs_of_bob["minSeqs"]["sg_g1"], 3, "{seqs_of_bob}");
    let pulled = ok(pull(&server, &bob, pull_body("bob", "sg_g1", 1, 3, 10, 0)).await);
    assert_eq!(seqs(&pulled["msgs"]["sg_g1"]["Msgs"]), [3]);
    // The owner, there from the start, sees everything.
    let pulled = ok(pull(&server, &alice, pull_body("alice", "sg_g1", 1, 3, 10, 0)).await);
    assert_eq!(seqs(&pulled["msgs"]["sg_g1"]["Msgs"]), [1, 2, 3]);
}

#[tokio::test]
async fn pushes_stay_within_their_tenant() {
    let server = Server::start();
    let [alice, bob] = users(&server, ["alice", "bob"]).await;
    assert_eq!(server.register_in("2000", "bob", "other bob").await["errCode"], 0);
    let other_bob = server.login_in("2000", "bob").await;
    let mut elsewhere = Ws::connect(&server, &other_bob, "bob").await;
    let mut here = Ws::connect(&server, &bob, "bob").await;
    ok(send(&server, &alice, single_body("alice", "bob", "hi", "t-1")).await);
    assert_eq!(pushed_msg(&here.push().await, "si_alice_bob")["clientMsgID"], "t-1");
    elsewhere.assert_quiet().await;
}

#[tokio::test]
async fn with_friend_verification_only_friends_exchange_messages() {
    let dir = tempfile::tempdir().unwrap();
    let server = Server::start_in(dir.path(), &["--friend-verify"]);
    let [alice, bob] = users(&server, ["alice", "bob"]).await;
    assert_err(
        &send(&server, &alice, single_body("alice", "bob", "hi", "f-1")).await,
        1303,
        "alice",
    );
    let ask = json!({"fromUserID": "alice", "toUserID": "bob", "reqMsg": "hi"});
    ok(server.post("/friend/add_friend", Some(&alice), ask).await);
    let agree = json!({"fromUserID": "alice", "toUserID": "bob", "handleResult": 1});
    ok(server.post("/friend/add_friend_response", Some(&bob), agree).await);
    assert_eq!(
        ok(send(&server, &alice, single_body("alice", "bob", "hi", "f-2")).await)["seq"],
        1
    );
    assert_eq!(
        ok(send(&server, &bob, single_body("bob", "alice", "hey", "f-3")).await)["seq"],
        2
    );
}

/// `si_a_c_a_c_a` would name both a_c + a_c_a and a_c_a + c_a: IDs with
/// `_` are refused for new users and groups, so every conversation ID names
/// one conversation (data from before the rule: `embedded::legacy_ids_*`).
#[tokio::test]
async fn new_user_and_group_ids_may_not_hold_underscores() {
    let server = Server::start();
    for id in ["a_c_a", "a_c", "_", "c_"] {
        let reply = server.register(id, "Someone").await;
        assert_err(&reply, 1001, "userID: must not contain '_'");
    }
    let owner = server.user("owner").await;
    let body = json!({"ownerUserID": "owner", "memberUserIDs": [],
        "groupInfo": {"groupID": "g_1", "groupName": "G", "groupType": 2}});
    assert_err(
        &server.post("/group/create_group", Some(&owner), body).await,
        1001,
        "groupInfo.groupID: must not contain '_'",
    );
    let [ac] = users(&server, ["ac"]).await;
    let sent = ok(send(&server, &ac, single_body("ac", "owner", "hi", "c-1")).await);
    assert_eq!(sent["conversationID"], "si_ac_owner");
}

/// Two members of a group may use the same clientMsgID: each gets its own
/// message (retries are matched per sender).
#[tokio::test]
async fn client_msg_ids_are_per_sender() {
    let server = Server::start();
    let [alice, bob] = users(&server, ["alice", "bob"]).await;
    create_group(&server, &alice, "alice", "g1", &[], &["bob"]).await;
    let body = |from: &str| {
        let mut body = group_body(from, "g1", &format!("from {from}"));
        body["clientMsgID"] = json!("1");
        body
    };
    let a = ok(send(&server, &alice, body("alice")).await);
    let b = ok(send(&server, &bob, body("bob")).await);
    assert_eq!((a["seq"].clone(), b["seq"].clone()), (json!(1), json!(2)));
    assert_eq!(
        ok(send(&server, &bob, body("bob")).await),
        b,
        "bob's retry gets bob's reply"
    );
    // An outsider reusing the ID gets no receipt, but its refusal.
    let [carol] = users(&server, ["carol"]).await;
    assert_err(&send(&server, &carol, body("carol")).await, 1203, "carol");
}

/// Without history for new members, a member who joined later is not
/// pushed what it may not pull: the revocation of an earlier message.
#[tokio::test]
async fn pushes_follow_what_each_member_may_see() {
    let dir = tempfile::tempdir().unwrap();
    let server = Server::start_in(dir.path(), &["--group-history-for-new-members", "false"]);
    let [alice, bob] = users(&server, ["alice", "bob"]).await;
    create_group(&server, &alice, "alice", "g1", &[], &[]).await;
    ok(send(&server, &alice, group_body("alice", "g1", "before bob")).await);
    let join = json!({"groupID": "g1", "joinSource": 3});
    ok(server.post("/group/join_group", Some(&bob), join).await);
    let mut bob_ws = Ws::connect(&server, &bob, "bob").await;
    let mut alice_ws = Ws::connect(&server, &alice, "alice").await;

    let revoke = json!({"conversationID": "sg_g1", "seq": 1, "userID": "alice"});
    ok(server.post("/msg/revoke_msg", Some(&alice), revoke).await);
    let revoked = pushed_msg(&alice_ws.push().await, "sg_g1");
    assert_eq!(revoked["contentType"], 2101, "{revoked}");
    bob_ws.assert_quiet().await;

    ok(send(&server, &alice, group_body("alice", "g1", "after bob")).await);
    assert_eq!(pushed_msg(&bob_ws.push().await, "sg_g1")["seq"], 2);
}

//! `/conversation/*` and the read-state side of `/msg/*`: exact unread
//! counts through scripted scenarios (one-to-one and a group joined late and
//! left), the order and paging of the conversation list (pins, equal
//! times), conversation settings, the revoke permission matrix, read
//! receipts and revoke pushes on a real WebSocket, per-user delete and
//! clear, and current profiles and group info in the list.

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::time::Duration;

use futures::future::join_all;
use serde_json::{json, Value};

use crate::chat::*;
use crate::harness::*;

/// contentType of a revoked message.
const REVOKED: i64 = 2101;

const ROLE_OWNER: i64 = 100;
const ROLE_ADMIN: i64 = 60;
const ROLE_MEMBER: i64 = 20;

const AB: &str = "si_alice_bob";

/// An error reply with this code (and no data).
#[track_caller]
fn refused(reply: &Value, code: i64) {
    assert_eq!(reply["errCode"], code, "{reply}");
    assert!(reply.get("data").is_none(), "errors carry no data: {reply}");
}

/// Sends; returns the receipt.
async fn sent(server: &Server, token: &str, body: Value) -> Value {
    ok(server.post("/msg/send_msg", Some(token), body).await)
}

/// `n` one-to-one messages; returns their receipts.
async fn send_n(server: &Server, token: &str, from: &str, to: &str, n: usize) -> Vec<Value> {
    let mut receipts = Vec::new();
    for _ in 0..n {
        receipts.push(sent(server, token, single_body(from, to, &format!("{from} to {to}"), "")).await);
    }
    receipts
}

async fn newest(server: &Server, token: &str, user: &str) -> Value {
    ok(server
        .post("/msg/newest_seq", Some(token), json!({ "userID": user }))
        .await)
}

fn pull_body(user: &str, conversation: &str, begin: u64, end: u64, num: u64) -> Value {
    json!({"userID": user, "order": 0,
        "seqRanges": [{"conversationID": conversation, "begin": begin, "end": end, "num": num}]})
}

/// The messages `user` may see in `conversation` (up to 100, from seq 1).
async fn visible(server: &Server, token: &str, user: &str, conversation: &str) -> Vec<Value> {
    let body = pull_body(user, conversation, 1, 1000, 100);
    let data = ok(server.post("/msg/pull_msg_by_seq", Some(token), body).await);
    data["msgs"][conversation]["Msgs"]
        .as_array()
        .unwrap_or_else(|| panic!("no Msgs: {data}"))
        .clone()
}

/// The seqs `user` may see in `conversation`.
async fn visible_seqs(server: &Server, token: &str, user: &str, conversation: &str) -> Vec<u64> {
    let msgs = visible(server, token, user, conversation).await;
    msgs.iter().map(|m| m["seq"].as_u64().unwrap()).collect()
}

/// One message as `user` pulls it.
async fn message_at(server: &Server, token: &str, user: &str, conversation: &str, seq: u64) -> Value {
    let body = pull_body(user, conversation, seq, seq, 1);
    let data = ok(server.post("/msg/pull_msg_by_seq", Some(token), body).await);
    let msgs = data["msgs"][conversation]["Msgs"].as_array().expect("Msgs");
    assert_eq!(msgs.len(), 1, "{user} sees message {seq} of {conversation}: {data}");
    msgs[0].clone()
}

async fn join_group(server: &Server, token: &str, group_id: &str) {
    let body = json!({"groupID": group_id, "joinSource": 3});
    ok(server.post("/group/join_group", Some(token), body).await);
}

async fn quit_group(server: &Server, token: &str, group_id: &str, user: &str) {
    let body = json!({"groupID": group_id, "userID": user});
    ok(server.post("/group/quit_group", Some(token), body).await);
}

async fn revoke(server: &Server, token: &str, user: &str, conversation: &str, seq: u64) -> Value {
    let body = json!({"conversationID": conversation, "seq": seq, "userID": user});
    server.post("/msg/revoke_msg", Some(token), body).await
}

async fn mark_msgs(server: &Server, token: &str, user: &str, conversation: &str, seqs: &[u64]) -> Value {
    let body = json!({"conversationID": conversation, "seqs": seqs, "userID": user});
    server.post("/msg/mark_msgs_as_read", Some(token), body).await
}

async fn mark_conversation(server: &Server, token: &str, user: &str, conversation: &str, has_read_seq: u64) -> Value {
    let body = json!({"conversationID": conversation, "userID": user, "hasReadSeq": has_read_seq});
    server.post("/msg/mark_conversation_as_read", Some(token), body).await
}

async fn clear(server: &Server, token: &str, user: &str, conversations: &[&str]) -> Value {
    let body = json!({"conversationIDs": conversations, "userID": user});
    server.post("/msg/clear_conversation_msg", Some(token), body).await
}

async fn delete(server: &Server, token: &str, user: &str, conversation: &str, seqs: &[u64]) -> Value {
    let body = json!({"conversationID": conversation, "seqs": seqs, "userID": user});
    server.post("/msg/delete_msgs", Some(token), body).await
}

async fn set_conversation(server: &Server, token: &str, user: &str, patch: Value) -> Value {
    let body = json!({"userID": user, "conversation": patch});
    server.post("/conversation/set_conversations", Some(token), body).await
}

/// get_pinned_conversation_ids or get_not_notify_conversation_ids, as a set.
async fn ids_of(server: &Server, token: &str, path: &str, user: &str) -> BTreeSet<String> {
    let data = ok(server.post(path, Some(token), json!({ "userID": user })).await);
    data["conversationIDs"]
        .as_array()
        .unwrap_or_else(|| panic!("no conversationIDs: {data}"))
        .iter()
        .map(|id| id.as_str().unwrap().to_owned())
        .collect()
}

const PINNED: &str = "/conversation/get_pinned_conversation_ids";
const NOT_NOTIFY: &str = "/conversation/get_not_notify_conversation_ids";

fn set_of(ids: &[&str]) -> BTreeSet<String> {
    ids.iter().map(|id| id.to_string()).collect()
}

async fn list_reply(server: &Server, token: &str, user: &str, extra: Value) -> Value {
    let mut body = json!({ "userID": user });
    for (k, v) in extra.as_object().expect("an object") {
        body[k] = v.clone();
    }
    server
        .post("/conversation/get_sorted_conversation_list", Some(token), body)
        .await
}

/// The whole list (one page of 100).
async fn list(server: &Server, token: &str, user: &str) -> Value {
    ok(list_reply(server, token, user, json!({"pagination": page(1, 100)})).await)
}

fn page(n: i64, size: i64) -> Value {
    json!({"pageNumber": n, "showNumber": size})
}

/// The conversation IDs of a list, in order.
fn order(list: &Value) -> Vec<String> {
    list["conversationElems"]
        .as_array()
        .unwrap_or_else(|| panic!("no conversationElems: {list}"))
        .iter()
        .map(|e| e["conversationID"].as_str().unwrap().to_owned())
        .collect()
}

/// The element of `conversation` in a list.
#[track_caller]
fn elem<'a>(list: &'a Value, conversation: &str) -> &'a Value {
    list["conversationElems"]
        .as_array()
        .unwrap_or_else(|| panic!("no conversationElems: {list}"))
        .iter()
        .find(|e| e["conversationID"] == conversation)
        .unwrap_or_else(|| panic!("{conversation} not listed: {list}"))
}

/// The parsed `content` (a JSON string) of a list element's msgInfo.
#[track_caller]
fn listed_content(elem: &Value) -> Value {
    let content = elem["msgInfo"]["content"]
        .as_str()
        .unwrap_or_else(|| panic!("content is a JSON string: {elem}"));
    serde_json::from_str(content).unwrap_or_else(|e| panic!("content {content:?} is not JSON ({e}): {elem}"))
}

/// msgInfo as it reads when the user sees no message of the conversation.
#[track_caller]
fn assert_no_message(elem: &Value) {
    let info = &elem["msgInfo"];
    assert_eq!(info["serverMsgID"], "", "{elem}");
    assert_eq!(info["clientMsgID"], "", "{elem}");
    assert_eq!(info["sendID"], "", "{elem}");
    assert_eq!(info["LatestMsgRecvTime"], 0, "{elem}");
    assert_eq!(info["contentType"], 0, "{elem}");
    assert_eq!(info["content"], "", "{elem}");
}

/// Asserts the user's unreadTotal and the unreadCount of every conversation
/// of its list (exactly these conversations are listed).
async fn expect_unread(server: &Server, token: &str, user: &str, step: &str, total: u64, counts: &[(&str, u64)]) {
    let data = list(server, token, user).await;
    let got: BTreeMap<String, Option<u64>> = data["conversationElems"]
        .as_array()
        .unwrap_or_else(|| panic!("{step}: no conversationElems: {data}"))
        .iter()
        .map(|e| {
            (
                e["conversationID"].as_str().unwrap().to_owned(),
                e["unreadCount"].as_u64(),
            )
        })
        .collect();
    let want: BTreeMap<String, Option<u64>> = counts.iter().map(|(c, n)| (c.to_string(), Some(*n))).collect();
    assert_eq!(
        (data["unreadTotal"].as_u64(), got),
        (Some(total), want),
        "{step}: unread counts of {user}: {data}"
    );
    assert_eq!(data["conversationTotal"], counts.len(), "{step}: {data}");
}

/// The content of a revoked message: exactly these fields, no original content.
#[track_caller]
fn assert_revoked(
    msg: &Value,
    revoker: &str,
    role: i64,
    sender: &str,
    client_msg_id: &str,
    seq: u64,
    window: (i64, i64),
) {
    assert_eq!(msg["contentType"], REVOKED, "{msg}");
    assert_eq!(msg["seq"], seq, "{msg}");
    assert_eq!(msg["sendID"], sender, "{msg}");
    assert_eq!(msg["clientMsgID"], client_msg_id, "{msg}");
    let content = &msg["content"];
    let keys: BTreeSet<&str> = content
        .as_object()
        .unwrap_or_else(|| panic!("content is an object: {msg}"))
        .keys()
        .map(String::as_str)
        .collect();
    let want: BTreeSet<&str> = [
        "revokerUserID",
        "revokerRole",
        "revokeTime",
        "clientMsgID",
        "seq",
        "sourceMessageSendID",
    ]
    .into();
    assert_eq!(keys, want, "{msg}");
    assert_eq!(content["revokerUserID"], revoker, "{msg}");
    assert_eq!(content["revokerRole"], role, "{msg}");
    assert_eq!(content["clientMsgID"], client_msg_id, "{msg}");
    assert_eq!(content["seq"], seq, "{msg}");
    assert_eq!(content["sourceMessageSendID"], sender, "{msg}");
    let at = content["revokeTime"]
        .as_i64()
        .unwrap_or_else(|| panic!("revokeTime: {msg}"));
    assert!(
        (window.0..=window.1).contains(&at),
        "revokeTime {at} not in {window:?}: {msg}"
    );
}

/// The order the list must have: pinned first, then the latest message's
/// time descending, then conversation ID ascending.
fn expected_order(entries: &[(String, bool, i64)]) -> Vec<String> {
    let mut sorted = entries.to_vec();
    sorted.sort_by(|a, b| (!a.1, -a.2, &a.0).cmp(&(!b.1, -b.2, &b.0)));
    sorted.into_iter().map(|(id, _, _)| id).collect()
}

#[tokio::test]
async fn one_to_one_unread_counts_are_exact_after_every_step() {
    let server = Server::start();
    let [alice, bob, carol] = users(&server, ["alice", "bob", "carol"]).await;
    const BC: &str = "si_bob_carol";

    expect_unread(&server, &bob, "bob", "nothing sent", 0, &[]).await;

    send_n(&server, &alice, "alice", "bob", 3).await; // seqs 1..=3
    expect_unread(&server, &bob, "bob", "alice sent 3", 3, &[(AB, 3)]).await;
    expect_unread(&server, &alice, "alice", "alice sent 3", 0, &[(AB, 0)]).await;

    send_n(&server, &carol, "carol", "bob", 2).await; // BC seqs 1..=2
    expect_unread(&server, &bob, "bob", "carol sent 2", 5, &[(AB, 3), (BC, 2)]).await;
    expect_unread(&server, &carol, "carol", "carol sent 2", 0, &[(BC, 0)]).await;

    // Bob's reply marks everything before it read; alice has it unread.
    send_n(&server, &bob, "bob", "alice", 1).await; // seq 4
    expect_unread(&server, &bob, "bob", "bob replied", 2, &[(AB, 0), (BC, 2)]).await;
    expect_unread(&server, &alice, "alice", "bob replied", 1, &[(AB, 1)]).await;

    // Alice's own messages never count for her, and mark bob's reply read.
    send_n(&server, &alice, "alice", "bob", 4).await; // seqs 5..=8
    expect_unread(&server, &bob, "bob", "alice sent 4 more", 6, &[(AB, 4), (BC, 2)]).await;
    expect_unread(&server, &alice, "alice", "alice sent 4 more", 0, &[(AB, 0)]).await;

    ok(mark_msgs(&server, &bob, "bob", AB, &[5, 6]).await);
    expect_unread(&server, &bob, "bob", "bob read 5 and 6", 4, &[(AB, 2), (BC, 2)]).await;

    // Lower seqs never lower the read position.
    ok(mark_msgs(&server, &bob, "bob", AB, &[5]).await);
    expect_unread(&server, &bob, "bob", "bob read 5 again", 4, &[(AB, 2), (BC, 2)]).await;
    // A seq beyond the newest message is refused, with the valid ones.
    refused(&mark_msgs(&server, &bob, "bob", AB, &[9]).await, 1001);
    refused(&mark_msgs(&server, &bob, "bob", AB, &[7, 9]).await, 1001);
    expect_unread(&server, &bob, "bob", "bob read 9 (refused)", 4, &[(AB, 2), (BC, 2)]).await;

    send_n(&server, &alice, "alice", "bob", 3).await; // seqs 9..=11
    expect_unread(&server, &bob, "bob", "alice sent 3 more", 7, &[(AB, 5), (BC, 2)]).await;

    ok(mark_conversation(&server, &bob, "bob", AB, 8).await);
    expect_unread(&server, &bob, "bob", "bob read up to 8", 5, &[(AB, 3), (BC, 2)]).await;
    ok(mark_conversation(&server, &bob, "bob", AB, 7).await);
    expect_unread(&server, &bob, "bob", "bob read up to 7", 5, &[(AB, 3), (BC, 2)]).await;
    refused(&mark_conversation(&server, &bob, "bob", AB, 12).await, 1001);
    expect_unread(
        &server,
        &bob,
        "bob",
        "bob read up to 12 (refused)",
        5,
        &[(AB, 3), (BC, 2)],
    )
    .await;

    // A revoked message no longer counts.
    ok(revoke(&server, &alice, "alice", AB, 10).await);
    expect_unread(&server, &bob, "bob", "alice revoked 10", 4, &[(AB, 2), (BC, 2)]).await;
    expect_unread(&server, &alice, "alice", "alice revoked 10", 0, &[(AB, 0)]).await;

    // Nor does a deleted one.
    ok(delete(&server, &bob, "bob", AB, &[11]).await);
    expect_unread(&server, &bob, "bob", "bob deleted 11", 3, &[(AB, 1), (BC, 2)]).await;
    refused(&delete(&server, &bob, "bob", AB, &[9, 12]).await, 1004);
    expect_unread(
        &server,
        &bob,
        "bob",
        "bob deleted 9 and 12 (refused)",
        3,
        &[(AB, 1), (BC, 2)],
    )
    .await;
    // Deleting a read message or a revoked one changes nothing.
    ok(delete(&server, &bob, "bob", AB, &[2]).await);
    expect_unread(&server, &bob, "bob", "bob deleted 2 (read)", 3, &[(AB, 1), (BC, 2)]).await;
    ok(delete(&server, &bob, "bob", AB, &[10]).await);
    expect_unread(&server, &bob, "bob", "bob deleted 10 (revoked)", 3, &[(AB, 1), (BC, 2)]).await;
    expect_unread(&server, &alice, "alice", "bob deleted", 0, &[(AB, 0)]).await;

    send_n(&server, &alice, "alice", "bob", 2).await; // seqs 12..=13
    expect_unread(&server, &bob, "bob", "alice sent 2 more", 5, &[(AB, 3), (BC, 2)]).await;

    ok(clear(&server, &bob, "bob", &[AB, BC]).await);
    expect_unread(&server, &bob, "bob", "bob cleared both", 0, &[(AB, 0), (BC, 0)]).await;
    expect_unread(&server, &alice, "alice", "bob cleared both", 0, &[(AB, 0)]).await;
    expect_unread(&server, &carol, "carol", "bob cleared both", 0, &[(BC, 0)]).await;

    send_n(&server, &alice, "alice", "bob", 1).await; // seq 14
    expect_unread(
        &server,
        &bob,
        "bob",
        "alice sent after the clear",
        1,
        &[(AB, 1), (BC, 0)],
    )
    .await;
    send_n(&server, &carol, "carol", "bob", 1).await; // BC seq 3
    expect_unread(
        &server,
        &bob,
        "bob",
        "carol sent after the clear",
        2,
        &[(AB, 1), (BC, 1)],
    )
    .await;

    send_n(&server, &bob, "bob", "alice", 1).await; // seq 15
    expect_unread(&server, &bob, "bob", "bob replied again", 1, &[(AB, 0), (BC, 1)]).await;
    expect_unread(&server, &alice, "alice", "bob replied again", 1, &[(AB, 1)]).await;

    ok(mark_conversation(&server, &alice, "alice", AB, 15).await);
    expect_unread(&server, &alice, "alice", "alice read up to 15", 0, &[(AB, 0)]).await;
    ok(mark_msgs(&server, &bob, "bob", BC, &[3]).await);
    expect_unread(&server, &bob, "bob", "bob read carol's 3", 0, &[(AB, 0), (BC, 0)]).await;
}

#[tokio::test]
async fn group_unread_counts_from_joining_late_to_leaving() {
    let server = Server::start();
    let [owner, m1, joiner] = users(&server, ["owner", "m1", "joiner"]).await;
    const G: &str = "sg_g1";
    create_group(&server, &owner, "owner", "g1", &[], &["m1"]).await;
    // A conversation without messages is not listed.
    expect_unread(&server, &owner, "owner", "no message yet", 0, &[]).await;
    expect_unread(&server, &m1, "m1", "no message yet", 0, &[]).await;

    for i in 1..=3 {
        sent(&server, &owner, group_body("owner", "g1", &format!("before {i}"))).await;
    }
    expect_unread(&server, &m1, "m1", "owner sent 3", 3, &[(G, 3)]).await;
    expect_unread(&server, &owner, "owner", "owner sent 3", 0, &[(G, 0)]).await;
    expect_unread(&server, &joiner, "joiner", "before joining", 0, &[]).await;

    // History from before joining is visible, but not unread.
    join_group(&server, &joiner, "g1").await;
    expect_unread(&server, &joiner, "joiner", "joined", 0, &[(G, 0)]).await;
    assert_eq!(visible_seqs(&server, &joiner, "joiner", G).await, [1, 2, 3]);

    sent(&server, &owner, group_body("owner", "g1", "after joining")).await; // seq 4
    expect_unread(&server, &joiner, "joiner", "owner sent 1", 1, &[(G, 1)]).await;
    expect_unread(&server, &m1, "m1", "owner sent 1", 4, &[(G, 4)]).await;

    sent(&server, &m1, group_body("m1", "g1", "m1 here")).await; // seq 5
    expect_unread(&server, &m1, "m1", "m1 sent", 0, &[(G, 0)]).await;
    expect_unread(&server, &joiner, "joiner", "m1 sent", 2, &[(G, 2)]).await;
    expect_unread(&server, &owner, "owner", "m1 sent", 1, &[(G, 1)]).await;

    ok(mark_msgs(&server, &joiner, "joiner", G, &[4]).await);
    expect_unread(&server, &joiner, "joiner", "joiner read 4", 1, &[(G, 1)]).await;

    // Messages after leaving never count.
    quit_group(&server, &joiner, "g1", "joiner").await;
    expect_unread(&server, &joiner, "joiner", "joiner left", 1, &[(G, 1)]).await;
    for i in 6..=7 {
        sent(
            &server,
            &owner,
            group_body("owner", "g1", &format!("after leaving {i}")),
        )
        .await;
    }
    expect_unread(
        &server,
        &joiner,
        "joiner",
        "owner sent 2 after joiner left",
        1,
        &[(G, 1)],
    )
    .await;
    expect_unread(&server, &m1, "m1", "owner sent 2 after joiner left", 2, &[(G, 2)]).await;
    expect_unread(&server, &owner, "owner", "owner sent 2 after joiner left", 0, &[(G, 0)]).await;
    assert_eq!(visible_seqs(&server, &joiner, "joiner", G).await, [1, 2, 3, 4, 5]);

    // A former member may still mark what it saw read.
    ok(mark_conversation(&server, &joiner, "joiner", G, 5).await);
    expect_unread(&server, &joiner, "joiner", "joiner read up to 5", 0, &[(G, 0)]).await;
    ok(mark_conversation(&server, &m1, "m1", G, 6).await);
    expect_unread(&server, &m1, "m1", "m1 read up to 6", 1, &[(G, 1)]).await;
}

#[tokio::test]
async fn the_list_is_pinned_first_then_newest_first() {
    let server = Server::start();
    let [alice, bob, _carol, _dave] = users(&server, ["alice", "bob", "carol", "dave"]).await;
    create_group(&server, &alice, "alice", "g1", &[], &["bob"]).await;
    let mut times: HashMap<String, i64> = HashMap::new();
    for (conversation, body) in [
        (AB, single_body("alice", "bob", "1", "")),
        ("si_alice_carol", single_body("alice", "carol", "2", "")),
        ("si_alice_dave", single_body("alice", "dave", "3", "")),
        ("sg_g1", group_body("alice", "g1", "4")),
    ] {
        let receipt = sent(&server, &alice, body).await;
        times.insert(conversation.to_owned(), receipt["sendTime"].as_i64().unwrap());
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    let mut pinned: BTreeSet<String> = BTreeSet::new();
    let expect = |pinned: &BTreeSet<String>, times: &HashMap<String, i64>| {
        let entries: Vec<(String, bool, i64)> =
            times.iter().map(|(c, t)| (c.clone(), pinned.contains(c), *t)).collect();
        expected_order(&entries)
    };

    let data = list(&server, &alice, "alice").await;
    assert_eq!(order(&data), ["sg_g1", "si_alice_dave", "si_alice_carol", AB], "{data}");
    assert_eq!(order(&data), expect(&pinned, &times));
    for (conversation, time) in &times {
        assert_eq!(
            elem(&data, conversation)["msgInfo"]["LatestMsgRecvTime"],
            *time,
            "{data}"
        );
        assert_eq!(elem(&data, conversation)["IsPinned"], false, "{data}");
    }
    assert_eq!(data["conversationTotal"], 4, "{data}");

    ok(set_conversation(
        &server,
        &alice,
        "alice",
        json!({"conversationID": AB, "isPinned": true}),
    )
    .await);
    pinned.insert(AB.to_owned());
    let data = list(&server, &alice, "alice").await;
    assert_eq!(order(&data), [AB, "sg_g1", "si_alice_dave", "si_alice_carol"], "{data}");
    assert_eq!(elem(&data, AB)["IsPinned"], true, "{data}");

    let patch = json!({"conversationID": "si_alice_carol", "isPinned": true});
    ok(set_conversation(&server, &alice, "alice", patch).await);
    pinned.insert("si_alice_carol".to_owned());
    let data = list(&server, &alice, "alice").await;
    assert_eq!(order(&data), ["si_alice_carol", AB, "sg_g1", "si_alice_dave"], "{data}");

    // A new message moves its conversation up among the pinned ones.
    let receipt = sent(&server, &bob, single_body("bob", "alice", "5", "")).await;
    times.insert(AB.to_owned(), receipt["sendTime"].as_i64().unwrap());
    let data = list(&server, &alice, "alice").await;
    assert_eq!(order(&data), [AB, "si_alice_carol", "sg_g1", "si_alice_dave"], "{data}");
    assert_eq!(order(&data), expect(&pinned, &times));
    assert_eq!(elem(&data, AB)["msgInfo"]["LatestMsgRecvTime"], times[AB], "{data}");

    let patch = json!({"conversationID": "si_alice_carol", "isPinned": false});
    ok(set_conversation(&server, &alice, "alice", patch).await);
    let data = list(&server, &alice, "alice").await;
    assert_eq!(order(&data), [AB, "sg_g1", "si_alice_dave", "si_alice_carol"], "{data}");

    // Pins are alice's own: bob's list is by time only.
    let data = list(&server, &bob, "bob").await;
    assert_eq!(order(&data), [AB, "sg_g1"], "{data}");
    assert_eq!(elem(&data, AB)["IsPinned"], false, "{data}");

    // Only some conversations.
    let only = json!({"conversationIDs": ["si_alice_carol", "si_alice_dave"]});
    let data = ok(list_reply(&server, &alice, "alice", only).await);
    assert_eq!(order(&data), ["si_alice_dave", "si_alice_carol"], "{data}");
    assert_eq!(data["conversationTotal"], 2, "{data}");

    // Only one's own list, or an app admin.
    refused(&list_reply(&server, &bob, "alice", json!({})).await, 1002);
    let data = ok(list_reply(&server, &admin_token(), "alice", json!({})).await);
    assert_eq!(order(&data), [AB, "sg_g1", "si_alice_dave", "si_alice_carol"], "{data}");
}

#[tokio::test]
async fn equal_times_lose_no_conversation_across_pages() {
    const PEERS: usize = 24;
    let server = Server::start();
    let alice = server.user("alice").await;
    let peers: Vec<String> = (0..PEERS).map(|i| format!("p{i:02}")).collect();
    join_all(peers.iter().map(|p| server.user(p))).await;
    let conversation = |peer: &str| format!("si_alice_{peer}");

    // Concurrent sends to every peer, until some latest messages share a time.
    let mut times: HashMap<String, i64> = HashMap::new();
    let mut ties = 0;
    for _round in 0..5 {
        let receipts = join_all(
            peers
                .iter()
                .map(|p| sent(&server, &alice, single_body("alice", p, "hi", ""))),
        )
        .await;
        for receipt in receipts {
            times.insert(
                receipt["conversationID"].as_str().unwrap().to_owned(),
                receipt["sendTime"].as_i64().unwrap(),
            );
        }
        let mut per_time: HashMap<i64, usize> = HashMap::new();
        for t in times.values() {
            *per_time.entry(*t).or_default() += 1;
        }
        ties = per_time.values().copied().filter(|n| *n > 1).sum::<usize>();
        if ties > 0 {
            break;
        }
    }
    eprintln!("{ties} of {PEERS} conversations share their latest time with another");

    // Pin two (the conversation IDs in the middle of the range).
    let pinned: BTreeSet<String> = [conversation("p03"), conversation("p20")].into();
    for c in &pinned {
        ok(set_conversation(&server, &alice, "alice", json!({"conversationID": c, "isPinned": true})).await);
    }
    let entries: Vec<(String, bool, i64)> = times.iter().map(|(c, t)| (c.clone(), pinned.contains(c), *t)).collect();
    let expected = expected_order(&entries);
    assert_eq!(expected.len(), PEERS);

    let data = list(&server, &alice, "alice").await;
    assert_eq!(order(&data), expected, "{data}");
    assert_eq!(data["conversationTotal"], PEERS, "{data}");
    for (c, t) in &times {
        assert_eq!(elem(&data, c)["msgInfo"]["LatestMsgRecvTime"], *t, "{data}");
    }

    // Without pagination: the first 20.
    let data = ok(list_reply(&server, &alice, "alice", json!({})).await);
    assert_eq!(order(&data), expected[..20], "{data}");
    assert_eq!(data["conversationTotal"], PEERS, "{data}");
    assert_eq!(data["unreadTotal"], 0, "{data}");
    let data = ok(list_reply(&server, &alice, "alice", json!({"pagination": page(2, 20)})).await);
    assert_eq!(order(&data), expected[20..], "{data}");

    // Page by page, every conversation exactly once, in order.
    for size in [1, 5, 7] {
        let mut walked = Vec::new();
        let mut n = 1;
        loop {
            let data = ok(list_reply(&server, &alice, "alice", json!({"pagination": page(n, size)})).await);
            assert_eq!(data["conversationTotal"], PEERS, "{data}");
            let got = order(&data);
            if got.is_empty() {
                break;
            }
            assert!(got.len() <= size as usize, "{data}");
            walked.extend(got);
            n += 1;
        }
        assert_eq!(walked, expected, "pages of {size}");
        let distinct: BTreeSet<&String> = walked.iter().collect();
        assert_eq!(distinct.len(), PEERS, "pages of {size}");
    }
}

#[tokio::test]
async fn group_revoke_permission_matrix() {
    let server = Server::start();
    let [owner, a1, a2, m1, m2] = users(&server, ["owner", "a1", "a2", "m1", "m2"]).await;
    let admin = admin_token();
    create_group(&server, &owner, "owner", "g1", &["a1", "a2"], &["m1", "m2"]).await;
    const G: &str = "sg_g1";
    let senders = [("owner", &owner), ("a1", &a1), ("a2", &a2), ("m1", &m1), ("m2", &m2)];
    // (caller, token, userID, role of userID, whose messages it may revoke)
    let revokers: [(&str, &String, &str, i64, &[&str]); 5] = [
        ("owner", &owner, "owner", ROLE_OWNER, &["owner", "a1", "a2", "m1", "m2"]),
        ("a1", &a1, "a1", ROLE_ADMIN, &["a1", "m1", "m2"]),
        ("m1", &m1, "m1", ROLE_MEMBER, &["m1"]),
        ("m2", &m2, "m2", ROLE_MEMBER, &["m2"]),
        // An app admin, acting for an ordinary member.
        (
            "app admin",
            &admin,
            "m2",
            ROLE_MEMBER,
            &["owner", "a1", "a2", "m1", "m2"],
        ),
    ];
    let mut wrong = Vec::new();
    for (caller, token, user, role, may) in revokers {
        for (sender, sender_token) in senders {
            let receipt = sent(&server, sender_token, group_body(sender, "g1", "revocable?")).await;
            let seq = receipt["seq"].as_u64().unwrap();
            let before = now_ms();
            let reply = revoke(&server, token, user, G, seq).await;
            let after = now_ms();
            let allowed = may.contains(&sender);
            let want = if allowed { 0 } else { 1002 };
            if reply["errCode"] != want {
                wrong.push(format!(
                    "{caller} (userID {user}) revoking {sender}'s message: expected {want}, got {reply}"
                ));
                continue;
            }
            let msg = message_at(&server, &m1, "m1", G, seq).await;
            let client_msg_id = receipt["clientMsgID"].as_str().unwrap();
            if allowed {
                assert_revoked(&msg, user, role, sender, client_msg_id, seq, (before, after));
            } else {
                assert!(reply.get("data").is_none(), "{reply}");
                assert_eq!(msg["contentType"], TEXT, "{msg}");
                assert_eq!(msg["content"], text("revocable?"), "{msg}");
            }
        }
    }
    assert!(wrong.is_empty(), "{}", wrong.join("\n"));

    // Unknown seq, already revoked, seq 0.
    let receipt = sent(&server, &m1, group_body("m1", "g1", "last")).await;
    let seq = receipt["seq"].as_u64().unwrap();
    refused(&revoke(&server, &m1, "m1", G, seq + 1).await, 1004);
    refused(&revoke(&server, &m1, "m1", G, 999).await, 1004);
    ok(revoke(&server, &m1, "m1", G, seq).await);
    refused(&revoke(&server, &m1, "m1", G, seq).await, 1404);
    refused(&revoke(&server, &owner, "owner", G, seq).await, 1404);
    refused(&revoke(&server, &m1, "m1", G, 0).await, 1001);

    // The sender only while a member.
    let receipt = sent(&server, &m2, group_body("m2", "g1", "then I left")).await;
    let seq = receipt["seq"].as_u64().unwrap();
    quit_group(&server, &m2, "g1", "m2").await;
    refused(&revoke(&server, &m2, "m2", G, seq).await, 1002);
    assert_eq!(message_at(&server, &m1, "m1", G, seq).await["contentType"], TEXT);
}

#[tokio::test]
async fn one_to_one_revoke_rules() {
    let server = Server::start();
    let [alice, bob, carol] = users(&server, ["alice", "bob", "carol"]).await;
    let first = sent(&server, &alice, single_body("alice", "bob", "oops", "cm-1")).await;
    let second = sent(&server, &bob, single_body("bob", "alice", "hm?", "cm-2")).await;
    assert_eq!((first["seq"].as_u64(), second["seq"].as_u64()), (Some(1), Some(2)));

    // Only the sender.
    refused(&revoke(&server, &bob, "bob", AB, 1).await, 1002);
    refused(&revoke(&server, &alice, "alice", AB, 2).await, 1002);
    // Not for someone else, nor from outside.
    refused(&revoke(&server, &bob, "alice", AB, 1).await, 1002);
    refused(&revoke(&server, &carol, "carol", AB, 1).await, 1002);
    assert_eq!(message_at(&server, &bob, "bob", AB, 1).await["content"], text("oops"));

    let before = now_ms();
    ok(revoke(&server, &alice, "alice", AB, 1).await);
    let after = now_ms();
    for (user, token) in [("alice", &alice), ("bob", &bob)] {
        let msg = message_at(&server, token, user, AB, 1).await;
        assert_revoked(&msg, "alice", 0, "alice", "cm-1", 1, (before, after));
        assert_eq!(msg["serverMsgID"], first["serverMsgID"], "{msg}");
    }
    refused(&revoke(&server, &alice, "alice", AB, 1).await, 1404);
    refused(&revoke(&server, &alice, "alice", AB, 3).await, 1004);
    refused(&revoke(&server, &alice, "alice", "si_alice_carol", 1).await, 1004);

    // An app admin may revoke any message.
    ok(revoke(&server, &admin_token(), "alice", AB, 2).await);
    let msg = message_at(&server, &alice, "alice", AB, 2).await;
    assert_eq!(msg["contentType"], REVOKED, "{msg}");
    assert_eq!(msg["content"]["sourceMessageSendID"], "bob", "{msg}");
    assert_eq!(msg["content"]["clientMsgID"], "cm-2", "{msg}");

    // The list shows a revoked latest message as such.
    for (user, token) in [("alice", &alice), ("bob", &bob)] {
        let data = list(&server, token, user).await;
        let info = &elem(&data, AB)["msgInfo"];
        assert_eq!(info["contentType"], REVOKED, "{data}");
        assert_eq!(info["serverMsgID"], second["serverMsgID"], "{data}");
        let content = listed_content(elem(&data, AB));
        assert_eq!(content["sourceMessageSendID"], "bob", "{data}");
        assert_eq!(content["seq"], 2, "{data}");
        assert!(content.get("content").is_none(), "no original content: {data}");
        assert_eq!(elem(&data, AB)["unreadCount"], 0, "{data}");
    }
}

#[tokio::test]
async fn marking_read_pushes_a_read_receipt_to_both_users() {
    let server = Server::start();
    let [alice, bob, carol] = users(&server, ["alice", "bob", "carol"]).await;
    // Online first: with Kafka, a message sent just before a session opens
    // may still be pushed to it a moment later.
    let mut a1 = Ws::connect(&server, &alice, "alice").await;
    let mut b1 = Ws::connect(&server, &bob, "bob").await;
    let mut b2 = Ws::connect(&server, &bob, "bob").await;
    let mut c1 = Ws::connect(&server, &carol, "carol").await;
    send_n(&server, &alice, "alice", "bob", 3).await;
    for ws in [&mut a1, &mut b1, &mut b2] {
        for seq in 1..=3 {
            assert_eq!(pushed_msg(&ws.pushed(WS_PUSH).await, AB)["seq"], seq);
        }
    }

    ok(mark_msgs(&server, &bob, "bob", AB, &[1, 2]).await);
    for ws in [&mut a1, &mut b1, &mut b2] {
        let frame = ws.pushed(WS_READ_RECEIPT).await;
        let want = json!({"conversationID": AB, "userID": "bob", "hasReadSeq": 2, "seqs": [1, 2]});
        assert_eq!(frame["data"], want, "{} got {frame}", ws.user);
    }
    ok(mark_conversation(&server, &bob, "bob", AB, 3).await);
    for ws in [&mut a1, &mut b1, &mut b2] {
        let frame = ws.pushed(WS_READ_RECEIPT).await;
        let want = json!({"conversationID": AB, "userID": "bob", "hasReadSeq": 3, "seqs": []});
        assert_eq!(frame["data"], want, "{} got {frame}", ws.user);
    }
    // A lower read position changes nothing, and nothing is pushed.
    ok(mark_conversation(&server, &bob, "bob", AB, 1).await);
    // A refused one neither.
    refused(&mark_conversation(&server, &bob, "bob", AB, 4).await, 1001);
    for ws in [&mut a1, &mut b1, &mut b2] {
        ws.assert_quiet().await;
    }

    // And the other way round.
    let reply = sent(&server, &bob, single_body("bob", "alice", "read?", "r-4")).await;
    for ws in [&mut a1, &mut b1, &mut b2] {
        let msg = pushed_msg(&ws.pushed(WS_PUSH).await, AB);
        assert_eq!(msg["serverMsgID"], reply["serverMsgID"], "{msg}");
    }
    ok(mark_msgs(&server, &alice, "alice", AB, &[4]).await);
    for ws in [&mut a1, &mut b1, &mut b2] {
        let frame = ws.pushed(WS_READ_RECEIPT).await;
        let want = json!({"conversationID": AB, "userID": "alice", "hasReadSeq": 4, "seqs": [4]});
        assert_eq!(frame["data"], want, "{} got {frame}", ws.user);
    }
    // Nobody else hears of it.
    c1.assert_quiet().await;
}

#[tokio::test]
async fn a_revocation_is_pushed_to_the_users_of_the_conversation() {
    let server = Server::start();
    let [alice, bob, carol] = users(&server, ["alice", "bob", "carol"]).await;
    // Online first: with Kafka, a message sent just before a session opens
    // may still be pushed to it a moment later.
    let mut a1 = Ws::connect(&server, &alice, "alice").await;
    let mut b1 = Ws::connect(&server, &bob, "bob").await;
    let mut c1 = Ws::connect(&server, &carol, "carol").await;
    let receipt = sent(&server, &alice, single_body("alice", "bob", "take back", "r-1")).await;
    sent(&server, &alice, single_body("alice", "bob", "keep", "r-2")).await;
    for ws in [&mut a1, &mut b1] {
        for client_msg_id in ["r-1", "r-2"] {
            assert_eq!(pushed_msg(&ws.pushed(WS_PUSH).await, AB)["clientMsgID"], client_msg_id);
        }
    }

    let before = now_ms();
    ok(revoke(&server, &alice, "alice", AB, 1).await);
    let after = now_ms();
    let pulled = message_at(&server, &bob, "bob", AB, 1).await;
    for ws in [&mut a1, &mut b1] {
        let msg = pushed_msg(&ws.pushed(WS_PUSH).await, AB);
        assert_revoked(&msg, "alice", 0, "alice", "r-1", 1, (before, after));
        assert_eq!(msg["serverMsgID"], receipt["serverMsgID"], "{msg}");
        assert_eq!(msg, pulled, "the push is the message as pulled now");
    }
    c1.assert_quiet().await;

    // In a group: every member's sessions.
    create_group(&server, &alice, "alice", "g1", &[], &["bob"]).await;
    let receipt = sent(&server, &bob, group_body("bob", "g1", "hello group")).await;
    for ws in [&mut a1, &mut b1] {
        let msg = pushed_msg(&ws.pushed(WS_PUSH).await, "sg_g1");
        assert_eq!(msg["serverMsgID"], receipt["serverMsgID"], "{msg}");
    }
    let before = now_ms();
    ok(revoke(&server, &alice, "alice", "sg_g1", 1).await);
    let after = now_ms();
    let client_msg_id = receipt["clientMsgID"].as_str().unwrap();
    for ws in [&mut a1, &mut b1] {
        let msg = pushed_msg(&ws.pushed(WS_PUSH).await, "sg_g1");
        assert_revoked(&msg, "alice", ROLE_OWNER, "bob", client_msg_id, 1, (before, after));
    }
    c1.assert_quiet().await;
    a1.assert_quiet().await;
    b1.assert_quiet().await;
}

#[tokio::test]
async fn delete_and_clear_are_invisible_to_the_other_users() {
    let server = Server::start();
    let [alice, bob] = users(&server, ["alice", "bob"]).await;
    let mut receipts = Vec::new();
    for (from, token, to) in [
        ("alice", &alice, "bob"),
        ("alice", &alice, "bob"),
        ("bob", &bob, "alice"),
        ("alice", &alice, "bob"),
        ("bob", &bob, "alice"),
    ] {
        receipts.extend(send_n(&server, token, from, to, 1).await);
    }

    ok(delete(&server, &bob, "bob", AB, &[2, 5]).await);
    assert_eq!(visible_seqs(&server, &bob, "bob", AB).await, [1, 3, 4]);
    assert_eq!(visible_seqs(&server, &alice, "alice", AB).await, [1, 2, 3, 4, 5]);
    let data = newest(&server, &bob, "bob").await;
    assert_eq!(
        (&data["maxSeqs"][AB], &data["minSeqs"][AB]),
        (&json!(5), &json!(1)),
        "{data}"
    );
    // The list shows the newest message each user may see.
    let data = list(&server, &bob, "bob").await;
    assert_eq!(
        elem(&data, AB)["msgInfo"]["serverMsgID"],
        receipts[3]["serverMsgID"],
        "{data}"
    );
    let data = list(&server, &alice, "alice").await;
    assert_eq!(
        elem(&data, AB)["msgInfo"]["serverMsgID"],
        receipts[4]["serverMsgID"],
        "{data}"
    );

    // A seq beyond the newest: refused, and nothing is deleted.
    refused(&delete(&server, &bob, "bob", AB, &[1, 6]).await, 1004);
    refused(&delete(&server, &bob, "bob", AB, &[0]).await, 1001);
    assert_eq!(visible_seqs(&server, &bob, "bob", AB).await, [1, 3, 4]);

    ok(clear(&server, &bob, "bob", &[AB]).await);
    assert_eq!(visible_seqs(&server, &bob, "bob", AB).await, Vec::<u64>::new());
    assert_eq!(visible_seqs(&server, &alice, "alice", AB).await, [1, 2, 3, 4, 5]);
    let data = newest(&server, &bob, "bob").await;
    assert_eq!(
        (&data["maxSeqs"][AB], &data["minSeqs"][AB]),
        (&json!(5), &json!(6)),
        "{data}"
    );
    let data = newest(&server, &alice, "alice").await;
    assert_eq!(
        (&data["maxSeqs"][AB], &data["minSeqs"][AB]),
        (&json!(5), &json!(1)),
        "{data}"
    );
    let data = list(&server, &bob, "bob").await;
    assert_eq!(order(&data), [AB], "a cleared conversation stays listed: {data}");
    assert_no_message(elem(&data, AB));
    assert_eq!(elem(&data, AB)["unreadCount"], 0, "{data}");
    let data = list(&server, &alice, "alice").await;
    assert_eq!(
        elem(&data, AB)["msgInfo"]["serverMsgID"],
        receipts[4]["serverMsgID"],
        "{data}"
    );
    assert_eq!(elem(&data, AB)["unreadCount"], 1, "{data}");

    // New messages appear as usual.
    let new = sent(&server, &alice, single_body("alice", "bob", "after the clear", "")).await;
    assert_eq!(new["seq"], 6, "{new}");
    assert_eq!(visible_seqs(&server, &bob, "bob", AB).await, [6]);
    let data = newest(&server, &bob, "bob").await;
    assert_eq!(
        (&data["maxSeqs"][AB], &data["minSeqs"][AB]),
        (&json!(6), &json!(6)),
        "{data}"
    );
    let data = list(&server, &bob, "bob").await;
    assert_eq!(elem(&data, AB)["msgInfo"]["serverMsgID"], new["serverMsgID"], "{data}");
    assert_eq!(elem(&data, AB)["unreadCount"], 1, "{data}");
    // Bob no longer sees the messages before the clear: not even his own to revoke.
    refused(&revoke(&server, &bob, "bob", AB, 5).await, 1004);

    // In a group too.
    let [owner, m1, m2] = users(&server, ["owner", "m1", "m2"]).await;
    create_group(&server, &owner, "owner", "g1", &[], &["m1", "m2"]).await;
    for i in 1..=3 {
        sent(&server, &owner, group_body("owner", "g1", &format!("g{i}"))).await;
    }
    ok(delete(&server, &m1, "m1", "sg_g1", &[3]).await);
    assert_eq!(visible_seqs(&server, &m1, "m1", "sg_g1").await, [1, 2]);
    ok(clear(&server, &m2, "m2", &["sg_g1"]).await);
    assert_eq!(visible_seqs(&server, &m2, "m2", "sg_g1").await, Vec::<u64>::new());
    assert_eq!(visible_seqs(&server, &owner, "owner", "sg_g1").await, [1, 2, 3]);
    assert_eq!(visible_seqs(&server, &m1, "m1", "sg_g1").await, [1, 2]);
    expect_unread(&server, &m1, "m1", "m1 deleted 3", 2, &[("sg_g1", 2)]).await;
    expect_unread(&server, &m2, "m2", "m2 cleared", 0, &[("sg_g1", 0)]).await;
}

#[tokio::test]
async fn conversation_settings_pin_and_mute_per_user() {
    let server = Server::start();
    let [alice, bob, carol, dave] = users(&server, ["alice", "bob", "carol", "dave"]).await;
    const AC: &str = "si_alice_carol";
    const G: &str = "sg_g1";
    create_group(&server, &alice, "alice", "g1", &[], &["bob"]).await;
    send_n(&server, &alice, "alice", "bob", 1).await;
    send_n(&server, &carol, "carol", "alice", 1).await;
    sent(&server, &bob, group_body("bob", "g1", "hi")).await;
    send_n(&server, &carol, "carol", "dave", 1).await;

    assert_eq!(ids_of(&server, &alice, PINNED, "alice").await, set_of(&[]));
    assert_eq!(ids_of(&server, &alice, NOT_NOTIFY, "alice").await, set_of(&[]));
    let data = list(&server, &alice, "alice").await;
    for c in [AB, AC, G] {
        assert_eq!(elem(&data, c)["IsPinned"], false, "{data}");
        assert_eq!(elem(&data, c)["recvMsgOpt"], 0, "{data}");
    }

    ok(set_conversation(
        &server,
        &alice,
        "alice",
        json!({"conversationID": AB, "isPinned": true}),
    )
    .await);
    ok(set_conversation(&server, &alice, "alice", json!({"conversationID": AC, "recvMsgOpt": 2})).await);
    ok(set_conversation(&server, &alice, "alice", json!({"conversationID": G, "recvMsgOpt": 1})).await);
    assert_eq!(ids_of(&server, &alice, PINNED, "alice").await, set_of(&[AB]));
    assert_eq!(ids_of(&server, &alice, NOT_NOTIFY, "alice").await, set_of(&[AC]));
    let data = list(&server, &alice, "alice").await;
    let shown = |c: &str| (elem(&data, c)["IsPinned"].clone(), elem(&data, c)["recvMsgOpt"].clone());
    assert_eq!(shown(AB), (json!(true), json!(0)), "{data}");
    assert_eq!(shown(AC), (json!(false), json!(2)), "{data}");
    assert_eq!(shown(G), (json!(false), json!(1)), "{data}");

    // Absent fields stay as they were.
    ok(set_conversation(&server, &alice, "alice", json!({"conversationID": AB, "ex": "x"})).await);
    ok(set_conversation(
        &server,
        &alice,
        "alice",
        json!({"conversationID": AC, "isPinned": true}),
    )
    .await);
    assert_eq!(ids_of(&server, &alice, PINNED, "alice").await, set_of(&[AB, AC]));
    assert_eq!(ids_of(&server, &alice, NOT_NOTIFY, "alice").await, set_of(&[AC]));

    // Settings are the user's own.
    assert_eq!(ids_of(&server, &bob, PINNED, "bob").await, set_of(&[]));
    assert_eq!(ids_of(&server, &carol, NOT_NOTIFY, "carol").await, set_of(&[]));
    let data = list(&server, &bob, "bob").await;
    assert_eq!(elem(&data, AB)["IsPinned"], false, "{data}");
    assert_eq!(elem(&data, G)["recvMsgOpt"], 0, "{data}");

    ok(set_conversation(
        &server,
        &alice,
        "alice",
        json!({"conversationID": AB, "isPinned": false}),
    )
    .await);
    ok(set_conversation(&server, &alice, "alice", json!({"conversationID": AC, "recvMsgOpt": 0})).await);
    assert_eq!(ids_of(&server, &alice, PINNED, "alice").await, set_of(&[AC]));
    assert_eq!(ids_of(&server, &alice, NOT_NOTIFY, "alice").await, set_of(&[]));

    // Rejections change nothing.
    for opt in [3, -1] {
        let patch = json!({"conversationID": AB, "recvMsgOpt": opt, "isPinned": true});
        refused(&set_conversation(&server, &alice, "alice", patch).await, 1001);
    }
    let pin_ab = json!({"conversationID": AB, "isPinned": true});
    refused(&set_conversation(&server, &bob, "alice", pin_ab.clone()).await, 1002);
    let pin_cd = json!({"conversationID": "si_carol_dave", "isPinned": true});
    refused(&set_conversation(&server, &alice, "alice", pin_cd).await, 1002);
    for unknown in ["si_alice_nobody", "si_alice_dave", "sg_nosuch"] {
        let patch = json!({"conversationID": unknown, "isPinned": true});
        refused(&set_conversation(&server, &alice, "alice", patch).await, 1004);
    }
    assert_eq!(ids_of(&server, &alice, PINNED, "alice").await, set_of(&[AC]));
    let data = list(&server, &alice, "alice").await;
    assert_eq!(elem(&data, AB)["recvMsgOpt"], 0, "{data}");
    assert_eq!(ids_of(&server, &dave, PINNED, "dave").await, set_of(&[]));

    // Only one's own IDs, or an app admin.
    refused(&server.post(PINNED, Some(&bob), json!({"userID": "alice"})).await, 1002);
    refused(
        &server.post(NOT_NOTIFY, Some(&bob), json!({"userID": "alice"})).await,
        1002,
    );
    let admin = admin_token();
    ok(set_conversation(&server, &admin, "alice", pin_ab).await);
    assert_eq!(ids_of(&server, &admin, PINNED, "alice").await, set_of(&[AB, AC]));
}

#[tokio::test]
async fn read_state_endpoints_refuse_other_users_outsiders_and_unknown_conversations() {
    let server = Server::start();
    let [alice, bob, carol] = users(&server, ["alice", "bob", "carol"]).await;
    send_n(&server, &alice, "alice", "bob", 2).await;
    create_group(&server, &alice, "alice", "g1", &[], &["bob"]).await;
    sent(&server, &alice, group_body("alice", "g1", "members only")).await;
    create_group(&server, &alice, "alice", "quiet", &[], &["bob"]).await;

    type Body = fn(&str, &str) -> Value;
    let endpoints: [(&str, Body); 6] = [
        (
            "/msg/revoke_msg",
            |user, c| json!({"conversationID": c, "seq": 1, "userID": user}),
        ),
        (
            "/msg/mark_msgs_as_read",
            |user, c| json!({"conversationID": c, "seqs": [1], "userID": user}),
        ),
        (
            "/msg/mark_conversation_as_read",
            |user, c| json!({"conversationID": c, "hasReadSeq": 1, "userID": user}),
        ),
        (
            "/msg/clear_conversation_msg",
            |user, c| json!({"conversationIDs": [c], "userID": user}),
        ),
        (
            "/msg/delete_msgs",
            |user, c| json!({"conversationID": c, "seqs": [1], "userID": user}),
        ),
        (
            "/conversation/set_conversations",
            |user, c| json!({"userID": user, "conversation": {"conversationID": c, "isPinned": true}}),
        ),
    ];
    let cases = [
        // Acting for someone else.
        (&carol, "bob", AB, 1002),
        (&carol, "bob", "sg_g1", 1002),
        // Not in the conversation.
        (&carol, "carol", AB, 1002),
        (&carol, "carol", "sg_g1", 1002),
        (&carol, "carol", "sg_quiet", 1002),
        // Unknown conversations.
        (&carol, "carol", "si_carol_nobody", 1004),
        (&carol, "carol", "si_alice_carol", 1004),
        (&carol, "carol", "sg_nosuch", 1004),
        (&bob, "bob", "si_bob_zed", 1004),
    ];
    let mut wrong = Vec::new();
    for (path, body) in endpoints {
        for (token, user, conversation, code) in &cases {
            let reply = server.post(path, Some(token), body(user, conversation)).await;
            if reply["errCode"] != *code || reply.get("data").is_some() {
                wrong.push(format!(
                    "{path} for {user} in {conversation}: expected {code}, got {reply}"
                ));
            }
        }
    }
    // One unknown conversation among others: nothing is cleared.
    let reply = clear(&server, &bob, "bob", &[AB, "si_bob_zed"]).await;
    if reply["errCode"] != 1004 {
        wrong.push(format!(
            "clearing {AB} and an unknown conversation: expected 1004, got {reply}"
        ));
    }
    assert!(wrong.is_empty(), "{}", wrong.join("\n"));

    // Nothing changed.
    expect_unread(&server, &bob, "bob", "after the refusals", 3, &[(AB, 2), ("sg_g1", 1)]).await;
    assert_eq!(visible_seqs(&server, &bob, "bob", AB).await, [1, 2]);
    assert_eq!(message_at(&server, &bob, "bob", AB, 1).await["contentType"], TEXT);
    assert_eq!(ids_of(&server, &bob, PINNED, "bob").await, set_of(&[]));
    assert_eq!(ids_of(&server, &carol, PINNED, "carol").await, set_of(&[]));
}

#[tokio::test]
async fn the_list_shows_current_profiles_and_group_info() {
    let server = Server::start();
    assert_eq!(server.register("alice", "Alice A").await["errCode"], 0);
    assert_eq!(server.register("bob", "Bob B").await["errCode"], 0);
    let alice = server.login("alice").await;
    let bob = server.login("bob").await;
    let [carol] = users(&server, ["carol"]).await;

    sent(&server, &bob, single_body("bob", "alice", "hi", "p-1")).await;
    let mut body = single_body("alice", "bob", "hello", "p-2");
    body["ex"] = json!("ex-2");
    let latest = sent(&server, &alice, body).await;

    let data = list(&server, &alice, "alice").await;
    let e = elem(&data, AB);
    assert_eq!(e["recvMsgOpt"], 0, "{data}");
    assert_eq!(e["unreadCount"], 0, "{data}");
    assert_eq!(e["IsPinned"], false, "{data}");
    let info = &e["msgInfo"];
    assert_eq!(info["serverMsgID"], latest["serverMsgID"], "{data}");
    assert_eq!(info["clientMsgID"], "p-2", "{data}");
    assert_eq!(info["sessionType"], SINGLE, "{data}");
    assert_eq!(info["sendID"], "alice", "{data}");
    assert_eq!(info["recvID"], "bob", "{data}");
    // The peer's profile, whoever sent the latest message.
    assert_eq!(info["senderName"], "Bob B", "{data}");
    assert_eq!(info["faceURL"], "", "{data}");
    assert_eq!(info["groupID"], "", "{data}");
    assert_eq!(info["groupName"], "", "{data}");
    assert_eq!(info["groupFaceURL"], "", "{data}");
    assert_eq!(info["groupType"], 0, "{data}");
    assert_eq!(info["groupMemberCount"], 0, "{data}");
    assert_eq!(info["LatestMsgRecvTime"], latest["sendTime"], "{data}");
    assert_eq!(info["msgFrom"], 100, "{data}");
    assert_eq!(info["contentType"], TEXT, "{data}");
    assert_eq!(listed_content(e), text("hello"), "{data}");
    assert_eq!(info["ex"], "ex-2", "{data}");
    let data = list(&server, &bob, "bob").await;
    assert_eq!(elem(&data, AB)["msgInfo"]["senderName"], "Alice A", "{data}");
    assert_eq!(elem(&data, AB)["unreadCount"], 1, "{data}");

    let rename = json!({"userInfo": {"userID": "bob", "nickname": "Robert", "faceURL": "https://cdn/bob.png"}});
    ok(server.post("/user/update_user_info_ex", Some(&bob), rename).await);
    let data = list(&server, &alice, "alice").await;
    assert_eq!(elem(&data, AB)["msgInfo"]["senderName"], "Robert", "{data}");
    assert_eq!(elem(&data, AB)["msgInfo"]["faceURL"], "https://cdn/bob.png", "{data}");

    // Groups: the group's current info.
    create_group(&server, &alice, "alice", "g1", &[], &["bob"]).await;
    let receipt = sent(&server, &bob, group_body("bob", "g1", "in the group")).await;
    let data = list(&server, &alice, "alice").await;
    let info = &elem(&data, "sg_g1")["msgInfo"];
    assert_eq!(info["serverMsgID"], receipt["serverMsgID"], "{data}");
    assert_eq!(info["sessionType"], GROUP, "{data}");
    assert_eq!(info["sendID"], "bob", "{data}");
    assert_eq!(info["recvID"], "", "{data}");
    assert_eq!(info["senderName"], "Robert", "{data}");
    assert_eq!(info["faceURL"], "https://cdn/bob.png", "{data}");
    assert_eq!(info["groupID"], "g1", "{data}");
    assert_eq!(info["groupName"], "Chat", "{data}");
    assert_eq!(info["groupFaceURL"], "", "{data}");
    assert_eq!(info["groupType"], 2, "{data}");
    assert_eq!(info["groupMemberCount"], 2, "{data}");
    assert_eq!(info["LatestMsgRecvTime"], receipt["sendTime"], "{data}");
    assert_eq!(elem(&data, "sg_g1")["unreadCount"], 1, "{data}");

    let changes = json!({"groupID": "g1", "groupName": "Renamed", "faceURL": "https://cdn/g1.png"});
    ok(server.post("/group/set_group_info_ex", Some(&alice), changes).await);
    join_group(&server, &carol, "g1").await;
    for (user, token) in [("alice", &alice), ("bob", &bob), ("carol", &carol)] {
        let data = list(&server, token, user).await;
        let info = &elem(&data, "sg_g1")["msgInfo"];
        assert_eq!(info["groupName"], "Renamed", "{user}: {data}");
        assert_eq!(info["groupFaceURL"], "https://cdn/g1.png", "{user}: {data}");
        assert_eq!(info["groupMemberCount"], 3, "{user}: {data}");
        assert_eq!(info["serverMsgID"], receipt["serverMsgID"], "{user}: {data}");
    }
}

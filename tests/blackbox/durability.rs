//! Restarts: a deployment stopped and started again has everything.

use serde_json::{json, Value};

use crate::harness::*;

#[tokio::test]
async fn everything_is_still_there_after_a_restart() {
    let dir = tempfile::tempdir().unwrap();
    let server = Server::start_in(dir.path(), &[]);
    let token = server.user("alice").await;
    server.user("bob").await;
    let rename = json!({"userInfo": {"userID": "alice", "nickname": "Ally", "ex": "x"}});
    assert_eq!(
        server.post("/user/update_user_info_ex", Some(&token), rename).await["errCode"],
        0
    );
    let before = server.users_info(&token, &["alice", "bob"]).await;
    assert!(server.stop().success(), "SIGTERM is a clean exit");

    let server = Server::start_in(dir.path(), &[]);
    assert_eq!(
        server.users_info(&token, &["alice", "bob"]).await,
        before,
        "old tokens still work"
    );
    server.login("alice").await;
    assert_err(&server.register("alice", "again").await, 1102, "already registered");
    server.user("carol").await;
    assert!(server.stop().success());
}

fn text(from: &str, to: &str, text: &str) -> Value {
    json!({"sendID": from, "recvID": to, "sessionType": 1, "contentType": 101, "content": {"content": text}})
}

async fn seqs(server: &Server, token: &str) -> Vec<u64> {
    let pull =
        json!({"userID": "bob", "seqRanges": [{"conversationID": "si_alice_bob", "begin": 1, "end": 100, "num": 100}]});
    let reply = server.post("/msg/pull_msg_by_seq", Some(token), pull).await;
    let msgs = reply["data"]["msgs"]["si_alice_bob"]["Msgs"]
        .as_array()
        .unwrap()
        .clone();
    msgs.iter().map(|m| m["seq"].as_u64().unwrap()).collect()
}

#[tokio::test]
async fn seqs_go_on_after_a_restart_without_reuse() {
    let dir = tempfile::tempdir().unwrap();
    let server = Server::start_in(dir.path(), &[]);
    let alice = server.user("alice").await;
    let bob = server.user("bob").await;
    for n in 1..=3 {
        let reply = server
            .post("/msg/send_msg", Some(&alice), text("alice", "bob", &format!("m{n}")))
            .await;
        assert_eq!(reply["data"]["seq"], n, "{reply}");
    }
    let retried = json!({"sendID": "alice", "recvID": "bob", "sessionType": 1, "contentType": 101,
        "content": {"content": "once"}, "clientMsgID": "once-1"});
    let first = server.post("/msg/send_msg", Some(&alice), retried.clone()).await;
    assert_eq!(first["data"]["seq"], 4, "{first}");
    assert!(server.stop().success());

    let server = Server::start_in(dir.path(), &[]);
    assert_eq!(seqs(&server, &bob).await, [1, 2, 3, 4]);
    assert_eq!(
        server.post("/msg/send_msg", Some(&alice), retried).await,
        first,
        "a retry after the restart gets the original reply"
    );
    let reply = server
        .post("/msg/send_msg", Some(&bob), text("bob", "alice", "after"))
        .await;
    assert_eq!(reply["data"]["seq"], 5, "{reply}");
    assert_eq!(seqs(&server, &bob).await, [1, 2, 3, 4, 5]);
    assert!(server.stop().success());
}

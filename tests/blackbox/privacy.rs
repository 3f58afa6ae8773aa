//! `/audit/forget_user`: erasing a user's personal data from an immutable
//! log. Before, the user's nickname, faceURL, ex and message contents read
//! back as written everywhere; after, every answer (replies, pushes, the
//! audit trail, a restart, a rebuild) reads "[erased]" for them, nothing
//! else changes, and (embedded) no file of the data dir holds them.

use std::path::Path;
use std::time::Duration;

use serde_json::{json, Value};

use crate::chat::*;
use crate::harness::*;

const NICK: &str = "Nick-Qv7Rz";
const FACE: &str = "https://cdn.example/face-Wm3Kp.png";
const EX: &str = "ex-Jd9Ls";
const NEW_NICK: &str = "Renamed-Hx4Tb";
const TO_BOB: &str = "one-to-one-Zp8Yc";
const TO_GROUP: &str = "group-msg-Ua2Vn";
/// Alice's personal strings: none may be readable once she is forgotten.
const SECRETS: [&str; 6] = [NICK, FACE, EX, NEW_NICK, TO_BOB, TO_GROUP];
/// Bob's message to alice: his, so it stays.
const FROM_BOB: &str = "bob-reply-Ke5Wq";
const ERASED: &str = "[erased]";

/// Every answer that may show alice's personal data, as bob (her peer and a
/// member of her group) and the admin (her audit trail) get them.
async fn everything_bob_and_the_admin_see(server: &Server, bob: &str) -> Value {
    let admin = admin_token();
    let pull = json!({"userID": "bob", "order": 0, "seqRanges": [
        {"conversationID": "si_alice_bob", "begin": 1, "end": 10, "num": 10},
        {"conversationID": "sg_privacy", "begin": 1, "end": 10, "num": 10}]});
    let members = json!({"groupID": "privacy", "filter": 0, "pagination": {"pageNumber": 1, "showNumber": 10}});
    let search = json!({"groupID": "privacy", "filter": 0, "keyword": "renamed",
        "pagination": {"pageNumber": 1, "showNumber": 10}});
    let list = json!({"userID": "bob", "pagination": {"pageNumber": 1, "showNumber": 10}});
    json!({
        "info": server.users_info(bob, &["alice"]).await,
        "pull": ok(server.post("/msg/pull_msg_by_seq", Some(bob), pull).await),
        "members": ok(server.post("/group/get_group_member_list", Some(bob), members).await),
        "search": ok(server.post("/group/get_group_member_list", Some(bob), search).await),
        "conversations": ok(server.post("/conversation/get_sorted_conversation_list", Some(bob), list).await),
        "audit": ok(server.post("/audit/events", Some(&admin), json!({"userID": "alice"})).await),
    })
}

fn alices_message<'a>(seen: &'a Value, conversation: &str, content: &str) -> &'a Value {
    let msgs = seen["pull"]["msgs"][conversation]["Msgs"].as_array().expect("messages");
    msgs.iter()
        .find(|m| m["sendID"] == "alice" && m["content"]["content"] == content)
        .or_else(|| msgs.iter().find(|m| m["sendID"] == "alice"))
        .unwrap_or_else(|| panic!("no message of alice in {conversation}: {seen}"))
}

/// Asks until alice reads as erased (other API nodes drop their cached key
/// once their tail of the log shows the erasure).
async fn once_erased(server: &Server, bob: &str) -> Value {
    let deadline = tokio::time::Instant::now() + Duration::from_secs(15);
    loop {
        let seen = everything_bob_and_the_admin_see(server, bob).await;
        let text = seen.to_string();
        if SECRETS.iter().all(|s| !text.contains(s)) {
            return seen;
        }
        assert!(tokio::time::Instant::now() < deadline, "still readable: {seen}");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

fn assert_erased(seen: &Value) {
    let text = seen.to_string();
    for secret in SECRETS {
        assert!(!text.contains(secret), "{secret} is readable: {seen}");
    }
    let alice = &seen["info"][0];
    assert_eq!(alice["userID"], "alice", "{seen}");
    for field in ["nickname", "faceURL", "ex"] {
        assert_eq!(alice[field], ERASED, "{field}: {seen}");
    }
    for conversation in ["si_alice_bob", "sg_privacy"] {
        let message = alices_message(seen, conversation, "");
        assert_eq!(message["content"], ERASED, "{message}");
        assert_eq!(message["senderNickname"], ERASED, "{message}");
        assert_eq!(message["senderFaceURL"], ERASED, "{message}");
    }
    assert!(text.contains(FROM_BOB), "bob's own message stays readable: {seen}");
    assert_eq!(
        seen["search"]["total"], 0,
        "the erased nickname matches no search: {seen}"
    );
    let audit = seen["audit"]["events"].as_array().expect("events");
    let forgotten = audit
        .iter()
        .find(|e| e["eventType"] == "UserForgotten")
        .expect("the erasure is on record");
    assert_eq!(forgotten["actorUserID"], ADMIN, "{forgotten}");
    let registered = audit
        .iter()
        .find(|e| e["eventType"] == "UserRegistered")
        .expect("registration");
    assert_eq!(registered["payload"]["profile"]["nickname"], ERASED, "{registered}");
}

/// Every file under `dir`, read whole.
fn files(dir: &Path) -> Vec<(String, Vec<u8>)> {
    let mut found = Vec::new();
    for entry in std::fs::read_dir(dir).expect("data dir").flatten() {
        let path = entry.path();
        if path.is_dir() {
            found.extend(files(&path));
        } else {
            found.push((
                path.display().to_string(),
                std::fs::read(&path).expect("read a data file"),
            ));
        }
    }
    found
}

fn holds(file: &[u8], needle: &str) -> bool {
    file.windows(needle.len()).any(|w| w == needle.as_bytes())
}

#[tokio::test]
async fn a_forgotten_users_personal_data_reads_erased_everywhere_and_is_nowhere_on_disk() {
    let dir = tempfile::tempdir().unwrap();
    let server = Server::start_in(dir.path(), &[]);
    let profile = json!({"userID": "alice", "nickname": NICK, "faceURL": FACE, "ex": EX, "password": PASSWORD});
    ok(server.post("/user/self_register", None, profile).await);
    let alice = server.login("alice").await;
    let [bob, carol] = users(&server, ["bob", "carol"]).await;
    let body = json!({"ownerUserID": "carol", "memberUserIDs": ["alice", "bob"],
        "groupInfo": {"groupID": "privacy", "groupName": "Grp-Ob3Nd", "groupType": 2, "needVerification": 2}});
    ok(server.post("/group/create_group", Some(&carol), body).await);
    ok(server
        .post(
            "/user/update_user_info_ex",
            Some(&alice),
            json!({"userInfo": {"userID": "alice", "nickname": NEW_NICK}}),
        )
        .await);
    let mut bobs_socket = Ws::connect(&server, &bob, "bob").await;
    ok(server
        .post("/msg/send_msg", Some(&alice), single_body("alice", "bob", TO_BOB, "a1"))
        .await);
    ok(server
        .post("/msg/send_msg", Some(&alice), group_body("alice", "privacy", TO_GROUP))
        .await);
    ok(server
        .post("/msg/send_msg", Some(&bob), single_body("bob", "alice", FROM_BOB, "b1"))
        .await);

    // Before: everything reads as written.
    let pushed = bobs_socket.next_json(WAIT).await.expect("a push");
    assert!(pushed.to_string().contains(TO_BOB), "{pushed}");
    let seen = everything_bob_and_the_admin_see(&server, &bob).await;
    assert_eq!(seen["info"][0]["nickname"], NEW_NICK, "{seen}");
    assert_eq!(seen["info"][0]["faceURL"], FACE, "{seen}");
    assert_eq!(
        alices_message(&seen, "si_alice_bob", TO_BOB)["senderNickname"],
        NEW_NICK,
        "{seen}"
    );
    assert_eq!(
        alices_message(&seen, "sg_privacy", TO_GROUP)["content"]["content"],
        TO_GROUP,
        "{seen}"
    );
    assert_eq!(seen["search"]["total"], 1, "{seen}");
    assert!(seen["conversations"].to_string().contains(FROM_BOB), "{seen}");
    assert!(
        seen["audit"].to_string().contains(NICK),
        "the audit trail shows the first nickname: {seen}"
    );

    // Only app admins forget, and only registered users.
    let forget = |user: &str| json!({ "userID": user });
    assert_err(
        &server.post("/audit/forget_user", Some(&bob), forget("alice")).await,
        1002,
        "admin",
    );
    assert_err(
        &server
            .post("/audit/forget_user", Some(&admin_token()), forget("nobody"))
            .await,
        1101,
        "nobody",
    );
    ok(server
        .post("/audit/forget_user", Some(&admin_token()), forget("alice"))
        .await);
    ok(server
        .post("/audit/forget_user", Some(&admin_token()), forget("alice"))
        .await);

    let seen = once_erased(&server, &bob).await;
    assert_erased(&seen);
    let audit = seen["audit"]["events"].as_array().unwrap();
    assert_eq!(
        audit.iter().filter(|e| e["eventType"] == "UserForgotten").count(),
        1,
        "forgetting twice records one erasure"
    );

    // What alice writes from now on is not stored either; bob still chats.
    ok(server
        .post(
            "/msg/send_msg",
            Some(&alice),
            single_body("alice", "bob", "after-Gt6Mw", "a2"),
        )
        .await);
    let pushed = loop {
        let frame = bobs_socket.next_json(WAIT).await.expect("a push");
        if frame["data"]["msgs"]["si_alice_bob"]["Msgs"][0]["clientMsgID"] == "a2" {
            break frame;
        }
    };
    let message = &pushed["data"]["msgs"]["si_alice_bob"]["Msgs"][0];
    assert_eq!(message["content"], ERASED, "{pushed}");
    assert_eq!(message["senderNickname"], ERASED, "{pushed}");
    drop(bobs_socket);

    // A restart and a rebuild change nothing.
    assert!(server.stop().success());
    let out = parley().arg("rebuild").args(server.backend_args()).output().unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    if !scale_out() {
        let files = files(dir.path());
        assert!(
            files.iter().any(|(_, bytes)| holds(bytes, "Grp-Ob3Nd")),
            "the scan reads the stored data (the group's name is not personal)"
        );
        for (name, bytes) in &files {
            for secret in SECRETS.iter().chain(&["after-Gt6Mw"]) {
                assert!(!holds(bytes, secret), "{secret} is in {name}");
            }
        }
    }
    let server = Server::start_in(dir.path(), &[]);
    assert_erased(&everything_bob_and_the_admin_see(&server, &bob).await);
}

//! `/user/*`: success paths, input validation and permissions.

use serde_json::json;

use crate::harness::*;

#[tokio::test]
async fn register_login_read_and_update_a_profile() {
    let server = Server::start();
    let body = json!({"userID": "alice", "nickname": "Alice", "faceURL": "https://cdn/a.png", "ex": "{\"a\":1}", "password": PASSWORD});
    let reply = server.post("/user/self_register", None, body).await;
    assert_eq!(
        reply,
        json!({"errCode": 0, "errMsg": "", "errDlt": "", "data": {"userID": "alice"}})
    );

    let login = server
        .post(
            "/user/self_login",
            None,
            json!({"userID": "alice", "platformID": 5, "password": PASSWORD}),
        )
        .await;
    assert_eq!(login["errCode"], 0, "{login}");
    assert_eq!(login["data"]["expireTimeSeconds"], 90 * 24 * 3600);
    let token = login["data"]["token"].as_str().unwrap().to_owned();

    let bob = server.user("bob").await;
    let info = server.users_info(&bob, &["ghost", "alice", "bob"]).await;
    let alice = &info[0];
    assert_eq!(info.as_array().unwrap().len(), 2, "unknown IDs are left out: {info}");
    assert_eq!(info[1]["userID"], "bob");
    assert_eq!(alice["userID"], "alice");
    assert_eq!(alice["nickname"], "Alice");
    assert_eq!(alice["faceURL"], "https://cdn/a.png");
    assert_eq!(alice["ex"], "{\"a\":1}");
    assert_eq!(alice["appMangerLevel"], 0);
    assert_eq!(alice["globalRecvMsgOpt"], 0);
    let created = alice["createTime"].as_i64().unwrap();
    assert!(
        (now_secs() * 1000 - created).abs() < 60_000,
        "createTime is in ms: {created}"
    );

    let update = json!({"userInfo": {"userID": "alice", "nickname": "Ally", "faceURL": ""}});
    let reply = server.post("/user/update_user_info_ex", Some(&token), update).await;
    assert_eq!(reply, json!({"errCode": 0, "errMsg": "", "errDlt": ""}));
    let alice = &server.users_info(&token, &["alice"]).await[0];
    assert_eq!(alice["nickname"], "Ally");
    assert_eq!(alice["faceURL"], "", "an empty string sets the field empty");
    assert_eq!(alice["ex"], "{\"a\":1}", "an absent field is unchanged");
    assert_eq!(alice["createTime"], created);
}

#[tokio::test]
async fn registration_is_refused_for_taken_ids_bad_fields_and_admin_ids() {
    let server = Server::start();
    assert_eq!(server.register("alice", "Alice").await["errCode"], 0);
    assert_err(&server.register("alice", "Again").await, 1102, "already registered");

    let cases = [
        (json!({"userID": "", "nickname": "n", "password": PASSWORD}), "userID"),
        (
            json!({"userID": "has space", "nickname": "n", "password": PASSWORD}),
            "userID",
        ),
        (
            json!({"userID": "has:colon", "nickname": "n", "password": PASSWORD}),
            "userID",
        ),
        (
            json!({"userID": "x".repeat(65), "nickname": "n", "password": PASSWORD}),
            "userID",
        ),
        (
            json!({"userID": "u1", "nickname": "n".repeat(65), "password": PASSWORD}),
            "nickname",
        ),
        (
            json!({"userID": "u1", "nickname": "", "password": PASSWORD}),
            "nickname",
        ),
        (
            json!({"userID": "u1", "nickname": "n", "faceURL": "f".repeat(1025), "password": PASSWORD}),
            "faceURL",
        ),
        (
            json!({"userID": "u1", "nickname": "n", "ex": "e".repeat(4097), "password": PASSWORD}),
            "ex",
        ),
        (
            json!({"userID": "u1", "nickname": "n", "password": "short"}),
            "password",
        ),
        (
            json!({"userID": "u1", "nickname": "n", "password": "p".repeat(129)}),
            "password",
        ),
        (json!({"userID": "u1", "password": PASSWORD}), "nickname"),
        (json!({"userID": 7, "nickname": "n", "password": PASSWORD}), "userID"),
        (
            json!({"userID": "u1", "nickname": ["n"], "password": PASSWORD}),
            "nickname",
        ),
    ];
    for (body, field) in cases {
        let reply = server.post("/user/self_register", None, body.clone()).await;
        assert_err(&reply, 1001, field);
    }
    let garbage = server
        .post_raw(
            "/user/self_register",
            &[("operationID", "op"), ("X-Tenant-ID", TENANT)],
            "{\"userID\":".into(),
        )
        .await;
    assert_err(&garbage, 1001, "EOF while parsing");

    assert_err(&server.register(ADMIN, "Mallory").await, 1002, "reserved");

    let token = server.user("bob").await;
    let info = server.users_info(&token, &["u1", "alice"]).await;
    assert_eq!(
        info.as_array().unwrap().len(),
        1,
        "no refused registration left a trace: {info}"
    );
    assert_eq!(
        info[0]["nickname"], "Alice",
        "the refused re-registration changed nothing"
    );
}

#[tokio::test]
async fn login_checks_user_password_and_platform() {
    let server = Server::start();
    server.register("alice", "Alice").await;
    let login = |user: &str, platform: i64, password: &str| json!({"userID": user, "platformID": platform, "password": password});
    assert_err(
        &server.post("/user/self_login", None, login("ghost", 1, PASSWORD)).await,
        1101,
        "ghost",
    );
    assert_err(
        &server
            .post("/user/self_login", None, login("alice", 1, "wrong-password"))
            .await,
        1002,
        "",
    );
    assert_err(
        &server.post("/user/self_login", None, login("alice", 0, PASSWORD)).await,
        1001,
        "platformID",
    );
    assert_err(
        &server
            .post("/user/self_login", None, login("alice", 13, PASSWORD))
            .await,
        1001,
        "platformID",
    );
    assert_eq!(
        server
            .post("/user/self_login", None, login("alice", 12, PASSWORD))
            .await["errCode"],
        0
    );
}

#[tokio::test]
async fn only_the_user_itself_or_an_admin_updates_a_profile() {
    let server = Server::start();
    server.user("alice").await;
    let bob = server.user("bob").await;
    let rename = |nickname: &str| json!({"userInfo": {"userID": "alice", "nickname": nickname}});

    assert_err(
        &server
            .post("/user/update_user_info_ex", Some(&bob), rename("Mallory"))
            .await,
        1002,
        "",
    );
    assert_eq!(server.users_info(&bob, &["alice"]).await[0]["nickname"], "alice");

    let admin = token_with(
        json!({"userID": ADMIN, "platformID": 10, "tenant": TENANT, "iat": now_secs(), "exp": now_secs() + 600}),
        SECRET,
    );
    let reply = server
        .post("/user/update_user_info_ex", Some(&admin), rename("By Admin"))
        .await;
    assert_eq!(reply["errCode"], 0, "{reply}");
    assert_eq!(server.users_info(&bob, &["alice"]).await[0]["nickname"], "By Admin");

    let ghost = json!({"userInfo": {"userID": "ghost", "nickname": "Boo"}});
    assert_err(
        &server.post("/user/update_user_info_ex", Some(&admin), ghost).await,
        1101,
        "ghost",
    );
    let long = json!({"userInfo": {"userID": "bob", "ex": "e".repeat(4097)}});
    assert_err(
        &server.post("/user/update_user_info_ex", Some(&bob), long).await,
        1001,
        "userInfo.ex",
    );
    let missing = json!({"userInfo": {"nickname": "x"}});
    assert_err(
        &server.post("/user/update_user_info_ex", Some(&bob), missing).await,
        1001,
        "userID",
    );
}

#[tokio::test]
async fn get_users_info_takes_one_to_a_thousand_ids() {
    let server = Server::start();
    let token = server.user("alice").await;
    assert_err(
        &server
            .post("/user/get_users_info", Some(&token), json!({"userIDs": []}))
            .await,
        1001,
        "userIDs",
    );
    let too_many: Vec<String> = (0..1001).map(|i| format!("u{i}")).collect();
    let reply = server
        .post("/user/get_users_info", Some(&token), json!({ "userIDs": too_many }))
        .await;
    assert_err(&reply, 1001, "at most 1000");
    let mut many: Vec<String> = (0..999).map(|i| format!("u{i}")).collect();
    many.push("alice".into());
    let reply = server
        .post("/user/get_users_info", Some(&token), json!({ "userIDs": many }))
        .await;
    assert_eq!(reply["data"]["usersInfo"].as_array().unwrap().len(), 1, "{reply}");
    assert_err(
        &server.post("/user/get_users_info", Some(&token), json!({})).await,
        1001,
        "userIDs",
    );
}

#[tokio::test]
async fn fifty_concurrent_registrations_of_one_id_make_exactly_one_user() {
    let server = Server::start();
    let attempts = (0..50).map(|i| {
        let server = &server;
        async move { (i, server.register("racer", &format!("nick-{i}")).await) }
    });
    let replies = futures::future::join_all(attempts).await;
    let winners: Vec<_> = replies.iter().filter(|(_, r)| r["errCode"] == 0).collect();
    assert_eq!(winners.len(), 1, "{replies:?}");
    for (_, reply) in replies.iter().filter(|(_, r)| r["errCode"] != 0) {
        assert_err(reply, 1102, "already registered");
    }
    let token = server.login("racer").await;
    let info = server.users_info(&token, &["racer"]).await;
    assert_eq!(info[0]["nickname"], format!("nick-{}", winners[0].0));

    if !scale_out() {
        let server = server;
        assert!(server.stop().success());
        let log = std::fs::read(server.data_dir.join("events.log")).unwrap();
        let registered = log
            .windows(b"\"UserRegistered\"".len())
            .filter(|w| w == b"\"UserRegistered\"")
            .count();
        assert_eq!(registered, 1, "exactly one UserRegistered event is stored");
    }
}

/// Password hashing allocates 19 MiB per call; memory must come back (with
/// glibc's allocator a node once grew by ~4 MiB per registration).
#[tokio::test]
async fn registrations_do_not_grow_the_server_memory() {
    let server = Server::start();
    for i in 0..100 {
        assert_eq!(server.register(&format!("m{i}"), "m").await["errCode"], 0);
    }
    for pid in server.api_pids() {
        let status = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap();
        let rss_kib: u64 = status
            .lines()
            .find_map(|l| l.strip_prefix("VmRSS:"))
            .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
            .unwrap();
        assert!(
            rss_kib < 200 * 1024,
            "API node {pid} holds {rss_kib} KiB after 100 registrations"
        );
    }
}

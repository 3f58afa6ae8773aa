//! `/friend/*`: requests, friendship, blacklist, lists.

use serde_json::{json, Value};

use crate::harness::*;

fn page(n: i64, size: i64) -> Value {
    json!({"pageNumber": n, "showNumber": size})
}

async fn ask(server: &Server, token: &str, from: &str, to: &str) -> Value {
    let body = json!({"fromUserID": from, "toUserID": to, "reqMsg": format!("{from} here"), "ex": "x"});
    server.post("/friend/add_friend", Some(token), body).await
}

async fn answer(server: &Server, token: &str, from: &str, to: &str, result: i64) -> Value {
    let body = json!({"fromUserID": from, "toUserID": to, "handleResult": result, "handleMsg": "re"});
    server.post("/friend/add_friend_response", Some(token), body).await
}

async fn list(server: &Server, token: &str, path: &str, user: &str, pagination: Value) -> Value {
    let reply = server
        .post(path, Some(token), json!({"userID": user, "pagination": pagination}))
        .await;
    assert_eq!(reply["errCode"], 0, "{path}: {reply}");
    reply["data"].clone()
}

async fn friend_ids(server: &Server, token: &str, user: &str) -> Vec<String> {
    let data = list(server, token, "/friend/get_friend_list", user, page(1, 100)).await;
    data["friendsInfo"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["friendUser"]["userID"].as_str().unwrap().to_owned())
        .collect()
}

async fn is_friend(server: &Server, token: &str, a: &str, b: &str) -> (bool, bool) {
    let reply = server
        .post("/friend/is_friend", Some(token), json!({"userID1": a, "userID2": b}))
        .await;
    assert_eq!(reply["errCode"], 0, "{reply}");
    (
        reply["data"]["inUser1Friends"].as_bool().unwrap(),
        reply["data"]["inUser2Friends"].as_bool().unwrap(),
    )
}

#[tokio::test]
async fn a_request_and_its_acceptance_make_friends_both_ways() {
    let server = Server::start();
    let alice = server.user("alice").await;
    let bob = server.user("bob").await;
    assert_eq!(ask(&server, &alice, "alice", "bob").await["errCode"], 0);

    let received = list(&server, &bob, "/friend/get_friend_apply_list", "bob", page(1, 10)).await;
    assert_eq!(received["total"], 1);
    let request = &received["FriendRequests"][0];
    assert_eq!(request["fromUserID"], "alice");
    assert_eq!(request["fromNickname"], "alice");
    assert_eq!(request["toUserID"], "bob");
    assert_eq!(request["handleResult"], 0);
    assert_eq!(request["reqMsg"], "alice here");
    assert_eq!(request["ex"], "x");
    let sent = list(
        &server,
        &alice,
        "/friend/get_self_friend_apply_list",
        "alice",
        page(1, 10),
    )
    .await;
    assert_eq!(sent["friendRequests"][0]["toUserID"], "bob");

    assert_eq!(answer(&server, &bob, "alice", "bob", 1).await["errCode"], 0);
    assert_eq!(friend_ids(&server, &alice, "alice").await, ["bob"]);
    assert_eq!(friend_ids(&server, &bob, "bob").await, ["alice"]);
    assert_eq!(is_friend(&server, &alice, "alice", "bob").await, (true, true));

    let friends = list(&server, &alice, "/friend/get_friend_list", "alice", page(1, 10)).await;
    let friend = &friends["friendsInfo"][0];
    assert_eq!(friend["ownerUserID"], "alice");
    assert_eq!(friend["addSource"], 2);
    assert_eq!(friend["operatorUserID"], "bob");
    assert_eq!(friend["isPinned"], false);
    assert!(friend["createTime"].as_i64().unwrap() > 1_600_000_000_000);
    assert_eq!(friend["friendUser"]["nickname"], "bob");

    let handled = list(&server, &bob, "/friend/get_friend_apply_list", "bob", page(1, 10)).await;
    assert_eq!(handled["FriendRequests"][0]["handleResult"], 1);
    assert_eq!(handled["FriendRequests"][0]["handlerUserID"], "bob");
    assert_eq!(handled["FriendRequests"][0]["handleMsg"], "re");

    assert_err(&ask(&server, &alice, "alice", "bob").await, 1304, "already friends");
    assert_err(&answer(&server, &bob, "alice", "bob", 1).await, 1305, "already handled");
}

#[tokio::test]
async fn requests_are_checked() {
    let server = Server::start();
    let alice = server.user("alice").await;
    let bob = server.user("bob").await;
    assert_err(&ask(&server, &alice, "bob", "alice").await, 1002, "");
    assert_err(&ask(&server, &alice, "alice", "alice").await, 1301, "yourself");
    assert_err(&ask(&server, &alice, "alice", "ghost").await, 1101, "ghost");
    assert_err(&ask(&server, &alice, "alice", "").await, 1001, "toUserID");
    assert_err(
        &answer(&server, &bob, "alice", "bob", 1).await,
        1004,
        "no friend request",
    );
    assert_eq!(ask(&server, &alice, "alice", "bob").await["errCode"], 0);
    assert_err(&answer(&server, &alice, "alice", "bob", 1).await, 1002, "");
    assert_err(&answer(&server, &bob, "alice", "bob", 2).await, 1001, "handleResult");
    assert_eq!(answer(&server, &bob, "alice", "bob", -1).await["errCode"], 0);
    assert_eq!(is_friend(&server, &alice, "alice", "bob").await, (false, false));
    let refused = list(&server, &bob, "/friend/get_friend_apply_list", "bob", page(1, 10)).await;
    assert_eq!(refused["FriendRequests"][0]["handleResult"], -1);

    // Asking again replaces the handled request with a pending one.
    assert_eq!(ask(&server, &alice, "alice", "bob").await["errCode"], 0);
    let again = list(&server, &bob, "/friend/get_friend_apply_list", "bob", page(1, 10)).await;
    assert_eq!(again["total"], 1);
    assert_eq!(again["FriendRequests"][0]["handleResult"], 0);
    let pending = server
        .post(
            "/friend/get_friend_apply_list",
            Some(&bob),
            json!({"userID": "bob", "pagination": page(1, 10), "handleResults": [1, -1]}),
        )
        .await;
    assert_eq!(pending["data"]["total"], 0, "{pending}");
}

#[tokio::test]
async fn mutual_requests_make_friends_at_once() {
    let server = Server::start();
    let alice = server.user("alice").await;
    let bob = server.user("bob").await;
    assert_eq!(ask(&server, &alice, "alice", "bob").await["errCode"], 0);
    assert_eq!(ask(&server, &bob, "bob", "alice").await["errCode"], 0);
    assert_eq!(is_friend(&server, &bob, "alice", "bob").await, (true, true));
    let sent = list(
        &server,
        &alice,
        "/friend/get_self_friend_apply_list",
        "alice",
        page(1, 10),
    )
    .await;
    assert_eq!(sent["friendRequests"][0]["handleResult"], 1);
}

#[tokio::test]
async fn deleting_is_one_way_and_is_friend_says_so() {
    let server = Server::start();
    let alice = server.user("alice").await;
    let bob = server.user("bob").await;
    ask(&server, &alice, "alice", "bob").await;
    answer(&server, &bob, "alice", "bob", 1).await;
    let delete = |owner: &str, friend: &str| json!({"ownerUserID": owner, "friendUserID": friend});
    assert_err(
        &server
            .post("/friend/delete_friend", Some(&bob), delete("alice", "bob"))
            .await,
        1002,
        "",
    );
    let reply = server
        .post("/friend/delete_friend", Some(&alice), delete("alice", "bob"))
        .await;
    assert_eq!(reply["errCode"], 0, "{reply}");
    assert_eq!(is_friend(&server, &alice, "alice", "bob").await, (false, true));
    assert!(friend_ids(&server, &alice, "alice").await.is_empty());
    assert_eq!(friend_ids(&server, &bob, "bob").await, ["alice"]);
    assert_err(
        &server
            .post("/friend/delete_friend", Some(&alice), delete("alice", "bob"))
            .await,
        1303,
        "bob",
    );
    // Alice may ask again; Bob's agreement restores her side only.
    assert_eq!(ask(&server, &alice, "alice", "bob").await["errCode"], 0);
    assert_eq!(answer(&server, &bob, "alice", "bob", 1).await["errCode"], 0);
    assert_eq!(is_friend(&server, &alice, "alice", "bob").await, (true, true));
    assert_eq!(friend_ids(&server, &bob, "bob").await, ["alice"], "no duplicate row");
}

#[tokio::test]
async fn the_blacklist_blocks_requests_until_removed() {
    let server = Server::start();
    let alice = server.user("alice").await;
    let bob = server.user("bob").await;
    let black = |owner: &str, black: &str| json!({"ownerUserID": owner, "blackUserID": black, "ex": "e"});
    let reply = server
        .post("/friend/add_black", Some(&bob), black("bob", "alice"))
        .await;
    assert_eq!(reply["errCode"], 0, "{reply}");
    assert_err(&ask(&server, &alice, "alice", "bob").await, 1302, "bob");
    assert_err(
        &server
            .post("/friend/add_black", Some(&bob), black("bob", "alice"))
            .await,
        1304,
        "already",
    );
    assert_err(
        &server.post("/friend/add_black", Some(&bob), black("bob", "bob")).await,
        1001,
        "blackUserID",
    );
    assert_err(
        &server
            .post("/friend/add_black", Some(&bob), black("bob", "ghost"))
            .await,
        1101,
        "ghost",
    );
    assert_err(
        &server
            .post("/friend/add_black", Some(&alice), black("bob", "alice"))
            .await,
        1002,
        "",
    );

    let blacks = list(&server, &bob, "/friend/get_black_list", "bob", page(1, 10)).await;
    assert_eq!(blacks["total"], 1);
    let entry = &blacks["blacks"][0];
    assert_eq!(entry["ownerUserID"], "bob");
    assert_eq!(
        entry["blackUserInfo"],
        json!({"userID": "alice", "nickname": "alice", "faceURL": "", "ex": ""})
    );
    assert_eq!(entry["ex"], "e");
    assert_eq!(entry["operatorUserID"], "bob");

    let remove = json!({"ownerUserID": "bob", "blackUserID": "alice"});
    for _ in 0..2 {
        let reply = server.post("/friend/remove_black", Some(&bob), remove.clone()).await;
        assert_eq!(reply["errCode"], 0, "removal is idempotent: {reply}");
    }
    assert_eq!(
        list(&server, &bob, "/friend/get_black_list", "bob", page(1, 10)).await["total"],
        0
    );
    assert_eq!(ask(&server, &alice, "alice", "bob").await["errCode"], 0);
}

#[tokio::test]
async fn lists_are_private_paginated_and_show_current_profiles() {
    let server = Server::start();
    let alice = server.user("alice").await;
    let mut tokens = Vec::new();
    for i in 0..5 {
        let user = format!("f{i}");
        let token = server.user(&user).await;
        assert_eq!(ask(&server, &token, &user, "alice").await["errCode"], 0);
        tokens.push(token);
    }
    for i in 0..5 {
        assert_eq!(
            answer(&server, &alice, &format!("f{i}"), "alice", 1).await["errCode"],
            0
        );
    }
    let pin = json!({"ownerUserID": "alice", "friendUserIDs": ["f3"], "isPinned": true, "remark": "best"});
    assert_eq!(
        server.post("/friend/update_friends", Some(&alice), pin).await["errCode"],
        0
    );
    let first = list(&server, &alice, "/friend/get_friend_list", "alice", page(1, 2)).await;
    assert_eq!(first["total"], 5);
    let ids: Vec<&str> = first["friendsInfo"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["friendUser"]["userID"].as_str().unwrap())
        .collect();
    assert_eq!(ids, ["f3", "f0"], "pinned first, then by friendship time");
    assert_eq!(first["friendsInfo"][0]["remark"], "best");
    let last = list(&server, &alice, "/friend/get_friend_list", "alice", page(3, 2)).await;
    assert_eq!(last["friendsInfo"].as_array().unwrap().len(), 1);
    let beyond = list(&server, &alice, "/friend/get_friend_list", "alice", page(9, 2)).await;
    assert_eq!(
        (beyond["total"].clone(), beyond["friendsInfo"].clone()),
        (json!(5), json!([]))
    );

    let received = list(&server, &alice, "/friend/get_friend_apply_list", "alice", page(1, 5)).await;
    let froms: Vec<&str> = received["FriendRequests"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["fromUserID"].as_str().unwrap())
        .collect();
    assert_eq!(froms.len(), 5);

    // A profile change shows in every list that embeds the profile.
    let rename = json!({"userInfo": {"userID": "f1", "nickname": "Renamed", "faceURL": "https://f/1"}});
    assert_eq!(
        server.post("/user/update_user_info_ex", Some(&tokens[1]), rename).await["errCode"],
        0
    );
    let friends = list(&server, &alice, "/friend/get_friend_list", "alice", page(1, 10)).await;
    let f1 = friends["friendsInfo"]
        .as_array()
        .unwrap()
        .iter()
        .find(|f| f["friendUser"]["userID"] == "f1")
        .unwrap();
    assert_eq!(f1["friendUser"]["nickname"], "Renamed");
    let received = list(&server, &alice, "/friend/get_friend_apply_list", "alice", page(1, 10)).await;
    let r1 = received["FriendRequests"]
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["fromUserID"] == "f1")
        .unwrap();
    assert_eq!(
        (r1["fromNickname"].clone(), r1["fromFaceURL"].clone()),
        (json!("Renamed"), json!("https://f/1"))
    );

    for path in [
        "/friend/get_friend_list",
        "/friend/get_friend_apply_list",
        "/friend/get_self_friend_apply_list",
        "/friend/get_black_list",
    ] {
        let ask = |token: String, pagination: Value| {
            let server = &server;
            async move {
                server
                    .post(path, Some(&token), json!({"userID": "alice", "pagination": pagination}))
                    .await
            }
        };
        assert_err(&ask(tokens[0].clone(), page(1, 10)).await, 1002, "alice");
        assert_err(&ask(alice.clone(), page(0, 10)).await, 1001, "pagination.pageNumber");
        assert_err(&ask(alice.clone(), page(1, 1001)).await, 1001, "pagination.showNumber");
    }
    let admin = admin_token();
    assert_eq!(
        list(&server, &admin, "/friend/get_friend_list", "alice", page(1, 10)).await["total"],
        5
    );
    assert_err(
        &server
            .post(
                "/friend/is_friend",
                Some(&tokens[0]),
                json!({"userID1": "alice", "userID2": "f1"}),
            )
            .await,
        1002,
        "",
    );
}

#[tokio::test]
async fn update_friends_changes_all_or_nothing() {
    let server = Server::start();
    let alice = server.user("alice").await;
    let bob = server.user("bob").await;
    server.user("carol").await;
    ask(&server, &bob, "bob", "alice").await;
    answer(&server, &alice, "bob", "alice", 1).await;
    let update = |ids: Value| json!({"ownerUserID": "alice", "friendUserIDs": ids, "remark": "r", "ex": "x"});
    assert_err(
        &server
            .post("/friend/update_friends", Some(&alice), update(json!(["bob", "carol"])))
            .await,
        1303,
        "carol",
    );
    let friends = list(&server, &alice, "/friend/get_friend_list", "alice", page(1, 10)).await;
    assert_eq!(friends["friendsInfo"][0]["remark"], "", "nothing changed");
    assert_err(
        &server
            .post("/friend/update_friends", Some(&alice), update(json!([])))
            .await,
        1001,
        "friendUserIDs",
    );
    assert_err(
        &server
            .post("/friend/update_friends", Some(&alice), update(json!(["bob", "bob"])))
            .await,
        1001,
        "twice",
    );
    assert_err(
        &server
            .post("/friend/update_friends", Some(&bob), update(json!(["bob"])))
            .await,
        1002,
        "",
    );
    assert_eq!(
        server
            .post("/friend/update_friends", Some(&alice), update(json!(["bob"])))
            .await["errCode"],
        0
    );
    let friends = list(&server, &alice, "/friend/get_friend_list", "alice", page(1, 10)).await;
    let bob_entry = &friends["friendsInfo"][0];
    assert_eq!(
        (
            bob_entry["remark"].clone(),
            bob_entry["ex"].clone(),
            bob_entry["isPinned"].clone()
        ),
        (json!("r"), json!("x"), json!(false))
    );
}

#[tokio::test]
async fn crossing_requests_and_twenty_concurrent_answers_make_one_friendship() {
    let server = Server::start();
    let alice = server.user("alice").await;
    let bob = server.user("bob").await;
    let mut calls = vec![];
    for _ in 0..20 {
        calls.push(answer(&server, &bob, "alice", "bob", 1));
    }
    let (a, b, answers) = tokio::join!(
        ask(&server, &alice, "alice", "bob"),
        ask(&server, &bob, "bob", "alice"),
        futures::future::join_all(calls)
    );
    assert_eq!(a["errCode"], 0, "{a}");
    assert!([0, 1304].contains(&b["errCode"].as_i64().unwrap()), "{b}");
    for reply in answers {
        assert!([0, 1004, 1305].contains(&reply["errCode"].as_i64().unwrap()), "{reply}");
    }
    assert_eq!(friend_ids(&server, &alice, "alice").await, ["bob"]);
    assert_eq!(friend_ids(&server, &bob, "bob").await, ["alice"]);
    assert_eq!(is_friend(&server, &bob, "alice", "bob").await, (true, true));
}

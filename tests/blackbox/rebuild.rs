//! `parley rebuild`: the read models rebuilt from the log answer exactly
//! as the live ones did.

use serde_json::json;

use crate::harness::*;

#[tokio::test]
async fn rebuilt_read_models_answer_every_query_as_before() {
    let dir = tempfile::tempdir().unwrap();
    let server = Server::start_in(dir.path(), &[]);
    let users = ["alice", "bob", "carol", "dave"];
    let mut tokens = Vec::new();
    for u in users {
        tokens.push(server.user(u).await);
    }
    for (i, u) in users.iter().enumerate().take(3) {
        let patch =
            json!({"userInfo": {"userID": u, "nickname": format!("{u}-{i}"), "faceURL": format!("https://f/{i}")}});
        assert_eq!(
            server.post("/user/update_user_info_ex", Some(&tokens[i]), patch).await["errCode"],
            0
        );
    }
    assert_eq!(server.register_in("2000", "alice", "other tenant").await["errCode"], 0);
    let other = server.login_in("2000", "alice").await;

    let friend = |from: &str, to: &str| json!({"fromUserID": from, "toUserID": to, "reqMsg": "hi"});
    let ok = |reply: serde_json::Value| assert_eq!(reply["errCode"], 0, "{reply}");
    ok(server
        .post("/friend/add_friend", Some(&tokens[0]), friend("alice", "bob"))
        .await);
    let agree = json!({"fromUserID": "alice", "toUserID": "bob", "handleResult": 1});
    ok(server
        .post("/friend/add_friend_response", Some(&tokens[1]), agree)
        .await);
    ok(server
        .post("/friend/add_friend", Some(&tokens[2]), friend("carol", "alice"))
        .await);
    let black = json!({"ownerUserID": "dave", "blackUserID": "bob"});
    ok(server.post("/friend/add_black", Some(&tokens[3]), black).await);
    let pin = json!({"ownerUserID": "alice", "friendUserIDs": ["bob"], "isPinned": true, "remark": "b"});
    ok(server.post("/friend/update_friends", Some(&tokens[0]), pin).await);

    let group = |id: &str, verify: i64| {
        json!({"ownerUserID": "alice", "adminUserIDs": ["bob"], "memberUserIDs": ["carol"],
            "groupInfo": {"groupID": id, "groupName": id, "groupType": 2, "needVerification": verify}})
    };
    ok(server
        .post("/group/create_group", Some(&tokens[0]), group("g1", 0))
        .await);
    ok(server
        .post("/group/create_group", Some(&tokens[0]), group("g2", 2))
        .await);
    let join = |id: &str| json!({"groupID": id, "joinSource": 3, "reqMessage": "me too"});
    ok(server.post("/group/join_group", Some(&tokens[3]), join("g1")).await);
    ok(server.post("/group/join_group", Some(&tokens[3]), join("g2")).await);
    let mute = json!({"groupID": "g2", "userID": "dave", "mutedSeconds": 600});
    ok(server.post("/group/mute_group_member", Some(&tokens[1]), mute).await);
    let transfer = json!({"groupID": "g2", "oldOwnerUserID": "alice", "newOwnerUserID": "carol"});
    ok(server.post("/group/transfer_group", Some(&tokens[0]), transfer).await);
    let kick = json!({"groupID": "g2", "kickedUserIDs": ["bob"]});
    ok(server.post("/group/kick_group", Some(&tokens[2]), kick).await);
    let notice = json!({"groupID": "g1", "notification": "read me", "groupName": "first"});
    ok(server.post("/group/set_group_info_ex", Some(&tokens[1]), notice).await);
    ok(server
        .post("/group/mute_group", Some(&tokens[0]), json!({"groupID": "g1"}))
        .await);
    let dismiss = json!({"groupID": "g1", "deleteMember": true});
    ok(server.post("/group/dismiss_group", Some(&tokens[0]), dismiss).await);

    let send = |from: &str, to: &str, group: &str, text: &str| {
        json!({"sendID": from, "recvID": to, "groupID": group, "sessionType": if group.is_empty() { 1 } else { 3 },
            "contentType": 101, "content": {"content": text}, "clientMsgID": format!("{from}-{text}")})
    };
    ok(server
        .post("/msg/send_msg", Some(&tokens[0]), send("alice", "bob", "", "one"))
        .await);
    ok(server
        .post("/msg/send_msg", Some(&tokens[1]), send("bob", "alice", "", "two"))
        .await);
    ok(server
        .post("/msg/send_msg", Some(&tokens[2]), send("carol", "", "g2", "three"))
        .await);
    ok(server
        .post("/msg/send_msg", Some(&tokens[3]), send("dave", "carol", "", "four"))
        .await);
    let more = [
        ("/msg/send_msg", 0, send("alice", "bob", "", "five")),
        (
            "/msg/revoke_msg",
            0,
            json!({"conversationID": "si_alice_bob", "seq": 3, "userID": "alice"}),
        ),
        (
            "/msg/mark_msgs_as_read",
            1,
            json!({"conversationID": "si_alice_bob", "seqs": [1], "userID": "bob"}),
        ),
        (
            "/msg/delete_msgs",
            3,
            json!({"conversationID": "sg_g2", "seqs": [1], "userID": "dave"}),
        ),
        (
            "/msg/clear_conversation_msg",
            2,
            json!({"conversationIDs": ["si_carol_dave"], "userID": "carol"}),
        ),
        (
            "/conversation/set_conversations",
            3,
            json!({"userID": "dave", "conversation": {"conversationID": "si_carol_dave", "isPinned": true, "recvMsgOpt": 2}}),
        ),
    ];
    for (path, i, body) in more {
        ok(server.post(path, Some(&tokens[i]), body).await);
    }

    let page = json!({"pageNumber": 1, "showNumber": 50});
    let mut queries = vec![(
        "/user/get_users_info",
        tokens[0].clone(),
        json!({"userIDs": ["dave", "alice", "ghost", "carol", "bob"]}),
    )];
    for (i, user) in users.iter().enumerate() {
        for path in [
            "/friend/get_friend_list",
            "/friend/get_friend_apply_list",
            "/friend/get_self_friend_apply_list",
            "/friend/get_black_list",
        ] {
            queries.push((path, tokens[i].clone(), json!({"userID": user, "pagination": page})));
        }
    }
    queries.push((
        "/group/get_groups_info",
        tokens[3].clone(),
        json!({"groupIDs": ["g2", "g1", "nope"]}),
    ));
    for (i, user) in users.iter().enumerate() {
        for path in [
            "/group/get_joined_group_list",
            "/group/get_recv_group_applicationList",
            "/group/get_user_req_group_applicationList",
        ] {
            queries.push((path, tokens[i].clone(), json!({"fromUserID": user, "pagination": page})));
        }
        let members = json!({"groupID": "g2", "pagination": page, "keyword": if i == 0 { "" } else { "a" }});
        queries.push(("/group/get_group_member_list", tokens[2].clone(), members));
    }
    for (i, user) in users.iter().enumerate() {
        queries.push(("/msg/newest_seq", tokens[i].clone(), json!({"userID": user})));
    }
    let ranges = [
        json!({"conversationID": "si_alice_bob", "begin": 1, "end": 10, "num": 10}),
        json!({"conversationID": "sg_g2", "begin": 1, "end": 10, "num": 10}),
    ];
    for (i, user) in users.iter().enumerate().skip(2) {
        let body = json!({"userID": user, "seqRanges": ranges[1..].to_vec()});
        queries.push(("/msg/pull_msg_by_seq", tokens[i].clone(), body));
    }
    queries.push((
        "/msg/pull_msg_by_seq",
        tokens[0].clone(),
        json!({"userID": "alice", "seqRanges": ranges[..1].to_vec(), "order": 1}),
    ));
    for (i, user) in users.iter().enumerate() {
        for path in [
            "/conversation/get_sorted_conversation_list",
            "/conversation/get_pinned_conversation_ids",
            "/conversation/get_not_notify_conversation_ids",
        ] {
            queries.push((path, tokens[i].clone(), json!({"userID": user})));
        }
    }
    // Every notification conversation of every user, page by page.
    let listed = queries.len();
    let mut notified = 0;
    for (i, user) in users.iter().enumerate() {
        let newest = server
            .post("/msg/newest_seq", Some(&tokens[i]), json!({"userID": user}))
            .await;
        for (conversation, max) in newest["data"]["maxSeqs"].as_object().unwrap() {
            if !["n_", "ng_", "na_", "sn_"].iter().any(|p| conversation.starts_with(p)) {
                continue;
            }
            notified += 1;
            for begin in (1..=max.as_u64().unwrap()).step_by(5) {
                let range = json!({"conversationID": conversation, "begin": begin, "end": begin + 4, "num": 5});
                let body = json!({"userID": user, "seqRanges": [range]});
                queries.push(("/msg/pull_msg_by_seq", tokens[i].clone(), body));
            }
        }
    }
    assert!(
        notified >= 8,
        "friend, group, application and profile notifications: {notified}"
    );
    let mut before = Vec::new();
    for (path, token, body) in &queries {
        before.push(server.post(path, Some(token), body.clone()).await);
    }
    assert_eq!(before[1]["data"]["total"], 1, "alice has a friend: {}", before[1]);
    assert_eq!(before[2]["data"]["total"], 1, "alice has a request: {}", before[2]);
    let groups = &before[17]["data"]["groupInfos"];
    assert_eq!(groups[0]["ownerUserID"], "carol", "{groups}");
    assert_eq!(groups[1]["status"], 2, "{groups}");
    assert_eq!(before[34]["data"]["maxSeqs"]["si_alice_bob"], 3, "{}", before[34]);
    let alices = before[..listed].iter().rev().nth(11).unwrap();
    assert_eq!(alices["data"]["unreadTotal"], 1, "carol's group message: {alices}");
    let daves = before[..listed].iter().rev().nth(1).unwrap();
    assert_eq!(daves["data"]["conversationIDs"], json!(["si_carol_dave"]), "{daves}");
    let query = json!({"userIDs": ["alice"]});
    let before_other = server
        .post_as("2000", "/user/get_users_info", Some(&other), query.clone())
        .await;
    assert!(server.stop().success());

    let out = parley().arg("rebuild").args(server.backend_args()).output().unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let report = String::from_utf8(out.stdout).unwrap();
    assert!(
        report.contains("from 41 events") && report.contains("events/s"),
        "{report}"
    );

    let server = Server::start_in(dir.path(), &[]);
    for ((path, token, body), before) in queries.iter().zip(before) {
        assert_eq!(
            server.post(path, Some(token), body.clone()).await,
            before,
            "{path} {body}"
        );
    }
    assert_eq!(
        server
            .post_as("2000", "/user/get_users_info", Some(&other), query)
            .await,
        before_other
    );
    for u in users {
        server.login(u).await;
    }
}

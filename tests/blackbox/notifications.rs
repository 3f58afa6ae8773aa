//! Notifications: each kind reaches, online at once, exactly the users it
//! concerns (the actor's other devices included) and nobody else; an
//! offline user pulls exactly what it missed, in seq order; notifications
//! are no unread messages.

use serde_json::{json, Value};

use crate::chat::*;
use crate::harness::*;

const FRIEND_APPLICATION_APPROVED: i64 = 1201;
const FRIEND_APPLICATION_REJECTED: i64 = 1202;
const FRIEND_APPLICATION: i64 = 1203;
const FRIEND_ADDED: i64 = 1204;
const FRIEND_DELETED: i64 = 1205;
const FRIEND_REMARK_SET: i64 = 1206;
const BLACK_ADDED: i64 = 1207;
const BLACK_DELETED: i64 = 1208;
const FRIEND_INFO_UPDATED: i64 = 1209;
const CONVERSATION_CHANGED: i64 = 1300;
const USER_INFO_UPDATED: i64 = 1303;
const GROUP_CREATED: i64 = 1501;
const GROUP_INFO_SET: i64 = 1502;
const JOIN_GROUP_APPLICATION: i64 = 1503;
const MEMBER_QUIT: i64 = 1504;
const GROUP_APPLICATION_ACCEPTED: i64 = 1505;
const GROUP_APPLICATION_REJECTED: i64 = 1506;
const GROUP_OWNER_TRANSFERRED: i64 = 1507;
const MEMBER_KICKED: i64 = 1508;
const MEMBER_INVITED: i64 = 1509;
const MEMBER_ENTER: i64 = 1510;
const GROUP_DISMISSED: i64 = 1511;
const GROUP_MEMBER_MUTED: i64 = 1512;
const GROUP_MEMBER_CANCEL_MUTED: i64 = 1513;
const GROUP_MUTED: i64 = 1514;
const GROUP_CANCEL_MUTED: i64 = 1515;
const GROUP_NOTIFICATION_SET: i64 = 1519;
const GROUP_NAME_SET: i64 = 1520;

async fn call(server: &Server, token: &str, path: &str, body: Value) -> Value {
    ok(server.post(path, Some(token), body).await)
}

/// The next push must be one notification of `kind` in `conversation`;
/// returns it, its detail parsed.
async fn expect(ws: &mut Ws, conversation: &str, kind: i64) -> Value {
    let push = ws.notice().await;
    let convs = push["data"]["notificationMsgs"]
        .as_object()
        .unwrap_or_else(|| panic!("{} expected a notification, got {push}", ws.user));
    assert_eq!(convs.len(), 1, "{push}");
    let msgs = push["data"]["notificationMsgs"][conversation]["Msgs"]
        .as_array()
        .unwrap_or_else(|| panic!("{} expected {kind} in {conversation}, got {push}", ws.user));
    assert_eq!(msgs.len(), 1, "{push}");
    let mut msg = msgs[0].clone();
    assert_eq!(msg["contentType"], kind, "{} got {msg}", ws.user);
    assert_eq!(msg["msgFrom"], 200, "{msg}");
    let detail: Value = serde_json::from_str(msg["content"]["detail"].as_str().expect("a detail")).unwrap();
    msg["detail"] = detail;
    msg
}

/// Everyone in `sessions` gets the notification.
async fn all_get(sessions: &mut [&mut Ws], conversation: &str, kind: i64) -> Vec<Value> {
    let mut got = Vec::new();
    for ws in sessions.iter_mut() {
        got.push(expect(ws, conversation, kind).await);
    }
    got
}

/// Reads the notifications that arrive until none has for a while.
async fn drain(sessions: &mut [&mut Ws]) {
    for ws in sessions.iter_mut() {
        while ws.notice_within(QUIET).await.is_some() {}
    }
}

/// No notification arrives for a while.
async fn quiet(sessions: &mut [&mut Ws]) {
    for ws in sessions.iter_mut() {
        if let Some(frame) = ws.notice_within(QUIET).await {
            panic!("{} expected no notification, got {frame}", ws.user);
        }
    }
}

/// `user`'s notification conversations and their max seqs.
async fn notification_seqs(server: &Server, token: &str, user: &str) -> Vec<(String, u64)> {
    let data = call(server, token, "/msg/newest_seq", json!({ "userID": user })).await;
    data["maxSeqs"]
        .as_object()
        .unwrap()
        .iter()
        .filter(|(c, _)| ["n_", "ng_", "na_", "sn_"].iter().any(|p| c.starts_with(p)))
        .map(|(c, s)| (c.clone(), s.as_u64().unwrap()))
        .collect()
}

/// The contentTypes `user` pulls from `conversation` (seqs 1..), checking
/// that the seqs are dense from the first one shown.
async fn pulled_kinds(server: &Server, token: &str, user: &str, conversation: &str) -> Vec<i64> {
    let body =
        json!({"userID": user, "seqRanges": [{"conversationID": conversation, "begin": 1, "end": 1000, "num": 100}]});
    let data = call(server, token, "/msg/pull_msg_by_seq", body).await;
    let msgs = data["notificationMsgs"][conversation]["Msgs"]
        .as_array()
        .unwrap_or_else(|| panic!("{data}"));
    assert!(data["msgs"].as_object().unwrap().is_empty(), "{data}");
    let seqs: Vec<u64> = msgs.iter().map(|m| m["seq"].as_u64().unwrap()).collect();
    if let Some(first) = seqs.first() {
        let dense: Vec<u64> = (*first..first + seqs.len() as u64).collect();
        assert_eq!(seqs, dense, "{user} {conversation}: {data}");
    }
    msgs.iter().map(|m| m["contentType"].as_i64().unwrap()).collect()
}

#[tokio::test]
async fn friend_notifications_reach_both_users_or_only_the_owner() {
    let server = Server::start();
    let [alice, bob, carol] = users(&server, ["alice", "bob", "carol"]).await;
    let mut alice_phone = Ws::connect(&server, &alice, "alice").await;
    let mut alice_desk = Ws::connect(&server, &alice, "alice").await;
    let mut bobs = Ws::connect(&server, &bob, "bob").await;
    let mut carols = Ws::connect(&server, &carol, "carol").await;
    // Another tenant's bob hears nothing of this tenant's bob.
    assert_eq!(server.register_in("2000", "bob", "Other Bob").await["errCode"], 0);
    let other_bob = server.login_in("2000", "bob").await;
    let mut other_bobs = Ws::connect(&server, &other_bob, "bob").await;
    const AB: &str = "n_alice_bob";

    let ask = json!({"fromUserID": "alice", "toUserID": "bob", "reqMsg": "hi bob", "ex": ""});
    call(&server, &alice, "/friend/add_friend", ask).await;
    let got = all_get(
        &mut [&mut bobs, &mut alice_phone, &mut alice_desk],
        AB,
        FRIEND_APPLICATION,
    )
    .await;
    assert_eq!(got[0]["detail"]["fromUserID"], "alice", "{}", got[0]);
    assert_eq!(got[0]["detail"]["toUserID"], "bob");
    assert_eq!(got[0]["detail"]["reqMsg"], "hi bob");
    assert_eq!(got[0]["detail"]["opUserID"], "alice");
    assert_eq!(got[0]["sendID"], "alice");
    assert_eq!(got[0]["seq"], 1);

    let agree = json!({"fromUserID": "alice", "toUserID": "bob", "handleResult": 1, "handleMsg": "ok"});
    call(&server, &bob, "/friend/add_friend_response", agree).await;
    all_get(
        &mut [&mut bobs, &mut alice_phone, &mut alice_desk],
        AB,
        FRIEND_APPLICATION_APPROVED,
    )
    .await;
    // Each hears that its own list gained the other.
    let added = all_get(&mut [&mut bobs, &mut alice_phone, &mut alice_desk], AB, FRIEND_ADDED).await;
    assert_eq!(added[0]["detail"]["ownerUserID"], "bob", "{}", added[0]);
    assert_eq!(added[1]["detail"]["ownerUserID"], "alice", "{}", added[1]);

    // The owner's devices only, from here on.
    let remark = json!({"ownerUserID": "alice", "friendUserIDs": ["bob"], "remark": "Bobby"});
    call(&server, &alice, "/friend/update_friends", remark).await;
    let got = all_get(&mut [&mut alice_phone, &mut alice_desk], AB, FRIEND_REMARK_SET).await;
    assert_eq!(got[0]["detail"]["remark"], "Bobby");
    let pin = json!({"ownerUserID": "alice", "friendUserIDs": ["bob"], "isPinned": true});
    call(&server, &alice, "/friend/update_friends", pin).await;
    all_get(&mut [&mut alice_phone, &mut alice_desk], AB, FRIEND_INFO_UPDATED).await;
    let black = json!({"ownerUserID": "alice", "blackUserID": "bob"});
    call(&server, &alice, "/friend/add_black", black.clone()).await;
    all_get(&mut [&mut alice_phone, &mut alice_desk], AB, BLACK_ADDED).await;
    call(&server, &alice, "/friend/remove_black", black).await;
    all_get(&mut [&mut alice_phone, &mut alice_desk], AB, BLACK_DELETED).await;
    quiet(&mut [&mut bobs, &mut carols]).await;

    let delete = json!({"ownerUserID": "bob", "friendUserID": "alice"});
    call(&server, &bob, "/friend/delete_friend", delete).await;
    all_get(&mut [&mut bobs, &mut alice_phone, &mut alice_desk], AB, FRIEND_DELETED).await;

    // A rejected request, between bob and carol; alice hears nothing.
    let ask = json!({"fromUserID": "carol", "toUserID": "bob", "reqMsg": "", "ex": ""});
    call(&server, &carol, "/friend/add_friend", ask).await;
    all_get(&mut [&mut bobs, &mut carols], "n_bob_carol", FRIEND_APPLICATION).await;
    let refuse = json!({"fromUserID": "carol", "toUserID": "bob", "handleResult": -1, "handleMsg": "no"});
    call(&server, &bob, "/friend/add_friend_response", refuse).await;
    all_get(
        &mut [&mut bobs, &mut carols],
        "n_bob_carol",
        FRIEND_APPLICATION_REJECTED,
    )
    .await;
    quiet(&mut [&mut alice_phone, &mut alice_desk, &mut other_bobs]).await;
    let other = server
        .post_as("2000", "/msg/newest_seq", Some(&other_bob), json!({"userID": "bob"}))
        .await;
    assert_eq!(other["data"]["maxSeqs"], json!({}), "{other}");

    // Pulled: each user's own dense seqs; bob was never told of the
    // remark, the pin or the blacklist.
    assert_eq!(
        pulled_kinds(&server, &bob, "bob", AB).await,
        [
            FRIEND_APPLICATION,
            FRIEND_APPLICATION_APPROVED,
            FRIEND_ADDED,
            FRIEND_DELETED
        ]
    );
    assert_eq!(
        pulled_kinds(&server, &alice, "alice", AB).await,
        [
            FRIEND_APPLICATION,
            FRIEND_APPLICATION_APPROVED,
            FRIEND_ADDED,
            FRIEND_REMARK_SET,
            FRIEND_INFO_UPDATED,
            BLACK_ADDED,
            BLACK_DELETED,
            FRIEND_DELETED
        ]
    );
    assert_eq!(
        notification_seqs(&server, &carol, "carol").await,
        [("n_bob_carol".to_owned(), 2)]
    );
    // Nobody pulls another pair's notifications.
    let body = json!({"userID": "carol", "seqRanges": [{"conversationID": AB, "begin": 1, "end": 10, "num": 10}]});
    assert_err(&server.post("/msg/pull_msg_by_seq", Some(&carol), body).await, 1004, AB);
    let body = json!({"userID": "alice", "seqRanges": [{"conversationID": AB, "begin": 1, "end": 10, "num": 10}]});
    assert_eq!(
        server.post("/msg/pull_msg_by_seq", Some(&carol), body).await["errCode"],
        1002
    );
}

#[tokio::test]
async fn group_notifications_follow_membership_and_applications_stay_with_managers() {
    let server = Server::start();
    let [owner, admin, member, applicant, outsider] =
        users(&server, ["owner", "admin", "member", "applicant", "outsider"]).await;
    let mut owners = Ws::connect(&server, &owner, "owner").await;
    let mut admins = Ws::connect(&server, &admin, "admin").await;
    let mut members = Ws::connect(&server, &member, "member").await;
    let mut applicants = Ws::connect(&server, &applicant, "applicant").await;
    let mut outsiders = Ws::connect(&server, &outsider, "outsider").await;
    const G: &str = "n_g1";
    const APPLY: &str = "na_g1";

    let create = json!({"ownerUserID": "owner", "adminUserIDs": ["admin"], "memberUserIDs": ["member"],
        "groupInfo": {"groupID": "g1", "groupName": "Team", "groupType": 2, "needVerification": 0}});
    call(&server, &owner, "/group/create_group", create).await;
    let created = all_get(&mut [&mut owners, &mut admins, &mut members], G, GROUP_CREATED).await;
    assert_eq!(created[2]["detail"]["group"]["groupName"], "Team", "{}", created[2]);
    assert_eq!(created[2]["detail"]["group"]["memberCount"], 3, "{}", created[2]);
    let initial = &created[2]["detail"]["memberUserIDs"];
    assert_eq!(*initial, json!(["owner", "admin", "member"]), "{}", created[2]);
    assert_eq!(created[2]["seq"], 1);
    assert_eq!(created[2]["groupID"], "g1");

    // An application goes to the owner, the admins and the applicant only.
    let apply = json!({"groupID": "g1", "reqMessage": "let me in", "joinSource": 3});
    call(&server, &applicant, "/group/join_group", apply).await;
    let got = all_get(
        &mut [&mut owners, &mut admins, &mut applicants],
        APPLY,
        JOIN_GROUP_APPLICATION,
    )
    .await;
    assert_eq!(got[0]["detail"]["reqMsg"], "let me in", "{}", got[0]);
    quiet(&mut [&mut members, &mut outsiders]).await;

    let accept = json!({"groupID": "g1", "fromUserID": "applicant", "handleResult": 1, "handledMsg": "welcome"});
    call(&server, &admin, "/group/group_application_response", accept).await;
    all_get(
        &mut [&mut owners, &mut admins, &mut applicants],
        APPLY,
        GROUP_APPLICATION_ACCEPTED,
    )
    .await;
    let entered = all_get(
        &mut [&mut owners, &mut admins, &mut members, &mut applicants],
        G,
        MEMBER_ENTER,
    )
    .await;
    assert_eq!(
        entered[3]["detail"]["members"][0]["userID"], "applicant",
        "{}",
        entered[3]
    );
    assert_eq!(entered[3]["detail"]["group"]["memberCount"], 4);

    let rename = json!({"groupID": "g1", "groupName": "Crew"});
    call(&server, &owner, "/group/set_group_info_ex", rename).await;
    let mut all = [&mut owners, &mut admins, &mut members, &mut applicants];
    let renamed = all_get(&mut all, G, GROUP_NAME_SET).await;
    assert_eq!(renamed[1]["detail"]["group"]["groupName"], "Crew");
    let announce = json!({"groupID": "g1", "notification": "read me"});
    call(&server, &admin, "/group/set_group_info_ex", announce).await;
    let announced = all_get(&mut all, G, GROUP_NOTIFICATION_SET).await;
    assert_eq!(announced[2]["detail"]["group"]["notification"], "read me");
    assert_eq!(announced[2]["detail"]["opUserID"], "admin");
    let intro = json!({"groupID": "g1", "introduction": "we ship", "groupName": "Crew 2"});
    call(&server, &owner, "/group/set_group_info_ex", intro).await;
    all_get(&mut all, G, GROUP_INFO_SET).await;
    let mute = json!({"groupID": "g1", "userID": "member", "mutedSeconds": 60});
    call(&server, &admin, "/group/mute_group_member", mute).await;
    let muted = all_get(&mut all, G, GROUP_MEMBER_MUTED).await;
    assert!(muted[2]["detail"]["members"][0]["muteEndTime"].as_i64().unwrap() > now_ms());
    let unmute = json!({"groupID": "g1", "userID": "member"});
    call(&server, &admin, "/group/cancel_mute_group_member", unmute).await;
    all_get(&mut all, G, GROUP_MEMBER_CANCEL_MUTED).await;
    call(&server, &owner, "/group/mute_group", json!({"groupID": "g1"})).await;
    all_get(&mut all, G, GROUP_MUTED).await;
    call(&server, &owner, "/group/cancel_mute_group", json!({"groupID": "g1"})).await;
    all_get(&mut all, G, GROUP_CANCEL_MUTED).await;

    // The kicked member hears of its kick, and of nothing after it.
    let kick = json!({"groupID": "g1", "kickedUserIDs": ["member"], "reason": "bye"});
    call(&server, &admin, "/group/kick_group", kick).await;
    all_get(&mut all, G, MEMBER_KICKED).await;
    let [owners, admins, members, applicants] = all;
    let invite = json!({"groupID": "g1", "invitedUserIDs": ["outsider"], "reason": "come"});
    call(&server, &owner, "/group/invite_user_to_group", invite).await;
    let invited = all_get(&mut [&mut *owners, &mut *admins, &mut *applicants], G, MEMBER_INVITED).await;
    assert_eq!(invited[0]["detail"]["inviterUserID"], "owner");
    // The invited user sees the group's notifications from its own entry on.
    let entry = expect(&mut outsiders, G, MEMBER_INVITED).await;
    quiet(&mut [&mut *members]).await;

    call(
        &server,
        &applicant,
        "/group/quit_group",
        json!({"groupID": "g1", "userID": "applicant"}),
    )
    .await;
    all_get(
        &mut [&mut *owners, &mut *admins, &mut *applicants, &mut outsiders],
        G,
        MEMBER_QUIT,
    )
    .await;
    let transfer = json!({"groupID": "g1", "oldOwnerUserID": "owner", "newOwnerUserID": "admin"});
    call(&server, &owner, "/group/transfer_group", transfer).await;
    let got = all_get(
        &mut [&mut *owners, &mut *admins, &mut outsiders],
        G,
        GROUP_OWNER_TRANSFERRED,
    )
    .await;
    assert_eq!(got[0]["detail"]["group"]["ownerUserID"], "admin");
    // The old owner is an ordinary member now: applications skip it.
    let apply = json!({"groupID": "g1", "reqMessage": "again", "joinSource": 3});
    call(&server, &applicant, "/group/join_group", apply).await;
    all_get(&mut [&mut *admins, &mut *applicants], APPLY, JOIN_GROUP_APPLICATION).await;
    let refuse = json!({"groupID": "g1", "fromUserID": "applicant", "handleResult": -1, "handledMsg": "no"});
    call(&server, &admin, "/group/group_application_response", refuse).await;
    all_get(&mut [&mut *admins, &mut *applicants], APPLY, GROUP_APPLICATION_REJECTED).await;
    quiet(&mut [&mut *owners, &mut outsiders]).await;

    let dismiss = json!({"groupID": "g1", "deleteMember": true});
    call(&server, &admin, "/group/dismiss_group", dismiss).await;
    all_get(&mut [&mut *owners, &mut *admins, &mut outsiders], G, GROUP_DISMISSED).await;
    quiet(&mut [&mut *members, &mut *applicants]).await;

    // Pulled: each sees its part of the group's line, densely.
    let head = [
        GROUP_CREATED,
        MEMBER_ENTER,
        GROUP_NAME_SET,
        GROUP_NOTIFICATION_SET,
        GROUP_INFO_SET,
    ];
    let mutes = [
        GROUP_MEMBER_MUTED,
        GROUP_MEMBER_CANCEL_MUTED,
        GROUP_MUTED,
        GROUP_CANCEL_MUTED,
    ];
    let until_kick: Vec<i64> = head.iter().chain(&mutes).copied().chain([MEMBER_KICKED]).collect();
    assert_eq!(pulled_kinds(&server, &member, "member", G).await, until_kick);
    let mut owners_line = until_kick.clone();
    owners_line.extend([MEMBER_INVITED, MEMBER_QUIT, GROUP_OWNER_TRANSFERRED, GROUP_DISMISSED]);
    assert_eq!(pulled_kinds(&server, &owner, "owner", G).await, owners_line);
    assert_eq!(
        pulled_kinds(&server, &applicant, "applicant", G).await,
        [&until_kick[1..], &[MEMBER_INVITED, MEMBER_QUIT]].concat()
    );
    assert_eq!(
        pulled_kinds(&server, &outsider, "outsider", G).await,
        [MEMBER_INVITED, MEMBER_QUIT, GROUP_OWNER_TRANSFERRED, GROUP_DISMISSED]
    );
    let seqs = notification_seqs(&server, &outsider, "outsider").await;
    let line = owners_line.len() as u64;
    assert_eq!(seqs, [(G.to_owned(), line)], "the line's max seq");
    let min = call(&server, &outsider, "/msg/newest_seq", json!({"userID": "outsider"})).await;
    assert_eq!(min["minSeqs"][G], entry["seq"], "{min}");
    assert_eq!(
        pulled_kinds(&server, &applicant, "applicant", APPLY).await,
        [
            JOIN_GROUP_APPLICATION,
            GROUP_APPLICATION_ACCEPTED,
            JOIN_GROUP_APPLICATION,
            GROUP_APPLICATION_REJECTED
        ]
    );
    assert_eq!(
        pulled_kinds(&server, &owner, "owner", APPLY).await,
        [JOIN_GROUP_APPLICATION, GROUP_APPLICATION_ACCEPTED]
    );
    assert!(notification_seqs(&server, &member, "member")
        .await
        .iter()
        .all(|(c, _)| c != APPLY));
}

#[tokio::test]
async fn profile_and_setting_changes_reach_friends_fellow_members_and_own_devices() {
    let server = Server::start();
    let [alice, bob, carol, dave] = users(&server, ["alice", "bob", "carol", "dave"]).await;
    let ask = json!({"fromUserID": "alice", "toUserID": "bob", "reqMsg": "", "ex": ""});
    call(&server, &alice, "/friend/add_friend", ask).await;
    let agree = json!({"fromUserID": "alice", "toUserID": "bob", "handleResult": 1, "handleMsg": ""});
    call(&server, &bob, "/friend/add_friend_response", agree).await;
    create_group(&server, &carol, "carol", "g1", &[], &["alice"]).await;

    let mut alice_phone = Ws::connect(&server, &alice, "alice").await;
    let mut alice_desk = Ws::connect(&server, &alice, "alice").await;
    let mut bobs = Ws::connect(&server, &bob, "bob").await;
    let mut carols = Ws::connect(&server, &carol, "carol").await;
    let mut daves = Ws::connect(&server, &dave, "dave").await;
    // The setup's own notifications may still be on their way.
    drain(&mut [&mut alice_phone, &mut alice_desk, &mut bobs, &mut carols, &mut daves]).await;

    let patch = json!({"userInfo": {"userID": "alice", "nickname": "Ally"}});
    call(&server, &alice, "/user/update_user_info_ex", patch).await;
    let got = all_get(
        &mut [&mut alice_phone, &mut alice_desk, &mut bobs, &mut carols],
        "sn_alice",
        USER_INFO_UPDATED,
    )
    .await;
    assert_eq!(got[2]["detail"]["userID"], "alice", "{}", got[2]);
    quiet(&mut [&mut daves]).await;

    let pin = json!({"userID": "alice", "conversation": {"conversationID": "sg_g1", "isPinned": true}});
    call(&server, &alice, "/conversation/set_conversations", pin).await;
    let got = all_get(
        &mut [&mut alice_phone, &mut alice_desk],
        "sn_alice",
        CONVERSATION_CHANGED,
    )
    .await;
    assert_eq!(got[0]["detail"]["conversationID"], "sg_g1", "{}", got[0]);
    assert_eq!(got[0]["detail"]["isPinned"], true);
    quiet(&mut [&mut bobs, &mut carols, &mut daves]).await;

    assert_eq!(
        pulled_kinds(&server, &alice, "alice", "sn_alice").await,
        [USER_INFO_UPDATED, CONVERSATION_CHANGED]
    );
    assert_eq!(
        pulled_kinds(&server, &bob, "bob", "sn_alice").await,
        [USER_INFO_UPDATED]
    );
    assert!(notification_seqs(&server, &dave, "dave").await.is_empty());

    // No notification counts as unread, nor lists as a conversation.
    for (token, user) in [(&alice, "alice"), (&bob, "bob"), (&carol, "carol")] {
        let list = call(
            &server,
            token,
            "/conversation/get_sorted_conversation_list",
            json!({"userID": user}),
        )
        .await;
        assert_eq!(list["unreadTotal"], 0, "{user}: {list}");
        let text = list.to_string();
        let noticed = ["\"n_", "\"ng_", "\"na_", "\"sn_"].iter().any(|p| text.contains(p));
        assert!(!noticed, "{user}: {list}");
    }
}

/// A user who was offline pulls, over the WebSocket, exactly what it
/// missed, in seq order, from where it stopped.
#[tokio::test]
async fn an_offline_user_catches_up_exactly() {
    let server = Server::start();
    let [alice, bob] = users(&server, ["alice", "bob"]).await;
    create_group(&server, &alice, "alice", "g1", &[], &["bob"]).await;
    let mut bobs = Ws::connect(&server, &bob, "bob").await;
    let newest = bobs.request(WS_NEWEST_SEQ, json!({"userID": "bob"})).await;
    let seen = newest["data"]["maxSeqs"]["n_g1"].as_u64().unwrap();
    assert_eq!(seen, 1, "{newest}");
    drop(bobs);

    for name in ["one", "two", "three", "four", "five"] {
        let rename = json!({"groupID": "g1", "groupName": name});
        call(&server, &alice, "/group/set_group_info_ex", rename).await;
    }
    let mut bobs = Ws::connect(&server, &bob, "bob").await;
    let newest = bobs.request(WS_NEWEST_SEQ, json!({"userID": "bob"})).await;
    let max = newest["data"]["maxSeqs"]["n_g1"].as_u64().unwrap();
    assert_eq!(max, seen + 5, "{newest}");
    let range = json!({"conversationID": "n_g1", "begin": seen + 1, "end": max, "num": 100});
    let pulled = bobs
        .request(WS_PULL, json!({"userID": "bob", "seqRanges": [range]}))
        .await;
    let msgs = pulled["data"]["notificationMsgs"]["n_g1"]["Msgs"]
        .as_array()
        .unwrap()
        .clone();
    let seqs: Vec<u64> = msgs.iter().map(|m| m["seq"].as_u64().unwrap()).collect();
    assert_eq!(seqs, (seen + 1..=max).collect::<Vec<_>>(), "{pulled}");
    let names: Vec<String> = msgs
        .iter()
        .map(|m| {
            let detail: Value = serde_json::from_str(m["content"]["detail"].as_str().unwrap()).unwrap();
            detail["group"]["groupName"].as_str().unwrap().to_owned()
        })
        .collect();
    assert_eq!(names, ["one", "two", "three", "four", "five"]);
    assert_eq!(pulled["data"]["notificationMsgs"]["n_g1"]["isEnd"], true);
}

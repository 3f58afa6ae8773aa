//! `/group/*`: creation, info, joining and join requests, roles, kicks,
//! invitations, mutes, dismissal, member and group lists, and the member
//! count that must always equal the member list's total.

use futures::future::join_all;
use serde_json::{json, Value};

use crate::harness::*;

/// Roles as the API reports them.
const ROLE_OWNER: i64 = 100;
const ROLE_ADMIN: i64 = 60;
const ROLE_MEMBER: i64 = 20;

/// needVerification: 0 applications need approval (invitations join), 1
/// everyone needs approval unless invited by the owner or an admin, 2 join
/// directly.
const VERIFY_APPLICATIONS: i64 = 0;
const VERIFY_ALL: i64 = 1;
const VERIFY_NONE: i64 = 2;

fn page(n: i64, size: i64) -> Value {
    json!({"pageNumber": n, "showNumber": size})
}

fn create_body(owner: &str, group_id: &str, need_verification: i64, admins: &[&str], members: &[&str]) -> Value {
    json!({
        "ownerUserID": owner,
        "adminUserIDs": admins,
        "memberUserIDs": members,
        "groupInfo": {"groupID": group_id, "groupName": "Team", "groupType": 2, "needVerification": need_verification},
    })
}

/// Creates `group_id` (as `token`, for `owner`); returns its groupInfo.
async fn create(
    server: &Server,
    token: &str,
    owner: &str,
    group_id: &str,
    need_verification: i64,
    admins: &[&str],
    members: &[&str],
) -> Value {
    let body = create_body(owner, group_id, need_verification, admins, members);
    let data = ok(server.post("/group/create_group", Some(token), body).await);
    data["groupInfo"].clone()
}

/// get_groups_info of one group that exists.
async fn info(server: &Server, group_id: &str) -> Value {
    let reply = server
        .post(
            "/group/get_groups_info",
            Some(&admin_token()),
            json!({"groupIDs": [group_id]}),
        )
        .await;
    let infos = ok(reply)["groupInfos"].clone();
    assert_eq!(infos.as_array().unwrap().len(), 1, "{infos}");
    infos[0].clone()
}

/// The whole member list (read by the app admin) as (userID, roleLevel),
/// in list order; checks that its total is the group's memberCount.
async fn roster(server: &Server, group_id: &str) -> Vec<(String, i64)> {
    let body = json!({"groupID": group_id, "pagination": page(1, 1000)});
    let data = ok(server
        .post("/group/get_group_member_list", Some(&admin_token()), body)
        .await);
    let members: Vec<(String, i64)> = data["members"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| {
            (
                m["userID"].as_str().unwrap().to_owned(),
                m["roleLevel"].as_i64().unwrap(),
            )
        })
        .collect();
    assert_eq!(data["total"], members.len(), "{data}");
    let count = info(server, group_id).await["memberCount"].clone();
    assert_eq!(count, members.len(), "memberCount is the member list's total: {data}");
    members
}

fn ranks(members: &[(&str, i64)]) -> Vec<(String, i64)> {
    members.iter().map(|(u, r)| (u.to_string(), *r)).collect()
}

/// The member record of `user` (read by the app admin); `Null` if not a member.
async fn member(server: &Server, group_id: &str, user: &str) -> Value {
    let body = json!({"groupID": group_id, "userIDs": [user]});
    let data = ok(server
        .post("/group/get_group_members_info", Some(&admin_token()), body)
        .await);
    let members = data["members"].as_array().unwrap();
    assert!(members.len() <= 1, "{data}");
    members.first().cloned().unwrap_or(Value::Null)
}

fn ids(list: &Value, field: &str) -> Vec<String> {
    list.as_array()
        .unwrap_or_else(|| panic!("not a list: {list}"))
        .iter()
        .map(|item| item[field].as_str().unwrap().to_owned())
        .collect()
}

async fn join(server: &Server, token: &str, group_id: &str) -> Value {
    let body = json!({"groupID": group_id, "reqMessage": "let me in", "joinSource": 3});
    server.post("/group/join_group", Some(token), body).await
}

async fn respond(server: &Server, token: &str, group_id: &str, applicant: &str, result: i64) -> Value {
    let body = json!({"groupID": group_id, "fromUserID": applicant, "handleResult": result, "handledMsg": "re"});
    server
        .post("/group/group_application_response", Some(token), body)
        .await
}

async fn quit(server: &Server, token: &str, group_id: &str, user: &str) -> Value {
    let body = json!({"groupID": group_id, "userID": user});
    server.post("/group/quit_group", Some(token), body).await
}

async fn transfer(server: &Server, token: &str, group_id: &str, old: &str, new: &str) -> Value {
    let body = json!({"groupID": group_id, "oldOwnerUserID": old, "newOwnerUserID": new});
    server.post("/group/transfer_group", Some(token), body).await
}

async fn kick(server: &Server, token: &str, group_id: &str, users: &[&str]) -> Value {
    let body = json!({"groupID": group_id, "kickedUserIDs": users, "reason": "bye"});
    server.post("/group/kick_group", Some(token), body).await
}

async fn invite(server: &Server, token: &str, group_id: &str, users: &[&str]) -> Value {
    let body = json!({"groupID": group_id, "invitedUserIDs": users, "reason": "come"});
    server.post("/group/invite_user_to_group", Some(token), body).await
}

async fn dismiss(server: &Server, token: &str, group_id: &str, delete_member: bool) -> Value {
    let body = json!({"groupID": group_id, "deleteMember": delete_member});
    server.post("/group/dismiss_group", Some(token), body).await
}

async fn mute(server: &Server, token: &str, group_id: &str, user: &str, seconds: i64) -> Value {
    let body = json!({"groupID": group_id, "userID": user, "mutedSeconds": seconds});
    server.post("/group/mute_group_member", Some(token), body).await
}

async fn unmute(server: &Server, token: &str, group_id: &str, user: &str) -> Value {
    let body = json!({"groupID": group_id, "userID": user});
    server.post("/group/cancel_mute_group_member", Some(token), body).await
}

async fn set_info(server: &Server, token: &str, changes: Value) -> Value {
    server.post("/group/set_group_info_ex", Some(token), changes).await
}

async fn group_only(server: &Server, token: &str, path: &str, group_id: &str) -> Value {
    server.post(path, Some(token), json!({"groupID": group_id})).await
}

/// One of a user's lists: `/group/get_joined_group_list`,
/// `/group/get_recv_group_applicationList` (both keyed `fromUserID`) or
/// `/group/get_user_req_group_applicationList` (keyed `userID`).
async fn list(server: &Server, token: &str, path: &str, user: &str, pagination: Value) -> Value {
    let key = if path.ends_with("get_user_req_group_applicationList") {
        "userID"
    } else {
        "fromUserID"
    };
    server
        .post(path, Some(token), json!({key: user, "pagination": pagination}))
        .await
}

const JOINED: &str = "/group/get_joined_group_list";
const RECEIVED: &str = "/group/get_recv_group_applicationList";
const SENT: &str = "/group/get_user_req_group_applicationList";

/// (applicant, groupID, handleResult) of each request in a request list.
async fn requests(server: &Server, token: &str, path: &str, user: &str) -> Vec<(String, String, i64)> {
    let data = ok(list(server, token, path, user, page(1, 100)).await);
    let items = data["groupRequests"].as_array().unwrap();
    assert_eq!(data["total"], items.len(), "{data}");
    items
        .iter()
        .map(|r| {
            (
                r["userInfo"]["userID"].as_str().unwrap().to_owned(),
                r["groupInfo"]["groupID"].as_str().unwrap().to_owned(),
                r["handleResult"].as_i64().unwrap(),
            )
        })
        .collect()
}

fn request(user: &str, group_id: &str, handle_result: i64) -> (String, String, i64) {
    (user.to_owned(), group_id.to_owned(), handle_result)
}

#[tokio::test]
async fn creating_a_group_returns_its_full_info_and_seats_owner_admins_and_members() {
    let server = Server::start();
    let [alice, bob, ..] = users(&server, ["alice", "bob", "carol", "dave"]).await;
    let before = now_ms();
    let body = json!({
        "ownerUserID": "alice",
        "adminUserIDs": ["bob"],
        "memberUserIDs": ["carol", "dave"],
        "groupInfo": {
            "groupID": "g1", "groupName": "Study", "notification": "Be nice", "introduction": "We study",
            "faceURL": "https://cdn/g1.png", "groupType": 2, "ex": "{\"k\":1}", "needVerification": 1,
            "lookMemberInfo": 1, "applyMemberFriend": 1,
            // Output fields a client may echo are ignored.
            "createTime": 5, "memberCount": 99, "ownerUserID": "bob",
        },
    });
    let data = ok(server.post("/group/create_group", Some(&alice), body).await);
    let after = now_ms();
    let created = data["groupInfo"]["createTime"].as_i64().unwrap();
    assert!((before..=after).contains(&created), "createTime is now, in ms: {data}");
    let expected = json!({
        "groupID": "g1", "groupName": "Study", "notification": "Be nice", "introduction": "We study",
        "faceURL": "https://cdn/g1.png", "ownerUserID": "alice", "createTime": created, "memberCount": 4,
        "ex": "{\"k\":1}", "status": 0, "creatorUserID": "alice", "groupType": 2, "needVerification": 1,
        "lookMemberInfo": 1, "applyMemberFriend": 1, "notificationUpdateTime": 0, "notificationUserID": "",
    });
    assert_eq!(data, json!({"groupInfo": expected}));

    // Anyone in the tenant reads it; unknown IDs are left out.
    let reply = server
        .post(
            "/group/get_groups_info",
            Some(&bob),
            json!({"groupIDs": ["ghost", "g1", "nope"]}),
        )
        .await;
    assert_eq!(ok(reply), json!({"groupInfos": [expected]}));
    let reply = server
        .post("/group/get_groups_info", Some(&bob), json!({"groupIDs": ["ghost"]}))
        .await;
    assert_eq!(ok(reply), json!({"groupInfos": []}));
    assert_err(
        &server
            .post("/group/get_groups_info", Some(&bob), json!({"groupIDs": []}))
            .await,
        1001,
        "groupIDs",
    );

    assert_eq!(
        roster(&server, "g1").await,
        ranks(&[
            ("alice", ROLE_OWNER),
            ("bob", ROLE_ADMIN),
            ("carol", ROLE_MEMBER),
            ("dave", ROLE_MEMBER)
        ])
    );
    let carol = member(&server, "g1", "carol").await;
    let joined = carol["joinTime"].as_i64().unwrap();
    assert!((before..=after).contains(&joined), "joinTime is now, in ms: {carol}");
    assert_eq!(
        carol,
        json!({
            "groupID": "g1", "userID": "carol", "roleLevel": 20, "joinTime": joined, "nickname": "carol",
            "faceURL": "", "appMangerLevel": 0, "joinSource": 2, "operatorUserID": "alice", "ex": "",
            "muteEndTime": 0, "inviterUserID": "alice",
        })
    );
    assert_eq!(member(&server, "g1", "alice").await["roleLevel"], ROLE_OWNER);
    assert_eq!(member(&server, "g1", "bob").await["roleLevel"], ROLE_ADMIN);

    // The group is in each member's list of groups.
    for (user, token) in [("alice", &alice), ("bob", &bob)] {
        let joined = ok(list(&server, token, JOINED, user, page(1, 10)).await);
        assert_eq!(joined, json!({"groups": [expected], "total": 1}));
    }
}

#[tokio::test]
async fn group_ids_are_generated_when_absent_and_taken_ids_are_refused() {
    let server = Server::start();
    let [alice, bob] = users(&server, ["alice", "bob"]).await;
    let first = create(&server, &alice, "alice", "", VERIFY_NONE, &[], &[]).await;
    let body = json!({"ownerUserID": "alice", "groupInfo": {"groupName": "Team", "groupType": 2}});
    let second = ok(server.post("/group/create_group", Some(&alice), body).await)["groupInfo"].clone();
    let (a, b) = (first["groupID"].as_str().unwrap(), second["groupID"].as_str().unwrap());
    assert!(!a.is_empty() && !b.is_empty(), "{first} {second}");
    assert_ne!(a, b, "two creations get two groups");
    assert_eq!(info(&server, a).await, first);
    assert_eq!(info(&server, b).await, second);
    assert_eq!(first["memberCount"], 1);

    create(&server, &alice, "alice", "g1", VERIFY_NONE, &[], &[]).await;
    let again = create_body("bob", "g1", VERIFY_NONE, &[], &[]);
    assert_err(&server.post("/group/create_group", Some(&bob), again).await, 1202, "g1");
    let mine = create_body("alice", a, VERIFY_NONE, &[], &[]);
    assert_err(&server.post("/group/create_group", Some(&alice), mine).await, 1202, a);
    let g1 = info(&server, "g1").await;
    assert_eq!(
        (g1["ownerUserID"].clone(), g1["memberCount"].clone()),
        (json!("alice"), json!(1)),
        "the first creation stands"
    );
    let bobs = ok(list(&server, &bob, JOINED, "bob", page(1, 10)).await);
    assert_eq!(bobs["total"], 0, "{bobs}");
}

#[tokio::test]
async fn creation_is_validated_and_only_for_yourself_unless_app_admin() {
    let server = Server::start();
    let [alice, bob, _carol] = users(&server, ["alice", "bob", "carol"]).await;
    let post = |body: Value| {
        let (server, alice) = (&server, &alice);
        async move { server.post("/group/create_group", Some(alice), body).await }
    };
    for group_type in [0, 1] {
        let mut body = create_body("alice", "gt", VERIFY_NONE, &[], &[]);
        body["groupInfo"]["groupType"] = json!(group_type);
        assert_err(&post(body).await, 1205, &format!("group type {group_type}"));
    }
    let mut blank = create_body("alice", "gb", VERIFY_NONE, &[], &[]);
    blank["groupInfo"]["groupName"] = json!("  ");
    assert_err(&post(blank).await, 1001, "groupName");
    assert_err(
        &post(create_body("alice", "a:b", VERIFY_NONE, &[], &[])).await,
        1001,
        "groupInfo.groupID",
    );
    let missing_type = json!({"ownerUserID": "alice", "groupInfo": {"groupID": "gt", "groupName": "Team"}});
    assert_err(&post(missing_type).await, 1001, "groupType");
    let mut bad = create_body("alice", "gv", VERIFY_NONE, &[], &[]);
    bad["groupInfo"]["needVerification"] = json!(3);
    assert_err(&post(bad).await, 1001, "needVerification");
    assert_err(
        &post(create_body("alice", "gd", VERIFY_NONE, &["bob", "bob"], &[])).await,
        1001,
        "bob",
    );
    assert_err(
        &post(create_body("alice", "gd", VERIFY_NONE, &["bob"], &["bob"])).await,
        1001,
        "bob",
    );
    assert_err(
        &post(create_body("alice", "gd", VERIFY_NONE, &[], &["alice"])).await,
        1001,
        "alice",
    );
    assert_err(
        &post(create_body("alice", "gd", VERIFY_NONE, &[], &["carol", "carol"])).await,
        1001,
        "carol",
    );
    // An unknown member: named, and no group is created.
    assert_err(
        &post(create_body("alice", "gg", VERIFY_NONE, &["bob"], &["ghost"])).await,
        1101,
        "ghost",
    );
    // Creating for someone else.
    assert_err(&post(create_body("bob", "gx", VERIFY_NONE, &[], &[])).await, 1002, "");
    let none = server
        .post(
            "/group/get_groups_info",
            Some(&alice),
            json!({"groupIDs": ["gt", "gb", "gv", "gd", "gg", "gx"]}),
        )
        .await;
    assert_eq!(ok(none), json!({"groupInfos": []}), "no refused creation left a group");
    for (user, token) in [("alice", &alice), ("bob", &bob)] {
        assert_eq!(ok(list(&server, token, JOINED, user, page(1, 10)).await)["total"], 0);
    }
    // The refused IDs are still free.
    create(&server, &alice, "alice", "gg", VERIFY_NONE, &["bob"], &[]).await;
    assert_eq!(
        roster(&server, "gg").await,
        ranks(&[("alice", ROLE_OWNER), ("bob", ROLE_ADMIN)])
    );

    // An app admin creates a group for another owner.
    let admin = admin_token();
    let made = create(&server, &admin, "bob", "ga", VERIFY_NONE, &[], &["carol"]).await;
    assert_eq!(
        (
            made["ownerUserID"].clone(),
            made["creatorUserID"].clone(),
            made["memberCount"].clone()
        ),
        (json!("bob"), json!(ADMIN), json!(2))
    );
    assert_eq!(
        roster(&server, "ga").await,
        ranks(&[("bob", ROLE_OWNER), ("carol", ROLE_MEMBER)])
    );
    assert_eq!(member(&server, "ga", "carol").await["inviterUserID"], ADMIN);
    assert_err(
        &server
            .post(
                "/group/create_group",
                Some(&admin),
                create_body("ghost", "gz", VERIFY_NONE, &[], &[]),
            )
            .await,
        1101,
        "ghost",
    );
}

#[tokio::test]
async fn owner_and_admins_edit_group_info_and_absent_fields_stay() {
    let server = Server::start();
    let [alice, bob, carol, dave] = users(&server, ["alice", "bob", "carol", "dave"]).await;
    let body = json!({
        "ownerUserID": "alice", "adminUserIDs": ["bob"], "memberUserIDs": ["carol"],
        "groupInfo": {"groupID": "g1", "groupName": "Name", "notification": "old", "introduction": "intro",
                      "faceURL": "https://f/1", "ex": "e", "groupType": 2},
    });
    let original = ok(server.post("/group/create_group", Some(&alice), body).await)["groupInfo"].clone();

    let changes = json!({"groupID": "g1", "groupName": "New name", "introduction": "new intro"});
    assert_eq!(
        set_info(&server, &bob, changes).await,
        json!({"errCode": 0, "errMsg": "", "errDlt": ""})
    );
    let mut expected = original.clone();
    expected["groupName"] = json!("New name");
    expected["introduction"] = json!("new intro");
    assert_eq!(info(&server, "g1").await, expected, "only the sent fields change");

    let changes = json!({"groupID": "g1", "faceURL": "", "ex": "", "needVerification": 2,
                         "lookMemberInfo": 1, "applyMemberFriend": 1});
    ok(set_info(&server, &alice, changes).await);
    expected["faceURL"] = json!("");
    expected["ex"] = json!("");
    expected["needVerification"] = json!(2);
    expected["lookMemberInfo"] = json!(1);
    expected["applyMemberFriend"] = json!(1);
    assert_eq!(info(&server, "g1").await, expected, "an empty string empties a field");
    // needVerification 2 now lets people join directly.
    ok(join(&server, &dave, "g1").await);
    expected["memberCount"] = json!(4);

    for (token, who) in [(&carol, "carol"), (&dave, "dave")] {
        assert_err(
            &set_info(&server, token, json!({"groupID": "g1", "groupName": "Mine"})).await,
            1002,
            who,
        );
    }
    assert_err(
        &set_info(&server, &alice, json!({"groupID": "g1", "groupName": "  "})).await,
        1001,
        "groupName",
    );
    assert_err(
        &set_info(&server, &alice, json!({"groupID": "g1", "needVerification": 3})).await,
        1001,
        "needVerification",
    );
    assert_err(
        &set_info(&server, &alice, json!({"groupID": "nope", "groupName": "X"})).await,
        1201,
        "nope",
    );
    assert_eq!(info(&server, "g1").await, expected, "refused changes change nothing");

    ok(dismiss(&server, &alice, "g1", false).await);
    assert_err(
        &set_info(&server, &alice, json!({"groupID": "g1", "groupName": "After"})).await,
        1204,
        "g1",
    );
    assert_eq!(info(&server, "g1").await["groupName"], "New name");
}

#[tokio::test]
async fn a_changed_notification_records_when_and_by_whom() {
    let server = Server::start();
    let [alice, bob] = users(&server, ["alice", "bob"]).await;
    create(&server, &alice, "alice", "g1", VERIFY_NONE, &["bob"], &[]).await;
    let before = now_ms();
    ok(set_info(&server, &bob, json!({"groupID": "g1", "notification": "New rules"})).await);
    let after = now_ms();
    let g1 = info(&server, "g1").await;
    let at = g1["notificationUpdateTime"].as_i64().unwrap();
    assert!((before..=after).contains(&at), "the time of the change, in ms: {g1}");
    assert_eq!(
        (g1["notification"].clone(), g1["notificationUserID"].clone()),
        (json!("New rules"), json!("bob"))
    );

    // Other changes, and setting the same notification, leave them be.
    ok(set_info(&server, &alice, json!({"groupID": "g1", "groupName": "Renamed"})).await);
    ok(set_info(&server, &alice, json!({"groupID": "g1", "notification": "New rules"})).await);
    let g1 = info(&server, "g1").await;
    assert_eq!(
        (g1["notificationUpdateTime"].clone(), g1["notificationUserID"].clone()),
        (json!(at), json!("bob"))
    );

    tokio::time::sleep(std::time::Duration::from_millis(5)).await;
    ok(set_info(&server, &alice, json!({"groupID": "g1", "notification": ""})).await);
    let g1 = info(&server, "g1").await;
    assert!(g1["notificationUpdateTime"].as_i64().unwrap() > at, "{g1}");
    assert_eq!(
        (g1["notification"].clone(), g1["notificationUserID"].clone()),
        (json!(""), json!("alice"))
    );
}

#[tokio::test]
async fn joining_an_open_group_is_immediate_and_the_caller_is_the_one_who_joins() {
    let server = Server::start();
    let [alice, bob, _carol] = users(&server, ["alice", "bob", "carol"]).await;
    create(&server, &alice, "alice", "g1", VERIFY_NONE, &[], &[]).await;
    let before = now_ms();
    // Bob claims Carol invited him: he joins, she does not.
    let body = json!({"groupID": "g1", "reqMessage": "hi", "joinSource": 4, "inviterUserID": "carol", "ex": "x"});
    assert_eq!(
        server.post("/group/join_group", Some(&bob), body).await,
        json!({"errCode": 0, "errMsg": "", "errDlt": ""})
    );
    let after = now_ms();
    let record = member(&server, "g1", "bob").await;
    let joined = record["joinTime"].as_i64().unwrap();
    assert!((before..=after).contains(&joined), "{record}");
    assert_eq!(
        record,
        json!({
            "groupID": "g1", "userID": "bob", "roleLevel": 20, "joinTime": joined, "nickname": "bob",
            "faceURL": "", "appMangerLevel": 0, "joinSource": 4, "operatorUserID": "bob", "ex": "x",
            "muteEndTime": 0, "inviterUserID": "carol",
        })
    );
    assert_eq!(member(&server, "g1", "carol").await, Value::Null);
    assert_eq!(
        roster(&server, "g1").await,
        ranks(&[("alice", ROLE_OWNER), ("bob", ROLE_MEMBER)])
    );
    assert!(
        requests(&server, &bob, SENT, "bob").await.is_empty(),
        "no request to answer"
    );
    assert!(requests(&server, &alice, RECEIVED, "alice").await.is_empty());
    let bobs = ok(list(&server, &bob, JOINED, "bob", page(1, 10)).await);
    assert_eq!(ids(&bobs["groups"], "groupID"), ["g1"]);
    assert_eq!(bobs["groups"][0]["memberCount"], 2);

    assert_err(&join(&server, &bob, "g1").await, 1001, "bob");
    assert_err(&join(&server, &alice, "g1").await, 1001, "alice");
    assert_err(&join(&server, &bob, "nope").await, 1201, "nope");
    assert_err(&join(&server, &admin_token(), "g1").await, 1002, "app admin");
    let body = json!({"groupID": "g1", "joinSource": 0});
    assert_err(
        &server.post("/group/join_group", Some(&bob), body).await,
        1001,
        "joinSource",
    );
    assert_eq!(roster(&server, "g1").await.len(), 2);
}

#[tokio::test]
async fn a_join_request_waits_for_the_owner_or_an_admin() {
    let server = Server::start();
    let [alice, bob, carol, dave, erin] = users(&server, ["alice", "bob", "carol", "dave", "erin"]).await;
    create(
        &server,
        &alice,
        "alice",
        "g1",
        VERIFY_APPLICATIONS,
        &["bob"],
        &["carol"],
    )
    .await;
    let before = now_ms();
    let body =
        json!({"groupID": "g1", "reqMessage": "let me in", "joinSource": 3, "inviterUserID": "alice", "ex": "x"});
    ok(server.post("/group/join_group", Some(&dave), body).await);
    let after = now_ms();
    assert_eq!(member(&server, "g1", "dave").await, Value::Null, "not yet a member");
    assert_eq!(roster(&server, "g1").await.len(), 3);

    let received = ok(list(&server, &alice, RECEIVED, "alice", page(1, 10)).await);
    assert_eq!(received["total"], 1, "{received}");
    let item = received["groupRequests"][0].clone();
    let req_time = item["reqTime"].as_i64().unwrap();
    assert!((before..=after).contains(&req_time), "{item}");
    assert_eq!(
        item["userInfo"],
        json!({"userID": "dave", "nickname": "dave", "faceURL": "", "ex": ""})
    );
    assert_eq!(item["groupInfo"], info(&server, "g1").await);
    assert_eq!(
        (
            item["handleResult"].clone(),
            item["reqMsg"].clone(),
            item["joinSource"].clone(),
            item["inviterUserID"].clone(),
            item["ex"].clone(),
            item["handleUserID"].clone(),
            item["handleMsg"].clone(),
            item["handleTime"].clone(),
        ),
        (
            json!(0),
            json!("let me in"),
            json!(3),
            json!("alice"),
            json!("x"),
            json!(""),
            json!(""),
            json!(0)
        )
    );
    assert_eq!(
        requests(&server, &bob, RECEIVED, "bob").await,
        [request("dave", "g1", 0)],
        "admins see the requests too"
    );
    assert!(
        requests(&server, &carol, RECEIVED, "carol").await.is_empty(),
        "members do not"
    );
    let sent = ok(list(&server, &dave, SENT, "dave", page(1, 10)).await);
    assert_eq!(
        (sent["total"].clone(), sent["groupRequests"][0].clone()),
        (json!(1), item.clone())
    );
    assert!(
        requests(&server, &alice, SENT, "alice").await.is_empty(),
        "the applicant is the caller, not the inviterUserID"
    );
    for path in [RECEIVED, SENT] {
        assert_err(&list(&server, &carol, path, "alice", page(1, 10)).await, 1002, "");
    }
    assert_eq!(
        requests(&server, &admin_token(), RECEIVED, "alice").await,
        [request("dave", "g1", 0)]
    );

    assert_err(&respond(&server, &carol, "g1", "dave", 1).await, 1002, "carol");
    assert_err(&respond(&server, &dave, "g1", "dave", 1).await, 1002, "dave");
    assert_err(&respond(&server, &alice, "g1", "erin", 1).await, 1004, "erin");
    assert_err(&respond(&server, &alice, "g1", "dave", 2).await, 1001, "handleResult");
    assert_err(&respond(&server, &alice, "nope", "dave", 1).await, 1201, "nope");
    assert_eq!(member(&server, "g1", "dave").await, Value::Null);

    let before = now_ms();
    ok(respond(&server, &bob, "g1", "dave", 1).await);
    let after = now_ms();
    let dave_member = member(&server, "g1", "dave").await;
    assert_eq!(
        (
            dave_member["roleLevel"].clone(),
            dave_member["joinSource"].clone(),
            dave_member["operatorUserID"].clone(),
            dave_member["inviterUserID"].clone()
        ),
        (json!(20), json!(3), json!("bob"), json!("alice"))
    );
    assert_eq!(
        roster(&server, "g1").await,
        ranks(&[
            ("alice", ROLE_OWNER),
            ("bob", ROLE_ADMIN),
            ("carol", ROLE_MEMBER),
            ("dave", ROLE_MEMBER)
        ])
    );
    assert_err(&respond(&server, &alice, "g1", "dave", 1).await, 1206, "dave");
    assert_err(&respond(&server, &alice, "g1", "dave", -1).await, 1206, "dave");
    let handled = ok(list(&server, &alice, RECEIVED, "alice", page(1, 10)).await)["groupRequests"][0].clone();
    let handled_at = handled["handleTime"].as_i64().unwrap();
    assert!((before..=after).contains(&handled_at), "{handled}");
    assert_eq!(
        (
            handled["handleResult"].clone(),
            handled["handleUserID"].clone(),
            handled["handleMsg"].clone()
        ),
        (json!(1), json!("bob"), json!("re"))
    );
    assert_err(&join(&server, &dave, "g1").await, 1001, "dave");

    // A refusal: recorded, and no membership.
    ok(join(&server, &erin, "g1").await);
    ok(respond(&server, &alice, "g1", "erin", -1).await);
    assert_eq!(member(&server, "g1", "erin").await, Value::Null);
    assert_eq!(roster(&server, "g1").await.len(), 4);
    assert_eq!(
        requests(&server, &alice, RECEIVED, "alice").await,
        [request("erin", "g1", -1), request("dave", "g1", 1)],
        "newest first"
    );
    let second = ok(list(&server, &alice, RECEIVED, "alice", page(2, 1)).await);
    assert_eq!(second["total"], 2);
    assert_eq!(ids(&second["groupRequests"], "reqMsg"), ["let me in"], "{second}");
    assert_eq!(second["groupRequests"][0]["userInfo"]["userID"], "dave");
    let beyond = ok(list(&server, &alice, RECEIVED, "alice", page(3, 1)).await);
    assert_eq!(beyond, json!({"groupRequests": [], "total": 2}));
    assert_eq!(
        requests(&server, &erin, SENT, "erin").await,
        [request("erin", "g1", -1)]
    );
    assert_err(&respond(&server, &alice, "g1", "erin", 1).await, 1206, "erin");
    // Asking again makes a new pending request.
    ok(join(&server, &erin, "g1").await);
    assert_eq!(requests(&server, &erin, SENT, "erin").await, [request("erin", "g1", 0)]);
    ok(respond(&server, &alice, "g1", "erin", 1).await);
    assert_eq!(member(&server, "g1", "erin").await["roleLevel"], ROLE_MEMBER);
    assert_eq!(roster(&server, "g1").await.len(), 5);
}

#[tokio::test]
async fn members_quit_but_the_owner_and_outsiders_cannot() {
    let server = Server::start();
    let [alice, bob, carol, dave] = users(&server, ["alice", "bob", "carol", "dave"]).await;
    create(&server, &alice, "alice", "g1", VERIFY_NONE, &["bob"], &["carol"]).await;
    assert_eq!(
        quit(&server, &carol, "g1", "carol").await,
        json!({"errCode": 0, "errMsg": "", "errDlt": ""})
    );
    assert_eq!(
        roster(&server, "g1").await,
        ranks(&[("alice", ROLE_OWNER), ("bob", ROLE_ADMIN)])
    );
    assert_eq!(
        ok(list(&server, &carol, JOINED, "carol", page(1, 10)).await)["total"],
        0
    );
    ok(quit(&server, &bob, "g1", "bob").await);
    assert_eq!(roster(&server, "g1").await, ranks(&[("alice", ROLE_OWNER)]));

    assert_err(&quit(&server, &alice, "g1", "alice").await, 1002, "alice");
    assert_err(&quit(&server, &dave, "g1", "dave").await, 1203, "dave");
    assert_err(&quit(&server, &carol, "g1", "carol").await, 1203, "carol");
    assert_err(&quit(&server, &dave, "nope", "dave").await, 1201, "nope");
    ok(join(&server, &dave, "g1").await);
    assert_err(&quit(&server, &alice, "g1", "dave").await, 1002, "");
    assert_err(&quit(&server, &bob, "g1", "dave").await, 1002, "");
    assert_eq!(
        roster(&server, "g1").await,
        ranks(&[("alice", ROLE_OWNER), ("dave", ROLE_MEMBER)])
    );
    // A quitter may come back.
    ok(join(&server, &carol, "g1").await);
    assert_eq!(
        roster(&server, "g1").await,
        ranks(&[("alice", ROLE_OWNER), ("dave", ROLE_MEMBER), ("carol", ROLE_MEMBER)])
    );
}

#[tokio::test]
async fn transferring_ownership_swaps_the_roles_and_unmutes_the_new_owner() {
    let server = Server::start();
    let [alice, bob, carol, _dave, _erin] = users(&server, ["alice", "bob", "carol", "dave", "erin"]).await;
    create(
        &server,
        &alice,
        "alice",
        "g1",
        VERIFY_NONE,
        &["bob"],
        &["carol", "dave"],
    )
    .await;
    ok(mute(&server, &alice, "g1", "carol", 600).await);
    assert!(member(&server, "g1", "carol").await["muteEndTime"].as_i64().unwrap() > now_ms());

    assert_err(&transfer(&server, &bob, "g1", "alice", "bob").await, 1002, "");
    assert_err(&transfer(&server, &bob, "g1", "bob", "carol").await, 1002, "bob");
    assert_err(&transfer(&server, &alice, "g1", "alice", "erin").await, 1203, "erin");
    assert_err(&transfer(&server, &alice, "g1", "alice", "ghost").await, 1203, "ghost");
    assert_err(&transfer(&server, &alice, "g1", "alice", "alice").await, 1001, "alice");
    assert_err(&transfer(&server, &alice, "nope", "alice", "bob").await, 1201, "nope");
    assert_eq!(info(&server, "g1").await["ownerUserID"], "alice");

    assert_eq!(
        transfer(&server, &alice, "g1", "alice", "carol").await,
        json!({"errCode": 0, "errMsg": "", "errDlt": ""})
    );
    let g1 = info(&server, "g1").await;
    assert_eq!(
        (g1["ownerUserID"].clone(), g1["creatorUserID"].clone()),
        (json!("carol"), json!("alice"))
    );
    assert_eq!(
        roster(&server, "g1").await,
        ranks(&[
            ("carol", ROLE_OWNER),
            ("bob", ROLE_ADMIN),
            ("alice", ROLE_MEMBER),
            ("dave", ROLE_MEMBER)
        ])
    );
    assert_eq!(member(&server, "g1", "carol").await["muteEndTime"], 0);
    let joined = ok(list(&server, &carol, JOINED, "carol", page(1, 10)).await);
    assert_eq!(joined["groups"][0]["ownerUserID"], "carol");

    // The old owner is an ordinary member now; the new one rules.
    assert_err(&kick(&server, &alice, "g1", &["dave"]).await, 1002, "alice");
    assert_err(&transfer(&server, &alice, "g1", "alice", "bob").await, 1002, "alice");
    ok(quit(&server, &alice, "g1", "alice").await);
    assert_err(&quit(&server, &carol, "g1", "carol").await, 1002, "carol");
    ok(kick(&server, &carol, "g1", &["bob"]).await);
    assert_eq!(
        roster(&server, "g1").await,
        ranks(&[("carol", ROLE_OWNER), ("dave", ROLE_MEMBER)])
    );
}

#[tokio::test]
async fn kicking_follows_rank_and_is_all_or_nothing() {
    let server = Server::start();
    let [alice, bob, _carol, dave, _erin, _frank, gina] =
        users(&server, ["alice", "bob", "carol", "dave", "erin", "frank", "gina"]).await;
    create(
        &server,
        &alice,
        "alice",
        "g1",
        VERIFY_NONE,
        &["bob", "carol"],
        &["dave", "erin", "frank"],
    )
    .await;
    let everyone = ranks(&[
        ("alice", ROLE_OWNER),
        ("bob", ROLE_ADMIN),
        ("carol", ROLE_ADMIN),
        ("dave", ROLE_MEMBER),
        ("erin", ROLE_MEMBER),
        ("frank", ROLE_MEMBER),
    ]);
    assert_err(&kick(&server, &dave, "g1", &["erin"]).await, 1002, "dave");
    assert_err(&kick(&server, &bob, "g1", &["carol"]).await, 1002, "carol");
    assert_err(&kick(&server, &bob, "g1", &["erin", "carol"]).await, 1002, "carol");
    assert_err(&kick(&server, &bob, "g1", &["alice"]).await, 1002, "alice");
    assert_err(&kick(&server, &alice, "g1", &["alice"]).await, 1002, "alice");
    assert_err(&kick(&server, &gina, "g1", &["frank"]).await, 1002, "gina");
    assert_err(&kick(&server, &alice, "g1", &["dave", "gina"]).await, 1203, "gina");
    assert_err(&kick(&server, &alice, "g1", &["ghost"]).await, 1203, "ghost");
    assert_err(&kick(&server, &alice, "g1", &[]).await, 1001, "kickedUserIDs");
    assert_err(&kick(&server, &alice, "g1", &["dave", "dave"]).await, 1001, "dave");
    assert_err(&kick(&server, &alice, "nope", &["dave"]).await, 1201, "nope");
    assert_eq!(roster(&server, "g1").await, everyone, "nobody was kicked");

    assert_eq!(
        kick(&server, &bob, "g1", &["erin"]).await,
        json!({"errCode": 0, "errMsg": "", "errDlt": ""})
    );
    ok(kick(&server, &alice, "g1", &["carol", "dave"]).await);
    assert_eq!(
        roster(&server, "g1").await,
        ranks(&[("alice", ROLE_OWNER), ("bob", ROLE_ADMIN), ("frank", ROLE_MEMBER)])
    );
    let daves = ok(list(&server, &dave, JOINED, "dave", page(1, 10)).await);
    assert_eq!(daves, json!({"groups": [], "total": 0}));
    assert_err(&kick(&server, &dave, "g1", &["frank"]).await, 1002, "dave");
    // An app admin may kick an admin, never the owner.
    let admin = admin_token();
    assert_err(&kick(&server, &admin, "g1", &["alice"]).await, 1002, "alice");
    ok(kick(&server, &admin, "g1", &["bob"]).await);
    assert_eq!(
        roster(&server, "g1").await,
        ranks(&[("alice", ROLE_OWNER), ("frank", ROLE_MEMBER)])
    );
}

#[tokio::test]
async fn member_reads_are_for_members_and_list_by_rank_then_join_time() {
    let server = Server::start();
    let [alice, bob, _zed, abe, frank] = users(&server, ["alice", "bob", "zed", "abe", "frank"]).await;
    create(&server, &alice, "alice", "g1", VERIFY_NONE, &["bob"], &["zed"]).await;
    tokio::time::sleep(std::time::Duration::from_millis(5)).await;
    ok(join(&server, &abe, "g1").await);

    // Abe joined after Zed, so comes after him.
    let body = json!({"groupID": "g1", "pagination": page(1, 10)});
    let data = ok(server
        .post("/group/get_group_member_list", Some(&abe), body.clone())
        .await);
    assert_eq!(data["total"], 4);
    assert_eq!(ids(&data["members"], "userID"), ["alice", "bob", "zed", "abe"]);
    let roles: Vec<i64> = data["members"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| m["roleLevel"].as_i64().unwrap())
        .collect();
    assert_eq!(roles, [ROLE_OWNER, ROLE_ADMIN, ROLE_MEMBER, ROLE_MEMBER]);
    assert_eq!(data["members"][3], member(&server, "g1", "abe").await);

    // get_group_members_info: only members, in request order.
    let asked = json!({"groupID": "g1", "userIDs": ["abe", "ghost", "frank", "alice"]});
    let found = ok(server
        .post("/group/get_group_members_info", Some(&bob), asked.clone())
        .await);
    assert_eq!(ids(&found["members"], "userID"), ["abe", "alice"]);
    assert_eq!(found["members"][0], data["members"][3]);

    // Outsiders and unknown groups.
    assert_err(
        &server
            .post("/group/get_group_member_list", Some(&frank), body.clone())
            .await,
        1203,
        "frank",
    );
    assert_err(
        &server
            .post("/group/get_group_members_info", Some(&frank), asked.clone())
            .await,
        1203,
        "frank",
    );
    let unknown_list = json!({"groupID": "nope", "pagination": page(1, 10)});
    let unknown_info = json!({"groupID": "nope", "userIDs": ["alice"]});
    for token in [&alice, &frank] {
        assert_err(
            &server
                .post("/group/get_group_member_list", Some(token), unknown_list.clone())
                .await,
            1201,
            "nope",
        );
        assert_err(
            &server
                .post("/group/get_group_members_info", Some(token), unknown_info.clone())
                .await,
            1201,
            "nope",
        );
    }
    // The app admin reads any group.
    let admin = admin_token();
    let by_admin = ok(server.post("/group/get_group_member_list", Some(&admin), body).await);
    assert_eq!(by_admin, data);
    let by_admin = ok(server.post("/group/get_group_members_info", Some(&admin), asked).await);
    assert_eq!(by_admin, found);
    // A member who quits is an outsider again.
    ok(quit(&server, &abe, "g1", "abe").await);
    assert_err(
        &server
            .post(
                "/group/get_group_member_list",
                Some(&abe),
                json!({"groupID": "g1", "pagination": page(1, 10)}),
            )
            .await,
        1203,
        "abe",
    );
}

#[tokio::test]
async fn member_lists_page_filter_by_role_and_match_ids_or_nicknames() {
    let server = Server::start();
    let nicknames = [
        ("alice", "Alice"),
        ("bob", "Bobby"),
        ("carol", "Carol"),
        ("dave", "Mister X"),
        ("erin", "mixer"),
        ("frank", "Frank"),
    ];
    let registered = join_all(nicknames.iter().map(|(id, nick)| server.register(id, nick))).await;
    for reply in registered {
        ok(reply);
    }
    let alice = server.login("alice").await;
    let frank = server.login("frank").await;
    create(
        &server,
        &alice,
        "alice",
        "g1",
        VERIFY_NONE,
        &["bob", "carol"],
        &["dave", "erin", "frank"],
    )
    .await;
    let query = |body: Value| {
        let (server, alice) = (&server, &alice);
        async move {
            let mut full = json!({"groupID": "g1", "pagination": page(1, 10)});
            full.as_object_mut().unwrap().extend(body.as_object().unwrap().clone());
            server.post("/group/get_group_member_list", Some(alice), full).await
        }
    };
    let listed = |body: Value| {
        let query = &query;
        async move {
            let data = ok(query(body).await);
            (data["total"].as_i64().unwrap(), ids(&data["members"], "userID"))
        }
    };

    let expect = |total: i64, users: &[&str]| (total, users.iter().map(|u| u.to_string()).collect::<Vec<_>>());
    assert_eq!(
        listed(json!({"pagination": page(1, 2)})).await,
        expect(6, &["alice", "bob"])
    );
    assert_eq!(
        listed(json!({"pagination": page(2, 2)})).await,
        expect(6, &["carol", "dave"])
    );
    assert_eq!(
        listed(json!({"pagination": page(3, 4)})).await,
        expect(6, &[]),
        "past the end"
    );
    assert_eq!(listed(json!({"pagination": page(9, 2)})).await, expect(6, &[]));

    let all = ok(query(json!({})).await);
    assert_eq!(all["members"][3]["nickname"], "Mister X", "the user's nickname");
    assert_eq!(all["members"][1]["nickname"], "Bobby");

    assert_eq!(
        listed(json!({"keyword": "MI"})).await,
        expect(2, &["dave", "erin"]),
        "nicknames, ignoring case"
    );
    assert_eq!(listed(json!({"keyword": "ALI"})).await, expect(1, &["alice"]));
    assert_eq!(
        listed(json!({"keyword": "bob"})).await,
        expect(1, &["bob"]),
        "the userID or the nickname"
    );
    assert_eq!(listed(json!({"keyword": "nobody"})).await, expect(0, &[]));
    assert_eq!(
        listed(json!({"keyword": "mi", "pagination": page(2, 1)})).await,
        expect(2, &["erin"])
    );

    for (filter, users) in [
        (0, vec!["alice", "bob", "carol", "dave", "erin", "frank"]),
        (1, vec!["alice"]),
        (2, vec!["bob", "carol"]),
        (3, vec!["dave", "erin", "frank"]),
        (4, vec!["bob", "carol", "dave", "erin", "frank"]),
        (5, vec!["alice", "bob", "carol"]),
    ] {
        assert_eq!(
            listed(json!({"filter": filter})).await,
            expect(users.len() as i64, &users),
            "filter {filter}"
        );
    }
    assert_eq!(
        listed(json!({"filter": 4, "pagination": page(2, 2)})).await,
        expect(5, &["dave", "erin"])
    );
    assert_eq!(
        listed(json!({"filter": 3, "keyword": "x"})).await,
        expect(2, &["dave", "erin"])
    );
    assert_eq!(listed(json!({"filter": 5, "keyword": "x"})).await, expect(0, &[]));
    for filter in [6, -1] {
        assert_err(&query(json!({"filter": filter})).await, 1001, "filter");
    }
    assert_err(
        &query(json!({"pagination": page(0, 10)})).await,
        1001,
        "pagination.pageNumber",
    );

    // The list shows the current nickname.
    let rename = json!({"userInfo": {"userID": "frank", "nickname": "Mixmaster", "faceURL": "https://f/f"}});
    ok(server.post("/user/update_user_info_ex", Some(&frank), rename).await);
    assert_eq!(listed(json!({"keyword": "MIX"})).await, expect(2, &["erin", "frank"]));
    let record = member(&server, "g1", "frank").await;
    assert_eq!(
        (record["nickname"].clone(), record["faceURL"].clone()),
        (json!("Mixmaster"), json!("https://f/f"))
    );
}

#[tokio::test]
async fn members_invite_directly_unless_the_group_verifies_everyone() {
    let server = Server::start();
    let [alice, bob, carol, dave, _erin, _frank, gina] =
        users(&server, ["alice", "bob", "carol", "dave", "erin", "frank", "gina"]).await;
    for (group, verification) in [("g0", VERIFY_APPLICATIONS), ("g1", VERIFY_ALL), ("g2", VERIFY_NONE)] {
        create(&server, &alice, "alice", group, verification, &["bob"], &["carol"]).await;
    }
    let direct = ranks(&[
        ("alice", ROLE_OWNER),
        ("bob", ROLE_ADMIN),
        ("carol", ROLE_MEMBER),
        ("dave", ROLE_MEMBER),
    ]);

    // needVerification 0 and 2: a member's invitation makes members.
    for group in ["g0", "g2"] {
        assert_eq!(
            invite(&server, &carol, group, &["dave"]).await,
            json!({"errCode": 0, "errMsg": "", "errDlt": ""})
        );
        assert_eq!(roster(&server, group).await, direct, "{group}");
        let record = member(&server, group, "dave").await;
        assert_eq!(
            (
                record["roleLevel"].clone(),
                record["joinSource"].clone(),
                record["inviterUserID"].clone(),
                record["operatorUserID"].clone()
            ),
            (json!(20), json!(2), json!("carol"), json!("carol")),
            "{group}"
        );
    }
    ok(invite(&server, &carol, "g2", &["erin", "frank"]).await);
    assert_eq!(roster(&server, "g2").await.len(), 6);

    // needVerification 1: a member's invitation only asks.
    ok(invite(&server, &carol, "g1", &["dave"]).await);
    assert_eq!(member(&server, "g1", "dave").await, Value::Null);
    assert_eq!(roster(&server, "g1").await.len(), 3);
    let received = ok(list(&server, &alice, RECEIVED, "alice", page(1, 10)).await);
    assert_eq!(received["total"], 1, "{received}");
    let item = &received["groupRequests"][0];
    assert_eq!(
        (
            item["userInfo"]["userID"].clone(),
            item["groupInfo"]["groupID"].clone(),
            item["handleResult"].clone(),
            item["inviterUserID"].clone(),
            item["joinSource"].clone(),
            item["reqMsg"].clone()
        ),
        (
            json!("dave"),
            json!("g1"),
            json!(0),
            json!("carol"),
            json!(2),
            json!("come")
        )
    );
    assert_eq!(requests(&server, &dave, SENT, "dave").await, [request("dave", "g1", 0)]);
    ok(respond(&server, &alice, "g1", "dave", 1).await);
    let record = member(&server, "g1", "dave").await;
    assert_eq!(
        (record["inviterUserID"].clone(), record["operatorUserID"].clone()),
        (json!("carol"), json!("alice"))
    );
    // The owner's and an admin's invitations make members at once.
    ok(invite(&server, &alice, "g1", &["erin"]).await);
    ok(invite(&server, &bob, "g1", &["frank"]).await);
    assert_eq!(
        roster(&server, "g1").await,
        ranks(&[
            ("alice", ROLE_OWNER),
            ("bob", ROLE_ADMIN),
            ("carol", ROLE_MEMBER),
            ("dave", ROLE_MEMBER),
            ("erin", ROLE_MEMBER),
            ("frank", ROLE_MEMBER)
        ])
    );
    // Joining asks too; an invitation by the owner then agrees to it.
    ok(join(&server, &gina, "g1").await);
    assert_eq!(member(&server, "g1", "gina").await, Value::Null);
    ok(invite(&server, &alice, "g1", &["gina"]).await);
    assert_eq!(member(&server, "g1", "gina").await["roleLevel"], ROLE_MEMBER);
    assert_eq!(requests(&server, &gina, SENT, "gina").await, [request("gina", "g1", 1)]);
    assert_eq!(roster(&server, "g1").await.len(), 7);
}

#[tokio::test]
async fn invitations_are_checked() {
    let server = Server::start();
    let [alice, bob, _carol, dave] = users(&server, ["alice", "bob", "carol", "dave"]).await;
    create(&server, &alice, "alice", "g1", VERIFY_NONE, &[], &["bob"]).await;
    let before = roster(&server, "g1").await;
    assert_err(&invite(&server, &dave, "g1", &["carol"]).await, 1203, "dave");
    assert_err(&invite(&server, &alice, "g1", &["carol", "bob"]).await, 1001, "bob");
    assert_err(&invite(&server, &bob, "g1", &["alice"]).await, 1001, "alice");
    assert_err(&invite(&server, &alice, "g1", &["carol", "ghost"]).await, 1101, "ghost");
    assert_err(&invite(&server, &alice, "g1", &[]).await, 1001, "invitedUserIDs");
    assert_err(&invite(&server, &alice, "g1", &["carol", "carol"]).await, 1001, "carol");
    assert_err(&invite(&server, &alice, "nope", &["carol"]).await, 1201, "nope");
    assert_eq!(roster(&server, "g1").await, before, "nobody was added");
    // An app admin may invite without being a member.
    ok(invite(&server, &admin_token(), "g1", &["carol"]).await);
    assert_eq!(member(&server, "g1", "carol").await["inviterUserID"], ADMIN);
    assert_eq!(roster(&server, "g1").await.len(), 3);
}

#[tokio::test]
async fn only_the_owner_dismisses_and_a_dismissed_group_refuses_every_write() {
    let server = Server::start();
    let [alice, bob, carol, dave] = users(&server, ["alice", "bob", "carol", "dave"]).await;
    create(&server, &alice, "alice", "g1", VERIFY_NONE, &["bob"], &["carol"]).await;
    for token in [&bob, &carol, &dave] {
        assert_err(&dismiss(&server, token, "g1", false).await, 1002, "g1");
    }
    assert_err(&dismiss(&server, &alice, "nope", false).await, 1201, "nope");
    assert_eq!(info(&server, "g1").await["status"], 0);
    ok(mute(&server, &alice, "g1", "carol", 600).await);

    assert_eq!(
        dismiss(&server, &alice, "g1", false).await,
        json!({"errCode": 0, "errMsg": "", "errDlt": ""})
    );
    assert_err(&dismiss(&server, &alice, "g1", false).await, 1204, "g1");
    assert_err(&dismiss(&server, &alice, "g1", true).await, 1204, "g1");
    let g1 = info(&server, "g1").await;
    assert_eq!((g1["status"].clone(), g1["memberCount"].clone()), (json!(2), json!(3)));
    assert_eq!(
        roster(&server, "g1").await,
        ranks(&[("alice", ROLE_OWNER), ("bob", ROLE_ADMIN), ("carol", ROLE_MEMBER)]),
        "without deleteMember the members stay"
    );

    let writes = [
        set_info(&server, &alice, json!({"groupID": "g1", "groupName": "X"})).await,
        join(&server, &dave, "g1").await,
        invite(&server, &alice, "g1", &["dave"]).await,
        kick(&server, &alice, "g1", &["carol"]).await,
        mute(&server, &alice, "g1", "carol", 60).await,
        unmute(&server, &alice, "g1", "carol").await,
        group_only(&server, &alice, "/group/mute_group", "g1").await,
        group_only(&server, &alice, "/group/cancel_mute_group", "g1").await,
        quit(&server, &carol, "g1", "carol").await,
        transfer(&server, &alice, "g1", "alice", "bob").await,
        respond(&server, &alice, "g1", "dave", 1).await,
    ];
    for reply in &writes {
        assert_err(reply, 1204, "g1");
    }
    assert_eq!(info(&server, "g1").await, g1, "nothing changed");
    assert_eq!(roster(&server, "g1").await.len(), 3);
    assert!(member(&server, "g1", "carol").await["muteEndTime"].as_i64().unwrap() > 0);

    // An app admin dismisses any group.
    create(&server, &alice, "alice", "g2", VERIFY_NONE, &[], &[]).await;
    ok(dismiss(&server, &admin_token(), "g2", false).await);
    assert_eq!(info(&server, "g2").await["status"], 2);
}

#[tokio::test]
async fn dismissing_with_delete_member_empties_the_group() {
    let server = Server::start();
    let [alice, bob, _carol] = users(&server, ["alice", "bob", "carol"]).await;
    create(&server, &alice, "alice", "g1", VERIFY_NONE, &["bob"], &["carol"]).await;
    create(&server, &alice, "alice", "g2", VERIFY_NONE, &["bob"], &[]).await;
    ok(dismiss(&server, &alice, "g1", true).await);
    let g1 = info(&server, "g1").await;
    assert_eq!((g1["status"].clone(), g1["memberCount"].clone()), (json!(2), json!(0)));
    assert!(roster(&server, "g1").await.is_empty());
    assert_eq!(member(&server, "g1", "alice").await, Value::Null);
    for (user, token) in [("alice", &alice), ("bob", &bob)] {
        let joined = ok(list(&server, token, JOINED, user, page(1, 10)).await);
        assert_eq!(ids(&joined["groups"], "groupID"), ["g2"], "{user}");
        assert_eq!(joined["total"], 1);
    }
    assert_eq!(roster(&server, "g2").await.len(), 2, "other groups keep their members");
}

#[tokio::test]
async fn muting_a_member_sets_mute_end_time_and_cancelling_clears_it() {
    let server = Server::start();
    let [alice, bob, _carol, dave, _erin] = users(&server, ["alice", "bob", "carol", "dave", "erin"]).await;
    create(
        &server,
        &alice,
        "alice",
        "g1",
        VERIFY_NONE,
        &["bob", "carol"],
        &["dave"],
    )
    .await;
    let before = now_ms();
    assert_eq!(
        mute(&server, &alice, "g1", "dave", 3600).await,
        json!({"errCode": 0, "errMsg": "", "errDlt": ""})
    );
    let after = now_ms();
    let end = member(&server, "g1", "dave").await["muteEndTime"].as_i64().unwrap();
    assert!(
        (before + 3_600_000..=after + 3_600_000).contains(&end),
        "muteEndTime is now + 3600 s, in ms: {end} (now {before})"
    );
    let before = now_ms();
    ok(mute(&server, &bob, "g1", "dave", 60).await);
    let after = now_ms();
    let end = member(&server, "g1", "dave").await["muteEndTime"].as_i64().unwrap();
    assert!(
        (before + 60_000..=after + 60_000).contains(&end),
        "a new mute replaces the old: {end}"
    );

    assert_err(&mute(&server, &bob, "g1", "carol", 60).await, 1002, "carol");
    assert_err(&mute(&server, &bob, "g1", "alice", 60).await, 1002, "alice");
    assert_err(&mute(&server, &alice, "g1", "alice", 60).await, 1002, "alice");
    assert_err(&mute(&server, &dave, "g1", "bob", 60).await, 1002, "dave");
    assert_err(&mute(&server, &alice, "g1", "dave", 0).await, 1001, "mutedSeconds");
    assert_err(&mute(&server, &alice, "g1", "erin", 60).await, 1203, "erin");
    assert_err(&mute(&server, &alice, "nope", "dave", 60).await, 1201, "nope");
    for user in ["alice", "bob", "carol"] {
        assert_eq!(member(&server, "g1", user).await["muteEndTime"], 0, "{user}");
    }

    ok(mute(&server, &alice, "g1", "carol", 60).await);
    assert!(member(&server, "g1", "carol").await["muteEndTime"].as_i64().unwrap() > now_ms());
    assert_err(&unmute(&server, &bob, "g1", "carol").await, 1002, "carol");
    assert_err(&unmute(&server, &dave, "g1", "dave").await, 1002, "dave");
    assert_err(&unmute(&server, &alice, "g1", "erin").await, 1203, "erin");
    assert_err(&unmute(&server, &alice, "nope", "dave").await, 1201, "nope");
    assert!(member(&server, "g1", "carol").await["muteEndTime"].as_i64().unwrap() > 0);
    assert_eq!(
        unmute(&server, &bob, "g1", "dave").await,
        json!({"errCode": 0, "errMsg": "", "errDlt": ""})
    );
    assert_eq!(member(&server, "g1", "dave").await["muteEndTime"], 0);
    ok(unmute(&server, &alice, "g1", "dave").await);
    assert_eq!(
        member(&server, "g1", "dave").await["muteEndTime"],
        0,
        "cancelling twice is harmless"
    );
    ok(unmute(&server, &alice, "g1", "carol").await);
    assert_eq!(member(&server, "g1", "carol").await["muteEndTime"], 0);
}

#[tokio::test]
async fn muting_the_whole_group_sets_status_three_until_cancelled() {
    let server = Server::start();
    let [alice, bob, carol] = users(&server, ["alice", "bob", "carol"]).await;
    create(&server, &alice, "alice", "g1", VERIFY_NONE, &["bob"], &["carol"]).await;
    let status = || async { info(&server, "g1").await["status"].clone() };
    assert_err(
        &group_only(&server, &carol, "/group/mute_group", "g1").await,
        1002,
        "carol",
    );
    assert_eq!(status().await, 0);
    assert_eq!(
        group_only(&server, &bob, "/group/mute_group", "g1").await,
        json!({"errCode": 0, "errMsg": "", "errDlt": ""})
    );
    assert_eq!(status().await, 3);
    ok(group_only(&server, &alice, "/group/mute_group", "g1").await);
    assert_eq!(status().await, 3, "muting twice is harmless");
    assert_err(
        &group_only(&server, &carol, "/group/cancel_mute_group", "g1").await,
        1002,
        "carol",
    );
    assert_eq!(status().await, 3);
    ok(group_only(&server, &alice, "/group/cancel_mute_group", "g1").await);
    assert_eq!(status().await, 0);
    ok(group_only(&server, &bob, "/group/cancel_mute_group", "g1").await);
    assert_eq!(status().await, 0);
    for path in ["/group/mute_group", "/group/cancel_mute_group"] {
        assert_err(&group_only(&server, &alice, path, "nope").await, 1201, "nope");
    }

    ok(group_only(&server, &alice, "/group/mute_group", "g1").await);
    ok(dismiss(&server, &alice, "g1", false).await);
    assert_eq!(status().await, 2);
    assert_err(
        &group_only(&server, &alice, "/group/cancel_mute_group", "g1").await,
        1204,
        "g1",
    );
    assert_err(
        &group_only(&server, &alice, "/group/mute_group", "g1").await,
        1204,
        "g1",
    );
    assert_eq!(status().await, 2, "a dismissed group stays dismissed");
}

#[tokio::test]
async fn joined_group_lists_are_private_ordered_by_join_and_paginated() {
    let server = Server::start();
    let [alice, bob] = users(&server, ["alice", "bob"]).await;
    for group in ["g1", "g2", "g3"] {
        create(&server, &alice, "alice", group, VERIFY_NONE, &[], &[]).await;
    }
    ok(join(&server, &bob, "g3").await);
    tokio::time::sleep(std::time::Duration::from_millis(5)).await;
    ok(join(&server, &bob, "g1").await);

    let bobs = ok(list(&server, &bob, JOINED, "bob", page(1, 10)).await);
    assert_eq!(
        bobs,
        json!({"groups": [info(&server, "g3").await, info(&server, "g1").await], "total": 2})
    );
    assert_eq!(bobs["groups"][0]["memberCount"], 2);
    let second = ok(list(&server, &bob, JOINED, "bob", page(2, 1)).await);
    assert_eq!(
        (ids(&second["groups"], "groupID"), second["total"].clone()),
        (vec!["g1".to_owned()], json!(2))
    );
    let beyond = ok(list(&server, &bob, JOINED, "bob", page(3, 1)).await);
    assert_eq!(beyond, json!({"groups": [], "total": 2}));
    let alices = ok(list(&server, &alice, JOINED, "alice", page(1, 10)).await);
    assert_eq!(ids(&alices["groups"], "groupID"), ["g1", "g2", "g3"]);

    assert_err(&list(&server, &bob, JOINED, "alice", page(1, 10)).await, 1002, "bob");
    assert_err(
        &list(&server, &bob, JOINED, "bob", page(0, 10)).await,
        1001,
        "pagination.pageNumber",
    );
    let by_admin = ok(list(&server, &admin_token(), JOINED, "bob", page(1, 10)).await);
    assert_eq!(by_admin, bobs);

    ok(quit(&server, &bob, "g3", "bob").await);
    let bobs = ok(list(&server, &bob, JOINED, "bob", page(1, 10)).await);
    assert_eq!(
        (ids(&bobs["groups"], "groupID"), bobs["total"].clone()),
        (vec!["g1".to_owned()], json!(1))
    );
    // A dismissed group stays listed (its members are kept), with status 2.
    ok(dismiss(&server, &alice, "g1", false).await);
    let bobs = ok(list(&server, &bob, JOINED, "bob", page(1, 10)).await);
    assert_eq!(bobs["groups"][0]["status"], 2, "{bobs}");
}

#[tokio::test]
async fn member_count_is_the_member_list_total_through_every_change() {
    let server = Server::start();
    let [alice, bob, carol, dave, erin, frank] =
        users(&server, ["alice", "bob", "carol", "dave", "erin", "frank"]).await;
    create(
        &server,
        &alice,
        "alice",
        "g1",
        VERIFY_APPLICATIONS,
        &["bob"],
        &["carol"],
    )
    .await;
    let count = |expected: usize| {
        let server = &server;
        async move {
            assert_eq!(roster(server, "g1").await.len(), expected);
        }
    };
    count(3).await;
    ok(join(&server, &dave, "g1").await);
    count(3).await;
    ok(respond(&server, &alice, "g1", "dave", 1).await);
    count(4).await;
    ok(join(&server, &erin, "g1").await);
    ok(respond(&server, &bob, "g1", "erin", -1).await);
    count(4).await;
    ok(invite(&server, &carol, "g1", &["erin", "frank"]).await);
    count(6).await;
    ok(quit(&server, &frank, "g1", "frank").await);
    count(5).await;
    ok(kick(&server, &alice, "g1", &["erin", "bob"]).await);
    count(3).await;
    ok(transfer(&server, &alice, "g1", "alice", "carol").await);
    count(3).await;
    ok(mute(&server, &carol, "g1", "dave", 60).await);
    ok(group_only(&server, &carol, "/group/mute_group", "g1").await);
    count(3).await;
    let changes = json!({"groupID": "g1", "needVerification": 2});
    ok(set_info(&server, &carol, changes).await);
    ok(join(&server, &frank, "g1").await);
    count(4).await;
    ok(dismiss(&server, &carol, "g1", true).await);
    count(0).await;
}

#[tokio::test]
async fn fifty_concurrent_joins_all_land() {
    let server = Server::start();
    let [alice] = users(&server, ["alice"]).await;
    create(&server, &alice, "alice", "g1", VERIFY_NONE, &[], &[]).await;
    let names: Vec<String> = (0..50).map(|i| format!("u{i:02}")).collect();
    let tokens = join_all(names.iter().map(|n| server.user(n))).await;
    let joins = join_all(tokens.iter().map(|t| join(&server, t, "g1"))).await;
    for reply in joins {
        assert_eq!(reply["errCode"], 0, "{reply}");
    }
    let members = roster(&server, "g1").await;
    assert_eq!(members.len(), 51);
    assert_eq!(info(&server, "g1").await["memberCount"], 51);
    let mut joined: Vec<&str> = members.iter().skip(1).map(|(u, _)| u.as_str()).collect();
    joined.sort();
    assert_eq!(joined, names.iter().map(String::as_str).collect::<Vec<_>>());
    assert_eq!(members[0], ("alice".to_owned(), ROLE_OWNER));
    assert!(members[1..].iter().all(|(_, role)| *role == ROLE_MEMBER));
}

/// How many replies had each errCode, as (code, count) sorted by code.
fn codes(replies: &[Value]) -> Vec<(i64, usize)> {
    let mut counts = std::collections::BTreeMap::new();
    for reply in replies {
        *counts.entry(reply["errCode"].as_i64().unwrap()).or_default() += 1;
    }
    counts.into_iter().collect()
}

#[tokio::test]
async fn concurrent_duplicate_commands_take_effect_once() {
    let server = Server::start();
    let [alice, bob, carol] = users(&server, ["alice", "bob", "carol"]).await;
    let creates = join_all((0..10).map(|_| {
        let body = create_body("alice", "g1", VERIFY_APPLICATIONS, &[], &["bob"]);
        server.post("/group/create_group", Some(&alice), body)
    }))
    .await;
    assert_eq!(codes(&creates), [(0, 1), (1202, 9)], "{creates:?}");
    assert_eq!(
        roster(&server, "g1").await,
        ranks(&[("alice", ROLE_OWNER), ("bob", ROLE_MEMBER)])
    );

    // Twenty answers, half agreeing and half refusing: one decides.
    ok(join(&server, &carol, "g1").await);
    let answers = join_all((0..20).map(|i| respond(&server, &alice, "g1", "carol", [1, -1][i % 2]))).await;
    assert_eq!(codes(&answers), [(0, 1), (1206, 19)], "{answers:?}");
    let decided = requests(&server, &alice, RECEIVED, "alice").await;
    assert_eq!(decided.len(), 1, "{decided:?}");
    let agreed = decided[0].2 == 1;
    assert!(agreed || decided[0].2 == -1, "{decided:?}");
    assert_eq!(member(&server, "g1", "carol").await != Value::Null, agreed);
    assert_eq!(roster(&server, "g1").await.len(), if agreed { 3 } else { 2 });

    // Ten kicks and ten quits of the same member: one removes him.
    let (kicks, quits) = futures::future::join(
        join_all((0..10).map(|_| kick(&server, &alice, "g1", &["bob"]))),
        join_all((0..10).map(|_| quit(&server, &bob, "g1", "bob"))),
    )
    .await;
    let all: Vec<Value> = kicks.into_iter().chain(quits).collect();
    assert_eq!(codes(&all), [(0, 1), (1203, 19)], "{all:?}");
    assert_eq!(member(&server, "g1", "bob").await, Value::Null);
    assert_eq!(roster(&server, "g1").await.len(), if agreed { 2 } else { 1 });
}

#[tokio::test]
async fn groups_are_invisible_from_another_tenant() {
    let server = Server::start();
    let [alice, _bob] = users(&server, ["alice", "bob"]).await;
    create(&server, &alice, "alice", "g1", VERIFY_NONE, &["bob"], &[]).await;

    const OTHER: &str = "2000";
    assert_eq!(server.register_in(OTHER, "zoe", "Zoe").await["errCode"], 0);
    let zoe = server.login_in(OTHER, "zoe").await;
    let post = |path: &'static str, body: Value| {
        let (server, zoe) = (&server, &zoe);
        async move { server.post_as(OTHER, path, Some(zoe), body).await }
    };
    let reply = post("/group/get_groups_info", json!({"groupIDs": ["g1"]})).await;
    assert_eq!(ok(reply), json!({"groupInfos": []}));
    let join_body = json!({"groupID": "g1", "joinSource": 3});
    assert_err(&post("/group/join_group", join_body.clone()).await, 1201, "g1");
    let list_body = json!({"groupID": "g1", "pagination": page(1, 10)});
    assert_err(
        &post("/group/get_group_member_list", list_body.clone()).await,
        1201,
        "g1",
    );
    // Users of tenant 1000 are unknown there.
    let with_alice = create_body("zoe", "g2", VERIFY_NONE, &[], &["alice"]);
    assert_err(&post("/group/create_group", with_alice).await, 1101, "alice");
    // The ID is free there: another tenant's group of the same ID.
    let body = create_body("zoe", "g1", VERIFY_NONE, &[], &[]);
    let theirs = ok(post("/group/create_group", body).await)["groupInfo"].clone();
    assert_eq!(
        (theirs["ownerUserID"].clone(), theirs["memberCount"].clone()),
        (json!("zoe"), json!(1))
    );
    let members = ok(post("/group/get_group_member_list", list_body).await);
    assert_eq!(ids(&members["members"], "userID"), ["zoe"]);
    // ... which tenant 1000 does not see either.
    let ours = info(&server, "g1").await;
    assert_eq!(
        (ours["ownerUserID"].clone(), ours["memberCount"].clone()),
        (json!("alice"), json!(2))
    );
    assert_eq!(
        roster(&server, "g1").await,
        ranks(&[("alice", ROLE_OWNER), ("bob", ROLE_ADMIN)])
    );
    let zoes = ok(post(JOINED, json!({"fromUserID": "zoe", "pagination": page(1, 10)})).await);
    assert_eq!(ids(&zoes["groups"], "groupID"), ["g1"]);
    assert_eq!(zoes["groups"][0]["ownerUserID"], "zoe");
}

//! `/audit/*` and `parley audit`: every filter of the event history, who may
//! read it, cursor pagination (also while events keep arriving), time travel
//! over a scripted group history, and the CLI over a running server.

use std::collections::HashSet;
use std::sync::Arc;
use std::time::Duration;

use serde_json::{json, Value};

use crate::harness::*;

/// Between the steps of a script, so that no two commands share a millisecond.
async fn pause() {
    tokio::time::sleep(Duration::from_millis(5)).await;
}

/// `ms` (since the Unix epoch) as an RFC 3339 time with milliseconds, written
/// in the zone `offset_minutes` east of UTC ("Z" for 0).
fn rfc3339(ms: i64, offset_minutes: i64) -> String {
    let local = ms + offset_minutes * 60_000;
    let (days, in_day) = (local.div_euclid(86_400_000), local.rem_euclid(86_400_000));
    // Civil date from days since 1970-01-01 (Howard Hinnant's algorithm).
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + i64::from(month <= 2);
    let (h, m, s, frac) = (
        in_day / 3_600_000,
        in_day / 60_000 % 60,
        in_day / 1000 % 60,
        in_day % 1000,
    );
    let zone = match offset_minutes {
        0 => "Z".to_owned(),
        o => format!(
            "{}{:02}:{:02}",
            if o < 0 { '-' } else { '+' },
            o.abs() / 60,
            o.abs() % 60
        ),
    };
    format!("{year:04}-{month:02}-{day:02}T{h:02}:{m:02}:{s:02}.{frac:03}{zone}")
}

#[test]
fn rfc3339_formats_known_instants() {
    assert_eq!(rfc3339(0, 0), "1970-01-01T00:00:00.000Z");
    assert_eq!(rfc3339(1_795_688_717_347, 0), "2026-11-26T10:25:17.347Z");
    assert_eq!(rfc3339(1_795_688_717_347, 120), "2026-11-26T12:25:17.347+02:00");
    assert_eq!(rfc3339(1_795_688_717_347, -630), "2026-11-25T23:55:17.347-10:30");
    assert_eq!(rfc3339(951_782_400_000, 0), "2000-02-29T00:00:00.000Z");
}

/// A command sent with this operationID (and token, if any): its reply's
/// data and its X-Parley-Position.
async fn command(server: &Server, token: Option<&str>, operation: &str, path: &str, body: Value) -> (Value, u64) {
    let mut request = reqwest::Client::new()
        .post(format!("{}{path}", server.base().expect("an API node is running")))
        .header("operationID", operation)
        .header("X-Tenant-ID", TENANT)
        .json(&body);
    if let Some(token) = token {
        request = request.header("token", token);
    }
    let response = request.send().await.expect("request");
    assert_eq!(response.status(), 200, "every reply is HTTP 200");
    let position = response
        .headers()
        .get("X-Parley-Position")
        .map(|v| v.to_str().unwrap().parse::<u64>().expect("a log position"));
    let reply: Value = response.json().await.expect("JSON reply");
    let data = ok(reply);
    let position = position.unwrap_or_else(|| panic!("{path} ({operation}): no X-Parley-Position"));
    (data, position)
}

/// Self-registration with its own operationID; the position of its event.
async fn register(server: &Server, user: &str, operation: &str) -> u64 {
    let body = json!({"userID": user, "nickname": user, "password": PASSWORD});
    command(server, None, operation, "/user/self_register", body).await.1
}

/// One `/audit/events` request as the app admin: the whole reply.
async fn audit(server: &Server, filter: Value) -> Value {
    server.post("/audit/events", Some(&admin_token()), filter).await
}

/// One page: (events, nextCursor). Checks that no secret is in the reply.
#[track_caller]
fn page_of(reply: Value) -> (Vec<Value>, String) {
    assert!(
        !reply.to_string().contains("$argon2"),
        "a password hash leaked: {reply}"
    );
    let data = ok(reply);
    let events = data["events"]
        .as_array()
        .unwrap_or_else(|| panic!("no events list: {data}"))
        .clone();
    let cursor = data["nextCursor"]
        .as_str()
        .unwrap_or_else(|| panic!("no nextCursor: {data}"))
        .to_owned();
    (events, cursor)
}

fn with(filter: &Value, extra: Value) -> Value {
    let mut filter = filter.clone();
    for (k, v) in extra.as_object().unwrap() {
        filter[k] = v.clone();
    }
    filter
}

/// Every event matching `filter`, following cursors with pages of `limit`;
/// also the pages' sizes.
async fn paged(server: &Server, filter: &Value, limit: usize) -> (Vec<Value>, Vec<usize>) {
    let mut events = Vec::new();
    let mut sizes = Vec::new();
    let mut cursor = String::new();
    loop {
        let mut request = with(filter, json!({"limit": limit}));
        if !cursor.is_empty() {
            request["cursor"] = json!(cursor);
        }
        let (page, next) = page_of(audit(server, request).await);
        assert!(page.len() <= limit, "a page of {limit} had {}", page.len());
        sizes.push(page.len());
        events.extend(page);
        if next.is_empty() {
            return (events, sizes);
        }
        assert!(sizes.len() < 10_000, "paging does not end");
        cursor = next;
    }
}

/// Every event matching `filter` (pages of 1000), checked to be in strictly
/// increasing position order.
async fn history(server: &Server, filter: Value) -> Vec<Value> {
    let events = paged(server, &filter, 1000).await.0;
    assert_increasing(&events);
    events
}

fn position(event: &Value) -> u64 {
    event["position"]
        .as_u64()
        .unwrap_or_else(|| panic!("no position: {event}"))
}

#[track_caller]
fn assert_increasing(events: &[Value]) {
    for pair in events.windows(2) {
        assert!(
            position(&pair[0]) < position(&pair[1]),
            "out of order: {} then {}",
            pair[0],
            pair[1]
        );
    }
}

/// An event as "<operationID> <eventType>[ <payload userID>]".
fn label(event: &Value) -> String {
    let mut label = format!(
        "{} {}",
        event["operationID"].as_str().unwrap(),
        event["eventType"].as_str().unwrap()
    );
    if let Some(user) = event["payload"]["userID"].as_str() {
        label = format!("{label} {user}");
    }
    label
}

/// The labels of what `filter` selects, sorted (their order is checked by
/// [`history`]).
async fn select(server: &Server, filter: Value) -> Vec<String> {
    let mut labels: Vec<String> = history(server, filter).await.iter().map(label).collect();
    labels.sort();
    labels
}

fn sorted(labels: &[&str]) -> Vec<String> {
    let mut labels: Vec<String> = labels.iter().map(|l| l.to_string()).collect();
    labels.sort();
    labels
}

/// `/audit/state` as the app admin: the data.
async fn state_at(server: &Server, stream: &str, at: Value) -> Value {
    let body = json!({"streamKey": stream, "at": at});
    ok(server.post("/audit/state", Some(&admin_token()), body).await)
}

/// A short history: three users (each registered with its own
/// operationID), alice's friend request to bob, her group g1 with bob and
/// carol, bob kicked from it, alice's rename, and the app admin's rename of
/// carol. Between `from` and `to` lie exactly the friend request, the
/// group's creation and the kick.
struct Script {
    alice: String,
    from: i64,
    to: i64,
    create: u64,
    kick: u64,
}

/// Every event of [`script`], labelled, in the order it happened.
const SCRIPTED: [&str; 11] = [
    "reg-alice UserRegistered alice",
    "reg-bob UserRegistered bob",
    "reg-carol UserRegistered carol",
    "op-friend FriendRequested",
    "op-create GroupCreated",
    "op-create GroupMemberJoined alice",
    "op-create GroupMemberJoined bob",
    "op-create GroupMemberJoined carol",
    "op-kick GroupMemberKicked bob",
    "op-rename UserProfileUpdated alice",
    "op-admin UserProfileUpdated carol",
];

async fn script(server: &Server) -> Script {
    for user in ["alice", "bob", "carol"] {
        register(server, user, &format!("reg-{user}")).await;
        pause().await;
    }
    let alice = server.login("alice").await;
    let from = now_ms();
    pause().await;
    let friend = json!({"fromUserID": "alice", "toUserID": "bob", "reqMsg": "hi bob", "ex": ""});
    command(server, Some(&alice), "op-friend", "/friend/add_friend", friend).await;
    pause().await;
    let group = json!({
        "ownerUserID": "alice",
        "adminUserIDs": [],
        "memberUserIDs": ["bob", "carol"],
        "groupInfo": {"groupID": "g1", "groupName": "Team", "groupType": 2, "needVerification": 2},
    });
    let (_, create) = command(server, Some(&alice), "op-create", "/group/create_group", group).await;
    pause().await;
    let kick = json!({"groupID": "g1", "kickedUserIDs": ["bob"], "reason": "bye"});
    let (_, kick) = command(server, Some(&alice), "op-kick", "/group/kick_group", kick).await;
    pause().await;
    let to = now_ms();
    pause().await;
    let rename = json!({"userInfo": {"userID": "alice", "nickname": "Alice"}});
    command(server, Some(&alice), "op-rename", "/user/update_user_info_ex", rename).await;
    pause().await;
    let rename = json!({"userInfo": {"userID": "carol", "nickname": "Carol"}});
    command(
        server,
        Some(&admin_token()),
        "op-admin",
        "/user/update_user_info_ex",
        rename,
    )
    .await;
    Script {
        alice,
        from,
        to,
        create,
        kick,
    }
}

#[tokio::test]
async fn every_filter_selects_exactly_the_matching_events() {
    let server = Server::start();
    let s = script(&server).await;

    let all = history(&server, json!({})).await;
    let labels: Vec<String> = all.iter().map(label).collect();
    assert_eq!(
        sorted(&labels.iter().map(String::as_str).collect::<Vec<_>>()),
        sorted(&SCRIPTED)
    );
    if !scale_out() {
        assert_eq!(labels, SCRIPTED, "one log: positions follow the script");
        let positions: Vec<u64> = all.iter().map(position).collect();
        assert_eq!(positions, (1..=11).collect::<Vec<u64>>());
    }
    assert_eq!(
        all,
        history(&server, json!({"tenant": TENANT})).await,
        "the own tenant by default"
    );

    // The stored envelope, as stored.
    let friend = &all[labels.iter().position(|l| l == "op-friend FriendRequested").unwrap()];
    assert_eq!(friend["streamKey"], "pair:1000:alice:bob");
    assert_eq!(friend["streamVersion"], 1);
    assert_eq!(friend["schemaVersion"], 1);
    assert_eq!(friend["actorUserID"], "alice");
    assert_eq!(friend["payload"]["fromUserID"], "alice");
    assert_eq!(friend["payload"]["toUserID"], "bob");
    assert_eq!(friend["payload"]["reqMsg"], "hi bob");
    let occurred = friend["occurredAt"].as_i64().unwrap();
    assert!(s.from < occurred && occurred < s.to, "{friend}");
    let kick = &all[labels
        .iter()
        .position(|l| l == "op-kick GroupMemberKicked bob")
        .unwrap()];
    assert_eq!(
        position(kick),
        s.kick,
        "the position is the command's X-Parley-Position"
    );
    assert_eq!(kick["streamKey"], "group:1000:g1");
    assert_eq!(kick["streamVersion"], 5);
    assert_eq!(kick["actorUserID"], "alice");
    assert_eq!(kick["payload"]["operatorUserID"], "alice");
    assert_eq!(kick["payload"]["reason"], "bye");
    let ids: HashSet<&str> = all.iter().map(|e| e["eventID"].as_str().unwrap()).collect();
    assert_eq!(ids.len(), all.len(), "event IDs are unique");
    assert!(ids.iter().all(|id| id.len() >= 16), "{ids:?}");

    // Secrets: a hidden marker in place of every password hash.
    for event in all.iter().filter(|e| e["eventType"] == "UserRegistered") {
        assert_eq!(event["payload"]["passwordHash"], "[hidden]", "{event}");
        assert_eq!(event["actorUserID"], event["payload"]["userID"], "{event}");
    }
    for filter in [
        json!({"userID": "bob"}),
        json!({"streamKey": "user:1000:alice"}),
        json!({"operationID": "reg-carol"}),
        json!({"eventTypes": ["UserRegistered"]}),
    ] {
        let found = history(&server, filter.clone()).await;
        let registered: Vec<&Value> = found.iter().filter(|e| e["eventType"] == "UserRegistered").collect();
        assert!(!registered.is_empty(), "{filter}");
        assert!(
            registered.iter().all(|e| e["payload"]["passwordHash"] == "[hidden]"),
            "{filter}"
        );
    }

    // streamKey
    let group = history(&server, json!({"streamKey": "group:1000:g1"})).await;
    assert_eq!(
        group.iter().map(label).collect::<Vec<_>>(),
        SCRIPTED[4..9],
        "one stream is in stream order"
    );
    let versions: Vec<u64> = group.iter().map(|e| e["streamVersion"].as_u64().unwrap()).collect();
    assert_eq!(versions, [1, 2, 3, 4, 5]);
    assert_eq!(
        select(&server, json!({"streamKey": "pair:1000:alice:bob"})).await,
        ["op-friend FriendRequested"]
    );
    assert_eq!(
        select(&server, json!({"streamKey": "user:1000:alice"})).await,
        sorted(&["reg-alice UserRegistered alice", "op-rename UserProfileUpdated alice"])
    );
    assert!(select(&server, json!({"streamKey": "user:1000:nobody"}))
        .await
        .is_empty());

    // userID: the actor or a user the payload names.
    let bob = history(&server, json!({"userID": "bob"})).await;
    let mut bob_labels: Vec<String> = bob.iter().map(label).collect();
    bob_labels.sort();
    assert_eq!(
        bob_labels,
        sorted(&[
            "reg-bob UserRegistered bob",
            "op-friend FriendRequested",
            "op-create GroupCreated",
            "op-create GroupMemberJoined bob",
            "op-kick GroupMemberKicked bob",
        ])
    );
    assert_eq!(
        bob.iter().filter(|e| e["actorUserID"] == "alice").count(),
        4,
        "bob is only a subject of alice's request, group (named as an initial member, then joining) and kick: {bob:?}"
    );
    assert_eq!(
        select(&server, json!({"userID": "carol"})).await,
        sorted(&[
            "reg-carol UserRegistered carol",
            "op-create GroupCreated",
            "op-create GroupMemberJoined carol",
            "op-admin UserProfileUpdated carol",
        ])
    );
    // The app admin is named nowhere in the payload of its rename: only as the actor.
    let by_admin = history(&server, json!({"userID": ADMIN})).await;
    assert_eq!(by_admin.iter().map(label).collect::<Vec<_>>(), [SCRIPTED[10]]);
    assert_eq!(by_admin[0]["actorUserID"], ADMIN);
    // Carol's fellow group member is told of it (and is no subject of it).
    assert_eq!(
        by_admin[0]["payload"],
        json!({"userID": "carol", "nickname": "Carol", "notifiedUserIDs": ["alice"]})
    );
    assert_eq!(
        select(&server, json!({"userID": "alice"})).await,
        sorted(&[
            "reg-alice UserRegistered alice",
            "op-friend FriendRequested",
            "op-create GroupCreated",
            "op-create GroupMemberJoined alice",
            "op-create GroupMemberJoined bob",
            "op-create GroupMemberJoined carol",
            "op-kick GroupMemberKicked bob",
            "op-rename UserProfileUpdated alice",
        ])
    );
    assert!(select(&server, json!({"userID": "nobody"})).await.is_empty());

    // eventTypes
    assert_eq!(
        select(&server, json!({"eventTypes": ["GroupMemberJoined"]})).await,
        sorted(&SCRIPTED[5..8])
    );
    assert_eq!(
        select(&server, json!({"eventTypes": ["UserRegistered", "UserProfileUpdated"]})).await,
        sorted(&[SCRIPTED[0], SCRIPTED[1], SCRIPTED[2], SCRIPTED[9], SCRIPTED[10]])
    );
    assert!(select(&server, json!({"eventTypes": ["NoSuchEvent"]})).await.is_empty());

    // operationID
    assert_eq!(
        select(&server, json!({"operationID": "op-create"})).await,
        sorted(&SCRIPTED[4..8])
    );
    assert_eq!(select(&server, json!({"operationID": "op-kick"})).await, [SCRIPTED[8]]);
    assert_eq!(select(&server, json!({"operationID": "reg-bob"})).await, [SCRIPTED[1]]);
    assert!(select(&server, json!({"operationID": "op-test"})).await.is_empty());

    // fromTime / toTime (milliseconds, both inclusive)
    let between = sorted(&SCRIPTED[3..9]);
    assert_eq!(
        select(&server, json!({"fromTime": s.from, "toTime": s.to})).await,
        between
    );
    assert_eq!(
        select(&server, json!({"fromTime": s.from})).await,
        sorted(&SCRIPTED[3..])
    );
    assert_eq!(select(&server, json!({"toTime": s.to})).await, sorted(&SCRIPTED[..9]));
    let at = kick["occurredAt"].as_i64().unwrap();
    assert_eq!(
        select(&server, json!({"fromTime": at, "toTime": at})).await,
        [SCRIPTED[8]],
        "both bounds are inclusive"
    );
    assert!(select(&server, json!({"fromTime": at + 1, "toTime": at}))
        .await
        .is_empty());
    assert!(select(&server, json!({"fromTime": now_ms() + 60_000})).await.is_empty());

    // fromPosition (inclusive)
    let from_create: Vec<String> = all.iter().filter(|e| position(e) >= s.create).map(label).collect();
    assert_eq!(
        history(&server, json!({"fromPosition": s.create}))
            .await
            .iter()
            .map(label)
            .collect::<Vec<_>>(),
        from_create
    );
    if !scale_out() {
        assert_eq!(
            from_create,
            SCRIPTED[7..],
            "create's position is that of its last event"
        );
    }
    assert_eq!(history(&server, json!({"fromPosition": 0})).await, all);
    assert_eq!(history(&server, json!({"fromPosition": 1})).await, all);
    let last = all.iter().map(position).max().unwrap();
    assert_eq!(history(&server, json!({"fromPosition": last})).await.len(), 1);
    assert!(history(&server, json!({"fromPosition": last + 1})).await.is_empty());

    // Combined filters: every one must hold.
    assert_eq!(
        select(&server, json!({"userID": "bob", "streamKey": "group:1000:g1"})).await,
        sorted(&[
            "op-create GroupCreated",
            "op-create GroupMemberJoined bob",
            "op-kick GroupMemberKicked bob"
        ])
    );
    assert_eq!(
        select(&server, json!({"userID": "bob", "operationID": "op-create"})).await,
        sorted(&["op-create GroupCreated", "op-create GroupMemberJoined bob"])
    );
    assert_eq!(
        select(
            &server,
            json!({"userID": "bob", "eventTypes": ["GroupMemberKicked", "UserRegistered"], "operationID": "op-kick"})
        )
        .await,
        [SCRIPTED[8]]
    );
    assert_eq!(
        select(
            &server,
            json!({"userID": "carol", "eventTypes": ["GroupMemberJoined"], "fromTime": s.from, "toTime": s.to})
        )
        .await,
        ["op-create GroupMemberJoined carol"]
    );
    assert_eq!(
        select(&server, json!({"userID": "alice", "eventTypes": ["UserRegistered"]})).await,
        [SCRIPTED[0]]
    );
    assert_eq!(
        select(&server, json!({"streamKey": "group:1000:g1", "fromPosition": s.kick})).await,
        [SCRIPTED[8]]
    );
    assert!(select(&server, json!({"streamKey": "group:1000:g1", "toTime": s.from}))
        .await
        .is_empty());
    assert!(
        select(&server, json!({"streamKey": "user:1000:bob", "operationID": "op-kick"}))
            .await
            .is_empty()
    );
    assert_eq!(
        select(
            &server,
            json!({"operationID": "op-rename", "userID": "alice", "fromTime": s.to})
        )
        .await,
        [SCRIPTED[9]]
    );
    assert!(select(&server, json!({"operationID": "op-rename", "toTime": s.to}))
        .await
        .is_empty());

    // Users named as sender and receiver (the app admin sends as carol to
    // bob), and in a list of users (dismissing g1 removes its members).
    let send = json!({
        "sendID": "carol", "recvID": "bob", "groupID": "", "sessionType": 1, "contentType": 101,
        "content": {"content": "hello"}, "clientMsgID": "msg-1",
    });
    command(&server, Some(&admin_token()), "op-msg", "/msg/send_msg", send).await;
    let dismiss = json!({"groupID": "g1", "deleteMember": true});
    command(&server, Some(&s.alice), "op-dismiss", "/group/dismiss_group", dismiss).await;
    let sent = history(&server, json!({"operationID": "op-msg"})).await;
    assert_eq!(sent.len(), 1, "{sent:?}");
    assert_eq!(sent[0]["eventType"], "MessageSent");
    assert_eq!(sent[0]["actorUserID"], ADMIN);
    assert_eq!(sent[0]["streamKey"], "pair:1000:bob:carol");
    let dismissed = history(&server, json!({"operationID": "op-dismiss"})).await;
    assert_eq!(dismissed.len(), 1, "{dismissed:?}");
    assert_eq!(dismissed[0]["eventType"], "GroupDismissed");
    let removed = dismissed[0]["payload"]["removedUserIDs"].as_array().unwrap();
    assert!(removed.contains(&json!("carol")), "{dismissed:?}");
    let recent = |user: &str| {
        // By time: with Kafka, positions order events per partition only.
        let filter = json!({"userID": user, "fromTime": sent[0]["occurredAt"]});
        let server = &server;
        async move { select(server, filter).await }
    };
    assert_eq!(
        recent("carol").await,
        sorted(&["op-dismiss GroupDismissed", "op-msg MessageSent"]),
        "carol: sendID and removedUserIDs"
    );
    assert_eq!(recent("bob").await, ["op-msg MessageSent"], "bob: recvID");
    assert_eq!(recent(ADMIN).await, ["op-msg MessageSent"], "the admin: the actor");
    assert!(recent("dave").await.is_empty());
}

#[tokio::test]
async fn only_app_admins_read_their_own_tenants_history() {
    let server = Server::start();
    let alice = server.user("alice").await;
    assert_eq!(server.register_in("2000", "zed", "zed").await["errCode"], 0);

    // A plain user, even about itself.
    let reply = server
        .post("/audit/events", Some(&alice), json!({"userID": "alice"}))
        .await;
    assert_err(&reply, 1002, "admin");
    let reply = server
        .post(
            "/audit/state",
            Some(&alice),
            json!({"streamKey": "user:1000:alice", "at": 1}),
        )
        .await;
    assert_err(&reply, 1002, "admin");
    let reply = server.post("/audit/events", None, json!({})).await;
    assert_eq!(reply["errCode"], 1507, "{reply}");

    // An app admin of 1000 asking for tenant 2000.
    let admin = admin_token();
    let reply = server
        .post("/audit/events", Some(&admin), json!({"tenant": "2000"}))
        .await;
    assert_err(&reply, 1002, "2000");
    let reply = server
        .post(
            "/audit/state",
            Some(&admin),
            json!({"streamKey": "user:2000:zed", "at": 1000}),
        )
        .await;
    assert_err(&reply, 1002, "2000");

    // The app admin of 2000 sees 2000's history only, and not 1000's.
    let other = token_with(
        json!({"userID": ADMIN, "platformID": 10, "tenant": "2000", "iat": now_secs(), "exp": now_secs() + 3600}),
        SECRET,
    );
    let (events, next) = page_of(server.post_as("2000", "/audit/events", Some(&other), json!({})).await);
    assert_eq!(next, "");
    let streams: Vec<&str> = events.iter().map(|e| e["streamKey"].as_str().unwrap()).collect();
    assert_eq!(streams, ["user:2000:zed"]);
    let (mine, _) = page_of(audit(&server, json!({})).await);
    let streams: Vec<&str> = mine.iter().map(|e| e["streamKey"].as_str().unwrap()).collect();
    assert_eq!(streams, ["user:1000:alice"]);
    let reply = server
        .post_as("2000", "/audit/events", Some(&other), json!({"tenant": "1000"}))
        .await;
    assert_err(&reply, 1002, "1000");
    let reply = server
        .post_as(
            "2000",
            "/audit/state",
            Some(&other),
            json!({"streamKey": "user:1000:alice", "at": 1000}),
        )
        .await;
    assert_err(&reply, 1002, "1000");
    let reply = server
        .post_as(
            "2000",
            "/audit/events",
            Some(&other),
            json!({"streamKey": "user:1000:alice"}),
        )
        .await;
    assert!(
        page_of(reply).0.is_empty(),
        "another tenant's stream is not in this tenant's history"
    );

    // Malformed requests.
    for (body, field) in [
        (json!({"cursor": "abc"}), "cursor"),
        (json!({"cursor": "-1"}), "cursor"),
        (json!({"limit": 0}), "limit"),
        (json!({"limit": 1001}), "limit"),
        (json!({"limit": -1}), "limit"),
        (json!({"streamKey": "group:1000"}), "streamKey"),
        (json!({"streamKey": "robot:1000:x"}), "streamKey"),
        (json!({"streamKey": "pair:1000:bob:alice"}), "streamKey"),
        (json!({"streamKey": ""}), "streamKey"),
        (json!({"fromTime": "yesterday"}), "fromTime"),
        (json!({"eventTypes": "UserRegistered"}), "eventTypes"),
    ] {
        let reply = audit(&server, body.clone()).await;
        assert_err(&reply, 1001, field);
    }
    assert_eq!(page_of(audit(&server, json!({"limit": 1000})).await).0.len(), 1);
    assert_eq!(page_of(audit(&server, json!({"limit": 1})).await).0.len(), 1);
    for (body, field) in [
        (json!({"streamKey": "group:1000", "at": 1}), "streamKey"),
        (json!({"streamKey": "user:1000:alice", "at": "yesterday"}), "at"),
        (json!({"streamKey": "user:1000:alice", "at": -1}), "at"),
        (json!({"streamKey": "user:1000:alice", "at": ""}), "at"),
        (json!({"streamKey": "user:1000:alice", "at": true}), "at"),
        (json!({"streamKey": "user:1000:alice"}), "at"),
    ] {
        let reply = server.post("/audit/state", Some(&admin), body).await;
        assert_err(&reply, 1001, field);
    }
}

#[tokio::test]
async fn pages_concatenate_to_the_unpaged_history() {
    let server = Server::start();
    let s = script(&server).await;
    // Past the default page size of 100.
    let admin = admin_token();
    for i in 0..105 {
        let rename = json!({"userInfo": {"userID": "bob", "nickname": format!("bob-{i}")}});
        command(
            &server,
            Some(&admin),
            &format!("rename-{}", i % 4),
            "/user/update_user_info_ex",
            rename,
        )
        .await;
    }

    let (first, next) = page_of(audit(&server, json!({})).await);
    assert_eq!(first.len(), 100, "100 events a page by default");
    assert!(!next.is_empty());
    let (rest, end) = page_of(audit(&server, json!({"cursor": next})).await);
    assert_eq!(end, "");
    assert_eq!(rest.len(), 16);
    let (everything, end) = page_of(audit(&server, json!({"limit": 1000})).await);
    assert_eq!(end, "");
    assert_eq!(everything.len(), 116);
    assert_eq!([first, rest].concat(), everything);

    for filter in [
        json!({}),
        json!({"userID": "bob"}),
        json!({"userID": "alice"}),
        json!({"streamKey": "user:1000:bob"}),
        json!({"streamKey": "group:1000:g1"}),
        json!({"eventTypes": ["UserProfileUpdated", "GroupMemberJoined"]}),
        json!({"operationID": "rename-1"}),
        json!({"fromPosition": s.create}),
        json!({"fromTime": s.from, "toTime": s.to}),
        json!({"userID": "bob", "operationID": "rename-3", "fromPosition": s.kick}),
        json!({"eventTypes": ["NoSuchEvent"]}),
    ] {
        let (unpaged, end) = page_of(audit(&server, with(&filter, json!({"limit": 1000}))).await);
        assert_eq!(end, "", "{filter}");
        assert_increasing(&unpaged);
        for limit in [1, 3] {
            let (pages, sizes) = paged(&server, &filter, limit).await;
            assert_eq!(pages, unpaged, "{filter}: pages of {limit}");
            let (last, full) = sizes.split_last().unwrap();
            assert!(full.iter().all(|n| *n == limit), "{filter}: {sizes:?}");
            assert!(*last <= limit);
            assert!(
                sizes.len() <= unpaged.len() / limit + 1,
                "{filter}: {} pages for {} events",
                sizes.len(),
                unpaged.len()
            );
            let ids: HashSet<&str> = pages.iter().map(|e| e["eventID"].as_str().unwrap()).collect();
            assert_eq!(ids.len(), pages.len(), "{filter}: no duplicates");
        }
        match filter.get("operationID").and_then(Value::as_str) {
            Some("rename-1") => assert_eq!(unpaged.len(), 26),
            Some("rename-3") => assert_eq!(unpaged.len(), 26),
            _ => {}
        }
    }
    assert_eq!(history(&server, json!({"userID": "bob"})).await.len(), 5 + 105);
    assert_eq!(
        history(&server, json!({"streamKey": "user:1000:bob"})).await.len(),
        1 + 105
    );

    // A cursor continues the query it came from, from where it stopped.
    let (one, next) = page_of(audit(&server, json!({"userID": "bob", "limit": 2})).await);
    let (two, _) = page_of(audit(&server, json!({"userID": "bob", "limit": 2, "cursor": next})).await);
    let bob = history(&server, json!({"userID": "bob"})).await;
    assert_eq!([one, two].concat(), bob[..4]);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_cursor_stays_stable_while_events_arrive() {
    let server = Arc::new(Server::start());
    let load = Load::start(&server, 2);
    load.progress(20, Duration::from_secs(60)).await;

    // What existed before paging started.
    let before = history(&server, json!({})).await;
    assert!(before.len() >= 40, "{}", before.len());
    let before_max = before.iter().map(position).max().unwrap();

    // Pages of 3 while the writers keep going: slowly through what existed
    // before (so that plenty arrives meanwhile), then as fast as possible
    // to catch up with the writers and reach the end.
    let mut seen: Vec<Value> = Vec::new();
    let mut cursor = String::new();
    let mut pages = 0;
    loop {
        let mut request = json!({"limit": 3});
        if !cursor.is_empty() {
            request["cursor"] = json!(cursor);
        }
        let (page, next) = page_of(audit(&server, request).await);
        pages += 1;
        assert!(page.len() <= 3);
        seen.extend(page);
        if next.is_empty() {
            break;
        }
        assert!(pages < 20_000, "paging does not end");
        cursor = next;
        if seen.last().is_some_and(|e| position(e) <= before_max) {
            tokio::time::sleep(Duration::from_millis(5)).await;
        }
    }
    load.stop().await;

    assert_increasing(&seen);
    let ids: HashSet<&str> = seen.iter().map(|e| e["eventID"].as_str().unwrap()).collect();
    assert_eq!(ids.len(), seen.len(), "no event twice");
    let missing: Vec<&Value> = before
        .iter()
        .filter(|e| !ids.contains(e["eventID"].as_str().unwrap()))
        .collect();
    assert!(
        missing.is_empty(),
        "events that existed before paging are missing: {missing:?}"
    );
    if !scale_out() {
        // One log, projected in order: events that arrived while paging
        // are seen too, and nothing before the last page was skipped. (With
        // Kafka, positions order events per partition: a cursor sees the
        // new events of the partitions it has not passed yet.)
        let arrived = seen.iter().filter(|e| position(e) > before_max).count();
        assert!(
            arrived >= 3,
            "events that arrived while paging are seen too ({arrived})"
        );
        let last = position(seen.last().unwrap());
        let mut all = history(&server, json!({})).await;
        all.retain(|e| position(e) <= last);
        assert_eq!(seen, all);
    }
}

#[tokio::test]
async fn time_travel_replays_a_groups_history() {
    const G: &str = "group:1000:tt";
    let server = Server::start();
    for user in ["alice", "bob", "carol", "dave"] {
        register(&server, user, &format!("reg-{user}")).await;
    }
    let alice = server.login("alice").await;
    let carol = server.login("carol").await;
    // Each step's position (its reply's X-Parley-Position) and a time right
    // after it.
    let mut positions = Vec::new();
    let mut at_times = Vec::new();
    pause().await;
    let before = now_ms();
    pause().await;

    // 1: alice creates tt with carol as an admin, bob and dave as members.
    let group = json!({
        "ownerUserID": "alice",
        "adminUserIDs": ["carol"],
        "memberUserIDs": ["bob", "dave"],
        "groupInfo": {"groupID": "tt", "groupName": "Time", "groupType": 2, "needVerification": 2},
    });
    let (_, p) = command(&server, Some(&alice), "tt-create", "/group/create_group", group).await;
    positions.push(p);
    at_times.push(now_ms());
    pause().await;
    // 2: alice mutes bob for 10 minutes.
    let mute = json!({"groupID": "tt", "userID": "bob", "mutedSeconds": 600});
    let (_, p) = command(&server, Some(&alice), "tt-mute", "/group/mute_group_member", mute).await;
    positions.push(p);
    at_times.push(now_ms());
    pause().await;
    // 3: alice hands the group to carol.
    let transfer = json!({"groupID": "tt", "oldOwnerUserID": "alice", "newOwnerUserID": "carol"});
    let (_, p) = command(&server, Some(&alice), "tt-transfer", "/group/transfer_group", transfer).await;
    positions.push(p);
    at_times.push(now_ms());
    pause().await;
    // 4: carol, now the owner, kicks bob.
    let kick = json!({"groupID": "tt", "kickedUserIDs": ["bob"], "reason": "bye"});
    let (_, p) = command(&server, Some(&carol), "tt-kick", "/group/kick_group", kick).await;
    positions.push(p);
    at_times.push(now_ms());
    pause().await;
    // Afterwards: another stream's event.
    let rename = json!({"userInfo": {"userID": "alice", "nickname": "Alice"}});
    command(&server, Some(&alice), "tt-rename", "/user/update_user_info_ex", rename).await;

    let events = history(&server, json!({"streamKey": G})).await;
    let kinds: Vec<&str> = events.iter().map(|e| e["eventType"].as_str().unwrap()).collect();
    assert_eq!(
        kinds,
        [
            "GroupCreated",
            "GroupMemberJoined",
            "GroupMemberJoined",
            "GroupMemberJoined",
            "GroupMemberJoined",
            "GroupMemberMuted",
            "GroupOwnerTransferred",
            "GroupMemberKicked",
        ]
    );
    let muted = &events[5];
    let mute_end = muted["payload"]["muteEndTime"].as_i64().unwrap();
    assert_eq!(mute_end, muted["occurredAt"].as_i64().unwrap() + 600_000);

    let member = |role: i64, mute: i64| json!({"role_level": role, "mute_end_time": mute});
    let expected = [
        (
            5,
            "alice",
            json!({"alice": member(100, 0), "bob": member(20, 0), "carol": member(60, 0), "dave": member(20, 0)}),
        ),
        (
            6,
            "alice",
            json!({"alice": member(100, 0), "bob": member(20, mute_end), "carol": member(60, 0), "dave": member(20, 0)}),
        ),
        (
            7,
            "carol",
            json!({"alice": member(20, 0), "bob": member(20, mute_end), "carol": member(100, 0), "dave": member(20, 0)}),
        ),
        (
            8,
            "carol",
            json!({"alice": member(20, 0), "carol": member(100, 0), "dave": member(20, 0)}),
        ),
    ];
    let mut by_position = Vec::new();
    for (step, (version, owner, members)) in expected.iter().enumerate() {
        let p = positions[step];
        let data = state_at(&server, G, json!(p)).await;
        assert_eq!(data["streamKey"], G);
        assert_eq!(data["version"], *version, "step {}: {data}", step + 1);
        assert_eq!(data["position"], p, "step {}: {data}", step + 1);
        let event = &events[*version as usize - 1];
        assert_eq!(position(event), p);
        assert_eq!(data["occurredAt"], event["occurredAt"], "step {}", step + 1);
        let group = &data["state"]["Group"];
        assert_eq!(group["members"], *members, "step {}: {data}", step + 1);
        assert_eq!(group["group"]["owner"], *owner, "step {}: {data}", step + 1);
        assert_eq!(group["group"]["status"], 0, "step {}: {data}", step + 1);
        assert_eq!(group["requests"], json!({}), "step {}: {data}", step + 1);
        // The same point as digits, and as the time right after the step
        // (in UTC and in two other zones).
        assert_eq!(state_at(&server, G, json!(p.to_string())).await, data);
        let t = at_times[step];
        assert_eq!(
            state_at(&server, G, json!(rfc3339(t, 0))).await,
            data,
            "step {}",
            step + 1
        );
        assert_eq!(
            state_at(&server, G, json!(rfc3339(t, 120))).await,
            data,
            "step {}",
            step + 1
        );
        assert_eq!(
            state_at(&server, G, json!(rfc3339(t, -330))).await,
            data,
            "step {}",
            step + 1
        );
        by_position.push(data);
    }

    // Within create_group: only the group and its owner so far.
    let first = position(&events[0]);
    let data = state_at(&server, G, json!(position(&events[1]))).await;
    assert_eq!(data["version"], 2);
    assert_eq!(data["state"]["Group"]["members"], json!({"alice": member(100, 0)}));
    assert_eq!(data["state"]["Group"]["group"]["owner"], "alice");
    let data = state_at(&server, G, json!(first)).await;
    assert_eq!(data["version"], 1);
    assert_eq!(data["state"]["Group"]["members"], json!({}));
    assert_eq!(data["state"]["Group"]["group"]["owner"], "alice");

    // Before it existed: nothing, by position and by time.
    let empty = state_at(&server, G, json!(first - 1)).await;
    assert_eq!(empty["version"], 0);
    assert_eq!(empty["position"], 0);
    assert_eq!(empty["occurredAt"], 0);
    assert_eq!(empty["state"]["Group"]["group"], Value::Null);
    assert_eq!(empty["state"]["Group"]["members"], json!({}));
    assert_eq!(state_at(&server, G, json!(rfc3339(before, 0))).await, empty);
    assert_eq!(state_at(&server, G, json!(0)).await, empty);
    assert_eq!(state_at(&server, G, json!("1970-01-01T00:00:00Z")).await, empty);

    // Between steps 2 and 3 (the mute's time + 1 ms) is still step 2.
    let between = muted["occurredAt"].as_i64().unwrap() + 1;
    assert_eq!(state_at(&server, G, json!(rfc3339(between, 0))).await, by_position[1]);
    let mute_time = muted["occurredAt"].as_i64().unwrap();
    assert_eq!(
        state_at(&server, G, json!(rfc3339(mute_time, 0))).await,
        by_position[1],
        "an event at exactly that time is part of the state"
    );
    let just_before_mute = mute_time - 1;
    assert_eq!(
        state_at(&server, G, json!(rfc3339(just_before_mute, 0))).await,
        by_position[0]
    );

    // Long after: the current state, whatever came later in other streams.
    assert_eq!(state_at(&server, G, json!(u64::MAX)).await, by_position[3]);
    assert_eq!(
        state_at(&server, G, json!(rfc3339(now_ms() + 86_400_000, 0))).await,
        by_position[3]
    );
    assert_eq!(
        state_at(&server, G, json!("2999-01-01T00:00:00Z")).await,
        by_position[3]
    );
}

/// `parley audit` with these arguments (no token or URL from the
/// environment).
fn cli(args: &[&str]) -> std::process::Output {
    parley()
        .arg("audit")
        .args(args)
        .env_remove("PARLEY_TOKEN")
        .env_remove("PARLEY_URL")
        .env_remove("PARLEY_TENANT")
        .output()
        .expect("run parley audit")
}

/// The JSON lines of a successful `parley audit`.
#[track_caller]
fn json_lines(output: &std::process::Output) -> Vec<Value> {
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(output.status.success(), "parley audit failed: {stderr}");
    String::from_utf8(output.stdout.clone())
        .unwrap()
        .lines()
        .map(|line| serde_json::from_str(line).unwrap_or_else(|e| panic!("not a JSON line ({e}): {line}")))
        .collect()
}

#[tokio::test]
async fn parley_audit_prints_the_apis_events_as_json_lines() {
    let server = Server::start();
    let s = script(&server).await;
    let base = server.base().unwrap();
    let token = admin_token();
    let from = rfc3339(s.from, 0);
    let to = s.to.to_string();
    let create = s.create.to_string();
    let cases: Vec<(Vec<&str>, Value)> = vec![
        (vec![], json!({})),
        (vec!["--stream", "group:1000:g1"], json!({"streamKey": "group:1000:g1"})),
        (vec!["--user", "bob"], json!({"userID": "bob"})),
        (
            vec!["--event-type", "GroupMemberJoined", "--event-type", "UserRegistered"],
            json!({"eventTypes": ["GroupMemberJoined", "UserRegistered"]}),
        ),
        (vec!["--operation-id", "op-create"], json!({"operationID": "op-create"})),
        (
            vec!["--from-time", &from, "--to-time", &to],
            json!({"fromTime": s.from, "toTime": s.to}),
        ),
        (vec!["--from-position", &create], json!({"fromPosition": s.create})),
        (
            vec![
                "--user",
                "bob",
                "--stream",
                "group:1000:g1",
                "--event-type",
                "GroupMemberKicked",
            ],
            json!({"userID": "bob", "streamKey": "group:1000:g1", "eventTypes": ["GroupMemberKicked"]}),
        ),
        (vec!["--user", "nobody"], json!({"userID": "nobody"})),
    ];
    for (args, filter) in cases {
        let expected = history(&server, filter.clone()).await;
        for page in ["2", "1000"] {
            let mut all_args = vec!["--url", &base, "--token", &token, "--page", page];
            all_args.extend(&args);
            let output = cli(&all_args);
            let lines = json_lines(&output);
            assert_eq!(lines, expected, "parley audit {args:?} --page {page} vs {filter}");
            assert!(!String::from_utf8_lossy(&output.stdout).contains("$argon2"));
        }
        if filter == json!({}) {
            assert_eq!(expected.len(), SCRIPTED.len());
        }
        if filter == json!({"userID": "bob"}) {
            assert_eq!(expected.len(), 5);
        }
    }
    // The token may come from the environment.
    let output = parley()
        .args(["audit", "--url", &base, "--operation-id", "op-kick"])
        .env("PARLEY_TOKEN", &token)
        .output()
        .unwrap();
    let lines = json_lines(&output);
    assert_eq!(lines.iter().map(label).collect::<Vec<_>>(), [SCRIPTED[8]]);
}

#[tokio::test]
async fn parley_audit_state_prints_what_the_api_answers() {
    let server = Server::start();
    let s = script(&server).await;
    let base = server.base().unwrap();
    let token = admin_token();
    for at in [
        s.kick.to_string(),
        s.create.to_string(),
        rfc3339(s.from, 0),
        rfc3339(s.to, 60),
    ] {
        let output = cli(&[
            "state",
            "--stream",
            "group:1000:g1",
            "--at",
            &at,
            "--url",
            &base,
            "--token",
            &token,
        ]);
        let stderr = String::from_utf8_lossy(&output.stderr);
        assert!(output.status.success(), "parley audit state --at {at}: {stderr}");
        let printed: Value = serde_json::from_slice(&output.stdout).expect("JSON");
        let api = state_at(&server, "group:1000:g1", json!(at)).await;
        assert_eq!(printed, api, "--at {at}");
    }
    let output = cli(&[
        "state",
        "--stream",
        "group:1000:g1",
        "--at",
        &s.kick.to_string(),
        "--url",
        &base,
        "--token",
        &token,
    ]);
    let printed: Value = serde_json::from_slice(&output.stdout).unwrap();
    assert_eq!(printed["version"], 5);
    assert_eq!(
        printed["state"]["Group"]["members"],
        json!({"alice": {"role_level": 100, "mute_end_time": 0}, "carol": {"role_level": 20, "mute_end_time": 0}})
    );
}

#[tokio::test]
async fn parley_audit_state_takes_the_server_options_before_the_subcommand() {
    let server = Server::start();
    let s = script(&server).await;
    let base = server.base().unwrap();
    let token = admin_token();
    let at = s.kick.to_string();
    let output = cli(&[
        "--url",
        &base,
        "--token",
        &token,
        "state",
        "--stream",
        "group:1000:g1",
        "--at",
        &at,
    ]);
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(output.status.success(), "{stderr}");
    let printed: Value = serde_json::from_slice(&output.stdout).expect("JSON");
    assert_eq!(printed, state_at(&server, "group:1000:g1", json!(s.kick)).await);
}

#[tokio::test]
async fn parley_audit_refuses_clearly_without_an_admin_token() {
    let server = Server::start();
    let alice = server.user("alice").await;
    let base = server.base().unwrap();

    let output = cli(&["--url", &base, "--user", "alice"]);
    assert!(!output.status.success());
    assert!(output.stdout.is_empty(), "{}", String::from_utf8_lossy(&output.stdout));
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(stderr.contains("--token"), "{stderr}");

    let output = cli(&["state", "--stream", "user:1000:alice", "--at", "1", "--url", &base]);
    assert!(!output.status.success());
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(stderr.contains("--token"), "{stderr}");

    // A plain user's token: the API's refusal, and a failure exit.
    let output = cli(&["--url", &base, "--token", &alice]);
    assert!(!output.status.success());
    assert!(output.stdout.is_empty(), "{}", String::from_utf8_lossy(&output.stdout));
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(stderr.contains("1002"), "{stderr}");

    // A malformed filter: the API's 1001.
    let output = cli(&["--url", &base, "--token", &admin_token(), "--stream", "group:1000"]);
    assert!(!output.status.success());
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(stderr.contains("1001") && stderr.contains("streamKey"), "{stderr}");
}

#[tokio::test]
async fn a_platform_admin_reads_every_tenants_history_and_nothing_else() {
    let dir = tempfile::tempdir().unwrap();
    let server = Server::start_in(dir.path(), &["--platform-admin-user-ids", "root"]);
    server.user("alice").await;
    assert_eq!(server.register_in("2000", "zed", "Zed").await["errCode"], 0);
    let root_of = |tenant: &str| {
        token_with(
            json!({"userID": "root", "platformID": 10, "tenant": tenant, "iat": now_secs(), "exp": now_secs() + 3600}),
            SECRET,
        )
    };
    let root = root_of(TENANT);

    for (tenant, stream) in [("1000", "user:1000:alice"), ("2000", "user:2000:zed")] {
        let (events, _) = page_of(
            server
                .post("/audit/events", Some(&root), json!({ "tenant": tenant }))
                .await,
        );
        let streams: Vec<&str> = events.iter().map(|e| e["streamKey"].as_str().unwrap()).collect();
        assert_eq!(streams, [stream], "tenant {tenant}");
        let at = events[0]["position"].clone();
        let state = ok(server
            .post("/audit/state", Some(&root), json!({"streamKey": stream, "at": at}))
            .await);
        assert_eq!(state["state"]["User"]["registered"], true, "{state}");
    }

    // Reading is all: a platform admin is no app admin, and its ID is reserved.
    let reply = server
        .post(
            "/user/update_user_info_ex",
            Some(&root),
            json!({"userInfo": {"userID": "alice", "nickname": "x"}}),
        )
        .await;
    assert_err(&reply, 1002, "root");
    let reply = server
        .post("/audit/forget_user", Some(&root), json!({"userID": "alice"}))
        .await;
    assert_err(&reply, 1002, "app admins");
    assert_err(&server.register("root", "Root").await, 1002, "reserved");
    assert_err(&server.register_in("2000", "root", "Root").await, 1002, "reserved");
}

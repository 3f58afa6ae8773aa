//! Faults of the scale-out deployment (Kafka + MongoDB): a crash of each
//! role under load loses nothing acknowledged; a zombie writer is fenced;
//! read-model queries use indexes.

use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;

use futures::TryStreamExt;
use infra::kafka::{KafkaConfig, PartitionProducer};
use rdkafka::consumer::{Consumer, StreamConsumer};
use rdkafka::message::{Header, OwnedHeaders};
use rdkafka::producer::{FutureProducer, FutureRecord, Producer};
use rdkafka::{ClientConfig, Message, Offset, TopicPartitionList};
use serde_json::Value;

use crate::harness::*;

fn brokers() -> String {
    std::env::var("PARLEY_TEST_KAFKA_BROKERS").unwrap_or_else(|_| "127.0.0.1:9092".into())
}

fn mongo_uri() -> String {
    std::env::var("PARLEY_TEST_MONGODB_URI").unwrap_or_else(|_| "mongodb://127.0.0.1:27017".into())
}

/// Every committed record of `topic`, from the start to the current end.
async fn read_topic(topic: &str) -> Vec<Vec<u8>> {
    let consumer: StreamConsumer = ClientConfig::new()
        .set("bootstrap.servers", brokers())
        .set("group.id", format!("{topic}-inspect"))
        .set("isolation.level", "read_committed")
        .set("enable.auto.commit", "false")
        .create()
        .unwrap();
    let metadata = consumer.fetch_metadata(Some(topic), Duration::from_secs(10)).unwrap();
    let partitions = metadata.topics()[0].partitions().len() as i32;
    let mut ends = HashMap::new();
    let mut assignment = TopicPartitionList::new();
    for p in 0..partitions {
        let (low, high) = consumer.fetch_watermarks(topic, p, Duration::from_secs(10)).unwrap();
        if high > low {
            ends.insert(p, high);
            assignment.add_partition_offset(topic, p, Offset::Beginning).unwrap();
        }
    }
    consumer.assign(&assignment).unwrap();
    let mut records = Vec::new();
    while !ends.is_empty() {
        if let Ok(message) = tokio::time::timeout(Duration::from_millis(500), consumer.recv()).await {
            records.push(message.unwrap().payload().unwrap_or_default().to_vec());
        }
        let positions = consumer.position().unwrap();
        ends.retain(|p, end| {
            !matches!(positions.find_partition(topic, *p).map(|e| e.offset()), Some(Offset::Offset(o)) if o >= *end)
        });
    }
    records
}

/// The stored events: each stream's versions are 1, 2, 3, ... with no gap
/// and no duplicate, and every user registered at most once.
async fn assert_log_is_exact(server: &Server) {
    let mut versions: HashMap<String, Vec<u64>> = HashMap::new();
    for record in read_topic(&format!("{}-events", server.namespace())).await {
        let envelope: Value = serde_json::from_slice(&record).unwrap();
        let stream = envelope["streamKey"].as_str().unwrap().to_owned();
        versions
            .entry(stream)
            .or_default()
            .push(envelope["streamVersion"].as_u64().unwrap());
    }
    assert!(!versions.is_empty());
    for (stream, versions) in versions {
        let expected: Vec<u64> = (1..=versions.len() as u64).collect();
        assert_eq!(versions, expected, "stream {stream} is not dense");
    }
}

#[tokio::test]
async fn a_killed_writer_loses_nothing_and_its_partitions_move() {
    let server = Arc::new(Server::start());
    server.spawn(Role::Writer);
    let load = Load::start(&server, 4);
    load.progress(40, Duration::from_secs(120)).await;

    server.kill(Role::Writer, 0);
    let takeover = load.progress(40, Duration::from_secs(120)).await;
    eprintln!("writer killed: 40 more renames acknowledged within {takeover:?}");

    server.spawn(Role::Writer);
    load.progress(40, Duration::from_secs(120)).await;
    let (registered, renamed) = load.stop().await;

    assert_nothing_lost(&server, &registered, &renamed).await;
    assert_log_is_exact(&server).await;
}

#[tokio::test]
async fn a_killed_api_node_loses_nothing_acknowledged() {
    let server = Arc::new(Server::start());
    let load = Load::start(&server, 4);
    load.progress(30, Duration::from_secs(120)).await;
    server.kill(Role::Api, 0);
    load.progress(30, Duration::from_secs(120)).await;
    server.spawn(Role::Api);
    load.progress(30, Duration::from_secs(120)).await;
    let (registered, renamed) = load.stop().await;
    assert_nothing_lost(&server, &registered, &renamed).await;
    assert_log_is_exact(&server).await;
}

/// Profiles of `users`, asked until the read models stop changing.
async fn settled_profiles(server: &Server, users: &[String]) -> Vec<Value> {
    let admin = admin_token();
    let mut last = Vec::new();
    for _ in 0..100 {
        let mut now = Vec::new();
        for chunk in users.chunks(500) {
            let ids: Vec<&str> = chunk.iter().map(String::as_str).collect();
            now.push(server.users_info(&admin, &ids).await);
        }
        if now == last {
            return now;
        }
        last = now;
        tokio::time::sleep(Duration::from_millis(300)).await;
    }
    panic!("the read models never settled");
}

#[tokio::test]
async fn a_killed_projector_resumes_and_ends_identical_to_a_rebuild() {
    let dir = tempfile::tempdir().unwrap();
    let server = Arc::new(Server::start_in(dir.path(), &["--read-wait-ms", "300"]));
    let load = Load::start(&server, 4);
    load.progress(40, Duration::from_secs(120)).await;
    server.kill(Role::Projector, 0);
    tokio::time::sleep(Duration::from_millis(500)).await;
    server.spawn(Role::Projector);
    load.progress(20, Duration::from_secs(120)).await;
    let (registered, renamed) = load.stop().await;
    assert_nothing_lost_eventually(&server, &registered, &renamed, Duration::from_secs(120)).await;
    let live = settled_profiles(&server, &registered).await;
    assert!(server.stop().success());

    let out = parley().arg("rebuild").args(server.backend_args()).output().unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let server = Server::start_in(dir.path(), &[]);
    assert_eq!(settled_profiles(&server, &registered).await, live);
}

/// Produces one record outside any writer, as a foreign or future build
/// might, with the `parley-format` header `version` if given.
async fn produce(topic: &str, partition: i32, key: &str, version: Option<&str>, payload: &[u8]) {
    let producer: FutureProducer = ClientConfig::new()
        .set("bootstrap.servers", brokers())
        .create()
        .unwrap();
    let mut record = FutureRecord::to(topic).partition(partition).key(key).payload(payload);
    if let Some(version) = version {
        record = record.headers(OwnedHeaders::new().insert(Header {
            key: "parley-format",
            value: Some(version),
        }));
    }
    producer.send(record, Duration::from_secs(10)).await.unwrap();
}

#[tokio::test]
async fn a_new_writer_rebuilds_a_scope_whose_state_record_it_cannot_read() {
    let server = Server::start();
    let alice = server.user("alice").await;
    let rename = |nickname: &str| serde_json::json!({"userInfo": {"userID": "alice", "nickname": nickname}});
    ok(server
        .post("/user/update_user_info_ex", Some(&alice), rename("A2"))
        .await);
    let key = format!("user:{TENANT}:alice");
    let partition = infra::kafka::partition_for(&key, 4);
    // The latest state record of alice's scope: a format this build does
    // not know.
    let state_topic = format!("{}-state", server.namespace());
    produce(&state_topic, partition, &key, Some("9"), b"{\"fromTheFuture\": true}").await;

    server.kill(Role::Writer, 0);
    server.spawn(Role::Writer);
    // Alice's scope must know she is registered with two events: a rename
    // decided on an empty state would be refused (1101), and one decided on
    // a wrong version would leave a gap or a duplicate in her stream.
    ok(server
        .post("/user/update_user_info_ex", Some(&alice), rename("A3"))
        .await);
    assert_eq!(server.users_info(&alice, &["alice"]).await[0]["nickname"], "A3");
    assert_log_is_exact(&server).await;
}

#[tokio::test]
async fn a_command_record_of_an_unknown_format_is_refused_with_a_reply() {
    let server = Server::start();
    server.user("alice").await;
    let namespace = server.namespace();
    let replies = format!("{namespace}-replies");
    let record = serde_json::json!({
        "correlationID": "from-the-future",
        "replyTopic": replies,
        "replyPartition": 1,
        "command": {"Teleport": {"to": "mars"}},
    });
    let commands = format!("{namespace}-commands");
    // First one with a reply address nobody can be answered at: skipped,
    // it must not wedge the partition.
    let mut nowhere = record.clone();
    nowhere["replyPartition"] = 99.into();
    produce(&commands, 2, "anything", Some("2"), nowhere.to_string().as_bytes()).await;
    produce(&commands, 2, "anything", Some("2"), record.to_string().as_bytes()).await;

    let started = std::time::Instant::now();
    let reply = loop {
        let found = read_topic(&replies)
            .await
            .into_iter()
            .filter_map(|r| serde_json::from_slice::<Value>(&r).ok())
            .find(|r| r["correlationID"] == "from-the-future");
        if let Some(reply) = found {
            break reply;
        }
        assert!(
            started.elapsed() < Duration::from_secs(60),
            "no reply to the refused command"
        );
        tokio::time::sleep(Duration::from_millis(500)).await;
    };
    let reason = reply["outcome"]["Refused"].as_str().unwrap_or_default();
    assert!(reason.contains("version 2"), "{reply}");
    // The writer carries on.
    server.user("bob").await;
}

/// Registers one new user on each of the 4 partitions; how long from
/// `since` until the read models include all of them.
async fn read_models_advance_on_every_partition(server: &Server, since: std::time::Instant, tag: &str) -> Duration {
    let mut markers: Vec<String> = Vec::new();
    let mut covered = std::collections::HashSet::new();
    for i in 0.. {
        let id = format!("{tag}-{i}");
        if covered.insert(infra::kafka::partition_for(&format!("user:{TENANT}:{id}"), 4)) {
            ok(server.register(&id, "marker").await);
            markers.push(id);
        }
        if covered.len() == 4 {
            break;
        }
    }
    let admin = admin_token();
    let ids: Vec<&str> = markers.iter().map(String::as_str).collect();
    while server.users_info(&admin, &ids).await.as_array().unwrap().len() < ids.len() {
        assert!(
            since.elapsed() < Duration::from_secs(120),
            "the read models stood still"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    since.elapsed()
}

/// How long after a kill -9 of the projector under load the read models
/// include commands acknowledged after the kill, on every partition. A kill
/// that lands inside the projector's MongoDB transaction leaves it open;
/// MongoDB would hold its documents until it expires it (60 s by default).
#[tokio::test]
async fn read_models_advance_soon_after_a_projector_is_killed() {
    let dir = tempfile::tempdir().unwrap();
    let server = Arc::new(Server::start_in(dir.path(), &["--read-wait-ms", "300"]));
    let load = Load::start(&server, 8);
    load.progress(60, Duration::from_secs(120)).await;

    let killed = std::time::Instant::now();
    server.kill(Role::Projector, 0);
    server.spawn(Role::Projector);
    let stall = read_models_advance_on_every_partition(&server, killed, "after-kill").await;
    eprintln!("projector killed: commands acknowledged after the kill readable on every partition after {stall:?}");
    let (registered, renamed) = load.stop().await;
    assert_nothing_lost_eventually(&server, &registered, &renamed, Duration::from_secs(120)).await;
    assert!(
        stall < Duration::from_secs(15),
        "read models stood still for {stall:?} after a projector kill"
    );
}

/// The same, with the killed projector's transaction certainly open on
/// every partition: the test plays a projector that died inside one (a
/// session holding the lease of every partition, whose open transaction
/// wrote each partition's checkpoint). Its successor must end that session
/// rather than wait for MongoDB to expire the transaction.
#[tokio::test]
async fn a_new_projector_ends_a_dead_projectors_open_transaction() {
    let dir = tempfile::tempdir().unwrap();
    let server = Arc::new(Server::start_in(dir.path(), &["--read-wait-ms", "300"]));
    let load = Load::start(&server, 4);
    load.progress(20, Duration::from_secs(120)).await;
    let killed = std::time::Instant::now();
    server.kill(Role::Projector, 0);

    let client = mongodb::Client::with_uri_str(mongo_uri()).await.unwrap();
    let db = client.database(&server.namespace());
    let mut dead = client.start_session().await.unwrap();
    dead.start_transaction().await.unwrap();
    let checkpoints = db.collection::<mongodb::bson::Document>("_checkpoints");
    let leases = db.collection::<mongodb::bson::Document>("_leases");
    for partition in 0..4i64 {
        let filter = mongodb::bson::doc! {"_id": partition};
        checkpoints
            .update_one(filter.clone(), mongodb::bson::doc! {"$set": {"heldBy": "the dead"}})
            .upsert(true)
            .session(&mut dead)
            .await
            .unwrap();
        leases
            .update_one(filter, mongodb::bson::doc! {"$set": {"lsid": dead.id().clone()}})
            .upsert(true)
            .await
            .unwrap();
    }

    server.spawn(Role::Projector);
    let stall = read_models_advance_on_every_partition(&server, killed, "after-death").await;
    eprintln!("projector died in a transaction: read models advanced on every partition after {stall:?}");
    let (registered, renamed) = load.stop().await;
    assert_nothing_lost_eventually(&server, &registered, &renamed, Duration::from_secs(120)).await;
    assert!(stall < Duration::from_secs(15), "read models stood still for {stall:?}");
    drop(dead);
}

#[tokio::test]
async fn a_fenced_zombie_writer_cannot_append() {
    let config = KafkaConfig {
        brokers: brokers(),
        namespace: format!("zombie{}", uuid_like()),
        partitions: 1,
    };
    config.ensure_topics().await.unwrap();
    let topic = config.events_topic();

    let zombie = PartitionProducer::new(&config, 0).await.unwrap();
    zombie.inner().begin_transaction().unwrap();
    let record = FutureRecord::<(), _>::to(&topic)
        .partition(0)
        .payload("from the zombie");
    zombie.inner().send(record, Duration::from_secs(10)).await.unwrap();

    // A new owner of partition 0 registers the same transactional.id.
    let owner = PartitionProducer::new(&config, 0).await.unwrap();
    let zombie_commit = zombie.inner().commit_transaction(Duration::from_secs(10));
    assert!(zombie_commit.is_err(), "the zombie's transaction committed");

    owner.inner().begin_transaction().unwrap();
    let record = FutureRecord::<(), _>::to(&topic).partition(0).payload("from the owner");
    owner.inner().send(record, Duration::from_secs(10)).await.unwrap();
    owner.inner().commit_transaction(Duration::from_secs(10)).unwrap();

    assert_eq!(read_topic(&topic).await, [b"from the owner".to_vec()]);
}

#[tokio::test]
async fn read_model_queries_use_indexes() {
    let server = Server::start();
    let token = server.user("alice").await;
    server.user("bob").await;
    assert_eq!(
        server
            .users_info(&token, &["alice", "bob"])
            .await
            .as_array()
            .unwrap()
            .len(),
        2
    );

    let client = mongodb::Client::with_uri_str(mongo_uri()).await.unwrap();
    let db = client.database(&server.namespace());
    let collections: Vec<String> = db.list_collection_names().await.unwrap();
    assert!(collections.contains(&"users".to_owned()), "{collections:?}");
    // get_users_info: documents by _id.
    let plan = db
        .run_command(mongodb::bson::doc! {
            "explain": {"find": "users", "filter": {"_id": {"$in": ["1000:alice", "1000:bob"]}}},
            "verbosity": "queryPlanner",
        })
        .await
        .unwrap();
    let plan = serde_json::to_string(&plan).unwrap();
    assert!(plan.contains("IXSCAN") && !plan.contains("COLLSCAN"), "{plan}");
    // Every list (friends, requests, blacklist): its owner's list prefix.
    let alice_friends = server
        .post(
            "/friend/get_friend_list",
            Some(&token),
            serde_json::json!({"userID": "alice", "pagination": {"pageNumber": 1, "showNumber": 10}}),
        )
        .await;
    assert_eq!(alice_friends["errCode"], 0, "{alice_friends}");
    for collection in ["friends", "friend_requests_received", "friend_requests_sent", "blacks"] {
        let plan = db
            .run_command(mongodb::bson::doc! {
                "explain": {
                    "find": collection,
                    "filter": {"_list": "1000:alice:"},
                    "sort": {"_id": 1},
                },
                "verbosity": "queryPlanner",
            })
            .await
            .unwrap();
        let plan = serde_json::to_string(&plan).unwrap();
        assert!(
            plan.contains("IXSCAN") && !plan.contains("COLLSCAN"),
            "{collection}: {plan}"
        );
    }
    let docs: Vec<mongodb::bson::Document> = db
        .collection("users")
        .find(mongodb::bson::doc! {})
        .await
        .unwrap()
        .try_collect()
        .await
        .unwrap();
    assert_eq!(docs.len(), 2);
}

fn uuid_like() -> String {
    format!(
        "{:x}{:x}",
        std::process::id(),
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap()
            .as_nanos()
    )
}

/// The same, allowing the read models up to `within` to catch up (after a
/// projector crash they may lag behind the acknowledged commands).
pub async fn assert_nothing_lost_eventually(
    server: &Server,
    registered: &[String],
    renamed: &[String],
    within: Duration,
) {
    let started = std::time::Instant::now();
    loop {
        match find_lost(server, registered, renamed).await {
            Ok(()) => return,
            Err(lost) if started.elapsed() > within => panic!("{lost}"),
            Err(_) => tokio::time::sleep(Duration::from_millis(200)).await,
        }
    }
}

/// `parley verify` against Kafka + MongoDB: a replay of the events topic
/// into a scratch database, compared with the live one; a corrupted
/// document is found, and `rebuild --projection` repairs it.
#[tokio::test]
async fn verify_catches_a_corrupted_mongodb_document() {
    let server = Server::start();
    let alice = server.user("alice").await;
    server.user("bob").await;
    let create = serde_json::json!({"ownerUserID": "alice", "memberUserIDs": ["bob"],
        "groupInfo": {"groupID": "g1", "groupName": "Team", "groupType": 2}});
    assert_eq!(
        server.post("/group/create_group", Some(&alice), create).await["errCode"],
        0
    );
    assert!(server.stop().success());
    let run = |args: &[&str]| {
        let out = parley().args(args).args(server.backend_args()).output().unwrap();
        (out.status.success(), String::from_utf8_lossy(&out.stdout).into_owned())
    };
    let (ok, stdout) = run(&["verify"]);
    assert!(ok && stdout.contains("identical"), "{stdout}");

    let client = mongodb::Client::with_uri_str(mongo_uri()).await.unwrap();
    let groups = client
        .database(&server.namespace())
        .collection::<mongodb::bson::Document>("groups");
    let changed = groups
        .update_one(
            mongodb::bson::doc! {"_id": "1000:g1"},
            mongodb::bson::doc! {"$set": {"memberCount": 7}},
        )
        .await
        .unwrap();
    assert_eq!(changed.modified_count, 1);
    let (ok, stdout) = run(&["verify"]);
    assert!(!ok, "verify must fail: {stdout}");
    assert!(stdout.contains("groups: groups/1000:g1 differs"), "{stdout}");

    let (ok, stdout) = run(&["rebuild", "--projection", "groups"]);
    assert!(ok, "{stdout}");
    let (ok, stdout) = run(&["verify"]);
    assert!(ok && stdout.contains("identical"), "{stdout}");
    let scratch_left = client
        .list_database_names()
        .await
        .unwrap()
        .into_iter()
        .filter(|d| d.starts_with(&format!("{}_scratch_", server.namespace())))
        .count();
    assert_eq!(scratch_left, 0, "scratch databases are dropped");
}

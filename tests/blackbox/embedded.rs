//! What only the embedded deployment has: its data dir (the generated
//! secret, the log file and its crash recovery, the lock against a second
//! process). The Kafka deployment's faults are in `scale_out`.

use std::io::Write;
use std::os::unix::fs::PermissionsExt;
use std::sync::Arc;
use std::time::Duration;

use crate::harness::*;
use serde_json::json;

#[tokio::test]
async fn a_generated_secret_is_private_and_outlives_restarts() {
    let dir = tempfile::tempdir().unwrap();
    let server = Server::start_with(dir.path(), &[]);
    let token = server.user("alice").await;
    assert!(server.stop().success());
    let mode = std::fs::metadata(dir.path().join("jwt-secret"))
        .unwrap()
        .permissions()
        .mode();
    assert_eq!(mode & 0o777, 0o600);

    let server = Server::start_with(dir.path(), &[]);
    assert_eq!(server.users_info(&token, &["alice"]).await[0]["userID"], "alice");
}

/// Clients keep registering users and renaming them; the server is killed
/// with SIGKILL in the middle, and a torn half-record is left at the end of
/// the log. After a restart every acknowledged command's effect is there.
#[tokio::test]
async fn acknowledged_commands_survive_kill_9() {
    let dir = tempfile::tempdir().unwrap();
    let server = Arc::new(Server::start_in(dir.path(), &[]));
    let load = Load::start(&server, 4);
    load.progress(40, Duration::from_secs(30)).await;
    server.kill(Role::Api, 0);
    let (registered, renamed) = load.stop().await;

    let mut log = std::fs::OpenOptions::new()
        .append(true)
        .open(dir.path().join("events.log"))
        .unwrap();
    log.write_all(&[0x59, 0x4c, 0x52, 0x50, 200, 0, 0, 0, 1, 2, 3]).unwrap(); // a torn frame header and payload
    drop(log);

    let server = Server::start_in(dir.path(), &[]);
    assert_nothing_lost(&server, &registered, &renamed).await;
    // The log goes on after the cut-off tail.
    server.user("after-crash").await;
    assert!(server.stop().success());
}

#[tokio::test]
async fn rebuild_refuses_a_data_dir_in_use() {
    let server = Server::start();
    let out = parley()
        .arg("rebuild")
        .arg("--data-dir")
        .arg(&server.data_dir)
        .output()
        .unwrap();
    assert!(!out.status.success(), "rebuild ran beside a live server");
    let token = server.user("alice").await;
    assert_eq!(server.users_info(&token, &["alice"]).await[0]["userID"], "alice");
}

/// `parley verify` finds a read-model document that differs from a replay
/// of the log, and `parley rebuild --projection` repairs just that one.
#[tokio::test]
async fn verify_catches_a_corrupted_read_model_and_rebuild_repairs_it() {
    let dir = tempfile::tempdir().unwrap();
    let server = Server::start_in(dir.path(), &[]);
    let alice = server.user("alice").await;
    server.user("bob").await;
    let rename = serde_json::json!({"userInfo": {"userID": "alice", "nickname": "Ally"}});
    assert_eq!(
        server.post("/user/update_user_info_ex", Some(&alice), rename).await["errCode"],
        0
    );
    assert!(server.stop().success());
    let run = |args: &[&str]| {
        let out = parley().args(args).arg("--data-dir").arg(dir.path()).output().unwrap();
        let stdout = String::from_utf8_lossy(&out.stdout).into_owned();
        (
            out.status.success(),
            stdout,
            String::from_utf8_lossy(&out.stderr).into_owned(),
        )
    };
    let (ok, stdout, _) = run(&["verify"]);
    assert!(ok && stdout.contains("identical"), "{stdout}");

    // Corrupt alice's profile behind the server's back.
    {
        let db = redb::Database::open(dir.path().join("read-models.redb")).unwrap();
        let docs: redb::TableDefinition<&str, &[u8]> = redb::TableDefinition::new("docs");
        let txn = db.begin_write().unwrap();
        {
            let mut table = txn.open_table(docs).unwrap();
            let key = "users/1000:alice";
            let stored = redb::ReadableTable::get(&table, key).unwrap().unwrap().value().to_vec();
            let mut profile: serde_json::Value = serde_json::from_slice(&stored).unwrap();
            profile["nickname"] = "Mallory".into();
            table
                .insert(key, serde_json::to_vec(&profile).unwrap().as_slice())
                .unwrap();
        }
        txn.commit().unwrap();
    }
    let (ok, stdout, stderr) = run(&["verify"]);
    assert!(!ok, "verify must fail on a corrupted read model");
    assert!(
        // Documents print as stored: the replayed nickname is sealed.
        stdout.contains("users: users/1000:alice differs") && stdout.contains("Mallory") && !stdout.contains("Ally"),
        "{stdout}"
    );
    assert!(stderr.contains("1 differences"), "{stderr}");

    let (ok, stdout, _) = run(&["rebuild", "--projection", "users"]);
    assert!(ok && stdout.contains("rebuilt projection users"), "{stdout}");
    let (ok, stdout, _) = run(&["verify"]);
    assert!(ok && stdout.contains("identical"), "{stdout}");
    let server = Server::start_in(dir.path(), &[]);
    let profile = server.users_info(&alice, &["alice"]).await;
    assert_eq!(profile[0]["nickname"], "Ally");
}

/// A log written before `UserRegistered` v2 (tests/fixtures/schema-v1):
/// today's server upcasts every stored v1 event and answers every query as
/// the old server did.
#[tokio::test]
async fn a_server_on_a_v1_log_answers_as_before() {
    let fixture = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../tests/fixtures/schema-v1");
    let dir = tempfile::tempdir().unwrap();
    std::fs::copy(fixture.join("events.log"), dir.path().join("events.log")).unwrap();
    let answers: Vec<serde_json::Value> =
        serde_json::from_str(&std::fs::read_to_string(fixture.join("answers.json")).unwrap()).unwrap();
    let server = Server::start_in(dir.path(), &[]);
    let mut tokens = std::collections::HashMap::new();
    for answer in &answers {
        let user = answer["user"].as_str().unwrap();
        let token = match user {
            ADMIN => admin_token(),
            _ => match tokens.get(user) {
                Some(token) => String::clone(token),
                None => {
                    let token = server.login(user).await;
                    tokens.insert(user.to_owned(), token.clone());
                    token
                }
            },
        };
        let path = answer["path"].as_str().unwrap();
        let reply = server.post(path, Some(&token), answer["body"].clone()).await;
        assert_eq!(as_of_v1(reply), answer["reply"], "{path} as {user}");
    }
    // Notifications came later; the old log yields them too.
    let bob = tokens.get("bob").unwrap();
    let newest = ok(server
        .post("/msg/newest_seq", Some(bob), json!({"userID": "bob"}))
        .await);
    // A v1 creation names no initial member, so each initial member's join
    // is a notice of its own (created, alice, bob, carol): bob sees from his.
    assert_eq!(newest["minSeqs"]["n_g1"], 3, "{newest}");
    assert_eq!(newest["maxSeqs"]["n_g1"], 4, "{newest}");
    let range = json!({"conversationID": "n_alice_bob", "begin": 1, "end": 10, "num": 10});
    let pulled = ok(server
        .post(
            "/msg/pull_msg_by_seq",
            Some(bob),
            json!({"userID": "bob", "seqRanges": [range]}),
        )
        .await);
    let kinds: Vec<i64> = pulled["notificationMsgs"]["n_alice_bob"]["Msgs"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| m["contentType"].as_i64().unwrap())
        .collect();
    assert_eq!(
        kinds,
        [1203, 1201, 1204],
        "request, acceptance, bob's list gained alice: {pulled}"
    );
}

/// A reply without what later versions added to it: notification
/// conversations in newest_seq, `notificationMsgs` in pulls.
fn as_of_v1(mut reply: serde_json::Value) -> serde_json::Value {
    let data = &mut reply["data"];
    for seqs in ["maxSeqs", "minSeqs"] {
        if let Some(seqs) = data.get_mut(seqs).and_then(|s| s.as_object_mut()) {
            seqs.retain(|conversation, _| conversation.starts_with("si_") || conversation.starts_with("sg_"));
        }
    }
    if let Some(data) = data.as_object_mut() {
        data.remove("notificationMsgs");
    }
    reply
}

/// A log written before new IDs lost `_`: its users keep working, and the
/// two chats whose ID is `si_alice_bob_smith` (alice + bob_smith, and
/// alice_bob + smith) stay apart, each with its own seqs.
#[tokio::test]
async fn legacy_ids_with_underscores_keep_working() {
    use argon2::password_hash::{rand_core::OsRng, PasswordHasher, SaltString};
    use events::user::{PersonalData, UserRegistered};
    use events::{DomainEvent, Envelope, EventMeta, StreamKey};
    use infra::event_log::{AppendRequest, EmbeddedLog, EventLog};

    let dir = tempfile::tempdir().unwrap();
    let ids = ["alice", "bob_smith", "alice_bob", "smith"];
    let log = EmbeddedLog::open(dir.path()).unwrap();
    let salt = SaltString::generate(&mut OsRng);
    let hash = argon2::Argon2::default()
        .hash_password(PASSWORD.as_bytes(), &salt)
        .unwrap()
        .to_string();
    for id in ids {
        let meta = EventMeta {
            tenant_id: TENANT.into(),
            actor_user_id: id.into(),
            operation_id: format!("legacy-{id}"),
            occurred_at: now_ms(),
        };
        let event = DomainEvent::UserRegistered(UserRegistered {
            user_id: id.into(),
            profile: PersonalData {
                nickname: id.into(),
                ..PersonalData::default()
            },
            password_hash: hash.clone(),
            create_time: now_ms(),
        });
        let stream = StreamKey::user(TENANT, id).to_string();
        let envelope = Envelope::new(uuid::Uuid::now_v7(), stream.clone(), 0, &meta, &event);
        log.append(AppendRequest {
            stream_key: stream,
            expected_version: 0,
            events: vec![envelope],
        })
        .await
        .unwrap();
    }
    log.close().await;

    let server = Server::start_in(dir.path(), &[]);
    let mut tokens = Vec::new();
    for id in ids {
        tokens.push(server.login(id).await);
    }
    let send = |from: &str, to: &str, text: &str| {
        json!({"sendID": from, "recvID": to, "groupID": "", "clientMsgID": "c-1", "senderPlatformID": 1,
            "contentType": 101, "sessionType": 1, "content": {"content": text}})
    };
    let first = ok(server
        .post(
            "/msg/send_msg",
            Some(&tokens[0]),
            send("alice", "bob_smith", "for bob_smith"),
        )
        .await);
    let second = ok(server
        .post(
            "/msg/send_msg",
            Some(&tokens[2]),
            send("alice_bob", "smith", "for smith"),
        )
        .await);
    assert_eq!(first["conversationID"], "si_alice_bob_smith");
    assert_eq!(second["conversationID"], "si_alice_bob_smith");
    assert_eq!((first["seq"].clone(), second["seq"].clone()), (json!(1), json!(1)));
    let texts = ["for bob_smith", "for bob_smith", "for smith", "for smith"];
    for ((id, token), text) in ids.iter().zip(&tokens).zip(texts) {
        let body = json!({"userID": id, "order": 0,
            "seqRanges": [{"conversationID": "si_alice_bob_smith", "begin": 1, "end": 10, "num": 10}]});
        let pulled = ok(server.post("/msg/pull_msg_by_seq", Some(token), body).await);
        let msgs = &pulled["msgs"]["si_alice_bob_smith"]["Msgs"];
        assert_eq!(msgs.as_array().unwrap().len(), 1, "{id}: {msgs}");
        assert_eq!(msgs[0]["content"]["content"], text, "{id}");
    }
}

/// Under umask 022 the data dir is 0700 and every file in it 0600 (the log
/// holds password hashes); an older data dir is narrowed at start.
#[tokio::test]
async fn the_data_dir_is_the_owners_only() {
    // SAFETY: umask has no memory effects; 022 is what most shells set.
    unsafe { libc::umask(0o022) };
    let root = tempfile::tempdir().unwrap();
    let dir = root.path().join("data");
    // No --jwt-secret: the generated one is a file of the dir too.
    let server = Server::start_with(&dir, &[]);
    server.user("alice").await;
    assert!(server.stop().success());
    let mode = |p: &std::path::Path| std::fs::metadata(p).unwrap().permissions().mode() & 0o777;
    let files = ["events.log", "read-models.redb", "personal-keys", "jwt-secret"];
    let check = || {
        assert_eq!(mode(&dir), 0o700, "data dir");
        for file in files {
            assert_eq!(mode(&dir.join(file)), 0o600, "{file}");
        }
    };
    check();
    std::fs::set_permissions(&dir, std::fs::Permissions::from_mode(0o755)).unwrap();
    for file in files {
        std::fs::set_permissions(dir.join(file), std::fs::Permissions::from_mode(0o644)).unwrap();
    }
    let server = Server::start_with(&dir, &[]);
    server.login("alice").await;
    assert!(server.stop().success());
    for file in ["events.log", "read-models.redb", "personal-keys"] {
        assert_eq!(mode(&dir.join(file)), 0o600, "{file} after a restart");
    }
    assert_eq!(mode(&dir), 0o700, "data dir after a restart");
}

/// Right after a `kill -9` the read models are behind the log (they are
/// flushed lazily); `parley verify` catches them up first, as `serve`
/// would, instead of reporting every unflushed document missing.
#[tokio::test]
async fn verify_right_after_a_crash_catches_up_first() {
    let dir = tempfile::tempdir().unwrap();
    let server = Arc::new(Server::start_in(dir.path(), &[]));
    let load = Load::start(&server, 4);
    load.progress(30, Duration::from_secs(30)).await;
    server.kill(Role::Api, 0);
    load.stop().await;
    let out = parley()
        .arg("verify")
        .arg("--data-dir")
        .arg(dir.path())
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success() && stdout.contains("identical"),
        "{stdout}\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
}

/// Read models stamped with another format are rebuilt from the log when
/// the server starts, and answer as before (here: a data dir whose
/// group notification line was still `ng_<groupID>`).
#[tokio::test]
async fn read_models_of_another_format_are_rebuilt_at_start() {
    let dir = tempfile::tempdir().unwrap();
    let server = Server::start_in(dir.path(), &[]);
    let [alice, bob] = users(&server, ["alice", "bob"]).await;
    let body = json!({"ownerUserID": "alice", "memberUserIDs": ["bob"],
        "groupInfo": {"groupID": "g1", "groupName": "Team", "groupType": 2}});
    ok(server.post("/group/create_group", Some(&alice), body).await);
    let before = newest_of_bob(&server, &bob).await;
    assert_eq!(before["maxSeqs"]["n_g1"], 1, "{before}");
    assert!(server.stop().success());

    // Make it look like a store of format 1 whose line was ng_g1.
    let meta: redb::TableDefinition<&str, u32> = redb::TableDefinition::new("meta");
    let docs: redb::TableDefinition<&str, &[u8]> = redb::TableDefinition::new("docs");
    {
        let db = redb::Database::open(dir.path().join("read-models.redb")).unwrap();
        let txn = db.begin_write().unwrap();
        {
            assert_eq!(
                redb::ReadableTable::get(&txn.open_table(meta).unwrap(), "format")
                    .unwrap()
                    .unwrap()
                    .value(),
                2
            );
            txn.open_table(meta).unwrap().insert("format", 1).unwrap();
            let mut table = txn.open_table(docs).unwrap();
            let keys: Vec<String> = redb::ReadableTable::iter(&table)
                .unwrap()
                .map(|e| e.unwrap().0.value().to_owned())
                .filter(|k| k.contains("n_g1"))
                .collect();
            assert!(!keys.is_empty());
            for key in keys {
                let value = redb::ReadableTable::get(&table, key.as_str())
                    .unwrap()
                    .unwrap()
                    .value()
                    .to_vec();
                table.remove(key.as_str()).unwrap();
                let old = key.replace("n_g1", "ng_g1");
                let value = String::from_utf8(value).unwrap().replace("n_g1", "ng_g1");
                table.insert(old.as_str(), value.as_bytes()).unwrap();
            }
        }
        txn.commit().unwrap();
    }
    let server = Server::start_in(dir.path(), &[]);
    assert_eq!(newest_of_bob(&server, &bob).await, before);
    assert!(server.stop().success());
    let db = redb::Database::open(dir.path().join("read-models.redb")).unwrap();
    let txn = db.begin_read().unwrap();
    let stamp = redb::ReadableTable::get(&txn.open_table(meta).unwrap(), "format")
        .unwrap()
        .unwrap()
        .value();
    assert_eq!(stamp, 2);
}

async fn newest_of_bob(server: &Server, token: &str) -> serde_json::Value {
    ok(server
        .post("/msg/newest_seq", Some(token), json!({"userID": "bob"}))
        .await)
}

/// `--log-format json`: one JSON object per line; every request ends with
/// an access line carrying its operationID, route, errCode and latency.
#[tokio::test]
async fn json_logs_have_an_access_line_per_request() {
    use std::io::{BufRead, BufReader};
    let dir = tempfile::tempdir().unwrap();
    let mut child = parley()
        .args([
            "--log-format",
            "json",
            "serve",
            "--listen",
            "127.0.0.1:0",
            "--jwt-secret",
            SECRET,
        ])
        .arg("--data-dir")
        .arg(dir.path())
        .env("RUST_LOG", "info")
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let (tx, rx) = std::sync::mpsc::channel::<String>();
    let stderr = child.stderr.take().unwrap();
    std::thread::spawn(move || {
        for line in BufReader::new(stderr).lines().map_while(Result::ok) {
            let _ = tx.send(line);
        }
    });
    let mut lines = Vec::new();
    let mut base = None;
    loop {
        let line = rx.recv_timeout(Duration::from_secs(60)).expect("a log line");
        let object: serde_json::Value = serde_json::from_str(&line).unwrap_or_else(|e| panic!("{e}: {line}"));
        lines.push(object.clone());
        let message = object["fields"]["message"].as_str().unwrap_or_default().to_owned();
        if let Some(at) = message.strip_prefix("listening on ") {
            base = Some(at.to_owned());
        }
        if message == "ready: serving the API" {
            break;
        }
    }
    let base = base.expect("the address");
    let http = reqwest::Client::new();
    for (operation, body) in [
        (
            "op-good",
            json!({"userID": "alice", "nickname": "A", "password": PASSWORD}),
        ),
        ("op-bad", json!({"userID": "a b"})),
    ] {
        http.post(format!("{base}/user/self_register"))
            .header("operationID", operation)
            .header("X-Tenant-ID", TENANT)
            .json(&body)
            .send()
            .await
            .unwrap();
    }
    signal(child.id(), "-TERM");
    assert!(child.wait().unwrap().success());
    while let Ok(line) = rx.recv_timeout(Duration::from_secs(5)) {
        lines.push(serde_json::from_str(&line).unwrap_or_else(|e| panic!("{e}: {line}")));
    }
    let access = |operation: &str| {
        lines
            .iter()
            .find(|l| l["fields"]["message"] == "request" && l["span"]["operation_id"] == operation)
            .unwrap_or_else(|| panic!("no access line of {operation}: {lines:?}"))
            .clone()
    };
    let good = access("op-good");
    assert_eq!(good["level"], "INFO");
    assert_eq!(good["span"]["route"], "/user/self_register");
    assert_eq!(good["fields"]["err_code"], 0);
    assert!(good["fields"]["latency_ms"].as_f64().unwrap() > 0.0);
    assert_eq!(access("op-bad")["fields"]["err_code"], 1001);
}

/// A node listens at once: while it replays a long log it is alive and
/// not ready (saying how far it is), API requests are told to retry, and
/// once caught up it is ready and serves them.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_starting_node_is_alive_but_not_ready_until_caught_up() {
    use argon2::password_hash::{rand_core::OsRng, PasswordHasher, SaltString};
    use events::user::{PersonalData, UserProfileUpdated, UserRegistered};
    use events::{DomainEvent, Envelope, EventMeta, StreamKey};
    use infra::event_log::{AppendRequest, EmbeddedLog, EventLog};
    use std::io::{BufRead, BufReader};

    // A log of 60,001 events, written directly (no read models yet).
    let dir = tempfile::tempdir().unwrap();
    let log = EmbeddedLog::open(dir.path()).unwrap();
    let meta = EventMeta {
        tenant_id: TENANT.into(),
        actor_user_id: "alice".into(),
        operation_id: "long-log".into(),
        occurred_at: now_ms(),
    };
    let stream = StreamKey::user(TENANT, "alice").to_string();
    let salt = SaltString::generate(&mut OsRng);
    let hash = argon2::Argon2::default()
        .hash_password(PASSWORD.as_bytes(), &salt)
        .unwrap()
        .to_string();
    let registered = DomainEvent::UserRegistered(UserRegistered {
        user_id: "alice".into(),
        profile: PersonalData {
            nickname: "alice".into(),
            ..PersonalData::default()
        },
        password_hash: hash,
        create_time: now_ms(),
    });
    let mut version = 0;
    let mut events = vec![Envelope::new(
        uuid::Uuid::now_v7(),
        stream.clone(),
        0,
        &meta,
        &registered,
    )];
    for chunk in 0..60 {
        for i in 0..1000 {
            let renamed = DomainEvent::UserProfileUpdated(UserProfileUpdated {
                user_id: "alice".into(),
                nickname: Some(format!("n{chunk}-{i}")),
                face_url: None,
                ex: None,
                notified_user_ids: Vec::new(),
            });
            events.push(Envelope::new(uuid::Uuid::now_v7(), stream.clone(), 0, &meta, &renamed));
        }
        let appended = events.len() as u64;
        log.append(AppendRequest {
            stream_key: stream.clone(),
            expected_version: version,
            events: std::mem::take(&mut events),
        })
        .await
        .unwrap();
        version += appended;
    }
    log.close().await;

    let mut child = parley()
        .args(["serve", "--listen", "127.0.0.1:0", "--jwt-secret", SECRET])
        .arg("--data-dir")
        .arg(dir.path())
        .env("RUST_LOG", "info")
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let (tx, rx) = std::sync::mpsc::channel::<String>();
    let stderr = child.stderr.take().unwrap();
    std::thread::spawn(move || {
        for line in BufReader::new(stderr).lines().map_while(Result::ok) {
            let _ = tx.send(line);
        }
    });
    let base = loop {
        let line = rx.recv_timeout(Duration::from_secs(60)).expect("a log line");
        if let Some(at) = line.find("listening on http://") {
            break line[at + "listening on ".len()..]
                .split_whitespace()
                .next()
                .unwrap()
                .to_owned();
        }
    };
    let http = reqwest::Client::new();
    let alive = http.get(format!("{base}/healthz")).send().await.unwrap();
    assert_eq!(alive.status(), 200);
    let starting = http.get(format!("{base}/readyz")).send().await.unwrap();
    assert_eq!(starting.status(), 503);
    let report: serde_json::Value = starting.json().await.unwrap();
    assert!(
        report["reasons"][0].as_str().unwrap().starts_with("starting"),
        "{report}"
    );
    let early: serde_json::Value = http
        .post(format!("{base}/user/get_users_info"))
        .header("operationID", "op")
        .header("X-Tenant-ID", TENANT)
        .json(&json!({"userIDs": ["alice"]}))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(early["errCode"], 500, "{early}");
    assert!(early["errDlt"].as_str().unwrap().contains("starting"), "{early}");

    let started = std::time::Instant::now();
    loop {
        let response = http.get(format!("{base}/readyz")).send().await.unwrap();
        if response.status() == 200 {
            break;
        }
        assert!(started.elapsed() < Duration::from_secs(120), "never ready");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let login: serde_json::Value = http
        .post(format!("{base}/user/self_login"))
        .header("operationID", "op")
        .header("X-Tenant-ID", TENANT)
        .json(&json!({"userID": "alice", "platformID": 1, "password": PASSWORD}))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let token = login["data"]["token"].as_str().unwrap().to_owned();
    let info: serde_json::Value = http
        .post(format!("{base}/user/get_users_info"))
        .header("operationID", "op")
        .header("X-Tenant-ID", TENANT)
        .header("token", token)
        .json(&json!({"userIDs": ["alice"]}))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(info["data"]["usersInfo"][0]["nickname"], "n59-999", "{info}");
    signal(child.id(), "-TERM");
    assert!(child.wait().unwrap().success());
}

//! What only the embedded deployment has: its data dir (the generated
//! secret, the log file and its crash recovery, the lock against a second
//! process). The Kafka deployment's faults are in `scale_out`.

use std::io::Write;
use std::os::unix::fs::PermissionsExt;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use serde_json::json;

use crate::harness::*;

#[tokio::test]
async fn a_generated_secret_is_private_and_outlives_restarts() {
    let dir = tempfile::tempdir().unwrap();
    let mut server = Server::start_with(dir.path(), &[]);
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
    let mut server = Server::start_in(dir.path(), &[]);
    let base = server.base();
    let acked_registrations = Arc::new(Mutex::new(Vec::new()));
    let acked_renames = Arc::new(Mutex::new(Vec::new()));

    let clients: Vec<_> = (0..4)
        .map(|c| {
            let base = base.clone();
            let registered = acked_registrations.clone();
            let renamed = acked_renames.clone();
            tokio::spawn(async move {
                let http = reqwest::Client::new();
                for i in 0.. {
                    let user = format!("c{c}-u{i}");
                    let Some(reply) = try_post(
                        &http,
                        &base,
                        "/user/self_register",
                        None,
                        json!({"userID": user, "nickname": "v1", "password": PASSWORD}),
                    )
                    .await
                    else {
                        return;
                    };
                    if reply["errCode"] != 0 {
                        continue;
                    }
                    registered.lock().unwrap().push(user.clone());
                    let admin = admin_token();
                    let Some(reply) = try_post(
                        &http,
                        &base,
                        "/user/update_user_info_ex",
                        Some(&admin),
                        json!({"userInfo": {"userID": user, "nickname": "v2"}}),
                    )
                    .await
                    else {
                        return;
                    };
                    if reply["errCode"] == 0 {
                        renamed.lock().unwrap().push(user);
                    }
                }
            })
        })
        .collect();

    // Let acknowledged commands pile up, then crash the server.
    for _ in 0..600 {
        if acked_renames.lock().unwrap().len() >= 40 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    server.kill(Role::Api, 0);
    for c in clients {
        c.await.unwrap();
    }

    let mut log = std::fs::OpenOptions::new()
        .append(true)
        .open(dir.path().join("events.log"))
        .unwrap();
    log.write_all(&[0x59, 0x4c, 0x52, 0x50, 200, 0, 0, 0, 1, 2, 3]).unwrap(); // a torn frame header and payload
    drop(log);

    let registered = acked_registrations.lock().unwrap().clone();
    let renamed = acked_renames.lock().unwrap().clone();
    assert!(
        renamed.len() >= 10,
        "the load produced too few acknowledged commands: {}",
        renamed.len()
    );

    let mut server = Server::start_in(dir.path(), &[]);
    let admin = admin_token();
    for chunk in registered.chunks(500) {
        let ids: Vec<&str> = chunk.iter().map(String::as_str).collect();
        let found = server.users_info(&admin, &ids).await;
        assert_eq!(
            found.as_array().unwrap().len(),
            ids.len(),
            "an acknowledged registration was lost"
        );
        for user in found.as_array().unwrap() {
            let id = user["userID"].as_str().unwrap().to_owned();
            if renamed.contains(&id) {
                assert_eq!(user["nickname"], "v2", "an acknowledged rename of {id} was lost");
            }
        }
    }
    // The log goes on after the cut-off tail.
    server.user("after-crash").await;
    assert!(server.stop().success());
}

fn admin_token() -> String {
    token_with(
        json!({"userID": ADMIN, "platformID": 10, "tenant": TENANT, "iat": now_secs(), "exp": now_secs() + 600}),
        SECRET,
    )
}

/// A POST that reports a dropped connection as `None` instead of failing.
async fn try_post(
    http: &reqwest::Client,
    base: &str,
    path: &str,
    token: Option<&str>,
    body: serde_json::Value,
) -> Option<serde_json::Value> {
    let mut request = http
        .post(format!("{base}{path}"))
        .header("operationID", "crash-test")
        .header("X-Tenant-ID", TENANT)
        .json(&body);
    if let Some(t) = token {
        request = request.header("token", t);
    }
    request.send().await.ok()?.json().await.ok()
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

//! What only the embedded deployment has: its data dir (the generated
//! secret, the log file and its crash recovery, the lock against a second
//! process). The Kafka deployment's faults are in `scale_out`.

use std::io::Write;
use std::os::unix::fs::PermissionsExt;
use std::sync::Arc;
use std::time::Duration;

use crate::harness::*;

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

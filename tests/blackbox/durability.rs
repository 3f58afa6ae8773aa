//! Restarts: a deployment stopped and started again has everything.

use serde_json::json;

use crate::harness::*;

#[tokio::test]
async fn everything_is_still_there_after_a_restart() {
    let dir = tempfile::tempdir().unwrap();
    let server = Server::start_in(dir.path(), &[]);
    let token = server.user("alice").await;
    server.user("bob").await;
    let rename = json!({"userInfo": {"userID": "alice", "nickname": "Ally", "ex": "x"}});
    assert_eq!(
        server.post("/user/update_user_info_ex", Some(&token), rename).await["errCode"],
        0
    );
    let before = server.users_info(&token, &["alice", "bob"]).await;
    assert!(server.stop().success(), "SIGTERM is a clean exit");

    let server = Server::start_in(dir.path(), &[]);
    assert_eq!(
        server.users_info(&token, &["alice", "bob"]).await,
        before,
        "old tokens still work"
    );
    server.login("alice").await;
    assert_err(&server.register("alice", "again").await, 1102, "already registered");
    server.user("carol").await;
    assert!(server.stop().success());
}

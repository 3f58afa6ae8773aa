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

    let query = json!({"userIDs": ["dave", "alice", "ghost", "carol", "bob"]});
    let before = server
        .post("/user/get_users_info", Some(&tokens[0]), query.clone())
        .await;
    let before_other = server
        .post_as("2000", "/user/get_users_info", Some(&other), query.clone())
        .await;
    assert!(server.stop().success());

    let out = parley().arg("rebuild").args(server.backend_args()).output().unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let report = String::from_utf8(out.stdout).unwrap();
    assert!(
        report.contains("from 8 events") && report.contains("events/s"),
        "{report}"
    );

    let server = Server::start_in(dir.path(), &[]);
    assert_eq!(
        server
            .post("/user/get_users_info", Some(&tokens[0]), query.clone())
            .await,
        before
    );
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

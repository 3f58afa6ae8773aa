//! Headers, tokens and tenants.

use serde_json::json;

use crate::harness::*;

#[tokio::test]
async fn every_endpoint_requires_operation_id_and_a_well_formed_tenant() {
    let server = Server::start();
    let register = json!({"userID": "alice", "nickname": "Alice", "password": PASSWORD}).to_string();
    let no_op = server
        .post_raw("/user/self_register", &[("X-Tenant-ID", TENANT)], register.clone())
        .await;
    assert_err(&no_op, 1001, "operationID");
    let no_tenant = server
        .post_raw("/user/self_register", &[("operationID", "op")], register.clone())
        .await;
    assert_err(&no_tenant, 1001, "X-Tenant-ID");
    for bad in ["a b", "a:b", "x/../y", &"t".repeat(65)] {
        let reply = server
            .post_raw(
                "/user/self_register",
                &[("operationID", "op"), ("X-Tenant-ID", bad)],
                register.clone(),
            )
            .await;
        assert_err(&reply, 1001, "X-Tenant-ID");
    }
    let login = json!({"userID": "alice", "platformID": 1, "password": PASSWORD}).to_string();
    assert_err(
        &server
            .post_raw("/user/self_login", &[("X-Tenant-ID", TENANT)], login)
            .await,
        1001,
        "operationID",
    );
    let token = server.user("alice").await;
    let reply = server
        .post_raw(
            "/user/get_users_info",
            &[("operationID", "op"), ("token", &token)],
            json!({"userIDs": ["alice"]}).to_string(),
        )
        .await;
    assert_err(&reply, 1001, "X-Tenant-ID");
}

#[tokio::test]
async fn tampered_expired_foreign_and_missing_tokens_are_refused() {
    let server = Server::start();
    let token = server.user("alice").await;
    let query = json!({"userIDs": ["alice"]});
    let ask = |t: Option<String>| {
        let server = &server;
        let query = query.clone();
        async move { server.post("/user/get_users_info", t.as_deref(), query).await }
    };

    assert_err(&ask(None).await, 1507, "token");
    assert_err(&ask(Some("not-a-jwt".into())).await, 1503, "token");

    // Same signature, payload changed to another user.
    let parts: Vec<&str> = token.split('.').collect();
    let forged_claims =
        json!({"userID": "imAdmin", "platformID": 1, "tenant": TENANT, "iat": now_secs(), "exp": now_secs() + 600});
    let forged_payload = base64url(forged_claims.to_string().as_bytes());
    let forged = format!("{}.{}.{}", parts[0], forged_payload, parts[2]);
    assert_err(&ask(Some(forged)).await, 1502, "token");

    let claims = |exp: i64, tenant: &str| json!({"userID": "alice", "platformID": 1, "tenant": tenant, "iat": now_secs() - 7200, "exp": exp});
    let wrong_secret = token_with(claims(now_secs() + 600, TENANT), "some-other-secret-of-enough-length");
    assert_err(&ask(Some(wrong_secret)).await, 1502, "token");
    let expired = token_with(claims(now_secs() - 3600, TENANT), SECRET);
    assert_err(&ask(Some(expired)).await, 1501, "token");
    let other_tenant = token_with(claims(now_secs() + 600, "2000"), SECRET);
    assert_err(&ask(Some(other_tenant)).await, 1502, "tenant");

    let valid = token_with(claims(now_secs() + 600, TENANT), SECRET);
    assert_eq!(ask(Some(valid)).await["errCode"], 0);
}

#[tokio::test]
async fn tenants_are_separate_namespaces() {
    let server = Server::start();
    assert_eq!(server.register_in("1000", "alice", "Alice of 1000").await["errCode"], 0);
    assert_eq!(server.register_in("2000", "alice", "Alice of 2000").await["errCode"], 0);
    assert_eq!(server.register_in("2000", "bob", "Bob").await["errCode"], 0);

    let alice_1000 = server.login_in("1000", "alice").await;
    let alice_2000 = server.login_in("2000", "alice").await;
    let ask = |tenant: &'static str, token: String| {
        let server = &server;
        async move {
            server
                .post_as(
                    tenant,
                    "/user/get_users_info",
                    Some(&token),
                    json!({"userIDs": ["alice", "bob"]}),
                )
                .await
        }
    };
    let seen = ask("1000", alice_1000.clone()).await;
    assert_eq!(
        seen["data"]["usersInfo"],
        json!([seen["data"]["usersInfo"][0]]),
        "bob is not in 1000"
    );
    assert_eq!(seen["data"]["usersInfo"][0]["nickname"], "Alice of 1000");
    let seen = ask("2000", alice_2000).await;
    assert_eq!(seen["data"]["usersInfo"][0]["nickname"], "Alice of 2000");
    assert_eq!(seen["data"]["usersInfo"][1]["userID"], "bob");

    assert_err(&ask("2000", alice_1000.clone()).await, 1502, "tenant");
    let rename = json!({"userInfo": {"userID": "alice", "nickname": "hijack"}});
    let reply = server
        .post_as("2000", "/user/update_user_info_ex", Some(&alice_1000), rename)
        .await;
    assert_err(&reply, 1502, "tenant");
    let login = json!({"userID": "bob", "platformID": 1, "password": PASSWORD});
    assert_err(
        &server.post_as("1000", "/user/self_login", None, login).await,
        1101,
        "bob",
    );
}

#[tokio::test]
async fn admin_token_cli_mints_tokens_the_server_accepts() {
    let server = Server::start();
    server.user("alice").await;
    let out = parley()
        .args([
            "admin-token",
            "--jwt-secret",
            SECRET,
            "--user-id",
            ADMIN,
            "--tenant",
            TENANT,
        ])
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let token = String::from_utf8(out.stdout).unwrap().trim().to_owned();
    let rename = json!({"userInfo": {"userID": "alice", "nickname": "Renamed by admin"}});
    assert_eq!(
        server.post("/user/update_user_info_ex", Some(&token), rename).await["errCode"],
        0
    );
    assert_eq!(
        server.users_info(&token, &["alice"]).await[0]["nickname"],
        "Renamed by admin"
    );
}

fn base64url(bytes: &[u8]) -> String {
    const ALPHABET: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
    let mut out = String::new();
    for chunk in bytes.chunks(3) {
        let n = chunk
            .iter()
            .enumerate()
            .fold(0u32, |n, (i, b)| n | (*b as u32) << (16 - 8 * i));
        for i in 0..=chunk.len() {
            out.push(ALPHABET[(n >> (18 - 6 * i) & 63) as usize] as char);
        }
    }
    out
}

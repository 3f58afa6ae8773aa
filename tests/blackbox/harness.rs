//! Starts the real `parley` binary on 127.0.0.1:0 with a temporary data dir
//! and talks to it over HTTP.

use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, ExitStatus, Stdio};
use std::sync::mpsc;
use std::time::Duration;

use serde_json::{json, Value};

pub const SECRET: &str = "blackbox-test-secret-0123456789";
pub const ADMIN: &str = "imAdmin";
pub const TENANT: &str = "1000";
pub const PASSWORD: &str = "secret-pw-1";

pub fn parley() -> Command {
    Command::new(env!("CARGO_BIN_EXE_parley"))
}

pub struct Server {
    child: Child,
    pub base: String,
    pub data_dir: PathBuf,
    _owned_dir: Option<tempfile::TempDir>,
    http: reqwest::Client,
}

impl Server {
    /// A server on a fresh temporary data dir.
    pub fn start() -> Server {
        let dir = tempfile::tempdir().expect("temp dir");
        let mut server = Server::start_in(dir.path(), &[]);
        server._owned_dir = Some(dir);
        server
    }

    /// A server on `data_dir` with the test secret and admin, plus `extra` flags.
    pub fn start_in(data_dir: &Path, extra: &[&str]) -> Server {
        let mut args = vec!["--jwt-secret", SECRET, "--admin-user-ids", ADMIN];
        args.extend_from_slice(extra);
        Server::start_with(data_dir, &args)
    }

    /// A server on `data_dir` with exactly these flags after `serve`.
    pub fn start_with(data_dir: &Path, args: &[&str]) -> Server {
        let mut child = parley()
            .arg("serve")
            .arg("--listen")
            .arg("127.0.0.1:0")
            .arg("--data-dir")
            .arg(data_dir)
            .args(args)
            .env("RUST_LOG", "info")
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .expect("spawn parley");
        let stderr = child.stderr.take().expect("stderr");
        let (tx, rx) = mpsc::channel();
        std::thread::spawn(move || {
            let mut sent = false;
            for line in BufReader::new(stderr).lines().map_while(Result::ok) {
                if !sent {
                    if let Some(at) = line.find("listening on http://") {
                        let addr = line[at + "listening on http://".len()..]
                            .split_whitespace()
                            .next()
                            .unwrap_or_default()
                            .to_owned();
                        let _ = tx.send(addr);
                        sent = true;
                    }
                }
                eprintln!("[parley] {line}");
            }
        });
        let addr = rx
            .recv_timeout(Duration::from_secs(60))
            .expect("parley did not report its address");
        Server {
            child,
            base: format!("http://{addr}"),
            data_dir: data_dir.to_path_buf(),
            _owned_dir: None,
            http: reqwest::Client::new(),
        }
    }

    /// SIGTERM, then wait for the exit. The data dir stays until drop.
    pub fn stop(&mut self) -> ExitStatus {
        signal(self.child.id(), "-TERM");
        self.child.wait().expect("wait for parley")
    }

    pub fn pid(&self) -> u32 {
        self.child.id()
    }

    /// POST with the standard headers (operationID, tenant, and a token if given).
    pub async fn post(&self, path: &str, token: Option<&str>, body: Value) -> Value {
        self.post_as(TENANT, path, token, body).await
    }

    pub async fn post_as(&self, tenant: &str, path: &str, token: Option<&str>, body: Value) -> Value {
        let mut headers = vec![("operationID", "op-test"), ("X-Tenant-ID", tenant)];
        if let Some(t) = token {
            headers.push(("token", t));
        }
        self.post_raw(path, &headers, body.to_string()).await
    }

    /// POST with exactly these headers and this body text.
    pub async fn post_raw(&self, path: &str, headers: &[(&str, &str)], body: String) -> Value {
        let mut request = self
            .http
            .post(format!("{}{path}", self.base))
            .header("content-type", "application/json")
            .body(body);
        for (k, v) in headers {
            request = request.header(*k, *v);
        }
        let response = request.send().await.expect("request");
        assert_eq!(response.status(), 200, "every reply is HTTP 200");
        response.json().await.expect("JSON reply")
    }

    pub async fn register(&self, user_id: &str, nickname: &str) -> Value {
        self.register_in(TENANT, user_id, nickname).await
    }

    pub async fn register_in(&self, tenant: &str, user_id: &str, nickname: &str) -> Value {
        let body = json!({"userID": user_id, "nickname": nickname, "password": PASSWORD});
        self.post_as(tenant, "/user/self_register", None, body).await
    }

    pub async fn login(&self, user_id: &str) -> String {
        self.login_in(TENANT, user_id).await
    }

    pub async fn login_in(&self, tenant: &str, user_id: &str) -> String {
        let body = json!({"userID": user_id, "platformID": 1, "password": PASSWORD});
        let reply = self.post_as(tenant, "/user/self_login", None, body).await;
        assert_eq!(reply["errCode"], 0, "login of {user_id}: {reply}");
        reply["data"]["token"].as_str().expect("token").to_owned()
    }

    /// Registers and logs in; returns the token.
    pub async fn user(&self, user_id: &str) -> String {
        let reply = self.register(user_id, user_id).await;
        assert_eq!(reply["errCode"], 0, "register {user_id}: {reply}");
        self.login(user_id).await
    }

    pub async fn users_info(&self, token: &str, ids: &[&str]) -> Value {
        let reply = self
            .post("/user/get_users_info", Some(token), json!({ "userIDs": ids }))
            .await;
        assert_eq!(reply["errCode"], 0, "{reply}");
        reply["data"]["usersInfo"].clone()
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

pub fn signal(pid: u32, sig: &str) {
    let status = Command::new("kill")
        .arg(sig)
        .arg(pid.to_string())
        .status()
        .expect("kill");
    assert!(status.success());
}

/// A token signed with the test secret, with any claims.
pub fn token_with(claims: Value, secret: &str) -> String {
    jsonwebtoken::encode(
        &jsonwebtoken::Header::new(jsonwebtoken::Algorithm::HS256),
        &claims,
        &jsonwebtoken::EncodingKey::from_secret(secret.as_bytes()),
    )
    .expect("encode token")
}

pub fn now_secs() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs() as i64
}

/// Asserts an error reply with this code whose message mentions `needle`.
#[track_caller]
pub fn assert_err(reply: &Value, code: i64, needle: &str) {
    assert_eq!(reply["errCode"], code, "{reply}");
    assert!(reply.get("data").is_none(), "errors carry no data: {reply}");
    let text = format!("{} {}", reply["errMsg"], reply["errDlt"]);
    assert!(text.contains(needle), "{needle:?} not in {reply}");
}

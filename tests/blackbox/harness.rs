//! Starts the real `parley` binary (one embedded server, or the processes
//! of the scale-out deployment) on 127.0.0.1:0 with a temporary data dir and
//! talks to it over HTTP.

use std::hash::{Hash, Hasher};
use std::io::{BufRead, BufReader};
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, ExitStatus, Stdio};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{mpsc, Arc, Mutex};
use std::time::{Duration, Instant};

use serde_json::{json, Value};

pub const SECRET: &str = "blackbox-test-secret-0123456789";
pub const ADMIN: &str = "imAdmin";
pub const TENANT: &str = "1000";
pub const PASSWORD: &str = "secret-pw-1";

pub fn parley() -> Command {
    Command::new(env!("CARGO_BIN_EXE_parley"))
}

/// Which deployment the suite drives: `PARLEY_TEST_BACKEND=kafka` runs it
/// against Kafka (`PARLEY_TEST_KAFKA_BROKERS`, default 127.0.0.1:9092) and
/// MongoDB (`PARLEY_TEST_MONGODB_URI`, default mongodb://127.0.0.1:27017)
/// with two API nodes, a writer and a projector worker; anything else runs
/// the embedded deployment.
pub fn scale_out() -> bool {
    std::env::var("PARLEY_TEST_BACKEND").is_ok_and(|b| b == "kafka")
}

/// The role of a process of a deployment.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Role {
    Api,
    Writer,
    Projector,
}

struct Proc {
    role: Role,
    child: Child,
    /// API nodes: their base URL.
    base: Option<String>,
}

/// One deployment of Parley: the embedded server, or the scale-out
/// processes. Requests go to its API nodes in turn.
pub struct Server {
    procs: Mutex<Vec<Proc>>,
    next: AtomicUsize,
    serve_args: Vec<String>,
    /// The API nodes' limit on open files (soft and hard), if not inherited.
    open_files: Option<u64>,
    pub data_dir: PathBuf,
    _owned_dir: Option<tempfile::TempDir>,
    http: reqwest::Client,
    /// Log lines of any process that report a panic or an ERROR.
    troubles: Arc<Mutex<Vec<String>>>,
    /// The `/metrics` URLs API nodes logged (`--metrics-listen`).
    metrics: Arc<Mutex<Vec<String>>>,
}

impl Server {
    /// A deployment on a fresh temporary data dir (and, scale-out, a fresh
    /// Kafka namespace and MongoDB database).
    pub fn start() -> Server {
        let dir = tempfile::tempdir().expect("temp dir");
        let mut server = Server::start_in(dir.path(), &[]);
        server._owned_dir = Some(dir);
        server
    }

    /// A deployment on `data_dir` with the test secret and admin, plus
    /// `extra` flags for the API nodes. Starting again on the same dir
    /// restarts the same deployment.
    pub fn start_in(data_dir: &Path, extra: &[&str]) -> Server {
        let mut args = vec!["--jwt-secret", SECRET, "--admin-user-ids", ADMIN];
        args.extend_from_slice(extra);
        Server::start_with(data_dir, &args)
    }

    /// A deployment on `data_dir` whose API nodes get exactly these flags
    /// after `serve` (and the backend's).
    pub fn start_with(data_dir: &Path, args: &[&str]) -> Server {
        Server::launch(data_dir, args, None)
    }

    /// A deployment like `start_in`'s whose API nodes may open at most
    /// `open_files` files (their soft and hard limit).
    pub fn start_with_open_files(data_dir: &Path, extra: &[&str], open_files: u64) -> Server {
        let mut args = vec!["--jwt-secret", SECRET, "--admin-user-ids", ADMIN];
        args.extend_from_slice(extra);
        Server::launch(data_dir, &args, Some(open_files))
    }

    fn launch(data_dir: &Path, args: &[&str], open_files: Option<u64>) -> Server {
        let server = Server {
            procs: Mutex::new(Vec::new()),
            next: AtomicUsize::new(0),
            serve_args: args.iter().map(|a| a.to_string()).collect(),
            open_files,
            data_dir: data_dir.to_path_buf(),
            _owned_dir: None,
            http: reqwest::Client::new(),
            troubles: Arc::default(),
            metrics: Arc::default(),
        };
        if scale_out() {
            server.spawn(Role::Writer);
            server.spawn(Role::Projector);
            server.spawn(Role::Api);
            server.spawn(Role::Api);
        } else {
            server.spawn(Role::Api);
        }
        server
    }

    /// Scale-out: the Kafka namespace and MongoDB database of this
    /// deployment (one per data dir).
    pub fn namespace(&self) -> String {
        let mut hasher = std::collections::hash_map::DefaultHasher::new();
        self.data_dir.hash(&mut hasher);
        format!("bb{:x}", hasher.finish())
    }

    /// The flags that select this deployment's event log and read store.
    pub fn backend_args(&self) -> Vec<String> {
        let mut args = vec!["--data-dir".to_owned(), self.data_dir.display().to_string()];
        if scale_out() {
            let namespace = self.namespace();
            let env = |k: &str, default: &str| std::env::var(k).unwrap_or_else(|_| default.to_owned());
            args.extend([
                "--event-log".into(),
                "kafka".into(),
                "--kafka-brokers".into(),
                env("PARLEY_TEST_KAFKA_BROKERS", "127.0.0.1:9092"),
                "--kafka-namespace".into(),
                namespace.clone(),
                "--kafka-partitions".into(),
                "4".into(),
                "--read-store".into(),
                "mongodb".into(),
                "--mongodb-uri".into(),
                env("PARLEY_TEST_MONGODB_URI", "mongodb://127.0.0.1:27017"),
                "--mongodb-database".into(),
                namespace,
            ]);
        }
        args
    }

    /// Starts one more process of `role`.
    pub fn spawn(&self, role: Role) {
        let mut command = parley();
        match role {
            Role::Api => command
                .arg("serve")
                .args(["--listen", "127.0.0.1:0"])
                .args(&self.serve_args),
            Role::Writer => command.arg("write"),
            Role::Projector => command.arg("project"),
        };
        if let (Role::Api, Some(open_files)) = (role, self.open_files) {
            let limit = libc::rlimit {
                rlim_cur: open_files,
                rlim_max: open_files,
            };
            // SAFETY: between fork and exec the child only calls setrlimit,
            // which is async-signal-safe, on a struct it owns.
            unsafe {
                command.pre_exec(move || {
                    if libc::setrlimit(libc::RLIMIT_NOFILE, &limit) == 0 {
                        Ok(())
                    } else {
                        Err(std::io::Error::last_os_error())
                    }
                });
            }
        }
        let mut child = command
            .args(self.backend_args())
            .env("RUST_LOG", "info")
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .expect("spawn parley");
        let stderr = child.stderr.take().expect("stderr");
        let (tx, rx) = mpsc::channel();
        let tag = format!("{role:?}-{}", child.id());
        let troubles = self.troubles.clone();
        let metrics = self.metrics.clone();
        std::thread::spawn(move || {
            // An API node listens at once and serves the API once it has
            // started: its address is reported then.
            let mut listening = None;
            for line in BufReader::new(stderr).lines().map_while(Result::ok) {
                if let Some(at) = line.find("listening on http://") {
                    let addr = line[at + "listening on http://".len()..]
                        .split_whitespace()
                        .next()
                        .unwrap_or_default()
                        .to_owned();
                    listening = Some(addr);
                }
                if line.contains("ready: serving the API") {
                    if let Some(addr) = listening.take() {
                        let _ = tx.send(addr);
                    }
                }
                if let Some(at) = line.find("metrics on http://") {
                    let url = line[at + "metrics on ".len()..]
                        .split_whitespace()
                        .next()
                        .unwrap_or_default();
                    metrics.lock().unwrap().push(url.to_owned());
                }
                if line.contains("panicked") || line.contains(" ERROR ") {
                    troubles.lock().unwrap().push(line.clone());
                }
                eprintln!("[{tag}] {line}");
            }
        });
        let base = (role == Role::Api).then(|| {
            let addr = rx
                .recv_timeout(Duration::from_secs(60))
                .unwrap_or_else(|e| panic!("{role:?} did not report its address ({e}); see its log above"));
            format!("http://{addr}")
        });
        self.procs.lock().unwrap().push(Proc { role, child, base });
    }

    /// The next running API node's base URL (round robin).
    pub fn base(&self) -> Option<String> {
        let procs = self.procs.lock().unwrap();
        let apis: Vec<&String> = procs.iter().filter_map(|p| p.base.as_ref()).collect();
        (!apis.is_empty()).then(|| apis[self.next.fetch_add(1, Ordering::Relaxed) % apis.len()].clone())
    }

    /// SIGTERM to every process, API nodes first; waits for them. Returns
    /// the first unsuccessful exit status, if any. The data dir stays until
    /// drop.
    pub fn stop(&self) -> ExitStatus {
        let mut procs = std::mem::take(&mut *self.procs.lock().unwrap());
        procs.sort_by_key(|p| p.role != Role::Api);
        let mut worst = None;
        for mut proc in procs {
            signal(proc.child.id(), "-TERM");
            let status = proc.child.wait().expect("wait for parley");
            if !status.success() || worst.is_none() {
                worst = worst.filter(|s: &ExitStatus| !s.success()).or(Some(status));
            }
        }
        worst.expect("a deployment has processes")
    }

    /// The `/metrics` URLs of the API nodes started with `--metrics-listen`.
    pub fn metrics_urls(&self) -> Vec<String> {
        self.metrics.lock().unwrap().clone()
    }

    /// Log lines so far that report a panic or an ERROR, of any process.
    pub fn troubles(&self) -> Vec<String> {
        self.troubles.lock().unwrap().clone()
    }

    /// SIGTERM to every process, API nodes first; each must exit within
    /// `within` of its signal (else it is killed and this panics). Returns
    /// the first unsuccessful exit status, if any, and how long the
    /// slowest process took.
    pub fn stop_within(&self, within: Duration) -> (ExitStatus, Duration) {
        let mut procs = std::mem::take(&mut *self.procs.lock().unwrap());
        procs.sort_by_key(|p| p.role != Role::Api);
        let mut worst = None;
        let mut slowest = Duration::ZERO;
        for at in 0..procs.len() {
            signal(procs[at].child.id(), "-TERM");
            let signalled = Instant::now();
            let status = loop {
                if let Some(status) = procs[at].child.try_wait().expect("wait for parley") {
                    break status;
                }
                if signalled.elapsed() > within {
                    let role = procs[at].role;
                    for proc in &mut procs[at..] {
                        let _ = proc.child.kill();
                        let _ = proc.child.wait();
                    }
                    panic!("{role:?} did not exit within {within:?} of SIGTERM");
                }
                std::thread::sleep(Duration::from_millis(20));
            };
            slowest = slowest.max(signalled.elapsed());
            if !status.success() || worst.is_none() {
                worst = worst.filter(|s: &ExitStatus| !s.success()).or(Some(status));
            }
        }
        (worst.expect("a deployment has processes"), slowest)
    }

    /// The process IDs of the API nodes.
    pub fn api_pids(&self) -> Vec<u32> {
        let procs = self.procs.lock().unwrap();
        procs
            .iter()
            .filter(|p| p.role == Role::Api)
            .map(|p| p.child.id())
            .collect()
    }

    /// SIGKILL to the `index`-th process of `role`: a crash.
    pub fn kill(&self, role: Role, index: usize) {
        let mut procs = self.procs.lock().unwrap();
        let at = procs
            .iter()
            .enumerate()
            .filter(|(_, p)| p.role == role)
            .nth(index)
            .map(|(i, _)| i)
            .expect("no such process");
        let mut proc = procs.remove(at);
        proc.child.kill().expect("kill parley");
        proc.child.wait().expect("reap parley");
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
            .post(format!("{}{path}", self.base().expect("an API node is running")))
            .header("content-type", "application/json")
            .body(body);
        for (k, v) in headers {
            request = request.header(*k, *v);
        }
        let response = request.send().await.expect("request");
        assert_eq!(response.status(), 200, "every reply is HTTP 200");
        response.json().await.expect("JSON reply")
    }

    /// A POST as the admin that reports a failed or dropped request as
    /// `None` (for tests that crash processes under load).
    pub async fn try_post(&self, path: &str, body: Value) -> Option<Value> {
        let response = self
            .http
            .post(format!("{}{path}", self.base()?))
            .header("operationID", "fault-test")
            .header("X-Tenant-ID", TENANT)
            .header("token", admin_token())
            .json(&body)
            .send()
            .await
            .ok()?;
        response.json().await.ok()
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
        for proc in self.procs.get_mut().unwrap().iter_mut() {
            let _ = proc.child.kill();
            let _ = proc.child.wait();
        }
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

/// Milliseconds since the Unix epoch, as the server stamps events.
pub fn now_ms() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_millis() as i64
}

/// The `data` of a successful reply (asserting errCode 0).
#[track_caller]
pub fn ok(reply: Value) -> Value {
    assert_eq!(reply["errCode"], 0, "{reply}");
    reply.get("data").cloned().unwrap_or(Value::Null)
}

/// Registers and logs in these users concurrently; their tokens in order.
pub async fn users<const N: usize>(server: &Server, ids: [&str; N]) -> [String; N] {
    let tokens = futures::future::join_all(ids.iter().map(|id| server.user(id))).await;
    tokens.try_into().unwrap()
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

/// A token of the test admin.
pub fn admin_token() -> String {
    token_with(
        json!({"userID": ADMIN, "platformID": 10, "tenant": TENANT, "iat": now_secs(), "exp": now_secs() + 3600}),
        SECRET,
    )
}

/// Clients that keep registering users and renaming them (nickname "v1",
/// then "v2") until stopped, recording what was acknowledged.
pub struct Load {
    pub registered: Arc<Mutex<Vec<String>>>,
    pub renamed: Arc<Mutex<Vec<String>>>,
    stop: Arc<std::sync::atomic::AtomicBool>,
    clients: Vec<tokio::task::JoinHandle<()>>,
}

impl Load {
    pub fn start(server: &Arc<Server>, clients: usize) -> Load {
        let registered = Arc::new(Mutex::new(Vec::new()));
        let renamed = Arc::new(Mutex::new(Vec::new()));
        let stop = Arc::new(std::sync::atomic::AtomicBool::new(false));
        let clients = (0..clients)
            .map(|c| {
                let (server, registered, renamed, stop) =
                    (server.clone(), registered.clone(), renamed.clone(), stop.clone());
                tokio::spawn(async move {
                    let mut i = 0;
                    while !stop.load(Ordering::Relaxed) {
                        i += 1;
                        let user = format!("c{c}-u{i}");
                        let body = json!({"userID": user, "nickname": "v1", "password": PASSWORD});
                        let Some(reply) = server.try_post("/user/self_register", body).await else {
                            // No API node answers right now (one was killed).
                            tokio::time::sleep(Duration::from_millis(10)).await;
                            continue;
                        };
                        if reply["errCode"] != 0 {
                            continue;
                        }
                        registered.lock().unwrap().push(user.clone());
                        let body = json!({"userInfo": {"userID": user, "nickname": "v2"}});
                        if server
                            .try_post("/user/update_user_info_ex", body)
                            .await
                            .is_some_and(|r| r["errCode"] == 0)
                        {
                            renamed.lock().unwrap().push(user);
                        }
                    }
                })
            })
            .collect();
        Load {
            registered,
            renamed,
            stop,
            clients,
        }
    }

    /// Waits until `n` more renames than now are acknowledged; how long it took.
    pub async fn progress(&self, n: usize, within: Duration) -> Duration {
        let started = std::time::Instant::now();
        let target = self.renamed.lock().unwrap().len() + n;
        while self.renamed.lock().unwrap().len() < target {
            assert!(started.elapsed() < within, "the load made no progress for {within:?}");
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
        started.elapsed()
    }

    /// Stops the clients; returns (acknowledged registrations, acknowledged renames).
    pub async fn stop(self) -> (Vec<String>, Vec<String>) {
        self.stop.store(true, Ordering::Relaxed);
        for client in self.clients {
            client.await.unwrap();
        }
        let registered = self.registered.lock().unwrap().clone();
        let renamed = self.renamed.lock().unwrap().clone();
        (registered, renamed)
    }
}

/// Asserts that every acknowledged registration and rename is visible.
pub async fn assert_nothing_lost(server: &Server, registered: &[String], renamed: &[String]) {
    if let Err(lost) = find_lost(server, registered, renamed).await {
        panic!("{lost}");
    }
}

pub async fn find_lost(server: &Server, registered: &[String], renamed: &[String]) -> Result<(), String> {
    assert!(!registered.is_empty());
    let admin = admin_token();
    for chunk in registered.chunks(500) {
        let ids: Vec<&str> = chunk.iter().map(String::as_str).collect();
        let found = server.users_info(&admin, &ids).await;
        let found = found.as_array().unwrap();
        if found.len() != ids.len() {
            return Err(format!(
                "{} of {} acknowledged registrations are missing",
                ids.len() - found.len(),
                ids.len()
            ));
        }
        for user in found {
            let id = user["userID"].as_str().unwrap();
            if renamed.iter().any(|r| r == id) && user["nickname"] != "v2" {
                return Err(format!("the acknowledged rename of {id} is missing"));
            }
        }
    }
    Ok(())
}

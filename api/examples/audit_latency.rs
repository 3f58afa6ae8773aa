//! Audit query latency for one user's history in a large log, against a
//! running server (start it on an empty data dir): fills the log with one-to-one messages among 100 users
//! until it holds N events, then times `/audit/events` for one user.
//!
//!   cargo run --release -p api --example audit_latency -- N BASE ADMIN_TOKEN [TENANT]
//!
//! ADMIN_TOKEN: `parley admin-token --user-id <an --admin-user-ids ID>`.
//! Prints the fill rate, then the p50/p99 of the first page (100 events)
//! of one user's history and the time to page through all of it.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use serde_json::{json, Value};

const USERS: usize = 100;
const SENDERS: usize = 64;

struct Api {
    http: reqwest::Client,
    base: String,
    tenant: String,
}

impl Api {
    async fn post(&self, path: &str, token: Option<&str>, body: Value) -> Value {
        let mut request = self
            .http
            .post(format!("{}{path}", self.base))
            .header("operationID", "audit-latency")
            .header("X-Tenant-ID", &self.tenant)
            .json(&body);
        if let Some(token) = token {
            request = request.header("token", token);
        }
        request
            .send()
            .await
            .expect("server reachable")
            .json()
            .await
            .expect("JSON reply")
    }
}

fn percentile(sorted: &[Duration], p: f64) -> f64 {
    let at = ((sorted.len() as f64 * p).ceil() as usize).clamp(1, sorted.len()) - 1;
    sorted[at].as_secs_f64() * 1000.0
}

#[tokio::main]
async fn main() {
    let mut args = std::env::args().skip(1);
    let target: u64 = args.next().map_or(1_000_000, |a| a.parse().expect("N is a number"));
    let base = args.next().unwrap_or_else(|| "http://127.0.0.1:10002".into());
    let admin = args.next().expect("an app admin's token");
    let tenant = args.next().unwrap_or_else(|| "1000".into());
    let api = Arc::new(Api {
        http: reqwest::Client::new(),
        base,
        tenant,
    });
    let run = &uuid::Uuid::new_v4().simple().to_string()[..8];
    let users: Vec<String> = (0..USERS).map(|i| format!("al-{run}-{i}")).collect();
    let mut tokens = Vec::new();
    for user in &users {
        let body = json!({"userID": user, "nickname": user, "password": "bench-password"});
        assert_eq!(api.post("/user/self_register", None, body).await["errCode"], 0);
        let login = json!({"userID": user, "password": "bench-password", "platformID": 5});
        let reply = api.post("/user/self_login", None, login).await;
        tokens.push(reply["data"]["token"].as_str().expect("token").to_owned());
    }
    let (users, tokens) = (Arc::new(users), Arc::new(tokens));

    // Fill: every send is one event; on a fresh server the registrations
    // are the only events before.
    let existing = USERS as u64;
    let sent = Arc::new(AtomicU64::new(existing));
    let started = Instant::now();
    let mut fill = Vec::new();
    for worker in 0..SENDERS {
        let (api, users, tokens, sent) = (api.clone(), users.clone(), tokens.clone(), sent.clone());
        fill.push(tokio::spawn(async move {
            let mut n = worker;
            while sent.fetch_add(1, Ordering::Relaxed) < target {
                let (from, to) = (n % USERS, (n * 7 + 1) % USERS);
                let to = if to == from { (to + 1) % USERS } else { to };
                let body = json!({"sendID": users[from], "recvID": users[to], "sessionType": 1, "contentType": 101,
                    "content": {"content": format!("m{n}")}});
                let reply = api.post("/msg/send_msg", Some(&tokens[from]), body).await;
                assert_eq!(reply["errCode"], 0, "{reply}");
                n += SENDERS;
            }
        }));
    }
    for task in fill {
        task.await.expect("sender");
    }
    let secs = started.elapsed().as_secs_f64();
    println!(
        "filled to {target} events: {:.0} sends/s",
        (target - existing) as f64 / secs
    );

    // One user's history: the first page, many times; then all of it.
    let user = &users[0];
    let mut first_page = Vec::new();
    for _ in 0..200 {
        let asked = Instant::now();
        let page = api
            .post("/audit/events", Some(&admin), json!({"userID": user, "limit": 100}))
            .await;
        assert_eq!(page["errCode"], 0, "{page}");
        first_page.push(asked.elapsed());
    }
    first_page.sort();
    let walked = Instant::now();
    let (mut events, mut cursor) = (0usize, String::new());
    loop {
        let mut body = json!({"userID": user, "limit": 1000});
        if !cursor.is_empty() {
            body["cursor"] = json!(cursor);
        }
        let page = api.post("/audit/events", Some(&admin), body).await;
        events += page["data"]["events"].as_array().map_or(0, Vec::len);
        cursor = page["data"]["nextCursor"].as_str().unwrap_or_default().to_owned();
        if cursor.is_empty() {
            break;
        }
    }
    println!(
        "one user's history ({events} events among {target}): first page p50 {:.2} ms, p99 {:.2} ms; all of it in {:.0} ms",
        percentile(&first_page, 0.5),
        percentile(&first_page, 0.99),
        walked.elapsed().as_secs_f64() * 1000.0
    );
}

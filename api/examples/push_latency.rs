//! Send-to-push latency of one-to-one messages against a running server:
//! two fresh users online over WebSocket; the sender sends N text messages
//! one after the other (WebSocket SendMsg); each is timed from the send
//! until the recipient's session receives its push.
//!
//!   cargo run --release -p api --example push_latency -- [N] [BASE] [TENANT]
//!
//! Defaults: 1000 messages, http://127.0.0.1:10002, tenant 1000. Prints
//! the median, p90, p99 and max in milliseconds.

use std::time::{Duration, Instant};

use futures::{SinkExt, StreamExt};
use serde_json::{json, Value};
use tokio_tungstenite::tungstenite::Message;

type Socket = tokio_tungstenite::WebSocketStream<tokio_tungstenite::MaybeTlsStream<tokio::net::TcpStream>>;

async fn post(client: &reqwest::Client, base: &str, tenant: &str, path: &str, body: Value) -> Value {
    client
        .post(format!("{base}{path}"))
        .header("operationID", "push-latency")
        .header("X-Tenant-ID", tenant)
        .json(&body)
        .send()
        .await
        .expect("server reachable")
        .json()
        .await
        .expect("JSON reply")
}

async fn online(client: &reqwest::Client, base: &str, tenant: &str, user: &str) -> Socket {
    let registered = json!({"userID": user, "nickname": user, "password": "bench-password"});
    let reply = post(client, base, tenant, "/user/self_register", registered).await;
    assert_eq!(reply["errCode"], 0, "register {user}: {reply}");
    let login = json!({"userID": user, "password": "bench-password", "platformID": 5});
    let reply = post(client, base, tenant, "/user/self_login", login).await;
    let token = reply["data"]["token"].as_str().expect("token").to_owned();
    let ws = base.replacen("http", "ws", 1);
    let url = format!("{ws}/ws?token={token}&sendID={user}&platformID=5");
    tokio_tungstenite::connect_async(url).await.expect("websocket").0
}

/// The next text frame (pings are answered by reading on).
async fn next_text(socket: &mut Socket) -> Value {
    loop {
        let frame = tokio::time::timeout(Duration::from_secs(10), socket.next())
            .await
            .expect("a frame within 10 s")
            .expect("socket open")
            .expect("frame");
        if let Message::Text(text) = frame {
            return serde_json::from_str(&text).expect("JSON frame");
        }
    }
}

fn percentile(sorted: &[Duration], p: f64) -> f64 {
    let at = ((sorted.len() as f64 * p).ceil() as usize).clamp(1, sorted.len()) - 1;
    sorted[at].as_secs_f64() * 1000.0
}

#[tokio::main]
async fn main() {
    let mut args = std::env::args().skip(1);
    let n: usize = args.next().map_or(1000, |a| a.parse().expect("N is a number"));
    let base = args.next().unwrap_or_else(|| "http://127.0.0.1:10002".into());
    let tenant = args.next().unwrap_or_else(|| "1000".into());
    let client = reqwest::Client::new();
    let run = uuid::Uuid::new_v4().simple().to_string();
    let (from, to) = (format!("lat-{}-a", &run[..8]), format!("lat-{}-b", &run[..8]));
    let mut sender = online(&client, &base, &tenant, &from).await;
    let mut receiver = online(&client, &base, &tenant, &to).await;

    let mut latencies = Vec::with_capacity(n);
    let started = Instant::now();
    for i in 0..n {
        let client_msg_id = format!("{run}-{i}");
        let frame = json!({"reqIdentifier": 1003, "operationID": format!("lat-{i}"), "msgIncr": i.to_string(),
            "sendID": from, "data": {"sendID": from, "recvID": to, "sessionType": 1, "contentType": 101,
            "content": {"content": format!("message {i}")}, "clientMsgID": client_msg_id}});
        let sent = Instant::now();
        sender.send(Message::text(frame.to_string())).await.expect("send");
        loop {
            let push = next_text(&mut receiver).await;
            let msgs = &push["data"]["msgs"];
            let is_it = push["reqIdentifier"] == 2001
                && msgs.as_object().into_iter().flatten().any(|(_, conversation)| {
                    conversation["Msgs"]
                        .as_array()
                        .into_iter()
                        .flatten()
                        .any(|m| m["clientMsgID"] == client_msg_id.as_str())
                });
            if is_it {
                break;
            }
        }
        latencies.push(sent.elapsed());
        let reply = next_text(&mut sender).await;
        assert_eq!(reply["errCode"], 0, "send {i}: {reply}");
    }
    let total = started.elapsed();
    latencies.sort();
    println!(
        "{n} one-to-one messages, send -> push: median {:.2} ms, p90 {:.2} ms, p99 {:.2} ms, max {:.2} ms ({:.0} messages/s one at a time)",
        percentile(&latencies, 0.5),
        percentile(&latencies, 0.9),
        percentile(&latencies, 0.99),
        percentile(&latencies, 1.0),
        n as f64 / total.as_secs_f64()
    );
}

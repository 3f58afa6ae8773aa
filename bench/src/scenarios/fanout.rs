//! `fanout`: a group of G members, K of them online over WebSocket; for
//! --duration, group messages (send_msg over HTTP, the app admin acting
//! for an online member in turn) at --rate per second or flat out
//! (--concurrency in flight). Every online member, the sender included
//! (its session did not send it), gets each message pushed. Measures
//! accepted messages and delivered pushes per second, the send-to-push
//! latency of every delivery and of the last online member per message,
//! and checks that each online member got every message once, in seq order.

use std::collections::HashMap;
use std::sync::atomic::Ordering;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use serde_json::json;

use super::{Ctx, Outcome};
use crate::client::Result;
use crate::load::Pacer;
use crate::server::CpuMeter;
use crate::session::{self, content, Counters, Seen, Session};
use crate::stats::{histogram, latency, Figure, Latencies};

const SETTLE: Duration = Duration::from_secs(30);

pub async fn run(ctx: &Ctx) -> Result<Outcome> {
    let g = ctx.sizes.group_size.max(1);
    let k = ctx.sizes.group_online.clamp(1, g);
    let members = ctx.register("f", g).await?;
    let group_id = format!("{}fanout", ctx.prefix);
    ctx.create_group(&group_id, &members).await?;
    let counters = Arc::new(Counters::default());
    let sessions = ctx.online(&members[..k], &counters).await?;

    let sends = Arc::new(Latencies::default());
    let outcomes: Arc<Mutex<Vec<Result<i64>>>> = Arc::default();
    let cpu = CpuMeter::start(ctx.server_pid);
    let mut pacer = Pacer::new(ctx.sizes.rate, ctx.concurrency, ctx.duration);
    let mut sent = 0usize;
    while let Some((stamp, permit)) = pacer.next().await {
        let sender = &members[sent % k];
        sent += 1;
        let body = json!({"sendID": sender, "groupID": group_id, "sessionType": 3, "contentType": 101,
            "content": content(stamp), "clientMsgID": format!("{sender}-{sent}")});
        let (api, admin, sends, outcomes) = (
            ctx.api.clone(),
            ctx.tokens.admin.clone(),
            sends.clone(),
            outcomes.clone(),
        );
        tokio::spawn(async move {
            let reply = sends.time("send", api.post("/msg/send_msg", Some(&admin), &body)).await;
            let seq = reply.and_then(|r| {
                r.data["seq"]
                    .as_i64()
                    .ok_or_else(|| format!("no seq in {}", r.data).into())
            });
            outcomes.lock().unwrap_or_else(|p| p.into_inner()).push(seq);
            drop(permit);
        });
    }
    let elapsed = pacer.drain(SETTLE).await?;
    let (seqs, mut problems): (Vec<i64>, Vec<String>) = {
        let outcomes = std::mem::take(&mut *outcomes.lock().unwrap_or_else(|p| p.into_inner()));
        let (ok, failed): (Vec<_>, Vec<_>) = outcomes.into_iter().partition(Result::is_ok);
        let failed = failed
            .into_iter()
            .filter_map(Result::err)
            .take(3)
            .map(|e| e.to_string());
        (ok.into_iter().filter_map(Result::ok).collect(), failed.collect())
    };
    let accepted = seqs.len() as u64;
    session::await_pushes(&counters, accepted * k as u64, SETTLE).await;
    let busy = cpu.figures("fanout");
    let seen: Vec<Seen> = futures::future::join_all(sessions.into_iter().map(Session::stop)).await;

    let conversation = format!("sg_{group_id}");
    let expected: HashMap<String, HashMap<String, Vec<i64>>> = members[..k]
        .iter()
        .map(|m| (m.clone(), HashMap::from([(conversation.clone(), seqs.clone())])))
        .collect();
    problems.extend(session::check(&expected, &seen));

    // Per message, the latency of its last delivery among the online members.
    let mut last: HashMap<i64, u64> = HashMap::new();
    for arrival in seen.iter().flat_map(|s| s.arrivals.values().flatten()) {
        let slowest = last.entry(arrival.seq).or_default();
        *slowest = (*slowest).max(arrival.latency_us);
    }
    let mut all_online = histogram();
    for latency_us in last.values() {
        all_online.saturating_record(*latency_us);
    }
    let delivered = counters.pushed.load(Ordering::Relaxed);
    // Pushes may go on well after the last send: their rate runs until the last one.
    let last_push_us = counters.last_push_us.load(Ordering::Relaxed);
    let pushing = Duration::from_micros(last_push_us.saturating_sub(session::micros(pacer.started())));
    let mut figures = vec![
        Figure::rate("fanout", "accepted_msgs_per_s", accepted, elapsed),
        Figure::rate("fanout", "pushes_per_s", delivered, pushing),
        Figure::value("fanout", "target_msgs_per_s", ctx.sizes.rate),
        Figure::value("fanout", "members", g as f64),
        Figure::value("fanout", "online", k as f64),
        Figure::value("fanout", "messages", accepted as f64),
    ];
    figures.extend(latency(
        "fanout",
        "push",
        &session::push_latencies(&seen),
        &[50.0, 90.0, 99.0, 99.9],
    ));
    figures.extend(latency("fanout", "all_online", &all_online, &[50.0, 99.0]));
    figures.extend(sends.figures("fanout", elapsed).into_iter().filter(|f| !f.rate));
    figures.extend(busy);
    figures.push(Figure::value("fanout", "problems", problems.len() as f64));
    Ok(Outcome { figures, problems })
}

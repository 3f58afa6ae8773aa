//! `chat`: M users online over WebSocket; for --duration, one-to-one
//! messages (SendMsg over the sender's session) from a random user to a
//! random other, at --rate per second or flat out (--concurrency sends in
//! flight). Measures accepted messages per second, send-to-reply latency
//! and send-to-push latency at the recipient's session (the message carries
//! its send instant), and checks that every accepted message arrived once,
//! in seq order, at its recipient and nowhere else.

use std::collections::HashMap;
use std::sync::atomic::Ordering;
use std::sync::Arc;
use std::time::Duration;

use rand::{Rng, SeedableRng};

use super::{Ctx, Outcome};
use crate::client::Result;
use crate::load::Pacer;
use crate::server::CpuMeter;
use crate::session::{self, Counters, Seen, Session};
use crate::stats::{histogram, latency, Figure};

/// How long to wait for the last replies, and for pushes that stopped coming.
const SETTLE: Duration = Duration::from_secs(30);

pub async fn run(ctx: &Ctx) -> Result<Outcome> {
    let m = ctx.sizes.online.max(2);
    let users = ctx.register("c", m).await?;
    let counters = Arc::new(Counters::default());
    let sessions = ctx.online(&users, &counters).await?;

    let cpu = CpuMeter::start(ctx.server_pid);
    let mut pacer = Pacer::new(ctx.sizes.rate, ctx.concurrency, ctx.duration);
    let mut rng = rand::rngs::StdRng::from_entropy();
    while let Some((stamp, permit)) = pacer.next().await {
        let from = rng.gen_range(0..m);
        let to = (from + rng.gen_range(1..m)) % m;
        sessions[from].send(&users[to], stamp, permit);
    }
    let elapsed = pacer.drain(SETTLE).await?;
    let accepted = counters.accepted.load(Ordering::Relaxed);
    session::await_pushes(&counters, accepted, SETTLE).await;
    let busy = cpu.figures("chat");
    let seen: Vec<Seen> = futures::future::join_all(sessions.into_iter().map(Session::stop)).await;

    let mut expected: HashMap<String, HashMap<String, Vec<i64>>> = HashMap::new();
    let mut acks = histogram();
    for s in &seen {
        for a in &s.accepted {
            let conversations = expected.entry(a.to.clone()).or_default();
            conversations.entry(a.conversation.clone()).or_default().push(a.seq);
        }
        for ack in &s.acks_us {
            acks.saturating_record(*ack);
        }
    }
    let problems = session::check(&expected, &seen);
    let pushes = session::push_latencies(&seen);
    let mut figures = vec![
        Figure::rate("chat", "accepted_msgs_per_s", accepted, elapsed),
        Figure::value("chat", "target_msgs_per_s", ctx.sizes.rate),
        Figure::value("chat", "online_users", m as f64),
        Figure::value("chat", "messages", accepted as f64),
    ];
    figures.extend(latency("chat", "push", &pushes, &[50.0, 90.0, 99.0, 99.9]));
    figures.extend(latency("chat", "reply", &acks, &[50.0, 99.0]));
    figures.extend(busy);
    figures.push(Figure::value("chat", "problems", problems.len() as f64));
    Ok(Outcome { figures, problems })
}

//! `rebuild`: starts its own server on a fresh data dir (so --parley is
//! needed), fills its log with one-to-one messages among 50 users until it
//! holds --events events (send_msg over HTTP, --concurrency in flight),
//! stops it (SIGTERM), and times `parley rebuild --data-dir DIR`: events
//! per second as parley reports them, and over the command's wall time
//! (with process start and opening the log).

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::Instant;

use rand::Rng;
use serde_json::json;

use super::{Ctx, Outcome};
use crate::client::{Api, Result};
use crate::load::{closed_loop, each, UNTIL_DONE};
use crate::stats::{Figure, Latencies};

const USERS: usize = 50;

pub async fn run(ctx: &Ctx) -> Result<Outcome> {
    let launcher = ctx
        .launcher
        .as_ref()
        .ok_or("rebuild starts and stops its own server: give --parley PATH")?;
    let server = launcher.start("rebuild").await?;
    let api = Arc::new(Api::new(&server.url, &ctx.tenant)?);
    let users = Arc::new(ctx.ids("b", USERS));
    each(users.iter(), ctx.concurrency, |u| crate::auth::register(&api, u)).await?;

    let head = Arc::new(AtomicU64::new(0));
    let sends = Arc::new(Latencies::default());
    let target = ctx.sizes.events;
    let (admin, recorded, reached) = (ctx.tokens.admin.clone(), sends.clone(), head.clone());
    let filling = closed_loop(ctx.concurrency, UNTIL_DONE, move |i| {
        let (api, admin, users, recorded, head) = (
            api.clone(),
            admin.clone(),
            users.clone(),
            recorded.clone(),
            reached.clone(),
        );
        async move {
            if head.load(Ordering::Relaxed) >= target {
                return Ok(false);
            }
            let (from, to) = {
                let mut rng = rand::thread_rng();
                let from = rng.gen_range(0..USERS);
                (from, (from + rng.gen_range(1..USERS)) % USERS)
            };
            let body = json!({"sendID": users[from], "recvID": users[to], "sessionType": 1, "contentType": 101,
                "content": {"content": format!("message {i}")}});
            let reply = recorded
                .time("fill_send", api.post("/msg/send_msg", Some(&admin), &body))
                .await?;
            head.fetch_max(reply.position, Ordering::Relaxed);
            Ok(true)
        }
    })
    .await?;
    let data_dir = server.data_dir.clone();
    server.stop().await?;

    let started = Instant::now();
    let output = tokio::process::Command::new(&launcher.parley)
        .arg("rebuild")
        .arg("--data-dir")
        .arg(&data_dir)
        .output()
        .await?;
    let wall = started.elapsed();
    let stdout = String::from_utf8_lossy(&output.stdout);
    if !output.status.success() {
        let stderr = String::from_utf8_lossy(&output.stderr);
        return Err(format!("parley rebuild exited with {}: {stdout}{stderr}", output.status).into());
    }
    let (events, secs) = summary(&stdout).ok_or_else(|| format!("no summary in parley rebuild's output: {stdout}"))?;

    let mut figures = vec![
        Figure::value("rebuild", "events", events as f64),
        Figure::per_second("rebuild", "events_per_s", events as f64 / secs.max(1e-9)),
        Figure::rate("rebuild", "wall_events_per_s", events, wall),
        Figure::value("rebuild", "wall_s", wall.as_secs_f64()),
    ];
    figures.extend(sends.figures("rebuild", filling));
    Ok(figures.into())
}

/// Events and seconds from "rebuilt read models from N events in S s (R events/s)".
fn summary(stdout: &str) -> Option<(u64, f64)> {
    let line = stdout.lines().find(|l| l.starts_with("rebuilt "))?;
    let words: Vec<&str> = line.split_whitespace().collect();
    let at = |word: &str| words.iter().position(|w| *w == word);
    let events = words.get(at("from")? + 1)?.parse().ok()?;
    let secs = words.get(at("in")? + 1)?.parse().ok()?;
    Some((events, secs))
}

#[cfg(test)]
mod tests {
    #[test]
    fn reads_the_summary_of_parley_rebuild() {
        let out = "rebuilt read models from 1200 events in 0.50 s (2400 events/s)\n";
        assert_eq!(super::summary(out), Some((1200, 0.5)));
    }
}

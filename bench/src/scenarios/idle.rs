//! `idle`: opens N WebSocket sessions (--concurrency handshakes at a time,
//! each followed by one round trip so the server holds the session), holds
//! them for --duration (answering the server's pings), and reports the
//! server's resident memory (VmRSS) before and after. The sessions' users
//! are not registered: a session needs only a valid token, and N argon2
//! registrations would dominate the run; so their tokens are minted, which
//! needs the server's secret (--parley or --jwt-secret). The server's pid
//! comes from --parley or --server-pid.

use std::time::Instant;

use futures::StreamExt;

use super::{Ctx, Outcome};
use crate::client::Result;
use crate::load::each;
use crate::server::rss_kib;
use crate::stats::Figure;

pub async fn run(ctx: &Ctx) -> Result<Outcome> {
    let pid = ctx
        .server_pid
        .ok_or("idle reads the server's memory: give --parley or --server-pid")?;
    let n = ctx.sizes.connections.max(1);
    let users = ctx.ids("i", n);
    let before = rss_kib(pid)?;
    let own_before = rss_kib(std::process::id())?;
    let started = Instant::now();
    let sockets = each(&users, ctx.concurrency, |user| async move {
        let token = ctx
            .tokens
            .mint(user)?
            .ok_or("idle mints tokens: give --parley or --jwt-secret")?;
        ctx.api.connect(&token, user).await
    })
    .await?;
    let connecting = started.elapsed();
    let readers: Vec<_> = sockets
        .into_iter()
        .map(|mut socket| tokio::spawn(async move { while let Some(Ok(_)) = socket.next().await {} }))
        .collect();
    tokio::time::sleep(ctx.duration).await;
    let after = rss_kib(pid)?;
    let own_after = rss_kib(std::process::id())?;
    let closed = readers.iter().filter(|r| r.is_finished()).count();
    for reader in &readers {
        reader.abort();
    }
    let mib = |kib: u64| kib as f64 / 1024.0;
    let figures = vec![
        Figure::value("idle", "connections", n as f64),
        Figure::rate("idle", "connects_per_s", n as u64, connecting),
        Figure::value("idle", "server_rss_before_mib", mib(before)),
        Figure::value("idle", "server_rss_after_mib", mib(after)),
        Figure::value(
            "idle",
            "server_kib_per_connection",
            after.saturating_sub(before) as f64 / n as f64,
        ),
        Figure::value(
            "idle",
            "bench_kib_per_connection",
            own_after.saturating_sub(own_before) as f64 / n as f64,
        ),
        Figure::value("idle", "closed_early", closed as f64),
    ];
    let problems = (closed > 0)
        .then(|| format!("{closed} of {n} idle sessions ended while held"))
        .into_iter()
        .collect();
    Ok(Outcome { figures, problems })
}

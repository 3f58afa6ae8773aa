//! `slow`: a normal request's latency while half-sent requests are held
//! open. get_users_info of one user from --concurrency clients for
//! --duration with nothing else going on (`quiet_get_*`), then again while
//! `--slow-connections N` connections hold half-sent requests (`held_get_*`):
//! half of them a request line and one header and then nothing, half a
//! whole header announcing 1000 bytes of body and 11 of them. A held
//! connection the server closes (its header or body timeout, or eviction
//! at the connection cap) is opened again at once: the measurement starts
//! once each of the N has been opened, and N are held or being reopened
//! throughout.

use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use serde_json::{json, Value};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;
use tokio::sync::watch;

use super::{Ctx, Outcome};
use crate::client::Result;
use crate::load::closed_loop;
use crate::stats::{Figure, Latencies};

/// How long the held connections may take to open.
const OPENING: Duration = Duration::from_secs(60);

pub async fn run(ctx: &Ctx) -> Result<Outcome> {
    let user = ctx.register("s", 1).await?.remove(0);
    let body = Arc::new(json!({ "userIDs": [user] }));
    let mut figures = Vec::new();

    let quiet = asking(ctx, &body, "quiet_get").await?;
    figures.extend(quiet);

    let address = ctx
        .api
        .base
        .strip_prefix("http://")
        .ok_or("slow needs an http:// URL")?;
    let n = ctx.sizes.slow_connections.max(1);
    let holder = Holder::start(address, n, &ctx.tokens.admin, &ctx.tenant);
    let started = Instant::now();
    while holder.opened.load(Ordering::Relaxed) < n {
        if started.elapsed() > OPENING {
            let opened = holder.opened.load(Ordering::Relaxed);
            return Err(format!("only {opened} of {n} slow connections opened").into());
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let held = asking(ctx, &body, "held_get").await?;
    figures.extend(held);
    figures.push(Figure::value("slow", "slow_connections", n as f64));
    figures.push(Figure::value(
        "slow",
        "slow_open_at_end",
        holder.open.load(Ordering::Relaxed) as f64,
    ));
    figures.push(Figure::value("slow", "slow_reopened", holder.stop().await as f64));
    Ok(figures.into())
}

/// get_users_info of `body` from --concurrency clients for --duration.
async fn asking(ctx: &Ctx, body: &Arc<Value>, label: &'static str) -> Result<Vec<Figure>> {
    let latencies = Arc::new(Latencies::default());
    let (api, admin, body, recorded) = (
        ctx.api.clone(),
        ctx.tokens.admin.clone(),
        body.clone(),
        latencies.clone(),
    );
    let elapsed = closed_loop(ctx.concurrency, ctx.duration, move |_| {
        let (api, admin, body, recorded) = (api.clone(), admin.clone(), body.clone(), recorded.clone());
        async move {
            let ask = api.post("/user/get_users_info", Some(&admin), &body);
            recorded.time(label, ask).await?;
            Ok(true)
        }
    })
    .await?;
    Ok(latencies.figures("slow", elapsed))
}

/// N connections holding half-sent requests, each opened again when the
/// server closes it.
struct Holder {
    /// Connections opened at least once.
    opened: Arc<AtomicUsize>,
    /// Connections open now (the server may have closed some that are
    /// being opened again).
    open: Arc<AtomicUsize>,
    reopened: Arc<AtomicU64>,
    stop: watch::Sender<bool>,
    tasks: Vec<tokio::task::JoinHandle<()>>,
}

impl Holder {
    fn start(address: &str, n: usize, token: &str, tenant: &str) -> Holder {
        let opened = Arc::new(AtomicUsize::new(0));
        let open = Arc::new(AtomicUsize::new(0));
        let reopened = Arc::new(AtomicU64::new(0));
        let (stop, stopped) = watch::channel(false);
        let header: Arc<[u8]> = Arc::from(&b"POST /user/get_users_info HTTP/1.1\r\nHost: x\r\n"[..]);
        let body: Arc<[u8]> = Arc::from(
            format!(
                "POST /user/get_users_info HTTP/1.1\r\nHost: x\r\noperationID: slow\r\nX-Tenant-ID: {tenant}\r\n\
                 token: {token}\r\ncontent-type: application/json\r\nContent-Length: 1000\r\n\r\n{{\"userIDs\":"
            )
            .as_bytes(),
        );
        let tasks = (0..n)
            .map(|i| {
                let bytes = if i % 2 == 0 { header.clone() } else { body.clone() };
                let (address, opened, open, reopened, mut stopped) = (
                    address.to_owned(),
                    opened.clone(),
                    open.clone(),
                    reopened.clone(),
                    stopped.clone(),
                );
                tokio::spawn(async move {
                    let mut first = true;
                    while !*stopped.borrow() {
                        let Ok(mut stream) = TcpStream::connect(&address).await else {
                            tokio::time::sleep(Duration::from_millis(10)).await;
                            continue;
                        };
                        if stream.write_all(&bytes).await.is_err() {
                            continue;
                        }
                        if std::mem::take(&mut first) {
                            opened.fetch_add(1, Ordering::Relaxed);
                        } else {
                            reopened.fetch_add(1, Ordering::Relaxed);
                        }
                        open.fetch_add(1, Ordering::Relaxed);
                        let mut buf = [0u8; 1024];
                        tokio::select! {
                            _ = async { while matches!(stream.read(&mut buf).await, Ok(n) if n > 0) {} } => {}
                            _ = stopped.changed() => {}
                        }
                        open.fetch_sub(1, Ordering::Relaxed);
                    }
                })
            })
            .collect();
        Holder {
            opened,
            open,
            reopened,
            stop,
            tasks,
        }
    }

    /// Closes the connections; how many times one was opened again.
    async fn stop(self) -> u64 {
        let _ = self.stop.send(true);
        for task in self.tasks {
            let _ = task.await;
        }
        self.reopened.load(Ordering::Relaxed)
    }
}

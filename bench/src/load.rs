//! Shapes of load: a closed loop of concurrent workers for a while, bounded
//! concurrent preparation, and the pacer of message sends (a target rate, or
//! flat out within a window of sends in flight).

use std::future::Future;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use futures::{StreamExt, TryStreamExt};
use tokio::sync::{OwnedSemaphorePermit, Semaphore};

use crate::client::Result;

/// A duration for loops that run until their work is done.
pub const UNTIL_DONE: Duration = Duration::from_secs(24 * 3600);

/// Runs `op(i)` (i = 0, 1, 2, ... across all workers) from `concurrency`
/// tasks until `duration` has passed, an op says there is no work left
/// (`Ok(false)`) or one fails (the first error is returned). Returns the
/// time it took.
pub async fn closed_loop<F, Fut>(concurrency: usize, duration: Duration, op: F) -> Result<Duration>
where
    F: Fn(u64) -> Fut + Send + Sync + 'static,
    Fut: Future<Output = Result<bool>> + Send + 'static,
{
    let op = Arc::new(op);
    let next = Arc::new(AtomicU64::new(0));
    let stop = Arc::new(AtomicBool::new(false));
    let started = Instant::now();
    let deadline = started + duration;
    let workers: Vec<_> = (0..concurrency.max(1))
        .map(|_| {
            let (op, next, stop) = (op.clone(), next.clone(), stop.clone());
            tokio::spawn(async move {
                while !stop.load(Ordering::Relaxed) && Instant::now() < deadline {
                    match op(next.fetch_add(1, Ordering::Relaxed)).await {
                        Ok(true) => {}
                        Ok(false) => break,
                        Err(e) => {
                            stop.store(true, Ordering::Relaxed);
                            return Err(e);
                        }
                    }
                }
                Ok(())
            })
        })
        .collect();
    let mut failed = None;
    for worker in workers {
        if let Err(e) = worker.await? {
            failed.get_or_insert(e);
        }
    }
    failed.map_or(Ok(started.elapsed()), Err)
}

/// `f` over `items`, at most `concurrency` at a time; the results in order.
pub async fn each<T, R, F, Fut>(items: impl IntoIterator<Item = T>, concurrency: usize, f: F) -> Result<Vec<R>>
where
    F: FnMut(T) -> Fut,
    Fut: Future<Output = Result<R>>,
{
    futures::stream::iter(items)
        .map(f)
        .buffered(concurrency.max(1))
        .try_collect()
        .await
}

/// Issues sends for a while: at `rate` per second (open loop: a send is due
/// at its slot whether or not earlier ones were answered), or flat out; in
/// both cases at most `window` sends are in flight (a send holds its permit
/// until its reply).
pub struct Pacer {
    rate: Option<f64>,
    window: Arc<Semaphore>,
    size: u32,
    started: Instant,
    deadline: Instant,
    issued: u64,
}

impl Pacer {
    /// `rate` 0 is flat out.
    pub fn new(rate: f64, window: usize, duration: Duration) -> Pacer {
        let started = Instant::now();
        Pacer {
            rate: (rate > 0.0).then_some(rate),
            window: Arc::new(Semaphore::new(window.max(1))),
            size: window.max(1) as u32,
            started,
            deadline: started + duration,
            issued: 0,
        }
    }

    /// The next send's stamp (when it was due; at a target rate that is its
    /// slot, so a late send counts its wait as latency) and its permit; None
    /// once the duration is over.
    pub async fn next(&mut self) -> Option<(Instant, OwnedSemaphorePermit)> {
        let due = match self.rate {
            Some(rate) => self.started + Duration::from_secs_f64(self.issued as f64 / rate),
            None => Instant::now(),
        };
        if due >= self.deadline {
            return None;
        }
        if due > Instant::now() {
            tokio::time::sleep_until(due.into()).await;
        }
        let permit = self.window.clone().acquire_owned().await.ok()?;
        self.issued += 1;
        Some((if self.rate.is_some() { due } else { Instant::now() }, permit))
    }

    pub fn started(&self) -> Instant {
        self.started
    }

    /// Waits until every send has its reply (or `limit` passes); the time
    /// from the start until then.
    pub async fn drain(&self, limit: Duration) -> Result<Duration> {
        let all = tokio::time::timeout(limit, self.window.acquire_many(self.size))
            .await
            .map_err(|_| format!("sends still unanswered {limit:?} after the last one"))??;
        drop(all);
        Ok(self.started.elapsed())
    }
}

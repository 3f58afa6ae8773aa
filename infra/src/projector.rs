//! The projector: applies events of a log partition to the read models,
//! batch by batch, each batch committed atomically with that partition's
//! checkpoint. Events at or before the checkpoint are skipped, so a
//! re-delivered event is never applied twice.

use std::sync::Arc;
use std::time::Duration;

use events::position::{offset_of, partition_of};
use events::Envelope;
use projections::{Batch, ProjectionError, StoreError};
use tokio::sync::watch;

use crate::event_log::{EventLog, LogError};
use crate::read_store::{Checkpoints, ReadStore};

/// Events read and committed per batch when reading the embedded log.
const BATCH: usize = 2000;

#[derive(Debug, thiserror::Error)]
pub enum ProjectorError {
    #[error(transparent)]
    Log(#[from] LogError),
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error(transparent)]
    Projection(#[from] ProjectionError),
    #[error("stored event at position {position} is unreadable: {reason}")]
    Unreadable { position: u64, reason: String },
}

/// Told, after each batch, how many events the read models hold and how
/// many there are to apply in all (a replay's progress).
pub type Progress = Arc<dyn Fn(u64, u64) + Send + Sync>;

pub struct Projector {
    store: Arc<dyn ReadStore>,
    applied: watch::Sender<Checkpoints>,
    progress: Option<(Progress, u64)>,
}

impl Projector {
    pub async fn new(store: Arc<dyn ReadStore>) -> Result<Self, ProjectorError> {
        let checkpoints = store.checkpoints().await?;
        Ok(Projector {
            store,
            applied: watch::Sender::new(checkpoints),
            progress: None,
        })
    }

    /// Reports progress towards `total` events after every batch.
    pub fn reporting(mut self, progress: Option<Progress>, total: u64) -> Self {
        self.progress = progress.map(|p| (p, total));
        self
    }

    /// Per partition, the offset up to which the read models are complete.
    pub fn applied(&self) -> watch::Receiver<Checkpoints> {
        self.applied.subscribe()
    }

    pub fn checkpoint(&self, partition: u32) -> u64 {
        self.applied.borrow().get(&partition).copied().unwrap_or(0)
    }

    /// Re-reads the stored checkpoints (after another worker may have moved
    /// them, e.g. when a partition is handed over).
    pub async fn reload(&self) -> Result<(), ProjectorError> {
        let stored = self.store.checkpoints().await?;
        self.applied.send_replace(stored);
        Ok(())
    }

    /// Applies events of `partition`, in log order, skipping those at or
    /// before its checkpoint; returns how many were applied.
    pub async fn apply(&self, partition: u32, envelopes: &[Envelope]) -> Result<usize, ProjectorError> {
        let from = self.checkpoint(partition);
        let fresh: Vec<&Envelope> = envelopes
            .iter()
            .filter(|e| partition_of(e.log_position) == partition && offset_of(e.log_position) > from)
            .collect();
        let Some(last) = fresh.last().map(|e| offset_of(e.log_position)) else {
            return Ok(0);
        };
        let started = std::time::Instant::now();
        let mut batch = Batch::new(self.store.as_source());
        for envelope in &fresh {
            let event = envelope.event().map_err(|e| ProjectorError::Unreadable {
                position: envelope.log_position,
                reason: e.to_string(),
            })?;
            projections::project(envelope, &event, &mut batch).await?;
        }
        let projected = std::time::Instant::now();
        self.store.commit(batch.into_changes(), partition, from, last).await?;
        record_batch(&fresh, started, projected);
        self.applied.send_modify(|applied| {
            applied.insert(partition, last);
        });
        if let Some((report, total)) = &self.progress {
            report(self.applied.borrow().values().sum(), *total);
        }
        Ok(fresh.len())
    }

    /// Embedded log: projects one batch past the checkpoint.
    async fn step(&self, log: &dyn EventLog) -> Result<usize, ProjectorError> {
        let envelopes = log.read(self.checkpoint(0) + 1, BATCH).await?;
        if envelopes.is_empty() {
            return Ok(0);
        }
        self.apply(0, &envelopes).await?;
        Ok(envelopes.len())
    }

    /// Embedded log: projects until the read models include everything
    /// durable now; returns how many events that took.
    pub async fn catch_up(&self, log: &dyn EventLog) -> Result<u64, ProjectorError> {
        let mut total = 0;
        loop {
            let n = self.step(log).await?;
            if n == 0 {
                self.store.flush().await?;
                return Ok(total);
            }
            total += n as u64;
        }
    }

    /// Embedded log: tails it until `stop` turns true. A failing batch is
    /// logged and retried from the checkpoint. At stop it makes the read
    /// models durable (the store writes lazily under load).
    pub async fn run(self, log: Arc<dyn EventLog>, mut stop: watch::Receiver<bool>) {
        let mut head = log.durable_head();
        loop {
            if *stop.borrow() {
                break;
            }
            if *head.borrow_and_update() > self.checkpoint(0) {
                if let Err(e) = self.step(log.as_ref()).await {
                    tracing::error!(error = %e, "projection batch failed; retrying");
                    tokio::select! {
                        _ = tokio::time::sleep(Duration::from_secs(1)) => {}
                        _ = stop.changed() => {}
                    }
                }
                continue;
            }
            tokio::select! {
                changed = head.changed() => if changed.is_err() { break },
                _ = stop.changed() => {}
            }
        }
        if let Err(e) = self.store.flush().await {
            tracing::error!(error = %e, "making the read models durable");
        }
    }
}

/// A projected batch's metrics: its size, the time to project it and to
/// commit it, and how long after it happened its last event is in the read
/// models (the projector's lag).
fn record_batch(batch: &[&Envelope], started: std::time::Instant, projected: std::time::Instant) {
    metrics::histogram!("parley_projector_batch_events").record(batch.len() as f64);
    metrics::histogram!("parley_projector_project_seconds").record((projected - started).as_secs_f64());
    metrics::histogram!("parley_projector_commit_seconds").record(projected.elapsed().as_secs_f64());
    if let Some(last) = batch.last() {
        let now_ms = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| d.as_millis() as i64);
        let lag = (now_ms - last.occurred_at).max(0) as f64 / 1000.0;
        metrics::gauge!("parley_projector_lag_seconds").set(lag);
    }
}

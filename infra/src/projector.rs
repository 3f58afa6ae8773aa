//! The projector runner: feeds the read models from their checkpoint,
//! batch by batch, each batch committed atomically with its checkpoint.

use std::sync::Arc;
use std::time::Duration;

use projections::{Batch, ProjectionError, StoreError};
use tokio::sync::watch;

use crate::event_log::{EventLog, LogError};
use crate::read_store::ReadStore;

/// Events read and committed per batch.
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

pub struct Projector {
    log: Arc<dyn EventLog>,
    store: Arc<dyn ReadStore>,
    applied: watch::Sender<u64>,
}

impl Projector {
    pub async fn new(log: Arc<dyn EventLog>, store: Arc<dyn ReadStore>) -> Result<Self, ProjectorError> {
        let checkpoint = store.checkpoint().await?;
        Ok(Projector {
            log,
            store,
            applied: watch::Sender::new(checkpoint),
        })
    }

    /// The position up to which the read models are complete.
    pub fn applied(&self) -> watch::Receiver<u64> {
        self.applied.subscribe()
    }

    /// Projects one batch past the checkpoint; returns how many events.
    pub async fn step(&self) -> Result<usize, ProjectorError> {
        let from = *self.applied.borrow();
        let envelopes = self.log.read(from + 1, BATCH).await?;
        let Some(last) = envelopes.last().map(|e| e.log_position) else {
            return Ok(0);
        };
        let mut batch = Batch::new(self.store.as_source());
        for envelope in &envelopes {
            let event = envelope.event().map_err(|e| ProjectorError::Unreadable {
                position: envelope.log_position,
                reason: e.to_string(),
            })?;
            projections::project(envelope, &event, &mut batch).await?;
        }
        self.store.commit(batch.into_changes(), from, last).await?;
        self.applied.send_replace(last);
        Ok(envelopes.len())
    }

    /// Projects until the read models include everything durable now.
    pub async fn catch_up(&self) -> Result<u64, ProjectorError> {
        let mut total = 0;
        loop {
            let n = self.step().await?;
            if n == 0 {
                return Ok(total);
            }
            total += n as u64;
        }
    }

    /// Tails the log until `stop` turns true. A failing batch is logged and
    /// retried from the checkpoint.
    pub async fn run(self, mut stop: watch::Receiver<bool>) {
        let mut head = self.log.durable_head();
        loop {
            if *stop.borrow() {
                return;
            }
            let behind = *head.borrow_and_update() > *self.applied.borrow();
            if behind {
                if let Err(e) = self.step().await {
                    tracing::error!(error = %e, "projection batch failed; retrying");
                    tokio::select! {
                        _ = tokio::time::sleep(Duration::from_secs(1)) => {}
                        _ = stop.changed() => {}
                    }
                }
                continue;
            }
            tokio::select! {
                changed = head.changed() => if changed.is_err() { return },
                _ = stop.changed() => {}
            }
        }
    }
}

/// Waits until `applied` reaches `position`, at most `timeout`.
pub async fn wait_for(applied: &watch::Receiver<u64>, position: u64, timeout: Duration) -> bool {
    let mut applied = applied.clone();
    let reached = tokio::time::timeout(timeout, applied.wait_for(|&p| p >= position)).await;
    matches!(reached, Ok(Ok(_)))
}

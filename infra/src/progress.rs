//! How far the read models are: what read-your-writes waits on.

use std::sync::Arc;
use std::time::{Duration, Instant};

use events::position::{offset_of, partition_of};
use tokio::sync::watch;

use crate::read_store::{Checkpoints, ReadStore};

#[derive(Clone)]
pub enum ReadProgress {
    /// The projector runs in this process and publishes its checkpoints.
    Local(watch::Receiver<Checkpoints>),
    /// Projector workers elsewhere: poll the checkpoints they commit with
    /// the read models.
    Shared(Arc<dyn ReadStore>),
}

fn reached(checkpoints: &Checkpoints, position: u64) -> bool {
    checkpoints.get(&partition_of(position)).copied().unwrap_or(0) >= offset_of(position)
}

impl ReadProgress {
    /// Waits until the read models include `position`, at most `timeout`.
    pub async fn wait_for(&self, position: u64, timeout: Duration) -> bool {
        if position == 0 {
            return true;
        }
        match self {
            ReadProgress::Local(applied) => {
                let mut applied = applied.clone();
                let done = tokio::time::timeout(timeout, applied.wait_for(|a| reached(a, position))).await;
                matches!(done, Ok(Ok(_)))
            }
            ReadProgress::Shared(store) => {
                let deadline = Instant::now() + timeout;
                let mut pause = Duration::from_millis(1);
                loop {
                    match store.checkpoints().await {
                        Ok(c) if reached(&c, position) => return true,
                        Ok(_) => {}
                        Err(e) => tracing::warn!(error = %e, "reading read-model checkpoints"),
                    }
                    if Instant::now() + pause > deadline {
                        return false;
                    }
                    tokio::time::sleep(pause).await;
                    pause = (pause * 2).min(Duration::from_millis(20));
                }
            }
        }
    }
}

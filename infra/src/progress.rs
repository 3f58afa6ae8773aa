//! How far the read models are: what read-your-writes waits on.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::Duration;

use events::position::{offset_of, partition_of};
use tokio::sync::{watch, Notify};

use crate::read_store::{Checkpoints, ReadStore};

/// How often a node polls the shared read store while requests wait.
const POLL: Duration = Duration::from_millis(2);

#[derive(Clone)]
pub enum ReadProgress {
    /// The projector runs in this process and publishes its checkpoints.
    Local(watch::Receiver<Checkpoints>),
    /// Projector workers elsewhere: one task per node polls the checkpoints
    /// they commit with the read models, only while requests wait.
    Shared(Arc<Poller>),
}

pub struct Poller {
    store: Arc<dyn ReadStore>,
    latest: watch::Sender<Checkpoints>,
    waiting: AtomicUsize,
    wake: Notify,
}

impl Poller {
    async fn run(self: Arc<Self>) {
        loop {
            while self.waiting.load(Ordering::SeqCst) == 0 {
                self.wake.notified().await;
            }
            match self.store.checkpoints().await {
                Ok(checkpoints) => {
                    self.latest.send_if_modified(|latest| {
                        let changed = *latest != checkpoints;
                        *latest = checkpoints;
                        changed
                    });
                }
                Err(e) => tracing::warn!(error = %e, "reading read-model checkpoints"),
            }
            tokio::time::sleep(POLL).await;
        }
    }
}

/// Decrements the waiter count however the wait ends.
struct Waiting<'a>(&'a AtomicUsize);

impl Drop for Waiting<'_> {
    fn drop(&mut self) {
        self.0.fetch_sub(1, Ordering::SeqCst);
    }
}

fn reached(checkpoints: &Checkpoints, position: u64) -> bool {
    checkpoints.get(&partition_of(position)).copied().unwrap_or(0) >= offset_of(position)
}

async fn wait_on(mut applied: watch::Receiver<Checkpoints>, position: u64, timeout: Duration) -> bool {
    let done = tokio::time::timeout(timeout, applied.wait_for(|a| reached(a, position))).await;
    matches!(done, Ok(Ok(_)))
}

impl ReadProgress {
    /// Follows a read store that other processes project into.
    pub fn shared(store: Arc<dyn ReadStore>) -> Self {
        let poller = Arc::new(Poller {
            store,
            latest: watch::Sender::new(Checkpoints::new()),
            waiting: AtomicUsize::new(0),
            wake: Notify::new(),
        });
        tokio::spawn(poller.clone().run());
        ReadProgress::Shared(poller)
    }

    /// Waits until the read models include `position`, at most `timeout`.
    pub async fn wait_for(&self, position: u64, timeout: Duration) -> bool {
        if position == 0 {
            return true;
        }
        match self {
            ReadProgress::Local(applied) => wait_on(applied.clone(), position, timeout).await,
            ReadProgress::Shared(poller) => {
                let applied = poller.latest.subscribe();
                if reached(&applied.borrow(), position) {
                    return true;
                }
                poller.waiting.fetch_add(1, Ordering::SeqCst);
                let _waiting = Waiting(&poller.waiting);
                poller.wake.notify_one();
                wait_on(applied, position, timeout).await
            }
        }
    }
}

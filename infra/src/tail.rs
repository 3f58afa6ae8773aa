//! Following the event log from "now" on: what an API node's push gateway
//! reads. Each node follows the whole log (embedded: the log file; Kafka:
//! every partition of the events topic, without a consumer group's
//! commits), so every node can push to its own connected clients.

use std::sync::Arc;

use events::Envelope;
use tokio::sync::{mpsc, watch};
use tokio::task::JoinHandle;

use crate::event_log::EventLog;

/// Events read per step.
const STEP: usize = 512;
/// Batches buffered between the tail and its reader.
const BUFFER: usize = 16;

/// New events, batch by batch, in log order per partition.
pub type Tail = mpsc::Receiver<Vec<Envelope>>;

/// Follows the embedded log from its current head until `stop`.
pub fn follow_embedded(log: Arc<dyn EventLog>, mut stop: watch::Receiver<bool>) -> (Tail, JoinHandle<()>) {
    let (tx, rx) = mpsc::channel(BUFFER);
    let task = tokio::spawn(async move {
        let mut head = log.durable_head();
        let mut cursor = *head.borrow_and_update();
        loop {
            if *stop.borrow() {
                return;
            }
            if *head.borrow_and_update() > cursor {
                match log.read(cursor + 1, STEP).await {
                    Ok(batch) => {
                        let Some(last) = batch.last() else {
                            // The head moved but nothing reads yet: wait a little.
                            tokio::time::sleep(std::time::Duration::from_millis(10)).await;
                            continue;
                        };
                        cursor = last.log_position;
                        if tx.send(batch).await.is_err() {
                            return;
                        }
                    }
                    Err(e) => {
                        tracing::error!(error = %e, "tailing the event log");
                        tokio::time::sleep(std::time::Duration::from_secs(1)).await;
                    }
                }
                continue;
            }
            tokio::select! {
                changed = head.changed() => if changed.is_err() { return },
                _ = stop.changed() => {}
            }
        }
    });
    (rx, task)
}

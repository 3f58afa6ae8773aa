//! Whether a node can serve (`/readyz`): its event log answers, its read
//! store answers, and its read models are within a bound of the log's head.

use std::sync::Arc;

use async_trait::async_trait;

use crate::event_log::EventLog;
use crate::read_store::{Checkpoints, ReadStore};

/// Where the log ends: per partition, the 1-based offset of its last
/// record, which the read models' checkpoint reaches once caught up.
#[async_trait]
pub trait LogHeads: Send + Sync {
    async fn heads(&self) -> Result<Checkpoints, String>;
}

/// The embedded log: one partition, its durable head.
pub struct EmbeddedHeads(pub Arc<dyn EventLog>);

#[async_trait]
impl LogHeads for EmbeddedHeads {
    async fn heads(&self) -> Result<Checkpoints, String> {
        Ok(Checkpoints::from([(0, *self.0.durable_head().borrow())]))
    }
}

/// What a readiness check found.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Report {
    /// Events the read models are behind the log's head, when both answered.
    pub behind: Option<u64>,
    /// Why the node is not ready (empty: it is).
    pub reasons: Vec<String>,
}

impl Report {
    pub fn ready(&self) -> bool {
        self.reasons.is_empty()
    }
}

pub struct Readiness {
    pub heads: Arc<dyn LogHeads>,
    pub store: Arc<dyn ReadStore>,
    /// The most events the read models may be behind and still serve.
    pub max_behind: u64,
}

impl Readiness {
    pub async fn check(&self) -> Report {
        let (heads, applied) = tokio::join!(self.heads.heads(), self.store.checkpoints());
        let mut reasons = Vec::new();
        let heads = heads.map_err(|e| reasons.push(format!("event log: {e}"))).ok();
        let applied = applied.map_err(|e| reasons.push(format!("read store: {e}"))).ok();
        let behind = heads.zip(applied).map(|(heads, applied)| behind(&heads, &applied));
        if let Some(n) = behind.filter(|&n| n > self.max_behind) {
            reasons.push(format!(
                "read models are {n} events behind the log (at most {} to serve)",
                self.max_behind
            ));
        }
        Report { behind, reasons }
    }
}

/// Events (or, on Kafka, records: transaction markers count) between the
/// checkpoints and the heads.
pub fn behind(heads: &Checkpoints, applied: &Checkpoints) -> u64 {
    heads
        .iter()
        .map(|(partition, head)| head.saturating_sub(applied.get(partition).copied().unwrap_or(0)))
        .sum()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn behind_sums_every_partitions_gap_and_never_goes_negative() {
        let heads = Checkpoints::from([(0, 10), (1, 5), (2, 0)]);
        assert_eq!(behind(&heads, &Checkpoints::new()), 15);
        assert_eq!(behind(&heads, &Checkpoints::from([(0, 10), (1, 3)])), 2);
        // A checkpoint past a head read a moment earlier.
        assert_eq!(behind(&heads, &Checkpoints::from([(0, 12), (1, 5)])), 0);
    }
}

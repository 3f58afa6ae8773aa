//! Where read models live. Each backend serves documents to queries
//! ([`DocSource`]) and commits a projected batch atomically with the
//! checkpoint of the batch's log partition (the offset of its last event).

mod embedded;
mod lease;
mod mongo;
mod overlay;

use std::collections::BTreeMap;

use async_trait::async_trait;
use projections::{Change, DocSource, StoreError};
use serde_json::Value;

pub use embedded::EmbeddedStore;
pub use mongo::MongoStore;

/// Offset of the last applied event, per log partition.
pub type Checkpoints = BTreeMap<u32, u64>;

#[async_trait]
pub trait ReadStore: DocSource {
    /// Per log partition, the offset of the last event the read models
    /// include (partitions never projected are absent).
    async fn checkpoints(&self) -> Result<Checkpoints, StoreError>;

    /// Applies `changes` and moves `partition`'s checkpoint from `from` to
    /// `to` in one atomic step. Fails without changing anything if the stored
    /// checkpoint is not `from` (another projector got there first).
    async fn commit(&self, changes: Vec<Change>, partition: u32, from: u64, to: u64) -> Result<(), StoreError>;

    /// Makes every commit so far durable. Stores may sync commits lazily:
    /// the log is the truth, and after a crash the read models are whole
    /// as of an earlier commit (with its checkpoint), from which the
    /// projector catches up.
    async fn flush(&self) -> Result<(), StoreError>;

    /// Drops every read model and the checkpoint.
    async fn reset(&self) -> Result<(), StoreError>;

    /// Drops the store itself (a scratch store after use).
    async fn destroy(&self) -> Result<(), StoreError>;

    /// Every document of a collection with its id, in id order.
    async fn documents(&self, collection: &str) -> Result<Vec<(String, Value)>, StoreError>;

    /// Replaces a whole collection with `docs`; checkpoints are untouched.
    async fn replace(&self, collection: &str, docs: Vec<(String, Value)>) -> Result<(), StoreError>;

    /// The read-model format ([`projections::FORMAT`]) the store was built
    /// in; `None` for an empty store or one from before formats were
    /// stamped. [`ReadStore::reset`] drops the stamp.
    async fn format(&self) -> Result<Option<u32>, StoreError>;

    /// Stamps the store as built in `format` (after a whole replay).
    async fn set_format(&self, format: u32) -> Result<(), StoreError>;

    /// Upcast to the query interface.
    fn as_source(&self) -> &dyn DocSource;
}

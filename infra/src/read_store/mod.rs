//! Where read models live. Each backend serves documents to queries
//! ([`DocSource`]) and commits a projected batch atomically with the
//! checkpoint (the log position of the batch's last event).

mod embedded;

use async_trait::async_trait;
use projections::{Change, DocSource, StoreError};

pub use embedded::EmbeddedStore;

#[async_trait]
pub trait ReadStore: DocSource {
    /// The log position of the last event the read models include.
    async fn checkpoint(&self) -> Result<u64, StoreError>;

    /// Applies `changes` and moves the checkpoint from `from` to `to` in one
    /// atomic step. Fails without changing anything if the stored checkpoint
    /// is not `from` (another projector got there first).
    async fn commit(&self, changes: Vec<Change>, from: u64, to: u64) -> Result<(), StoreError>;

    /// Drops every read model and the checkpoint.
    async fn reset(&self) -> Result<(), StoreError>;

    /// Upcast to the query interface.
    fn as_source(&self) -> &dyn DocSource;
}

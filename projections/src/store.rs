//! The document-store contract the read-model backends implement.

use async_trait::async_trait;
use serde_json::Value;

#[derive(Debug, thiserror::Error)]
#[error("read store: {0}")]
pub struct StoreError(pub String);

/// Read access to the read models: documents addressed by collection and id.
#[async_trait]
pub trait DocSource: Send + Sync {
    async fn get(&self, collection: &str, id: &str) -> Result<Option<Value>, StoreError>;

    /// Every document whose id starts with `prefix`, in id order. Ids of
    /// list read models start with their owner (`<tenant>:<owner>:`), so
    /// this is how lists are read (an index range scan in every backend).
    async fn scan_prefix(&self, collection: &str, prefix: &str) -> Result<Vec<Value>, StoreError>;

    /// Several documents at once, in the order of `ids` (missing ones left
    /// out). Backends override this with one round trip.
    async fn get_many(&self, collection: &str, ids: &[String]) -> Result<Vec<Value>, StoreError> {
        let mut found = Vec::with_capacity(ids.len());
        for id in ids {
            if let Some(doc) = self.get(collection, id).await? {
                found.push(doc);
            }
        }
        Ok(found)
    }
}

/// One write of a projection batch.
#[derive(Debug, Clone, PartialEq)]
pub enum Change {
    /// Create or replace the document.
    Put {
        collection: &'static str,
        id: String,
        doc: Value,
    },
    /// Remove the document if it exists.
    Delete { collection: &'static str, id: String },
}

/// The exclusive upper bound of the ids starting with `prefix`.
pub fn prefix_end(prefix: &str) -> String {
    format!("{prefix}\u{10FFFF}")
}

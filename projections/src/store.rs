//! The document-store contract the read-model backends implement.

use async_trait::async_trait;
use serde::de::DeserializeOwned;
use serde_json::Value;

#[derive(Debug, thiserror::Error)]
#[error("read store: {0}")]
pub struct StoreError(pub String);

/// Read access to the read models: documents addressed by collection and id.
#[async_trait]
pub trait DocSource: Send + Sync {
    async fn get(&self, collection: &str, id: &str) -> Result<Option<Value>, StoreError>;

    /// Every document of a list collection (see [`crate::LISTS`]) whose id
    /// is `prefix` plus one last segment, in id order. `prefix` ends with
    /// `:`; list ids are `<tenant>:<owner>:<other>`, so this reads one
    /// owner's list through an index in every backend.
    async fn scan_prefix(&self, collection: &str, prefix: &str) -> Result<Vec<Value>, StoreError>;

    /// Up to `limit` documents of one list (see `scan_prefix`) whose ids
    /// come after `prefix` + `after` (all of them without `after`), in id
    /// order: a page of a long list.
    async fn scan_after(
        &self,
        collection: &str,
        prefix: &str,
        after: Option<&str>,
        limit: usize,
    ) -> Result<Vec<Value>, StoreError>;

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

/// The list prefix of an id: everything up to and including its last `:`.
pub fn list_prefix(id: &str) -> &str {
    id.rfind(':').map_or("", |at| &id[..=at])
}

fn decode<T: DeserializeOwned>(collection: &str, doc: Value) -> Result<T, StoreError> {
    serde_json::from_value(doc).map_err(|e| StoreError(format!("{collection}: {e}")))
}

/// One typed document.
pub(crate) async fn read_one<T: DeserializeOwned>(
    source: &dyn DocSource,
    collection: &str,
    id: &str,
) -> Result<Option<T>, StoreError> {
    source
        .get(collection, id)
        .await?
        .map(|d| decode(collection, d))
        .transpose()
}

/// Typed documents of `ids`, in their order; missing ones left out.
pub(crate) async fn read_many<T: DeserializeOwned>(
    source: &dyn DocSource,
    collection: &str,
    ids: &[String],
) -> Result<Vec<T>, StoreError> {
    let docs = source.get_many(collection, ids).await?;
    docs.into_iter().map(|d| decode(collection, d)).collect()
}

/// Every typed document of one list (`prefix` ends with `:`), in id order.
pub(crate) async fn read_list<T: DeserializeOwned>(
    source: &dyn DocSource,
    collection: &str,
    prefix: &str,
) -> Result<Vec<T>, StoreError> {
    let docs = source.scan_prefix(collection, prefix).await?;
    docs.into_iter().map(|d| decode(collection, d)).collect()
}

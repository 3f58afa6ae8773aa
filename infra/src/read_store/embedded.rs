//! Read models in an embedded redb database (`read-models.redb` in the data
//! dir): one table of JSON documents keyed `collection/id`, one of
//! checkpoints keyed by log partition. A batch and its checkpoint are one
//! redb write transaction. Commits reach the disk lazily: at most every
//! [`SYNC_EVERY`] (and on [`ReadStore::flush`]) a commit is synced, the
//! others are not (redb keeps them atomic: after a crash the file holds the
//! last synced commit, checkpoint included, and the projector replays the
//! rest from the log). A batch so costs no fsync of its own.

use std::ops::Bound;
use std::path::Path;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use async_trait::async_trait;
use projections::{prefix_end, Change, DocSource, StoreError};
use redb::{Database, Durability, ReadableTable, TableDefinition};
use serde_json::Value;

use super::{Checkpoints, ReadStore};

const DOCS: TableDefinition<&str, &[u8]> = TableDefinition::new("docs");
/// Checkpoints, keyed by log partition.
const CHECKPOINTS: TableDefinition<u32, u64> = TableDefinition::new("checkpoints");

/// How long a commit may stay unsynced.
pub const SYNC_EVERY: Duration = Duration::from_secs(1);

#[derive(Clone)]
pub struct EmbeddedStore {
    db: Arc<Database>,
    /// When a commit was last synced.
    synced: Arc<Mutex<Instant>>,
}

fn store_err(e: impl std::fmt::Display) -> StoreError {
    StoreError(e.to_string())
}

fn key(collection: &str, id: &str) -> String {
    format!("{collection}/{id}")
}

impl EmbeddedStore {
    pub fn open(dir: &Path) -> Result<Self, StoreError> {
        std::fs::create_dir_all(dir).map_err(store_err)?;
        let db = Database::create(dir.join("read-models.redb")).map_err(store_err)?;
        let store = EmbeddedStore {
            db: Arc::new(db),
            synced: Arc::new(Mutex::new(Instant::now())),
        };
        store.create_tables()?;
        Ok(store)
    }

    fn create_tables(&self) -> Result<(), StoreError> {
        let txn = self.db.begin_write().map_err(store_err)?;
        txn.open_table(DOCS).map_err(store_err)?;
        txn.open_table(CHECKPOINTS).map_err(store_err)?;
        txn.commit().map_err(store_err)
    }

    /// Up to `limit` documents of a key range (range reads can be long:
    /// callers run this off the async threads).
    fn scan(&self, start: Bound<String>, end: Bound<String>, limit: usize) -> Result<Vec<Value>, StoreError> {
        let txn = self.db.begin_read().map_err(store_err)?;
        let table = txn.open_table(DOCS).map_err(store_err)?;
        let range = (start.as_ref().map(String::as_str), end.as_ref().map(String::as_str));
        let mut found = Vec::new();
        for entry in table.range::<&str>(range).map_err(store_err)?.take(limit) {
            let (_, bytes) = entry.map_err(store_err)?;
            found.push(serde_json::from_slice(bytes.value()).map_err(store_err)?);
        }
        Ok(found)
    }

    fn read_docs(&self, collection: &str, ids: &[String]) -> Result<Vec<Value>, StoreError> {
        let txn = self.db.begin_read().map_err(store_err)?;
        let table = txn.open_table(DOCS).map_err(store_err)?;
        let mut found = Vec::with_capacity(ids.len());
        for id in ids {
            if let Some(bytes) = table.get(key(collection, id).as_str()).map_err(store_err)? {
                found.push(serde_json::from_slice(bytes.value()).map_err(store_err)?);
            }
        }
        Ok(found)
    }

    /// Syncs this commit if the last sync is [`SYNC_EVERY`] old.
    fn durability(&self) -> Durability {
        let mut synced = self.synced.lock().expect("sync clock");
        if synced.elapsed() < SYNC_EVERY {
            return Durability::None;
        }
        *synced = Instant::now();
        Durability::Immediate
    }

    fn write(&self, changes: Vec<Change>, partition: u32, from: u64, to: u64) -> Result<(), StoreError> {
        let mut txn = self.db.begin_write().map_err(store_err)?;
        txn.set_durability(self.durability());
        {
            let mut checkpoints = txn.open_table(CHECKPOINTS).map_err(store_err)?;
            let current = checkpoints.get(partition).map_err(store_err)?.map_or(0, |v| v.value());
            if current != from {
                return Err(StoreError(format!(
                    "checkpoint of partition {partition} is {current}, the batch expected {from}: \
                     another projector is running"
                )));
            }
            checkpoints.insert(partition, to).map_err(store_err)?;
            let mut docs = txn.open_table(DOCS).map_err(store_err)?;
            for change in changes {
                match change {
                    Change::Put { collection, id, doc } => {
                        let bytes = serde_json::to_vec(&doc).map_err(store_err)?;
                        docs.insert(key(collection, &id).as_str(), bytes.as_slice())
                            .map_err(store_err)?;
                    }
                    Change::Delete { collection, id } => {
                        docs.remove(key(collection, &id).as_str()).map_err(store_err)?;
                    }
                }
            }
        }
        txn.commit().map_err(store_err)
    }
}

async fn blocking<T: Send + 'static>(
    f: impl FnOnce() -> Result<T, StoreError> + Send + 'static,
) -> Result<T, StoreError> {
    tokio::task::spawn_blocking(f).await.map_err(store_err)?
}

#[async_trait]
impl DocSource for EmbeddedStore {
    async fn get(&self, collection: &str, id: &str) -> Result<Option<Value>, StoreError> {
        Ok(self.read_docs(collection, &[id.to_owned()])?.pop())
    }

    async fn get_many(&self, collection: &str, ids: &[String]) -> Result<Vec<Value>, StoreError> {
        self.read_docs(collection, ids)
    }

    async fn scan_prefix(&self, collection: &str, prefix: &str) -> Result<Vec<Value>, StoreError> {
        let (start, end) = (key(collection, prefix), key(collection, &prefix_end(prefix)));
        let store = self.clone();
        blocking(move || store.scan(Bound::Included(start), Bound::Excluded(end), usize::MAX)).await
    }

    async fn scan_after(
        &self,
        collection: &str,
        prefix: &str,
        after: Option<&str>,
        limit: usize,
    ) -> Result<Vec<Value>, StoreError> {
        let start = match after {
            Some(after) => Bound::Excluded(key(collection, &format!("{prefix}{after}"))),
            None => Bound::Included(key(collection, prefix)),
        };
        let end = Bound::Excluded(key(collection, &prefix_end(prefix)));
        let store = self.clone();
        blocking(move || store.scan(start, end, limit)).await
    }
}

#[async_trait]
impl ReadStore for EmbeddedStore {
    async fn checkpoints(&self) -> Result<Checkpoints, StoreError> {
        let txn = self.db.begin_read().map_err(store_err)?;
        let table = txn.open_table(CHECKPOINTS).map_err(store_err)?;
        let mut checkpoints = Checkpoints::new();
        for entry in table.iter().map_err(store_err)? {
            let (partition, offset) = entry.map_err(store_err)?;
            checkpoints.insert(partition.value(), offset.value());
        }
        Ok(checkpoints)
    }

    async fn commit(&self, changes: Vec<Change>, partition: u32, from: u64, to: u64) -> Result<(), StoreError> {
        let store = self.clone();
        blocking(move || store.write(changes, partition, from, to)).await
    }

    async fn flush(&self) -> Result<(), StoreError> {
        let store = self.clone();
        blocking(move || {
            let mut txn = store.db.begin_write().map_err(store_err)?;
            txn.set_durability(Durability::Immediate);
            txn.commit().map_err(store_err)?;
            *store.synced.lock().expect("sync clock") = Instant::now();
            Ok(())
        })
        .await
    }

    async fn reset(&self) -> Result<(), StoreError> {
        let store = self.clone();
        blocking(move || {
            let txn = store.db.begin_write().map_err(store_err)?;
            txn.delete_table(DOCS).map_err(store_err)?;
            txn.delete_table(CHECKPOINTS).map_err(store_err)?;
            txn.commit().map_err(store_err)?;
            store.create_tables()
        })
        .await
    }

    /// The file goes with its directory; emptying it is all there is to do.
    async fn destroy(&self) -> Result<(), StoreError> {
        self.reset().await
    }

    async fn documents(&self, collection: &str) -> Result<Vec<(String, Value)>, StoreError> {
        let store = self.clone();
        let collection = collection.to_owned();
        blocking(move || {
            let txn = store.db.begin_read().map_err(store_err)?;
            let table = txn.open_table(DOCS).map_err(store_err)?;
            let (start, end) = (key(&collection, ""), key(&collection, &prefix_end("")));
            let skip = collection.len() + 1;
            let mut found = Vec::new();
            for entry in table.range(start.as_str()..end.as_str()).map_err(store_err)? {
                let (k, bytes) = entry.map_err(store_err)?;
                let doc = serde_json::from_slice(bytes.value()).map_err(store_err)?;
                found.push((k.value()[skip..].to_owned(), doc));
            }
            Ok(found)
        })
        .await
    }

    async fn replace(&self, collection: &str, docs: Vec<(String, Value)>) -> Result<(), StoreError> {
        let store = self.clone();
        let collection = collection.to_owned();
        blocking(move || {
            let txn = store.db.begin_write().map_err(store_err)?;
            {
                let mut table = txn.open_table(DOCS).map_err(store_err)?;
                let (start, end) = (key(&collection, ""), key(&collection, &prefix_end("")));
                table
                    .retain_in::<&str, _>(start.as_str()..end.as_str(), |_, _| false)
                    .map_err(store_err)?;
                for (id, doc) in docs {
                    let bytes = serde_json::to_vec(&doc).map_err(store_err)?;
                    table
                        .insert(key(&collection, &id).as_str(), bytes.as_slice())
                        .map_err(store_err)?;
                }
            }
            txn.commit().map_err(store_err)
        })
        .await
    }

    fn as_source(&self) -> &dyn DocSource {
        self
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn put(id: &str, n: i64) -> Change {
        Change::Put {
            collection: "things",
            id: id.into(),
            doc: json!({ "n": n }),
        }
    }

    #[tokio::test]
    async fn a_batch_and_its_checkpoint_commit_together() {
        let dir = tempfile::tempdir().unwrap();
        let store = EmbeddedStore::open(dir.path()).unwrap();
        store.commit(vec![put("a", 1), put("b", 2)], 0, 0, 7).await.unwrap();
        store.commit(vec![put("c", 3)], 5, 0, 2).await.unwrap();
        assert_eq!(store.checkpoints().await.unwrap(), Checkpoints::from([(0, 7), (5, 2)]));
        assert_eq!(
            store
                .get_many("things", &["b".into(), "x".into(), "a".into()])
                .await
                .unwrap(),
            [json!({"n": 2}), json!({"n": 1})]
        );
        let stale = store.commit(vec![put("a", 99)], 0, 0, 8).await;
        assert!(stale.is_err());
        assert_eq!(store.get("things", "a").await.unwrap(), Some(json!({"n": 1})));
        assert_eq!(store.checkpoints().await.unwrap()[&0], 7);
    }

    #[tokio::test]
    async fn reset_drops_documents_and_checkpoint_and_survives_reopen() {
        let dir = tempfile::tempdir().unwrap();
        {
            let store = EmbeddedStore::open(dir.path()).unwrap();
            store.commit(vec![put("a", 1)], 0, 0, 3).await.unwrap();
        }
        let store = EmbeddedStore::open(dir.path()).unwrap();
        assert_eq!(store.checkpoints().await.unwrap(), Checkpoints::from([(0, 3)]));
        store.reset().await.unwrap();
        assert!(store.checkpoints().await.unwrap().is_empty());
        assert_eq!(store.get("things", "a").await.unwrap(), None);
    }
}

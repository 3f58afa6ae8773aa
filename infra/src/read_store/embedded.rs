//! Read models in an embedded redb database (`read-models.redb` in the data
//! dir): one table of JSON documents keyed `collection/id`, one of
//! checkpoints keyed by log partition.
//!
//! Commits are write-back: a batch lands in memory ([`Overlay`]) and is
//! readable at once; a flusher thread writes everything pending to redb in
//! one transaction with the checkpoints it belongs to, every
//! [`FLUSH_EVERY`] or once [`FLUSH_AT`] changes wait (and on
//! [`ReadStore::flush`]). A projected batch so costs no redb transaction of
//! its own, and a flush writes each B-tree page once for many batches. redb
//! keeps each flush atomic: after a crash the file holds the documents and
//! checkpoints of the last flush, and the projector replays the rest from
//! the log, which is the truth.

use std::ops::Bound;
use std::path::Path;
use std::sync::{Arc, Condvar, Mutex, RwLock};
use std::time::Duration;

use async_trait::async_trait;
use projections::{prefix_end, Change, DocSource, StoreError};
use redb::{Database, ReadableTable, TableDefinition};
use serde_json::Value;
use tokio::sync::Notify;

use super::overlay::{merge, Bytes, Changes, Overlay};
use super::{Checkpoints, ReadStore};
use crate::private_fs;

const DOCS: TableDefinition<&str, &[u8]> = TableDefinition::new("docs");
/// Checkpoints, keyed by log partition.
const CHECKPOINTS: TableDefinition<u32, u64> = TableDefinition::new("checkpoints");
/// The store's stamp: `format` -> the read-model format it was built in.
const META: TableDefinition<&str, u32> = TableDefinition::new("meta");
const FORMAT_KEY: &str = "format";

/// The longest a commit waits in memory before the flusher writes it.
pub const FLUSH_EVERY: Duration = Duration::from_millis(500);
/// Pending changes that start a flush at once.
pub const FLUSH_AT: usize = 100_000;
/// Pending changes beyond which commits wait for the flusher.
const PENDING_MAX: usize = 8 * FLUSH_AT;

#[derive(Clone)]
pub struct EmbeddedStore {
    inner: Arc<Inner>,
    flusher: Arc<Flusher>,
}

struct Inner {
    db: Database,
    overlay: RwLock<Overlay>,
    /// Told after every flush attempt.
    flushed: Notify,
}

/// What the flusher thread is asked to do, and the condvar it waits on.
#[derive(Default)]
struct Wake {
    asked: Mutex<Asked>,
    condvar: Condvar,
}

#[derive(Default)]
struct Asked {
    flush: bool,
    stop: bool,
}

/// Owns the flusher thread. The last store handle drops it, which stops and
/// joins the thread: the database is closed when that drop returns, so the
/// directory can be opened again at once. Stopping does not flush (dropping
/// a store is a crash as far as the overlay goes; `flush` first to keep it).
struct Flusher {
    wake: Arc<Wake>,
    thread: Option<std::thread::JoinHandle<()>>,
}

impl Flusher {
    fn ask(&self, what: impl FnOnce(&mut Asked)) {
        what(&mut self.wake.asked.lock().expect("flusher lock"));
        self.wake.condvar.notify_one();
    }
}

impl Drop for Flusher {
    fn drop(&mut self) {
        self.ask(|asked| asked.stop = true);
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}

fn store_err(e: impl std::fmt::Display) -> StoreError {
    StoreError(e.to_string())
}

fn key(collection: &str, id: &str) -> String {
    format!("{collection}/{id}")
}

fn parse(bytes: &[u8]) -> Result<Value, StoreError> {
    serde_json::from_slice(bytes).map_err(store_err)
}

impl EmbeddedStore {
    pub fn open(dir: &Path) -> Result<Self, StoreError> {
        private_fs::create_dir(dir).map_err(store_err)?;
        let path = dir.join("read-models.redb");
        let db = Database::create(&path).map_err(store_err)?;
        // redb creates its file without a mode; the 0700 dir kept it private
        // until now.
        private_fs::restrict_path(&path).map_err(store_err)?;
        create_tables(&db)?;
        let checkpoints = stored_checkpoints(&db)?;
        let inner = Arc::new(Inner {
            db,
            overlay: RwLock::new(Overlay::new(checkpoints)),
            flushed: Notify::new(),
        });
        let wake: Arc<Wake> = Arc::default();
        let (store, waker) = (inner.clone(), wake.clone());
        let thread = std::thread::Builder::new()
            .name("read-store-flusher".into())
            .spawn(move || flusher(&store, &waker))
            .map_err(store_err)?;
        let flusher = Arc::new(Flusher {
            wake,
            thread: Some(thread),
        });
        Ok(EmbeddedStore { inner, flusher })
    }

    fn overlay(&self) -> std::sync::RwLockReadGuard<'_, Overlay> {
        self.inner.overlay.read().expect("overlay lock")
    }

    fn overlay_mut(&self) -> std::sync::RwLockWriteGuard<'_, Overlay> {
        self.inner.overlay.write().expect("overlay lock")
    }

    fn wake_flusher(&self) {
        self.flusher.ask(|asked| asked.flush = true);
    }

    /// Waits until `done` holds of the overlay, waking the flusher.
    async fn wait_for(&self, done: impl Fn(&Overlay) -> bool) {
        loop {
            let flushed = self.inner.flushed.notified();
            if done(&self.overlay()) {
                return;
            }
            self.wake_flusher();
            flushed.await;
        }
    }

    /// Up to `limit` documents of a key range, the overlay's changes over
    /// redb's (range reads can be long: callers run this off the async
    /// threads).
    fn scan(&self, start: Bound<String>, end: Bound<String>, limit: usize) -> Result<Vec<Value>, StoreError> {
        let bounds = (start.as_ref().map(String::as_str), end.as_ref().map(String::as_str));
        // The overlay first: a flush that lands meanwhile only moves
        // changes already read into redb.
        let changes = self.overlay().range(bounds.0, bounds.1);
        let txn = self.inner.db.begin_read().map_err(store_err)?;
        let table = txn.open_table(DOCS).map_err(store_err)?;
        let stored = table.range::<&str>(bounds).map_err(store_err)?.map(|entry| {
            entry
                .map(|(k, v)| (k.value().to_owned(), Bytes::from(v.value())))
                .map_err(store_err)
        });
        merge(changes, stored, limit)?.iter().map(|d| parse(d)).collect()
    }

    /// The documents of `ids`, in order. The overlay is asked about every
    /// id before redb's snapshot is taken: a flush moves changes to redb
    /// before it drops them from the overlay, so each change is in one or
    /// the other. (A snapshot taken before the overlay is asked could miss
    /// a flush committed and dropped in between.)
    fn read_docs(&self, collection: &str, ids: &[String]) -> Result<Vec<Value>, StoreError> {
        let keys: Vec<String> = ids.iter().map(|id| key(collection, id)).collect();
        let known: Vec<_> = {
            let overlay = self.overlay();
            keys.iter().map(|k| overlay.get(k)).collect()
        };
        let mut txn = None;
        let mut found = Vec::with_capacity(ids.len());
        for (key, known) in keys.iter().zip(known) {
            let bytes = match known {
                Some(Some(bytes)) => bytes,
                Some(None) => continue,
                None => {
                    let txn = match &mut txn {
                        Some(txn) => txn,
                        None => txn.insert(self.inner.db.begin_read().map_err(store_err)?),
                    };
                    let table = txn.open_table(DOCS).map_err(store_err)?;
                    match table.get(key.as_str()).map_err(store_err)? {
                        Some(stored) => Bytes::from(stored.value()),
                        None => continue,
                    }
                }
            };
            found.push(parse(&bytes)?);
        }
        Ok(found)
    }
}

fn create_tables(db: &Database) -> Result<(), StoreError> {
    let txn = db.begin_write().map_err(store_err)?;
    txn.open_table(DOCS).map_err(store_err)?;
    txn.open_table(CHECKPOINTS).map_err(store_err)?;
    txn.open_table(META).map_err(store_err)?;
    txn.commit().map_err(store_err)
}

fn stored_checkpoints(db: &Database) -> Result<Checkpoints, StoreError> {
    let txn = db.begin_read().map_err(store_err)?;
    let table = txn.open_table(CHECKPOINTS).map_err(store_err)?;
    let mut checkpoints = Checkpoints::new();
    for entry in table.iter().map_err(store_err)? {
        let (partition, offset) = entry.map_err(store_err)?;
        checkpoints.insert(partition.value(), offset.value());
    }
    Ok(checkpoints)
}

/// Writes one flush: its documents and checkpoints in one transaction.
fn write(db: &Database, changes: &Changes, checkpoints: &Checkpoints) -> Result<(), StoreError> {
    let txn = db.begin_write().map_err(store_err)?;
    {
        let mut table = txn.open_table(CHECKPOINTS).map_err(store_err)?;
        for (partition, offset) in checkpoints {
            table.insert(*partition, *offset).map_err(store_err)?;
        }
        let mut docs = txn.open_table(DOCS).map_err(store_err)?;
        for (key, doc) in changes {
            match doc {
                Some(bytes) => docs.insert(key.as_str(), &bytes[..]).map(drop),
                None => docs.remove(key.as_str()).map(drop),
            }
            .map_err(store_err)?;
        }
    }
    txn.commit().map_err(store_err)
}

/// The flusher thread: flushes when asked, or every `FLUSH_EVERY`; ends
/// when its `Flusher` is dropped.
fn flusher(inner: &Inner, wake: &Wake) {
    loop {
        {
            let asked = wake.asked.lock().expect("flusher lock");
            let (mut asked, _) = wake
                .condvar
                .wait_timeout_while(asked, FLUSH_EVERY, |asked| !asked.flush && !asked.stop)
                .expect("flusher lock");
            if asked.stop {
                return;
            }
            asked.flush = false;
        }
        let started = inner.overlay.write().expect("overlay lock").begin_flush();
        if let Some((changes, checkpoints)) = started {
            match write(&inner.db, &changes, &checkpoints) {
                Ok(()) => inner.overlay.write().expect("overlay lock").end_flush(),
                Err(e) => {
                    // Kept in the overlay (still readable); retried next time.
                    tracing::error!(error = %e, changes = changes.len(), "flushing the read models");
                    std::thread::sleep(FLUSH_EVERY);
                    let mut overlay = inner.overlay.write().expect("overlay lock");
                    overlay.requeue();
                }
            }
        }
        inner.flushed.notify_waiters();
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
        Ok(self.overlay().checkpoints.clone())
    }

    async fn commit(&self, changes: Vec<Change>, partition: u32, from: u64, to: u64) -> Result<(), StoreError> {
        self.wait_for(|o| o.pending() < PENDING_MAX).await;
        let mut encoded = Vec::with_capacity(changes.len());
        for change in changes {
            encoded.push(match change {
                Change::Put { collection, id, doc } => (
                    key(collection, &id),
                    Some(Bytes::from(serde_json::to_vec(&doc).map_err(store_err)?)),
                ),
                Change::Delete { collection, id } => (key(collection, &id), None),
            });
        }
        let pending = {
            let mut overlay = self.overlay_mut();
            let current = overlay.checkpoints.get(&partition).copied().unwrap_or(0);
            if current != from {
                return Err(StoreError(format!(
                    "checkpoint of partition {partition} is {current}, the batch expected {from}: \
                     another projector is running"
                )));
            }
            for (key, doc) in encoded {
                overlay.put(key, doc);
            }
            overlay.checkpoints.insert(partition, to);
            overlay.pending()
        };
        if pending >= FLUSH_AT {
            self.wake_flusher();
        }
        Ok(())
    }

    async fn flush(&self) -> Result<(), StoreError> {
        self.wait_for(Overlay::is_empty).await;
        Ok(())
    }

    async fn reset(&self) -> Result<(), StoreError> {
        self.flush().await?;
        let store = self.clone();
        blocking(move || {
            let db = &store.inner.db;
            let txn = db.begin_write().map_err(store_err)?;
            txn.delete_table(DOCS).map_err(store_err)?;
            txn.delete_table(CHECKPOINTS).map_err(store_err)?;
            txn.delete_table(META).map_err(store_err)?;
            txn.commit().map_err(store_err)?;
            create_tables(db)?;
            store.overlay_mut().clear();
            Ok(())
        })
        .await
    }

    /// The file goes with its directory; emptying it is all there is to do.
    async fn destroy(&self) -> Result<(), StoreError> {
        self.reset().await
    }

    async fn documents(&self, collection: &str) -> Result<Vec<(String, Value)>, StoreError> {
        self.flush().await?;
        let store = self.clone();
        let collection = collection.to_owned();
        blocking(move || {
            let txn = store.inner.db.begin_read().map_err(store_err)?;
            let table = txn.open_table(DOCS).map_err(store_err)?;
            let (start, end) = (key(&collection, ""), key(&collection, &prefix_end("")));
            let skip = collection.len() + 1;
            let mut found = Vec::new();
            for entry in table.range(start.as_str()..end.as_str()).map_err(store_err)? {
                let (k, bytes) = entry.map_err(store_err)?;
                found.push((k.value()[skip..].to_owned(), parse(bytes.value())?));
            }
            Ok(found)
        })
        .await
    }

    async fn format(&self) -> Result<Option<u32>, StoreError> {
        let store = self.clone();
        blocking(move || {
            let txn = store.inner.db.begin_read().map_err(store_err)?;
            let table = txn.open_table(META).map_err(store_err)?;
            Ok(table.get(FORMAT_KEY).map_err(store_err)?.map(|v| v.value()))
        })
        .await
    }

    async fn set_format(&self, format: u32) -> Result<(), StoreError> {
        self.flush().await?;
        let store = self.clone();
        blocking(move || {
            let txn = store.inner.db.begin_write().map_err(store_err)?;
            txn.open_table(META)
                .map_err(store_err)?
                .insert(FORMAT_KEY, format)
                .map_err(store_err)?;
            txn.commit().map_err(store_err)
        })
        .await
    }

    async fn replace(&self, collection: &str, docs: Vec<(String, Value)>) -> Result<(), StoreError> {
        self.flush().await?;
        let store = self.clone();
        let collection = collection.to_owned();
        blocking(move || {
            let txn = store.inner.db.begin_write().map_err(store_err)?;
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
            store.flush().await.unwrap();
        }
        let store = EmbeddedStore::open(dir.path()).unwrap();
        assert_eq!(store.checkpoints().await.unwrap(), Checkpoints::from([(0, 3)]));
        store.reset().await.unwrap();
        assert!(store.checkpoints().await.unwrap().is_empty());
        assert_eq!(store.get("things", "a").await.unwrap(), None);
    }

    /// What a crash leaves: the last flush, documents and checkpoint
    /// together; the batches after it are replayed from the log.
    #[tokio::test]
    async fn unflushed_batches_are_lost_together_with_their_checkpoint() {
        let dir = tempfile::tempdir().unwrap();
        {
            let store = EmbeddedStore::open(dir.path()).unwrap();
            store.commit(vec![put("a", 1)], 0, 0, 3).await.unwrap();
            store.flush().await.unwrap();
            store.commit(vec![put("a", 2), put("b", 2)], 0, 3, 5).await.unwrap();
            assert_eq!(store.get("things", "a").await.unwrap(), Some(json!({"n": 2})));
        }
        let store = EmbeddedStore::open(dir.path()).unwrap();
        assert_eq!(store.checkpoints().await.unwrap(), Checkpoints::from([(0, 3)]));
        assert_eq!(store.get("things", "a").await.unwrap(), Some(json!({"n": 1})));
        assert_eq!(store.get("things", "b").await.unwrap(), None);
    }

    /// Reads racing flushes: every document committed before a read is
    /// found, wherever the flush that carries it is.
    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn reads_racing_flushes_miss_nothing_committed() {
        const BATCHES: u64 = 2000;
        let dir = tempfile::tempdir().unwrap();
        let store = EmbeddedStore::open(dir.path()).unwrap();
        let writer = {
            let store = store.clone();
            tokio::spawn(async move {
                for n in 1..=BATCHES {
                    store
                        .commit(vec![put(&format!("k{n:04}"), n as i64)], 0, n - 1, n)
                        .await
                        .unwrap();
                    if n % 3 == 0 {
                        store.wake_flusher();
                    }
                    tokio::task::yield_now().await;
                }
            })
        };
        loop {
            let committed = store.checkpoints().await.unwrap().get(&0).copied().unwrap_or(0);
            let ids: Vec<String> = (1..=committed).map(|n| format!("k{n:04}")).collect();
            let found = store.get_many("things", &ids).await.unwrap();
            assert_eq!(found.len() as u64, committed, "a committed document went missing");
            let listed = store.scan_prefix("things", "").await.unwrap();
            assert!(listed.len() as u64 >= committed, "a scan lost a committed document");
            if committed == BATCHES {
                break;
            }
        }
        writer.await.unwrap();
    }

    #[tokio::test]
    async fn scans_merge_pending_changes_over_flushed_documents() {
        let dir = tempfile::tempdir().unwrap();
        let store = EmbeddedStore::open(dir.path()).unwrap();
        let list = |id: &str, n| Change::Put {
            collection: "lists",
            id: format!("1000:alice:{id}"),
            doc: json!({ "n": n }),
        };
        store
            .commit(vec![list("a", 1), list("b", 1), list("c", 1)], 0, 0, 1)
            .await
            .unwrap();
        store.flush().await.unwrap();
        let delete_b = Change::Delete {
            collection: "lists",
            id: "1000:alice:b".into(),
        };
        store
            .commit(vec![list("a", 2), delete_b, list("d", 2)], 0, 1, 2)
            .await
            .unwrap();
        let ns = |docs: Vec<Value>| docs.iter().map(|d| d["n"].as_i64().unwrap()).collect::<Vec<_>>();
        assert_eq!(ns(store.scan_prefix("lists", "1000:alice:").await.unwrap()), [2, 1, 2]);
        assert_eq!(
            ns(store.scan_after("lists", "1000:alice:", Some("a"), 1).await.unwrap()),
            [1]
        );
        store.flush().await.unwrap();
        assert_eq!(ns(store.scan_prefix("lists", "1000:alice:").await.unwrap()), [2, 1, 2]);
    }
}

//! Read models in MongoDB: one collection per read-model collection, each
//! document `{_id: <id>, _list: <list prefix of the id>, ...fields}`, list
//! collections indexed on `{_list, _id}`; checkpoints in `_checkpoints`
//! (`{_id: <partition>, offset}`). A batch and its checkpoint are one
//! multi-document transaction, so a re-delivered event is never applied
//! twice; a write conflict is retried in place with backoff, and a process
//! taking a partition over ends the session of its predecessor (see
//! `lease`). Uses only the stable API of MongoDB 6+ (CRUD, transactions,
//! `killSessions`).

use std::collections::{BTreeMap, HashMap};
use std::sync::Arc;
use std::time::{Duration, Instant};

use async_trait::async_trait;
use futures::TryStreamExt;
use mongodb::bson::{doc, Bson, Document};
use mongodb::error::{Error as MongoError, TRANSIENT_TRANSACTION_ERROR, UNKNOWN_TRANSACTION_COMMIT_RESULT};
use mongodb::{Client, ClientSession, Collection, Database, IndexModel};
use projections::{list_prefix, Change, DocSource, StoreError};
use serde_json::Value;

use super::lease::{Leases, LEASES};
use super::{Checkpoints, ReadStore};

const CHECKPOINTS: &str = "_checkpoints";
/// The store's stamp: `{_id: "format", version}`, the read-model format it
/// was built in (dropped with the database by a reset).
const META: &str = "_meta";
/// A batch whose transaction hits a transient error (a write conflict) is
/// retried for this long: longer than MongoDB's default transaction
/// lifetime (60 s), so a conflicting transaction whose session could not be
/// ended has expired before the batch gives up.
const RETRY_FOR: Duration = Duration::from_secs(90);
/// Pauses between attempts double from 5 ms up to this.
const MAX_PAUSE: Duration = Duration::from_secs(1);

/// The pause after the `attempt`-th (0-based) transient failure of a batch.
fn pause(attempt: u32) -> Duration {
    Duration::from_millis(5u64 << attempt.min(10)).min(MAX_PAUSE)
}

#[derive(Clone)]
pub struct MongoStore {
    db: Database,
    leases: Arc<Leases>,
}

fn store_err(e: impl std::fmt::Display) -> StoreError {
    StoreError(format!("mongodb: {e}"))
}

/// The field holding a document's list prefix (see `projections::LISTS`).
const LIST: &str = "_list";

fn to_json(mut doc: Document) -> Value {
    doc.remove("_id");
    doc.remove(LIST);
    Bson::Document(doc).into_relaxed_extjson()
}

impl MongoStore {
    pub async fn connect(uri: &str, database: &str) -> Result<Self, StoreError> {
        let client = Client::with_uri_str(uri).await.map_err(store_err)?;
        let db = client.database(database);
        db.run_command(doc! {"ping": 1}).await.map_err(store_err)?;
        let leases = Arc::new(Leases::new(client.clone(), db.collection(LEASES)));
        let store = MongoStore { db, leases };
        store.prepare().await?;
        Ok(store)
    }

    /// Creates every read-model collection and the list indexes up front:
    /// collections created implicitly inside concurrent transactions
    /// conflict, and lists need their index.
    async fn prepare(&self) -> Result<(), StoreError> {
        let existing = self.db.list_collection_names().await.map_err(store_err)?;
        let all = projections::PROJECTIONS
            .iter()
            .flat_map(|(_, collections)| collections.iter())
            .chain([&CHECKPOINTS, &LEASES]);
        for collection in all {
            if !existing.iter().any(|c| c == collection) {
                // Another process may create it at the same moment.
                if let Err(e) = self.db.create_collection(*collection).await {
                    tracing::debug!(error = %e, collection, "creating a read-model collection");
                }
            }
        }
        for list in projections::LISTS {
            let index = IndexModel::builder().keys(doc! {LIST: 1, "_id": 1}).build();
            self.docs(list).create_index(index).await.map_err(store_err)?;
        }
        Ok(())
    }

    fn docs(&self, collection: &str) -> Collection<Document> {
        self.db.collection(collection)
    }

    /// One attempt at a batch's transaction; aborts it on any failure.
    async fn attempt(&self, session: &mut ClientSession, batch: &BatchWrite<'_>) -> Result<(), MongoError> {
        session.start_transaction().await?;
        if let Err(e) = self.write(session, batch).await {
            let _ = session.abort_transaction().await;
            return Err(e);
        }
        loop {
            match session.commit_transaction().await {
                Err(e) if e.contains_label(UNKNOWN_TRANSACTION_COMMIT_RESULT) => continue,
                other => return other,
            }
        }
    }

    /// The writes of a batch inside its transaction: check and move the
    /// checkpoint, replace every written document (delete the old versions
    /// and the deleted documents, insert the new ones: two round trips per
    /// collection).
    async fn write(&self, session: &mut ClientSession, batch: &BatchWrite<'_>) -> Result<(), MongoError> {
        let BatchWrite {
            docs,
            partition,
            from,
            to,
        } = batch;
        let checkpoints = self.docs(CHECKPOINTS);
        let current = checkpoints
            .find_one(doc! {"_id": i64::from(*partition)})
            .session(&mut *session)
            .await?
            .and_then(|d| d.get_i64("offset").ok())
            .unwrap_or(0) as u64;
        if current != *from {
            return Err(MongoError::custom(format!(
                "checkpoint of partition {partition} is {current}, the batch expected {from}: another projector \
                 is running"
            )));
        }
        for (collection, (ids, inserts)) in docs {
            let coll = self.docs(collection);
            coll.delete_many(doc! {"_id": {"$in": ids}})
                .session(&mut *session)
                .await?;
            if !inserts.is_empty() {
                coll.insert_many(inserts).session(&mut *session).await?;
            }
        }
        checkpoints
            .update_one(
                doc! {"_id": i64::from(*partition)},
                doc! {"$set": {"offset": *to as i64}},
            )
            .upsert(true)
            .session(&mut *session)
            .await?;
        Ok(())
    }
}

/// Per collection: the ids to remove, the documents to insert.
type Replacements<'a> = BTreeMap<&'a str, (Vec<Bson>, Vec<Document>)>;

/// A projected batch, converted to BSON once for all attempts.
struct BatchWrite<'a> {
    docs: Replacements<'a>,
    partition: u32,
    from: u64,
    to: u64,
}

fn by_collection(changes: &[Change]) -> Result<Replacements<'_>, MongoError> {
    let mut docs = Replacements::new();
    for change in changes {
        match change {
            Change::Put { collection, id, doc } => {
                let mut d = mongodb::bson::to_document(doc).map_err(MongoError::custom)?;
                d.insert("_id", id.as_str());
                d.insert(LIST, list_prefix(id));
                let (ids, inserts) = docs.entry(collection).or_default();
                ids.push(Bson::from(id.as_str()));
                inserts.push(d);
            }
            Change::Delete { collection, id } => {
                docs.entry(collection).or_default().0.push(Bson::from(id.as_str()));
            }
        }
    }
    Ok(docs)
}

#[async_trait]
impl DocSource for MongoStore {
    async fn get(&self, collection: &str, id: &str) -> Result<Option<Value>, StoreError> {
        let found = self
            .docs(collection)
            .find_one(doc! {"_id": id})
            .await
            .map_err(store_err)?;
        Ok(found.map(to_json))
    }

    async fn get_many(&self, collection: &str, ids: &[String]) -> Result<Vec<Value>, StoreError> {
        let cursor = self
            .docs(collection)
            .find(doc! {"_id": {"$in": ids}})
            .await
            .map_err(store_err)?;
        let docs: Vec<Document> = cursor.try_collect().await.map_err(store_err)?;
        let mut by_id: HashMap<String, Document> = docs
            .into_iter()
            .filter_map(|d| Some((d.get_str("_id").ok()?.to_owned(), d)))
            .collect();
        Ok(ids.iter().filter_map(|id| by_id.remove(id)).map(to_json).collect())
    }

    async fn scan_prefix(&self, collection: &str, prefix: &str) -> Result<Vec<Value>, StoreError> {
        let cursor = self
            .docs(collection)
            .find(doc! {LIST: prefix})
            .sort(doc! {"_id": 1})
            .await
            .map_err(store_err)?;
        let docs: Vec<Document> = cursor.try_collect().await.map_err(store_err)?;
        Ok(docs.into_iter().map(to_json).collect())
    }

    async fn scan_after(
        &self,
        collection: &str,
        prefix: &str,
        after: Option<&str>,
        limit: usize,
    ) -> Result<Vec<Value>, StoreError> {
        let filter = match after {
            Some(after) => doc! {LIST: prefix, "_id": {"$gt": format!("{prefix}{after}")}},
            None => doc! {LIST: prefix},
        };
        let cursor = self
            .docs(collection)
            .find(filter)
            .sort(doc! {"_id": 1})
            .limit(i64::try_from(limit).unwrap_or(i64::MAX))
            .await
            .map_err(store_err)?;
        let docs: Vec<Document> = cursor.try_collect().await.map_err(store_err)?;
        Ok(docs.into_iter().map(to_json).collect())
    }
}

#[async_trait]
impl ReadStore for MongoStore {
    async fn checkpoints(&self) -> Result<Checkpoints, StoreError> {
        let cursor = self.docs(CHECKPOINTS).find(doc! {}).await.map_err(store_err)?;
        let docs: Vec<Document> = cursor.try_collect().await.map_err(store_err)?;
        Ok(docs
            .iter()
            .filter_map(|d| Some((d.get_i64("_id").ok()? as u32, d.get_i64("offset").ok()? as u64)))
            .collect())
    }

    async fn commit(&self, changes: Vec<Change>, partition: u32, from: u64, to: u64) -> Result<(), StoreError> {
        let batch = BatchWrite {
            docs: by_collection(&changes).map_err(store_err)?,
            partition,
            from,
            to,
        };
        let session = self.leases.session(partition).await.map_err(store_err)?;
        let mut session = session.lock().await;
        let started = Instant::now();
        let mut attempt = 0;
        let failed = |e: MongoError| {
            self.leases.release(partition);
            store_err(e)
        };
        loop {
            match self.attempt(&mut session, &batch).await {
                Ok(()) => return Ok(()),
                Err(e) if e.contains_label(TRANSIENT_TRANSACTION_ERROR) && started.elapsed() < RETRY_FOR => {
                    tracing::debug!(error = %e, attempt, partition, "read-model transaction conflicted; retrying");
                    if attempt == 0 {
                        // The partition may have had a holder after this
                        // process, whose open transaction conflicts.
                        self.leases.claim(partition, session.id()).await.map_err(failed)?;
                    }
                    tokio::time::sleep(pause(attempt)).await;
                    attempt += 1;
                }
                Err(e) => return Err(failed(e)),
            }
        }
    }

    /// Every commit is already durable (majority write concern).
    async fn flush(&self) -> Result<(), StoreError> {
        Ok(())
    }

    async fn reset(&self) -> Result<(), StoreError> {
        self.db.drop().await.map_err(store_err)?;
        self.prepare().await
    }

    async fn destroy(&self) -> Result<(), StoreError> {
        self.db.drop().await.map_err(store_err)
    }

    async fn documents(&self, collection: &str) -> Result<Vec<(String, Value)>, StoreError> {
        let cursor = self
            .docs(collection)
            .find(doc! {})
            .sort(doc! {"_id": 1})
            .await
            .map_err(store_err)?;
        let docs: Vec<Document> = cursor.try_collect().await.map_err(store_err)?;
        Ok(docs
            .into_iter()
            .map(|d| (d.get_str("_id").unwrap_or_default().to_owned(), to_json(d)))
            .collect())
    }

    async fn replace(&self, collection: &str, docs: Vec<(String, Value)>) -> Result<(), StoreError> {
        let target = self.docs(collection);
        target.delete_many(doc! {}).await.map_err(store_err)?;
        let mut inserts = Vec::with_capacity(docs.len());
        for (id, doc) in docs {
            let mut d = mongodb::bson::to_document(&doc).map_err(store_err)?;
            d.insert("_id", id.as_str());
            d.insert(LIST, list_prefix(&id));
            inserts.push(d);
        }
        if !inserts.is_empty() {
            target.insert_many(inserts).await.map_err(store_err)?;
        }
        Ok(())
    }

    async fn format(&self) -> Result<Option<u32>, StoreError> {
        let stamp = self
            .docs(META)
            .find_one(doc! {"_id": "format"})
            .await
            .map_err(store_err)?;
        Ok(stamp.and_then(|d| u32::try_from(d.get_i64("version").ok()?).ok()))
    }

    async fn set_format(&self, format: u32) -> Result<(), StoreError> {
        self.docs(META)
            .update_one(doc! {"_id": "format"}, doc! {"$set": {"version": i64::from(format)}})
            .upsert(true)
            .await
            .map_err(store_err)?;
        Ok(())
    }

    fn as_source(&self) -> &dyn DocSource {
        self
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pauses_double_up_to_a_bound() {
        assert_eq!(pause(0), Duration::from_millis(5));
        assert_eq!(pause(1), Duration::from_millis(10));
        assert_eq!(pause(7), Duration::from_millis(640));
        assert_eq!(pause(8), MAX_PAUSE);
        assert_eq!(pause(u32::MAX), MAX_PAUSE);
    }

    #[test]
    fn retries_outlast_the_default_transaction_lifetime() {
        assert!(RETRY_FOR > Duration::from_secs(60));
    }
}

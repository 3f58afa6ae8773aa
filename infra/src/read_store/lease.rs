//! Leases of log partitions on MongoDB read models, so that the process
//! taking over a partition's projection ends its predecessor's session.
//!
//! A projector commits each partition's batches in transactions of one
//! session of its own. A projector killed inside such a transaction leaves
//! it open: MongoDB holds the documents it wrote until it expires the
//! transaction (`transactionLifetimeLimitSeconds`, 60 s by default), and
//! until then every transaction of the successor that touches them fails
//! with a WriteConflict. So before its first transaction on a partition a
//! process records its session's id in the partition's lease document
//! (`_leases`, `{_id: <partition>, lsid, at}`, written outside any
//! transaction) and reads the previous holder's id in the same round trip;
//! if it differs, it kills that session (`killSessions`), which aborts the
//! open transaction at once. It claims again on the first write conflict of
//! a batch, in case a later holder took the partition over meanwhile (a
//! partition handed back). Per batch this costs nothing; per claim one
//! round trip, and one more to end a predecessor. A server without
//! `killSessions` (or a user not allowed to kill the session) is only
//! logged: the successor then retries until the server expires the
//! transaction.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use mongodb::bson::{doc, DateTime, Document};
use mongodb::error::Error as MongoError;
use mongodb::options::ReturnDocument;
use mongodb::{Client, ClientSession, Collection};

pub(super) const LEASES: &str = "_leases";

/// The session of a partition, used by one batch at a time.
pub(super) type PartitionSession = Arc<tokio::sync::Mutex<ClientSession>>;

/// The partitions this process holds leases of, with their sessions.
pub(super) struct Leases {
    client: Client,
    leases: Collection<Document>,
    held: Mutex<HashMap<u32, PartitionSession>>,
}

impl Leases {
    pub fn new(client: Client, leases: Collection<Document>) -> Self {
        Leases {
            client,
            leases,
            held: Mutex::default(),
        }
    }

    /// The session this process commits `partition`'s batches with; the
    /// first time, a new session that claims the partition.
    pub async fn session(&self, partition: u32) -> Result<PartitionSession, MongoError> {
        if let Some(session) = self.held.lock().expect("leases lock").get(&partition) {
            return Ok(session.clone());
        }
        let session = self.client.start_session().await?;
        self.claim(partition, session.id()).await?;
        let session = Arc::new(tokio::sync::Mutex::new(session));
        self.held
            .lock()
            .expect("leases lock")
            .insert(partition, session.clone());
        Ok(session)
    }

    /// Records `lsid` as the holder of `partition`'s lease and kills the
    /// previous holder's session, if it was another.
    pub async fn claim(&self, partition: u32, lsid: &Document) -> Result<(), MongoError> {
        let previous = self
            .leases
            .find_one_and_update(
                doc! {"_id": i64::from(partition)},
                doc! {"$set": {"lsid": lsid.clone(), "at": DateTime::now()}},
            )
            .upsert(true)
            .return_document(ReturnDocument::Before)
            .await?;
        let Some(previous) = previous.and_then(|lease| lease.get_document("lsid").ok().cloned()) else {
            return Ok(());
        };
        if previous == *lsid {
            return Ok(());
        }
        let killed = self
            .client
            .database("admin")
            .run_command(doc! {"killSessions": [previous]})
            .await;
        match killed {
            Ok(_) => tracing::info!(partition, "ended the previous lease holder's session"),
            Err(e) => tracing::warn!(
                partition,
                error = %e,
                "cannot end the previous lease holder's session; its open transaction ends when the server \
                 expires it"
            ),
        }
        Ok(())
    }

    /// Forgets this process's session of `partition` (after a failure:
    /// another process may hold the partition now); the next batch claims
    /// the partition again with a new session.
    pub fn release(&self, partition: u32) {
        self.held.lock().expect("leases lock").remove(&partition);
    }
}

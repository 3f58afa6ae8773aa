//! The scale-out deployment's key store: MongoDB collection `keys` of its
//! own database (apart from the read models, which a rebuild drops), one
//! document per owner `{_id: hex SHA-256 of the owner, key?: base64,
//! erased: bool}`, written with majority write concern and journaling.
//! Erasing unsets the key; MongoDB's storage engine reclaims the old bytes
//! as it reuses the space.

use async_trait::async_trait;
use base64::engine::general_purpose::STANDARD as B64;
use base64::Engine;
use mongodb::bson::{doc, Document};
use mongodb::error::{ErrorKind, WriteFailure};
use mongodb::options::WriteConcern;
use mongodb::{Client, Collection};

use super::{Key, KeyStore, Owner, Stored, VaultError};

const DUPLICATE_KEY: i32 = 11000;

#[derive(Clone)]
pub struct MongoKeyStore {
    keys: Collection<Document>,
}

fn mongo_err(e: impl std::fmt::Display) -> VaultError {
    VaultError(format!("mongodb: {e}"))
}

fn id(owner: &Owner) -> String {
    owner.digest().iter().map(|b| format!("{b:02x}")).collect()
}

fn stored(doc: Option<Document>) -> Result<Stored, VaultError> {
    let Some(doc) = doc else { return Ok(Stored::Absent) };
    if doc.get_bool("erased").unwrap_or(false) {
        return Ok(Stored::Erased);
    }
    let key = doc.get_str("key").map_err(mongo_err)?;
    let key: Key = B64
        .decode(key)
        .ok()
        .and_then(|k| k.try_into().ok())
        .ok_or_else(|| VaultError("mongodb: a stored key is not 32 bytes".into()))?;
    Ok(Stored::Live(key))
}

impl MongoKeyStore {
    pub async fn connect(uri: &str, database: &str) -> Result<Self, VaultError> {
        let client = Client::with_uri_str(uri).await.map_err(mongo_err)?;
        let db = client.database(database);
        db.run_command(doc! {"ping": 1}).await.map_err(mongo_err)?;
        let durable = WriteConcern::builder()
            .w(mongodb::options::Acknowledgment::Majority)
            .journal(true)
            .build();
        let keys = db.collection_with_options(
            "keys",
            mongodb::options::CollectionOptions::builder()
                .write_concern(durable)
                .build(),
        );
        Ok(MongoKeyStore { keys })
    }
}

#[async_trait]
impl KeyStore for MongoKeyStore {
    async fn load(&self, owner: &Owner) -> Result<Stored, VaultError> {
        stored(self.keys.find_one(doc! {"_id": id(owner)}).await.map_err(mongo_err)?)
    }

    async fn create(&self, owner: &Owner, key: Key) -> Result<Stored, VaultError> {
        let doc = doc! {"_id": id(owner), "key": B64.encode(key), "erased": false};
        match self.keys.insert_one(doc).await {
            Ok(_) => Ok(Stored::Live(key)),
            Err(e) => match *e.kind {
                // Another node created (or erased) it first.
                ErrorKind::Write(WriteFailure::WriteError(ref w)) if w.code == DUPLICATE_KEY => self.load(owner).await,
                _ => Err(mongo_err(e)),
            },
        }
    }

    async fn erase(&self, owner: &Owner) -> Result<(), VaultError> {
        self.keys
            .update_one(
                doc! {"_id": id(owner)},
                doc! {"$set": {"erased": true}, "$unset": {"key": ""}},
            )
            .upsert(true)
            .await
            .map_err(mongo_err)?;
        Ok(())
    }
}

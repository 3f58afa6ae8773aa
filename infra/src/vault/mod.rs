//! Personal data and the keys that seal it (crypto-shredding).
//!
//! Every personal field (a user's nickname, faceURL and ex, a message's
//! content and sender nickname and face) is sealed with its owner's key by
//! the API node before the command is decided, so the command queue, the
//! event log, the write side's changelog and the read models only ever hold
//! it sealed (see [`seal`]). Keys live outside the log, in a [`KeyStore`].
//! The API opens sealed fields when it answers. Erasing a user's key makes
//! all of them read "[erased]", everywhere, for good: an erased user's later
//! personal fields are stored as "[erased]" too.

mod embedded;
mod mongo;
pub mod seal;

use std::collections::{HashMap, HashSet};
use std::sync::{Arc, RwLock};
use std::time::{Duration, Instant};

use async_trait::async_trait;
use commands::PersonalFields;
use serde_json::Value;

pub use embedded::FileKeyStore;
pub use mongo::MongoKeyStore;
pub use seal::{Key, Owner, ERASED};

#[derive(Debug, thiserror::Error)]
#[error("key store: {0}")]
pub struct VaultError(pub String);

/// What a key store holds for an owner.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Stored {
    Live(Key),
    Erased,
    Absent,
}

/// Where keys are kept: durably, and outside the event log.
#[async_trait]
pub trait KeyStore: Send + Sync {
    async fn load(&self, owner: &Owner) -> Result<Stored, VaultError>;
    /// Keeps `key` as the owner's unless the owner has a key or had one
    /// erased; returns what the store holds for the owner afterwards.
    /// Durable when it returns.
    async fn create(&self, owner: &Owner, key: Key) -> Result<Stored, VaultError>;
    /// Destroys the owner's key for good (and refuses new ones). Durable
    /// when it returns.
    async fn erase(&self, owner: &Owner) -> Result<(), VaultError>;
}

/// How long a node trusts a cached live key without asking the store
/// again: erasures made through another node reach this one through its
/// tail of the log (`UserForgotten`) at once, and through this bound even
/// if its tail is down.
pub const CACHED_KEY_TTL: Duration = Duration::from_secs(60);

/// Seals and opens personal fields, with the keys of a [`KeyStore`]
/// cached in memory.
pub struct Vault {
    store: Arc<dyn KeyStore>,
    /// What the store held for an owner, and when it was read.
    cache: RwLock<HashMap<Owner, (Stored, Instant)>>,
    ttl: Duration,
}

impl Vault {
    pub fn new(store: Arc<dyn KeyStore>) -> Self {
        Vault::with_cache_ttl(store, CACHED_KEY_TTL)
    }

    pub fn with_cache_ttl(store: Arc<dyn KeyStore>, ttl: Duration) -> Self {
        Vault {
            store,
            cache: RwLock::default(),
            ttl,
        }
    }

    /// A cached erasure holds for good (it cannot be undone); a cached
    /// live key for the TTL.
    fn cached(&self, owner: &Owner) -> Option<Stored> {
        let cache = self.cache.read().expect("vault cache");
        let (stored, at) = cache.get(owner)?;
        (*stored == Stored::Erased || at.elapsed() < self.ttl).then_some(*stored)
    }

    fn remember(&self, owner: &Owner, stored: Stored) {
        if stored != Stored::Absent {
            let mut cache = self.cache.write().expect("vault cache");
            cache.insert(owner.clone(), (stored, Instant::now()));
        }
    }

    async fn load(&self, owner: &Owner) -> Result<Stored, VaultError> {
        if let Some(stored) = self.cached(owner) {
            return Ok(stored);
        }
        let stored = self.store.load(owner).await?;
        self.remember(owner, stored);
        Ok(stored)
    }

    /// The owner's key, created on first use; None once erased.
    async fn sealing_key(&self, owner: &Owner) -> Result<Option<Key>, VaultError> {
        let stored = match self.load(owner).await? {
            Stored::Absent => {
                let stored = self.store.create(owner, seal::new_key()).await?;
                self.remember(owner, stored);
                stored
            }
            stored => stored,
        };
        Ok(match stored {
            Stored::Live(key) => Some(key),
            Stored::Erased | Stored::Absent => None,
        })
    }

    /// Seals a command's personal fields with their owner's key. A field
    /// that is already a box of the owner's (a nickname copied from the read
    /// models) is kept as it is; anything else is sealed, even text that only
    /// looks sealed. An erased owner's fields become "[erased]".
    pub async fn seal(&self, tenant: &str, fields: PersonalFields<'_>) -> Result<(), VaultError> {
        let owner = Owner::new(tenant, fields.owner);
        let key = self.sealing_key(&owner).await?;
        let Some(key) = key else {
            fields.texts.into_iter().for_each(|t| *t = ERASED.to_owned());
            fields
                .values
                .into_iter()
                .for_each(|v| *v = Value::String(ERASED.to_owned()));
            return Ok(());
        };
        let sealed_already = |text: &str| seal::open(text, &owner, &key).is_some();
        for text in fields.texts {
            if !sealed_already(text) {
                *text = seal::seal(&owner, &key, &Value::String(std::mem::take(text)));
            }
        }
        for value in fields.values {
            if !value.as_str().is_some_and(sealed_already) {
                *value = Value::String(seal::seal(&owner, &key, value));
            }
        }
        Ok(())
    }

    /// Opens every sealed text in `value`, in place: to what was sealed, or
    /// "[erased]" if its owner's key is gone (or the text is not a box of
    /// its owner).
    pub async fn open(&self, value: &mut Value) -> Result<(), VaultError> {
        let mut owners = HashSet::new();
        visit(value, &mut |text| {
            if let Some(owner) = seal::owner_of(text) {
                owners.insert(owner);
            }
        });
        let mut keys = HashMap::new();
        for owner in owners {
            let key = match self.load(&owner).await? {
                Stored::Live(key) => Some(key),
                Stored::Erased | Stored::Absent => None,
            };
            keys.insert(owner, key);
        }
        open_all(value, &keys);
        Ok(())
    }

    /// [`Vault::open`] of one text.
    pub async fn open_text(&self, text: &str) -> Result<String, VaultError> {
        if !seal::is_sealed(text) {
            return Ok(text.to_owned());
        }
        let mut value = Value::String(text.to_owned());
        self.open(&mut value).await?;
        Ok(match value {
            Value::String(s) => s,
            other => other.to_string(),
        })
    }

    /// Erases the user's key: its personal fields read "[erased]" from now
    /// on, and later ones are stored as "[erased]".
    pub async fn forget(&self, tenant: &str, user_id: &str) -> Result<(), VaultError> {
        let owner = Owner::new(tenant, user_id);
        self.store.erase(&owner).await?;
        self.remember(&owner, Stored::Erased);
        Ok(())
    }

    /// Drops what this node cached of the user's key (another node erased
    /// it).
    pub fn evict(&self, tenant: &str, user_id: &str) {
        self.cache
            .write()
            .expect("vault cache")
            .remove(&Owner::new(tenant, user_id));
    }
}

/// Calls `f` on every string in `value` that may be sealed.
fn visit(value: &Value, f: &mut impl FnMut(&str)) {
    match value {
        Value::String(s) if seal::is_sealed(s) => f(s),
        Value::Array(items) => items.iter().for_each(|v| visit(v, f)),
        Value::Object(fields) => fields.values().for_each(|v| visit(v, f)),
        _ => {}
    }
}

fn open_all(value: &mut Value, keys: &HashMap<Owner, Option<Key>>) {
    match value {
        Value::String(s) if seal::is_sealed(s) => {
            let opened = seal::owner_of(s).and_then(|owner| {
                let key = keys.get(&owner)?.as_ref()?;
                seal::open(s, &owner, key)
            });
            *value = opened.unwrap_or_else(|| Value::String(ERASED.to_owned()));
        }
        Value::Array(items) => items.iter_mut().for_each(|v| open_all(v, keys)),
        Value::Object(fields) => fields.values_mut().for_each(|v| open_all(v, keys)),
        _ => {}
    }
}

#[cfg(test)]
mod tests {
    use commands::message::NewMessage;
    use commands::pair::PairCommand;
    use commands::Command;
    use serde_json::json;

    use super::*;

    fn message(content: Value) -> Command {
        Command::Pair(PairCommand::SendMsg {
            message: NewMessage {
                send_id: "alice".into(),
                recv_id: "bob".into(),
                group_id: String::new(),
                client_msg_id: "c1".into(),
                server_msg_id: "s1".into(),
                sender_nickname: "Alice Liddell".into(),
                sender_face_url: "https://f/alice.png".into(),
                content_type: 101,
                content,
                ex: String::new(),
            },
            recipient_exists: true,
            friend_verify: false,
        })
    }

    fn as_json(command: &Command) -> Value {
        serde_json::to_value(command).unwrap()
    }

    async fn vault() -> (tempfile::TempDir, Vault) {
        let dir = tempfile::tempdir().unwrap();
        let store = FileKeyStore::open(&dir.path().join("personal-keys")).await.unwrap();
        (dir, Vault::new(Arc::new(store)))
    }

    #[tokio::test]
    async fn sealed_fields_open_until_the_owner_is_forgotten() {
        let (_dir, vault) = vault().await;
        let mut command = message(json!({"content": "the tarts are in the oven"}));
        vault.seal("1000", command.personal_fields().unwrap()).await.unwrap();
        let mut stored = as_json(&command);
        let text = stored.to_string();
        assert!(!text.contains("tarts") && !text.contains("Liddell") && !text.contains("alice.png"));

        let mut opened = stored.clone();
        vault.open(&mut opened).await.unwrap();
        assert_eq!(
            opened,
            as_json(&message(json!({"content": "the tarts are in the oven"})))
        );

        vault.forget("1000", "alice").await.unwrap();
        vault.open(&mut stored).await.unwrap();
        let message = &stored["Pair"]["SendMsg"]["message"];
        assert_eq!(message["content"], ERASED);
        assert_eq!(message["sender_nickname"], ERASED);
        assert_eq!(message["sender_face_url"], ERASED);
        assert_eq!(message["client_msg_id"], "c1", "only personal fields are sealed");
    }

    #[tokio::test]
    async fn a_node_notices_an_erasure_made_elsewhere_once_its_cached_key_expires() {
        let dir = tempfile::tempdir().unwrap();
        let keys = Arc::new(FileKeyStore::open(&dir.path().join("personal-keys")).await.unwrap());
        let this_node = Vault::with_cache_ttl(keys.clone(), Duration::from_millis(50));
        let other_node = Vault::new(keys);
        let mut command = message(json!("hello"));
        this_node
            .seal("1000", command.personal_fields().unwrap())
            .await
            .unwrap();
        let stored = as_json(&command);

        other_node.forget("1000", "alice").await.unwrap();
        let mut seen = stored.clone();
        this_node.open(&mut seen).await.unwrap();
        assert_eq!(
            seen["Pair"]["SendMsg"]["message"]["content"], "hello",
            "the cached key, until it expires"
        );
        tokio::time::sleep(Duration::from_millis(60)).await;
        let mut seen = stored;
        this_node.open(&mut seen).await.unwrap();
        assert_eq!(seen["Pair"]["SendMsg"]["message"]["content"], ERASED);
    }

    #[tokio::test]
    async fn text_that_only_looks_sealed_is_sealed_all_the_same() {
        let (_dir, vault) = vault().await;
        let crafted = "\u{1}ps1.MTAwMABhbGljZQ.not-a-box-SECRET";
        let mut command = message(json!(crafted));
        vault.seal("1000", command.personal_fields().unwrap()).await.unwrap();
        let stored = as_json(&command);
        assert!(!stored.to_string().contains("SECRET"), "{stored}");
        let mut opened = stored;
        vault.open(&mut opened).await.unwrap();
        assert_eq!(opened["Pair"]["SendMsg"]["message"]["content"], crafted);
    }

    #[tokio::test]
    async fn a_forgotten_users_new_personal_fields_are_never_stored() {
        let (_dir, vault) = vault().await;
        vault.forget("1000", "alice").await.unwrap();
        let mut command = message(json!({"content": "after"}));
        vault.seal("1000", command.personal_fields().unwrap()).await.unwrap();
        assert_eq!(as_json(&command)["Pair"]["SendMsg"]["message"]["content"], ERASED);
    }

    #[tokio::test]
    async fn already_sealed_fields_are_kept_and_other_tenants_keys_are_apart() {
        let (_dir, vault) = vault().await;
        let mut first = message(json!("hi"));
        vault.seal("1000", first.personal_fields().unwrap()).await.unwrap();
        let sealed_nickname = as_json(&first)["Pair"]["SendMsg"]["message"]["sender_nickname"].clone();
        let mut second = message(json!("again"));
        if let Command::Pair(PairCommand::SendMsg { message, .. }) = &mut second {
            message.sender_nickname = sealed_nickname.as_str().unwrap().to_owned();
        }
        vault.seal("1000", second.personal_fields().unwrap()).await.unwrap();
        assert_eq!(
            as_json(&second)["Pair"]["SendMsg"]["message"]["sender_nickname"],
            sealed_nickname
        );

        let mut other_tenant = message(json!("hello"));
        vault
            .seal("2000", other_tenant.personal_fields().unwrap())
            .await
            .unwrap();
        vault.forget("1000", "alice").await.unwrap();
        let mut stored = as_json(&other_tenant);
        vault.open(&mut stored).await.unwrap();
        assert_eq!(stored["Pair"]["SendMsg"]["message"]["content"], "hello");
    }
}

//! The embedded deployment's key store: one file of fixed 128-byte slots,
//! `[state u8][SHA-256 of the owner][key 32][zeros][crc32]`, state 1 live
//! or 2 erased. A new key is appended and synced before it seals anything;
//! erasing overwrites the owner's slot in place (zeroing the key bytes on
//! disk) and syncs. A slot that fails its checksum (a write torn by a
//! crash) holds no usable key: a torn new key never sealed anything, and a
//! torn erasure was meant to destroy the key anyway.

use std::collections::HashMap;
use std::fs::File;
use std::io::Read;
use std::os::unix::fs::FileExt;
use std::path::Path;
use std::sync::{Arc, Mutex, RwLock};

use async_trait::async_trait;

use super::{Key, KeyStore, Owner, Stored, VaultError};
use crate::private_fs;

const SLOT: usize = 128;
const LIVE: u8 = 1;
const ERASED: u8 = 2;

/// Owner digest -> (slot index, what it holds).
type Index = HashMap<[u8; 32], (u64, Stored)>;

/// The file and its length in slots; its lock serializes the writers.
struct Slots {
    file: File,
    len: u64,
}

/// Lookups read the index, apart from the file's lock: they never wait for
/// a writer's sync. A writer updates the index once its slot is synced.
#[derive(Clone)]
pub struct FileKeyStore {
    slots: Arc<Mutex<Slots>>,
    index: Arc<RwLock<Index>>,
}

fn io_err(e: impl std::fmt::Display) -> VaultError {
    VaultError(e.to_string())
}

fn encode(digest: &[u8; 32], stored: Stored) -> [u8; SLOT] {
    let mut slot = [0; SLOT];
    slot[1..33].copy_from_slice(digest);
    match stored {
        Stored::Live(key) => {
            slot[0] = LIVE;
            slot[33..65].copy_from_slice(&key);
        }
        Stored::Erased | Stored::Absent => slot[0] = ERASED,
    }
    let crc = crc32fast::hash(&slot[..SLOT - 4]);
    slot[SLOT - 4..].copy_from_slice(&crc.to_le_bytes());
    slot
}

fn decode(slot: &[u8]) -> Option<([u8; 32], Stored)> {
    let crc = u32::from_le_bytes(slot[SLOT - 4..].try_into().ok()?);
    if crc32fast::hash(&slot[..SLOT - 4]) != crc {
        return None;
    }
    let digest: [u8; 32] = slot[1..33].try_into().ok()?;
    match slot[0] {
        LIVE => Some((digest, Stored::Live(slot[33..65].try_into().ok()?))),
        ERASED => Some((digest, Stored::Erased)),
        _ => None,
    }
}

impl FileKeyStore {
    pub async fn open(path: &Path) -> Result<Self, VaultError> {
        let path = path.to_owned();
        tokio::task::spawn_blocking(move || Self::open_blocking(&path))
            .await
            .map_err(io_err)?
    }

    fn open_blocking(path: &Path) -> Result<Self, VaultError> {
        let existed = path.exists();
        let mut file = private_fs::options()
            .read(true)
            .write(true)
            .create(true)
            .truncate(false)
            .open(path)
            .map_err(|e| VaultError(format!("{}: {e}", path.display())))?;
        private_fs::restrict(&file).map_err(io_err)?;
        if !existed {
            if let Some(dir) = path.parent() {
                File::open(dir).and_then(|d| d.sync_all()).map_err(io_err)?;
            }
        }
        let mut bytes = Vec::new();
        file.read_to_end(&mut bytes).map_err(io_err)?;
        let mut index = HashMap::new();
        for (i, slot) in bytes.chunks_exact(SLOT).enumerate() {
            let at = i as u64;
            match decode(slot) {
                Some((digest, stored)) => {
                    index.insert(digest, (at, stored));
                }
                None => tracing::warn!(slot = at, "unreadable key slot (torn write): its key is unusable"),
            }
        }
        // A torn append leaves a partial slot at the end: new slots start
        // after it, on a slot boundary.
        let len = bytes.len().div_ceil(SLOT) as u64;
        Ok(FileKeyStore {
            slots: Arc::new(Mutex::new(Slots { file, len })),
            index: Arc::new(RwLock::new(index)),
        })
    }

    fn lookup(&self, digest: &[u8; 32]) -> Option<(u64, Stored)> {
        self.index.read().expect("key index").get(digest).copied()
    }

    /// Runs a writer on a blocking thread, holding the file's lock.
    async fn with_slots<T: Send + 'static>(
        &self,
        f: impl FnOnce(&FileKeyStore, &mut Slots) -> Result<T, VaultError> + Send + 'static,
    ) -> Result<T, VaultError> {
        let store = self.clone();
        tokio::task::spawn_blocking(move || f(&store, &mut store.slots.lock().expect("key slots")))
            .await
            .map_err(io_err)?
    }

    fn write(&self, slots: &mut Slots, at: u64, digest: &[u8; 32], stored: Stored) -> Result<(), VaultError> {
        slots
            .file
            .write_all_at(&encode(digest, stored), at * SLOT as u64)
            .and_then(|()| slots.file.sync_data())
            .map_err(io_err)?;
        self.index.write().expect("key index").insert(*digest, (at, stored));
        Ok(())
    }

    fn append(&self, slots: &mut Slots, digest: &[u8; 32], stored: Stored) -> Result<(), VaultError> {
        let at = slots.len;
        self.write(slots, at, digest, stored)?;
        slots.len += 1;
        Ok(())
    }
}

#[async_trait]
impl KeyStore for FileKeyStore {
    async fn load(&self, owner: &Owner) -> Result<Stored, VaultError> {
        Ok(self.lookup(&owner.digest()).map_or(Stored::Absent, |(_, s)| s))
    }

    async fn create(&self, owner: &Owner, key: Key) -> Result<Stored, VaultError> {
        let digest = owner.digest();
        self.with_slots(move |store, slots| {
            if let Some((_, stored)) = store.lookup(&digest) {
                return Ok(stored);
            }
            store.append(slots, &digest, Stored::Live(key))?;
            Ok(Stored::Live(key))
        })
        .await
    }

    async fn erase(&self, owner: &Owner) -> Result<(), VaultError> {
        let digest = owner.digest();
        self.with_slots(move |store, slots| match store.lookup(&digest) {
            Some((_, Stored::Erased)) => Ok(()),
            Some((at, _)) => store.write(slots, at, &digest, Stored::Erased),
            None => store.append(slots, &digest, Stored::Erased),
        })
        .await
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    async fn store(dir: &Path) -> FileKeyStore {
        FileKeyStore::open(&dir.join("personal-keys")).await.unwrap()
    }

    #[tokio::test]
    async fn keys_survive_a_restart_and_erasing_wipes_the_key_bytes_from_the_file() {
        let dir = tempfile::tempdir().unwrap();
        let alice = Owner::new("1000", "alice");
        let bob = Owner::new("1000", "bob");
        let (ka, kb) = (super::super::seal::new_key(), super::super::seal::new_key());
        {
            let keys = store(dir.path()).await;
            assert_eq!(keys.create(&alice, ka).await.unwrap(), Stored::Live(ka));
            assert_eq!(keys.create(&bob, kb).await.unwrap(), Stored::Live(kb));
            assert_eq!(
                keys.create(&alice, [7; 32]).await.unwrap(),
                Stored::Live(ka),
                "a key is never replaced"
            );
        }
        let keys = store(dir.path()).await;
        assert_eq!(keys.load(&alice).await.unwrap(), Stored::Live(ka));
        keys.erase(&alice).await.unwrap();
        assert_eq!(keys.load(&alice).await.unwrap(), Stored::Erased);
        assert_eq!(keys.create(&alice, [9; 32]).await.unwrap(), Stored::Erased);

        let bytes = std::fs::read(dir.path().join("personal-keys")).unwrap();
        assert!(!bytes.windows(32).any(|w| w == ka), "alice's key is gone from the disk");
        assert!(bytes.windows(32).any(|w| w == kb), "bob's key is kept");
        assert!(!bytes.windows(5).any(|w| w == b"alice"), "the file names no user");

        let keys = store(dir.path()).await;
        assert_eq!(keys.load(&alice).await.unwrap(), Stored::Erased);
        assert_eq!(keys.load(&bob).await.unwrap(), Stored::Live(kb));
        assert_eq!(keys.load(&Owner::new("1000", "carol")).await.unwrap(), Stored::Absent);
    }

    #[tokio::test]
    async fn a_torn_slot_holds_no_key_and_later_slots_still_append() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("personal-keys");
        let alice = Owner::new("1000", "alice");
        store(dir.path()).await.create(&alice, [1; 32]).await.unwrap();
        // A crash in the middle of appending the next slot.
        let mut bytes = std::fs::read(&path).unwrap();
        bytes.extend_from_slice(&[LIVE, 0xAB, 0xCD]);
        bytes[40] ^= 0xFF; // and alice's slot damaged
        std::fs::write(&path, &bytes).unwrap();

        let keys = store(dir.path()).await;
        assert_eq!(keys.load(&alice).await.unwrap(), Stored::Absent);
        let bob = Owner::new("1000", "bob");
        keys.create(&bob, [2; 32]).await.unwrap();
        let keys = store(dir.path()).await;
        assert_eq!(keys.load(&bob).await.unwrap(), Stored::Live([2; 32]));
    }
}

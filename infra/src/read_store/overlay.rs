//! The embedded store's write-back layer: committed changes not yet written
//! to redb, newest per key, readable at once. A flush moves everything
//! pending aside (`flushing`, still readable), writes it to redb in one
//! transaction with the checkpoints it belongs to, then drops it. Lookups
//! ask the pending changes first, then those being flushed, then redb.

use std::collections::BTreeMap;
use std::ops::Bound;
use std::sync::Arc;

use super::Checkpoints;

/// A stored document, serialized.
pub type Bytes = Arc<[u8]>;
/// Documents by `collection/id`; `None` is a deletion.
pub type Changes = BTreeMap<String, Option<Bytes>>;

#[derive(Default)]
pub struct Overlay {
    pending: Changes,
    flushing: Arc<Changes>,
    /// The checkpoints as of the last commit (redb holds those of the last
    /// flush).
    pub checkpoints: Checkpoints,
}

/// What the overlay knows of a key: `Some(None)` deleted, `None` nothing.
pub type Known = Option<Option<Bytes>>;

impl Overlay {
    pub fn new(checkpoints: Checkpoints) -> Self {
        Overlay {
            checkpoints,
            ..Overlay::default()
        }
    }

    pub fn get(&self, key: &str) -> Known {
        self.pending.get(key).or_else(|| self.flushing.get(key)).cloned()
    }

    pub fn put(&mut self, key: String, doc: Option<Bytes>) {
        self.pending.insert(key, doc);
    }

    /// Changes waiting for a flush.
    pub fn pending(&self) -> usize {
        self.pending.len()
    }

    pub fn is_empty(&self) -> bool {
        self.pending.is_empty() && self.flushing.is_empty()
    }

    /// The newest change of every key in the range, in key order.
    pub fn range(&self, start: Bound<&str>, end: Bound<&str>) -> Vec<(String, Option<Bytes>)> {
        let mut merged: BTreeMap<&str, &Option<Bytes>> = BTreeMap::new();
        for changes in [&*self.flushing, &self.pending] {
            for (key, doc) in changes.range::<str, _>((start, end)) {
                merged.insert(key, doc);
            }
        }
        merged.into_iter().map(|(k, d)| (k.to_owned(), d.clone())).collect()
    }

    /// Starts a flush: what to write, and the checkpoints to write with it.
    /// None if nothing is pending or a flush is under way.
    pub fn begin_flush(&mut self) -> Option<(Arc<Changes>, Checkpoints)> {
        if self.pending.is_empty() || !self.flushing.is_empty() {
            return None;
        }
        self.flushing = Arc::new(std::mem::take(&mut self.pending));
        Some((self.flushing.clone(), self.checkpoints.clone()))
    }

    /// The flush is in redb.
    pub fn end_flush(&mut self) {
        self.flushing = Arc::default();
    }

    /// The flush failed: its changes wait again, under newer ones.
    pub fn requeue(&mut self) {
        let failed = std::mem::take(&mut self.flushing);
        let failed = Arc::try_unwrap(failed).unwrap_or_else(|shared| (*shared).clone());
        let newer = std::mem::replace(&mut self.pending, failed);
        self.pending.extend(newer);
    }

    /// Forgets everything (the store was reset).
    pub fn clear(&mut self) {
        *self = Overlay::default();
    }
}

/// Up to `limit` live documents of a range: the overlay's changes over
/// what redb holds (`stored`, in key order).
pub fn merge<E>(
    overlay: Vec<(String, Option<Bytes>)>,
    stored: impl Iterator<Item = Result<(String, Bytes), E>>,
    limit: usize,
) -> Result<Vec<Bytes>, E> {
    let mut found = Vec::new();
    let mut overlay = overlay.into_iter().peekable();
    let mut stored = stored.peekable();
    while found.len() < limit {
        let from_stored = match (overlay.peek(), stored.peek()) {
            (None, None) => break,
            (Some(_), None) => false,
            (None, Some(_)) => true,
            (Some((ok, _)), Some(Ok((sk, _)))) => sk < ok,
            (_, Some(Err(_))) => true,
        };
        if from_stored {
            let (_, doc) = stored.next().expect("peeked")?;
            found.push(doc);
            continue;
        }
        let (key, doc) = overlay.next().expect("peeked");
        // The overlay's change replaces what redb holds under the key.
        if matches!(stored.peek(), Some(Ok((sk, _))) if *sk == key) {
            stored.next();
        }
        found.extend(doc);
    }
    Ok(found)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn doc(s: &str) -> Option<Bytes> {
        Some(Arc::from(s.as_bytes()))
    }

    fn texts(docs: Vec<Bytes>) -> Vec<String> {
        docs.iter().map(|d| String::from_utf8(d.to_vec()).unwrap()).collect()
    }

    #[test]
    fn newer_changes_win_and_deletions_hide_stored_documents() {
        let mut overlay = Overlay::new(Checkpoints::new());
        overlay.put("c/a".into(), doc("a1"));
        overlay.put("c/b".into(), None);
        let (flushing, _) = overlay.begin_flush().unwrap();
        assert_eq!(flushing.len(), 2);
        assert!(overlay.begin_flush().is_none(), "one flush at a time");
        overlay.put("c/a".into(), doc("a2"));
        overlay.put("c/d".into(), doc("d1"));
        assert_eq!(overlay.get("c/a"), Some(doc("a2")));
        assert_eq!(overlay.get("c/b"), Some(None));
        assert_eq!(overlay.get("c/c"), None);

        let stored =
            ["c/b", "c/c", "c/e"].map(|k| Ok::<_, ()>((k.to_owned(), Arc::from(format!("{k}-stored").as_bytes()))));
        let range = overlay.range(Bound::Included("c/"), Bound::Excluded("c0"));
        assert_eq!(
            texts(merge(range.clone(), stored.clone().into_iter(), usize::MAX).unwrap()),
            ["a2", "c/c-stored", "d1", "c/e-stored"]
        );
        assert_eq!(
            texts(merge(range, stored.into_iter(), 2).unwrap()),
            ["a2", "c/c-stored"]
        );

        overlay.end_flush();
        assert_eq!(overlay.get("c/b"), None, "flushed changes are read from redb");
        assert_eq!(overlay.pending(), 2);
    }
}

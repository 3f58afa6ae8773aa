//! A batch of projected events: reads see the batch's own earlier writes,
//! writes are collected and committed by the runner together with the
//! batch's checkpoint.

use std::collections::HashMap;

use serde::de::DeserializeOwned;
use serde::Serialize;
use serde_json::Value;

use crate::{Change, DocSource, StoreError};

pub struct Batch<'a> {
    source: &'a dyn DocSource,
    /// The latest write of each document touched by this batch (`None`:
    /// deleted).
    written: HashMap<(&'static str, String), Option<Value>>,
}

impl<'a> Batch<'a> {
    pub fn new(source: &'a dyn DocSource) -> Self {
        Batch {
            source,
            written: HashMap::new(),
        }
    }

    pub async fn get<T: DeserializeOwned>(&self, collection: &'static str, id: &str) -> Result<Option<T>, StoreError> {
        let doc = match self.written.get(&(collection, id.to_owned())) {
            Some(doc) => doc.clone(),
            None => self.source.get(collection, id).await?,
        };
        doc.map(|d| serde_json::from_value(d).map_err(|e| StoreError(format!("{collection}/{id}: {e}"))))
            .transpose()
    }

    pub fn put<T: Serialize>(&mut self, collection: &'static str, id: String, doc: &T) -> Result<(), StoreError> {
        let doc = serde_json::to_value(doc).map_err(|e| StoreError(format!("{collection}/{id}: {e}")))?;
        self.written.insert((collection, id), Some(doc));
        Ok(())
    }

    pub fn delete(&mut self, collection: &'static str, id: String) {
        self.written.insert((collection, id), None);
    }

    /// The final state of every document this batch wrote.
    pub fn into_changes(self) -> Vec<Change> {
        self.written
            .into_iter()
            .map(|((collection, id), doc)| match doc {
                Some(doc) => Change::Put { collection, id, doc },
                None => Change::Delete { collection, id },
            })
            .collect()
    }
}

//! The envelope every stored event travels in.

use serde::{Deserialize, Serialize};
use serde_json::Value;
use uuid::Uuid;

use crate::{DomainEvent, UpcastError};

/// Who caused an event and when; set by the write side, stored verbatim.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct EventMeta {
    pub tenant_id: String,
    pub actor_user_id: String,
    pub operation_id: String,
    /// Milliseconds since the Unix epoch.
    pub occurred_at: i64,
}

/// A stored event: the unit of the event log.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Envelope {
    #[serde(rename = "eventID")]
    pub event_id: Uuid,
    #[serde(rename = "tenantID")]
    pub tenant_id: String,
    pub stream_key: String,
    /// 1-based version of the event within its stream.
    pub stream_version: u64,
    /// 1-based, strictly increasing position in the whole log.
    pub log_position: u64,
    pub event_type: String,
    pub schema_version: u32,
    pub occurred_at: i64,
    #[serde(rename = "actorUserID")]
    pub actor_user_id: String,
    #[serde(rename = "operationID")]
    pub operation_id: String,
    pub payload: Value,
}

impl Envelope {
    /// Wraps a domain event; `log_position` is assigned by the log.
    pub fn new(event_id: Uuid, stream_key: String, stream_version: u64, meta: &EventMeta, event: &DomainEvent) -> Self {
        Envelope {
            event_id,
            tenant_id: meta.tenant_id.clone(),
            stream_key,
            stream_version,
            log_position: 0,
            event_type: event.event_type().to_owned(),
            schema_version: event.schema_version(),
            occurred_at: meta.occurred_at,
            actor_user_id: meta.actor_user_id.clone(),
            operation_id: meta.operation_id.clone(),
            payload: event.to_payload(),
        }
    }

    /// The domain event, upcast from whatever schema version was stored.
    pub fn event(&self) -> Result<DomainEvent, UpcastError> {
        DomainEvent::from_stored(&self.event_type, self.schema_version, &self.payload)
    }
}

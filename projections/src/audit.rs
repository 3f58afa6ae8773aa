//! The audit index: every stored event, as stored (secrets hidden), with
//! indexes by stream, by user (actor or subject) and by operationID, so an
//! audit query reads one short list instead of scanning the log.
//!
//! Documents (lists, keyed so that ids sort by log position):
//! - `audit_events`        `<tenant>:<position>`: the event.
//! - `audit_by_stream`     `<tenant>:<streamKey>:<position>`
//! - `audit_by_user`       `<tenant>:<userID>:<position>`
//! - `audit_by_operation`  `<tenant>:<operationID>:<position>`
//!
//! Positions are written as 20 digits; stream keys and operationIDs with
//! `%` and `:` percent-encoded, so every list prefix is exact.

use std::collections::BTreeSet;

use events::Envelope;
use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::store::read_many;
use crate::{Batch, DocSource, ProjectionError, StoreError};

pub const EVENTS: &str = "audit_events";
pub const BY_STREAM: &str = "audit_by_stream";
pub const BY_USER: &str = "audit_by_user";
pub const BY_OPERATION: &str = "audit_by_operation";

/// What replaces a secret in the audit trail.
pub const HIDDEN: &str = "[hidden]";
/// Payload fields never shown.
const SECRETS: &[&str] = &["passwordHash"];

/// A stored event as audit queries return it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct AuditDoc {
    #[serde(rename = "eventID")]
    pub event_id: String,
    pub position: u64,
    pub stream_key: String,
    pub stream_version: u64,
    pub event_type: String,
    pub schema_version: u32,
    pub occurred_at: i64,
    #[serde(rename = "actorUserID")]
    pub actor_user_id: String,
    #[serde(rename = "operationID")]
    pub operation_id: String,
    pub payload: Value,
}

impl AuditDoc {
    fn of(envelope: &Envelope) -> Self {
        let mut payload = envelope.payload.clone();
        if let Value::Object(fields) = &mut payload {
            for secret in SECRETS {
                if let Some(value) = fields.get_mut(*secret) {
                    *value = Value::from(HIDDEN);
                }
            }
        }
        AuditDoc {
            event_id: envelope.event_id.to_string(),
            position: envelope.log_position,
            stream_key: envelope.stream_key.clone(),
            stream_version: envelope.stream_version,
            event_type: envelope.event_type.clone(),
            schema_version: envelope.schema_version,
            occurred_at: envelope.occurred_at,
            actor_user_id: envelope.actor_user_id.clone(),
            operation_id: envelope.operation_id.clone(),
            payload,
        }
    }

    /// The users an event concerns: its actor and every user its payload
    /// names (`...UserID`, `...UserIDs`, `sendID`, `recvID`), except those
    /// only told of it (a profile update's `notifiedUserIDs`).
    pub fn users(&self) -> BTreeSet<String> {
        let mut users = BTreeSet::from([self.actor_user_id.clone()]);
        if let Value::Object(fields) = &self.payload {
            for (key, value) in fields {
                let key = key.to_ascii_lowercase();
                let names = key.ends_with("userid") || key.ends_with("userids") || key == "sendid" || key == "recvid";
                if !names || key == "notifieduserids" {
                    continue;
                }
                let named = match value {
                    Value::String(user) => vec![user.clone()],
                    Value::Array(list) => list.iter().filter_map(|v| v.as_str().map(str::to_owned)).collect(),
                    _ => Vec::new(),
                };
                users.extend(named.into_iter().filter(|u| !u.is_empty()));
            }
        }
        users
    }
}

/// A stream key or operationID as one segment of a document id.
pub fn segment(text: &str) -> String {
    text.replace('%', "%25").replace(':', "%3A")
}

fn at(position: u64) -> String {
    format!("{position:020}")
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
struct Ref {
    position: u64,
}

pub(crate) fn project(envelope: &Envelope, batch: &mut Batch<'_>) -> Result<(), ProjectionError> {
    let tenant = &envelope.tenant_id;
    let doc = AuditDoc::of(envelope);
    let position = at(doc.position);
    let reference = Ref { position: doc.position };
    let stream = segment(&doc.stream_key);
    batch.put(BY_STREAM, format!("{tenant}:{stream}:{position}"), &reference)?;
    let operation = segment(&doc.operation_id);
    batch.put(BY_OPERATION, format!("{tenant}:{operation}:{position}"), &reference)?;
    for user in doc.users() {
        batch.put(BY_USER, format!("{tenant}:{user}:{position}"), &reference)?;
    }
    batch.put(EVENTS, format!("{tenant}:{position}"), &doc)?;
    Ok(())
}

/// What an audit query asks for; every filter is optional but the tenant.
#[derive(Debug, Clone, Default)]
pub struct AuditQuery {
    pub tenant: String,
    pub stream_key: Option<String>,
    pub user_id: Option<String>,
    pub event_types: Option<Vec<String>>,
    pub operation_id: Option<String>,
    pub from_time: Option<i64>,
    pub to_time: Option<i64>,
    /// Only events after this position (the cursor of the previous page).
    pub after: Option<u64>,
    pub limit: usize,
}

impl AuditQuery {
    fn admits(&self, doc: &AuditDoc) -> bool {
        self.stream_key.as_ref().is_none_or(|s| *s == doc.stream_key)
            && self.operation_id.as_ref().is_none_or(|o| *o == doc.operation_id)
            && self.user_id.as_ref().is_none_or(|u| doc.users().contains(u))
            && self.event_types.as_ref().is_none_or(|t| t.contains(&doc.event_type))
            && self.from_time.is_none_or(|t| doc.occurred_at >= t)
            && self.to_time.is_none_or(|t| doc.occurred_at <= t)
    }

    /// The most selective index for this query, as (collection, prefix).
    fn index(&self) -> (&'static str, String) {
        let tenant = &self.tenant;
        if let Some(stream) = &self.stream_key {
            (BY_STREAM, format!("{tenant}:{}:", segment(stream)))
        } else if let Some(operation) = &self.operation_id {
            (BY_OPERATION, format!("{tenant}:{}:", segment(operation)))
        } else if let Some(user) = &self.user_id {
            (BY_USER, format!("{tenant}:{user}:"))
        } else {
            (EVENTS, format!("{tenant}:"))
        }
    }
}

/// A page of an audit query.
#[derive(Debug, Clone)]
pub struct AuditPage {
    pub events: Vec<AuditDoc>,
    /// Where the next page starts (the last position examined), or `None`
    /// when the index has nothing more. New events only come after it, so
    /// a cursor stays valid while the log grows.
    pub next: Option<u64>,
}

/// Index entries examined per round trip, and per page at most (a page
/// with few matches ends early, with a cursor to go on from).
const STEP: usize = 1000;
const SCAN_MAX: usize = 50_000;

pub async fn query(source: &dyn DocSource, q: &AuditQuery) -> Result<AuditPage, StoreError> {
    let (collection, prefix) = q.index();
    let mut after = q.after;
    let mut events = Vec::new();
    let mut scanned = 0;
    loop {
        let cursor = after.map(at);
        // The first step reads just a page's worth: enough when the index
        // matches the whole query; later steps read more.
        let step = if scanned == 0 { q.limit.clamp(1, STEP) } else { STEP };
        let entries = source.scan_after(collection, &prefix, cursor.as_deref(), step).await?;
        let exhausted = entries.len() < step;
        let last_entry = entries.last().and_then(|e| e["position"].as_u64());
        scanned += entries.len();
        let docs: Vec<AuditDoc> = if collection == EVENTS {
            entries
                .into_iter()
                .map(|d| serde_json::from_value(d).map_err(|e| StoreError(format!("{EVENTS}: {e}"))))
                .collect::<Result<_, _>>()?
        } else {
            let refs: Vec<String> = entries
                .into_iter()
                .map(|d| serde_json::from_value::<Ref>(d).map(|r| format!("{}:{}", q.tenant, at(r.position))))
                .collect::<Result<_, _>>()
                .map_err(|e| StoreError(format!("{collection}: {e}")))?;
            read_many(source, EVENTS, &refs).await?
        };
        for doc in docs {
            after = Some(doc.position);
            if q.admits(&doc) {
                events.push(doc);
                if events.len() == q.limit {
                    return Ok(AuditPage { events, next: after });
                }
            }
        }
        if exhausted {
            return Ok(AuditPage { events, next: None });
        }
        // Go on after the last index entry read, even if its event is
        // missing from the index.
        after = after.max(last_entry);
        if scanned >= SCAN_MAX {
            return Ok(AuditPage { events, next: after });
        }
    }
}

/// The events of one stream up to a position (inclusive), in order: what
/// time travel folds.
pub async fn stream_until(
    source: &dyn DocSource,
    tenant: &str,
    stream_key: &str,
    until: impl Fn(&AuditDoc) -> bool,
) -> Result<Vec<AuditDoc>, StoreError> {
    let mut found = Vec::new();
    let mut q = AuditQuery {
        tenant: tenant.to_owned(),
        stream_key: Some(stream_key.to_owned()),
        limit: STEP,
        ..AuditQuery::default()
    };
    loop {
        let page = query(source, &q).await?;
        for doc in page.events {
            if !until(&doc) {
                return Ok(found);
            }
            found.push(doc);
        }
        match page.next {
            Some(next) => q.after = Some(next),
            None => return Ok(found),
        }
    }
}

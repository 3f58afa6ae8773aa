//! Bodies of the `/audit/*` endpoints (app admins only).

use serde::Deserialize;
use serde_json::Value;

use crate::limits::{MESSAGE_ID_MAX, OPERATION_ID_MAX, TENANT_ID_MAX};
use crate::validate::{max_chars, user_id};
use crate::{FieldError, Validate};

/// Events per page: default and most.
pub const AUDIT_PAGE_DEFAULT: usize = 100;
pub const AUDIT_PAGE_MAX: usize = 1000;

#[derive(Debug, Clone, Default, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct AuditEventsReq {
    /// The caller's own tenant (the only one it may read) when absent.
    #[serde(default)]
    pub tenant: Option<String>,
    #[serde(default)]
    pub stream_key: Option<String>,
    #[serde(default, rename = "userID")]
    pub user_id: Option<String>,
    #[serde(default)]
    pub event_types: Option<Vec<String>>,
    #[serde(default, rename = "operationID")]
    pub operation_id: Option<String>,
    #[serde(default)]
    pub from_time: Option<i64>,
    #[serde(default)]
    pub to_time: Option<i64>,
    #[serde(default)]
    pub from_position: Option<u64>,
    /// `nextCursor` of the previous page.
    #[serde(default)]
    pub cursor: Option<String>,
    #[serde(default)]
    pub limit: Option<usize>,
}

impl AuditEventsReq {
    /// Events after this position: the cursor's, or those from `fromPosition` on.
    pub fn after(&self) -> Option<u64> {
        match (&self.cursor, self.from_position) {
            (Some(cursor), _) => cursor.parse().ok(),
            (None, Some(from)) => Some(from.saturating_sub(1)),
            (None, None) => None,
        }
    }

    pub fn page_size(&self) -> usize {
        self.limit.unwrap_or(AUDIT_PAGE_DEFAULT)
    }
}

impl Validate for AuditEventsReq {
    fn validate(&self) -> Result<(), FieldError> {
        if let Some(tenant) = &self.tenant {
            max_chars("tenant", tenant, TENANT_ID_MAX)?;
        }
        if let Some(key) = &self.stream_key {
            key.parse::<events::StreamKey>()
                .map_err(|e| FieldError::new("streamKey", e.to_string()))?;
        }
        if let Some(user) = &self.user_id {
            user_id("userID", user)?;
        }
        if let Some(operation) = &self.operation_id {
            max_chars("operationID", operation, OPERATION_ID_MAX)?;
        }
        if self.cursor.as_ref().is_some_and(|c| c.parse::<u64>().is_err()) {
            return Err(FieldError::new("cursor", "not a cursor this server returned"));
        }
        if !(1..=AUDIT_PAGE_MAX).contains(&self.page_size()) {
            return Err(FieldError::new("limit", format!("must be within 1..={AUDIT_PAGE_MAX}")));
        }
        if let Some(types) = &self.event_types {
            types
                .iter()
                .try_for_each(|t| max_chars("eventTypes[]", t, MESSAGE_ID_MAX))?;
        }
        Ok(())
    }
}

/// Time travel: a stream's decision state as of a log position or a time.
#[derive(Debug, Clone, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct AuditStateReq {
    pub stream_key: String,
    /// A log position (number or digits) or an RFC 3339 time.
    pub at: Value,
}

/// Where time travel stops.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Until {
    Position(u64),
    /// Milliseconds since the Unix epoch.
    Time(i64),
}

impl AuditStateReq {
    pub fn until(&self) -> Result<Until, FieldError> {
        parse_until(&self.at)
    }
}

/// A position (number or digits) or an RFC 3339 time.
pub fn parse_until(at: &Value) -> Result<Until, FieldError> {
    let bad = || FieldError::new("at", "a log position or an RFC 3339 time (2026-11-26T10:00:00Z)");
    match at {
        Value::Number(n) => n.as_u64().map(Until::Position).ok_or_else(bad),
        Value::String(s) if s.bytes().all(|b| b.is_ascii_digit()) && !s.is_empty() => {
            s.parse().map(Until::Position).map_err(|_| bad())
        }
        Value::String(s) => {
            let time =
                time::OffsetDateTime::parse(s, &time::format_description::well_known::Rfc3339).map_err(|_| bad())?;
            Ok(Until::Time((time.unix_timestamp_nanos() / 1_000_000) as i64))
        }
        _ => Err(bad()),
    }
}

impl Validate for AuditStateReq {
    fn validate(&self) -> Result<(), FieldError> {
        self.stream_key
            .parse::<events::StreamKey>()
            .map_err(|e| FieldError::new("streamKey", e.to_string()))?;
        self.until().map(|_| ())
    }
}

#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct ForgetUserReq {
    #[serde(rename = "userID")]
    pub user_id: String,
}

impl Validate for ForgetUserReq {
    fn validate(&self) -> Result<(), FieldError> {
        user_id("userID", &self.user_id)
    }
}

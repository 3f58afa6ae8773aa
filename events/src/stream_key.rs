//! Decision keys: each command is decided within one stream, which is also
//! the log's partition key.

use std::fmt;
use std::str::FromStr;

/// The decision scope of a command and the stream its events are stored in.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum StreamKey {
    /// `user:<tenant>:<userID>`: registration, profile, per-user settings.
    User { tenant: String, user_id: String },
}

impl StreamKey {
    pub fn user(tenant: &str, user_id: &str) -> Self {
        StreamKey::User {
            tenant: tenant.to_owned(),
            user_id: user_id.to_owned(),
        }
    }

    pub fn tenant(&self) -> &str {
        match self {
            StreamKey::User { tenant, .. } => tenant,
        }
    }
}

impl fmt::Display for StreamKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            StreamKey::User { tenant, user_id } => write!(f, "user:{tenant}:{user_id}"),
        }
    }
}

#[derive(Debug, thiserror::Error, PartialEq, Eq)]
#[error("malformed stream key {0:?}")]
pub struct StreamKeyError(pub String);

impl FromStr for StreamKey {
    type Err = StreamKeyError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let mut parts = s.splitn(3, ':');
        match (parts.next(), parts.next(), parts.next()) {
            (Some("user"), Some(tenant), Some(user_id)) if !tenant.is_empty() && !user_id.is_empty() => {
                Ok(StreamKey::user(tenant, user_id))
            }
            _ => Err(StreamKeyError(s.to_owned())),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn user_key_round_trips_through_its_text_form() {
        let key = StreamKey::user("1000", "alice");
        assert_eq!(key.to_string(), "user:1000:alice");
        assert_eq!("user:1000:alice".parse::<StreamKey>(), Ok(key));
    }

    #[test]
    fn malformed_keys_are_rejected() {
        for bad in ["", "user:", "user:1000", "user::alice", "robot:1000:x"] {
            assert!(bad.parse::<StreamKey>().is_err(), "{bad}");
        }
    }
}

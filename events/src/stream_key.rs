//! Decision keys: each command is decided within one stream, which is also
//! the log's partition key.

use std::fmt;
use std::str::FromStr;

/// The decision scope of a command and the stream its events are stored in.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum StreamKey {
    /// `user:<tenant>:<userID>`: registration, profile, per-user settings.
    User { tenant: String, user_id: String },
    /// `pair:<tenant>:<a>:<b>` with a < b: friend requests, friendship and
    /// blacklist between two users, both ways.
    Pair { tenant: String, a: String, b: String },
    /// `group:<tenant>:<groupID>`: group info, members, roles, mutes and
    /// join requests.
    Group { tenant: String, group_id: String },
}

impl StreamKey {
    pub fn user(tenant: &str, user_id: &str) -> Self {
        StreamKey::User {
            tenant: tenant.to_owned(),
            user_id: user_id.to_owned(),
        }
    }

    /// The scope of everything between two users, whatever their order.
    pub fn pair(tenant: &str, one: &str, other: &str) -> Self {
        let (a, b) = if one <= other { (one, other) } else { (other, one) };
        StreamKey::Pair {
            tenant: tenant.to_owned(),
            a: a.to_owned(),
            b: b.to_owned(),
        }
    }

    pub fn group(tenant: &str, group_id: &str) -> Self {
        StreamKey::Group {
            tenant: tenant.to_owned(),
            group_id: group_id.to_owned(),
        }
    }

    pub fn tenant(&self) -> &str {
        match self {
            StreamKey::User { tenant, .. } | StreamKey::Pair { tenant, .. } | StreamKey::Group { tenant, .. } => tenant,
        }
    }
}

impl fmt::Display for StreamKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            StreamKey::User { tenant, user_id } => write!(f, "user:{tenant}:{user_id}"),
            StreamKey::Pair { tenant, a, b } => write!(f, "pair:{tenant}:{a}:{b}"),
            StreamKey::Group { tenant, group_id } => write!(f, "group:{tenant}:{group_id}"),
        }
    }
}

#[derive(Debug, thiserror::Error, PartialEq, Eq)]
#[error("malformed stream key {0:?}")]
pub struct StreamKeyError(pub String);

impl FromStr for StreamKey {
    type Err = StreamKeyError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let parts: Vec<&str> = s.split(':').collect();
        match parts[..] {
            ["user", tenant, user_id] if !tenant.is_empty() && !user_id.is_empty() => {
                Ok(StreamKey::user(tenant, user_id))
            }
            ["pair", tenant, a, b] if !tenant.is_empty() && !a.is_empty() && a < b => Ok(StreamKey::pair(tenant, a, b)),
            ["group", tenant, group_id] if !tenant.is_empty() && !group_id.is_empty() => {
                Ok(StreamKey::group(tenant, group_id))
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
    fn a_pair_is_one_key_in_either_order() {
        let key = StreamKey::pair("1000", "bob", "alice");
        assert_eq!(key, StreamKey::pair("1000", "alice", "bob"));
        assert_eq!(key.to_string(), "pair:1000:alice:bob");
        assert_eq!("pair:1000:alice:bob".parse::<StreamKey>(), Ok(key));
    }

    #[test]
    fn group_key_round_trips_through_its_text_form() {
        let key = StreamKey::group("1000", "g1");
        assert_eq!(key.to_string(), "group:1000:g1");
        assert_eq!("group:1000:g1".parse::<StreamKey>(), Ok(key));
    }

    #[test]
    fn malformed_keys_are_rejected() {
        for bad in [
            "",
            "user:",
            "user:1000",
            "user::alice",
            "robot:1000:x",
            "pair:1000:b:a",
            "pair:1000:a:a",
            "group:1000:",
            "group::g1",
        ] {
            assert!(bad.parse::<StreamKey>().is_err(), "{bad}");
        }
    }
}

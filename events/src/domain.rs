//! The domain event enum, its stored type names and schema versions, and the
//! upcasting of stored payloads.

use serde::de::DeserializeOwned;
use serde::Serialize;
use serde_json::Value;

use crate::conversation::*;
use crate::friend::*;
use crate::group::*;
use crate::message::{MessageRevoked, MessageSent};
use crate::user::{UserProfileUpdated, UserRegistered};

/// Every fact Parley records. The stored form is `(eventType, schemaVersion,
/// payload)`; see [`DomainEvent::from_stored`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum DomainEvent {
    UserRegistered(UserRegistered),
    UserProfileUpdated(UserProfileUpdated),
    FriendRequested(FriendRequested),
    FriendRequestHandled(FriendRequestHandled),
    FriendAdded(FriendAdded),
    FriendDeleted(FriendDeleted),
    FriendUpdated(FriendUpdated),
    BlackAdded(BlackAdded),
    BlackRemoved(BlackRemoved),
    GroupCreated(GroupCreated),
    GroupInfoSet(GroupInfoSet),
    GroupMemberJoined(GroupMemberJoined),
    GroupJoinRequested(GroupJoinRequested),
    GroupJoinRequestHandled(GroupJoinRequestHandled),
    GroupMemberQuit(GroupMemberQuit),
    GroupMemberKicked(GroupMemberKicked),
    GroupOwnerTransferred(GroupOwnerTransferred),
    GroupDismissed(GroupDismissed),
    GroupMemberMuted(GroupMemberMuted),
    GroupMemberMuteCancelled(GroupMemberMuteCancelled),
    GroupMuteSet(GroupMuteSet),
    MessageSent(MessageSent),
    MessageRevoked(MessageRevoked),
    ConversationSettingsSet(ConversationSettingsSet),
    ConversationRead(ConversationRead),
    ConversationCleared(ConversationCleared),
    MessagesDeleted(MessagesDeleted),
}

/// Every stored event type with its decoder from the current schema
/// version (1 for all of them so far).
macro_rules! event_types {
    ($($variant:ident),* $(,)?) => {
        impl DomainEvent {
            /// The stored type name.
            pub fn event_type(&self) -> &'static str {
                match self {
                    $(DomainEvent::$variant(_) => stringify!($variant),)*
                }
            }

            /// The stored payload.
            pub fn to_payload(&self) -> Value {
                match self {
                    $(DomainEvent::$variant(e) => to_value(e),)*
                }
            }

            /// Reads a stored event of any known schema version into the
            /// current domain type (upcasting older versions).
            pub fn from_stored(event_type: &str, version: u32, payload: &Value) -> Result<Self, UpcastError> {
                match (event_type, version) {
                    $((stringify!($variant), 1) => parse(event_type, version, payload).map(DomainEvent::$variant),)*
                    $((stringify!($variant), _))|* => Err(UpcastError::UnknownVersion {
                        event_type: event_type.to_owned(),
                        version,
                    }),
                    _ => Err(UpcastError::UnknownType(event_type.to_owned())),
                }
            }
        }
    };
}

event_types!(
    UserRegistered,
    UserProfileUpdated,
    FriendRequested,
    FriendRequestHandled,
    FriendAdded,
    FriendDeleted,
    FriendUpdated,
    BlackAdded,
    BlackRemoved,
    GroupCreated,
    GroupInfoSet,
    GroupMemberJoined,
    GroupJoinRequested,
    GroupJoinRequestHandled,
    GroupMemberQuit,
    GroupMemberKicked,
    GroupOwnerTransferred,
    GroupDismissed,
    GroupMemberMuted,
    GroupMemberMuteCancelled,
    GroupMuteSet,
    MessageSent,
    MessageRevoked,
    ConversationSettingsSet,
    ConversationRead,
    ConversationCleared,
    MessagesDeleted,
);

#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum UpcastError {
    #[error("unknown event type {0:?}")]
    UnknownType(String),
    #[error("event type {event_type:?} has no schema version {version}")]
    UnknownVersion { event_type: String, version: u32 },
    #[error("payload of {event_type:?} v{version} does not parse: {reason}")]
    BadPayload {
        event_type: String,
        version: u32,
        reason: String,
    },
}

impl DomainEvent {
    /// The schema version this build writes for the event's type.
    pub fn schema_version(&self) -> u32 {
        1
    }
}

fn to_value<T: Serialize>(event: &T) -> Value {
    // Domain events are plain structs of strings and numbers: serializing
    // them cannot fail.
    serde_json::to_value(event).expect("domain events serialize to JSON")
}

fn parse<T: DeserializeOwned>(event_type: &str, version: u32, payload: &Value) -> Result<T, UpcastError> {
    T::deserialize(payload).map_err(|e| UpcastError::BadPayload {
        event_type: event_type.to_owned(),
        version,
        reason: e.to_string(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn registered() -> DomainEvent {
        DomainEvent::UserRegistered(UserRegistered {
            user_id: "alice".into(),
            nickname: "Alice".into(),
            face_url: String::new(),
            ex: String::new(),
            password_hash: "$argon2id$v=19$...".into(),
            create_time: 1_700_000_000_000,
        })
    }

    #[test]
    fn stored_form_round_trips() {
        let event = registered();
        let back = DomainEvent::from_stored(event.event_type(), event.schema_version(), &event.to_payload());
        assert_eq!(back, Ok(event));
    }

    #[test]
    fn unknown_types_and_versions_are_errors_not_panics() {
        let payload = registered().to_payload();
        assert!(matches!(
            DomainEvent::from_stored("Nope", 1, &payload),
            Err(UpcastError::UnknownType(_))
        ));
        assert!(matches!(
            DomainEvent::from_stored("UserRegistered", 9, &payload),
            Err(UpcastError::UnknownVersion { .. })
        ));
        assert!(matches!(
            DomainEvent::from_stored("UserProfileUpdated", 1, &serde_json::json!({"nickname": 3})),
            Err(UpcastError::BadPayload { .. })
        ));
    }
}

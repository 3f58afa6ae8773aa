//! The domain event enum, its stored type names and schema versions, and the
//! upcasting of stored payloads.

use serde::de::DeserializeOwned;
use serde::Serialize;
use serde_json::Value;

use crate::conversation::*;
use crate::friend::*;
use crate::group::*;
use crate::message::{MessageRevoked, MessageSent};
#[cfg(test)]
use crate::user::PersonalData;
use crate::user::{UserForgotten, UserProfileUpdated, UserRegistered};

/// Every fact Parley records. The stored form is `(eventType, schemaVersion,
/// payload)`; see [`DomainEvent::from_stored`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum DomainEvent {
    UserRegistered(UserRegistered),
    UserProfileUpdated(UserProfileUpdated),
    UserForgotten(UserForgotten),
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

/// Every stored event type with the schema version this build writes, and
/// its decoder from that version (older versions are upcast first, see
/// `crate::upcast`).
macro_rules! event_types {
    ($($variant:ident: $version:literal),* $(,)?) => {
        impl DomainEvent {
            /// The stored type name.
            pub fn event_type(&self) -> &'static str {
                match self {
                    $(DomainEvent::$variant(_) => stringify!($variant),)*
                }
            }

            /// The schema version this build writes for the event's type.
            pub fn schema_version(&self) -> u32 {
                match self {
                    $(DomainEvent::$variant(_) => $version,)*
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
                let (version, payload) = crate::upcast::to_current(event_type, version, payload)?;
                match (event_type, version) {
                    $((stringify!($variant), $version) => parse(event_type, version, &payload).map(DomainEvent::$variant),)*
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
    UserRegistered: 2,
    UserProfileUpdated: 2,
    UserForgotten: 1,
    FriendRequested: 1,
    FriendRequestHandled: 1,
    FriendAdded: 1,
    FriendDeleted: 1,
    FriendUpdated: 1,
    BlackAdded: 1,
    BlackRemoved: 1,
    GroupCreated: 2,
    GroupInfoSet: 1,
    GroupMemberJoined: 1,
    GroupJoinRequested: 1,
    GroupJoinRequestHandled: 1,
    GroupMemberQuit: 1,
    GroupMemberKicked: 1,
    GroupOwnerTransferred: 1,
    GroupDismissed: 1,
    GroupMemberMuted: 1,
    GroupMemberMuteCancelled: 1,
    GroupMuteSet: 1,
    MessageSent: 1,
    MessageRevoked: 1,
    ConversationSettingsSet: 1,
    ConversationRead: 1,
    ConversationCleared: 1,
    MessagesDeleted: 1,
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
            profile: PersonalData {
                nickname: "Alice".into(),
                face_url: String::new(),
                ex: String::new(),
            },
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

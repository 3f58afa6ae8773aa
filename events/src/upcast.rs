//! Upcasters: each turns a stored payload of one schema version into the
//! next version's shape. `to_current` chains them, so any stored version
//! reads as the current domain event. Stored events are never rewritten.

use std::borrow::Cow;

use serde_json::{Map, Value};

use crate::UpcastError;

type Upcaster = fn(Value) -> Result<Value, String>;

/// The upcaster from `version` of `event_type` to the next version.
fn upcaster(event_type: &str, version: u32) -> Option<Upcaster> {
    match (event_type, version) {
        ("UserRegistered", 1) => Some(user_registered_v1_to_v2),
        ("UserProfileUpdated", 1) => Some(profile_updated_v1_to_v2),
        ("GroupCreated", 1) => Some(group_created_v1_to_v2),
        _ => None,
    }
}

/// A stored payload in the current shape of its type, with that version.
pub(crate) fn to_current<'a>(
    event_type: &str,
    mut version: u32,
    payload: &'a Value,
) -> Result<(u32, Cow<'a, Value>), UpcastError> {
    let mut payload = Cow::Borrowed(payload);
    while let Some(upcast) = upcaster(event_type, version) {
        let next = upcast(payload.into_owned()).map_err(|reason| UpcastError::BadPayload {
            event_type: event_type.to_owned(),
            version,
            reason,
        })?;
        payload = Cow::Owned(next);
        version += 1;
    }
    Ok((version, payload))
}

/// `UserRegistered` v1 -> v2: `nickname`, `faceURL` and `ex` move into
/// `profile` (the user's personal data, kept together).
fn user_registered_v1_to_v2(mut payload: Value) -> Result<Value, String> {
    let fields = payload.as_object_mut().ok_or("the payload is not an object")?;
    let mut profile = Map::new();
    for key in ["nickname", "faceURL", "ex"] {
        let value = fields.remove(key).ok_or_else(|| format!("v1 has no {key}"))?;
        profile.insert(key.to_owned(), value);
    }
    fields.insert("profile".to_owned(), Value::Object(profile));
    Ok(payload)
}

/// `UserProfileUpdated` v1 -> v2: `notifiedUserIDs` is new; a v1 update
/// notified no one but the user.
fn profile_updated_v1_to_v2(mut payload: Value) -> Result<Value, String> {
    let fields = payload.as_object_mut().ok_or("the payload is not an object")?;
    fields.insert("notifiedUserIDs".to_owned(), Value::Array(Vec::new()));
    Ok(payload)
}

/// `GroupCreated` v1 -> v2: `memberUserIDs` is new. A v1 creation names
/// no initial member: its `GroupMemberJoined` events stand on their own.
fn group_created_v1_to_v2(mut payload: Value) -> Result<Value, String> {
    let fields = payload.as_object_mut().ok_or("the payload is not an object")?;
    fields.insert("memberUserIDs".to_owned(), Value::Array(Vec::new()));
    Ok(payload)
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use crate::user::{PersonalData, UserRegistered};
    use crate::DomainEvent;

    #[test]
    fn a_v1_registration_reads_as_v2() {
        let v1 = json!({"userID": "alice", "nickname": "Alice", "faceURL": "https://f/a", "ex": "x",
            "passwordHash": "$argon2id$...", "createTime": 1_700_000_000_000_i64});
        let event = DomainEvent::from_stored("UserRegistered", 1, &v1).unwrap();
        assert_eq!(
            event,
            DomainEvent::UserRegistered(UserRegistered {
                user_id: "alice".into(),
                profile: PersonalData {
                    nickname: "Alice".into(),
                    face_url: "https://f/a".into(),
                    ex: "x".into(),
                },
                password_hash: "$argon2id$...".into(),
                create_time: 1_700_000_000_000,
            })
        );
        assert_eq!(event.schema_version(), 2);
        assert_eq!(event.to_payload()["profile"]["nickname"], "Alice");
    }

    #[test]
    fn a_v1_profile_update_notified_no_one_else() {
        let v1 = json!({"userID": "alice", "nickname": "Al"});
        let event = DomainEvent::from_stored("UserProfileUpdated", 1, &v1).unwrap();
        let DomainEvent::UserProfileUpdated(updated) = &event else {
            panic!("{event:?}")
        };
        assert_eq!(updated.nickname.as_deref(), Some("Al"));
        assert!(updated.notified_user_ids.is_empty());
        assert_eq!(event.schema_version(), 2);
    }

    #[test]
    fn a_v1_group_creation_names_no_initial_member() {
        let v1 = json!({"groupID": "g1", "groupName": "G", "notification": "", "introduction": "", "faceURL": "",
            "ex": "", "groupType": 2, "needVerification": 0, "lookMemberInfo": 0, "applyMemberFriend": 0,
            "ownerUserID": "alice", "creatorUserID": "alice", "createTime": 1});
        let event = DomainEvent::from_stored("GroupCreated", 1, &v1).unwrap();
        let DomainEvent::GroupCreated(created) = &event else {
            panic!("{event:?}")
        };
        assert_eq!(created.owner_user_id, "alice");
        assert!(created.member_user_ids.is_empty());
        assert_eq!(event.schema_version(), 2);
    }

    #[test]
    fn a_v1_registration_missing_a_field_is_an_error_not_a_panic() {
        let broken = json!({"userID": "alice", "faceURL": "", "ex": "", "passwordHash": "", "createTime": 0});
        assert!(matches!(
            DomainEvent::from_stored("UserRegistered", 1, &broken),
            Err(crate::UpcastError::BadPayload { version: 1, .. })
        ));
    }
}

//! Events of the `user:` decision scope.

use serde::{Deserialize, Serialize};

/// What a user tells about itself: kept together in the events, as the
/// personal data of the user.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct PersonalData {
    pub nickname: String,
    #[serde(rename = "faceURL")]
    pub face_url: String,
    pub ex: String,
}

/// A user registered itself. The password is only ever held as an argon2
/// PHC string.
///
/// Schema version 2; version 1 had `nickname`, `faceURL` and `ex` at the
/// top level instead of in `profile` (see `crate::upcast`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct UserRegistered {
    #[serde(rename = "userID")]
    pub user_id: String,
    pub profile: PersonalData,
    pub password_hash: String,
    /// Milliseconds since the Unix epoch.
    pub create_time: i64,
}

/// Some profile fields changed; an absent field is unchanged.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct UserProfileUpdated {
    #[serde(rename = "userID")]
    pub user_id: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub nickname: Option<String>,
    #[serde(default, rename = "faceURL", skip_serializing_if = "Option::is_none")]
    pub face_url: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ex: Option<String>,
    /// Who is told of the change besides the user (its friends and the
    /// members of its groups when the update was decided), so that
    /// notifications replay exactly whatever the read models show later.
    #[serde(rename = "notifiedUserIDs")]
    pub notified_user_ids: Vec<String>,
}

impl UserProfileUpdated {
    /// Applies the present fields to a profile's (nickname, faceURL, ex).
    pub fn apply_to(&self, nickname: &mut String, face_url: &mut String, ex: &mut String) {
        for (new, old) in [(&self.nickname, nickname), (&self.face_url, face_url), (&self.ex, ex)] {
            if let Some(v) = new {
                old.clone_from(v);
            }
        }
    }
}

/// An app admin erased the user's personal data: the key that sealed it is
/// gone, so every stored nickname, faceURL, ex and message content of the
/// user reads as "[erased]" from now on, and none is stored again.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct UserForgotten {
    #[serde(rename = "userID")]
    pub user_id: String,
}

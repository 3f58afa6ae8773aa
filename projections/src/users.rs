//! Read models of users: public profiles and login credentials.

use events::{DomainEvent, Envelope};
use serde::{Deserialize, Serialize};

use crate::store::{read_many, read_one};
use crate::{Batch, DocSource, ProjectionError, StoreError};

pub const PROFILES: &str = "users";
pub const CREDENTIALS: &str = "credentials";

/// A user's public profile, as get_users_info returns it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct UserDoc {
    #[serde(rename = "userID")]
    pub user_id: String,
    pub nickname: String,
    #[serde(rename = "faceURL")]
    pub face_url: String,
    pub ex: String,
    pub create_time: i64,
    pub app_manger_level: i32,
    pub global_recv_msg_opt: i32,
}

/// What self_login checks; never served by a query of its own.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct CredentialDoc {
    pub password_hash: String,
}

pub fn doc_id(tenant: &str, user_id: &str) -> String {
    format!("{tenant}:{user_id}")
}

pub(crate) async fn project(
    envelope: &Envelope,
    event: &DomainEvent,
    batch: &mut Batch<'_>,
) -> Result<(), ProjectionError> {
    let tenant = &envelope.tenant_id;
    match event {
        DomainEvent::UserRegistered(e) => {
            let id = doc_id(tenant, &e.user_id);
            let profile = UserDoc {
                user_id: e.user_id.clone(),
                nickname: e.profile.nickname.clone(),
                face_url: e.profile.face_url.clone(),
                ex: e.profile.ex.clone(),
                create_time: e.create_time,
                app_manger_level: 0,
                global_recv_msg_opt: 0,
            };
            batch.put(PROFILES, id.clone(), &profile)?;
            batch.put(
                CREDENTIALS,
                id,
                &CredentialDoc {
                    password_hash: e.password_hash.clone(),
                },
            )?;
        }
        DomainEvent::UserProfileUpdated(e) => {
            let id = doc_id(tenant, &e.user_id);
            let mut profile: UserDoc = batch
                .get(PROFILES, &id)
                .await?
                .ok_or_else(|| ProjectionError::missing(envelope, format!("user {id}")))?;
            e.apply_to(&mut profile.nickname, &mut profile.face_url, &mut profile.ex);
            batch.put(PROFILES, id, &profile)?;
        }
        // Events of other scopes do not touch user documents.
        _ => {}
    }
    Ok(())
}

/// Profiles of `user_ids` in request order; unknown ids are left out.
pub async fn profiles(source: &dyn DocSource, tenant: &str, user_ids: &[String]) -> Result<Vec<UserDoc>, StoreError> {
    let ids: Vec<String> = user_ids.iter().map(|u| doc_id(tenant, u)).collect();
    read_many(source, PROFILES, &ids).await
}

/// The stored password hash of a user, if registered.
pub async fn password_hash(source: &dyn DocSource, tenant: &str, user_id: &str) -> Result<Option<String>, StoreError> {
    let doc: Option<CredentialDoc> = read_one(source, CREDENTIALS, &doc_id(tenant, user_id)).await?;
    Ok(doc.map(|c| c.password_hash))
}

//! Read models of the `pair:` scope: friend lists, friend requests (as
//! received and as sent) and blacklists. Every document id starts with the
//! list's owner (`<tenant>:<owner>:<other>`), so a list is one prefix scan.
//! Profiles of the users a list embeds are joined at query time, so they
//! are always current.

use events::{DomainEvent, Envelope};
use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};

use crate::store::{read_list, read_many};
use crate::{Batch, DocSource, ProjectionError, StoreError};

pub const FRIENDS: &str = "friends";
pub const REQUESTS_RECEIVED: &str = "friend_requests_received";
pub const REQUESTS_SENT: &str = "friend_requests_sent";
pub const BLACKS: &str = "blacks";

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct FriendDoc {
    #[serde(rename = "ownerUserID")]
    pub owner_user_id: String,
    #[serde(rename = "friendUserID")]
    pub friend_user_id: String,
    pub remark: String,
    pub create_time: i64,
    pub add_source: i32,
    #[serde(rename = "operatorUserID")]
    pub operator_user_id: String,
    pub ex: String,
    pub is_pinned: bool,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct RequestDoc {
    #[serde(rename = "fromUserID")]
    pub from_user_id: String,
    #[serde(rename = "toUserID")]
    pub to_user_id: String,
    pub handle_result: i32,
    pub req_msg: String,
    pub create_time: i64,
    #[serde(rename = "handlerUserID")]
    pub handler_user_id: String,
    pub handle_msg: String,
    pub handle_time: i64,
    pub ex: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct BlackDoc {
    #[serde(rename = "ownerUserID")]
    pub owner_user_id: String,
    #[serde(rename = "blackUserID")]
    pub black_user_id: String,
    pub create_time: i64,
    pub add_source: i32,
    #[serde(rename = "operatorUserID")]
    pub operator_user_id: String,
    pub ex: String,
}

fn id(tenant: &str, owner: &str, other: &str) -> String {
    format!("{tenant}:{owner}:{other}")
}

pub(crate) async fn project(
    envelope: &Envelope,
    event: &DomainEvent,
    batch: &mut Batch<'_>,
) -> Result<(), ProjectionError> {
    let tenant = &envelope.tenant_id;
    match event {
        DomainEvent::FriendRequested(e) => {
            let request = RequestDoc {
                from_user_id: e.from_user_id.clone(),
                to_user_id: e.to_user_id.clone(),
                handle_result: 0,
                req_msg: e.req_msg.clone(),
                create_time: e.create_time,
                handler_user_id: String::new(),
                handle_msg: String::new(),
                handle_time: 0,
                ex: e.ex.clone(),
            };
            put_request(batch, tenant, &request)?;
        }
        DomainEvent::FriendRequestHandled(e) => {
            let key = id(tenant, &e.to_user_id, &e.from_user_id);
            let mut request: RequestDoc = batch
                .get(REQUESTS_RECEIVED, &key)
                .await?
                .ok_or_else(|| ProjectionError::missing(envelope, format!("friend request {key}")))?;
            request.handle_result = e.handle_result;
            request.handle_msg.clone_from(&e.handle_msg);
            request.handler_user_id.clone_from(&e.handler_user_id);
            request.handle_time = e.handle_time;
            put_request(batch, tenant, &request)?;
        }
        DomainEvent::FriendAdded(e) => {
            let friend = FriendDoc {
                owner_user_id: e.owner_user_id.clone(),
                friend_user_id: e.friend_user_id.clone(),
                remark: String::new(),
                create_time: e.create_time,
                add_source: e.add_source,
                operator_user_id: e.operator_user_id.clone(),
                ex: String::new(),
                is_pinned: false,
            };
            batch.put(FRIENDS, id(tenant, &e.owner_user_id, &e.friend_user_id), &friend)?;
        }
        DomainEvent::FriendDeleted(e) => batch.delete(FRIENDS, id(tenant, &e.owner_user_id, &e.friend_user_id)),
        DomainEvent::FriendUpdated(e) => {
            let key = id(tenant, &e.owner_user_id, &e.friend_user_id);
            let mut friend: FriendDoc = batch
                .get(FRIENDS, &key)
                .await?
                .ok_or_else(|| ProjectionError::missing(envelope, format!("friend {key}")))?;
            if let Some(v) = e.is_pinned {
                friend.is_pinned = v;
            }
            if let Some(v) = &e.remark {
                friend.remark.clone_from(v);
            }
            if let Some(v) = &e.ex {
                friend.ex.clone_from(v);
            }
            batch.put(FRIENDS, key, &friend)?;
        }
        DomainEvent::BlackAdded(e) => {
            let black = BlackDoc {
                owner_user_id: e.owner_user_id.clone(),
                black_user_id: e.black_user_id.clone(),
                create_time: e.create_time,
                add_source: e.add_source,
                operator_user_id: e.operator_user_id.clone(),
                ex: e.ex.clone(),
            };
            batch.put(BLACKS, id(tenant, &e.owner_user_id, &e.black_user_id), &black)?;
        }
        DomainEvent::BlackRemoved(e) => batch.delete(BLACKS, id(tenant, &e.owner_user_id, &e.black_user_id)),
        // Events of other scopes do not touch these lists.
        _ => {}
    }
    Ok(())
}

/// A request is listed twice: among the receiver's and the sender's.
fn put_request(batch: &mut Batch<'_>, tenant: &str, request: &RequestDoc) -> Result<(), StoreError> {
    batch.put(
        REQUESTS_RECEIVED,
        id(tenant, &request.to_user_id, &request.from_user_id),
        request,
    )?;
    batch.put(
        REQUESTS_SENT,
        id(tenant, &request.from_user_id, &request.to_user_id),
        request,
    )
}

async fn list<T: DeserializeOwned>(
    source: &dyn DocSource,
    collection: &str,
    tenant: &str,
    owner: &str,
) -> Result<Vec<T>, StoreError> {
    read_list(source, collection, &format!("{tenant}:{owner}:")).await
}

/// `owner`'s friends: pinned first, then in the order they became friends.
pub async fn friends(source: &dyn DocSource, tenant: &str, owner: &str) -> Result<Vec<FriendDoc>, StoreError> {
    let mut friends: Vec<FriendDoc> = list(source, FRIENDS, tenant, owner).await?;
    friends.sort_by(|a, b| {
        (!a.is_pinned, a.create_time, &a.friend_user_id).cmp(&(!b.is_pinned, b.create_time, &b.friend_user_id))
    });
    Ok(friends)
}

/// Which of `candidates` are in `owner`'s friend list (one lookup).
pub async fn friends_among(
    source: &dyn DocSource,
    tenant: &str,
    owner: &str,
    candidates: &[String],
) -> Result<std::collections::HashSet<String>, StoreError> {
    let ids: Vec<String> = candidates.iter().map(|c| id(tenant, owner, c)).collect();
    let found: Vec<FriendDoc> = read_many(source, FRIENDS, &ids).await?;
    Ok(found.into_iter().map(|f| f.friend_user_id).collect())
}

/// Is `friend` in `owner`'s friend list?
pub async fn is_friend(source: &dyn DocSource, tenant: &str, owner: &str, friend: &str) -> Result<bool, StoreError> {
    Ok(source.get(FRIENDS, &id(tenant, owner, friend)).await?.is_some())
}

/// Requests `user` received (or, with `sent`, sent), newest first.
pub async fn requests(
    source: &dyn DocSource,
    tenant: &str,
    user: &str,
    sent: bool,
) -> Result<Vec<RequestDoc>, StoreError> {
    let collection = if sent { REQUESTS_SENT } else { REQUESTS_RECEIVED };
    let mut requests: Vec<RequestDoc> = list(source, collection, tenant, user).await?;
    requests.sort_by(|a, b| {
        (b.create_time, &a.from_user_id, &a.to_user_id).cmp(&(a.create_time, &b.from_user_id, &b.to_user_id))
    });
    Ok(requests)
}

/// `owner`'s blacklist, newest first.
pub async fn blacks(source: &dyn DocSource, tenant: &str, owner: &str) -> Result<Vec<BlackDoc>, StoreError> {
    let mut blacks: Vec<BlackDoc> = list(source, BLACKS, tenant, owner).await?;
    blacks.sort_by(|a, b| (b.create_time, &a.black_user_id).cmp(&(a.create_time, &b.black_user_id)));
    Ok(blacks)
}

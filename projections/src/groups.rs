//! Read models of the `group:` scope: group info (with its member count),
//! members per group, groups per user, and join requests per group and per
//! applicant. Every document is written by its group's decision scope only.
//! Members' nicknames and faces are their profiles, joined at query time.

use events::group::*;
use events::{DomainEvent, Envelope};
use serde::{Deserialize, Serialize};

use crate::store::{read_list, read_many, read_one};
use crate::{Batch, DocSource, ProjectionError, StoreError};

pub const GROUPS: &str = "groups";
/// `<tenant>:<groupID>:<userID>`
pub const MEMBERS: &str = "group_members";
/// `<tenant>:<userID>:<groupID>`
pub const JOINED: &str = "joined_groups";
/// `<tenant>:<groupID>:<userID>`
pub const REQUESTS_RECEIVED: &str = "group_requests_received";
/// `<tenant>:<userID>:<groupID>`
pub const REQUESTS_SENT: &str = "group_requests_sent";

/// A group's info as get_groups_info returns it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct GroupDoc {
    #[serde(rename = "groupID")]
    pub group_id: String,
    pub group_name: String,
    pub notification: String,
    pub introduction: String,
    #[serde(rename = "faceURL")]
    pub face_url: String,
    #[serde(rename = "ownerUserID")]
    pub owner_user_id: String,
    pub create_time: i64,
    pub member_count: u32,
    pub ex: String,
    pub status: i32,
    #[serde(rename = "creatorUserID")]
    pub creator_user_id: String,
    pub group_type: i32,
    pub need_verification: i32,
    pub look_member_info: i32,
    pub apply_member_friend: i32,
    pub notification_update_time: i64,
    #[serde(rename = "notificationUserID")]
    pub notification_user_id: String,
}

impl GroupDoc {
    /// A group as its creation makes it, with `member_count` members.
    pub fn created(e: &events::group::GroupCreated, member_count: u32) -> Self {
        GroupDoc {
            group_id: e.group_id.clone(),
            group_name: e.group_name.clone(),
            notification: e.notification.clone(),
            introduction: e.introduction.clone(),
            face_url: e.face_url.clone(),
            owner_user_id: e.owner_user_id.clone(),
            create_time: e.create_time,
            member_count,
            ex: e.ex.clone(),
            status: STATUS_NORMAL,
            creator_user_id: e.creator_user_id.clone(),
            group_type: e.group_type,
            need_verification: e.need_verification,
            look_member_info: e.look_member_info,
            apply_member_friend: e.apply_member_friend,
            notification_update_time: 0,
            notification_user_id: String::new(),
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct MemberDoc {
    #[serde(rename = "groupID")]
    pub group_id: String,
    #[serde(rename = "userID")]
    pub user_id: String,
    pub role_level: i32,
    pub join_time: i64,
    pub join_source: i32,
    #[serde(rename = "inviterUserID")]
    pub inviter_user_id: String,
    #[serde(rename = "operatorUserID")]
    pub operator_user_id: String,
    pub mute_end_time: i64,
    pub ex: String,
}

/// A group in a user's list of groups.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct JoinedDoc {
    #[serde(rename = "groupID")]
    pub group_id: String,
    pub role_level: i32,
    pub join_time: i64,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct RequestDoc {
    #[serde(rename = "groupID")]
    pub group_id: String,
    #[serde(rename = "userID")]
    pub user_id: String,
    /// 0 pending, 1 agreed, -1 refused.
    pub handle_result: i32,
    pub req_msg: String,
    pub req_time: i64,
    pub join_source: i32,
    #[serde(rename = "inviterUserID")]
    pub inviter_user_id: String,
    pub handled_msg: String,
    #[serde(rename = "handleUserID")]
    pub handle_user_id: String,
    pub handled_time: i64,
    pub ex: String,
}

pub fn group_doc_id(tenant: &str, group_id: &str) -> String {
    format!("{tenant}:{group_id}")
}

fn id(tenant: &str, owner: &str, other: &str) -> String {
    format!("{tenant}:{owner}:{other}")
}

/// The ID of a member's document.
pub fn member_doc_id(tenant: &str, group_id: &str, user_id: &str) -> String {
    id(tenant, group_id, user_id)
}

/// The read-model side of one group.
struct GroupDocs<'b, 'a> {
    batch: &'b mut Batch<'a>,
    envelope: &'b Envelope,
    group_id: &'b str,
}

impl GroupDocs<'_, '_> {
    fn tenant(&self) -> &str {
        &self.envelope.tenant_id
    }

    async fn update_group(&mut self, change: impl FnOnce(&mut GroupDoc)) -> Result<(), ProjectionError> {
        let key = group_doc_id(self.tenant(), self.group_id);
        let mut group: GroupDoc = self
            .batch
            .get(GROUPS, &key)
            .await?
            .ok_or_else(|| ProjectionError::missing(self.envelope, format!("group {key}")))?;
        change(&mut group);
        Ok(self.batch.put(GROUPS, key, &group)?)
    }

    async fn update_member(&mut self, user: &str, change: impl FnOnce(&mut MemberDoc)) -> Result<(), ProjectionError> {
        let key = id(self.tenant(), self.group_id, user);
        let mut member: MemberDoc = self
            .batch
            .get(MEMBERS, &key)
            .await?
            .ok_or_else(|| ProjectionError::missing(self.envelope, format!("group member {key}")))?;
        change(&mut member);
        let joined = JoinedDoc {
            group_id: member.group_id.clone(),
            role_level: member.role_level,
            join_time: member.join_time,
        };
        self.batch
            .put(JOINED, id(self.tenant(), user, self.group_id), &joined)?;
        Ok(self.batch.put(MEMBERS, key, &member)?)
    }

    async fn add_member(&mut self, member: MemberDoc) -> Result<(), ProjectionError> {
        let joined = JoinedDoc {
            group_id: member.group_id.clone(),
            role_level: member.role_level,
            join_time: member.join_time,
        };
        self.batch
            .put(JOINED, id(self.tenant(), &member.user_id, self.group_id), &joined)?;
        self.batch
            .put(MEMBERS, id(self.tenant(), self.group_id, &member.user_id), &member)?;
        self.update_group(|g| g.member_count += 1).await
    }

    async fn remove_members(&mut self, users: &[String]) -> Result<(), ProjectionError> {
        for user in users {
            let member = id(self.tenant(), self.group_id, user);
            let joined = id(self.tenant(), user, self.group_id);
            self.batch.delete(MEMBERS, member);
            self.batch.delete(JOINED, joined);
        }
        let gone = u32::try_from(users.len()).unwrap_or(u32::MAX);
        self.update_group(|g| g.member_count = g.member_count.saturating_sub(gone))
            .await
    }

    /// A request is listed twice: for the group and for its applicant.
    fn put_request(&mut self, request: &RequestDoc) -> Result<(), StoreError> {
        self.batch.put(
            REQUESTS_RECEIVED,
            id(self.tenant(), self.group_id, &request.user_id),
            request,
        )?;
        self.batch.put(
            REQUESTS_SENT,
            id(self.tenant(), &request.user_id, self.group_id),
            request,
        )
    }
}

pub(crate) async fn project(
    envelope: &Envelope,
    event: &DomainEvent,
    batch: &mut Batch<'_>,
) -> Result<(), ProjectionError> {
    let Some(group_id) = group_of(event) else {
        return Ok(());
    };
    let mut docs = GroupDocs {
        batch,
        envelope,
        group_id,
    };
    match event {
        DomainEvent::GroupCreated(e) => {
            // Each joining member's event counts itself.
            let group = GroupDoc::created(e, 0);
            let key = group_doc_id(docs.tenant(), group_id);
            docs.batch.put(GROUPS, key, &group)?;
        }
        DomainEvent::GroupInfoSet(e) => docs.update_group(|g| set_info(g, e)).await?,
        DomainEvent::GroupMemberJoined(e) => {
            let member = MemberDoc {
                group_id: e.group_id.clone(),
                user_id: e.user_id.clone(),
                role_level: e.role_level,
                join_time: e.join_time,
                join_source: e.join_source,
                inviter_user_id: e.inviter_user_id.clone(),
                operator_user_id: e.operator_user_id.clone(),
                mute_end_time: 0,
                ex: e.ex.clone(),
            };
            docs.add_member(member).await?;
        }
        DomainEvent::GroupJoinRequested(e) => {
            let request = RequestDoc {
                group_id: e.group_id.clone(),
                user_id: e.user_id.clone(),
                handle_result: 0,
                req_msg: e.req_msg.clone(),
                req_time: e.req_time,
                join_source: e.join_source,
                inviter_user_id: e.inviter_user_id.clone(),
                handled_msg: String::new(),
                handle_user_id: String::new(),
                handled_time: 0,
                ex: e.ex.clone(),
            };
            docs.put_request(&request)?;
        }
        DomainEvent::GroupJoinRequestHandled(e) => {
            let key = id(docs.tenant(), group_id, &e.user_id);
            let mut request: RequestDoc = docs
                .batch
                .get(REQUESTS_RECEIVED, &key)
                .await?
                .ok_or_else(|| ProjectionError::missing(envelope, format!("group request {key}")))?;
            request.handle_result = e.handle_result;
            request.handled_msg.clone_from(&e.handled_msg);
            request.handle_user_id.clone_from(&e.handle_user_id);
            request.handled_time = e.handled_time;
            docs.put_request(&request)?;
        }
        DomainEvent::GroupMemberQuit(GroupMemberQuit { user_id, .. })
        | DomainEvent::GroupMemberKicked(GroupMemberKicked { user_id, .. }) => {
            docs.remove_members(std::slice::from_ref(user_id)).await?;
        }
        DomainEvent::GroupOwnerTransferred(e) => {
            docs.update_group(|g| g.owner_user_id.clone_from(&e.new_owner_user_id))
                .await?;
            docs.update_member(&e.old_owner_user_id, |m| m.role_level = ROLE_MEMBER)
                .await?;
            docs.update_member(&e.new_owner_user_id, |m| m.role_level = ROLE_OWNER)
                .await?;
        }
        DomainEvent::GroupDismissed(e) => {
            docs.update_group(|g| g.status = STATUS_DISMISSED).await?;
            docs.remove_members(&e.removed_user_ids).await?;
        }
        DomainEvent::GroupMemberMuted(e) => {
            docs.update_member(&e.user_id, |m| m.mute_end_time = e.mute_end_time)
                .await?;
        }
        DomainEvent::GroupMemberMuteCancelled(e) => docs.update_member(&e.user_id, |m| m.mute_end_time = 0).await?,
        DomainEvent::GroupMuteSet(e) => {
            let status = if e.muted { STATUS_MUTED } else { STATUS_NORMAL };
            docs.update_group(|g| g.status = status).await?;
        }
        _ => {}
    }
    Ok(())
}

fn set_info(group: &mut GroupDoc, e: &GroupInfoSet) {
    e.apply_to(GroupInfoFields {
        group_name: &mut group.group_name,
        notification: &mut group.notification,
        introduction: &mut group.introduction,
        face_url: &mut group.face_url,
        ex: &mut group.ex,
        need_verification: &mut group.need_verification,
        look_member_info: &mut group.look_member_info,
        apply_member_friend: &mut group.apply_member_friend,
    });
    if let Some(v) = &e.notification_user_id {
        group.notification_user_id.clone_from(v);
    }
    if let Some(v) = e.notification_update_time {
        group.notification_update_time = v;
    }
}

/// The group a group event is about.
pub(crate) fn group_of(event: &DomainEvent) -> Option<&str> {
    Some(match event {
        DomainEvent::GroupCreated(e) => &e.group_id,
        DomainEvent::GroupInfoSet(e) => &e.group_id,
        DomainEvent::GroupMemberJoined(e) => &e.group_id,
        DomainEvent::GroupJoinRequested(e) => &e.group_id,
        DomainEvent::GroupJoinRequestHandled(e) => &e.group_id,
        DomainEvent::GroupMemberQuit(e) => &e.group_id,
        DomainEvent::GroupMemberKicked(e) => &e.group_id,
        DomainEvent::GroupOwnerTransferred(e) => &e.group_id,
        DomainEvent::GroupDismissed(e) => &e.group_id,
        DomainEvent::GroupMemberMuted(e) => &e.group_id,
        DomainEvent::GroupMemberMuteCancelled(e) => &e.group_id,
        DomainEvent::GroupMuteSet(e) => &e.group_id,
        _ => return None,
    })
}

/// Groups of `group_ids` in request order; unknown ones left out.
pub async fn groups(source: &dyn DocSource, tenant: &str, group_ids: &[String]) -> Result<Vec<GroupDoc>, StoreError> {
    let ids: Vec<String> = group_ids.iter().map(|g| group_doc_id(tenant, g)).collect();
    read_many(source, GROUPS, &ids).await
}

pub async fn group(source: &dyn DocSource, tenant: &str, group_id: &str) -> Result<Option<GroupDoc>, StoreError> {
    read_one(source, GROUPS, &group_doc_id(tenant, group_id)).await
}

/// Every member of a group: the owner, then admins, then members, each
/// rank in the order they joined.
pub async fn members(source: &dyn DocSource, tenant: &str, group_id: &str) -> Result<Vec<MemberDoc>, StoreError> {
    let mut members: Vec<MemberDoc> = read_list(source, MEMBERS, &format!("{tenant}:{group_id}:")).await?;
    members.sort_by(|a, b| (-a.role_level, a.join_time, &a.user_id).cmp(&(-b.role_level, b.join_time, &b.user_id)));
    Ok(members)
}

/// Members of a group among `user_ids`, in request order.
pub async fn members_among(
    source: &dyn DocSource,
    tenant: &str,
    group_id: &str,
    user_ids: &[String],
) -> Result<Vec<MemberDoc>, StoreError> {
    let ids: Vec<String> = user_ids.iter().map(|u| id(tenant, group_id, u)).collect();
    read_many(source, MEMBERS, &ids).await
}

/// The groups `user_id` is a member of, in the order joined.
pub async fn joined(source: &dyn DocSource, tenant: &str, user_id: &str) -> Result<Vec<JoinedDoc>, StoreError> {
    let mut joined: Vec<JoinedDoc> = read_list(source, JOINED, &format!("{tenant}:{user_id}:")).await?;
    joined.sort_by(|a, b| (a.join_time, &a.group_id).cmp(&(b.join_time, &b.group_id)));
    Ok(joined)
}

/// Join requests to a group (or, with `sent`, by a user), newest first.
pub async fn requests(
    source: &dyn DocSource,
    tenant: &str,
    owner: &str,
    sent: bool,
) -> Result<Vec<RequestDoc>, StoreError> {
    let collection = if sent { REQUESTS_SENT } else { REQUESTS_RECEIVED };
    let mut requests: Vec<RequestDoc> = read_list(source, collection, &format!("{tenant}:{owner}:")).await?;
    newest_first(&mut requests);
    Ok(requests)
}

/// Orders join requests newest first.
pub fn newest_first(requests: &mut [RequestDoc]) {
    requests.sort_by(|a, b| (b.req_time, &a.group_id, &a.user_id).cmp(&(a.req_time, &b.group_id, &b.user_id)));
}

//! Notifications: every event that concerns users other than its actor is
//! told to each of them (and to the actor's other devices) as a message in
//! a notification conversation with its own dense seqs, pulled like
//! messages and pushed at once (see `kinds` for what goes to whom).
//!
//! Seqs are assigned here, by the projector, so each seq line (a "lane") is
//! fed by exactly one decision scope and replays identically on any
//! deployment: a pair's `n_<a>_<b>` and a group's `na_<groupID>` lanes are
//! per recipient, `sn_<userID>` per recipient from the user's scope, and a
//! group's `ng_<groupID>` is one shared lane that each member sees from the
//! notice that made it a member up to the one that removed it.

pub mod kinds;

use std::collections::HashSet;

use events::group::ROLE_ADMIN;
use events::message::GROUP_CHAT;
use events::{DomainEvent, Envelope};
use serde::{Deserialize, Serialize};
use serde_json::json;

use self::kinds::{group_conversation_id, Notice, To};
use crate::messages::{MsgDoc, STATUS_SENT};
use crate::store::{read_list, read_many, read_one};
use crate::{groups, Batch, DocSource, ProjectionError, StoreError};

/// `<tenant>:<lane>:<seq, 20 digits>`: one notification (a message).
pub const NOTIFICATIONS: &str = "notifications";
/// `<tenant>:<lane>`: a group line's max seq and managers.
pub const LANES: &str = "notification_lanes";
/// `<tenant>:<userID>:<conversationID>`: a user's notification
/// conversations and the part of each it sees (and the max seq of a line
/// of its own).
pub const USER_NOTIFICATION_CONVERSATIONS: &str = "user_notification_conversations";
/// `<tenant>:<eventID>`: the notifications an event made (what push sends).
pub const BY_EVENT: &str = "notifications_by_event";

/// msgFrom of notifications (the reference's system messages).
pub const FROM_SYSTEM: i32 = 200;

/// One seq line.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct LaneDoc {
    pub lane: String,
    pub max_seq: u64,
    /// Group lanes: the owner and the admins (told of join applications).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub managers: Vec<String>,
}

/// A user's notification conversation.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct NotificationConversationDoc {
    #[serde(rename = "userID")]
    pub user_id: String,
    #[serde(rename = "conversationID")]
    pub conversation_id: String,
    pub lane: String,
    pub session_type: i32,
    /// The user sees the seqs after this one...
    pub join_seq: u64,
    /// ... up to this one, once it has left the group.
    pub leave_seq: Option<u64>,
    /// A user's own line: its max seq (a group's line keeps it in
    /// `notification_lanes`, shared by the members).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_seq: Option<u64>,
}

/// A notification an event made, for push.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Delivery {
    #[serde(rename = "conversationID")]
    pub conversation_id: String,
    pub lane: String,
    pub seq: u64,
    /// The one user of a per-user lane; `None` for a group lane (its
    /// members who see the seq).
    #[serde(rename = "userID")]
    pub user_id: Option<String>,
    /// Group lanes: the group, and who joined and left with this notice.
    #[serde(rename = "groupID")]
    pub group_id: String,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub joining: Vec<String>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub leaving: Vec<String>,
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Deliveries {
    pub deliveries: Vec<Delivery>,
}

fn notification_id(tenant: &str, lane: &str, seq: u64) -> String {
    format!("{tenant}:{lane}:{seq:020}")
}

fn lane_id(tenant: &str, lane: &str) -> String {
    format!("{tenant}:{lane}")
}

fn conversation_doc_id(tenant: &str, user_id: &str, conversation_id: &str) -> String {
    format!("{tenant}:{user_id}:{conversation_id}")
}

/// A user's own lane of a conversation (user IDs hold no `:`; a group
/// lane's name does not either).
fn user_lane(user_id: &str, conversation_id: &str) -> String {
    format!("{user_id}:{conversation_id}")
}

async fn lane(batch: &Batch<'_>, tenant: &str, lane: &str) -> Result<LaneDoc, StoreError> {
    let doc: Option<LaneDoc> = batch.get(LANES, &lane_id(tenant, lane)).await?;
    Ok(doc.unwrap_or_else(|| LaneDoc {
        lane: lane.to_owned(),
        ..LaneDoc::default()
    }))
}

/// Keeps a group lane's managers up to date with `event`;
/// returns the lane as it was before (its managers decide who hears of
/// applications), or `None` for events of no group.
async fn track_group(
    envelope: &Envelope,
    event: &DomainEvent,
    batch: &mut Batch<'_>,
) -> Result<Option<LaneDoc>, StoreError> {
    let Some(group_id) = groups::group_of(event) else {
        return Ok(None);
    };
    let tenant = &envelope.tenant_id;
    let name = group_conversation_id(group_id);
    let before = lane(batch, tenant, &name).await?;
    let mut after = before.clone();
    let without = |managers: &mut Vec<String>, user: &str| managers.retain(|m| m != user);
    match event {
        DomainEvent::GroupCreated(e) => after.managers = vec![e.owner_user_id.clone()],
        DomainEvent::GroupMemberJoined(e) if e.role_level >= ROLE_ADMIN && !after.managers.contains(&e.user_id) => {
            after.managers.push(e.user_id.clone())
        }
        DomainEvent::GroupMemberQuit(e) => without(&mut after.managers, &e.user_id),
        DomainEvent::GroupMemberKicked(e) => without(&mut after.managers, &e.user_id),
        DomainEvent::GroupOwnerTransferred(e) => {
            without(&mut after.managers, &e.old_owner_user_id);
            if !after.managers.contains(&e.new_owner_user_id) {
                after.managers.insert(0, e.new_owner_user_id.clone());
            }
        }
        DomainEvent::GroupDismissed(_) => after.managers.clear(),
        _ => {}
    }
    if after != before {
        batch.put(LANES, lane_id(tenant, &name), &after)?;
    }
    Ok(Some(before))
}

pub(crate) async fn project(
    envelope: &Envelope,
    event: &DomainEvent,
    batch: &mut Batch<'_>,
) -> Result<(), ProjectionError> {
    let tenant = &envelope.tenant_id;
    let group = track_group(envelope, event, batch).await?;
    if let DomainEvent::GroupMemberJoined(joined) = event {
        // An initial member joined with the creation notice already.
        let id = conversation_doc_id(tenant, &joined.user_id, &group_conversation_id(&joined.group_id));
        let line: Option<NotificationConversationDoc> = batch.get(USER_NOTIFICATION_CONVERSATIONS, &id).await?;
        if line.is_some_and(|l| l.leave_seq.is_none()) {
            return Ok(());
        }
    }
    let managers = group.as_ref().map_or(&[][..], |g| &g.managers[..]);
    let mut deliveries = Vec::new();
    if let Some(notice) = kinds::notice(envelope, event, batch, managers).await? {
        deliver(envelope, batch, notice, &mut deliveries).await?;
    }
    if !deliveries.is_empty() {
        let id = format!("{tenant}:{}", envelope.event_id);
        batch.put(BY_EVENT, id, &Deliveries { deliveries })?;
    }
    Ok(())
}

/// A notice as the message stored in a lane at `seq`.
fn notification(
    envelope: &Envelope,
    notice: &Notice,
    recv_id: &str,
    group_id: &str,
    session_type: i32,
    seq: u64,
) -> MsgDoc {
    // One notice per event: its copies share the event's ID.
    let id = envelope.event_id.simple().to_string();
    MsgDoc {
        client_msg_id: id.clone(),
        server_msg_id: id,
        send_id: envelope.actor_user_id.clone(),
        recv_id: recv_id.to_owned(),
        group_id: group_id.to_owned(),
        sender_nickname: String::new(),
        sender_face_url: String::new(),
        session_type,
        msg_from: FROM_SYSTEM,
        content_type: notice.content_type,
        content: json!({ "detail": notice.detail.to_string() }),
        seq,
        send_time: envelope.occurred_at,
        create_time: envelope.occurred_at,
        status: STATUS_SENT,
        ex: String::new(),
    }
}

/// Stores one notice in the lanes it goes to.
async fn deliver(
    envelope: &Envelope,
    batch: &mut Batch<'_>,
    notice: Notice,
    deliveries: &mut Vec<Delivery>,
) -> Result<(), ProjectionError> {
    let tenant = &envelope.tenant_id;
    match &notice.to {
        To::Users {
            conversation_id,
            session_type,
            group_id,
            users,
        } => {
            let mut told: HashSet<&String> = HashSet::with_capacity(users.len());
            for user in users {
                if !told.insert(user) {
                    continue;
                }
                // The user's own line: its document holds the max seq.
                let lane = user_lane(user, conversation_id);
                let id = conversation_doc_id(tenant, user, conversation_id);
                let known: Option<NotificationConversationDoc> =
                    batch.get(USER_NOTIFICATION_CONVERSATIONS, &id).await?;
                let mut line = known.unwrap_or_else(|| NotificationConversationDoc {
                    user_id: user.clone(),
                    conversation_id: conversation_id.clone(),
                    lane: lane.clone(),
                    session_type: *session_type,
                    join_seq: 0,
                    leave_seq: None,
                    max_seq: Some(0),
                });
                let seq = line.max_seq.unwrap_or(0) + 1;
                line.max_seq = Some(seq);
                batch.put(USER_NOTIFICATION_CONVERSATIONS, id, &line)?;
                let message = notification(envelope, &notice, user, group_id, *session_type, seq);
                batch.put(NOTIFICATIONS, notification_id(tenant, &lane, seq), &message)?;
                deliveries.push(Delivery {
                    conversation_id: conversation_id.clone(),
                    lane,
                    seq,
                    user_id: Some(user.clone()),
                    group_id: group_id.clone(),
                    joining: Vec::new(),
                    leaving: Vec::new(),
                });
            }
        }
        To::Group {
            group_id,
            joining,
            leaving,
        } => {
            let lane = group_conversation_id(group_id);
            let mut line = self::lane(batch, tenant, &lane).await?;
            line.max_seq += 1;
            let seq = line.max_seq;
            batch.put(LANES, lane_id(tenant, &lane), &line)?;
            let message = notification(envelope, &notice, "", group_id, GROUP_CHAT, seq);
            batch.put(NOTIFICATIONS, notification_id(tenant, &lane, seq), &message)?;
            for user in joining {
                let membership = NotificationConversationDoc::entering(user, &lane, seq);
                batch.put(
                    USER_NOTIFICATION_CONVERSATIONS,
                    conversation_doc_id(tenant, user, &lane),
                    &membership,
                )?;
            }
            for user in leaving {
                let id = conversation_doc_id(tenant, user, &lane);
                let membership: Option<NotificationConversationDoc> =
                    batch.get(USER_NOTIFICATION_CONVERSATIONS, &id).await?;
                // A member who joined before notifications existed (a log
                // projected before this projection) sees its leaving only.
                let mut membership =
                    membership.unwrap_or_else(|| NotificationConversationDoc::entering(user, &lane, seq));
                membership.leave_seq = Some(seq);
                batch.put(USER_NOTIFICATION_CONVERSATIONS, id, &membership)?;
            }
            deliveries.push(Delivery {
                conversation_id: lane.clone(),
                lane,
                seq,
                user_id: None,
                group_id: group_id.clone(),
                joining: joining.clone(),
                leaving: leaving.clone(),
            });
        }
    }
    Ok(())
}

/// A notification conversation as one user sees it.
#[derive(Debug, Clone)]
pub struct NotificationView {
    pub membership: NotificationConversationDoc,
    /// The first and last seq the user may see (empty when first > last).
    pub first: u64,
    pub last: u64,
}

impl NotificationConversationDoc {
    /// A place in a group's line, from notice `seq` on.
    fn entering(user_id: &str, lane: &str, seq: u64) -> Self {
        NotificationConversationDoc {
            user_id: user_id.to_owned(),
            conversation_id: lane.to_owned(),
            lane: lane.to_owned(),
            session_type: GROUP_CHAT,
            join_seq: seq - 1,
            leave_seq: None,
            max_seq: None,
        }
    }

    /// The seqs the user sees, given the lane's max seq.
    pub fn visible(&self, max_seq: u64) -> (u64, u64) {
        (
            self.join_seq + 1,
            self.leave_seq.map_or(max_seq, |left| left.min(max_seq)),
        )
    }

    pub fn sees(&self, seq: u64) -> bool {
        let (first, last) = self.visible(u64::MAX);
        (first..=last).contains(&seq)
    }
}

/// The user's notification conversations (`only`: just these IDs).
pub async fn conversations(
    source: &dyn DocSource,
    tenant: &str,
    user_id: &str,
    only: Option<&[String]>,
) -> Result<Vec<NotificationView>, StoreError> {
    let mut memberships: Vec<NotificationConversationDoc> = match only {
        Some(ids) => {
            let ids: Vec<String> = ids.iter().map(|c| conversation_doc_id(tenant, user_id, c)).collect();
            read_many(source, USER_NOTIFICATION_CONVERSATIONS, &ids).await?
        }
        None => read_list(source, USER_NOTIFICATION_CONVERSATIONS, &format!("{tenant}:{user_id}:")).await?,
    };
    memberships.dedup_by(|a, b| a.conversation_id == b.conversation_id);
    let shared: Vec<String> = memberships
        .iter()
        .filter(|m| m.max_seq.is_none())
        .map(|m| lane_id(tenant, &m.lane))
        .collect();
    let lanes: Vec<LaneDoc> = read_many(source, LANES, &shared).await?;
    let max = |m: &NotificationConversationDoc| {
        m.max_seq
            .or_else(|| lanes.iter().find(|l| l.lane == m.lane).map(|l| l.max_seq))
            .unwrap_or(0)
    };
    Ok(memberships
        .into_iter()
        .map(|m| {
            let (first, last) = m.visible(max(&m));
            NotificationView {
                membership: m,
                first,
                last,
            }
        })
        .collect())
}

/// The notifications of a lane at `seqs`, in that order.
pub async fn notifications(
    source: &dyn DocSource,
    tenant: &str,
    lane: &str,
    seqs: &[u64],
) -> Result<Vec<MsgDoc>, StoreError> {
    let ids: Vec<String> = seqs.iter().map(|s| notification_id(tenant, lane, *s)).collect();
    read_many(source, NOTIFICATIONS, &ids).await
}

/// What an event told whom (for push); empty for most events.
pub async fn deliveries(source: &dyn DocSource, tenant: &str, event_id: &str) -> Result<Vec<Delivery>, StoreError> {
    let found: Option<Deliveries> = read_one(source, BY_EVENT, &format!("{tenant}:{event_id}")).await?;
    Ok(found.map(|d| d.deliveries).unwrap_or_default())
}

/// The group-lane memberships of `users` (those who have one).
pub async fn memberships(
    source: &dyn DocSource,
    tenant: &str,
    conversation_id: &str,
    users: &[String],
) -> Result<Vec<NotificationConversationDoc>, StoreError> {
    let ids: Vec<String> = users
        .iter()
        .map(|u| conversation_doc_id(tenant, u, conversation_id))
        .collect();
    read_many(source, USER_NOTIFICATION_CONVERSATIONS, &ids).await
}

#[cfg(test)]
mod tests;

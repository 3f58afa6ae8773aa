//! Read models of messages: every stored message by conversation and seq,
//! each conversation's max seq, clientMsgID receipts, and each user's
//! conversations with the seqs they may see. One-to-one documents are
//! written by the pair's scope, group ones by the group's scope.

use std::collections::HashMap;

use events::message::{
    conversation_key, group_conversation_id, single_conversation_id, MessageSent, Receipt, GROUP_CHAT, REVOKED,
    SINGLE_CHAT,
};
use events::{DomainEvent, Envelope, StreamKey};
use serde::{Deserialize, Serialize};

use crate::store::{read_list, read_many, read_one};
use crate::{Batch, DocSource, ProjectionError, StoreError};

/// `<tenant>:<key>:<seq, 20 digits>` (key: see
/// [`events::message::conversation_key`]).
pub const MESSAGES: &str = "messages";
/// `<tenant>:<key>:<sender>:<clientMsgID>`
pub const RECEIPTS: &str = "message_receipts";
/// `<tenant>:<key>`
pub const SEQS: &str = "conversation_seqs";
/// `<tenant>:<userID>:<conversationID>`
pub const USER_CONVERSATIONS: &str = "user_conversations";

/// Message status of a stored message (the reference's MsgStatusSendSuccess).
pub const STATUS_SENT: i32 = 2;

/// A stored message as pulls return it (the spec's MsgData).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct MsgDoc {
    #[serde(rename = "serverMsgID")]
    pub server_msg_id: String,
    #[serde(rename = "clientMsgID")]
    pub client_msg_id: String,
    #[serde(rename = "sendID")]
    pub send_id: String,
    #[serde(rename = "recvID")]
    pub recv_id: String,
    #[serde(rename = "groupID")]
    pub group_id: String,
    pub sender_nickname: String,
    #[serde(rename = "senderFaceURL")]
    pub sender_face_url: String,
    pub session_type: i32,
    pub msg_from: i32,
    pub content_type: i32,
    pub content: serde_json::Value,
    pub seq: u64,
    pub send_time: i64,
    pub create_time: i64,
    pub status: i32,
    pub ex: String,
}

impl MsgDoc {
    /// The key of the conversation the message belongs to.
    pub fn key(&self) -> String {
        conversation_key(&self.send_id, &self.recv_id, &self.group_id)
    }

    /// A message as stored (and pushed) when it is sent.
    pub fn of(e: &MessageSent) -> Self {
        MsgDoc {
            server_msg_id: e.server_msg_id.clone(),
            client_msg_id: e.client_msg_id.clone(),
            send_id: e.send_id.clone(),
            recv_id: e.recv_id.clone(),
            group_id: e.group_id.clone(),
            sender_nickname: e.sender_nickname.clone(),
            sender_face_url: e.sender_face_url.clone(),
            session_type: e.session_type,
            msg_from: e.msg_from,
            content_type: e.content_type,
            content: e.content.clone(),
            seq: e.seq,
            send_time: e.send_time,
            create_time: e.send_time,
            status: STATUS_SENT,
            ex: e.ex.clone(),
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct SeqDoc {
    /// The conversation's key.
    pub key: String,
    pub max_seq: u64,
    /// Revoked seqs, ascending.
    #[serde(default)]
    pub revoked: Vec<u64>,
}

/// A conversation of one user and the part of it the user may see.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct UserConversationDoc {
    /// Whose conversation this is.
    #[serde(rename = "userID")]
    pub user_id: String,
    #[serde(rename = "conversationID")]
    pub conversation_id: String,
    /// Where the conversation's messages are stored (unambiguous).
    pub key: String,
    pub session_type: i32,
    /// The other user (one-to-one) or empty.
    #[serde(rename = "peerUserID")]
    pub peer_user_id: String,
    #[serde(rename = "groupID")]
    pub group_id: String,
    /// The conversation's max seq when the user (last) joined the group.
    pub join_seq: u64,
    /// The conversation's max seq when the user left; `None` while a member.
    pub leave_seq: Option<u64>,
    /// The seq of the user's latest own message: the user has read up to
    /// there (own messages are never unread).
    #[serde(default)]
    pub own_seq: u64,
}

impl UserConversationDoc {
    /// May the user see message `seq` (as a member when it was sent, or
    /// by the group's history policy)?
    pub fn sees(&self, seq: u64, history_for_new_members: bool) -> bool {
        let (first, last) = self.visible(u64::MAX, history_for_new_members);
        (first..=last).contains(&seq)
    }

    /// The seqs the user may see, given the conversation's max seq. New
    /// group members see the history before they joined only with
    /// `history_for_new_members`.
    pub fn visible(&self, max_seq: u64, history_for_new_members: bool) -> (u64, u64) {
        let min = if self.session_type == GROUP_CHAT && !history_for_new_members {
            self.join_seq + 1
        } else {
            1
        };
        (min, self.leave_seq.map_or(max_seq, |left| left.min(max_seq)))
    }
}

fn message_id(tenant: &str, key: &str, seq: u64) -> String {
    format!("{tenant}:{key}:{seq:020}")
}

fn receipt_id(tenant: &str, key: &str, sender: &str, client_msg_id: &str) -> String {
    format!("{tenant}:{key}:{sender}:{client_msg_id}")
}

/// The conversation key of events decided in `stream_key`'s scope.
fn key_of_stream(envelope: &Envelope) -> Option<String> {
    match envelope.stream_key.parse::<StreamKey>().ok()? {
        StreamKey::Pair { a, b, .. } => Some(conversation_key(&a, &b, "")),
        StreamKey::Group { group_id, .. } => Some(group_conversation_id(&group_id)),
        StreamKey::User { .. } => None,
    }
}

fn id(tenant: &str, owner: &str, other: &str) -> String {
    format!("{tenant}:{owner}:{other}")
}

fn seq_id(tenant: &str, key: &str) -> String {
    format!("{tenant}:{key}")
}

async fn seq_doc(batch: &Batch<'_>, tenant: &str, key: &str) -> Result<SeqDoc, StoreError> {
    let doc: Option<SeqDoc> = batch.get(SEQS, &seq_id(tenant, key)).await?;
    Ok(doc.unwrap_or_else(|| SeqDoc {
        key: key.to_owned(),
        max_seq: 0,
        revoked: Vec::new(),
    }))
}

async fn max_seq(batch: &Batch<'_>, tenant: &str, key: &str) -> Result<u64, StoreError> {
    Ok(seq_doc(batch, tenant, key).await?.max_seq)
}

pub(crate) async fn project(
    envelope: &Envelope,
    event: &DomainEvent,
    batch: &mut Batch<'_>,
) -> Result<(), ProjectionError> {
    let tenant = &envelope.tenant_id;
    match event {
        DomainEvent::MessageSent(e) => store_message(tenant, e, envelope, batch).await?,
        DomainEvent::MessageRevoked(e) => {
            let conversation = key_of_stream(envelope).ok_or_else(|| {
                ProjectionError::missing(envelope, format!("the conversation of {}", e.conversation_id))
            })?;
            let key = message_id(tenant, &conversation, e.seq);
            let mut message: MsgDoc = batch
                .get(MESSAGES, &key)
                .await?
                .ok_or_else(|| ProjectionError::missing(envelope, format!("message {key}")))?;
            message.content_type = REVOKED;
            message.content = serde_json::json!({
                "revokerUserID": e.revoker_user_id, "revokerRole": e.revoker_role, "revokeTime": e.revoke_time,
                "clientMsgID": e.client_msg_id, "seq": e.seq, "sourceMessageSendID": e.source_message_send_id,
            });
            batch.put(MESSAGES, key, &message)?;
            let mut seqs = seq_doc(batch, tenant, &conversation).await?;
            if let Err(at) = seqs.revoked.binary_search(&e.seq) {
                seqs.revoked.insert(at, e.seq);
            }
            batch.put(SEQS, seq_id(tenant, &conversation), &seqs)?;
        }
        DomainEvent::GroupMemberJoined(e) => {
            let conversation = group_conversation_id(&e.group_id);
            let key = id(tenant, &e.user_id, &conversation);
            let before: Option<UserConversationDoc> = batch.get(USER_CONVERSATIONS, &key).await?;
            let doc = UserConversationDoc {
                user_id: e.user_id.clone(),
                join_seq: max_seq(batch, tenant, &conversation).await?,
                key: conversation.clone(),
                conversation_id: conversation,
                session_type: GROUP_CHAT,
                peer_user_id: String::new(),
                group_id: e.group_id.clone(),
                leave_seq: None,
                own_seq: before.map_or(0, |d| d.own_seq),
            };
            batch.put(USER_CONVERSATIONS, id(tenant, &e.user_id, &doc.conversation_id), &doc)?;
        }
        DomainEvent::GroupMemberQuit(events::group::GroupMemberQuit { group_id, user_id })
        | DomainEvent::GroupMemberKicked(events::group::GroupMemberKicked { group_id, user_id, .. }) => {
            leave(tenant, group_id, std::slice::from_ref(user_id), envelope, batch).await?;
        }
        DomainEvent::GroupDismissed(e) => leave(tenant, &e.group_id, &e.removed_user_ids, envelope, batch).await?,
        _ => {}
    }
    Ok(())
}

async fn store_message(
    tenant: &str,
    e: &MessageSent,
    envelope: &Envelope,
    batch: &mut Batch<'_>,
) -> Result<(), ProjectionError> {
    let conversation = &e.conversation_id;
    let key = e.key();
    batch.put(MESSAGES, message_id(tenant, &key, e.seq), &MsgDoc::of(e))?;
    let receipt = receipt_id(tenant, &key, &e.send_id, &e.client_msg_id);
    batch.put(RECEIPTS, receipt, &Receipt::of(e))?;
    let mut seqs = seq_doc(batch, tenant, &key).await?;
    seqs.max_seq = e.seq;
    batch.put(SEQS, seq_id(tenant, &key), &seqs)?;
    if e.session_type == SINGLE_CHAT && e.seq == 1 {
        for (user, peer) in [(&e.send_id, &e.recv_id), (&e.recv_id, &e.send_id)] {
            let doc = UserConversationDoc {
                user_id: user.clone(),
                conversation_id: single_conversation_id(user, peer),
                key: key.clone(),
                session_type: SINGLE_CHAT,
                peer_user_id: peer.clone(),
                group_id: String::new(),
                join_seq: 0,
                leave_seq: None,
                own_seq: 0,
            };
            batch.put(USER_CONVERSATIONS, id(tenant, user, conversation), &doc)?;
        }
    }
    let mine = id(tenant, &e.send_id, conversation);
    let mut sender: UserConversationDoc = batch
        .get(USER_CONVERSATIONS, &mine)
        .await?
        .ok_or_else(|| ProjectionError::missing(envelope, format!("conversation {mine}")))?;
    sender.own_seq = e.seq;
    batch.put(USER_CONVERSATIONS, mine, &sender)?;
    Ok(())
}

/// Members who left keep the history up to the seq at which they left.
async fn leave(
    tenant: &str,
    group_id: &str,
    users: &[String],
    envelope: &Envelope,
    batch: &mut Batch<'_>,
) -> Result<(), ProjectionError> {
    let conversation = group_conversation_id(group_id);
    let left_at = max_seq(batch, tenant, &conversation).await?;
    for user in users {
        let key = id(tenant, user, &conversation);
        let mut doc: UserConversationDoc = batch
            .get(USER_CONVERSATIONS, &key)
            .await?
            .ok_or_else(|| ProjectionError::missing(envelope, format!("conversation {key}")))?;
        doc.leave_seq = Some(left_at);
        batch.put(USER_CONVERSATIONS, key, &doc)?;
    }
    Ok(())
}

/// Every conversation of a user (current and left ones).
pub async fn conversations(
    source: &dyn DocSource,
    tenant: &str,
    user_id: &str,
) -> Result<Vec<UserConversationDoc>, StoreError> {
    read_list(source, USER_CONVERSATIONS, &format!("{tenant}:{user_id}:")).await
}

/// The memberships of `users` in one conversation (those who have one).
pub async fn memberships(
    source: &dyn DocSource,
    tenant: &str,
    conversation_id: &str,
    users: &[String],
) -> Result<Vec<UserConversationDoc>, StoreError> {
    let ids: Vec<String> = users.iter().map(|u| id(tenant, u, conversation_id)).collect();
    read_many(source, USER_CONVERSATIONS, &ids).await
}

/// Messages of the conversation with this key at `seqs`, in that order
/// (missing ones left out).
pub async fn messages(
    source: &dyn DocSource,
    tenant: &str,
    key: &str,
    seqs: &[u64],
) -> Result<Vec<MsgDoc>, StoreError> {
    let ids: Vec<String> = seqs.iter().map(|s| message_id(tenant, key, *s)).collect();
    read_many(source, MESSAGES, &ids).await
}

/// One message of each of several conversations (`(key, seq)`), by key,
/// in one round trip.
pub async fn at(
    source: &dyn DocSource,
    tenant: &str,
    wanted: &[(String, u64)],
) -> Result<HashMap<String, MsgDoc>, StoreError> {
    let ids: Vec<String> = wanted.iter().map(|(k, seq)| message_id(tenant, k, *seq)).collect();
    let found: Vec<MsgDoc> = read_many(source, MESSAGES, &ids).await?;
    Ok(found.into_iter().map(|m| (m.key(), m)).collect())
}

/// The receipt of a message `sender` sent earlier with `client_msg_id`.
pub async fn receipt(
    source: &dyn DocSource,
    tenant: &str,
    key: &str,
    sender: &str,
    client_msg_id: &str,
) -> Result<Option<Receipt>, StoreError> {
    read_one(source, RECEIPTS, &receipt_id(tenant, key, sender, client_msg_id)).await
}

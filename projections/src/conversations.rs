//! Read model of each user's own side of its conversations (written by the
//! user's scope): settings, read position, cleared history and deleted
//! messages. Combined at query time with `messages` (the conversation's
//! side) into unread counts and the conversation list.

use events::{DomainEvent, Envelope};
use serde::{Deserialize, Serialize};

use crate::store::{read_list, read_one};
use crate::{Batch, DocSource, ProjectionError, StoreError};

/// `<tenant>:<userID>:<conversationID>`
pub const SETTINGS: &str = "conversation_settings";

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct SettingsDoc {
    #[serde(rename = "conversationID")]
    pub conversation_id: String,
    pub is_pinned: bool,
    pub recv_msg_opt: i32,
    pub ex: String,
    pub has_read_seq: u64,
    pub cleared_seq: u64,
    /// Seqs this user deleted, ascending.
    pub deleted_seqs: Vec<u64>,
}

fn id(tenant: &str, user: &str, conversation: &str) -> String {
    format!("{tenant}:{user}:{conversation}")
}

pub(crate) async fn project(
    envelope: &Envelope,
    event: &DomainEvent,
    batch: &mut Batch<'_>,
) -> Result<(), ProjectionError> {
    let (user, conversation) = match event {
        DomainEvent::ConversationSettingsSet(e) => (&e.user_id, &e.conversation_id),
        DomainEvent::ConversationRead(e) => (&e.user_id, &e.conversation_id),
        DomainEvent::ConversationCleared(e) => (&e.user_id, &e.conversation_id),
        DomainEvent::MessagesDeleted(e) => (&e.user_id, &e.conversation_id),
        _ => return Ok(()),
    };
    let key = id(&envelope.tenant_id, user, conversation);
    let mut doc: SettingsDoc = batch.get(SETTINGS, &key).await?.unwrap_or_else(|| SettingsDoc {
        conversation_id: conversation.clone(),
        ..SettingsDoc::default()
    });
    match event {
        DomainEvent::ConversationSettingsSet(e) => {
            if let Some(v) = e.is_pinned {
                doc.is_pinned = v;
            }
            if let Some(v) = e.recv_msg_opt {
                doc.recv_msg_opt = v;
            }
            if let Some(v) = &e.ex {
                doc.ex.clone_from(v);
            }
        }
        DomainEvent::ConversationRead(e) => doc.has_read_seq = doc.has_read_seq.max(e.has_read_seq),
        DomainEvent::ConversationCleared(e) => doc.cleared_seq = doc.cleared_seq.max(e.cleared_seq),
        DomainEvent::MessagesDeleted(e) => {
            doc.deleted_seqs.extend(&e.seqs);
            doc.deleted_seqs.sort_unstable();
            doc.deleted_seqs.dedup();
        }
        _ => {}
    }
    Ok(batch.put(SETTINGS, key, &doc)?)
}

/// The user's side of every conversation it has touched.
pub async fn all(source: &dyn DocSource, tenant: &str, user_id: &str) -> Result<Vec<SettingsDoc>, StoreError> {
    read_list(source, SETTINGS, &format!("{tenant}:{user_id}:")).await
}

/// The user's side of one conversation (defaults if untouched).
pub async fn one(
    source: &dyn DocSource,
    tenant: &str,
    user_id: &str,
    conversation_id: &str,
) -> Result<SettingsDoc, StoreError> {
    let doc: Option<SettingsDoc> = read_one(source, SETTINGS, &id(tenant, user_id, conversation_id)).await?;
    Ok(doc.unwrap_or_else(|| SettingsDoc {
        conversation_id: conversation_id.to_owned(),
        ..SettingsDoc::default()
    }))
}

//! What one-to-one and group decisions share about sending: the new
//! message, its receipt, and a conversation's seq counter with the recent
//! clientMsgIDs that make a retried send idempotent.

use std::collections::{BTreeSet, VecDeque};

use events::message::{MessageRevoked, MessageSent, Receipt, FROM_USER};
use events::DomainEvent;
use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::CommandError;

/// How many recent clientMsgIDs a conversation's state remembers. Older
/// retries are answered by the API from the read models.
pub const RECENT_CLIENT_IDS: usize = 128;

/// A message as the API hands it to a decision.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct NewMessage {
    pub send_id: String,
    /// The other user (one-to-one) or empty.
    pub recv_id: String,
    /// The group (group chat) or empty.
    pub group_id: String,
    pub client_msg_id: String,
    /// Picked by the API node; kept only if the message is new.
    pub server_msg_id: String,
    pub sender_nickname: String,
    pub sender_face_url: String,
    pub content_type: i32,
    pub content: Value,
    pub ex: String,
}

/// A conversation's seq counter and its most recent receipts.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Conversation {
    pub max_seq: u64,
    /// The latest messages' senders and receipts.
    recent: VecDeque<(String, Receipt)>,
    #[serde(default)]
    revoked: BTreeSet<u64>,
}

/// A revocation as the API hands it to a decision: who revokes, and the
/// message's sender and clientMsgID as the read models show them (messages
/// never change sender, so the fact cannot go stale).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Revocation {
    pub conversation_id: String,
    pub seq: u64,
    pub revoker: String,
    pub sender: String,
    pub client_msg_id: String,
}

impl Conversation {
    pub fn apply(&mut self, e: &MessageSent) {
        self.max_seq = e.seq;
        if self.recent.len() == RECENT_CLIENT_IDS {
            self.recent.pop_front();
        }
        self.recent.push_back((e.send_id.clone(), Receipt::of(e)));
    }

    pub fn apply_revoked(&mut self, e: &MessageRevoked) {
        self.revoked.insert(e.seq);
    }

    /// The revocation of an existing, not yet revoked message.
    pub fn revoke(&self, r: &Revocation, revoker_role: i32, now_ms: i64) -> Result<DomainEvent, CommandError> {
        if r.seq == 0 || r.seq > self.max_seq {
            return Err(CommandError::NotFound(format!(
                "no message {} in {}",
                r.seq, r.conversation_id
            )));
        }
        if self.revoked.contains(&r.seq) {
            return Err(CommandError::MsgAlreadyRevoked(r.seq));
        }
        Ok(DomainEvent::MessageRevoked(MessageRevoked {
            conversation_id: r.conversation_id.clone(),
            seq: r.seq,
            revoker_user_id: r.revoker.clone(),
            revoker_role,
            revoke_time: now_ms,
            client_msg_id: r.client_msg_id.clone(),
            source_message_send_id: r.sender.clone(),
        }))
    }

    /// A retry of a recent message (same sender, same clientMsgID) is
    /// answered with its receipt.
    pub fn not_sent_yet(&self, message: &NewMessage) -> Result<(), CommandError> {
        let retried = self
            .recent
            .iter()
            .find(|(sender, r)| *sender == message.send_id && r.client_msg_id == message.client_msg_id);
        match retried {
            Some((_, receipt)) => Err(CommandError::AlreadySent(receipt.clone())),
            None => Ok(()),
        }
    }

    /// The message stored as the conversation's next seq.
    pub fn next(&self, message: &NewMessage, conversation_id: String, session_type: i32, now_ms: i64) -> DomainEvent {
        DomainEvent::MessageSent(MessageSent {
            conversation_id,
            seq: self.max_seq + 1,
            server_msg_id: message.server_msg_id.clone(),
            client_msg_id: message.client_msg_id.clone(),
            send_id: message.send_id.clone(),
            recv_id: message.recv_id.clone(),
            group_id: message.group_id.clone(),
            sender_nickname: message.sender_nickname.clone(),
            sender_face_url: message.sender_face_url.clone(),
            session_type,
            msg_from: FROM_USER,
            content_type: message.content_type,
            content: message.content.clone(),
            send_time: now_ms,
            ex: message.ex.clone(),
        })
    }
}

#[cfg(test)]
mod tests;

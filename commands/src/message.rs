//! What one-to-one and group decisions share about sending: the new
//! message, its receipt, and a conversation's seq counter with the recent
//! clientMsgIDs that make a retried send idempotent.

use std::collections::VecDeque;

use events::message::{MessageSent, Receipt, FROM_USER};
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
    recent: VecDeque<Receipt>,
}

impl Conversation {
    pub fn apply(&mut self, e: &MessageSent) {
        self.max_seq = e.seq;
        if self.recent.len() == RECENT_CLIENT_IDS {
            self.recent.pop_front();
        }
        self.recent.push_back(Receipt::of(e));
    }

    /// A retry of a recent message is answered with its receipt.
    pub fn not_sent_yet(&self, message: &NewMessage) -> Result<(), CommandError> {
        match self.recent.iter().find(|r| r.client_msg_id == message.client_msg_id) {
            Some(receipt) => Err(CommandError::AlreadySent(receipt.clone())),
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

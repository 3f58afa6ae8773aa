//! A user's own side of its conversations, decided in the user's scope:
//! settings, read position, clearing and deleting messages for itself.
//! Facts about the conversation (its max seq visible to the user) come
//! from the read models; a max seq only grows, so a stale one can only
//! refuse, never let through, a seq that does not exist.

use std::collections::BTreeMap;

use events::conversation::*;
use events::DomainEvent;
use serde::{Deserialize, Serialize};

use crate::rules::{acting_for, unless};
use crate::{Actor, CommandError};

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub enum ConversationCommand {
    Set {
        conversation_id: String,
        is_pinned: Option<bool>,
        recv_msg_opt: Option<i32>,
        ex: Option<String>,
    },
    /// Raise the read position to `has_read_seq` (mark_conversation_as_read)
    /// or to the highest of `seqs` (mark_msgs_as_read).
    MarkRead {
        conversation_id: String,
        has_read_seq: u64,
        seqs: Vec<u64>,
        max_seq: u64,
    },
    /// Hide everything up to each conversation's current max seq.
    Clear { max_seqs: BTreeMap<String, u64> },
    DeleteMessages {
        conversation_id: String,
        seqs: Vec<u64>,
        max_seq: u64,
    },
}

impl ConversationCommand {
    pub fn name(&self) -> &'static str {
        match self {
            ConversationCommand::Set { .. } => "set_conversations",
            ConversationCommand::MarkRead { seqs, .. } if !seqs.is_empty() => "mark_msgs_as_read",
            ConversationCommand::MarkRead { .. } => "mark_conversation_as_read",
            ConversationCommand::Clear { .. } => "clear_conversation_msg",
            ConversationCommand::DeleteMessages { .. } => "delete_msgs",
        }
    }
}

/// What the decisions remember of one conversation of the user.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Position {
    pub has_read_seq: u64,
    pub cleared_seq: u64,
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Conversations {
    positions: BTreeMap<String, Position>,
}

impl Conversations {
    pub fn apply(&mut self, event: &DomainEvent) {
        match event {
            DomainEvent::ConversationRead(e) => {
                let position = self.positions.entry(e.conversation_id.clone()).or_default();
                position.has_read_seq = position.has_read_seq.max(e.has_read_seq);
            }
            DomainEvent::ConversationCleared(e) => {
                let position = self.positions.entry(e.conversation_id.clone()).or_default();
                position.cleared_seq = position.cleared_seq.max(e.cleared_seq);
            }
            _ => {}
        }
    }

    fn position(&self, conversation_id: &str) -> Position {
        self.positions.get(conversation_id).cloned().unwrap_or_default()
    }

    pub fn decide(
        &self,
        user_id: &str,
        command: &ConversationCommand,
        actor: &Actor,
    ) -> Result<Vec<DomainEvent>, CommandError> {
        acting_for(actor, user_id)?;
        match command {
            ConversationCommand::Set {
                conversation_id,
                is_pinned,
                recv_msg_opt,
                ex,
            } => {
                if is_pinned.is_none() && recv_msg_opt.is_none() && ex.is_none() {
                    return Ok(vec![]);
                }
                Ok(vec![DomainEvent::ConversationSettingsSet(ConversationSettingsSet {
                    user_id: user_id.to_owned(),
                    conversation_id: conversation_id.clone(),
                    is_pinned: *is_pinned,
                    recv_msg_opt: *recv_msg_opt,
                    ex: ex.clone(),
                })])
            }
            ConversationCommand::MarkRead {
                conversation_id,
                has_read_seq,
                seqs,
                max_seq,
            } => {
                let beyond: Vec<String> = std::iter::once(has_read_seq)
                    .chain(seqs)
                    .filter(|s| *s > max_seq)
                    .map(u64::to_string)
                    .collect();
                unless(beyond.is_empty(), || {
                    CommandError::InvalidArgument(format!(
                        "seq {} is beyond the newest message of {conversation_id} ({max_seq})",
                        beyond.join(", ")
                    ))
                })?;
                unless(seqs.iter().all(|s| *s >= 1), || {
                    CommandError::InvalidArgument("seqs start at 1".into())
                })?;
                let target = seqs.iter().copied().max().unwrap_or(0).max(*has_read_seq);
                if target <= self.position(conversation_id).has_read_seq && seqs.is_empty() {
                    return Ok(vec![]);
                }
                Ok(vec![DomainEvent::ConversationRead(ConversationRead {
                    user_id: user_id.to_owned(),
                    conversation_id: conversation_id.clone(),
                    has_read_seq: target.max(self.position(conversation_id).has_read_seq),
                    seqs: seqs.clone(),
                })])
            }
            ConversationCommand::Clear { max_seqs } => Ok(max_seqs
                .iter()
                .filter(|(conversation, max)| **max > self.position(conversation).cleared_seq)
                .map(|(conversation, max)| {
                    DomainEvent::ConversationCleared(ConversationCleared {
                        user_id: user_id.to_owned(),
                        conversation_id: conversation.clone(),
                        cleared_seq: *max,
                    })
                })
                .collect()),
            ConversationCommand::DeleteMessages {
                conversation_id,
                seqs,
                max_seq,
            } => {
                let unknown: Vec<String> = seqs
                    .iter()
                    .filter(|s| **s == 0 || *s > max_seq)
                    .map(u64::to_string)
                    .collect();
                unless(unknown.is_empty(), || {
                    CommandError::NotFound(format!("no message {} in {conversation_id}", unknown.join(", ")))
                })?;
                Ok(vec![DomainEvent::MessagesDeleted(MessagesDeleted {
                    user_id: user_id.to_owned(),
                    conversation_id: conversation_id.clone(),
                    seqs: seqs.clone(),
                })])
            }
        }
    }
}

#[cfg(test)]
mod tests;

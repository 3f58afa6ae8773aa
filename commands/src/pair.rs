//! The `pair:` decision scope: friend requests, friendship and blacklist
//! between two users.
//!
//! Deleting a friend is one-way, as in the reference server: the owner's
//! list loses the friend, the friend's list keeps the owner. `is_friend`
//! answers per direction accordingly.

use std::collections::{BTreeMap, BTreeSet};

use events::friend::*;
use events::message::{single_conversation_id, SINGLE_CHAT};
use events::DomainEvent;
use serde::{Deserialize, Serialize};

use crate::message::{Conversation, NewMessage, Revocation};
use crate::rules::{acting_for, unless};
use crate::{Actor, CommandError};

/// addSource of a friendship made by a request and its answer.
pub const BY_APPLY: i32 = 2;
/// addSource of a blacklist entry added by its owner.
pub const BY_OWNER: i32 = 0;

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub enum PairCommand {
    AddFriend {
        from: String,
        to: String,
        req_msg: String,
        ex: String,
        /// Whether `to` is a registered user (a fact from the read models;
        /// users are never removed, so a "yes" never goes stale).
        to_exists: bool,
    },
    RespondFriend {
        from: String,
        to: String,
        /// 1 agree, -1 refuse.
        handle_result: i32,
        handle_msg: String,
    },
    DeleteFriend {
        owner: String,
        friend: String,
    },
    UpdateFriend {
        owner: String,
        friend: String,
        is_pinned: Option<bool>,
        remark: Option<String>,
        ex: Option<String>,
    },
    AddBlack {
        owner: String,
        black: String,
        ex: String,
        black_exists: bool,
    },
    RemoveBlack {
        owner: String,
        black: String,
    },
    /// Revoke a message of the pair's conversation (`a`, `b`: its users).
    Revoke {
        a: String,
        b: String,
        revocation: Revocation,
    },
    SendMsg {
        message: NewMessage,
        /// Whether the recipient is registered (from the read models).
        recipient_exists: bool,
        /// Deployment setting: only friends may message each other.
        friend_verify: bool,
    },
}

impl PairCommand {
    /// The two users, in the command's own order.
    pub fn users(&self) -> (&str, &str) {
        match self {
            PairCommand::AddFriend { from, to, .. } | PairCommand::RespondFriend { from, to, .. } => (from, to),
            PairCommand::DeleteFriend { owner, friend } | PairCommand::UpdateFriend { owner, friend, .. } => {
                (owner, friend)
            }
            PairCommand::AddBlack { owner, black, .. } | PairCommand::RemoveBlack { owner, black } => (owner, black),
            PairCommand::SendMsg { message, .. } => (&message.send_id, &message.recv_id),
            PairCommand::Revoke { a, b, .. } => (a, b),
        }
    }

    pub fn name(&self) -> &'static str {
        match self {
            PairCommand::AddFriend { .. } => "add_friend",
            PairCommand::RespondFriend { .. } => "add_friend_response",
            PairCommand::DeleteFriend { .. } => "delete_friend",
            PairCommand::UpdateFriend { .. } => "update_friends",
            PairCommand::AddBlack { .. } => "add_black",
            PairCommand::RemoveBlack { .. } => "remove_black",
            PairCommand::SendMsg { .. } => "send_msg",
            PairCommand::Revoke { .. } => "revoke_msg",
        }
    }
}

/// What the decisions of a pair need, keyed by the user the fact belongs to.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct PairState {
    /// handleResult of the latest request sent by each user (0 pending).
    requests: BTreeMap<String, i32>,
    /// Users whose friend list holds the other user.
    friend_of: BTreeSet<String>,
    /// Users who have blacklisted the other user.
    blacked_by: BTreeSet<String>,
    /// Their one-to-one conversation.
    #[serde(default)]
    chat: Conversation,
}

impl PairState {
    pub fn apply(&mut self, event: &DomainEvent) {
        match event {
            DomainEvent::FriendRequested(e) => {
                self.requests.insert(e.from_user_id.clone(), 0);
            }
            DomainEvent::FriendRequestHandled(e) => {
                self.requests.insert(e.from_user_id.clone(), e.handle_result);
            }
            DomainEvent::FriendAdded(e) => {
                self.friend_of.insert(e.owner_user_id.clone());
            }
            DomainEvent::FriendDeleted(e) => {
                self.friend_of.remove(&e.owner_user_id);
            }
            DomainEvent::BlackAdded(e) => {
                self.blacked_by.insert(e.owner_user_id.clone());
            }
            DomainEvent::BlackRemoved(e) => {
                self.blacked_by.remove(&e.owner_user_id);
            }
            DomainEvent::MessageSent(e) => self.chat.apply(e),
            DomainEvent::MessageRevoked(e) => self.chat.apply_revoked(e),
            // Settings and events of other scopes change no decision here.
            _ => {}
        }
    }

    /// The friendship events that make `a` and `b` friends both ways,
    /// leaving out a direction that already holds.
    fn befriend(&self, a: &str, b: &str, operator: &str, now_ms: i64) -> Vec<DomainEvent> {
        [(a, b), (b, a)]
            .into_iter()
            .filter(|(owner, _)| !self.friend_of.contains(*owner))
            .map(|(owner, friend)| {
                DomainEvent::FriendAdded(FriendAdded {
                    owner_user_id: owner.to_owned(),
                    friend_user_id: friend.to_owned(),
                    add_source: BY_APPLY,
                    operator_user_id: operator.to_owned(),
                    create_time: now_ms,
                })
            })
            .collect()
    }

    pub fn decide(&self, command: &PairCommand, actor: &Actor, now_ms: i64) -> Result<Vec<DomainEvent>, CommandError> {
        match command {
            PairCommand::AddFriend {
                from,
                to,
                req_msg,
                ex,
                to_exists,
            } => {
                acting_for(actor, from)?;
                unless(from != to, || CommandError::CannotAddYourself)?;
                unless(*to_exists, || CommandError::UserNotFound(to.clone()))?;
                unless(!(self.friend_of.contains(from) && self.friend_of.contains(to)), || {
                    CommandError::RelationshipAlready(format!("{from} and {to} are already friends"))
                })?;
                unless(!self.blacked_by.contains(to), || {
                    CommandError::BlockedByPeer(to.clone())
                })?;
                let mut events = vec![DomainEvent::FriendRequested(FriendRequested {
                    from_user_id: from.clone(),
                    to_user_id: to.clone(),
                    req_msg: req_msg.clone(),
                    ex: ex.clone(),
                    create_time: now_ms,
                })];
                if self.requests.get(to) == Some(&0) {
                    // Both asked: friends at once, both requests agreed.
                    for (requester, receiver) in [(to, from), (from, to)] {
                        events.push(DomainEvent::FriendRequestHandled(FriendRequestHandled {
                            from_user_id: requester.clone(),
                            to_user_id: receiver.clone(),
                            handle_result: 1,
                            handle_msg: String::new(),
                            handler_user_id: actor.user_id.clone(),
                            handle_time: now_ms,
                        }));
                    }
                    events.extend(self.befriend(from, to, &actor.user_id, now_ms));
                }
                Ok(events)
            }
            PairCommand::RespondFriend {
                from,
                to,
                handle_result,
                handle_msg,
            } => {
                acting_for(actor, to)?;
                let current = self
                    .requests
                    .get(from)
                    .ok_or_else(|| CommandError::NotFound(format!("no friend request from {from} to {to}")))?;
                unless(*current == 0, || {
                    CommandError::RequestHandled(format!("{from} -> {to}"))
                })?;
                let mut events = vec![DomainEvent::FriendRequestHandled(FriendRequestHandled {
                    from_user_id: from.clone(),
                    to_user_id: to.clone(),
                    handle_result: *handle_result,
                    handle_msg: handle_msg.clone(),
                    handler_user_id: actor.user_id.clone(),
                    handle_time: now_ms,
                })];
                if *handle_result == 1 {
                    events.extend(self.befriend(from, to, &actor.user_id, now_ms));
                }
                Ok(events)
            }
            PairCommand::DeleteFriend { owner, friend } => {
                acting_for(actor, owner)?;
                unless(self.friend_of.contains(owner), || {
                    CommandError::NotFriend(friend.clone())
                })?;
                Ok(vec![DomainEvent::FriendDeleted(FriendDeleted {
                    owner_user_id: owner.clone(),
                    friend_user_id: friend.clone(),
                })])
            }
            PairCommand::UpdateFriend {
                owner,
                friend,
                is_pinned,
                remark,
                ex,
            } => {
                acting_for(actor, owner)?;
                unless(self.friend_of.contains(owner), || {
                    CommandError::NotFriend(friend.clone())
                })?;
                Ok(vec![DomainEvent::FriendUpdated(FriendUpdated {
                    owner_user_id: owner.clone(),
                    friend_user_id: friend.clone(),
                    is_pinned: *is_pinned,
                    remark: remark.clone(),
                    ex: ex.clone(),
                })])
            }
            PairCommand::AddBlack {
                owner,
                black,
                ex,
                black_exists,
            } => {
                acting_for(actor, owner)?;
                unless(owner != black, || {
                    CommandError::InvalidArgument("blackUserID: cannot blacklist yourself".into())
                })?;
                unless(*black_exists, || CommandError::UserNotFound(black.clone()))?;
                unless(!self.blacked_by.contains(owner), || {
                    CommandError::RelationshipAlready(format!("{black} is already in {owner}'s blacklist"))
                })?;
                Ok(vec![DomainEvent::BlackAdded(BlackAdded {
                    owner_user_id: owner.clone(),
                    black_user_id: black.clone(),
                    ex: ex.clone(),
                    add_source: BY_OWNER,
                    operator_user_id: actor.user_id.clone(),
                    create_time: now_ms,
                })])
            }
            PairCommand::RemoveBlack { owner, black } => {
                acting_for(actor, owner)?;
                if !self.blacked_by.contains(owner) {
                    return Ok(vec![]);
                }
                Ok(vec![DomainEvent::BlackRemoved(BlackRemoved {
                    owner_user_id: owner.clone(),
                    black_user_id: black.clone(),
                })])
            }
            PairCommand::Revoke { revocation, .. } => {
                acting_for(actor, &revocation.revoker)?;
                unless(actor.acts_for(&revocation.sender), || {
                    CommandError::NoPermission(format!(
                        "only {} (who sent it) may revoke message {}",
                        revocation.sender, revocation.seq
                    ))
                })?;
                Ok(vec![self.chat.revoke(revocation, 0, now_ms)?])
            }
            PairCommand::SendMsg {
                message,
                recipient_exists,
                friend_verify,
            } => {
                let (sender, recipient) = (&message.send_id, &message.recv_id);
                acting_for(actor, sender)?;
                self.chat.not_sent_yet(message)?;
                unless(sender != recipient, || {
                    CommandError::InvalidArgument("recvID: cannot send a message to yourself".into())
                })?;
                unless(*recipient_exists, || CommandError::UserNotFound(recipient.clone()))?;
                unless(!self.blacked_by.contains(recipient), || {
                    CommandError::BlockedByPeer(recipient.clone())
                })?;
                unless(!friend_verify || self.friend_of.contains(recipient), || {
                    CommandError::NotFriend(format!("{sender} (in the friend list of {recipient})"))
                })?;
                let conversation = single_conversation_id(sender, recipient);
                Ok(vec![self.chat.next(message, conversation, SINGLE_CHAT, now_ms)])
            }
        }
    }
}

#[cfg(test)]
mod tests;

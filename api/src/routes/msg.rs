//! `/msg/*`: sending, newest seqs and pulls. The same operations serve the
//! WebSocket gateway's requests (see `crate::gateway`).

use std::collections::{BTreeMap, HashMap};

use axum::extract::State;
use commands::conversation::ConversationCommand;
use commands::group::GroupCommand;
use commands::message::{NewMessage, Revocation};
use commands::pair::PairCommand;
use commands::user::UserCommand;
use commands::{Command, CommandError};
use events::message::{conversation_key, MessageSent, Receipt, SINGLE_CHAT};
use events::DomainEvent;
use infra::write_side::WriteError;
use projections::notifications::kinds::is_notification_conversation;
use projections::view::{self, ConversationView};
use projections::{groups, messages, notifications};
use schemas::message::*;
use serde_json::{json, Value};

use super::{open_list, profiles, Reply};
use crate::error::AppError;
use crate::extract::{ApiJson, Caller};
use crate::state::AppState;

/// Sends a message; a retry with the same clientMsgID gets the original
/// receipt and stores nothing.
pub async fn send(state: &AppState, caller: &Caller, req: SendMsgReq) -> Result<(Receipt, u64), AppError> {
    if !caller.actor().acts_for(&req.send_id) {
        return Err(AppError::no_permission(format!(
            "{} may not send as {}",
            caller.user_id, req.send_id
        )));
    }
    let tenant = &caller.meta.tenant;
    let single = req.session_type == SINGLE_CHAT;
    // A retry of an older message of this sender: its original receipt.
    if !req.client_msg_id.is_empty() {
        let key = conversation_key(&req.send_id, &req.recv_id, &req.group_id);
        let earlier = messages::receipt(state.reads(), tenant, &key, &req.send_id, &req.client_msg_id).await?;
        if let Some(receipt) = earlier {
            return Ok((receipt, 0));
        }
    }
    let found = profiles(state, tenant, vec![req.send_id.clone(), req.recv_id.clone()]).await?;
    let sender = found.get(&req.send_id);
    let or_profile = |given: String, field: fn(&projections::users::UserDoc) -> &String| {
        if given.is_empty() {
            sender.map(field).cloned().unwrap_or_default()
        } else {
            given
        }
    };
    let message = NewMessage {
        sender_nickname: or_profile(req.sender_nickname, |u| &u.nickname),
        sender_face_url: or_profile(req.sender_face_url, |u| &u.face_url),
        client_msg_id: if req.client_msg_id.is_empty() {
            uuid::Uuid::new_v4().simple().to_string()
        } else {
            req.client_msg_id
        },
        server_msg_id: uuid::Uuid::now_v7().simple().to_string(),
        send_id: req.send_id,
        recv_id: req.recv_id,
        group_id: req.group_id,
        content_type: req.content_type,
        content: req.content,
        ex: req.ex,
    };
    let command = if single {
        Command::Pair(PairCommand::SendMsg {
            recipient_exists: found.contains_key(&message.recv_id),
            friend_verify: state.friend_verify,
            message,
        })
    } else {
        Command::Group(GroupCommand::SendMsg(message))
    };
    match state.try_execute(&caller.meta, caller.actor(), command).await {
        Ok(executed) => {
            let sent = executed.events.iter().find_map(|e| match e.event() {
                Ok(DomainEvent::MessageSent(m)) => Some(m),
                _ => None,
            });
            let sent: MessageSent = sent.ok_or_else(|| AppError::internal("send_msg stored no message".to_owned()))?;
            Ok((Receipt::of(&sent), executed.position))
        }
        Err(WriteError::Rejected(CommandError::AlreadySent(receipt))) => Ok((receipt, 0)),
        Err(e) => Err(e.into()),
    }
}

pub async fn send_msg(
    State(state): State<AppState>,
    caller: Caller,
    ApiJson(req): ApiJson<SendMsgReq>,
) -> Result<Reply, AppError> {
    let (receipt, position) = send(&state, &caller, req).await?;
    Ok(Reply::data(receipt)?.at(position))
}

/// The user's views of conversations it is (or was) in, in the order
/// asked, read in one pass: 1002 when the caller may not act for the user
/// or the user is not in one of them, 1004 when one does not exist.
pub async fn open_conversations(
    state: &AppState,
    caller: &Caller,
    user_id: &str,
    conversation_ids: &[String],
) -> Result<Vec<ConversationView>, AppError> {
    open_list(state, caller, user_id).await?;
    let tenant = &caller.meta.tenant;
    let history = state.history_for_new_members;
    let views = view::conversations(state.reads(), tenant, user_id, Some(conversation_ids), history).await?;
    let mut by_id: HashMap<String, ConversationView> = views
        .into_iter()
        .map(|v| (v.membership.conversation_id.clone(), v))
        .collect();
    let mut found = Vec::with_capacity(conversation_ids.len());
    for conversation_id in conversation_ids {
        match by_id.remove(conversation_id) {
            Some(view) => found.push(view),
            None => return Err(not_in(state, tenant, user_id, conversation_id).await?),
        }
    }
    Ok(found)
}

/// One conversation: see [`open_conversations`].
pub async fn open_conversation(
    state: &AppState,
    caller: &Caller,
    user_id: &str,
    conversation_id: &str,
) -> Result<ConversationView, AppError> {
    let mut found = open_conversations(state, caller, user_id, &[conversation_id.to_owned()]).await?;
    found
        .pop()
        .ok_or_else(|| AppError::internal("a conversation went missing"))
}

/// Why a user has no view of a conversation. A group's conversation
/// exists with the group. A one-to-one ID that does not name the user
/// belongs to others: 1002, whether or not they ever chatted (that is not
/// revealed); one that names the user but has no message yet is unknown.
async fn not_in(state: &AppState, tenant: &str, user_id: &str, conversation_id: &str) -> Result<AppError, AppError> {
    let belongs_to_others = match (conversation_id.strip_prefix("sg_"), conversation_id.strip_prefix("si_")) {
        (Some(group_id), _) => groups::group(state.reads(), tenant, group_id).await?.is_some(),
        (None, Some(pair)) => !(pair.starts_with(&format!("{user_id}_")) || pair.ends_with(&format!("_{user_id}"))),
        (None, None) => false,
    };
    if belongs_to_others {
        return Ok(AppError::no_permission(format!(
            "{user_id} is not in conversation {conversation_id}"
        )));
    }
    Ok(CommandError::NotFound(format!("{user_id} has no conversation {conversation_id}")).into())
}

/// `{maxSeqs, minSeqs}` of every conversation the user is (or was) in:
/// the seqs the user may see.
pub async fn newest(state: &AppState, caller: &Caller, req: UserReq) -> Result<Value, AppError> {
    open_list(state, caller, &req.user_id).await?;
    let tenant = &caller.meta.tenant;
    let views = view::conversations(state.reads(), tenant, &req.user_id, None, state.history_for_new_members).await?;
    let (mut max_seqs, mut min_seqs) = (BTreeMap::new(), BTreeMap::new());
    for v in views {
        max_seqs.insert(v.membership.conversation_id.clone(), v.last);
        min_seqs.insert(v.membership.conversation_id, v.first);
    }
    for v in notifications::conversations(state.reads(), tenant, &req.user_id, None).await? {
        max_seqs.insert(v.membership.conversation_id.clone(), v.last);
        min_seqs.insert(v.membership.conversation_id, v.first);
    }
    Ok(json!({ "maxSeqs": max_seqs, "minSeqs": min_seqs }))
}

pub async fn newest_seq(
    State(state): State<AppState>,
    caller: Caller,
    ApiJson(req): ApiJson<UserReq>,
) -> Result<Reply, AppError> {
    Reply::data(newest(&state, &caller, req).await?)
}

/// Per range, up to `num` of the messages (or, for notification
/// conversations, the notifications) the user may see.
pub async fn pull(state: &AppState, caller: &Caller, req: PullMsgBySeqReq) -> Result<Value, AppError> {
    let tenant = &caller.meta.tenant;
    let descending = req.descending();
    let (noticed, chats): (Vec<SeqRange>, Vec<SeqRange>) = req
        .seq_ranges
        .into_iter()
        .partition(|r| is_notification_conversation(&r.conversation_id));
    let mut pulled = serde_json::Map::new();
    let ids: Vec<String> = chats.iter().map(|r| r.conversation_id.clone()).collect();
    let views = open_conversations(state, caller, &req.user_id, &ids).await?;
    for (range, seen) in chats.into_iter().zip(views) {
        let page = Page::of(&range, seen.first, seen.last, descending);
        let shown: Vec<u64> = page.seqs.iter().copied().filter(|s| seen.shows(*s)).collect();
        let msgs = messages::messages(state.reads(), tenant, &seen.membership.key, &shown).await?;
        pulled.insert(range.conversation_id, page.reply(msgs));
    }
    let mut notices = serde_json::Map::new();
    if !noticed.is_empty() {
        let ids: Vec<String> = noticed.iter().map(|r| r.conversation_id.clone()).collect();
        let mut views = notifications::conversations(state.reads(), tenant, &req.user_id, Some(&ids)).await?;
        for range in noticed {
            let at = views
                .iter()
                .position(|v| v.membership.conversation_id == range.conversation_id);
            let Some(seen) = at.map(|at| views.swap_remove(at)) else {
                return Err(CommandError::NotFound(format!(
                    "{} has no notification conversation {}",
                    req.user_id, range.conversation_id
                ))
                .into());
            };
            let page = Page::of(&range, seen.first, seen.last, descending);
            let msgs = notifications::notifications(state.reads(), tenant, &seen.membership.lane, &page.seqs).await?;
            notices.insert(range.conversation_id, page.reply(msgs));
        }
    }
    Ok(json!({ "msgs": pulled, "notificationMsgs": notices }))
}

/// The seqs one range of a pull asks for within what the user sees.
struct Page {
    seqs: Vec<u64>,
    is_end: bool,
}

impl Page {
    fn of(range: &SeqRange, first: u64, last: u64, descending: bool) -> Self {
        let (from, to) = (range.begin.max(first), range.end.min(last));
        let seqs: Vec<u64> = if from > to {
            Vec::new()
        } else if descending {
            (from.max(to.saturating_sub(range.num - 1))..=to).rev().collect()
        } else {
            (from..=to.min(from + range.num - 1)).collect()
        };
        let is_end = seqs
            .last()
            .is_none_or(|last| *last == if descending { from } else { to });
        Page { seqs, is_end }
    }

    fn reply(&self, msgs: Vec<messages::MsgDoc>) -> Value {
        let end_seq = self.seqs.last().copied().unwrap_or(0);
        json!({ "Msgs": msgs, "isEnd": self.is_end, "endSeq": end_seq })
    }
}

pub async fn pull_msg_by_seq(
    State(state): State<AppState>,
    caller: Caller,
    ApiJson(req): ApiJson<PullMsgBySeqReq>,
) -> Result<Reply, AppError> {
    Reply::data(pull(&state, &caller, req).await?)
}

/// One-to-one: the sender (or an app admin). Group: the sender, the owner,
/// an admin for ordinary members' messages (or an app admin).
pub async fn revoke_msg(
    State(state): State<AppState>,
    caller: Caller,
    ApiJson(req): ApiJson<RevokeMsgReq>,
) -> Result<Reply, AppError> {
    let seen = open_conversation(&state, &caller, &req.user_id, &req.conversation_id).await?;
    let tenant = &caller.meta.tenant;
    let found = messages::messages(state.reads(), tenant, &seen.membership.key, &[req.seq]).await?;
    let message = found
        .into_iter()
        .next()
        .filter(|_| seen.shows(req.seq))
        .ok_or_else(|| CommandError::NotFound(format!("no message {} in {}", req.seq, req.conversation_id)))?;
    let revocation = Revocation {
        conversation_id: req.conversation_id,
        seq: req.seq,
        revoker: req.user_id.clone(),
        sender: message.send_id,
        client_msg_id: message.client_msg_id,
    };
    let command = if seen.membership.session_type == SINGLE_CHAT {
        Command::Pair(PairCommand::Revoke {
            a: req.user_id,
            b: seen.membership.peer_user_id,
            revocation,
        })
    } else {
        Command::Group(GroupCommand::Revoke {
            group_id: seen.membership.group_id,
            revocation,
        })
    };
    let position = state.execute(&caller.meta, caller.actor(), command).await?;
    Ok(Reply::empty().at(position))
}

/// A user's own side of its conversations, decided in its user scope.
async fn for_user(
    state: &AppState,
    caller: &Caller,
    user_id: String,
    command: ConversationCommand,
) -> Result<Reply, AppError> {
    let command = Command::User(UserCommand::Conversation { user_id, command });
    let position = state.execute(&caller.meta, caller.actor(), command).await?;
    Ok(Reply::empty().at(position))
}

pub async fn mark_msgs_as_read(
    State(state): State<AppState>,
    caller: Caller,
    ApiJson(req): ApiJson<ConversationSeqsReq>,
) -> Result<Reply, AppError> {
    let seen = open_conversation(&state, &caller, &req.user_id, &req.conversation_id).await?;
    let command = ConversationCommand::MarkRead {
        conversation_id: req.conversation_id,
        has_read_seq: 0,
        seqs: req.seqs,
        max_seq: seen.last,
    };
    for_user(&state, &caller, req.user_id, command).await
}

pub async fn mark_conversation_as_read(
    State(state): State<AppState>,
    caller: Caller,
    ApiJson(req): ApiJson<MarkConversationAsReadReq>,
) -> Result<Reply, AppError> {
    let seen = open_conversation(&state, &caller, &req.user_id, &req.conversation_id).await?;
    let command = ConversationCommand::MarkRead {
        conversation_id: req.conversation_id,
        has_read_seq: req.has_read_seq,
        seqs: req.seqs,
        max_seq: seen.last,
    };
    for_user(&state, &caller, req.user_id, command).await
}

pub async fn clear_conversation_msg(
    State(state): State<AppState>,
    caller: Caller,
    ApiJson(req): ApiJson<ClearConversationMsgReq>,
) -> Result<Reply, AppError> {
    let views = open_conversations(&state, &caller, &req.user_id, &req.conversation_ids).await?;
    let max_seqs = views
        .into_iter()
        .map(|v| (v.membership.conversation_id, v.last))
        .collect();
    for_user(&state, &caller, req.user_id, ConversationCommand::Clear { max_seqs }).await
}

pub async fn delete_msgs(
    State(state): State<AppState>,
    caller: Caller,
    ApiJson(req): ApiJson<ConversationSeqsReq>,
) -> Result<Reply, AppError> {
    let seen = open_conversation(&state, &caller, &req.user_id, &req.conversation_id).await?;
    let command = ConversationCommand::DeleteMessages {
        conversation_id: req.conversation_id,
        seqs: req.seqs,
        max_seq: seen.last,
    };
    for_user(&state, &caller, req.user_id, command).await
}

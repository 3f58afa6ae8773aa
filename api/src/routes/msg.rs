//! `/msg/*`: sending, newest seqs and pulls. The same operations serve the
//! WebSocket gateway's requests (see `crate::gateway`).

use std::collections::BTreeMap;

use axum::extract::State;
use commands::group::GroupCommand;
use commands::message::NewMessage;
use commands::pair::PairCommand;
use commands::{Command, CommandError};
use events::message::{group_conversation_id, single_conversation_id, MessageSent, Receipt, SINGLE_CHAT};
use events::DomainEvent;
use infra::write_side::WriteError;
use projections::messages;
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
    let conversation = if single {
        single_conversation_id(&req.send_id, &req.recv_id)
    } else {
        group_conversation_id(&req.group_id)
    };
    if !req.client_msg_id.is_empty() {
        if let Some(receipt) = messages::receipt(state.reads(), tenant, &conversation, &req.client_msg_id).await? {
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

/// `{maxSeqs, minSeqs}` of every conversation the user is (or was) in:
/// the seqs the user may see.
pub async fn newest(state: &AppState, caller: &Caller, req: NewestSeqReq) -> Result<Value, AppError> {
    open_list(state, caller, &req.user_id).await?;
    let tenant = &caller.meta.tenant;
    let conversations = messages::conversations(state.reads(), tenant, &req.user_id).await?;
    let ids: Vec<String> = conversations.iter().map(|c| c.conversation_id.clone()).collect();
    let max = messages::max_seqs(state.reads(), tenant, &ids).await?;
    let (mut max_seqs, mut min_seqs) = (BTreeMap::new(), BTreeMap::new());
    for c in conversations {
        let (lo, hi) = c.visible(max[&c.conversation_id], state.history_for_new_members);
        max_seqs.insert(c.conversation_id.clone(), hi);
        min_seqs.insert(c.conversation_id, lo);
    }
    Ok(json!({ "maxSeqs": max_seqs, "minSeqs": min_seqs }))
}

pub async fn newest_seq(
    State(state): State<AppState>,
    caller: Caller,
    ApiJson(req): ApiJson<NewestSeqReq>,
) -> Result<Reply, AppError> {
    Reply::data(newest(&state, &caller, req).await?)
}

/// Per range, up to `num` of the messages the user may see.
pub async fn pull(state: &AppState, caller: &Caller, req: PullMsgBySeqReq) -> Result<Value, AppError> {
    open_list(state, caller, &req.user_id).await?;
    let tenant = &caller.meta.tenant;
    let descending = req.descending();
    let mut pulled = serde_json::Map::new();
    for range in req.seq_ranges {
        let conversation = &range.conversation_id;
        let membership = messages::conversation(state.reads(), tenant, &req.user_id, conversation)
            .await?
            .ok_or_else(|| AppError::no_permission(format!("{} is not in conversation {conversation}", req.user_id)))?;
        let max = messages::max_seqs(state.reads(), tenant, std::slice::from_ref(conversation)).await?;
        let (lo, hi) = membership.visible(max[conversation], state.history_for_new_members);
        let (from, to) = (range.begin.max(lo), range.end.min(hi));
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
        let msgs = messages::messages(state.reads(), tenant, conversation, &seqs).await?;
        pulled.insert(
            conversation.clone(),
            json!({ "Msgs": msgs, "isEnd": is_end, "endSeq": seqs.last().copied().unwrap_or(0) }),
        );
    }
    Ok(json!({ "msgs": pulled }))
}

pub async fn pull_msg_by_seq(
    State(state): State<AppState>,
    caller: Caller,
    ApiJson(req): ApiJson<PullMsgBySeqReq>,
) -> Result<Reply, AppError> {
    Reply::data(pull(&state, &caller, req).await?)
}

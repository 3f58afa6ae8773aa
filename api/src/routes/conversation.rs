//! `/conversation/*`: each user's conversation list with exact unread
//! counts, and its per-conversation settings.

use std::collections::HashMap;

use axum::extract::State;
use commands::conversation::ConversationCommand;
use commands::user::UserCommand;
use commands::Command;
use events::conversation::RECV_NOT_NOTIFY;
use events::message::SINGLE_CHAT;
use projections::conversations;
use projections::groups::{self, GroupDoc};
use projections::messages::{self, MsgDoc};
use projections::users::UserDoc;
use projections::view::{self, ConversationView};
use schemas::conversation::*;
use schemas::message::UserReq;
use serde_json::{json, Value};

use super::msg::open_conversation;
use super::{open_list, profiles, Reply};
use crate::error::AppError;
use crate::extract::{ApiJson, Caller};
use crate::state::AppState;

/// Pinned first, then the newest latest message, then conversation ID: a
/// total order, so no conversation is ever lost between pages.
pub async fn get_sorted_conversation_list(
    State(state): State<AppState>,
    caller: Caller,
    ApiJson(req): ApiJson<SortedConversationListReq>,
) -> Result<Reply, AppError> {
    open_list(&state, &caller, &req.user_id).await?;
    let tenant = &caller.meta.tenant;
    let only = req.conversation_ids.as_deref().filter(|ids| !ids.is_empty());
    let mut views =
        view::conversations(state.reads(), tenant, &req.user_id, only, state.history_for_new_members).await?;
    // A conversation exists for a user once it has a message.
    views.retain(|v| v.seqs.max_seq > 0);
    let wanted: Vec<(String, u64)> = views
        .iter()
        .filter_map(|v| v.latest().map(|seq| (v.membership.key.clone(), seq)))
        .collect();
    let mut latest = messages::at(state.reads(), tenant, &wanted).await?;
    // The list shows content as JSON text: open it before it is encoded.
    for message in latest.values_mut() {
        state.vault.open(&mut message.content).await?;
    }
    let time = |v: &ConversationView| latest.get(&v.membership.key).map_or(0, |m| m.send_time);
    views.sort_by(|a, b| {
        (!a.settings.is_pinned, -time(a), &a.membership.conversation_id).cmp(&(
            !b.settings.is_pinned,
            -time(b),
            &b.membership.conversation_id,
        ))
    });
    let unread_total: u64 = views.iter().map(ConversationView::unread).sum();
    let conversation_total = views.len();
    let page = req.pagination.unwrap_or(DEFAULT_PAGE).page(views);

    let peers: Vec<String> = page.iter().map(|v| v.membership.peer_user_id.clone()).collect();
    let peers = profiles(&state, tenant, peers).await?;
    let group_ids: Vec<String> = page.iter().map(|v| v.membership.group_id.clone()).collect();
    let infos: HashMap<String, GroupDoc> = groups::groups(state.reads(), tenant, &group_ids)
        .await?
        .into_iter()
        .map(|g| (g.group_id.clone(), g))
        .collect();
    let elems: Vec<Value> = page
        .iter()
        .map(|v| {
            let message = latest.get(&v.membership.key);
            let group = infos.get(&v.membership.group_id);
            json!({
                "conversationID": v.membership.conversation_id, "recvMsgOpt": v.settings.recv_msg_opt,
                "unreadCount": v.unread(), "IsPinned": v.settings.is_pinned,
                "msgInfo": msg_info(v, message, peers.get(&v.membership.peer_user_id), group),
            })
        })
        .collect();
    Reply::data(json!({
        "conversationTotal": conversation_total, "unreadTotal": unread_total, "conversationElems": elems,
    }))
}

/// The latest message as the list shows it: in one-to-one chats with the
/// peer's current profile, in groups with the group's current info.
fn msg_info(v: &ConversationView, message: Option<&MsgDoc>, peer: Option<&UserDoc>, group: Option<&GroupDoc>) -> Value {
    let single = v.membership.session_type == SINGLE_CHAT;
    let (sender_name, face_url) = match (single, message) {
        (true, _) => (
            peer.map(|p| p.nickname.clone()).unwrap_or_default(),
            peer.map(|p| p.face_url.clone()).unwrap_or_default(),
        ),
        (false, Some(m)) => (m.sender_nickname.clone(), m.sender_face_url.clone()),
        (false, None) => (String::new(), String::new()),
    };
    json!({
        "serverMsgID": message.map(|m| m.server_msg_id.as_str()).unwrap_or_default(),
        "clientMsgID": message.map(|m| m.client_msg_id.as_str()).unwrap_or_default(),
        "sessionType": v.membership.session_type,
        "sendID": message.map(|m| m.send_id.as_str()).unwrap_or_default(),
        "recvID": message.map(|m| m.recv_id.as_str()).unwrap_or_default(),
        "senderName": sender_name, "faceURL": face_url,
        "groupID": v.membership.group_id,
        "groupName": group.map(|g| g.group_name.as_str()).unwrap_or_default(),
        "groupFaceURL": group.map(|g| g.face_url.as_str()).unwrap_or_default(),
        "groupType": group.map_or(0, |g| g.group_type),
        "groupMemberCount": group.map_or(0, |g| g.member_count),
        "LatestMsgRecvTime": message.map_or(0, |m| m.send_time),
        "msgFrom": message.map_or(0, |m| m.msg_from),
        "contentType": message.map_or(0, |m| m.content_type),
        "content": message.map(|m| m.content.to_string()).unwrap_or_default(),
        "ex": message.map(|m| m.ex.as_str()).unwrap_or_default(),
    })
}

pub async fn set_conversations(
    State(state): State<AppState>,
    caller: Caller,
    ApiJson(req): ApiJson<SetConversationsReq>,
) -> Result<Reply, AppError> {
    let c = req.conversation;
    open_conversation(&state, &caller, &req.user_id, &c.conversation_id).await?;
    let command = ConversationCommand::Set {
        conversation_id: c.conversation_id,
        is_pinned: c.is_pinned,
        recv_msg_opt: c.recv_msg_opt,
        ex: c.ex,
    };
    let command = Command::User(UserCommand::Conversation {
        user_id: req.user_id,
        command,
    });
    let position = state.execute(&caller.meta, caller.actor(), command).await?;
    Ok(Reply::empty().at(position))
}

/// The IDs of the user's conversations whose settings pass `keep`.
async fn ids_where(
    state: &AppState,
    caller: &Caller,
    user_id: &str,
    keep: fn(&conversations::SettingsDoc) -> bool,
) -> Result<Reply, AppError> {
    open_list(state, caller, user_id).await?;
    let all = conversations::all(state.reads(), &caller.meta.tenant, user_id).await?;
    let ids: Vec<String> = all.into_iter().filter(keep).map(|s| s.conversation_id).collect();
    Reply::data(json!({ "conversationIDs": ids }))
}

pub async fn get_pinned_conversation_ids(
    State(state): State<AppState>,
    caller: Caller,
    ApiJson(req): ApiJson<UserReq>,
) -> Result<Reply, AppError> {
    ids_where(&state, &caller, &req.user_id, |s| s.is_pinned).await
}

/// recvMsgOpt 2: receive without notification.
pub async fn get_not_notify_conversation_ids(
    State(state): State<AppState>,
    caller: Caller,
    ApiJson(req): ApiJson<UserReq>,
) -> Result<Reply, AppError> {
    ids_where(&state, &caller, &req.user_id, |s| s.recv_msg_opt == RECV_NOT_NOTIFY).await
}

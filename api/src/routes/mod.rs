//! HTTP routes and the success side of the reply envelope.

mod audit;
mod conversation;
mod friend;
mod group;
pub mod msg;
mod user;

use std::collections::HashMap;

use axum::body::Body;
use axum::extract::{Request, State};
use axum::http::header::{CONTENT_LENGTH, CONTENT_TYPE};
use axum::http::{HeaderValue, StatusCode};
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use infra::vault::seal;
use projections::users::{self, UserDoc};
use schemas::ApiReply;
use serde::Serialize;
use tracing::Instrument;

use crate::error::AppError;
use crate::extract::{Caller, OPERATION_ID, POSITION};
use crate::state::AppState;

pub fn router(state: AppState) -> Router {
    Router::new()
        .route("/user/self_register", post(user::self_register))
        .route("/user/self_login", post(user::self_login))
        .route("/user/update_user_info_ex", post(user::update_user_info_ex))
        .route("/user/get_users_info", post(user::get_users_info))
        .route("/friend/add_friend", post(friend::add_friend))
        .route("/friend/add_friend_response", post(friend::add_friend_response))
        .route("/friend/delete_friend", post(friend::delete_friend))
        .route("/friend/get_friend_apply_list", post(friend::get_friend_apply_list))
        .route(
            "/friend/get_self_friend_apply_list",
            post(friend::get_self_friend_apply_list),
        )
        .route("/friend/get_friend_list", post(friend::get_friend_list))
        .route("/friend/add_black", post(friend::add_black))
        .route("/friend/get_black_list", post(friend::get_black_list))
        .route("/friend/remove_black", post(friend::remove_black))
        .route("/friend/is_friend", post(friend::is_friend))
        .route("/friend/update_friends", post(friend::update_friends))
        .route("/group/create_group", post(group::create_group))
        .route("/group/set_group_info_ex", post(group::set_group_info_ex))
        .route("/group/join_group", post(group::join_group))
        .route(
            "/group/group_application_response",
            post(group::group_application_response),
        )
        .route("/group/quit_group", post(group::quit_group))
        .route("/group/transfer_group", post(group::transfer_group))
        .route("/group/get_groups_info", post(group::get_groups_info))
        .route("/group/kick_group", post(group::kick_group))
        .route("/group/get_group_members_info", post(group::get_group_members_info))
        .route("/group/get_group_member_list", post(group::get_group_member_list))
        .route("/group/invite_user_to_group", post(group::invite_user_to_group))
        .route("/group/dismiss_group", post(group::dismiss_group))
        .route("/group/mute_group_member", post(group::mute_group_member))
        .route("/group/cancel_mute_group_member", post(group::cancel_mute_group_member))
        .route("/group/mute_group", post(group::mute_group))
        .route("/group/cancel_mute_group", post(group::cancel_mute_group))
        .route("/group/get_joined_group_list", post(group::get_joined_group_list))
        .route(
            "/group/get_recv_group_applicationList",
            post(group::get_recv_group_application_list),
        )
        .route(
            "/group/get_user_req_group_applicationList",
            post(group::get_user_req_group_application_list),
        )
        .route("/ws", get(crate::gateway::connect))
        .route("/audit/events", post(audit::events))
        .route("/audit/state", post(audit::state))
        .route("/audit/forget_user", post(audit::forget_user))
        .route("/msg/send_msg", post(msg::send_msg))
        .route("/msg/newest_seq", post(msg::newest_seq))
        .route("/msg/pull_msg_by_seq", post(msg::pull_msg_by_seq))
        .route("/msg/revoke_msg", post(msg::revoke_msg))
        .route("/msg/mark_msgs_as_read", post(msg::mark_msgs_as_read))
        .route("/msg/mark_conversation_as_read", post(msg::mark_conversation_as_read))
        .route("/msg/clear_conversation_msg", post(msg::clear_conversation_msg))
        .route("/msg/delete_msgs", post(msg::delete_msgs))
        .route(
            "/conversation/get_sorted_conversation_list",
            post(conversation::get_sorted_conversation_list),
        )
        .route("/conversation/set_conversations", post(conversation::set_conversations))
        .route(
            "/conversation/get_pinned_conversation_ids",
            post(conversation::get_pinned_conversation_ids),
        )
        .route(
            "/conversation/get_not_notify_conversation_ids",
            post(conversation::get_not_notify_conversation_ids),
        )
        .fallback(|| async { AppError::new(1004, "no such endpoint") })
        .layer(middleware::from_fn_with_state(state.clone(), open_sealed))
        .layer(middleware::from_fn(trace_request))
        .with_state(state)
}

/// Lists are their owner's: others get 1002 (app admins excepted). Once
/// allowed, waits for the read position the caller asked for.
async fn open_list(state: &AppState, caller: &Caller, user_id: &str) -> Result<(), AppError> {
    if !(caller.is_admin || caller.user_id == user_id) {
        return Err(AppError::no_permission(format!(
            "{} may not read the lists of {user_id}",
            caller.user_id
        )));
    }
    state.await_position(caller.meta.min_position).await
}

/// Current profiles of `ids`, by user ID.
async fn profiles(state: &AppState, tenant: &str, ids: Vec<String>) -> Result<HashMap<String, UserDoc>, AppError> {
    let found = users::profiles(state.reads(), tenant, &ids).await?;
    Ok(found.into_iter().map(|u| (u.user_id.clone(), u)).collect())
}

/// Every request runs in a span carrying its operationID.
async fn trace_request(req: Request, next: Next) -> Response {
    let operation_id = req
        .headers()
        .get(OPERATION_ID)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("")
        .to_owned();
    let span = tracing::info_span!("request", operation_id = %operation_id, path = %req.uri().path());
    next.run(req).instrument(span).await
}

/// Read models hold personal fields sealed, as the log does: every JSON
/// reply that carries one has it opened on the way out (or "[erased]" once
/// its owner is forgotten), whatever the endpoint.
async fn open_sealed(State(state): State<AppState>, req: Request, next: Next) -> Response {
    let response = next.run(req).await;
    let is_json = response
        .headers()
        .get(CONTENT_TYPE)
        .is_some_and(|t| t == "application/json");
    if !is_json {
        return response;
    }
    let (mut parts, body) = response.into_parts();
    let opened = async {
        let bytes = axum::body::to_bytes(body, usize::MAX)
            .await
            .map_err(|e| AppError::internal(format!("buffering a reply: {e}")))?;
        if memchr::memmem::find(&bytes, seal::PREFIX_IN_JSON).is_none() {
            return Ok(bytes.to_vec());
        }
        let mut reply: serde_json::Value =
            serde_json::from_slice(&bytes).map_err(|e| AppError::internal(format!("re-reading a reply: {e}")))?;
        state.vault.open(&mut reply).await?;
        serde_json::to_vec(&reply).map_err(|e| AppError::internal(format!("encoding a reply: {e}")))
    };
    match opened.await {
        Ok(body) => {
            parts.headers.remove(CONTENT_LENGTH);
            Response::from_parts(parts, Body::from(body))
        }
        Err(e) => e.into_response(),
    }
}

/// A successful reply: errCode 0, optional data, and for commands the log
/// position of their last event.
pub struct Reply {
    data: Option<serde_json::Value>,
    position: Option<u64>,
}

impl Reply {
    pub fn data(data: impl Serialize) -> Result<Self, AppError> {
        let data = serde_json::to_value(data).map_err(|e| AppError::internal(format!("encoding reply: {e}")))?;
        Ok(Reply {
            data: Some(data),
            position: None,
        })
    }

    pub fn empty() -> Self {
        Reply {
            data: None,
            position: None,
        }
    }

    pub fn at(mut self, position: u64) -> Self {
        self.position = Some(position);
        self
    }
}

impl IntoResponse for Reply {
    fn into_response(self) -> Response {
        let mut response = (StatusCode::OK, Json(ApiReply::ok(self.data))).into_response();
        if let Some(p) = self.position {
            response.headers_mut().insert(POSITION, HeaderValue::from(p));
        }
        response
    }
}

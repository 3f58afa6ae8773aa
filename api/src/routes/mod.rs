//! HTTP routes and the success side of the reply envelope.

mod audit;
mod conversation;
mod friend;
mod group;
pub mod health;
pub mod msg;
pub mod openapi;
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

use crate::error::{AppError, ErrCode};
use crate::extract::{Caller, OPERATION_ID, POSITION};
use crate::state::AppState;

/// Every POST endpoint: its path, handler and request body. The router and
/// the OpenAPI document (`/openapi.json`) are both made from this one table,
/// so neither can name an endpoint the other lacks.
macro_rules! endpoints {
    ($($path:literal => $handler:path: $body:ty,)*) => {
        fn post_routes(router: Router<AppState>) -> Router<AppState> {
            router $(.route($path, post($handler)))*
        }

        /// Each endpoint's path with its request body's schema.
        pub fn endpoint_bodies() -> Vec<openapi::Endpoint> {
            vec![$(openapi::Endpoint::of::<$body>($path)),*]
        }
    };
}

endpoints! {
    "/user/self_register" => user::self_register: schemas::user::SelfRegisterReq,
    "/user/self_login" => user::self_login: schemas::user::SelfLoginReq,
    "/user/update_user_info_ex" => user::update_user_info_ex: schemas::user::UpdateUserInfoExReq,
    "/user/get_users_info" => user::get_users_info: schemas::user::GetUsersInfoReq,
    "/friend/add_friend" => friend::add_friend: schemas::friend::AddFriendReq,
    "/friend/add_friend_response" => friend::add_friend_response: schemas::friend::AddFriendResponseReq,
    "/friend/delete_friend" => friend::delete_friend: schemas::friend::DeleteFriendReq,
    "/friend/get_friend_apply_list" => friend::get_friend_apply_list: schemas::friend::ListReq,
    "/friend/get_self_friend_apply_list" => friend::get_self_friend_apply_list: schemas::friend::ListReq,
    "/friend/get_friend_list" => friend::get_friend_list: schemas::friend::ListReq,
    "/friend/add_black" => friend::add_black: schemas::friend::AddBlackReq,
    "/friend/get_black_list" => friend::get_black_list: schemas::friend::ListReq,
    "/friend/remove_black" => friend::remove_black: schemas::friend::RemoveBlackReq,
    "/friend/is_friend" => friend::is_friend: schemas::friend::IsFriendReq,
    "/friend/update_friends" => friend::update_friends: schemas::friend::UpdateFriendsReq,
    "/group/create_group" => group::create_group: schemas::group::CreateGroupReq,
    "/group/set_group_info_ex" => group::set_group_info_ex: schemas::group::SetGroupInfoExReq,
    "/group/join_group" => group::join_group: schemas::group::JoinGroupReq,
    "/group/group_application_response" => group::group_application_response: schemas::group::GroupApplicationResponseReq,
    "/group/quit_group" => group::quit_group: schemas::group::GroupUserReq,
    "/group/transfer_group" => group::transfer_group: schemas::group::TransferGroupReq,
    "/group/get_groups_info" => group::get_groups_info: schemas::group::GetGroupsInfoReq,
    "/group/kick_group" => group::kick_group: schemas::group::KickGroupReq,
    "/group/get_group_members_info" => group::get_group_members_info: schemas::group::GetGroupMembersInfoReq,
    "/group/get_group_member_list" => group::get_group_member_list: schemas::group::GetGroupMemberListReq,
    "/group/invite_user_to_group" => group::invite_user_to_group: schemas::group::InviteUserToGroupReq,
    "/group/dismiss_group" => group::dismiss_group: schemas::group::DismissGroupReq,
    "/group/mute_group_member" => group::mute_group_member: schemas::group::MuteGroupMemberReq,
    "/group/cancel_mute_group_member" => group::cancel_mute_group_member: schemas::group::GroupUserReq,
    "/group/mute_group" => group::mute_group: schemas::group::GroupReq,
    "/group/cancel_mute_group" => group::cancel_mute_group: schemas::group::GroupReq,
    "/group/get_joined_group_list" => group::get_joined_group_list: schemas::group::OwnerListReq,
    "/group/get_recv_group_applicationList" => group::get_recv_group_application_list: schemas::group::OwnerListReq,
    "/group/get_user_req_group_applicationList" => group::get_user_req_group_application_list: schemas::group::OwnerListReq,
    "/msg/send_msg" => msg::send_msg: schemas::message::SendMsgReq,
    "/msg/newest_seq" => msg::newest_seq: schemas::message::UserReq,
    "/msg/pull_msg_by_seq" => msg::pull_msg_by_seq: schemas::message::PullMsgBySeqReq,
    "/msg/revoke_msg" => msg::revoke_msg: schemas::message::RevokeMsgReq,
    "/msg/mark_msgs_as_read" => msg::mark_msgs_as_read: schemas::message::ConversationSeqsReq,
    "/msg/mark_conversation_as_read" => msg::mark_conversation_as_read: schemas::message::MarkConversationAsReadReq,
    "/msg/clear_conversation_msg" => msg::clear_conversation_msg: schemas::message::ClearConversationMsgReq,
    "/msg/delete_msgs" => msg::delete_msgs: schemas::message::ConversationSeqsReq,
    "/conversation/get_sorted_conversation_list" => conversation::get_sorted_conversation_list: schemas::conversation::SortedConversationListReq,
    "/conversation/set_conversations" => conversation::set_conversations: schemas::conversation::SetConversationsReq,
    "/conversation/get_pinned_conversation_ids" => conversation::get_pinned_conversation_ids: schemas::message::UserReq,
    "/conversation/get_not_notify_conversation_ids" => conversation::get_not_notify_conversation_ids: schemas::message::UserReq,
    "/audit/events" => audit::events: schemas::audit::AuditEventsReq,
    "/audit/state" => audit::state: schemas::audit::AuditStateReq,
    "/audit/forget_user" => audit::forget_user: schemas::audit::ForgetUserReq,
}

pub fn router(state: AppState) -> Router {
    post_routes(Router::new())
        .route("/ws", get(crate::gateway::connect))
        .route("/openapi.json", get(openapi::document))
        .route("/healthz", get(health::alive))
        .route("/readyz", get(health::ready))
        .fallback(|| async { AppError::new(1004, "no such endpoint") })
        .layer(middleware::from_fn_with_state(state.clone(), open_sealed))
        .layer(middleware::from_fn(trace_request))
        .with_state(state)
        .merge(openapi::docs_page())
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

/// Every request runs in a span carrying its operationID and route, and
/// ends with an access log line at info: its errCode (absent for what is
/// no API reply, such as a WebSocket upgrade), HTTP status and latency.
async fn trace_request(req: Request, next: Next) -> Response {
    let operation_id = req
        .headers()
        .get(OPERATION_ID)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("")
        .to_owned();
    let route = known_route(req.uri().path());
    let span = tracing::info_span!("request", operation_id = %operation_id, route = %req.uri().path());
    let started = std::time::Instant::now();
    let response = next.run(req).instrument(span.clone()).await;
    let err_code = response.extensions().get::<ErrCode>().map(|c| c.0);
    let seconds = started.elapsed().as_secs_f64();
    record_request(&route, err_code, seconds);
    span.in_scope(|| {
        tracing::info!(
            err_code,
            status = response.status().as_u16(),
            latency_ms = seconds * 1000.0,
            "request"
        );
    });
    response
}

/// The route a metric is labelled with: the path of a known endpoint, else
/// "other" (so a client cannot make a label per path it invents).
fn known_route(path: &str) -> String {
    static KNOWN: std::sync::OnceLock<std::collections::HashSet<&'static str>> = std::sync::OnceLock::new();
    let known = KNOWN.get_or_init(|| {
        let mut known: std::collections::HashSet<&'static str> =
            endpoint_bodies().iter().map(openapi::Endpoint::path).collect();
        known.extend(["/ws", "/openapi.json", "/healthz", "/readyz", "/docs"]);
        known
    });
    if known.contains(path) {
        path.to_owned()
    } else {
        "other".to_owned()
    }
}

/// Per route and errCode: requests, and their latency.
fn record_request(route: &str, err_code: Option<i32>, seconds: f64) {
    let code = err_code.map_or_else(|| "none".to_owned(), |c| c.to_string());
    metrics::counter!("parley_http_requests_total", "route" => route.to_owned(), "err_code" => code).increment(1);
    metrics::histogram!("parley_http_request_duration_seconds", "route" => route.to_owned()).record(seconds);
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
        response.extensions_mut().insert(ErrCode(0));
        if let Some(p) = self.position {
            response.headers_mut().insert(POSITION, HeaderValue::from(p));
        }
        response
    }
}

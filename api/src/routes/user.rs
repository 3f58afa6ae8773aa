//! `/user/*`: registration, login, profile.

use std::net::SocketAddr;

use axum::extract::{ConnectInfo, State};
use commands::user::UserCommand;
use commands::{Actor, Command};
use std::collections::BTreeSet;

use projections::{friends, groups, users};
use schemas::user::*;

use super::Reply;
use crate::error::AppError;
use crate::extract::{ApiJson, Caller, RequestMeta};
use crate::state::AppState;
use crate::throttle::{Throttled, ThrottledBy};

pub async fn self_register(
    State(state): State<AppState>,
    ConnectInfo(client): ConnectInfo<SocketAddr>,
    meta: RequestMeta,
    ApiJson(req): ApiJson<SelfRegisterReq>,
) -> Result<Reply, AppError> {
    if state.is_reserved(&req.user_id) {
        return Err(AppError::no_permission(format!(
            "{} is reserved for an admin",
            req.user_id
        )));
    }
    // A cheap early answer for a taken ID; the write side still decides.
    if users::password_hash(state.reads(), &meta.tenant, &req.user_id)
        .await?
        .is_some()
    {
        return Err(commands::CommandError::AlreadyRegistered(req.user_id).into());
    }
    state
        .throttle
        .register(client.ip())
        .map_err(|t| throttled("registrations", t))?;
    let password_hash = state.passwords.hash(req.password).await?;
    let actor = Actor {
        user_id: req.user_id.clone(),
        is_admin: false,
    };
    let command = Command::User(UserCommand::Register {
        user_id: req.user_id.clone(),
        nickname: req.nickname,
        face_url: req.face_url,
        ex: req.ex,
        password_hash,
    });
    let position = state.execute(&meta, actor, command).await?;
    Ok(Reply::data(SelfRegisterResp { user_id: req.user_id })?.at(position))
}

pub async fn self_login(
    State(state): State<AppState>,
    ConnectInfo(client): ConnectInfo<SocketAddr>,
    meta: RequestMeta,
    ApiJson(req): ApiJson<SelfLoginReq>,
) -> Result<Reply, AppError> {
    state.await_position(meta.min_position).await?;
    let stored = users::password_hash(state.reads(), &meta.tenant, &req.user_id)
        .await?
        .ok_or_else(|| AppError::new(1101, format!("user {} is not registered", req.user_id)))?;
    let attempt = state
        .throttle
        .login(&meta.tenant, &req.user_id, client.ip())
        .map_err(|t| throttled("failed logins", t))?;
    if !state.passwords.verify(req.password, stored).await? {
        state.throttle.failed(attempt);
        return Err(AppError::no_permission("login refused"));
    }
    let token = state.tokens.issue(&req.user_id, req.platform_id, &meta.tenant)?;
    Reply::data(SelfLoginResp {
        token,
        expire_time_seconds: state.tokens.ttl_secs as i64,
    })
}

pub async fn update_user_info_ex(
    State(state): State<AppState>,
    caller: Caller,
    ApiJson(req): ApiJson<UpdateUserInfoExReq>,
) -> Result<Reply, AppError> {
    let info = req.user_info;
    // A caller that may not act for the user is refused by the decision;
    // it gets no lookup.
    let notify = if caller.actor().acts_for(&info.user_id) {
        acquaintances(&state, &caller.meta.tenant, &info.user_id).await?
    } else {
        Vec::new()
    };
    let command = Command::User(UserCommand::UpdateProfile {
        user_id: info.user_id,
        nickname: info.nickname,
        face_url: info.face_url,
        ex: info.ex,
        notify,
    });
    let position = state.execute(&caller.meta, caller.actor(), command).await?;
    Ok(Reply::empty().at(position))
}

/// A throttled attempt's reply: 1010 with when to retry.
fn throttled(what: &'static str, t: Throttled) -> AppError {
    metrics::counter!("parley_throttled_total", "what" => what).increment(1);
    let by = match t.by {
        ThrottledBy::Address => "from this address",
        ThrottledBy::User => "for this user from this address",
    };
    AppError::too_many_requests(format!("too many {what} {by}"), t.retry_after)
}

/// Who is told of a user's profile changes: its friends and the members of
/// its groups, except those it blacklisted (in ID order).
async fn acquaintances(state: &AppState, tenant: &str, user_id: &str) -> Result<Vec<String>, AppError> {
    let reads = state.reads();
    let mut who: BTreeSet<String> = friends::friends(reads, tenant, user_id)
        .await?
        .into_iter()
        .map(|f| f.friend_user_id)
        .collect();
    for joined in groups::joined(reads, tenant, user_id).await? {
        let members = groups::members(reads, tenant, &joined.group_id).await?;
        who.extend(members.into_iter().map(|m| m.user_id));
    }
    who.remove(user_id);
    for black in friends::blacks(reads, tenant, user_id).await? {
        who.remove(&black.black_user_id);
    }
    Ok(who.into_iter().collect())
}

pub async fn get_users_info(
    State(state): State<AppState>,
    caller: Caller,
    ApiJson(req): ApiJson<GetUsersInfoReq>,
) -> Result<Reply, AppError> {
    state.await_position(caller.meta.min_position).await?;
    let found = users::profiles(state.reads(), &caller.meta.tenant, &req.user_ids).await?;
    Reply::data(serde_json::json!({ "usersInfo": found }))
}

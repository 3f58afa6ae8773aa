//! `/audit/*`: the event history for app admins, from the audit index.

use axum::extract::State;
use commands::user::UserCommand;
use commands::{Command, ScopeState};
use events::{DomainEvent, StreamKey};
use projections::audit::{self, AuditQuery};
use projections::users;
use schemas::audit::*;
use serde_json::json;

use super::Reply;
use crate::error::AppError;
use crate::extract::{ApiJson, Caller};
use crate::state::AppState;

/// App admins read their own tenant's history, platform admins every
/// tenant's.
async fn open_history(state: &AppState, caller: &Caller, tenant: &str) -> Result<(), AppError> {
    if state.platform_admins.contains(&caller.user_id) {
        return state.await_position(caller.meta.min_position).await;
    }
    if !caller.is_admin {
        return Err(AppError::no_permission("the audit trail is for app admins"));
    }
    if tenant != caller.meta.tenant {
        return Err(AppError::no_permission(format!(
            "an app admin of tenant {} may not read tenant {tenant}",
            caller.meta.tenant
        )));
    }
    state.await_position(caller.meta.min_position).await
}

/// Stored events matching every given filter, in log order, a page at a
/// time; `nextCursor` (empty at the end) continues the same query.
pub async fn events(
    State(state): State<AppState>,
    caller: Caller,
    ApiJson(req): ApiJson<AuditEventsReq>,
) -> Result<Reply, AppError> {
    let tenant = req.tenant.clone().unwrap_or_else(|| caller.meta.tenant.clone());
    open_history(&state, &caller, &tenant).await?;
    let query = AuditQuery {
        after: req.after(),
        limit: req.page_size(),
        tenant,
        stream_key: req.stream_key,
        user_id: req.user_id,
        event_types: req.event_types,
        operation_id: req.operation_id,
        from_time: req.from_time,
        to_time: req.to_time,
    };
    let page = audit::query(state.reads(), &query).await?;
    let next = page.next.map(|p| p.to_string()).unwrap_or_default();
    Reply::data(json!({ "events": page.events, "nextCursor": next }))
}

/// Time travel: the decision state of one stream as of a log position or
/// a time, folded from its stored events.
pub async fn state(
    State(state): State<AppState>,
    caller: Caller,
    ApiJson(req): ApiJson<AuditStateReq>,
) -> Result<Reply, AppError> {
    let key: StreamKey = req
        .stream_key
        .parse()
        .map_err(|e: events::StreamKeyError| AppError::args(e.to_string()))?;
    open_history(&state, &caller, key.tenant()).await?;
    let until = req.until()?;
    let history = audit::stream_until(state.reads(), key.tenant(), &req.stream_key, |doc| match until {
        Until::Position(p) => doc.position <= p,
        Until::Time(t) => doc.occurred_at <= t,
    })
    .await?;
    let mut folded = ScopeState::empty(&key);
    for doc in &history {
        let event = DomainEvent::from_stored(&doc.event_type, doc.schema_version, &doc.payload)
            .map_err(|e| AppError::internal(format!("event at {}: {e}", doc.position)))?;
        folded.apply(&event);
    }
    let last = history.last();
    Reply::data(json!({
        "streamKey": req.stream_key,
        "version": last.map_or(0, |d| d.stream_version),
        "position": last.map_or(0, |d| d.position),
        "occurredAt": last.map_or(0, |d| d.occurred_at),
        "state": folded,
    }))
}

/// Erases a user's personal data (app admins of the user's tenant): the
/// user's key is destroyed first, so every nickname, faceURL, ex and message
/// content of the user reads "[erased]" from then on, in every reply, push,
/// audit answer and rebuilt read model; then `UserForgotten` records who
/// did it. A retry after a failure between the two steps completes it.
pub async fn forget_user(
    State(state): State<AppState>,
    caller: Caller,
    ApiJson(req): ApiJson<ForgetUserReq>,
) -> Result<Reply, AppError> {
    // The key is erased before the command decides: only app admins (of
    // the caller's tenant, the only one its token acts in) get that far.
    if !caller.is_admin {
        return Err(AppError::no_permission("only app admins erase personal data"));
    }
    state.await_position(caller.meta.min_position).await?;
    let tenant = caller.meta.tenant.clone();
    let known = users::profiles(state.reads(), &tenant, std::slice::from_ref(&req.user_id)).await?;
    if known.is_empty() {
        return Err(AppError::new(1101, format!("user {} is not registered", req.user_id)));
    }
    state.vault.forget(&tenant, &req.user_id).await?;
    let command = Command::User(UserCommand::Forget { user_id: req.user_id });
    let position = state.execute(&caller.meta, caller.actor(), command).await?;
    Ok(Reply::empty().at(position))
}

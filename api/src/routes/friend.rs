//! `/friend/*`: friend requests, friends and the blacklist.

use axum::extract::State;
use commands::pair::PairCommand;
use commands::Command;
use projections::friends;
use projections::users::UserDoc;
use schemas::friend::*;
use serde_json::{json, Value};

use super::{open_list, profiles, Reply};
use crate::error::AppError;
use crate::extract::{ApiJson, Caller};
use crate::state::AppState;

fn exists(found: &std::collections::HashMap<String, UserDoc>, user_id: &str) -> Result<(), AppError> {
    if found.contains_key(user_id) {
        return Ok(());
    }
    Err(commands::CommandError::UserNotFound(user_id.to_owned()).into())
}

async fn execute(state: &AppState, caller: &Caller, command: PairCommand) -> Result<Reply, AppError> {
    let position = state
        .execute(&caller.meta, caller.actor(), Command::Pair(command))
        .await?;
    Ok(Reply::empty().at(position))
}

pub async fn add_friend(
    State(state): State<AppState>,
    caller: Caller,
    ApiJson(req): ApiJson<AddFriendReq>,
) -> Result<Reply, AppError> {
    let ids = vec![req.from_user_id.clone(), req.to_user_id.clone()];
    let found = profiles(&state, &caller.meta.tenant, ids).await?;
    if caller.actor().acts_for(&req.from_user_id) {
        exists(&found, &req.from_user_id)?;
    }
    let command = PairCommand::AddFriend {
        to_exists: found.contains_key(&req.to_user_id),
        from: req.from_user_id,
        to: req.to_user_id,
        req_msg: req.req_msg,
        ex: req.ex,
    };
    execute(&state, &caller, command).await
}

pub async fn add_friend_response(
    State(state): State<AppState>,
    caller: Caller,
    ApiJson(req): ApiJson<AddFriendResponseReq>,
) -> Result<Reply, AppError> {
    let command = PairCommand::RespondFriend {
        from: req.from_user_id,
        to: req.to_user_id,
        handle_result: req.handle_result,
        handle_msg: req.handle_msg,
    };
    execute(&state, &caller, command).await
}

pub async fn delete_friend(
    State(state): State<AppState>,
    caller: Caller,
    ApiJson(req): ApiJson<DeleteFriendReq>,
) -> Result<Reply, AppError> {
    let command = PairCommand::DeleteFriend {
        owner: req.owner_user_id,
        friend: req.friend_user_id,
    };
    execute(&state, &caller, command).await
}

async fn apply_list(
    state: AppState,
    caller: Caller,
    req: ListReq,
    sent: bool,
) -> Result<(Vec<Value>, usize), AppError> {
    open_list(&state, &caller, &req.user_id).await?;
    let tenant = &caller.meta.tenant;
    let mut requests = friends::requests(state.reads(), tenant, &req.user_id, sent).await?;
    if let Some(wanted) = &req.handle_results {
        requests.retain(|r| wanted.contains(&r.handle_result));
    }
    let total = requests.len();
    let page = req.pagination.page(requests);
    let ids = page
        .iter()
        .flat_map(|r| [r.from_user_id.clone(), r.to_user_id.clone()])
        .collect();
    let found = profiles(&state, tenant, ids).await?;
    let face = |id: &str| {
        found
            .get(id)
            .map(|u| (u.nickname.clone(), u.face_url.clone()))
            .unwrap_or_default()
    };
    let items = page
        .into_iter()
        .map(|r| {
            let (from_nickname, from_face) = face(&r.from_user_id);
            let (to_nickname, to_face) = face(&r.to_user_id);
            json!({
                "fromUserID": r.from_user_id, "fromNickname": from_nickname, "fromFaceURL": from_face,
                "toUserID": r.to_user_id, "toNickname": to_nickname, "toFaceURL": to_face,
                "handleResult": r.handle_result, "reqMsg": r.req_msg, "createTime": r.create_time,
                "handlerUserID": r.handler_user_id, "handleMsg": r.handle_msg, "handleTime": r.handle_time,
                "ex": r.ex,
            })
        })
        .collect();
    Ok((items, total))
}

/// Requests received, newest first (`FriendRequests`, as the spec spells it).
pub async fn get_friend_apply_list(
    State(state): State<AppState>,
    caller: Caller,
    ApiJson(req): ApiJson<ListReq>,
) -> Result<Reply, AppError> {
    let (items, total) = apply_list(state, caller, req, false).await?;
    Reply::data(json!({ "FriendRequests": items, "total": total }))
}

/// Requests sent, newest first.
pub async fn get_self_friend_apply_list(
    State(state): State<AppState>,
    caller: Caller,
    ApiJson(req): ApiJson<ListReq>,
) -> Result<Reply, AppError> {
    let (items, total) = apply_list(state, caller, req, true).await?;
    Reply::data(json!({ "friendRequests": items, "total": total }))
}

pub async fn get_friend_list(
    State(state): State<AppState>,
    caller: Caller,
    ApiJson(req): ApiJson<ListReq>,
) -> Result<Reply, AppError> {
    open_list(&state, &caller, &req.user_id).await?;
    let tenant = &caller.meta.tenant;
    let all = friends::friends(state.reads(), tenant, &req.user_id).await?;
    let total = all.len();
    let page = req.pagination.page(all);
    let found = profiles(&state, tenant, page.iter().map(|f| f.friend_user_id.clone()).collect()).await?;
    let items: Vec<Value> = page
        .into_iter()
        .map(|f| {
            json!({
                "ownerUserID": f.owner_user_id, "remark": f.remark, "createTime": f.create_time,
                "friendUser": found.get(&f.friend_user_id), "addSource": f.add_source,
                "operatorUserID": f.operator_user_id, "ex": f.ex, "isPinned": f.is_pinned,
            })
        })
        .collect();
    Reply::data(json!({ "friendsInfo": items, "total": total }))
}

pub async fn add_black(
    State(state): State<AppState>,
    caller: Caller,
    ApiJson(req): ApiJson<AddBlackReq>,
) -> Result<Reply, AppError> {
    let found = profiles(&state, &caller.meta.tenant, vec![req.black_user_id.clone()]).await?;
    let command = PairCommand::AddBlack {
        black_exists: found.contains_key(&req.black_user_id),
        owner: req.owner_user_id,
        black: req.black_user_id,
        ex: req.ex,
    };
    execute(&state, &caller, command).await
}

pub async fn get_black_list(
    State(state): State<AppState>,
    caller: Caller,
    ApiJson(req): ApiJson<ListReq>,
) -> Result<Reply, AppError> {
    open_list(&state, &caller, &req.user_id).await?;
    let tenant = &caller.meta.tenant;
    let all = friends::blacks(state.reads(), tenant, &req.user_id).await?;
    let total = all.len();
    let page = req.pagination.page(all);
    let found = profiles(&state, tenant, page.iter().map(|b| b.black_user_id.clone()).collect()).await?;
    let items: Vec<Value> = page
        .into_iter()
        .map(|b| {
            let user = found.get(&b.black_user_id);
            json!({
                "ownerUserID": b.owner_user_id, "createTime": b.create_time,
                "blackUserInfo": {
                    "userID": b.black_user_id,
                    "nickname": user.map(|u| u.nickname.as_str()).unwrap_or_default(),
                    "faceURL": user.map(|u| u.face_url.as_str()).unwrap_or_default(),
                    "ex": user.map(|u| u.ex.as_str()).unwrap_or_default(),
                },
                "addSource": b.add_source, "operatorUserID": b.operator_user_id, "ex": b.ex,
            })
        })
        .collect();
    Reply::data(json!({ "blacks": items, "total": total }))
}

pub async fn remove_black(
    State(state): State<AppState>,
    caller: Caller,
    ApiJson(req): ApiJson<RemoveBlackReq>,
) -> Result<Reply, AppError> {
    let command = PairCommand::RemoveBlack {
        owner: req.owner_user_id,
        black: req.black_user_id,
    };
    execute(&state, &caller, command).await
}

pub async fn is_friend(
    State(state): State<AppState>,
    caller: Caller,
    ApiJson(req): ApiJson<IsFriendReq>,
) -> Result<Reply, AppError> {
    if !(caller.is_admin || caller.user_id == req.user_id1 || caller.user_id == req.user_id2) {
        return Err(AppError::no_permission("the caller must be userID1 or userID2"));
    }
    state.await_position(caller.meta.min_position).await?;
    let tenant = &caller.meta.tenant;
    let reads = state.reads();
    Reply::data(IsFriendResp {
        in_user1_friends: friends::is_friend(reads, tenant, &req.user_id1, &req.user_id2).await?,
        in_user2_friends: friends::is_friend(reads, tenant, &req.user_id2, &req.user_id1).await?,
    })
}

/// Every listed user must be a friend (else 1303 and nothing changes); then
/// each friendship's settings change in its own scope.
pub async fn update_friends(
    State(state): State<AppState>,
    caller: Caller,
    ApiJson(req): ApiJson<UpdateFriendsReq>,
) -> Result<Reply, AppError> {
    if !caller.actor().acts_for(&req.owner_user_id) {
        return Err(AppError::no_permission(format!(
            "{} may not change the friends of {}",
            caller.user_id, req.owner_user_id
        )));
    }
    let tenant = &caller.meta.tenant;
    let friends = friends::friends_among(state.reads(), tenant, &req.owner_user_id, &req.friend_user_ids).await?;
    let strangers: Vec<&str> = req
        .friend_user_ids
        .iter()
        .filter(|id| !friends.contains(*id))
        .map(String::as_str)
        .collect();
    if !strangers.is_empty() {
        return Err(commands::CommandError::NotFriend(strangers.join(", ")).into());
    }
    let mut last = 0;
    for friend in &req.friend_user_ids {
        let command = PairCommand::UpdateFriend {
            owner: req.owner_user_id.clone(),
            friend: friend.clone(),
            is_pinned: req.is_pinned,
            remark: req.remark.clone(),
            ex: req.ex.clone(),
        };
        let position = state
            .execute(&caller.meta, caller.actor(), Command::Pair(command))
            .await?;
        last = last.max(position);
    }
    Ok(Reply::empty().at(last))
}

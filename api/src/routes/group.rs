//! `/group/*`: groups, their members and join requests.

use std::collections::HashMap;

use axum::extract::State;
use commands::group::{CreateGroup, GroupCommand, NewGroup};
use commands::{Command, CommandError};
use events::group::{GroupInfoSet, ROLE_ADMIN};
use events::DomainEvent;
use infra::write_side::{Executed, WriteError};
use projections::groups::{self, GroupDoc, MemberDoc, RequestDoc};
use projections::users::UserDoc;
use schemas::group::*;
use serde_json::{json, Value};

use super::{open_list, profiles, Reply};
use crate::error::AppError;
use crate::extract::{ApiJson, Caller};
use crate::state::AppState;

/// Attempts at a fresh random groupID before giving up (a clash among
/// 2^64 IDs is already unlikely once).
const GENERATED_ID_ATTEMPTS: usize = 3;

async fn execute(state: &AppState, caller: &Caller, command: GroupCommand) -> Result<Reply, AppError> {
    let position = state
        .execute(&caller.meta, caller.actor(), Command::Group(command))
        .await?;
    Ok(Reply::empty().at(position))
}

/// Which of `user_ids` are not registered.
async fn unregistered(state: &AppState, caller: &Caller, user_ids: &[String]) -> Result<Vec<String>, AppError> {
    let found = profiles(state, &caller.meta.tenant, user_ids.to_vec()).await?;
    Ok(user_ids.iter().filter(|u| !found.contains_key(*u)).cloned().collect())
}

/// The group as its creation event made it, with its initial members.
fn created_group(executed: &Executed) -> Result<GroupDoc, AppError> {
    executed
        .events
        .iter()
        .find_map(|envelope| match envelope.event() {
            Ok(DomainEvent::GroupCreated(e)) => {
                let members = u32::try_from(e.member_user_ids.len()).unwrap_or(u32::MAX);
                Some(GroupDoc::created(&e, members))
            }
            _ => None,
        })
        .ok_or_else(|| AppError::internal("create_group stored no GroupCreated event"))
}

pub async fn create_group(
    State(state): State<AppState>,
    caller: Caller,
    ApiJson(req): ApiJson<CreateGroupReq>,
) -> Result<Reply, AppError> {
    let listed: Vec<String> = std::iter::once(&req.owner_user_id)
        .chain(&req.admin_user_ids)
        .chain(&req.member_user_ids)
        .cloned()
        .collect();
    let info = req.group_info;
    let mut create = CreateGroup {
        group_id: info.group_id.clone(),
        owner: req.owner_user_id,
        admins: req.admin_user_ids,
        members: req.member_user_ids,
        info: NewGroup {
            group_name: info.group_name,
            notification: info.notification,
            introduction: info.introduction,
            face_url: info.face_url,
            ex: info.ex,
            group_type: info.group_type,
            need_verification: info.need_verification,
            look_member_info: info.look_member_info,
            apply_member_friend: info.apply_member_friend,
        },
        unregistered: unregistered(&state, &caller, &listed).await?,
    };
    let generated = info.group_id.is_empty();
    let mut attempts = 0;
    let executed = loop {
        if generated {
            create.group_id = rand::random::<u64>().to_string();
        }
        attempts += 1;
        let command = Command::Group(GroupCommand::Create(create.clone()));
        match state.try_execute(&caller.meta, caller.actor(), command).await {
            Err(WriteError::Rejected(e)) if generated && e.code() == 1202 && attempts < GENERATED_ID_ATTEMPTS => {
                continue
            }
            outcome => break outcome?,
        }
    };
    let group = match groups::group(state.reads(), &caller.meta.tenant, &create.group_id).await? {
        Some(group) => group,
        // The read models lag (past --read-wait-ms): the group is created
        // all the same, and its creation event says what it is.
        None => created_group(&executed)?,
    };
    Ok(Reply::data(json!({ "groupInfo": group }))?.at(executed.position))
}

pub async fn set_group_info_ex(
    State(state): State<AppState>,
    caller: Caller,
    ApiJson(req): ApiJson<SetGroupInfoExReq>,
) -> Result<Reply, AppError> {
    let changes = GroupInfoSet {
        group_id: req.group_id,
        group_name: req.group_name,
        notification: req.notification,
        introduction: req.introduction,
        face_url: req.face_url,
        ex: req.ex,
        need_verification: req.need_verification,
        look_member_info: req.look_member_info,
        apply_member_friend: req.apply_member_friend,
        notification_update_time: None,
        notification_user_id: None,
    };
    execute(&state, &caller, GroupCommand::SetInfo(changes)).await
}

pub async fn join_group(
    State(state): State<AppState>,
    caller: Caller,
    ApiJson(req): ApiJson<JoinGroupReq>,
) -> Result<Reply, AppError> {
    let command = GroupCommand::Join {
        group_id: req.group_id,
        req_msg: req.req_message,
        join_source: req.join_source,
        inviter: req.inviter_user_id,
        ex: req.ex,
    };
    execute(&state, &caller, command).await
}

pub async fn group_application_response(
    State(state): State<AppState>,
    caller: Caller,
    ApiJson(req): ApiJson<GroupApplicationResponseReq>,
) -> Result<Reply, AppError> {
    let command = GroupCommand::RespondApplication {
        group_id: req.group_id,
        applicant: req.from_user_id,
        handle_result: req.handle_result,
        handled_msg: req.handled_msg,
    };
    execute(&state, &caller, command).await
}

pub async fn quit_group(
    State(state): State<AppState>,
    caller: Caller,
    ApiJson(req): ApiJson<GroupUserReq>,
) -> Result<Reply, AppError> {
    let command = GroupCommand::Quit {
        group_id: req.group_id,
        user: req.user_id,
    };
    execute(&state, &caller, command).await
}

pub async fn transfer_group(
    State(state): State<AppState>,
    caller: Caller,
    ApiJson(req): ApiJson<TransferGroupReq>,
) -> Result<Reply, AppError> {
    let command = GroupCommand::Transfer {
        group_id: req.group_id,
        old_owner: req.old_owner_user_id,
        new_owner: req.new_owner_user_id,
    };
    execute(&state, &caller, command).await
}

/// Group info is public within the tenant; unknown IDs are left out.
pub async fn get_groups_info(
    State(state): State<AppState>,
    caller: Caller,
    ApiJson(req): ApiJson<GetGroupsInfoReq>,
) -> Result<Reply, AppError> {
    state.await_position(caller.meta.min_position).await?;
    let infos = groups::groups(state.reads(), &caller.meta.tenant, &req.group_ids).await?;
    Reply::data(json!({ "groupInfos": infos }))
}

pub async fn kick_group(
    State(state): State<AppState>,
    caller: Caller,
    ApiJson(req): ApiJson<KickGroupReq>,
) -> Result<Reply, AppError> {
    let command = GroupCommand::Kick {
        group_id: req.group_id,
        kicked: req.kicked_user_ids,
        reason: req.reason,
    };
    execute(&state, &caller, command).await
}

/// Member lists are for the group's members (and app admins): 1201 for an
/// unknown group, 1203 for an outsider.
async fn open_members(state: &AppState, caller: &Caller, group_id: &str) -> Result<(), AppError> {
    state.await_position(caller.meta.min_position).await?;
    let tenant = &caller.meta.tenant;
    if groups::group(state.reads(), tenant, group_id).await?.is_none() {
        return Err(CommandError::GroupNotFound(group_id.to_owned()).into());
    }
    if caller.is_admin {
        return Ok(());
    }
    let me = std::slice::from_ref(&caller.user_id);
    if groups::members_among(state.reads(), tenant, group_id, me)
        .await?
        .is_empty()
    {
        return Err(CommandError::NotInGroup(format!("{}: not in group {group_id}", caller.user_id)).into());
    }
    Ok(())
}

/// A member as the spec shows it: the member record with the user's
/// current nickname and face.
fn member_json(member: MemberDoc, profile: Option<&UserDoc>) -> Value {
    json!({
        "groupID": member.group_id, "userID": member.user_id, "roleLevel": member.role_level,
        "joinTime": member.join_time,
        "nickname": profile.map(|p| p.nickname.as_str()).unwrap_or_default(),
        "faceURL": profile.map(|p| p.face_url.as_str()).unwrap_or_default(),
        "appMangerLevel": 0, "joinSource": member.join_source, "operatorUserID": member.operator_user_id,
        "ex": member.ex, "muteEndTime": member.mute_end_time, "inviterUserID": member.inviter_user_id,
    })
}

fn members_json(members: Vec<MemberDoc>, found: &HashMap<String, UserDoc>) -> Vec<Value> {
    members
        .into_iter()
        .map(|m| {
            let profile = found.get(&m.user_id);
            member_json(m, profile)
        })
        .collect()
}

pub async fn get_group_members_info(
    State(state): State<AppState>,
    caller: Caller,
    ApiJson(req): ApiJson<GetGroupMembersInfoReq>,
) -> Result<Reply, AppError> {
    open_members(&state, &caller, &req.group_id).await?;
    let tenant = &caller.meta.tenant;
    let members = groups::members_among(state.reads(), tenant, &req.group_id, &req.user_ids).await?;
    let found = profiles(&state, tenant, members.iter().map(|m| m.user_id.clone()).collect()).await?;
    Reply::data(json!({ "members": members_json(members, &found) }))
}

/// Owner, admins, then members, each by join time; `keyword` matches the
/// userID or the nickname, ignoring case.
pub async fn get_group_member_list(
    State(state): State<AppState>,
    caller: Caller,
    ApiJson(req): ApiJson<GetGroupMemberListReq>,
) -> Result<Reply, AppError> {
    open_members(&state, &caller, &req.group_id).await?;
    let tenant = &caller.meta.tenant;
    let filter = req.member_filter();
    let mut members = groups::members(state.reads(), tenant, &req.group_id).await?;
    members.retain(|m| filter.admits(m.role_level));
    let keyword = req.keyword.to_lowercase();
    let (total, page, found) = if keyword.is_empty() {
        let total = members.len();
        let page = req.pagination.page(members);
        let found = profiles(&state, tenant, page.iter().map(|m| m.user_id.clone()).collect()).await?;
        (total, page, found)
    } else {
        let mut found = profiles(&state, tenant, members.iter().map(|m| m.user_id.clone()).collect()).await?;
        // Nicknames are stored sealed: match the keyword against them opened.
        for profile in found.values_mut() {
            profile.nickname = state.vault.open_text(&profile.nickname).await?;
        }
        members.retain(|m| {
            m.user_id.to_lowercase().contains(&keyword)
                || found
                    .get(&m.user_id)
                    .is_some_and(|p| p.nickname.to_lowercase().contains(&keyword))
        });
        (members.len(), req.pagination.page(members), found)
    };
    Reply::data(json!({ "members": members_json(page, &found), "total": total }))
}

pub async fn invite_user_to_group(
    State(state): State<AppState>,
    caller: Caller,
    ApiJson(req): ApiJson<InviteUserToGroupReq>,
) -> Result<Reply, AppError> {
    let command = GroupCommand::Invite {
        unregistered: unregistered(&state, &caller, &req.invited_user_ids).await?,
        group_id: req.group_id,
        invited: req.invited_user_ids,
        reason: req.reason,
    };
    execute(&state, &caller, command).await
}

pub async fn dismiss_group(
    State(state): State<AppState>,
    caller: Caller,
    ApiJson(req): ApiJson<DismissGroupReq>,
) -> Result<Reply, AppError> {
    let command = GroupCommand::Dismiss {
        group_id: req.group_id,
        delete_member: req.delete_member,
    };
    execute(&state, &caller, command).await
}

pub async fn mute_group_member(
    State(state): State<AppState>,
    caller: Caller,
    ApiJson(req): ApiJson<MuteGroupMemberReq>,
) -> Result<Reply, AppError> {
    let command = GroupCommand::MuteMember {
        group_id: req.group_id,
        user: req.user_id,
        seconds: req.muted_seconds,
    };
    execute(&state, &caller, command).await
}

pub async fn cancel_mute_group_member(
    State(state): State<AppState>,
    caller: Caller,
    ApiJson(req): ApiJson<GroupUserReq>,
) -> Result<Reply, AppError> {
    let command = GroupCommand::CancelMuteMember {
        group_id: req.group_id,
        user: req.user_id,
    };
    execute(&state, &caller, command).await
}

async fn set_mute(state: &AppState, caller: &Caller, req: GroupReq, muted: bool) -> Result<Reply, AppError> {
    let command = GroupCommand::SetMute {
        group_id: req.group_id,
        muted,
    };
    execute(state, caller, command).await
}

pub async fn mute_group(
    State(state): State<AppState>,
    caller: Caller,
    ApiJson(req): ApiJson<GroupReq>,
) -> Result<Reply, AppError> {
    set_mute(&state, &caller, req, true).await
}

pub async fn cancel_mute_group(
    State(state): State<AppState>,
    caller: Caller,
    ApiJson(req): ApiJson<GroupReq>,
) -> Result<Reply, AppError> {
    set_mute(&state, &caller, req, false).await
}

/// The groups a user is in, in the order joined.
pub async fn get_joined_group_list(
    State(state): State<AppState>,
    caller: Caller,
    ApiJson(req): ApiJson<OwnerListReq>,
) -> Result<Reply, AppError> {
    open_list(&state, &caller, &req.user_id).await?;
    let tenant = &caller.meta.tenant;
    let joined = groups::joined(state.reads(), tenant, &req.user_id).await?;
    let total = joined.len();
    let ids: Vec<String> = req.pagination.page(joined).into_iter().map(|j| j.group_id).collect();
    let infos = groups::groups(state.reads(), tenant, &ids).await?;
    Reply::data(json!({ "groups": infos, "total": total }))
}

/// Join requests with the group's info and the applicant's profile.
async fn requests_page(
    state: &AppState,
    tenant: &str,
    requests: Vec<RequestDoc>,
    pagination: schemas::Pagination,
) -> Result<Reply, AppError> {
    let total = requests.len();
    let page = pagination.page(requests);
    let group_ids: Vec<String> = page.iter().map(|r| r.group_id.clone()).collect();
    let infos: HashMap<String, GroupDoc> = groups::groups(state.reads(), tenant, &group_ids)
        .await?
        .into_iter()
        .map(|g| (g.group_id.clone(), g))
        .collect();
    let found = profiles(state, tenant, page.iter().map(|r| r.user_id.clone()).collect()).await?;
    let items: Vec<Value> = page
        .into_iter()
        .map(|r| {
            let user = found.get(&r.user_id);
            json!({
                "userInfo": {
                    "userID": r.user_id,
                    "nickname": user.map(|u| u.nickname.as_str()).unwrap_or_default(),
                    "faceURL": user.map(|u| u.face_url.as_str()).unwrap_or_default(),
                    "ex": user.map(|u| u.ex.as_str()).unwrap_or_default(),
                },
                "groupInfo": infos.get(&r.group_id),
                "handleResult": r.handle_result, "reqMsg": r.req_msg, "handleMsg": r.handled_msg,
                "reqTime": r.req_time, "handleUserID": r.handle_user_id, "handleTime": r.handled_time,
                "ex": r.ex, "joinSource": r.join_source, "inviterUserID": r.inviter_user_id,
            })
        })
        .collect();
    Reply::data(json!({ "groupRequests": items, "total": total }))
}

/// Requests to join the groups the user owns or administers, newest first.
pub async fn get_recv_group_application_list(
    State(state): State<AppState>,
    caller: Caller,
    ApiJson(req): ApiJson<OwnerListReq>,
) -> Result<Reply, AppError> {
    open_list(&state, &caller, &req.user_id).await?;
    let tenant = &caller.meta.tenant;
    let mut requests = Vec::new();
    for group in groups::joined(state.reads(), tenant, &req.user_id).await? {
        if group.role_level >= ROLE_ADMIN {
            requests.extend(groups::requests(state.reads(), tenant, &group.group_id, false).await?);
        }
    }
    groups::newest_first(&mut requests);
    requests_page(&state, tenant, requests, req.pagination).await
}

/// The user's own requests to join groups, newest first.
pub async fn get_user_req_group_application_list(
    State(state): State<AppState>,
    caller: Caller,
    ApiJson(req): ApiJson<OwnerListReq>,
) -> Result<Reply, AppError> {
    open_list(&state, &caller, &req.user_id).await?;
    let tenant = &caller.meta.tenant;
    let requests = groups::requests(state.reads(), tenant, &req.user_id, true).await?;
    requests_page(&state, tenant, requests, req.pagination).await
}

//! Bodies of the `/group/*` endpoints.

use events::group::{ROLE_ADMIN, ROLE_MEMBER, ROLE_OWNER};
use serde::Deserialize;

use crate::limits::*;
use crate::validate::{identifier, identifiers, max_chars, new_id, optional_max_chars, user_id, user_ids};
use crate::{FieldError, Pagination, Validate};

fn group_id(field: &str, value: &str) -> Result<(), FieldError> {
    identifier(field, value, GROUP_ID_MAX)
}

fn within(field: &str, value: i32, allowed: std::ops::RangeInclusive<i32>, meaning: &str) -> Result<(), FieldError> {
    if allowed.contains(&value) {
        return Ok(());
    }
    Err(FieldError::new(
        field,
        format!(
            "must be within {}..={} ({meaning}), got {value}",
            allowed.start(),
            allowed.end()
        ),
    ))
}

fn optional_within(
    field: &str,
    value: Option<i32>,
    allowed: std::ops::RangeInclusive<i32>,
    meaning: &str,
) -> Result<(), FieldError> {
    value.map_or(Ok(()), |v| within(field, v, allowed, meaning))
}

const NEED_VERIFICATION: &str =
    "0 applications need approval, 1 everyone needs approval unless invited by the owner or an admin, 2 join directly";
const LOOK_MEMBER_INFO: &str = "0 members may see each other's info, 1 they may not";
const APPLY_MEMBER_FRIEND: &str = "0 members may add each other as friends, 1 they may not";

fn group_name(field: &str, name: &str) -> Result<(), FieldError> {
    if name.trim().is_empty() {
        return Err(FieldError::new(field, "must not be blank"));
    }
    max_chars(field, name, GROUP_NAME_MAX)
}

#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct CreateGroupReq {
    #[serde(default, rename = "memberUserIDs")]
    pub member_user_ids: Vec<String>,
    #[serde(default, rename = "adminUserIDs")]
    pub admin_user_ids: Vec<String>,
    #[serde(rename = "ownerUserID")]
    pub owner_user_id: String,
    pub group_info: NewGroupInfo,
}

/// `groupInfo` of create_group. Output-only fields a client may echo
/// (createTime, memberCount, ...) are ignored.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct NewGroupInfo {
    /// Empty or absent: the server picks a new ID.
    #[serde(default, rename = "groupID")]
    pub group_id: String,
    pub group_name: String,
    #[serde(default)]
    pub notification: String,
    #[serde(default)]
    pub introduction: String,
    #[serde(default, rename = "faceURL")]
    pub face_url: String,
    pub group_type: i32,
    #[serde(default)]
    pub ex: String,
    #[serde(default)]
    pub need_verification: i32,
    #[serde(default)]
    pub look_member_info: i32,
    #[serde(default)]
    pub apply_member_friend: i32,
}

impl Validate for CreateGroupReq {
    fn validate(&self) -> Result<(), FieldError> {
        user_id("ownerUserID", &self.owner_user_id)?;
        let info = &self.group_info;
        if !info.group_id.is_empty() {
            new_id("groupInfo.groupID", &info.group_id, GROUP_ID_MAX)?;
        }
        group_name("groupInfo.groupName", &info.group_name)?;
        max_chars("groupInfo.notification", &info.notification, GROUP_TEXT_MAX)?;
        max_chars("groupInfo.introduction", &info.introduction, GROUP_TEXT_MAX)?;
        max_chars("groupInfo.faceURL", &info.face_url, FACE_URL_MAX)?;
        max_chars("groupInfo.ex", &info.ex, EX_MAX)?;
        within(
            "groupInfo.needVerification",
            info.need_verification,
            0..=2,
            NEED_VERIFICATION,
        )?;
        within(
            "groupInfo.lookMemberInfo",
            info.look_member_info,
            0..=1,
            LOOK_MEMBER_INFO,
        )?;
        within(
            "groupInfo.applyMemberFriend",
            info.apply_member_friend,
            0..=1,
            APPLY_MEMBER_FRIEND,
        )?;
        let mut seen = std::collections::HashSet::from([self.owner_user_id.as_str()]);
        for (field, ids) in [
            ("adminUserIDs", &self.admin_user_ids),
            ("memberUserIDs", &self.member_user_ids),
        ] {
            for id in ids {
                user_id(&format!("{field}[]"), id)?;
                if !seen.insert(id) {
                    return Err(FieldError::new(
                        field,
                        format!("{id} is listed twice (the owner, admins and members are distinct users)"),
                    ));
                }
            }
        }
        let added = self.admin_user_ids.len() + self.member_user_ids.len();
        if added > GROUP_INITIAL_MEMBERS_MAX {
            return Err(FieldError::new(
                "memberUserIDs",
                format!("at most {GROUP_INITIAL_MEMBERS_MAX} admins and members at creation, got {added}"),
            ));
        }
        Ok(())
    }
}

/// set_group_info_ex: absent fields are unchanged.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct SetGroupInfoExReq {
    #[serde(rename = "groupID")]
    pub group_id: String,
    pub group_name: Option<String>,
    pub notification: Option<String>,
    pub introduction: Option<String>,
    #[serde(rename = "faceURL")]
    pub face_url: Option<String>,
    pub ex: Option<String>,
    pub need_verification: Option<i32>,
    pub look_member_info: Option<i32>,
    pub apply_member_friend: Option<i32>,
}

impl Validate for SetGroupInfoExReq {
    fn validate(&self) -> Result<(), FieldError> {
        group_id("groupID", &self.group_id)?;
        if let Some(name) = &self.group_name {
            group_name("groupName", name)?;
        }
        optional_max_chars("notification", &self.notification, GROUP_TEXT_MAX)?;
        optional_max_chars("introduction", &self.introduction, GROUP_TEXT_MAX)?;
        optional_max_chars("faceURL", &self.face_url, FACE_URL_MAX)?;
        optional_max_chars("ex", &self.ex, EX_MAX)?;
        optional_within("needVerification", self.need_verification, 0..=2, NEED_VERIFICATION)?;
        optional_within("lookMemberInfo", self.look_member_info, 0..=1, LOOK_MEMBER_INFO)?;
        optional_within(
            "applyMemberFriend",
            self.apply_member_friend,
            0..=1,
            APPLY_MEMBER_FRIEND,
        )
    }
}

/// join_group: the applicant is always the caller. `inviterUserID` is
/// recorded as given, never trusted.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct JoinGroupReq {
    #[serde(rename = "groupID")]
    pub group_id: String,
    #[serde(default)]
    pub req_message: String,
    pub join_source: i32,
    #[serde(default, rename = "inviterUserID")]
    pub inviter_user_id: String,
    #[serde(default)]
    pub ex: String,
}

impl Validate for JoinGroupReq {
    fn validate(&self) -> Result<(), FieldError> {
        group_id("groupID", &self.group_id)?;
        max_chars("reqMessage", &self.req_message, MESSAGE_MAX)?;
        within(
            "joinSource",
            self.join_source,
            1..=4,
            "1 admin invitation, 2 invitation, 3 search, 4 QR code",
        )?;
        if !self.inviter_user_id.is_empty() {
            user_id("inviterUserID", &self.inviter_user_id)?;
        }
        max_chars("ex", &self.ex, EX_MAX)
    }
}

#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct GroupApplicationResponseReq {
    #[serde(rename = "groupID")]
    pub group_id: String,
    #[serde(rename = "fromUserID")]
    pub from_user_id: String,
    #[serde(default)]
    pub handled_msg: String,
    pub handle_result: i32,
}

impl Validate for GroupApplicationResponseReq {
    fn validate(&self) -> Result<(), FieldError> {
        group_id("groupID", &self.group_id)?;
        user_id("fromUserID", &self.from_user_id)?;
        max_chars("handledMsg", &self.handled_msg, MESSAGE_MAX)?;
        if ![1, -1].contains(&self.handle_result) {
            return Err(FieldError::new("handleResult", "must be 1 (agree) or -1 (refuse)"));
        }
        Ok(())
    }
}

/// quit_group, mute_group_member's target-only twin cancel_mute_group_member.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
pub struct GroupUserReq {
    #[serde(rename = "groupID")]
    pub group_id: String,
    #[serde(rename = "userID")]
    pub user_id: String,
}

impl Validate for GroupUserReq {
    fn validate(&self) -> Result<(), FieldError> {
        group_id("groupID", &self.group_id)?;
        user_id("userID", &self.user_id)
    }
}

#[derive(Debug, Deserialize, utoipa::ToSchema)]
pub struct TransferGroupReq {
    #[serde(rename = "groupID")]
    pub group_id: String,
    #[serde(rename = "oldOwnerUserID")]
    pub old_owner_user_id: String,
    #[serde(rename = "newOwnerUserID")]
    pub new_owner_user_id: String,
}

impl Validate for TransferGroupReq {
    fn validate(&self) -> Result<(), FieldError> {
        group_id("groupID", &self.group_id)?;
        user_id("oldOwnerUserID", &self.old_owner_user_id)?;
        user_id("newOwnerUserID", &self.new_owner_user_id)
    }
}

#[derive(Debug, Deserialize, utoipa::ToSchema)]
pub struct GetGroupsInfoReq {
    #[serde(rename = "groupIDs")]
    pub group_ids: Vec<String>,
}

impl Validate for GetGroupsInfoReq {
    fn validate(&self) -> Result<(), FieldError> {
        identifiers("groupIDs", &self.group_ids, GROUP_ID_MAX)
    }
}

#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct KickGroupReq {
    #[serde(rename = "groupID")]
    pub group_id: String,
    #[serde(rename = "kickedUserIDs")]
    pub kicked_user_ids: Vec<String>,
    #[serde(default)]
    pub reason: String,
}

impl Validate for KickGroupReq {
    fn validate(&self) -> Result<(), FieldError> {
        group_id("groupID", &self.group_id)?;
        user_ids("kickedUserIDs", &self.kicked_user_ids)?;
        max_chars("reason", &self.reason, MESSAGE_MAX)
    }
}

#[derive(Debug, Deserialize, utoipa::ToSchema)]
pub struct GetGroupMembersInfoReq {
    #[serde(rename = "groupID")]
    pub group_id: String,
    #[serde(rename = "userIDs")]
    pub user_ids: Vec<String>,
}

impl Validate for GetGroupMembersInfoReq {
    fn validate(&self) -> Result<(), FieldError> {
        group_id("groupID", &self.group_id)?;
        user_ids("userIDs", &self.user_ids)
    }
}

/// Which members get_group_member_list returns.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MemberFilter {
    All,
    Owner,
    Admins,
    OrdinaryMembers,
    AdminsAndMembers,
    OwnerAndAdmins,
}

impl MemberFilter {
    /// The reference's numbering: 0 all, 1 owner, 2 admins, 3 ordinary
    /// members, 4 admins and ordinary members, 5 owner and admins.
    fn from_code(code: i32) -> Option<Self> {
        Some(match code {
            0 => MemberFilter::All,
            1 => MemberFilter::Owner,
            2 => MemberFilter::Admins,
            3 => MemberFilter::OrdinaryMembers,
            4 => MemberFilter::AdminsAndMembers,
            5 => MemberFilter::OwnerAndAdmins,
            _ => return None,
        })
    }

    /// Does a member of `role_level` pass?
    pub fn admits(self, role_level: i32) -> bool {
        let (owner, admin, member) = (
            role_level == ROLE_OWNER,
            role_level == ROLE_ADMIN,
            role_level == ROLE_MEMBER,
        );
        match self {
            MemberFilter::All => true,
            MemberFilter::Owner => owner,
            MemberFilter::Admins => admin,
            MemberFilter::OrdinaryMembers => member,
            MemberFilter::AdminsAndMembers => admin || member,
            MemberFilter::OwnerAndAdmins => owner || admin,
        }
    }
}

#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct GetGroupMemberListReq {
    #[serde(rename = "groupID")]
    pub group_id: String,
    pub pagination: Pagination,
    #[serde(default)]
    pub keyword: String,
    #[serde(default)]
    pub filter: i32,
}

impl GetGroupMemberListReq {
    pub fn member_filter(&self) -> MemberFilter {
        // Validated: the code is known.
        MemberFilter::from_code(self.filter).unwrap_or(MemberFilter::All)
    }
}

impl Validate for GetGroupMemberListReq {
    fn validate(&self) -> Result<(), FieldError> {
        group_id("groupID", &self.group_id)?;
        self.pagination.validate()?;
        max_chars("keyword", &self.keyword, NICKNAME_MAX)?;
        if MemberFilter::from_code(self.filter).is_none() {
            return Err(FieldError::new(
                "filter",
                "must be 0 all, 1 owner, 2 admins, 3 ordinary members, 4 admins and ordinary members or 5 owner and admins",
            ));
        }
        Ok(())
    }
}

#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct InviteUserToGroupReq {
    #[serde(rename = "groupID")]
    pub group_id: String,
    #[serde(default)]
    pub reason: String,
    #[serde(rename = "invitedUserIDs")]
    pub invited_user_ids: Vec<String>,
}

impl Validate for InviteUserToGroupReq {
    fn validate(&self) -> Result<(), FieldError> {
        group_id("groupID", &self.group_id)?;
        user_ids("invitedUserIDs", &self.invited_user_ids)?;
        max_chars("reason", &self.reason, MESSAGE_MAX)
    }
}

#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct DismissGroupReq {
    #[serde(rename = "groupID")]
    pub group_id: String,
    #[serde(default)]
    pub delete_member: bool,
}

impl Validate for DismissGroupReq {
    fn validate(&self) -> Result<(), FieldError> {
        group_id("groupID", &self.group_id)
    }
}

#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct MuteGroupMemberReq {
    #[serde(rename = "groupID")]
    pub group_id: String,
    #[serde(rename = "userID")]
    pub user_id: String,
    pub muted_seconds: u32,
}

impl Validate for MuteGroupMemberReq {
    fn validate(&self) -> Result<(), FieldError> {
        group_id("groupID", &self.group_id)?;
        user_id("userID", &self.user_id)?;
        if self.muted_seconds == 0 {
            return Err(FieldError::new(
                "mutedSeconds",
                "must be at least 1 (use cancel_mute_group_member to unmute)",
            ));
        }
        Ok(())
    }
}

/// mute_group, cancel_mute_group.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
pub struct GroupReq {
    #[serde(rename = "groupID")]
    pub group_id: String,
}

impl Validate for GroupReq {
    fn validate(&self) -> Result<(), FieldError> {
        group_id("groupID", &self.group_id)
    }
}

/// get_joined_group_list, get_recv_group_applicationList (`fromUserID`)
/// and get_user_req_group_applicationList (`userID`): one user's list.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
pub struct OwnerListReq {
    #[serde(rename = "fromUserID", alias = "userID")]
    pub user_id: String,
    pub pagination: Pagination,
}

impl Validate for OwnerListReq {
    fn validate(&self) -> Result<(), FieldError> {
        user_id("fromUserID", &self.user_id)?;
        self.pagination.validate()
    }
}

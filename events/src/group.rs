//! Events of the `group:` decision scope: the group's info, its members and
//! their roles and mutes, and join requests. Every payload names its group,
//! so an event read on its own (audit, projection) says what it is about.

use serde::{Deserialize, Serialize};

/// Role levels of group members.
pub const ROLE_OWNER: i32 = 100;
pub const ROLE_ADMIN: i32 = 60;
pub const ROLE_MEMBER: i32 = 20;

/// Group status.
pub const STATUS_NORMAL: i32 = 0;
pub const STATUS_DISMISSED: i32 = 2;
pub const STATUS_MUTED: i32 = 3;

/// needVerification: applications need approval, members' invitations
/// join directly.
pub const VERIFY_APPLICATIONS: i32 = 0;
/// needVerification: everyone needs approval unless invited by the owner or
/// an admin.
pub const VERIFY_ALL: i32 = 1;
/// needVerification: everyone joins directly.
pub const VERIFY_NONE: i32 = 2;

/// joinSource of members added by create_group or invite_user_to_group
/// (the reference's JoinByInvitation).
pub const JOIN_BY_INVITATION: i32 = 2;

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct GroupCreated {
    #[serde(rename = "groupID")]
    pub group_id: String,
    pub group_name: String,
    pub notification: String,
    pub introduction: String,
    #[serde(rename = "faceURL")]
    pub face_url: String,
    pub ex: String,
    pub group_type: i32,
    pub need_verification: i32,
    pub look_member_info: i32,
    pub apply_member_friend: i32,
    #[serde(rename = "ownerUserID")]
    pub owner_user_id: String,
    #[serde(rename = "creatorUserID")]
    pub creator_user_id: String,
    pub create_time: i64,
    /// Everyone who joins with the creation (owner, admins, members), in
    /// the order of the `GroupMemberJoined` events that follow.
    #[serde(rename = "memberUserIDs")]
    pub member_user_ids: Vec<String>,
}

/// Some group info changed; an absent field is unchanged. The notification
/// fields are set together with a changed notification.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct GroupInfoSet {
    #[serde(rename = "groupID")]
    pub group_id: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub group_name: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub notification: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub introduction: Option<String>,
    #[serde(default, rename = "faceURL", skip_serializing_if = "Option::is_none")]
    pub face_url: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ex: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub need_verification: Option<i32>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub look_member_info: Option<i32>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub apply_member_friend: Option<i32>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub notification_update_time: Option<i64>,
    #[serde(default, rename = "notificationUserID", skip_serializing_if = "Option::is_none")]
    pub notification_user_id: Option<String>,
}

/// The info fields of a group, wherever they are kept (decision state,
/// read model), for [`GroupInfoSet::apply_to`].
pub struct GroupInfoFields<'a> {
    pub group_name: &'a mut String,
    pub notification: &'a mut String,
    pub introduction: &'a mut String,
    pub face_url: &'a mut String,
    pub ex: &'a mut String,
    pub need_verification: &'a mut i32,
    pub look_member_info: &'a mut i32,
    pub apply_member_friend: &'a mut i32,
}

impl GroupInfoSet {
    /// Sets the fields this event changes (the notification's time and
    /// author are the read model's own business).
    pub fn apply_to(&self, info: GroupInfoFields<'_>) {
        let texts = [
            (info.group_name, &self.group_name),
            (info.notification, &self.notification),
            (info.introduction, &self.introduction),
            (info.face_url, &self.face_url),
            (info.ex, &self.ex),
        ];
        for (field, value) in texts {
            if let Some(v) = value {
                field.clone_from(v);
            }
        }
        let numbers = [
            (info.need_verification, self.need_verification),
            (info.look_member_info, self.look_member_info),
            (info.apply_member_friend, self.apply_member_friend),
        ];
        for (field, value) in numbers {
            if let Some(v) = value {
                *field = v;
            }
        }
    }
}

/// A user became a member (at creation, by joining, by invitation or by an
/// approved request).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct GroupMemberJoined {
    #[serde(rename = "groupID")]
    pub group_id: String,
    #[serde(rename = "userID")]
    pub user_id: String,
    pub role_level: i32,
    pub join_source: i32,
    #[serde(rename = "inviterUserID")]
    pub inviter_user_id: String,
    #[serde(rename = "operatorUserID")]
    pub operator_user_id: String,
    pub ex: String,
    pub join_time: i64,
}

/// A user asked to join, or a member's invitation awaits approval. Replaces
/// the user's earlier request to this group.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct GroupJoinRequested {
    #[serde(rename = "groupID")]
    pub group_id: String,
    #[serde(rename = "userID")]
    pub user_id: String,
    pub req_msg: String,
    pub join_source: i32,
    #[serde(rename = "inviterUserID")]
    pub inviter_user_id: String,
    pub ex: String,
    pub req_time: i64,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct GroupJoinRequestHandled {
    #[serde(rename = "groupID")]
    pub group_id: String,
    #[serde(rename = "userID")]
    pub user_id: String,
    /// 1 agreed, -1 refused.
    pub handle_result: i32,
    pub handled_msg: String,
    #[serde(rename = "handleUserID")]
    pub handle_user_id: String,
    pub handled_time: i64,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct GroupMemberQuit {
    #[serde(rename = "groupID")]
    pub group_id: String,
    #[serde(rename = "userID")]
    pub user_id: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct GroupMemberKicked {
    #[serde(rename = "groupID")]
    pub group_id: String,
    #[serde(rename = "userID")]
    pub user_id: String,
    #[serde(rename = "operatorUserID")]
    pub operator_user_id: String,
    pub reason: String,
}

/// The new owner gets role 100, the old owner becomes an ordinary member.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct GroupOwnerTransferred {
    #[serde(rename = "groupID")]
    pub group_id: String,
    #[serde(rename = "oldOwnerUserID")]
    pub old_owner_user_id: String,
    #[serde(rename = "newOwnerUserID")]
    pub new_owner_user_id: String,
    #[serde(rename = "operatorUserID")]
    pub operator_user_id: String,
}

/// The group is dismissed for good. With deleteMember, the listed members
/// are removed from it as well.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct GroupDismissed {
    #[serde(rename = "groupID")]
    pub group_id: String,
    #[serde(rename = "operatorUserID")]
    pub operator_user_id: String,
    #[serde(rename = "removedUserIDs")]
    pub removed_user_ids: Vec<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct GroupMemberMuted {
    #[serde(rename = "groupID")]
    pub group_id: String,
    #[serde(rename = "userID")]
    pub user_id: String,
    /// Milliseconds since the Unix epoch.
    pub mute_end_time: i64,
    #[serde(rename = "operatorUserID")]
    pub operator_user_id: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct GroupMemberMuteCancelled {
    #[serde(rename = "groupID")]
    pub group_id: String,
    #[serde(rename = "userID")]
    pub user_id: String,
    #[serde(rename = "operatorUserID")]
    pub operator_user_id: String,
}

/// All members muted (status 3), or unmuted again (`muted` false).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct GroupMuteSet {
    #[serde(rename = "groupID")]
    pub group_id: String,
    pub muted: bool,
    #[serde(rename = "operatorUserID")]
    pub operator_user_id: String,
}

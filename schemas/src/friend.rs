//! Bodies of the `/friend/*` endpoints.

use serde::{Deserialize, Serialize};

use crate::limits::*;
pub use crate::pagination::Pagination;
use crate::validate::{max_chars, optional_max_chars, user_id, user_ids};
use crate::{FieldError, Validate};

#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct AddFriendReq {
    #[serde(rename = "fromUserID")]
    pub from_user_id: String,
    #[serde(rename = "toUserID")]
    pub to_user_id: String,
    #[serde(default)]
    pub req_msg: String,
    #[serde(default)]
    pub ex: String,
}

impl Validate for AddFriendReq {
    fn validate(&self) -> Result<(), FieldError> {
        user_id("fromUserID", &self.from_user_id)?;
        user_id("toUserID", &self.to_user_id)?;
        max_chars("reqMsg", &self.req_msg, MESSAGE_MAX)?;
        max_chars("ex", &self.ex, EX_MAX)
    }
}

#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct AddFriendResponseReq {
    #[serde(rename = "fromUserID")]
    pub from_user_id: String,
    #[serde(rename = "toUserID")]
    pub to_user_id: String,
    pub handle_result: i32,
    #[serde(default)]
    pub handle_msg: String,
}

impl Validate for AddFriendResponseReq {
    fn validate(&self) -> Result<(), FieldError> {
        user_id("fromUserID", &self.from_user_id)?;
        user_id("toUserID", &self.to_user_id)?;
        if ![1, -1].contains(&self.handle_result) {
            return Err(FieldError::new("handleResult", "must be 1 (agree) or -1 (refuse)"));
        }
        max_chars("handleMsg", &self.handle_msg, MESSAGE_MAX)
    }
}

/// delete_friend.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct DeleteFriendReq {
    #[serde(rename = "ownerUserID")]
    pub owner_user_id: String,
    #[serde(rename = "friendUserID")]
    pub friend_user_id: String,
}

impl Validate for DeleteFriendReq {
    fn validate(&self) -> Result<(), FieldError> {
        user_id("ownerUserID", &self.owner_user_id)?;
        user_id("friendUserID", &self.friend_user_id)
    }
}

/// get_friend_apply_list, get_self_friend_apply_list, get_friend_list,
/// get_black_list.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct ListReq {
    #[serde(rename = "userID")]
    pub user_id: String,
    pub pagination: Pagination,
    /// Apply lists only: keep requests with these handleResults.
    #[serde(default)]
    pub handle_results: Option<Vec<i32>>,
}

impl Validate for ListReq {
    fn validate(&self) -> Result<(), FieldError> {
        user_id("userID", &self.user_id)?;
        self.pagination.validate()?;
        match &self.handle_results {
            Some(results) if results.iter().any(|r| ![0, 1, -1].contains(r)) => {
                Err(FieldError::new("handleResults", "each must be 0, 1 or -1"))
            }
            _ => Ok(()),
        }
    }
}

#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct AddBlackReq {
    #[serde(rename = "ownerUserID")]
    pub owner_user_id: String,
    #[serde(rename = "blackUserID")]
    pub black_user_id: String,
    #[serde(default)]
    pub ex: String,
}

impl Validate for AddBlackReq {
    fn validate(&self) -> Result<(), FieldError> {
        user_id("ownerUserID", &self.owner_user_id)?;
        user_id("blackUserID", &self.black_user_id)?;
        max_chars("ex", &self.ex, EX_MAX)
    }
}

#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct RemoveBlackReq {
    #[serde(rename = "ownerUserID")]
    pub owner_user_id: String,
    #[serde(rename = "blackUserID")]
    pub black_user_id: String,
}

impl Validate for RemoveBlackReq {
    fn validate(&self) -> Result<(), FieldError> {
        user_id("ownerUserID", &self.owner_user_id)?;
        user_id("blackUserID", &self.black_user_id)
    }
}

#[derive(Debug, Deserialize, utoipa::ToSchema)]
pub struct IsFriendReq {
    #[serde(rename = "userID1")]
    pub user_id1: String,
    #[serde(rename = "userID2")]
    pub user_id2: String,
}

impl Validate for IsFriendReq {
    fn validate(&self) -> Result<(), FieldError> {
        user_id("userID1", &self.user_id1)?;
        user_id("userID2", &self.user_id2)
    }
}

#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct IsFriendResp {
    pub in_user1_friends: bool,
    pub in_user2_friends: bool,
}

#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct UpdateFriendsReq {
    #[serde(rename = "ownerUserID")]
    pub owner_user_id: String,
    #[serde(rename = "friendUserIDs")]
    pub friend_user_ids: Vec<String>,
    pub is_pinned: Option<bool>,
    pub remark: Option<String>,
    pub ex: Option<String>,
}

impl Validate for UpdateFriendsReq {
    fn validate(&self) -> Result<(), FieldError> {
        user_id("ownerUserID", &self.owner_user_id)?;
        user_ids("friendUserIDs", &self.friend_user_ids)?;
        optional_max_chars("remark", &self.remark, NICKNAME_MAX)?;
        optional_max_chars("ex", &self.ex, EX_MAX)
    }
}

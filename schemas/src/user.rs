//! Bodies of the `/user/*` endpoints.

use serde::{Deserialize, Serialize};

use crate::limits::*;
use crate::validate::{max_chars, new_id, optional_max_chars, user_id};
use crate::{FieldError, Validate};

#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct SelfRegisterReq {
    #[serde(rename = "userID")]
    pub user_id: String,
    pub nickname: String,
    #[serde(default, rename = "faceURL")]
    pub face_url: String,
    #[serde(default)]
    pub ex: String,
    pub password: String,
}

impl Validate for SelfRegisterReq {
    fn validate(&self) -> Result<(), FieldError> {
        new_id("userID", &self.user_id, USER_ID_MAX)?;
        if self.nickname.is_empty() {
            return Err(FieldError::new("nickname", "must not be empty"));
        }
        max_chars("nickname", &self.nickname, NICKNAME_MAX)?;
        max_chars("faceURL", &self.face_url, FACE_URL_MAX)?;
        max_chars("ex", &self.ex, EX_MAX)?;
        password(&self.password)
    }
}

#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct SelfRegisterResp {
    #[serde(rename = "userID")]
    pub user_id: String,
}

#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct SelfLoginReq {
    #[serde(rename = "userID")]
    pub user_id: String,
    #[serde(rename = "platformID")]
    pub platform_id: i32,
    pub password: String,
}

impl Validate for SelfLoginReq {
    fn validate(&self) -> Result<(), FieldError> {
        user_id("userID", &self.user_id)?;
        if !PLATFORM_IDS.contains(&self.platform_id) {
            return Err(FieldError::new(
                "platformID",
                format!("must be within {}..={}", PLATFORM_IDS.start(), PLATFORM_IDS.end()),
            ));
        }
        password(&self.password)
    }
}

#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct SelfLoginResp {
    pub token: String,
    pub expire_time_seconds: i64,
}

#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct UpdateUserInfoExReq {
    pub user_info: UserInfoPatch,
}

/// Absent fields stay as they are; an empty string sets the field empty.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct UserInfoPatch {
    #[serde(rename = "userID")]
    pub user_id: String,
    pub nickname: Option<String>,
    #[serde(rename = "faceURL")]
    pub face_url: Option<String>,
    pub ex: Option<String>,
}

impl Validate for UpdateUserInfoExReq {
    fn validate(&self) -> Result<(), FieldError> {
        let u = &self.user_info;
        user_id("userInfo.userID", &u.user_id)?;
        if u.nickname.as_deref() == Some("") {
            return Err(FieldError::new("userInfo.nickname", "must not be empty"));
        }
        optional_max_chars("userInfo.nickname", &u.nickname, NICKNAME_MAX)?;
        optional_max_chars("userInfo.faceURL", &u.face_url, FACE_URL_MAX)?;
        optional_max_chars("userInfo.ex", &u.ex, EX_MAX)
    }
}

#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct GetUsersInfoReq {
    #[serde(rename = "userIDs")]
    pub user_ids: Vec<String>,
}

impl Validate for GetUsersInfoReq {
    fn validate(&self) -> Result<(), FieldError> {
        if self.user_ids.is_empty() {
            return Err(FieldError::new("userIDs", "must not be empty"));
        }
        if self.user_ids.len() > USERS_PER_QUERY_MAX {
            return Err(FieldError::new(
                "userIDs",
                format!(
                    "at most {USERS_PER_QUERY_MAX} IDs per call, got {}",
                    self.user_ids.len()
                ),
            ));
        }
        self.user_ids.iter().try_for_each(|id| user_id("userIDs[]", id))
    }
}

fn password(value: &str) -> Result<(), FieldError> {
    let n = value.chars().count();
    if !(PASSWORD_MIN..=PASSWORD_MAX).contains(&n) {
        return Err(FieldError::new(
            "password",
            format!("must be {PASSWORD_MIN} to {PASSWORD_MAX} characters"),
        ));
    }
    Ok(())
}

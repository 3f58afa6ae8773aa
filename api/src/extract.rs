//! Typed extractors: the request's headers (operationID, tenant, token,
//! read position) and a JSON body whose errors name the offending field.

use axum::body::Bytes;
use axum::extract::{FromRequest, FromRequestParts, Request};
use axum::http::request::Parts;
use axum::http::HeaderMap;
use schemas::limits::{OPERATION_ID_MAX, TENANT_ID_MAX};
use schemas::Validate;
use serde::de::DeserializeOwned;

use crate::error::AppError;
use crate::state::AppState;

pub const OPERATION_ID: &str = "operationID";
pub const TENANT_ID: &str = "X-Tenant-ID";
pub const TOKEN: &str = "token";
/// Optional on queries: answer only once the read models include this log
/// position (a command reply's X-Parley-Position).
pub const MIN_POSITION: &str = "X-Parley-Min-Position";
/// Set on command replies: the log position of the command's last event.
pub const POSITION: &str = "X-Parley-Position";

fn header<'a>(headers: &'a HeaderMap, name: &str) -> Result<Option<&'a str>, AppError> {
    headers
        .get(name)
        .map(|v| {
            v.to_str()
                .map_err(|_| AppError::args(format!("header {name} is not visible ASCII")))
        })
        .transpose()
}

/// operationID and tenant: required on every endpoint.
#[derive(Debug, Clone)]
pub struct RequestMeta {
    pub operation_id: String,
    pub tenant: String,
    pub min_position: Option<u64>,
}

impl<S: Send + Sync> FromRequestParts<S> for RequestMeta {
    type Rejection = AppError;

    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Self, AppError> {
        let operation_id = header(&parts.headers, OPERATION_ID)?
            .filter(|v| !v.is_empty())
            .ok_or_else(|| AppError::args("header must have operationID"))?;
        if operation_id.len() > OPERATION_ID_MAX {
            return Err(AppError::args(format!(
                "operationID: at most {OPERATION_ID_MAX} characters"
            )));
        }
        let tenant = header(&parts.headers, TENANT_ID)?
            .filter(|v| !v.is_empty())
            .ok_or_else(|| AppError::args("header must have X-Tenant-ID"))?;
        if tenant.len() > TENANT_ID_MAX
            || !tenant
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
        {
            return Err(AppError::args(format!(
                "X-Tenant-ID: 1 to {TENANT_ID_MAX} characters of A-Z, a-z, 0-9, '-' or '_'"
            )));
        }
        let min_position = header(&parts.headers, MIN_POSITION)?
            .map(|v| {
                v.parse::<u64>()
                    .map_err(|_| AppError::args(format!("{MIN_POSITION}: not a log position")))
            })
            .transpose()?;
        Ok(RequestMeta {
            operation_id: operation_id.to_owned(),
            tenant: tenant.to_owned(),
            min_position,
        })
    }
}

/// An authenticated caller: a valid token of the request's tenant.
#[derive(Debug, Clone)]
pub struct Caller {
    pub meta: RequestMeta,
    pub user_id: String,
    pub is_admin: bool,
}

impl Caller {
    pub fn actor(&self) -> commands::Actor {
        commands::Actor {
            user_id: self.user_id.clone(),
            is_admin: self.is_admin,
        }
    }
}

impl FromRequestParts<AppState> for Caller {
    type Rejection = AppError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, AppError> {
        let meta = RequestMeta::from_request_parts(parts, state).await?;
        let token = header(&parts.headers, TOKEN)?
            .filter(|v| !v.is_empty())
            .ok_or_else(|| AppError::new(1507, "header must have token"))?;
        let claims = state.tokens.verify(token)?;
        if claims.tenant != meta.tenant {
            return Err(AppError::new(1502, "token was issued for another tenant"));
        }
        let is_admin = state.is_admin(&claims.user_id);
        Ok(Caller {
            meta,
            user_id: claims.user_id,
            is_admin,
        })
    }
}

/// A JSON body, parsed and validated; any problem is a 1001 naming the field.
pub struct ApiJson<T>(pub T);

impl<S: Send + Sync, T: DeserializeOwned + Validate> FromRequest<S> for ApiJson<T> {
    type Rejection = AppError;

    async fn from_request(req: Request, state: &S) -> Result<Self, AppError> {
        let bytes = Bytes::from_request(req, state)
            .await
            .map_err(|e| AppError::args(format!("request body: {e}")))?;
        Ok(ApiJson(parse_body(&bytes)?))
    }
}

/// Parses and validates a JSON body; any problem is a 1001 naming the field.
pub fn parse_body<T: DeserializeOwned + Validate>(bytes: &[u8]) -> Result<T, AppError> {
    // Serde also reads a struct from an array of its fields in order; a
    // body is an object.
    if bytes.iter().find(|b| !b.is_ascii_whitespace()) != Some(&b'{') {
        return Err(AppError::args("request body: must be a JSON object"));
    }
    let mut de = serde_json::Deserializer::from_slice(bytes);
    let value: T = serde_path_to_error::deserialize(&mut de).map_err(|e| {
        let path = e.path().to_string();
        let inner = e.into_inner();
        if path == "." {
            AppError::args(format!("request body: {inner}"))
        } else {
            AppError::args(format!("{path}: {inner}"))
        }
    })?;
    de.end().map_err(|e| AppError::args(format!("request body: {e}")))?;
    value.validate()?;
    Ok(value)
}

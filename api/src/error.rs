//! One error type for every handler, and its mapping to the reply envelope.

use std::time::Duration;

use axum::http::header::RETRY_AFTER;
use axum::http::{HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Json;
use commands::CommandError;
use infra::vault::VaultError;
use infra::write_side::WriteError;
use projections::StoreError;
use schemas::{ApiReply, FieldError};

/// Parley's own code (OpenIM has none): a throttled or overloaded request,
/// to be retried after the reply's `Retry-After` seconds.
pub const TOO_MANY_REQUESTS: i32 = 1010;

/// The errCode of a reply, on the response for the access log.
#[derive(Debug, Clone, Copy)]
pub struct ErrCode(pub i32);

#[derive(Debug)]
pub struct AppError {
    pub code: i32,
    pub detail: String,
    /// Sent as `Retry-After` (whole seconds, rounded up).
    pub retry_after: Option<Duration>,
}

impl AppError {
    pub fn new(code: i32, detail: impl Into<String>) -> Self {
        AppError {
            code,
            detail: detail.into(),
            retry_after: None,
        }
    }

    /// Tells the client when to try again (`Retry-After`).
    pub fn retry_after(mut self, after: Duration) -> Self {
        self.retry_after = Some(after);
        self
    }

    pub fn too_many_requests(detail: impl Into<String>, retry_after: Duration) -> Self {
        let retry_after = retry_after.max(Duration::from_secs(1));
        let secs = retry_after.as_secs() + u64::from(retry_after.subsec_nanos() > 0);
        AppError {
            code: TOO_MANY_REQUESTS,
            detail: format!("{}; retry after {secs} s", detail.into()),
            retry_after: Some(Duration::from_secs(secs)),
        }
    }

    pub fn args(detail: impl Into<String>) -> Self {
        Self::new(1001, detail)
    }

    pub fn no_permission(detail: impl Into<String>) -> Self {
        Self::new(1002, detail)
    }

    pub fn internal(detail: impl Into<String>) -> Self {
        Self::new(500, detail)
    }
}

/// The reference server's name for each error code.
fn code_name(code: i32) -> &'static str {
    match code {
        500 => "ServerInternalError",
        1001 => "ArgsError",
        1002 => "NoPermissionError",
        1003 => "DuplicateKeyError",
        1004 => "RecordNotFoundError",
        TOO_MANY_REQUESTS => "TooManyRequestsError",
        1101 => "UserIDNotFoundError",
        1102 => "RegisteredAlreadyError",
        1201 => "GroupIDNotFoundError",
        1202 => "GroupIDExisted",
        1203 => "NotInGroupYetError",
        1204 => "DismissedAlreadyError",
        1205 => "GroupTypeNotSupport",
        1206 => "GroupRequestHandled",
        1301 => "CanNotAddYourselfError",
        1302 => "BlockedByPeer",
        1303 => "NotPeersFriend",
        1304 => "RelationshipAlreadyError",
        1305 => "FriendRequestHandled",
        1402 => "MutedInGroup",
        1403 => "MutedGroup",
        1404 => "MsgAlreadyRevoke",
        1501 => "TokenExpiredError",
        1502 => "TokenInvalidError",
        1503 => "TokenMalformedError",
        1504 => "TokenNotValidYetError",
        1505 => "TokenUnknownError",
        1506 => "TokenKickedError",
        1507 => "TokenNotExistError",
        _ => "UnknownError",
    }
}

impl From<FieldError> for AppError {
    fn from(e: FieldError) -> Self {
        AppError::args(e.to_string())
    }
}

impl From<CommandError> for AppError {
    fn from(e: CommandError) -> Self {
        AppError::new(e.code(), e.to_string())
    }
}

impl From<WriteError> for AppError {
    fn from(e: WriteError) -> Self {
        match e {
            WriteError::Rejected(e) => e.into(),
            other => AppError::internal(other.to_string()),
        }
    }
}

impl From<StoreError> for AppError {
    fn from(e: StoreError) -> Self {
        AppError::internal(e.to_string())
    }
}

impl From<VaultError> for AppError {
    fn from(e: VaultError) -> Self {
        AppError::internal(e.to_string())
    }
}

impl IntoResponse for AppError {
    fn into_response(self) -> Response {
        // The access log line has the code; the detail of a refusal (the
        // errDlt the client gets) is for debugging.
        if self.code == 500 {
            tracing::error!(code = self.code, detail = %self.detail, "request failed");
        } else {
            tracing::debug!(code = self.code, detail = %self.detail, "request refused");
        }
        let reply = ApiReply::error(self.code, code_name(self.code), &self.detail);
        let mut response = (StatusCode::OK, Json(reply)).into_response();
        response.extensions_mut().insert(ErrCode(self.code));
        if let Some(after) = self.retry_after {
            response
                .headers_mut()
                .insert(RETRY_AFTER, HeaderValue::from(after.as_secs()));
        }
        response
    }
}

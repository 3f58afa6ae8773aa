//! HTTP routes and the success side of the reply envelope.

mod friend;
mod user;

use axum::extract::Request;
use axum::http::{HeaderValue, StatusCode};
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use axum::routing::post;
use axum::{Json, Router};
use schemas::ApiReply;
use serde::Serialize;
use tracing::Instrument;

use crate::error::AppError;
use crate::extract::{OPERATION_ID, POSITION};
use crate::state::AppState;

pub fn router(state: AppState) -> Router {
    Router::new()
        .route("/user/self_register", post(user::self_register))
        .route("/user/self_login", post(user::self_login))
        .route("/user/update_user_info_ex", post(user::update_user_info_ex))
        .route("/user/get_users_info", post(user::get_users_info))
        .route("/friend/add_friend", post(friend::add_friend))
        .route("/friend/add_friend_response", post(friend::add_friend_response))
        .route("/friend/delete_friend", post(friend::delete_friend))
        .route("/friend/get_friend_apply_list", post(friend::get_friend_apply_list))
        .route(
            "/friend/get_self_friend_apply_list",
            post(friend::get_self_friend_apply_list),
        )
        .route("/friend/get_friend_list", post(friend::get_friend_list))
        .route("/friend/add_black", post(friend::add_black))
        .route("/friend/get_black_list", post(friend::get_black_list))
        .route("/friend/remove_black", post(friend::remove_black))
        .route("/friend/is_friend", post(friend::is_friend))
        .route("/friend/update_friends", post(friend::update_friends))
        .fallback(|| async { AppError::new(1004, "no such endpoint") })
        .layer(middleware::from_fn(trace_request))
        .with_state(state)
}

/// Every request runs in a span carrying its operationID.
async fn trace_request(req: Request, next: Next) -> Response {
    let operation_id = req
        .headers()
        .get(OPERATION_ID)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("")
        .to_owned();
    let span = tracing::info_span!("request", operation_id = %operation_id, path = %req.uri().path());
    next.run(req).instrument(span).await
}

/// A successful reply: errCode 0, optional data, and for commands the log
/// position of their last event.
pub struct Reply {
    data: Option<serde_json::Value>,
    position: Option<u64>,
}

impl Reply {
    pub fn data(data: impl Serialize) -> Result<Self, AppError> {
        let data = serde_json::to_value(data).map_err(|e| AppError::internal(format!("encoding reply: {e}")))?;
        Ok(Reply {
            data: Some(data),
            position: None,
        })
    }

    pub fn empty() -> Self {
        Reply {
            data: None,
            position: None,
        }
    }

    pub fn at(mut self, position: u64) -> Self {
        self.position = Some(position);
        self
    }
}

impl IntoResponse for Reply {
    fn into_response(self) -> Response {
        let mut response = (StatusCode::OK, Json(ApiReply::ok(self.data))).into_response();
        if let Some(p) = self.position {
            response.headers_mut().insert(POSITION, HeaderValue::from(p));
        }
        response
    }
}

//! `/healthz` and `/readyz`, for orchestrators: plain HTTP status codes
//! (not the API envelope), no token, no tenant.

use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::Json;
use serde::Serialize;

use crate::state::AppState;

#[derive(Serialize)]
struct Alive {
    alive: bool,
}

/// The process is alive and answers HTTP.
pub async fn alive() -> Response {
    (StatusCode::OK, Json(Alive { alive: true })).into_response()
}

#[derive(Serialize)]
pub struct Readiness {
    pub ready: bool,
    /// Events the read models are behind the log's head (absent if the
    /// log or the store did not answer).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub behind: Option<u64>,
    /// Why not, when not ready.
    pub reasons: Vec<String>,
}

/// This node can serve: 200 when ready, 503 with the reasons when not.
pub async fn ready(State(state): State<AppState>) -> Response {
    let report = state.readiness.check().await;
    let status = if report.ready() {
        StatusCode::OK
    } else {
        StatusCode::SERVICE_UNAVAILABLE
    };
    let body = Readiness {
        ready: report.ready(),
        behind: report.behind,
        reasons: report.reasons,
    };
    (status, Json(body)).into_response()
}

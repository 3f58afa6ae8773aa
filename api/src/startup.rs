//! What a node answers while it starts: it listens at once, so that an
//! orchestrator sees it alive (`/healthz`) and not ready (`/readyz`, with
//! how far the read models are) while it replays the log; API requests get
//! a 500 saying so, with `Retry-After`. Once the backend is up, every
//! request goes to the API's router.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, OnceLock};
use std::time::Duration;

use axum::extract::Request;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::{Json, Router};
use infra::projector::Progress;
use tower::ServiceExt;

use crate::error::AppError;
use crate::routes::health;

/// How far the start is: events applied of the log's, while replaying.
#[derive(Default)]
pub struct Starting {
    applied: AtomicU64,
    total: AtomicU64,
}

impl Starting {
    /// A projector progress callback that records here, then calls `also`.
    pub fn progress(self: &Arc<Self>, also: Progress) -> Progress {
        let starting = self.clone();
        Arc::new(move |applied, total| {
            starting.applied.store(applied, Ordering::Relaxed);
            starting.total.store(total, Ordering::Relaxed);
            also(applied, total);
        })
    }

    fn report(&self) -> health::Readiness {
        let (applied, total) = (self.applied.load(Ordering::Relaxed), self.total.load(Ordering::Relaxed));
        health::Readiness {
            ready: false,
            behind: Some(total.saturating_sub(applied)),
            reasons: vec![format!(
                "starting: the read models are catching up with the log ({applied} of {total} events)"
            )],
        }
    }
}

/// The router a node serves from its first moment: the starting answers
/// until [`Switch::ready`] hands it the API's router.
#[derive(Clone, Default)]
pub struct Switch {
    api: Arc<OnceLock<Router>>,
}

impl Switch {
    pub fn router(&self, starting: Arc<Starting>) -> Router {
        let during = Router::new()
            .route("/healthz", get(health::alive))
            .route("/readyz", get(move || ready_while_starting(starting.clone())))
            .fallback(|| async {
                AppError::new(
                    500,
                    "the server is starting: its read models are catching up with the log",
                )
                .retry_after(Duration::from_secs(1))
            });
        let api = self.api.clone();
        Router::new().fallback_service(tower::service_fn(move |request: Request| {
            let router = api.get().cloned().unwrap_or_else(|| during.clone());
            async move { router.oneshot(request).await }
        }))
    }

    /// From now on every request goes to `api`.
    pub fn ready(&self, api: Router) {
        let _ = self.api.set(api);
    }
}

async fn ready_while_starting(starting: Arc<Starting>) -> Response {
    (StatusCode::SERVICE_UNAVAILABLE, Json(starting.report())).into_response()
}

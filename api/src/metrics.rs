//! Prometheus metrics: the `metrics` facade everywhere, recorded by the
//! Prometheus exporter and served at `GET /metrics` on a listen address of
//! its own (`--metrics-listen`), apart from the API: whoever reaches that
//! address reads them, so keep it on a private interface. Without the flag
//! nothing is recorded. docs/api.md ("Metrics") lists every metric.

use std::net::SocketAddr;
use std::time::Duration;

use axum::routing::get;
use axum::Router;
use metrics_exporter_prometheus::{Matcher, PrometheusBuilder, PrometheusHandle};

use crate::deploy::BoxError;

/// Latency buckets in seconds: 100 µs to 10 s.
const SECONDS: &[f64] = &[
    0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0,
];
/// Events per group commit or projected batch.
const SIZES: &[f64] = &[
    1.0, 2.0, 5.0, 10.0, 20.0, 50.0, 100.0, 200.0, 500.0, 1000.0, 2000.0, 5000.0,
];
/// How often histograms are compacted.
const UPKEEP: Duration = Duration::from_secs(5);

/// Installs the recorder and serves `/metrics` on `listen`; returns the
/// address it listens on.
pub async fn serve(listen: SocketAddr) -> Result<SocketAddr, BoxError> {
    let handle = PrometheusBuilder::new()
        .set_buckets_for_metric(Matcher::Suffix("_seconds".into()), SECONDS)?
        .set_buckets_for_metric(Matcher::Suffix("_events".into()), SIZES)?
        .install_recorder()?;
    let upkeep = handle.clone();
    tokio::spawn(async move {
        let mut every = tokio::time::interval(UPKEEP);
        loop {
            every.tick().await;
            upkeep.run_upkeep();
        }
    });
    let listener = tokio::net::TcpListener::bind(listen).await?;
    let at = listener.local_addr()?;
    let app = Router::new().route("/metrics", get(move || scrape(handle.clone())));
    tokio::spawn(async move {
        if let Err(e) = axum::serve(listener, app).await {
            tracing::error!(error = %e, "metrics listener failed");
        }
    });
    tracing::info!("metrics on http://{at}/metrics");
    Ok(at)
}

/// How often a node measures how far its read models are behind the log.
const BEHIND_EVERY: Duration = Duration::from_secs(5);

/// `parley_read_models_behind_events`: events between the log's head and
/// the read models, as `/readyz` measures it, every `BEHIND_EVERY`.
pub async fn follow_behind(state: crate::state::AppState) {
    let mut every = tokio::time::interval(BEHIND_EVERY);
    loop {
        every.tick().await;
        if let Some(behind) = state.readiness.check().await.behind {
            metrics::gauge!("parley_read_models_behind_events").set(behind as f64);
        }
    }
}

async fn scrape(handle: PrometheusHandle) -> String {
    handle.render()
}

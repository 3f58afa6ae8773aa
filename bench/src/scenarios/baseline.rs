//! `baseline`: the harness's HTTP client, with the run's concurrency and
//! duration, against a minimal axum app started here (its own runtime, on
//! 127.0.0.1:0) that parses each POST's JSON body and answers the success
//! envelope: what this machine's HTTP stack does at all, the yardstick of
//! every rate in the table.

use std::sync::Arc;
use std::time::Duration;

use axum::routing::post;
use axum::{Json, Router};
use serde_json::{json, Value};
use tokio::sync::oneshot;

use crate::client::{Api, Result};
use crate::load::closed_loop;
use crate::stats::{Figure, Latencies};

pub async fn run(concurrency: usize, duration: Duration) -> Result<Vec<Figure>> {
    let (url, _app) = App::start()?;
    let api = Arc::new(Api::new(&url, "1000")?);
    let latencies = Arc::new(Latencies::default());
    let recorded = latencies.clone();
    let elapsed = closed_loop(concurrency, duration, move |i| {
        let (api, latencies) = (api.clone(), recorded.clone());
        async move {
            let body = json!({"userIDs": [format!("user{}", i % 1000)]});
            latencies
                .time("requests", api.post("/bench/noop", Some("token"), &body))
                .await?;
            Ok(true)
        }
    })
    .await?;
    Ok(latencies.figures("baseline", elapsed))
}

/// The no-op app; stops when dropped.
struct App {
    _stop: oneshot::Sender<()>,
}

impl App {
    fn start() -> Result<(String, App)> {
        let listener = std::net::TcpListener::bind("127.0.0.1:0")?;
        listener.set_nonblocking(true)?;
        let url = format!("http://{}", listener.local_addr()?);
        let runtime = tokio::runtime::Builder::new_multi_thread().enable_all().build()?;
        let (stop, stopped) = oneshot::channel::<()>();
        std::thread::spawn(move || {
            runtime.block_on(async move {
                let app = Router::new().fallback(post(noop));
                let Ok(listener) = tokio::net::TcpListener::from_std(listener) else {
                    return;
                };
                let _ = axum::serve(listener, app)
                    .with_graceful_shutdown(async {
                        let _ = stopped.await;
                    })
                    .await;
            })
        });
        Ok((url, App { _stop: stop }))
    }
}

async fn noop(Json(_body): Json<Value>) -> Json<Value> {
    Json(json!({"errCode": 0, "errMsg": "", "errDlt": "", "data": {}}))
}

//! Start-up, serving and shutdown of the embedded deployment, and the
//! `rebuild` command.

use std::collections::HashSet;
use std::sync::Arc;
use std::time::{Duration, Instant};

use infra::event_log::{EmbeddedLog, EventLog};
use infra::projector::Projector;
use infra::read_store::{EmbeddedStore, ReadStore};
use infra::write_side::WriteSide;
use tokio::sync::watch;

use crate::auth::Tokens;
use crate::cli::{DataArgs, ServeArgs};
use crate::routes::router;
use crate::secret;
use crate::state::{AppState, Inner};

type BoxError = Box<dyn std::error::Error>;

/// The event log and read store a process works on.
struct Backends {
    log: Arc<dyn EventLog>,
    store: Arc<dyn ReadStore>,
}

/// Opens the read models first: redb locks its file, so a second process on
/// the same data dir stops here, before it touches the event log.
fn open_embedded(data: &DataArgs) -> Result<Backends, BoxError> {
    let store = EmbeddedStore::open(&data.data_dir)?;
    let log = EmbeddedLog::open(&data.data_dir)?;
    Ok(Backends {
        log: Arc::new(log),
        store: Arc::new(store),
    })
}

/// `parley serve`: runs until SIGINT/SIGTERM, then stops accepting,
/// finishes in-flight requests, flushes and returns.
pub async fn serve(args: ServeArgs) -> Result<(), BoxError> {
    let secret = secret::load_or_create(&args.secret, &args.data.data_dir)?;
    let Backends { log, store } = open_embedded(&args.data)?;
    let write = WriteSide::recover(log.clone()).await?;
    let projector = Projector::new(store.clone()).await?;
    let applied = projector.applied();
    let (stop, stopped) = watch::channel(false);
    let projecting = tokio::spawn(projector.run(log.clone(), stopped));

    let state = AppState(Arc::new(Inner {
        write,
        store,
        applied,
        tokens: Tokens::new(&secret, args.secret.token_ttl_secs),
        admins: args.admin_user_ids.iter().cloned().collect::<HashSet<_>>(),
        read_wait: Duration::from_millis(args.read_wait_ms),
    }));
    let listener = tokio::net::TcpListener::bind(args.listen).await?;
    tracing::info!(data_dir = %args.data.data_dir.display(), "listening on http://{}", listener.local_addr()?);
    axum::serve(listener, router(state))
        .with_graceful_shutdown(shutdown_signal())
        .await?;

    tracing::info!("no more requests in flight; closing");
    let _ = stop.send(true);
    let _ = projecting.await;
    log.close().await;
    tracing::info!("stopped");
    Ok(())
}

async fn shutdown_signal() {
    let mut term = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()).ok();
    tokio::select! {
        _ = tokio::signal::ctrl_c() => {}
        _ = async { match term.as_mut() { Some(t) => { t.recv().await; } None => std::future::pending().await } } => {}
    }
    tracing::info!("shutdown requested");
}

/// `parley rebuild`: drops the read models and replays the whole log.
pub async fn rebuild(args: DataArgs) -> Result<(), BoxError> {
    let Backends { log, store } = open_embedded(&args)?;
    store.reset().await?;
    let started = Instant::now();
    let projector = Projector::new(store).await?;
    let events = projector.catch_up(log.as_ref()).await?;
    let secs = started.elapsed().as_secs_f64();
    log.close().await;
    println!(
        "rebuilt read models from {events} events in {secs:.2} s ({:.0} events/s)",
        events as f64 / secs.max(1e-9)
    );
    Ok(())
}

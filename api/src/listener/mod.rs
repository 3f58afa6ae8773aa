//! The HTTP listener: accepts connections up to a cap, serves each with
//! HTTP/1.1 (WebSocket upgrades included), closes connections whose client
//! is too slow to send a request, and shuts down in bounded time.
//!
//! A connection is idle (waiting for a request, at most `idle_timeout`),
//! sending a header (at most `header_timeout` from its first byte), sending
//! a body (at most `body_timeout` from the end of its header), being
//! answered (no bound here), or upgraded to a WebSocket session (the
//! gateway's own pings and limits apply). At the cap, a new connection
//! evicts the half-sent request that has waited longest (or, if there is
//! none, the connection idle longest; requests being answered and sessions
//! never), so slow or half-sent requests cannot keep a normal client out.

mod admission;
mod bodies;
mod connection;
pub mod open_files;

use std::io;
use std::sync::Arc;
use std::time::Duration;

use axum::Router;
use tokio::net::TcpListener;
use tokio::sync::watch;
use tokio::task::JoinSet;
use tokio::time::Instant;

use self::admission::Registry;
use self::open_files::NoRoom;
use crate::cli::ConnectionArgs;

/// A pause after a failed accept that is not about one connection (such as
/// running out of descriptors), so the loop does not spin.
const ACCEPT_BACKOFF: Duration = Duration::from_millis(100);

/// Shutdown as the listener sees it: None while serving, then the instant
/// by which every connection must be closed.
pub type Shutdown = watch::Receiver<Option<Instant>>;

/// The bounds the listener enforces.
#[derive(Debug, Clone)]
pub struct Limits {
    pub max_connections: usize,
    pub header_timeout: Duration,
    pub body_timeout: Duration,
    pub idle_timeout: Duration,
}

impl Limits {
    /// The configured limits, the connection cap kept below `open_files`.
    pub fn new(args: &ConnectionArgs, open_files: Option<u64>) -> Result<Limits, NoRoom> {
        Ok(Limits {
            max_connections: open_files::connection_cap(args.max_connections as usize, open_files)?,
            header_timeout: Duration::from_millis(args.header_timeout_ms),
            body_timeout: Duration::from_millis(args.body_timeout_ms),
            idle_timeout: Duration::from_millis(args.idle_timeout_ms),
        })
    }
}

/// Serves `tcp` until `shutdown` names a deadline; then stops accepting,
/// closes the connections between requests, lets the others finish their
/// request until the deadline, and closes what is left.
pub async fn serve(tcp: TcpListener, router: Router, limits: Limits, mut shutdown: Shutdown) {
    let registry = Arc::new(Registry::new(limits.max_connections));
    let limits = Arc::new(limits);
    let mut connections = JoinSet::new();
    let deadline = loop {
        tokio::select! {
            changed = shutdown.changed() => match changed {
                Ok(()) => if let Some(deadline) = *shutdown.borrow_and_update() {
                    break deadline;
                },
                Err(_) => break Instant::now(),
            },
            Some(_) = connections.join_next(), if !connections.is_empty() => {}
            accepted = tcp.accept() => match accepted {
                Ok((stream, peer)) => {
                    let Some(admission) = registry.admit() else {
                        tracing::debug!(%peer, "connection refused: every connection is answering a request or is a session");
                        continue;
                    };
                    if let Err(e) = stream.set_nodelay(true) {
                        tracing::debug!(%peer, "cannot set TCP_NODELAY: {e}");
                    }
                    let span = tracing::debug_span!("connection", id = admission.conn().id(), %peer);
                    let served = connection::serve(stream, peer, admission, router.clone(), limits.clone(), shutdown.clone());
                    connections.spawn(tracing::Instrument::instrument(served, span));
                }
                Err(e) if is_per_connection(&e) => {}
                Err(e) => {
                    tracing::warn!("accept error: {e}");
                    tokio::time::sleep(ACCEPT_BACKOFF).await;
                }
            },
        }
    };
    drop(tcp);
    tracing::info!(connections = connections.len(), "no longer accepting connections");
    while let Ok(Some(_)) = tokio::time::timeout_at(deadline, connections.join_next()).await {}
    if !connections.is_empty() {
        tracing::warn!(
            connections = connections.len(),
            "closing connections whose request did not finish within the shutdown grace"
        );
        connections.shutdown().await;
    }
}

/// An accept error about one incoming connection (it was reset before it
/// was accepted), not about the listener.
fn is_per_connection(e: &io::Error) -> bool {
    matches!(
        e.kind(),
        io::ErrorKind::ConnectionRefused | io::ErrorKind::ConnectionAborted | io::ErrorKind::ConnectionReset
    )
}

//! The open connections: what each is doing (its phase), the cap on their
//! number, and which one gives way to a new connection at the cap.

use std::collections::BTreeMap;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};

use tokio::sync::Notify;
use tokio::time::Instant;

use super::Limits;

/// What a connection is doing.
#[derive(Debug, Clone, Copy)]
pub enum Phase {
    /// Waiting for a request, since this instant (opened, or its last
    /// response written).
    Idle(Instant),
    /// A request's first bytes arrived at this instant; its header is not
    /// complete.
    Head(Instant),
    /// A request's header came in at this instant; its body is still
    /// arriving (bounded by the body's own deadline).
    Body(Instant),
    /// A whole request is being answered.
    Handling,
    /// Upgraded to a WebSocket session: no longer HTTP.
    Upgraded,
}

impl Phase {
    /// If no request is being answered, so that the connection may be
    /// closed for a new one without failing anyone's request: its place in
    /// the line of connections to evict. Half-sent requests come first,
    /// longest waiting first; then idle connections, likewise.
    fn eviction_rank(self) -> Option<(bool, Instant)> {
        match self {
            Phase::Head(since) | Phase::Body(since) => Some((false, since)),
            Phase::Idle(since) => Some((true, since)),
            Phase::Handling | Phase::Upgraded => None,
        }
    }

    /// Between requests: nothing of a request has been handed on yet.
    pub fn between_requests(self) -> bool {
        matches!(self, Phase::Idle(_) | Phase::Head(_))
    }
}

/// Why a connection is closed before its client closes it.
#[derive(Debug, Clone, Copy)]
pub enum Expiry {
    /// Waited longer than the idle timeout for a request.
    Idle,
    /// Took longer than the header timeout to send a request's header.
    Header,
    /// Gave way to a new connection at the cap.
    Evicted,
}

/// One open connection.
pub struct Conn {
    id: u64,
    phase: Mutex<Phase>,
    /// Its phase changed, or it was evicted.
    changed: Notify,
    evicted: AtomicBool,
}

impl Conn {
    pub fn id(&self) -> u64 {
        self.id
    }

    pub fn phase(&self) -> Phase {
        *self.phase.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Moves to the phase `next` gives for the current one (if any).
    fn update(&self, next: impl FnOnce(Phase) -> Option<Phase>) {
        let mut phase = self.phase.lock().unwrap_or_else(|p| p.into_inner());
        if let Some(next) = next(*phase) {
            *phase = next;
            drop(phase);
            self.changed.notify_one();
        }
    }

    /// Bytes arrived from the client: an idle connection starts a request.
    pub fn bytes_arrived(&self) {
        self.update(|phase| matches!(phase, Phase::Idle(_)).then(|| Phase::Head(Instant::now())));
    }

    /// A request's header is in (and its body too, if `whole`).
    pub fn request_started(&self, whole: bool) {
        self.update(|_| {
            Some(if whole {
                Phase::Handling
            } else {
                Phase::Body(Instant::now())
            })
        });
    }

    /// The request's body has arrived.
    pub fn body_received(&self) {
        self.update(|phase| matches!(phase, Phase::Body(_)).then_some(Phase::Handling));
    }

    /// The response is written (or dropped): the connection waits for the
    /// next request.
    pub fn response_sent(&self) {
        self.update(|phase| matches!(phase, Phase::Body(_) | Phase::Handling).then(|| Phase::Idle(Instant::now())));
    }

    pub fn upgraded(&self) {
        self.update(|_| Some(Phase::Upgraded));
    }

    fn evict(&self) {
        self.evicted.store(true, Ordering::Relaxed);
        self.changed.notify_one();
    }

    /// Resolves when the connection must be closed.
    pub async fn expiry(&self, limits: &Limits) -> Expiry {
        loop {
            if self.evicted.load(Ordering::Relaxed) {
                return Expiry::Evicted;
            }
            let deadline = match self.phase() {
                Phase::Idle(since) => Some((since + limits.idle_timeout, Expiry::Idle)),
                Phase::Head(since) => Some((since + limits.header_timeout, Expiry::Header)),
                Phase::Body(_) | Phase::Handling | Phase::Upgraded => None,
            };
            match deadline {
                Some((at, expiry)) if at <= Instant::now() => return expiry,
                Some((at, _)) => tokio::select! {
                    _ = tokio::time::sleep_until(at) => {}
                    _ = self.changed.notified() => {}
                },
                None => self.changed.notified().await,
            }
        }
    }
}

/// The open connections and the cap on their number.
pub struct Registry {
    cap: usize,
    open: Mutex<BTreeMap<u64, Arc<Conn>>>,
    next_id: AtomicU64,
}

impl Registry {
    pub fn new(cap: usize) -> Registry {
        Registry {
            cap,
            open: Mutex::default(),
            next_id: AtomicU64::new(0),
        }
    }

    /// Admits a new connection. At the cap one connection with no request
    /// being answered is evicted for it: the half-sent request that has
    /// waited longest for its client, or if there is none, the connection
    /// idle longest. If every open connection is answering a request or is
    /// a WebSocket session, the new one is refused (None).
    pub fn admit(self: &Arc<Self>) -> Option<Admission> {
        let mut open = self.open.lock().unwrap_or_else(|p| p.into_inner());
        if open.len() >= self.cap {
            let (_, first) = open
                .iter()
                .filter_map(|(id, c)| c.phase().eviction_rank().map(|rank| (rank, *id)))
                .min()?;
            if let Some(evicted) = open.remove(&first) {
                evicted.evict();
            }
        }
        let id = self.next_id.fetch_add(1, Ordering::Relaxed);
        let conn = Arc::new(Conn {
            id,
            phase: Mutex::new(Phase::Idle(Instant::now())),
            changed: Notify::new(),
            evicted: AtomicBool::new(false),
        });
        open.insert(id, conn.clone());
        Some(Admission {
            registry: self.clone(),
            conn,
        })
    }
}

/// A connection's place in the registry, held as long as its socket is
/// open (a WebSocket session's too); dropping it frees the place.
pub struct Admission {
    registry: Arc<Registry>,
    conn: Arc<Conn>,
}

impl Admission {
    pub fn conn(&self) -> &Arc<Conn> {
        &self.conn
    }
}

impl Drop for Admission {
    fn drop(&mut self) {
        let mut open = self.registry.open.lock().unwrap_or_else(|p| p.into_inner());
        open.remove(&self.conn.id);
    }
}

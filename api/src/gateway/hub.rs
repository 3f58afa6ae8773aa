//! The WebSocket sessions of this node, by tenant and user. A user may be
//! online on several devices at once; each session has a bounded outbound
//! queue, and a session whose queue overflows is closed (its client
//! recovers the gap with newest_seq + pull), so a slow client never slows
//! anyone else. A user has at most `max_sessions_per_user` sessions: a new
//! one beyond it displaces the user's oldest.

use std::collections::{HashMap, VecDeque};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};

use axum::extract::ws::Utf8Bytes;
use tokio::sync::{mpsc, watch};

/// Frames queued per session before it counts as too slow.
pub const OUTBOUND_QUEUE: usize = 256;
/// clientMsgIDs a session remembers having sent (not pushed back to it).
const OWN_MESSAGES: usize = 64;
/// WebSocket close code for a refused, displaced or dropped session
/// (policy violation).
pub const CLOSE_POLICY: u16 = 1008;
/// WebSocket close code of a server shutting down.
pub const CLOSE_GOING_AWAY: u16 = 1001;

/// How a session ends: a last text frame (if any), then a close frame with
/// this code and reason.
#[derive(Debug, Clone)]
pub struct Closing {
    pub code: u16,
    pub reason: String,
    pub last_frame: Option<Utf8Bytes>,
}

impl Closing {
    /// A close with code 1008 and nothing before it.
    pub fn policy(reason: String) -> Closing {
        Closing {
            code: CLOSE_POLICY,
            reason,
            last_frame: None,
        }
    }
}

/// Counts a session the server closes, by why: `slow` (its queue
/// overflowed), `stalled` (it took no frame), `idle` (it sent none),
/// `kicked` (one session too many of its user), `shutdown`.
pub fn closed_because(why: &'static str) {
    metrics::counter!("parley_ws_sessions_closed_total", "reason" => why).increment(1);
}

pub struct Session {
    id: u64,
    out: mpsc::Sender<Utf8Bytes>,
    /// Set once: how the session is being closed.
    close: watch::Sender<Option<Closing>>,
    own: Mutex<VecDeque<String>>,
}

impl Session {
    /// Queues a frame; a full queue closes the session.
    pub fn offer(&self, frame: Utf8Bytes) {
        if self.out.try_send(frame).is_err() {
            metrics::counter!("parley_ws_frames_dropped_total").increment(1);
            closed_because("slow");
            self.close(Closing::policy(format!(
                "outbound queue of {OUTBOUND_QUEUE} frames overflowed: reconnect and recover with newest_seq and pull_msg_by_seq"
            )));
        }
    }

    /// Closes the session (the first close wins).
    pub fn close(&self, closing: Closing) {
        self.close.send_if_modified(|current| {
            let first = current.is_none();
            if first {
                *current = Some(closing);
            }
            first
        });
    }

    /// Turns once the session is being closed.
    pub fn closing(&self) -> watch::Receiver<Option<Closing>> {
        self.close.subscribe()
    }

    /// Remembers a message this session sends: its push goes to the user's
    /// other sessions only.
    pub fn sending(&self, client_msg_id: &str) {
        let mut own = self.own.lock().unwrap_or_else(|p| p.into_inner());
        if own.len() == OWN_MESSAGES {
            own.pop_front();
        }
        own.push_back(client_msg_id.to_owned());
    }

    fn sent(&self, client_msg_id: &str) -> bool {
        let own = self.own.lock().unwrap_or_else(|p| p.into_inner());
        own.iter().any(|c| c == client_msg_id)
    }
}

/// The receiving ends of a new session.
pub struct Outlet {
    pub frames: mpsc::Receiver<Utf8Bytes>,
    pub close: watch::Receiver<Option<Closing>>,
}

/// A session just registered, and the sessions of its user it displaced
/// (oldest first; the caller closes them).
pub struct Registered {
    pub session: Arc<Session>,
    pub outlet: Outlet,
    pub displaced: Vec<Arc<Session>>,
}

type UserKey = (String, String);

pub struct Hub {
    /// Each user's sessions, oldest first.
    sessions: Mutex<HashMap<UserKey, Vec<Arc<Session>>>>,
    next_id: AtomicU64,
    max_sessions_per_user: usize,
}

impl Hub {
    pub fn new(max_sessions_per_user: usize) -> Hub {
        Hub {
            sessions: Mutex::default(),
            next_id: AtomicU64::new(0),
            max_sessions_per_user: max_sessions_per_user.max(1),
        }
    }

    pub fn max_sessions_per_user(&self) -> usize {
        self.max_sessions_per_user
    }

    /// Adds a session of `user_id`; if that makes more than
    /// `max_sessions_per_user`, the user's oldest sessions leave the hub
    /// (no more pushes) and are returned to be closed.
    pub fn register(&self, tenant: &str, user_id: &str) -> Registered {
        let (out, frames) = mpsc::channel(OUTBOUND_QUEUE);
        let (close, close_rx) = watch::channel(None);
        let session = Arc::new(Session {
            id: self.next_id.fetch_add(1, Ordering::Relaxed),
            out,
            close,
            own: Mutex::new(VecDeque::new()),
        });
        let mut sessions = self.sessions.lock().unwrap_or_else(|p| p.into_inner());
        let list = sessions.entry((tenant.to_owned(), user_id.to_owned())).or_default();
        list.push(session.clone());
        let excess = list.len().saturating_sub(self.max_sessions_per_user);
        let displaced = list.drain(..excess).collect();
        Registered {
            session,
            outlet: Outlet {
                frames,
                close: close_rx,
            },
            displaced,
        }
    }

    /// Closes every session (shutdown).
    pub fn close_all(&self, closing: &Closing) {
        let sessions = self.sessions.lock().unwrap_or_else(|p| p.into_inner());
        for session in sessions.values().flatten() {
            closed_because("shutdown");
            session.close(closing.clone());
        }
    }

    /// No session is open.
    pub fn is_empty(&self) -> bool {
        self.sessions.lock().unwrap_or_else(|p| p.into_inner()).is_empty()
    }

    pub fn unregister(&self, tenant: &str, user_id: &str, session: &Session) {
        let mut sessions = self.sessions.lock().unwrap_or_else(|p| p.into_inner());
        let key = (tenant.to_owned(), user_id.to_owned());
        if let Some(list) = sessions.get_mut(&key) {
            list.retain(|s| s.id != session.id);
            if list.is_empty() {
                sessions.remove(&key);
            }
        }
    }

    /// Is anyone of `users` online here? (Saves building frames for nobody.)
    pub fn any_online(&self, tenant: &str, users: &[String]) -> bool {
        let sessions = self.sessions.lock().unwrap_or_else(|p| p.into_inner());
        users
            .iter()
            .any(|u| sessions.contains_key(&(tenant.to_owned(), u.clone())))
    }

    /// Every user of `tenant` online here.
    pub fn online_in(&self, tenant: &str) -> Vec<String> {
        let sessions = self.sessions.lock().unwrap_or_else(|p| p.into_inner());
        sessions
            .keys()
            .filter(|(t, _)| t == tenant)
            .map(|(_, user)| user.clone())
            .collect()
    }

    /// Those of `users` who are online here (each once).
    pub fn online_among(&self, tenant: &str, users: &[String]) -> Vec<String> {
        let sessions = self.sessions.lock().unwrap_or_else(|p| p.into_inner());
        let mut online: Vec<String> = users
            .iter()
            .filter(|u| sessions.contains_key(&(tenant.to_owned(), (*u).clone())))
            .cloned()
            .collect();
        online.sort();
        online.dedup();
        online
    }

    /// Queues `frame` on every session of `users`, except the sessions of
    /// `skip`'s sender that sent its message (a clientMsgID) themselves.
    pub fn deliver(&self, tenant: &str, users: &[String], frame: &Utf8Bytes, skip: Option<(&str, &str)>) {
        let targets: Vec<(bool, Arc<Session>)> = {
            let sessions = self.sessions.lock().unwrap_or_else(|p| p.into_inner());
            users
                .iter()
                .filter_map(|u| {
                    let own = skip.is_some_and(|(sender, _)| sender == u);
                    sessions.get(&(tenant.to_owned(), u.clone())).map(|list| (own, list))
                })
                .flat_map(|(own, list)| list.iter().map(move |s| (own, s.clone())))
                .collect()
        };
        for (own, session) in targets {
            if !(own && skip.is_some_and(|(_, id)| session.sent(id))) {
                session.offer(frame.clone());
            }
        }
    }
}

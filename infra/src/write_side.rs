//! The write side: decides each command against the in-memory state of its
//! decision scope and appends the resulting events.
//!
//! [`Scope::decide`] is shared by both deployments. The embedded
//! [`WriteSide`] serializes the commands of one scope with that scope's lock
//! and appends through the embedded log (different scopes run concurrently
//! and share its group commits); the Kafka writer (`crate::kafka`) owns whole
//! partitions instead.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use async_trait::async_trait;
use commands::{Actor, Command, CommandError, ScopeState};
use events::{Envelope, EventMeta, StreamKey};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use crate::event_log::{AppendRequest, EventLog, LogError};

/// Events read per step while rebuilding the state at start-up.
const REPLAY_CHUNK: usize = 4096;

#[derive(Debug, thiserror::Error)]
pub enum WriteError {
    #[error(transparent)]
    Rejected(#[from] CommandError),
    #[error(transparent)]
    Log(#[from] LogError),
    #[error("stored event at position {position} is unreadable: {reason}")]
    Unreadable { position: u64, reason: String },
    #[error("command outcome unknown: {0}")]
    Unavailable(String),
    /// The writer could not read the command (e.g. a record format newer
    /// than it knows); nothing was applied.
    #[error("command refused by the writer: {0}")]
    Refused(String),
}

/// The result of an accepted command.
#[derive(Debug)]
pub struct Executed {
    /// Position of the command's last event; 0 when it changed nothing.
    pub position: u64,
    pub events: Vec<Envelope>,
}

impl Executed {
    pub fn new(events: Vec<Envelope>) -> Self {
        Executed {
            position: events.last().map_or(0, |e| e.log_position),
            events,
        }
    }
}

/// Where commands go: the embedded write side, or the Kafka writers.
#[async_trait]
pub trait CommandBus: Send + Sync {
    async fn execute(&self, command: Command, actor: Actor, meta: EventMeta) -> Result<Executed, WriteError>;
}

/// A decision scope's state and how many events its stream holds.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Scope {
    pub version: u64,
    pub state: ScopeState,
}

/// What a command decided: the envelopes to append (without log
/// positions) and the scope as it will be once they are appended.
pub struct Decision {
    pub envelopes: Vec<Envelope>,
    pub next: Scope,
}

impl Scope {
    pub fn empty(key: &StreamKey) -> Self {
        Scope {
            version: 0,
            state: ScopeState::empty(key),
        }
    }

    pub fn decide(
        &self,
        key: &StreamKey,
        command: &Command,
        actor: &Actor,
        meta: &EventMeta,
    ) -> Result<Decision, CommandError> {
        let decided = self.state.decide(command, actor, meta.occurred_at)?;
        let mut next = self.clone();
        let stream_key = key.to_string();
        let envelopes = decided
            .iter()
            .map(|event| {
                next.state.apply(event);
                next.version += 1;
                Envelope::new(Uuid::now_v7(), stream_key.clone(), next.version, meta, event)
            })
            .collect();
        Ok(Decision { envelopes, next })
    }
}

type Scopes = Arc<Mutex<HashMap<StreamKey, Arc<tokio::sync::Mutex<Scope>>>>>;

/// The embedded deployment's write side.
pub struct WriteSide {
    log: Arc<dyn EventLog>,
    scopes: Scopes,
}

impl WriteSide {
    /// Rebuilds the state of every scope from the whole log.
    pub async fn recover(log: Arc<dyn EventLog>) -> Result<Self, WriteError> {
        let mut scopes: HashMap<StreamKey, Scope> = HashMap::new();
        let mut next = 1;
        loop {
            let chunk = log.read(next, REPLAY_CHUNK).await?;
            if chunk.is_empty() {
                break;
            }
            for envelope in &chunk {
                let unreadable = |reason: String| WriteError::Unreadable {
                    position: envelope.log_position,
                    reason,
                };
                let key: StreamKey = envelope.stream_key.parse().map_err(|e| unreadable(format!("{e}")))?;
                let event = envelope.event().map_err(|e| unreadable(e.to_string()))?;
                let scope = scopes.entry(key).or_insert_with_key(Scope::empty);
                scope.state.apply(&event);
                scope.version = envelope.stream_version;
            }
            next += chunk.len() as u64;
        }
        tracing::info!(events = next - 1, scopes = scopes.len(), "write side recovered");
        let scopes = scopes
            .into_iter()
            .map(|(k, s)| (k, Arc::new(tokio::sync::Mutex::new(s))))
            .collect();
        Ok(WriteSide {
            log,
            scopes: Arc::new(Mutex::new(scopes)),
        })
    }

    fn scope(&self, key: &StreamKey) -> Arc<tokio::sync::Mutex<Scope>> {
        let mut scopes = self.scopes.lock().expect("scopes lock");
        scopes
            .entry(key.clone())
            .or_insert_with(|| Arc::new(tokio::sync::Mutex::new(Scope::empty(key))))
            .clone()
    }
}

#[async_trait]
impl CommandBus for WriteSide {
    /// Decides and appends one command. Runs to completion even if the
    /// caller goes away, so the in-memory state never misses an appended
    /// event.
    async fn execute(&self, command: Command, actor: Actor, meta: EventMeta) -> Result<Executed, WriteError> {
        let key = command.stream_key(&meta.tenant_id);
        let scope = self.scope(&key);
        let log = self.log.clone();
        let task = async move {
            let mut scope = scope.lock().await;
            let decision = scope.decide(&key, &command, &actor, &meta)?;
            if decision.envelopes.is_empty() {
                return Ok(Executed::new(Vec::new()));
            }
            let stored = log
                .append(AppendRequest {
                    stream_key: key.to_string(),
                    expected_version: scope.version,
                    events: decision.envelopes,
                })
                .await?;
            *scope = decision.next;
            tracing::debug!(command = command.name(), stream = %key, "command applied");
            Ok(Executed::new(stored))
        };
        tokio::spawn(tracing::Instrument::in_current_span(task))
            .await
            .map_err(|e| WriteError::Unavailable(format!("command task failed: {e}")))?
    }
}

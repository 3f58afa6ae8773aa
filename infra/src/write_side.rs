//! The write side: decides each command against the in-memory state of its
//! decision scope and appends the resulting events. Commands of one scope
//! are serialized by that scope's lock; different scopes run concurrently
//! and share the log's group commits.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use commands::{Actor, Command, CommandError, ScopeState};
use events::{Envelope, EventMeta, StreamKey};
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
    #[error("command task failed: {0}")]
    Task(String),
}

/// The result of an accepted command.
#[derive(Debug)]
pub struct Executed {
    /// Position of the command's last event; 0 when it changed nothing.
    pub position: u64,
    pub events: Vec<Envelope>,
}

struct Scope {
    version: u64,
    state: ScopeState,
}

pub struct WriteSide {
    log: Arc<dyn EventLog>,
    scopes: Mutex<HashMap<StreamKey, Arc<tokio::sync::Mutex<Scope>>>>,
}

impl WriteSide {
    /// Rebuilds the state of every scope from the whole log.
    pub async fn recover(log: Arc<dyn EventLog>) -> Result<Arc<Self>, WriteError> {
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
                let scope = scopes.entry(key).or_insert_with_key(|k| Scope {
                    version: 0,
                    state: ScopeState::empty(k),
                });
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
        Ok(Arc::new(WriteSide {
            log,
            scopes: Mutex::new(scopes),
        }))
    }

    /// Decides and appends one command. Runs to completion even if the
    /// caller goes away, so the in-memory state never misses an appended
    /// event.
    pub async fn execute(
        self: &Arc<Self>,
        command: Command,
        actor: Actor,
        meta: EventMeta,
    ) -> Result<Executed, WriteError> {
        let this = self.clone();
        tokio::spawn(async move { this.decide_and_append(&command, &actor, &meta).await })
            .await
            .map_err(|e| WriteError::Task(e.to_string()))?
    }

    fn scope(&self, key: &StreamKey) -> Arc<tokio::sync::Mutex<Scope>> {
        let mut scopes = self.scopes.lock().expect("scopes lock");
        scopes
            .entry(key.clone())
            .or_insert_with(|| {
                Arc::new(tokio::sync::Mutex::new(Scope {
                    version: 0,
                    state: ScopeState::empty(key),
                }))
            })
            .clone()
    }

    async fn decide_and_append(
        &self,
        command: &Command,
        actor: &Actor,
        meta: &EventMeta,
    ) -> Result<Executed, WriteError> {
        let key = command.stream_key(&meta.tenant_id);
        let scope = self.scope(&key);
        let mut scope = scope.lock().await;
        let decided = scope.state.decide(command, actor, meta.occurred_at)?;
        if decided.is_empty() {
            return Ok(Executed {
                position: 0,
                events: Vec::new(),
            });
        }
        let stream_key = key.to_string();
        let envelopes = decided
            .iter()
            .map(|e| Envelope::new(Uuid::now_v7(), stream_key.clone(), 0, meta, e))
            .collect();
        let stored = self
            .log
            .append(AppendRequest {
                stream_key,
                expected_version: scope.version,
                events: envelopes,
            })
            .await?;
        for event in &decided {
            scope.state.apply(event);
        }
        scope.version += stored.len() as u64;
        let position = stored.last().map_or(0, |e| e.log_position);
        tracing::debug!(command = command.name(), stream = %key, position, "command applied");
        Ok(Executed {
            position,
            events: stored,
        })
    }
}

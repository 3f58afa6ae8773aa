//! Routing of commands to their decision scope, and the state of a scope.

use events::{DomainEvent, StreamKey};
use serde::{Deserialize, Serialize};

use crate::group::{GroupCommand, GroupState};
use crate::pair::{PairCommand, PairState};
use crate::user::{UserCommand, UserState};
use crate::{Actor, CommandError};

/// Every command, grouped by the decision scope it belongs to.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub enum Command {
    User(UserCommand),
    Pair(PairCommand),
    Group(GroupCommand),
}

impl Command {
    /// The decision scope (and stream) this command is decided in.
    pub fn stream_key(&self, tenant: &str) -> StreamKey {
        match self {
            Command::User(c) => StreamKey::user(tenant, c.user_id()),
            Command::Pair(c) => {
                let (one, other) = c.users();
                StreamKey::pair(tenant, one, other)
            }
            Command::Group(c) => StreamKey::group(tenant, c.group_id()),
        }
    }

    /// A short name for logs and metrics.
    pub fn name(&self) -> &'static str {
        match self {
            Command::User(c) => c.name(),
            Command::Pair(c) => c.name(),
            Command::Group(c) => c.name(),
        }
    }
}

/// The write-side state of one decision scope, folded from its events.
/// Serializable: the scale-out writer keeps it in a changelog so a new
/// partition owner restores it without replaying the whole log.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub enum ScopeState {
    User(UserState),
    Pair(PairState),
    Group(GroupState),
}

impl ScopeState {
    /// The state of a scope that has no events yet.
    pub fn empty(key: &StreamKey) -> Self {
        match key {
            StreamKey::User { .. } => ScopeState::User(UserState::default()),
            StreamKey::Pair { .. } => ScopeState::Pair(PairState::default()),
            StreamKey::Group { .. } => ScopeState::Group(GroupState::default()),
        }
    }

    /// Folds one event of this scope into the state.
    pub fn apply(&mut self, event: &DomainEvent) {
        match self {
            ScopeState::User(s) => s.apply(event),
            ScopeState::Pair(s) => s.apply(event),
            ScopeState::Group(s) => s.apply(event),
        }
    }

    /// Decides a command against this state: the events to append, or why not.
    pub fn decide(&self, command: &Command, actor: &Actor, now_ms: i64) -> Result<Vec<DomainEvent>, CommandError> {
        match (self, command) {
            (ScopeState::User(s), Command::User(c)) => s.decide(c, actor, now_ms),
            (ScopeState::Pair(s), Command::Pair(c)) => s.decide(c, actor, now_ms),
            (ScopeState::Group(s), Command::Group(c)) => s.decide(c, actor, now_ms),
            // Command::stream_key routes every command to its own kind of scope.
            (state, command) => unreachable!("{} routed to {state:?}", command.name()),
        }
    }
}

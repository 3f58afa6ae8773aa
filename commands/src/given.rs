//! Given/when/then harness for decision tests: given past events of a
//! scope, when a command arrives, then these events (or this error).

use events::DomainEvent;

use crate::{Actor, Command, CommandError, ScopeState};

pub const NOW: i64 = 1_700_000_000_000;
const TENANT: &str = "1000";

pub fn user(user_id: &str) -> Actor {
    Actor {
        user_id: user_id.into(),
        is_admin: false,
    }
}

pub fn admin(user_id: &str) -> Actor {
    Actor {
        user_id: user_id.into(),
        is_admin: true,
    }
}

pub struct Given<'a> {
    history: &'a [DomainEvent],
}

pub fn given(history: &[DomainEvent]) -> Given<'_> {
    Given { history }
}

pub struct Outcome(Result<Vec<DomainEvent>, CommandError>);

impl Given<'_> {
    pub fn when(self, actor: &Actor, command: Command) -> Outcome {
        let mut state = ScopeState::empty(&command.stream_key(TENANT));
        for event in self.history {
            state.apply(event);
        }
        Outcome(state.decide(&command, actor, NOW))
    }
}

impl Outcome {
    #[track_caller]
    pub fn then(self, expected: &[DomainEvent]) {
        assert_eq!(self.0.as_deref(), Ok(expected));
    }

    #[track_caller]
    pub fn then_error(self, expected: CommandError) {
        assert_eq!(self.0, Err(expected));
    }
}

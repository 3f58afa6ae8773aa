//! Commands and decisions. A decision is a pure function of the state of one
//! decision scope (folded from that scope's events) and a command; it yields
//! the events to append or a typed error.

mod actor;
pub mod conversation;
mod error;
pub mod group;
pub mod message;
pub mod pair;
mod personal;
mod rules;
mod scope;
pub mod user;

#[cfg(test)]
mod given;

pub use actor::Actor;
pub use error::CommandError;
pub use personal::PersonalFields;
pub use scope::{Command, ScopeState};

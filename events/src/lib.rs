//! Domain events of Parley and the envelope they are stored in.
//!
//! This crate is pure: it holds types, their stored form and the upcasting
//! from any stored schema version to the current domain event. No IO.

pub mod conversation;
mod domain;
mod envelope;
pub mod friend;
pub mod group;
pub mod message;
pub mod position;
mod stream_key;
mod upcast;
pub mod user;

pub use domain::{DomainEvent, UpcastError};
pub use envelope::{Envelope, EventMeta};
pub use stream_key::{StreamKey, StreamKeyError};

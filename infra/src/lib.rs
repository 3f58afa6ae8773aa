//! Parley's IO: where events are stored (event log backends), where read
//! models live (read-store backends), the write side that decides commands
//! against in-memory state, and the projector that feeds the read models.

pub mod event_log;
pub mod kafka;
pub mod private_fs;
pub mod progress;
pub mod projector;
pub mod read_store;
pub mod readiness;
pub mod tail;
pub mod vault;
pub mod write_side;

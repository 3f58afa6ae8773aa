//! The event log: the source of truth. Appends are durable before they
//! return; every event gets a global log position and a stream version.

mod embedded;
mod frame;

use async_trait::async_trait;
use events::Envelope;
use tokio::sync::watch;

pub use embedded::EmbeddedLog;
pub use frame::TooLarge;

#[derive(Debug, thiserror::Error)]
pub enum LogError {
    #[error("event log I/O: {0}")]
    Io(#[from] std::io::Error),
    #[error("stream {stream} is at version {actual}, the append expected {expected}")]
    VersionConflict { stream: String, expected: u64, actual: u64 },
    #[error("event log is corrupt: {0}")]
    Corrupt(String),
    #[error("event log refuses writes after an earlier failure: {0}")]
    Failed(String),
    #[error("event log is closed")]
    Closed,
    #[error(transparent)]
    TooLarge(#[from] frame::TooLarge),
}

/// Events of one decision scope to append atomically.
#[derive(Debug, Clone)]
pub struct AppendRequest {
    pub stream_key: String,
    /// The stream's version the decision was made against; the append fails
    /// with [`LogError::VersionConflict`] if the stream moved on.
    pub expected_version: u64,
    /// Envelopes without position; the log sets `stream_version` and
    /// `log_position`.
    pub events: Vec<Envelope>,
}

#[async_trait]
pub trait EventLog: Send + Sync {
    /// Appends durably; returns the stored envelopes with their positions.
    async fn append(&self, request: AppendRequest) -> Result<Vec<Envelope>, LogError>;

    /// Up to `max` events from position `from` (1-based) on.
    async fn read(&self, from: u64, max: usize) -> Result<Vec<Envelope>, LogError>;

    /// The position of the last durable event (0 for an empty log); changes
    /// as events are appended, which is how readers tail the log.
    fn durable_head(&self) -> watch::Receiver<u64>;

    /// Finishes the appends already submitted, then refuses new ones.
    async fn close(&self);
}

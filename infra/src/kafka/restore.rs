//! Takeover of a partition by a writer: fence the previous owner, then
//! restore the state of the partition's scopes from the compacted changelog
//! (its size is bounded by the number of scopes, not by the length of the
//! log).
//!
//! A scope whose latest state record cannot be read (a format version this
//! build does not know, or damage) does not fail the takeover: its state is
//! rebuilt by folding its events from the partition of the events topic,
//! with a warning, and written to the changelog again with the partition's
//! next batch. A record whose key is not a scope's cannot be attributed, so
//! then every scope of the partition is rebuilt that way.

use std::collections::{HashMap, HashSet};
use std::ops::Range;
use std::time::{Duration, Instant};

use events::{Envelope, StreamKey};
use rdkafka::consumer::{BaseConsumer, Consumer};
use rdkafka::message::BorrowedMessage;
use rdkafka::{Message, Offset, TopicPartitionList};

use super::record::{decode_state, format_header, RecordError};
use super::writer::{PartitionProducer, WriterError};
use super::{watermarks, KafkaConfig, KAFKA_TIMEOUT};
use crate::write_side::Scope;

/// A partition's restored state.
pub(super) struct Restored {
    pub producer: PartitionProducer,
    pub scopes: HashMap<StreamKey, Scope>,
    /// Scopes rebuilt from their events: their changelog record is due.
    pub unsaved: HashSet<StreamKey>,
}

/// The changelog as read so far: the latest state of each scope, and which
/// scopes' latest records could not be read.
#[derive(Debug, Default)]
struct Changelog {
    scopes: HashMap<StreamKey, Scope>,
    unreadable: Unreadable,
}

impl Changelog {
    /// The next record: `key` is its scope (`None`: not a scope's key).
    fn record(&mut self, key: Option<StreamKey>, state: Result<Scope, RecordError>) {
        let Some(key) = key else {
            self.unreadable.unattributed = true;
            return;
        };
        match state {
            Ok(scope) => {
                self.unreadable.scopes.remove(&key);
                self.scopes.insert(key, scope);
            }
            Err(_) => {
                self.scopes.remove(&key);
                self.unreadable.scopes.insert(key);
            }
        }
    }
}

/// Which scopes' state must be rebuilt from their events.
#[derive(Debug, Default, PartialEq, Eq)]
struct Unreadable {
    scopes: HashSet<StreamKey>,
    /// A record's key named no scope: any scope may be the one it held.
    unattributed: bool,
}

impl Unreadable {
    fn any(&self) -> bool {
        self.unattributed || !self.scopes.is_empty()
    }

    fn includes(&self, key: &StreamKey) -> bool {
        self.unattributed || self.scopes.contains(key)
    }
}

pub(super) async fn restore(config: &KafkaConfig, partition: i32) -> Result<Restored, WriterError> {
    let started = Instant::now();
    let producer = PartitionProducer::new(config, partition).await?;
    let consumer: BaseConsumer = config.consumer(&format!("{}-restore", config.namespace)).create()?;
    let state_topic = config.state_topic();
    let (low, high) = watermarks(&consumer, &state_topic, partition).await?;
    let changelog = low..high;
    let events_topic = config.events_topic();
    let (low, high) = watermarks(&consumer, &events_topic, partition).await?;
    let events = low..high;
    let failed = |e: tokio::task::JoinError| WriterError::Restore {
        partition,
        reason: e.to_string(),
    };
    let (scopes, unsaved) = tokio::task::spawn_blocking(move || {
        let Changelog { mut scopes, unreadable } = read_changelog(&consumer, &state_topic, partition, changelog)?;
        if !unreadable.any() {
            return Ok((scopes, HashSet::new()));
        }
        tracing::warn!(
            partition,
            scopes = unreadable.scopes.len(),
            unattributed = unreadable.unattributed,
            "unreadable state records; rebuilding those scopes from their events"
        );
        let rebuilt = fold_events(&consumer, &events_topic, partition, events, &unreadable)?;
        let unsaved = rebuilt.keys().cloned().collect();
        if unreadable.unattributed {
            scopes.clear();
        }
        scopes.extend(rebuilt);
        Ok::<_, WriterError>((scopes, unsaved))
    })
    .await
    .map_err(failed)??;
    tracing::info!(
        partition,
        scopes = scopes.len(),
        rebuilt = unsaved.len(),
        took_ms = started.elapsed().as_millis() as u64,
        "partition taken over"
    );
    Ok(Restored {
        producer,
        scopes,
        unsaved,
    })
}

/// Reads the changelog partition's offsets `range` (its watermarks).
fn read_changelog(
    consumer: &BaseConsumer,
    topic: &str,
    partition: i32,
    range: Range<i64>,
) -> Result<Changelog, WriterError> {
    let mut changelog = Changelog::default();
    read_partition(consumer, topic, partition, range, |message| {
        let key = stream_key(message);
        let state = decode_state(format_header(message), message.payload());
        if let (Err(e), Some(key)) = (&state, &key) {
            tracing::warn!(partition, offset = message.offset(), scope = %key, error = %e, "unreadable state record");
        } else if key.is_none() {
            tracing::warn!(
                partition,
                offset = message.offset(),
                "changelog record without a scope key"
            );
        }
        changelog.record(key, state);
        Ok(())
    })?;
    Ok(changelog)
}

/// Folds the events of the `unreadable` scopes, from the events topic
/// partition's offsets `range` (its watermarks), into their state.
fn fold_events(
    consumer: &BaseConsumer,
    topic: &str,
    partition: i32,
    range: Range<i64>,
    unreadable: &Unreadable,
) -> Result<HashMap<StreamKey, Scope>, WriterError> {
    let mut scopes: HashMap<StreamKey, Scope> = HashMap::new();
    read_partition(consumer, topic, partition, range, |message| {
        let bad = |reason: String| WriterError::Restore {
            partition,
            reason: format!("event at offset {}: {reason}", message.offset()),
        };
        let key = stream_key(message).ok_or_else(|| bad("no scope key".into()))?;
        if !unreadable.includes(&key) {
            return Ok(());
        }
        let envelope: Envelope = message
            .payload()
            .and_then(|p| serde_json::from_slice(p).ok())
            .ok_or_else(|| bad("unreadable envelope".into()))?;
        let event = envelope.event().map_err(|e| bad(e.to_string()))?;
        let scope = scopes.entry(key).or_insert_with_key(Scope::empty);
        scope.state.apply(&event);
        scope.version = envelope.stream_version;
        Ok(())
    })?;
    Ok(scopes)
}

fn stream_key(message: &BorrowedMessage<'_>) -> Option<StreamKey> {
    std::str::from_utf8(message.key()?).ok()?.parse().ok()
}

/// Hands every committed record of the partition's offsets `range` (its
/// watermarks) to `each`, in order. Gives up if no record comes for
/// `KAFKA_TIMEOUT`.
fn read_partition(
    consumer: &BaseConsumer,
    topic: &str,
    partition: i32,
    range: Range<i64>,
    mut each: impl FnMut(&BorrowedMessage<'_>) -> Result<(), WriterError>,
) -> Result<(), WriterError> {
    if range.is_empty() {
        return Ok(());
    }
    let end = range.end;
    let mut assignment = TopicPartitionList::new();
    assignment.add_partition_offset(topic, partition, Offset::Beginning)?;
    consumer.assign(&assignment)?;
    let mut deadline = Instant::now() + KAFKA_TIMEOUT;
    loop {
        let position = consumer.position()?;
        let at = position.find_partition(topic, partition).map(|e| e.offset());
        if matches!(at, Some(Offset::Offset(o)) if o >= end) {
            return Ok(());
        }
        if Instant::now() > deadline {
            return Err(WriterError::Restore {
                partition,
                reason: format!("{topic} not read up to offset {end}: stalled at {at:?}"),
            });
        }
        match consumer.poll(Duration::from_millis(100)) {
            Some(Ok(message)) => {
                deadline = Instant::now() + KAFKA_TIMEOUT;
                each(&message)?;
            }
            Some(Err(e)) => return Err(e.into()),
            None => {}
        }
    }
}

#[cfg(test)]
mod tests {
    use commands::ScopeState;

    use super::*;

    fn key(user: &str) -> StreamKey {
        StreamKey::user("1000", user)
    }

    fn state(user: &str, version: u64) -> Result<Scope, RecordError> {
        Ok(Scope {
            version,
            state: ScopeState::empty(&key(user)),
        })
    }

    fn bad() -> Result<Scope, RecordError> {
        Err(RecordError::UnknownVersion(9))
    }

    #[test]
    fn the_latest_record_of_each_scope_wins() {
        let mut log = Changelog::default();
        log.record(Some(key("a")), state("a", 1));
        log.record(Some(key("b")), state("b", 1));
        log.record(Some(key("a")), state("a", 2));
        assert_eq!(log.scopes[&key("a")].version, 2);
        assert_eq!(log.scopes[&key("b")].version, 1);
        assert!(!log.unreadable.any());
    }

    #[test]
    fn an_unreadable_latest_record_marks_its_scope_for_rebuilding() {
        let mut log = Changelog::default();
        log.record(Some(key("a")), state("a", 1));
        log.record(Some(key("b")), state("b", 1));
        log.record(Some(key("a")), bad());
        assert!(!log.scopes.contains_key(&key("a")), "no stale state is kept");
        assert!(log.unreadable.includes(&key("a")));
        assert!(!log.unreadable.includes(&key("b")));
        assert_eq!(log.scopes[&key("b")].version, 1);
    }

    #[test]
    fn a_readable_record_after_an_unreadable_one_heals_the_scope() {
        let mut log = Changelog::default();
        log.record(Some(key("a")), bad());
        log.record(Some(key("a")), state("a", 3));
        assert!(!log.unreadable.any());
        assert_eq!(log.scopes[&key("a")].version, 3);
    }

    #[test]
    fn a_record_without_a_scope_key_marks_every_scope_for_rebuilding() {
        let mut log = Changelog::default();
        log.record(Some(key("a")), state("a", 1));
        log.record(None, state("b", 1));
        assert!(log.unreadable.any());
        assert!(log.unreadable.includes(&key("a")));
        assert!(log.unreadable.includes(&key("never-seen")));
    }
}

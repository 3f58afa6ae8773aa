//! The scale-out deployment's transport: Apache Kafka.
//!
//! Topics (all prefixed with the namespace):
//! - `<ns>-commands`: commands, keyed and partitioned by decision key;
//! - `<ns>-events`: the event log, partitioned exactly like the commands;
//! - `<ns>-state`: compacted changelog of every decision scope's state, so a
//!   new partition owner restores it without replaying the log;
//! - `<ns>-replies`: outcomes of commands; each API node reads one
//!   partition and picks its replies by correlation ID.
//!
//! Writers (`writer`) own command partitions through their consumer group;
//! projector workers (`projector`) own event partitions through theirs.

mod heads;
mod projector;
mod record;
mod restore;
mod router;
mod writer;

use std::time::Duration;

use rdkafka::admin::{AdminClient, AdminOptions, NewTopic, TopicReplication};
use rdkafka::client::DefaultClientContext;
use rdkafka::config::ClientConfig;
use rdkafka::error::{KafkaError, RDKafkaErrorCode};

pub use heads::KafkaHeads;
pub use projector::{follow, rebuild, run_projector};
pub use router::KafkaCommands;
pub use writer::{run_writer, PartitionProducer};

/// Blocking Kafka calls (transactions, metadata) give up after this long.
pub(crate) const KAFKA_TIMEOUT: Duration = Duration::from_secs(30);

/// The largest record a writer produces: a scope's whole state goes to the
/// changelog as one record, and a large group's member table outgrows
/// Kafka's 1 MB default (about 50 bytes per member).
pub(crate) const STATE_RECORD_MAX_BYTES: &str = "67108864";

#[derive(Debug, Clone)]
pub struct KafkaConfig {
    /// `host:port[,host:port...]`
    pub brokers: String,
    /// Prefix of every topic and consumer group: one namespace, one deployment.
    pub namespace: String,
    /// Partitions of the commands/events/state topics when they are created.
    pub partitions: u32,
}

impl KafkaConfig {
    pub fn commands_topic(&self) -> String {
        format!("{}-commands", self.namespace)
    }

    pub fn events_topic(&self) -> String {
        format!("{}-events", self.namespace)
    }

    pub fn state_topic(&self) -> String {
        format!("{}-state", self.namespace)
    }

    pub fn replies_topic(&self) -> String {
        format!("{}-replies", self.namespace)
    }

    pub(crate) fn client(&self) -> ClientConfig {
        let mut config = ClientConfig::new();
        config.set("bootstrap.servers", &self.brokers);
        config
    }

    /// A consumer that reads only committed transactions and commits
    /// nothing by itself.
    pub(crate) fn consumer(&self, group: &str) -> ClientConfig {
        let mut config = self.client();
        config
            .set("group.id", group)
            .set("isolation.level", "read_committed")
            .set("enable.auto.commit", "false")
            .set("auto.offset.reset", "earliest")
            .set("session.timeout.ms", "6000")
            .set("heartbeat.interval.ms", "1000")
            .set("enable.partition.eof", "false")
            // A rebalance moves only the partitions that must move: the
            // others keep their writer (and its state) or projector.
            .set("partition.assignment.strategy", "cooperative-sticky");
        config
    }

    /// Creates the shared topics if they do not exist yet.
    pub async fn ensure_topics(&self) -> Result<(), KafkaError> {
        let admin: AdminClient<DefaultClientContext> = self.client().create()?;
        let n = self.partitions as i32;
        let commands = self.commands_topic();
        let events = self.events_topic();
        let state = self.state_topic();
        let replies = self.replies_topic();
        let topics = [
            NewTopic::new(&replies, n, TopicReplication::Fixed(1)).set("retention.ms", "3600000"),
            NewTopic::new(&commands, n, TopicReplication::Fixed(1)),
            NewTopic::new(&events, n, TopicReplication::Fixed(1)).set("retention.ms", "-1"),
            NewTopic::new(&state, n, TopicReplication::Fixed(1))
                .set("cleanup.policy", "compact")
                .set("segment.ms", "60000")
                .set("min.cleanable.dirty.ratio", "0.1")
                .set("max.message.bytes", STATE_RECORD_MAX_BYTES),
        ];
        create(&admin, &topics).await
    }

    /// How many partitions the events topic has (they decide routing).
    pub async fn partition_count(&self) -> Result<u32, KafkaError> {
        let consumer: rdkafka::consumer::BaseConsumer = self.client().create()?;
        let topic = self.events_topic();
        retry_while_topic_settles(|| {
            let metadata = rdkafka::consumer::Consumer::fetch_metadata(&consumer, Some(&topic), KAFKA_TIMEOUT)?;
            let known = metadata.topics().first().filter(|t| t.error().is_none());
            match known.map_or(0, |t| t.partitions().len()) {
                0 => Err(KafkaError::MetadataFetch(RDKafkaErrorCode::UnknownTopicOrPartition)),
                n => Ok(n as u32),
            }
        })
        .await
    }
}

/// Runs `call` until it succeeds, for up to ten seconds: a topic another
/// process has just created takes a moment to have metadata and leaders.
pub(crate) async fn retry_while_topic_settles<T>(
    mut call: impl FnMut() -> Result<T, KafkaError>,
) -> Result<T, KafkaError> {
    let mut attempts = 0;
    loop {
        match call() {
            Ok(value) => return Ok(value),
            Err(e) if attempts < 50 => {
                tracing::debug!(error = %e, "waiting for a new topic to settle");
                attempts += 1;
                tokio::time::sleep(Duration::from_millis(200)).await;
            }
            Err(e) => return Err(e),
        }
    }
}

/// The low and high watermarks of one partition, waiting (as
/// `retry_while_topic_settles` does) for a new topic's leaders.
pub(crate) async fn watermarks(
    consumer: &impl rdkafka::consumer::Consumer,
    topic: &str,
    partition: i32,
) -> Result<(i64, i64), KafkaError> {
    retry_while_topic_settles(|| consumer.fetch_watermarks(topic, partition, KAFKA_TIMEOUT)).await
}

pub(crate) async fn create(
    admin: &AdminClient<DefaultClientContext>,
    topics: &[NewTopic<'_>],
) -> Result<(), KafkaError> {
    let results = admin.create_topics(topics, &AdminOptions::new()).await?;
    for result in results {
        match result {
            Ok(_) | Err((_, RDKafkaErrorCode::TopicAlreadyExists)) => {}
            Err((topic, code)) => {
                tracing::error!(topic, %code, "creating topic");
                return Err(KafkaError::AdminOp(code));
            }
        }
    }
    Ok(())
}

/// The partition of a decision key: stable across processes and versions.
pub fn partition_for(stream_key: &str, partitions: u32) -> i32 {
    (crc32fast::hash(stream_key.as_bytes()) % partitions) as i32
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn partitions_are_stable_and_spread() {
        assert_eq!(partition_for("user:1000:alice", 8), partition_for("user:1000:alice", 8));
        let used: std::collections::HashSet<i32> =
            (0..200).map(|i| partition_for(&format!("user:1000:u{i}"), 8)).collect();
        assert_eq!(used.len(), 8);
    }
}

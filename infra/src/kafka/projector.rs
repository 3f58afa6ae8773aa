//! Projector workers: a consumer group on the events topic feeding the
//! shared read store, and the replay of the whole topic for `rebuild`.
//!
//! The read store's per-partition checkpoint is the truth about what is
//! applied; Kafka's committed offsets are only where a new owner starts
//! reading, and are committed after the read store, so they never run ahead
//! of it. Events at or before the checkpoint are skipped.

use std::collections::{BTreeMap, HashMap};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::Duration;

use events::position::compose;
use events::Envelope;
use rdkafka::client::ClientContext;
use rdkafka::consumer::{BaseConsumer, CommitMode, Consumer, ConsumerContext, Rebalance, StreamConsumer};
use rdkafka::error::KafkaError;
use rdkafka::message::OwnedMessage;
use rdkafka::{Message, Offset, TopicPartitionList};
use tokio::sync::watch;

use super::{watermarks, KafkaConfig};
use crate::projector::{Progress, Projector, ProjectorError};
use crate::read_store::ReadStore;

/// A projected batch holds up to `BATCH` events and about `BATCH_BYTES` of
/// them: a batch is one transaction of the read store, and
/// MongoDB-compatible servers take commands of a few MB best (a 16 MB
/// insert of large messages once wedged the server CI tests against).
const BATCH: usize = 2000;
const BATCH_BYTES: usize = 2 << 20;

/// The events of a batch being gathered.
#[derive(Default)]
struct Batch {
    messages: Vec<OwnedMessage>,
    bytes: usize,
}

impl Batch {
    fn push(&mut self, message: OwnedMessage) {
        self.bytes += message.payload().map_or(0, <[u8]>::len);
        self.messages.push(message);
    }

    fn full(&self) -> bool {
        self.messages.len() >= BATCH || self.bytes >= BATCH_BYTES
    }
}

#[derive(Debug, thiserror::Error)]
pub enum ProjectorWorkerError {
    #[error("kafka: {0}")]
    Kafka(#[from] KafkaError),
    #[error(transparent)]
    Projector(#[from] ProjectorError),
    #[error("unreadable event at partition {partition} offset {offset}")]
    Unreadable { partition: i32, offset: i64 },
}

/// Flags every rebalance, so the worker re-reads the checkpoints that other
/// workers may have moved.
struct ProjectorContext {
    rebalanced: Arc<AtomicBool>,
}

impl ClientContext for ProjectorContext {
    /// librdkafka's statistics (every `STATS_EVERY`): the consumer lag of
    /// each events partition this worker owns.
    fn stats(&self, statistics: rdkafka::Statistics) {
        for topic in statistics.topics.values() {
            for (partition, stats) in &topic.partitions {
                // -1: not known (a partition this worker does not own).
                if *partition >= 0 && stats.consumer_lag >= 0 {
                    metrics::gauge!("parley_kafka_consumer_lag", "partition" => partition.to_string())
                        .set(stats.consumer_lag as f64);
                }
            }
        }
    }
}

/// How often librdkafka reports its statistics (the consumer lag).
const STATS_EVERY: &str = "5000";

impl ConsumerContext for ProjectorContext {
    fn post_rebalance(&self, _: &BaseConsumer<Self>, _: &Rebalance<'_>) {
        self.rebalanced.store(true, Ordering::SeqCst);
    }
}

/// Runs a projector worker until `stop` turns true; a failed session is
/// dropped and a new one resumes from the stored checkpoints.
pub async fn run_projector(config: KafkaConfig, store: Arc<dyn ReadStore>, stop: watch::Receiver<bool>) {
    loop {
        match projector_session(&config, store.clone(), stop.clone()).await {
            Ok(()) => return,
            Err(e) => tracing::error!(error = %e, "projector session failed; rejoining"),
        }
        if *stop.borrow() {
            return;
        }
        tokio::time::sleep(Duration::from_secs(1)).await;
    }
}

fn envelope(message: &OwnedMessage) -> Result<Envelope, ProjectorWorkerError> {
    let unreadable = || ProjectorWorkerError::Unreadable {
        partition: message.partition(),
        offset: message.offset(),
    };
    let mut envelope: Envelope =
        serde_json::from_slice(message.payload().ok_or_else(unreadable)?).map_err(|_| unreadable())?;
    envelope.log_position = compose(message.partition() as u32, message.offset() as u64 + 1);
    Ok(envelope)
}

/// Applies a batch, partition by partition; returns the next offset to
/// read of each partition.
async fn apply(projector: &Projector, batch: Vec<OwnedMessage>) -> Result<BTreeMap<i32, i64>, ProjectorWorkerError> {
    let mut by_partition: BTreeMap<i32, Vec<Envelope>> = BTreeMap::new();
    let mut next: BTreeMap<i32, i64> = BTreeMap::new();
    for message in &batch {
        by_partition
            .entry(message.partition())
            .or_default()
            .push(envelope(message)?);
        next.insert(message.partition(), message.offset() + 1);
    }
    // Partitions never share a document (one writer scope per document), so
    // their transactions run side by side.
    futures::future::try_join_all(
        by_partition
            .iter()
            .map(|(partition, envelopes)| projector.apply(*partition as u32, envelopes)),
    )
    .await?;
    Ok(next)
}

async fn projector_session(
    config: &KafkaConfig,
    store: Arc<dyn ReadStore>,
    mut stop: watch::Receiver<bool>,
) -> Result<(), ProjectorWorkerError> {
    config.ensure_topics().await?;
    let projector = Projector::new(store).await?;
    let rebalanced = Arc::new(AtomicBool::new(false));
    let consumer: StreamConsumer<ProjectorContext> = config
        .consumer(&format!("{}-projectors", config.namespace))
        .set("statistics.interval.ms", STATS_EVERY)
        .create_with_context(ProjectorContext {
            rebalanced: rebalanced.clone(),
        })?;
    let topic = config.events_topic();
    consumer.subscribe(&[&topic])?;
    loop {
        let first = tokio::select! {
            message = consumer.recv() => message?.detach(),
            _ = stop.changed() => return Ok(()),
        };
        let mut batch = Batch::default();
        batch.push(first);
        while !batch.full() {
            match tokio::time::timeout(Duration::ZERO, consumer.recv()).await {
                Ok(Ok(message)) => batch.push(message.detach()),
                _ => break,
            }
        }
        if rebalanced.swap(false, Ordering::SeqCst) {
            projector.reload().await?;
        }
        let next = apply(&projector, batch.messages).await?;
        let mut offsets = TopicPartitionList::new();
        for (partition, offset) in next {
            offsets.add_partition_offset(&topic, partition, Offset::Offset(offset))?;
        }
        if let Err(e) = consumer.commit(&offsets, CommitMode::Async) {
            tracing::warn!(error = %e, "committing projector offsets (the read store's checkpoints still hold)");
        }
    }
}

/// Drops the read models and replays every partition of the events topic up
/// to its current end; returns how many events were applied.
pub async fn rebuild(
    config: &KafkaConfig,
    store: Arc<dyn ReadStore>,
    progress: Option<Progress>,
) -> Result<u64, ProjectorWorkerError> {
    store.reset().await.map_err(ProjectorError::from)?;
    let topic = config.events_topic();
    let partitions = config.partition_count().await?;
    let consumer: StreamConsumer = config.consumer(&format!("{}-rebuild", config.namespace)).create()?;
    let mut ends: HashMap<i32, i64> = HashMap::new();
    let mut assignment = TopicPartitionList::new();
    for partition in 0..partitions as i32 {
        let (low, high) = watermarks(&consumer, &topic, partition).await?;
        if high > low {
            ends.insert(partition, high);
            assignment.add_partition_offset(&topic, partition, Offset::Beginning)?;
        }
    }
    consumer.assign(&assignment)?;
    let total = ends.values().map(|end| *end as u64).sum();
    let projector = Projector::new(store).await?.reporting(progress, total);
    let mut applied = 0u64;
    while !ends.is_empty() {
        let mut batch = Batch::default();
        while !batch.full() {
            let wait = if batch.messages.is_empty() {
                Duration::from_millis(200)
            } else {
                Duration::ZERO
            };
            match tokio::time::timeout(wait, consumer.recv()).await {
                Ok(message) => batch.push(message?.detach()),
                Err(_) => break,
            }
        }
        applied += batch.messages.len() as u64;
        apply(&projector, batch.messages).await?;
        let positions = consumer.position()?;
        ends.retain(|&partition, &mut end| {
            !matches!(positions.find_partition(&topic, partition).map(|e| e.offset()), Some(Offset::Offset(o)) if o >= end)
        });
    }
    Ok(applied)
}

/// Follows every partition of the events topic from its current end until
/// `stop` (see `crate::tail`): assigned directly, so it reads from the
/// moment this returns, and commits nothing.
pub async fn follow(
    config: KafkaConfig,
    mut stop: watch::Receiver<bool>,
) -> Result<(crate::tail::Tail, tokio::task::JoinHandle<()>), KafkaError> {
    let partitions = config.partition_count().await?;
    let topic = config.events_topic();
    let consumer: StreamConsumer = config
        .consumer(&format!("{}-tail-{}", config.namespace, uuid::Uuid::new_v4().simple()))
        .create()?;
    let mut assignment = TopicPartitionList::new();
    for partition in 0..partitions as i32 {
        let (_, high) = watermarks(&consumer, &topic, partition).await?;
        assignment.add_partition_offset(&topic, partition, Offset::Offset(high))?;
    }
    consumer.assign(&assignment)?;
    let (tx, rx) = tokio::sync::mpsc::channel(16);
    let task = tokio::spawn(async move {
        loop {
            let received = tokio::select! {
                received = consumer.recv() => received,
                _ = stop.changed() => return,
            };
            match received.map(|m| envelope(&m.detach())) {
                Ok(Ok(event)) => {
                    if tx.send(vec![event]).await.is_err() {
                        return;
                    }
                }
                Ok(Err(e)) => tracing::warn!(error = %e, "skipping an unreadable event"),
                Err(e) => {
                    tracing::warn!(error = %e, "tailing the events topic");
                    tokio::time::sleep(Duration::from_millis(200)).await;
                }
            }
        }
    });
    Ok((rx, task))
}

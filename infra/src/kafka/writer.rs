//! Writer workers: the single writer of each partition.
//!
//! Writers form a consumer group on the commands topic; the group's
//! partition assignment is the ownership. For each owned partition the
//! writer keeps the decision state of its scopes in memory and a
//! transactional producer whose `transactional.id` is derived from the
//! partition, so a new owner's `init_transactions` fences any zombie. Each
//! batch of commands is consume-decide-produce in one Kafka transaction:
//! events, state changelog records, replies and the consumed offsets commit
//! together, so a command is applied exactly once.

use std::collections::{HashMap, HashSet};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use events::position::compose;
use events::{Envelope, StreamKey};
use futures::future::join_all;
use rdkafka::client::ClientContext;
use rdkafka::consumer::{BaseConsumer, Consumer, ConsumerContext, Rebalance, StreamConsumer};
use rdkafka::error::KafkaError;
use rdkafka::message::OwnedMessage;
use rdkafka::producer::{FutureProducer, FutureRecord, Producer};
use rdkafka::{Message, Offset, TopicPartitionList};
use tokio::sync::watch;

use super::record::{self, decode_command, format_header, ReplyAddress, ReplyOutcome, ReplyRecord};
use super::restore::{restore, Restored};
use super::{KafkaConfig, KAFKA_TIMEOUT, STATE_RECORD_MAX_BYTES};
use crate::write_side::Scope;

/// Commands taken into one transaction at most.
const MAX_BATCH: usize = 1000;

#[derive(Debug, thiserror::Error)]
pub enum WriterError {
    #[error("kafka: {0}")]
    Kafka(#[from] KafkaError),
    #[error("restoring partition {partition}: {reason}")]
    Restore { partition: i32, reason: String },
}

/// The transactional producer of one partition's writer.
pub struct PartitionProducer {
    producer: FutureProducer,
}

impl PartitionProducer {
    /// Creates the producer and registers its transactional.id, which
    /// fences (and aborts the open transaction of) any earlier owner.
    pub async fn new(config: &KafkaConfig, partition: i32) -> Result<Self, KafkaError> {
        let producer: FutureProducer = config
            .client()
            .set("transactional.id", format!("{}-writer-{partition}", config.namespace))
            .set("transaction.timeout.ms", "60000")
            .set("linger.ms", "1")
            .set("message.max.bytes", STATE_RECORD_MAX_BYTES)
            .create()?;
        let p = producer.clone();
        blocking(move || p.init_transactions(KAFKA_TIMEOUT)).await?;
        Ok(PartitionProducer { producer })
    }

    pub fn inner(&self) -> &FutureProducer {
        &self.producer
    }
}

pub(crate) async fn blocking<T: Send + 'static>(
    f: impl FnOnce() -> Result<T, KafkaError> + Send + 'static,
) -> Result<T, KafkaError> {
    tokio::task::spawn_blocking(f).await.map_err(|_| KafkaError::Canceled)?
}

/// Notes revoked partitions during the consumer's poll, so the main loop
/// drops their state before it handles anything else.
struct WriterContext {
    revoked: Arc<Mutex<HashSet<i32>>>,
}

impl ClientContext for WriterContext {}

impl ConsumerContext for WriterContext {
    fn pre_rebalance(&self, _: &BaseConsumer<Self>, rebalance: &Rebalance<'_>) {
        if let Rebalance::Revoke(partitions) = rebalance {
            let mut revoked = self.revoked.lock().expect("revoked lock");
            revoked.extend(partitions.elements().iter().map(|e| e.partition()));
        }
    }
}

/// Runs a writer until `stop` turns true. On any failure the session is
/// dropped (leaving the group) and a new one resumes from the committed
/// offsets with state restored from the changelog.
pub async fn run_writer(config: KafkaConfig, stop: watch::Receiver<bool>) {
    loop {
        match writer_session(&config, stop.clone()).await {
            Ok(()) => return,
            Err(e) => tracing::error!(error = %e, "writer session failed; rejoining"),
        }
        if *stop.borrow() {
            return;
        }
        tokio::time::sleep(Duration::from_secs(1)).await;
    }
}

struct Owner {
    producer: PartitionProducer,
    scopes: HashMap<StreamKey, Scope>,
    /// Scopes whose state the changelog lacks (rebuilt from their events
    /// at takeover): written with the partition's next batch.
    unsaved: HashSet<StreamKey>,
}

impl From<Restored> for Owner {
    fn from(restored: Restored) -> Self {
        Owner {
            producer: restored.producer,
            scopes: restored.scopes,
            unsaved: restored.unsaved,
        }
    }
}

async fn writer_session(config: &KafkaConfig, mut stop: watch::Receiver<bool>) -> Result<(), WriterError> {
    config.ensure_topics().await?;
    let partitions = config.partition_count().await?;
    let revoked = Arc::new(Mutex::new(HashSet::new()));
    let consumer: StreamConsumer<WriterContext> = config
        .consumer(&format!("{}-writers", config.namespace))
        .create_with_context(WriterContext {
            revoked: revoked.clone(),
        })?;
    consumer.subscribe(&[&config.commands_topic()])?;
    let mut owners: HashMap<i32, Owner> = HashMap::new();
    loop {
        let first = tokio::select! {
            message = consumer.recv() => message?.detach(),
            _ = stop.changed() => return Ok(()),
        };
        let mut batch = vec![first];
        while batch.len() < MAX_BATCH {
            match tokio::time::timeout(Duration::ZERO, consumer.recv()).await {
                Ok(Ok(message)) => batch.push(message.detach()),
                _ => break,
            }
        }
        for partition in revoked.lock().expect("revoked lock").drain() {
            if owners.remove(&partition).is_some() {
                tracing::info!(partition, "partition revoked");
            }
        }
        let assigned: HashSet<i32> = consumer
            .assignment()?
            .elements()
            .iter()
            .map(|e| e.partition())
            .collect();
        let mut by_partition: HashMap<i32, Vec<OwnedMessage>> = HashMap::new();
        for message in batch.into_iter().filter(|m| assigned.contains(&m.partition())) {
            by_partition.entry(message.partition()).or_default().push(message);
        }
        // Each partition has its own producer and state: their transactions
        // run side by side.
        // Partitions new to this writer are taken over side by side.
        let taken_over = join_all(
            by_partition
                .keys()
                .filter(|p| !owners.contains_key(p))
                .map(|&p| async move { (p, restore(config, p).await) }),
        )
        .await;
        for (partition, restored) in taken_over {
            owners.insert(partition, restored?.into());
            metrics::counter!("parley_kafka_writer_takeovers_total").increment(1);
        }
        let mut work = Vec::with_capacity(by_partition.len());
        for (partition, messages) in by_partition {
            let owner = owners
                .remove(&partition)
                .expect("every partition of the batch has an owner");
            work.push((partition, owner, messages));
        }
        let done = join_all(work.into_iter().map(|(partition, mut owner, messages)| {
            let consumer = &consumer;
            async move {
                let outcome = owner.process(config, partitions, consumer, partition, &messages).await;
                let first = messages.first().map_or(0, |m| m.offset());
                (partition, owner, first, outcome)
            }
        }))
        .await;
        let topic = config.commands_topic();
        for (partition, owner, first, outcome) in done {
            let Err(e) = outcome else {
                owners.insert(partition, owner);
                continue;
            };
            // Nothing of the batch committed: abort, forget the partition's
            // state (it is restored from the changelog when needed again)
            // and read the batch again. Typically a rebalance moved on while
            // the batch was in flight, so its offsets could not commit.
            let producer = owner.producer.inner().clone();
            let _ = blocking(move || producer.abort_transaction(KAFKA_TIMEOUT)).await;
            metrics::counter!("parley_kafka_transaction_aborts_total").increment(1);
            drop(owner);
            tracing::warn!(partition, error = %e, offset = first, "batch aborted; reading it again");
            if let Err(seek) = consumer.seek(&topic, partition, Offset::Offset(first), Duration::from_secs(5)) {
                let still_mine = consumer
                    .assignment()?
                    .elements()
                    .iter()
                    .any(|e| e.partition() == partition);
                if still_mine {
                    tracing::error!(partition, error = %seek, "cannot re-read the aborted batch");
                    return Err(e.into());
                }
            }
        }
    }
}

/// What one command of a batch answers.
struct Outcome {
    to: ReplyAddress,
    result: Decided,
}

enum Decided {
    /// Indices into the batch's events.
    Events(std::ops::Range<usize>),
    Rejected(commands::CommandError),
    /// The command record could not be read.
    Refused(String),
}

impl Owner {
    async fn process(
        &mut self,
        config: &KafkaConfig,
        partitions: u32,
        consumer: &StreamConsumer<WriterContext>,
        partition: i32,
        messages: &[OwnedMessage],
    ) -> Result<(), KafkaError> {
        let producer = self.producer.inner().clone();
        producer.begin_transaction()?;
        let mut changed: HashMap<StreamKey, Scope> = HashMap::new();
        let mut events: Vec<(String, Envelope)> = Vec::new();
        let mut outcomes = Vec::new();
        for message in messages {
            let record = match decode_command(format_header(message), message.payload()) {
                Ok(record) => record,
                Err(unreadable) => {
                    let offset = message.offset();
                    let error = unreadable.error;
                    // A reply to anywhere else would fail the transaction
                    // on every attempt.
                    let reply_to = unreadable
                        .reply_to
                        .filter(|to| to.routable(&config.replies_topic(), partitions));
                    match reply_to {
                        Some(to) => {
                            tracing::warn!(partition, offset, %error, "unreadable command record refused");
                            let result = Decided::Refused(format!("command record at offset {offset}: {error}"));
                            outcomes.push(Outcome { to, result });
                        }
                        None => tracing::error!(
                            partition,
                            offset,
                            %error,
                            "unreadable command record without a usable reply address skipped"
                        ),
                    }
                    continue;
                }
            };
            let key = record.command.stream_key(&record.meta.tenant_id);
            let scope = changed
                .get(&key)
                .or_else(|| self.scopes.get(&key))
                .cloned()
                .unwrap_or_else(|| Scope::empty(&key));
            let result = match scope.decide(&key, &record.command, &record.actor, &record.meta) {
                Ok(decision) => {
                    let start = events.len();
                    events.extend(decision.envelopes.into_iter().map(|e| (key.to_string(), e)));
                    if events.len() > start {
                        changed.insert(key, decision.next);
                    }
                    Decided::Events(start..events.len())
                }
                Err(rejection) => Decided::Rejected(rejection),
            };
            outcomes.push(Outcome {
                to: record.address,
                result,
            });
        }

        let events_topic = config.events_topic();
        let payloads: Vec<Vec<u8>> = events.iter().map(|(_, e)| encode(e)).collect();
        let deliveries = join_all(events.iter().zip(&payloads).map(|((key, _), payload)| {
            producer.send(
                FutureRecord::to(&events_topic)
                    .key(key)
                    .partition(partition)
                    .payload(payload),
                KAFKA_TIMEOUT,
            )
        }))
        .await;
        for ((_, envelope), delivery) in events.iter_mut().zip(deliveries) {
            let delivery = delivery.map_err(|(e, _)| e)?;
            envelope.log_position = compose(partition as u32, delivery.offset as u64 + 1);
        }

        let state_topic = config.state_topic();
        let unsaved = self
            .unsaved
            .iter()
            .filter(|key| !changed.contains_key(*key))
            .filter_map(|key| Some((key, self.scopes.get(key)?)));
        let states: Vec<(String, Vec<u8>)> = changed
            .iter()
            .chain(unsaved)
            .map(|(k, s)| (k.to_string(), encode(s)))
            .collect();
        let replies: Vec<(&ReplyAddress, Vec<u8>)> = outcomes
            .iter()
            .map(|o| {
                let outcome = match &o.result {
                    Decided::Events(range) => {
                        ReplyOutcome::Ok(events[range.clone()].iter().map(|(_, e)| e.clone()).collect())
                    }
                    Decided::Rejected(rejection) => ReplyOutcome::Err(rejection.clone()),
                    Decided::Refused(reason) => ReplyOutcome::Refused(reason.clone()),
                };
                let reply = ReplyRecord {
                    correlation_id: o.to.correlation_id.clone(),
                    outcome,
                };
                (&o.to, encode(&reply))
            })
            .collect();
        let state_sends = states.iter().map(|(key, payload)| {
            producer.send(
                FutureRecord::to(&state_topic)
                    .key(key)
                    .partition(partition)
                    .headers(record::headers())
                    .payload(payload),
                KAFKA_TIMEOUT,
            )
        });
        let reply_sends = replies.iter().map(|(to, payload)| {
            producer.send(
                FutureRecord::to(&to.reply_topic)
                    .key(&to.correlation_id)
                    .partition(to.reply_partition)
                    .payload(payload),
                KAFKA_TIMEOUT,
            )
        });
        for sent in join_all(state_sends.chain(reply_sends)).await {
            sent.map_err(|(e, _)| e)?;
        }

        let next_offset = messages.last().map_or(0, |m| m.offset() + 1);
        let mut offsets = TopicPartitionList::new();
        offsets.add_partition_offset(&config.commands_topic(), partition, Offset::Offset(next_offset))?;
        let group = consumer.group_metadata().ok_or(KafkaError::Canceled)?;
        blocking(move || {
            producer.send_offsets_to_transaction(&offsets, &group, KAFKA_TIMEOUT)?;
            producer.commit_transaction(KAFKA_TIMEOUT)
        })
        .await?;
        self.scopes.extend(changed);
        self.unsaved.clear();
        Ok(())
    }
}

fn encode<T: serde::Serialize>(value: &T) -> Vec<u8> {
    serde_json::to_vec(value).expect("records serialize to JSON")
}

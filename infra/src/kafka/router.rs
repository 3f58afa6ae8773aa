//! The API node's side of command routing: send each command to the
//! commands topic partition of its decision key, wait for the owner's reply
//! on its partition of the replies topic (read from where it stood when
//! this node started; nodes sharing a partition skip each other's replies).

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use async_trait::async_trait;
use commands::{Actor, Command};
use events::EventMeta;
use rdkafka::consumer::{Consumer, StreamConsumer};
use rdkafka::error::KafkaError;
use rdkafka::producer::{FutureProducer, FutureRecord};
use rdkafka::{Message, Offset, TopicPartitionList};
use tokio::sync::oneshot;
use uuid::Uuid;

use super::record::{self, CommandRecord, ReplyAddress, ReplyOutcome, ReplyRecord};
use super::{partition_for, watermarks, KafkaConfig, KAFKA_TIMEOUT};
use crate::write_side::{CommandBus, Executed, WriteError};

/// How long an API node waits for a command's outcome.
const REPLY_TIMEOUT: Duration = Duration::from_secs(30);

type Pending = Arc<Mutex<HashMap<String, oneshot::Sender<ReplyRecord>>>>;

pub struct KafkaCommands {
    config: KafkaConfig,
    partitions: u32,
    producer: FutureProducer,
    replies_topic: String,
    /// Replies to this node go to this partition of the replies topic.
    reply_partition: i32,
    pending: Pending,
    listener: tokio::task::JoinHandle<()>,
}

impl KafkaCommands {
    /// Starts listening for replies from the current end of the replies
    /// topic (fixed before the first command is sent, so no reply is missed).
    pub async fn start(config: KafkaConfig) -> Result<Self, KafkaError> {
        config.ensure_topics().await?;
        let partitions = config.partition_count().await?;
        let replies_topic = config.replies_topic();
        let node = Uuid::now_v7().simple().to_string();
        let consumer: StreamConsumer = config.consumer(&format!("{replies_topic}-{node}")).create()?;
        let reply_partition = partition_for(&node, partitions);
        let (_, high) = watermarks(&consumer, &replies_topic, reply_partition).await?;
        let mut assignment = TopicPartitionList::new();
        assignment.add_partition_offset(&replies_topic, reply_partition, Offset::Offset(high))?;
        consumer.assign(&assignment)?;
        let pending: Pending = Arc::default();
        let listener = tokio::spawn(listen(consumer, pending.clone()));

        let producer = config
            .client()
            .set("enable.idempotence", "true")
            .set("acks", "all")
            .set("linger.ms", "0")
            .create()?;
        tracing::info!(node, partitions, "routing commands through kafka");
        Ok(KafkaCommands {
            reply_partition,
            config,
            partitions,
            producer,
            replies_topic,
            pending,
            listener,
        })
    }
}

impl Drop for KafkaCommands {
    fn drop(&mut self) {
        self.listener.abort();
    }
}

async fn listen(consumer: StreamConsumer, pending: Pending) {
    loop {
        match consumer.recv().await {
            Ok(message) => {
                let Some(reply) = message
                    .payload()
                    .and_then(|p| serde_json::from_slice::<ReplyRecord>(p).ok())
                else {
                    tracing::warn!(offset = message.offset(), "unreadable reply record");
                    continue;
                };
                let waiter = pending.lock().expect("pending lock").remove(&reply.correlation_id);
                if let Some(waiter) = waiter {
                    let _ = waiter.send(reply);
                }
            }
            Err(e) => {
                tracing::warn!(error = %e, "reading replies");
                tokio::time::sleep(Duration::from_millis(200)).await;
            }
        }
    }
}

#[async_trait]
impl CommandBus for KafkaCommands {
    async fn execute(&self, command: Command, actor: Actor, meta: EventMeta) -> Result<Executed, WriteError> {
        let key = command.stream_key(&meta.tenant_id).to_string();
        let correlation_id = Uuid::now_v7().to_string();
        let record = CommandRecord {
            address: ReplyAddress {
                correlation_id: correlation_id.clone(),
                reply_topic: self.replies_topic.clone(),
                reply_partition: self.reply_partition,
            },
            command,
            actor,
            meta,
        };
        let payload = serde_json::to_vec(&record).map_err(|e| WriteError::Unavailable(e.to_string()))?;
        let (tx, rx) = oneshot::channel();
        self.pending
            .lock()
            .expect("pending lock")
            .insert(correlation_id.clone(), tx);
        let forget = || {
            self.pending.lock().expect("pending lock").remove(&correlation_id);
        };
        let topic = self.config.commands_topic();
        let partition = partition_for(&key, self.partitions);
        let sent = self
            .producer
            .send(
                FutureRecord::to(&topic)
                    .key(&key)
                    .partition(partition)
                    .headers(record::headers())
                    .payload(&payload),
                KAFKA_TIMEOUT,
            )
            .await;
        if let Err((e, _)) = sent {
            forget();
            return Err(WriteError::Unavailable(format!("sending command: {e}")));
        }
        match tokio::time::timeout(REPLY_TIMEOUT, rx).await {
            Ok(Ok(reply)) => match reply.outcome {
                ReplyOutcome::Ok(events) => Ok(Executed::new(events)),
                ReplyOutcome::Err(rejection) => Err(rejection.into()),
                ReplyOutcome::Refused(reason) => Err(WriteError::Refused(reason)),
            },
            _ => {
                forget();
                Err(WriteError::Unavailable(format!(
                    "no writer answered within {} s; the command may still be applied",
                    REPLY_TIMEOUT.as_secs()
                )))
            }
        }
    }
}

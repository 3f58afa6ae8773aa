//! The events topic's heads, for readiness: each partition's high
//! watermark (the 1-based offset of its last record).

use async_trait::async_trait;
use rdkafka::consumer::BaseConsumer;
use rdkafka::error::KafkaError;

use super::{watermarks, KafkaConfig};
use crate::read_store::Checkpoints;
use crate::readiness::LogHeads;

pub struct KafkaHeads {
    consumer: BaseConsumer,
    topic: String,
    partitions: u32,
}

impl KafkaHeads {
    pub async fn connect(config: &KafkaConfig) -> Result<Self, KafkaError> {
        Ok(KafkaHeads {
            consumer: config.client().create()?,
            topic: config.events_topic(),
            partitions: config.partition_count().await?,
        })
    }
}

#[async_trait]
impl LogHeads for KafkaHeads {
    async fn heads(&self) -> Result<Checkpoints, String> {
        let mut heads = Checkpoints::new();
        for partition in 0..self.partitions {
            let (_, high) = watermarks(&self.consumer, &self.topic, partition as i32)
                .await
                .map_err(|e| format!("watermarks of {} partition {partition}: {e}", self.topic))?;
            heads.insert(partition, high.max(0) as u64);
        }
        Ok(heads)
    }
}

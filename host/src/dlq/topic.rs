//! Dead letters also produced to a Kafka topic (`[dlq] topic = "…"`).
//!
//! Each record keeps its original key, value and headers, and gains
//! `floe.reason`, `floe.stage`, `floe.table`, `floe.topic`, `floe.partition`
//! and `floe.offset` headers. Letters are flushed before the snapshot that
//! covers their offsets, so none is lost; a window replayed after a crash
//! produces its letters again (the topic is at-least-once, the Parquet DLQ
//! exactly once).

use std::collections::BTreeMap;
use std::time::Duration;

use rdkafka::ClientConfig;
use rdkafka::error::KafkaError;
use rdkafka::message::{Header, OwnedHeaders};
use rdkafka::producer::{BaseRecord, DefaultProducerContext, Producer, ThreadedProducer};
use rdkafka::util::Timeout;

use super::DeadLetter;

/// The DLQ topic could not be written.
#[derive(Debug, thiserror::Error)]
#[error("dead-letter topic {topic}: {source}")]
pub struct DlqTopicError {
    /// The DLQ topic.
    pub topic: String,
    /// librdkafka's error.
    pub source: KafkaError,
}

/// Produces dead letters to a Kafka topic.
pub struct DlqTopic {
    producer: ThreadedProducer<DefaultProducerContext>,
    topic: String,
}

impl DlqTopic {
    /// A producer for `topic` on `brokers`, with the source's librdkafka
    /// `properties` (TLS, SASL, …) where they apply to producers.
    pub fn connect(
        brokers: &str,
        topic: &str,
        properties: &BTreeMap<String, String>,
    ) -> Result<Self, DlqTopicError> {
        let mut config = ClientConfig::new();
        config
            .set("bootstrap.servers", brokers)
            .set("enable.idempotence", "true")
            .set("linger.ms", "20");
        for (key, value) in properties {
            if is_consumer_only(key) {
                continue;
            }
            config.set(key, value);
        }
        let producer = config.create().map_err(|source| DlqTopicError {
            topic: topic.to_string(),
            source,
        })?;
        Ok(DlqTopic {
            producer,
            topic: topic.to_string(),
        })
    }

    /// Queues `letters` for sending.
    pub fn send(&self, letters: &[DeadLetter]) -> Result<(), DlqTopicError> {
        for letter in letters {
            let partition = letter.position.partition.to_string();
            let offset = letter.position.offset.to_string();
            let mut headers = OwnedHeaders::new_with_capacity(letter.headers.len() + 6);
            for header in &letter.headers {
                headers = headers.insert(Header {
                    key: &header.name,
                    value: header.value.as_deref(),
                });
            }
            for (key, value) in [
                ("floe.reason", letter.reason.as_str()),
                ("floe.stage", letter.stage.as_str()),
                ("floe.table", letter.table.as_str()),
                ("floe.topic", &letter.position.topic),
                ("floe.partition", partition.as_str()),
                ("floe.offset", offset.as_str()),
            ] {
                headers = headers.insert(Header {
                    key,
                    value: Some(value.as_bytes()),
                });
            }
            let mut record: BaseRecord<'_, [u8], [u8]> =
                BaseRecord::to(&self.topic).headers(headers);
            if let Some(key) = &letter.key {
                record = record.key(key.as_slice());
            }
            if let Some(value) = &letter.value {
                record = record.payload(value.as_slice());
            }
            let mut pending = record;
            loop {
                match self.producer.send(pending) {
                    Ok(()) => break,
                    Err((
                        KafkaError::MessageProduction(rdkafka::types::RDKafkaErrorCode::QueueFull),
                        back,
                    )) => {
                        // The local queue is full: let librdkafka deliver some.
                        self.producer.poll(Duration::from_millis(50));
                        pending = back;
                    }
                    Err((source, _)) => {
                        return Err(DlqTopicError {
                            topic: self.topic.clone(),
                            source,
                        });
                    }
                }
            }
        }
        Ok(())
    }

    /// Waits until everything queued is acknowledged by the broker.
    pub fn flush(&self, timeout: Duration) -> Result<(), DlqTopicError> {
        self.producer
            .flush(Timeout::After(timeout))
            .map_err(|source| DlqTopicError {
                topic: self.topic.clone(),
                source,
            })
    }
}

/// librdkafka properties that only a consumer accepts (a producer warns or fails on them).
fn is_consumer_only(key: &str) -> bool {
    key.starts_with("group.")
        || key.starts_with("auto.")
        || key.starts_with("fetch.")
        || key.starts_with("queued.")
        || matches!(
            key,
            "enable.auto.commit"
                | "enable.auto.offset.store"
                | "isolation.level"
                | "session.timeout.ms"
                | "max.poll.interval.ms"
                | "partition.assignment.strategy"
                | "heartbeat.interval.ms"
        )
}

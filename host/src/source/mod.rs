//! Where records come from: Kafka partitions, or a file standing for one.

mod file;
mod kafka;
mod record;

pub use file::{FileSource, FileSourceError};
pub use kafka::{
    KafkaSource, KafkaSourceConfig, KafkaSourceError, Polled, Rebalance, TopicPartition,
};
pub use record::{Header, RawRecord};

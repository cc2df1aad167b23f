//! A raw Kafka record, before decoding.

use std::sync::Arc;

use crate::change::Position;

/// One Kafka record header.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Header {
    /// The header's name.
    pub name: String,
    /// The header's value; `None` for a null value.
    pub value: Option<Vec<u8>>,
}

/// A Kafka record as the source read it: bytes and position, nothing decoded.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RawRecord {
    /// The topic the record was read from.
    pub topic: Arc<str>,
    /// The partition within the topic.
    pub partition: i32,
    /// The record's offset within the partition.
    pub offset: i64,
    /// The record's timestamp in milliseconds since the epoch, when set.
    pub timestamp: Option<i64>,
    /// The record key; `None` for a null key.
    pub key: Option<Vec<u8>>,
    /// The record value; `None` for a tombstone.
    pub value: Option<Vec<u8>>,
    /// The record headers, in order.
    pub headers: Vec<Header>,
}

impl RawRecord {
    /// The record's position.
    pub fn position(&self) -> Position {
        Position {
            topic: self.topic.clone(),
            partition: self.partition,
            offset: self.offset,
        }
    }
}

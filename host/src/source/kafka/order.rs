//! Per partition, records come out in offset order and never twice: a
//! record below the partition's next expected offset (a stale prefetch after
//! a reposition) is dropped here. A record above it means the broker did not
//! deliver the offsets in between: legitimately (compacted away, transaction
//! markers, deleted by retention while floe was down) or not (a broker that
//! skips records). The table goes on from the record it got; the gap is
//! logged (a warning when it is where the table stopped) and counted in
//! `floe_source_offsets_skipped_total`, so a loss is never silent.

use std::collections::HashMap;
use std::sync::Arc;

use rdkafka::message::{Headers, Message};

use super::TopicPartition;
use crate::metrics::Metrics;
use crate::source::{Header, RawRecord};

/// Where an assigned partition's next record is expected.
#[derive(Debug, Clone, Copy)]
pub(super) struct Expected {
    /// The next offset; `None` for a partition read from its beginning
    /// until its first record (wherever the broker's log now starts).
    pub(super) offset: Option<i64>,
    /// Whether a record was read since the partition was positioned.
    pub(super) reading: bool,
}

/// Turns a fetched message into a record, unless it is below its
/// partition's next expected offset or its partition is not assigned; a
/// message above that offset is taken and the gap reported.
pub(super) fn accept(
    next: &mut HashMap<TopicPartition, Expected>,
    topics: &mut HashMap<String, Arc<str>>,
    metrics: Option<&Metrics>,
    message: &rdkafka::message::BorrowedMessage<'_>,
) -> Option<RawRecord> {
    let topic = match topics.get(message.topic()) {
        Some(topic) => topic.clone(),
        None => {
            let topic: Arc<str> = Arc::from(message.topic());
            topics.insert(message.topic().to_string(), topic.clone());
            topic
        }
    };
    let partition = message.partition();
    let offset = message.offset();
    let expected = next.get_mut(&(topic.clone(), partition))?;
    if let Some(due) = expected.offset {
        if offset < due {
            return None;
        }
        if offset > due {
            report_gap(&topic, partition, due..offset, expected.reading, metrics);
        }
    }
    *expected = Expected {
        offset: Some(offset + 1),
        reading: true,
    };
    let headers = message
        .headers()
        .map(|headers| {
            headers
                .iter()
                .map(|h| Header {
                    name: h.key.to_string(),
                    value: h.value.map(<[u8]>::to_vec),
                })
                .collect()
        })
        .unwrap_or_default();
    Some(RawRecord {
        topic,
        partition,
        offset,
        timestamp: message.timestamp().to_millis(),
        key: message.key().map(<[u8]>::to_vec),
        value: message.payload().map(<[u8]>::to_vec),
        headers,
    })
}

/// Says that the broker did not deliver the offsets `missing` of a
/// partition (`reading`: records of it were read since it was positioned).
fn report_gap(
    topic: &str,
    partition: i32,
    missing: std::ops::Range<i64>,
    reading: bool,
    metrics: Option<&Metrics>,
) {
    if let Some(metrics) = metrics {
        metrics.offsets_skipped(topic, partition, (missing.end - missing.start) as u64);
    }
    let (from, to, offset) = (missing.start, missing.end - 1, missing.end);
    if reading {
        // Inside a stream: transaction markers and compaction make these.
        tracing::debug!(%topic, partition, from, to, "offsets not delivered by the broker");
    } else {
        tracing::warn!(
            %topic,
            partition,
            from,
            to,
            "the broker's first record is past where the tables stopped: offsets {from}..={to} \
             were not delivered (compacted away, transaction markers, deleted by retention, \
             or skipped by the broker) and the tables go on from {offset}"
        );
    }
}

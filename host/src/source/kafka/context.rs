//! librdkafka's callbacks for the Kafka source.

use std::sync::{Arc, Mutex};

use rdkafka::consumer::{BaseConsumer, ConsumerContext};
use rdkafka::error::KafkaError;
use rdkafka::statistics::Statistics;
use rdkafka::{ClientContext, TopicPartitionList};

use super::Rebalance;
use crate::metrics::Metrics;

/// librdkafka's callbacks: rebalances are recorded for the pipeline, logs go
/// to `tracing`, statistics into the lag gauge.
pub(super) struct SourceContext {
    /// Rebalances since the pipeline last took them.
    pub(super) rebalances: Mutex<Vec<Rebalance>>,
    /// Where the consumer lag goes.
    pub(super) metrics: Option<Arc<Metrics>>,
}

impl ClientContext for SourceContext {
    fn log(&self, level: rdkafka::config::RDKafkaLogLevel, fac: &str, message: &str) {
        use rdkafka::config::RDKafkaLogLevel::*;
        match level {
            Emerg | Alert | Critical | Error => {
                tracing::error!(target: "librdkafka", "{fac}: {message}")
            }
            Warning => tracing::warn!(target: "librdkafka", "{fac}: {message}"),
            Notice | Info => tracing::info!(target: "librdkafka", "{fac}: {message}"),
            Debug => tracing::debug!(target: "librdkafka", "{fac}: {message}"),
        }
    }

    fn error(&self, error: KafkaError, reason: &str) {
        // Transient: librdkafka retries by itself (broker down, leader moved, …).
        tracing::warn!(target: "librdkafka", %error, "{reason}");
    }

    fn stats(&self, statistics: Statistics) {
        let Some(metrics) = &self.metrics else { return };
        for (name, topic) in &statistics.topics {
            for (id, partition) in &topic.partitions {
                if *id >= 0 && partition.consumer_lag >= 0 {
                    metrics.consumer_lag(name, *id, partition.consumer_lag);
                }
            }
        }
    }
}

impl ConsumerContext for SourceContext {
    fn pre_rebalance(
        &self,
        _consumer: &BaseConsumer<Self>,
        rebalance: &rdkafka::consumer::Rebalance<'_>,
    ) {
        let event = match rebalance {
            rdkafka::consumer::Rebalance::Assign(tpl) => Rebalance::Assigned(pairs(tpl)),
            rdkafka::consumer::Rebalance::Revoke(tpl) => Rebalance::Revoked(pairs(tpl)),
            rdkafka::consumer::Rebalance::Error(error) => {
                tracing::warn!(%error, "rebalance error");
                return;
            }
        };
        tracing::info!(?event, "rebalance");
        self.rebalances
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .push(event);
    }

    fn commit_callback(
        &self,
        result: rdkafka::error::KafkaResult<()>,
        _offsets: &TopicPartitionList,
    ) {
        if let Err(error) = result {
            // Advisory offsets only: the tables' snapshots are the truth.
            tracing::debug!(%error, "committing the group's offsets failed");
        }
    }
}

/// The (topic, partition) pairs of a list.
pub(super) fn pairs(tpl: &TopicPartitionList) -> Vec<(String, i32)> {
    tpl.elements()
        .iter()
        .map(|e| (e.topic().to_string(), e.partition()))
        .collect()
}

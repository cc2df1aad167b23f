//! Kafka topics read in a consumer group, through librdkafka.
//!
//! The source never decides where a partition starts: on every assignment
//! the pipeline reads its tables' offsets from their snapshots and calls
//! [`KafkaSource::reposition`]. The group's committed offsets are advisory
//! (for lag tools); floe commits them only after the Iceberg commit that
//! covers them. Per partition, records come out in offset order and never
//! twice, and a gap the broker leaves is reported (`order.rs`).

use std::collections::{BTreeMap, HashMap};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use rdkafka::consumer::{BaseConsumer, CommitMode, Consumer, ConsumerContext};
use rdkafka::error::KafkaError;
use rdkafka::statistics::Statistics;
use rdkafka::{ClientConfig, ClientContext, Offset, TopicPartitionList};

mod order;

use super::RawRecord;
use crate::metrics::Metrics;
use order::{Expected, accept};

/// The Kafka source could not start or act.
#[derive(Debug, thiserror::Error)]
pub enum KafkaSourceError {
    /// librdkafka refused the configuration.
    #[error("kafka consumer for {brokers}: {source}")]
    Create {
        /// The bootstrap servers.
        brokers: String,
        /// librdkafka's error.
        source: KafkaError,
    },
    /// Subscribing or assigning failed.
    #[error("kafka {action}: {source}")]
    Client {
        /// What floe was doing.
        action: &'static str,
        /// librdkafka's error.
        source: KafkaError,
    },
}

/// What to read and how to connect.
#[derive(Debug, Clone)]
pub struct KafkaSourceConfig {
    /// `host:port,…`
    pub brokers: String,
    /// The consumer group.
    pub group: String,
    /// Topics by name.
    pub topics: Vec<String>,
    /// Topics by regular expression (whole name).
    pub patterns: Vec<String>,
    /// Passed through to librdkafka; they win over floe's defaults.
    pub properties: BTreeMap<String, String>,
}

/// A (topic, partition) pair.
pub type TopicPartition = (Arc<str>, i32);

/// A change of assignment the group made during a poll.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Rebalance {
    /// These partitions are now ours.
    Assigned(Vec<(String, i32)>),
    /// These partitions are no longer ours.
    Revoked(Vec<(String, i32)>),
}

/// What one [`KafkaSource::poll`] returns.
#[derive(Debug, Default)]
pub struct Polled {
    /// Records, in offset order per partition.
    pub records: Vec<RawRecord>,
    /// Rebalances that happened; when not empty the pipeline must drop its
    /// window and reposition before polling again.
    pub rebalances: Vec<Rebalance>,
}

/// librdkafka's callbacks: rebalances are recorded for the pipeline, logs go
/// to `tracing`, statistics into the lag gauge.
struct SourceContext {
    rebalances: Mutex<Vec<Rebalance>>,
    metrics: Option<Arc<Metrics>>,
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

fn pairs(tpl: &TopicPartitionList) -> Vec<(String, i32)> {
    tpl.elements()
        .iter()
        .map(|e| (e.topic().to_string(), e.partition()))
        .collect()
}

/// A consumer-group member reading the pipeline's topics.
pub struct KafkaSource {
    consumer: BaseConsumer<SourceContext>,
    /// Next offset expected per assigned partition.
    next: HashMap<TopicPartition, Expected>,
    topics: HashMap<String, Arc<str>>,
    metrics: Option<Arc<Metrics>>,
}

impl KafkaSource {
    /// Creates the consumer and subscribes to the topics and patterns.
    pub fn connect(
        config: &KafkaSourceConfig,
        metrics: Option<Arc<Metrics>>,
    ) -> Result<Self, KafkaSourceError> {
        let mut client = ClientConfig::new();
        client
            .set("bootstrap.servers", &config.brokers)
            .set("group.id", &config.group)
            .set("enable.auto.commit", "false")
            .set("enable.auto.offset.store", "false")
            .set("auto.offset.reset", "earliest")
            // Eager rebalancing: a revocation takes every partition, and the
            // pipeline repositions all of them from the tables' offsets.
            .set("partition.assignment.strategy", "range,roundrobin")
            // Bounded prefetch: while floe commits it does not poll, and
            // librdkafka stops fetching once this much is queued.
            .set("queued.max.messages.kbytes", "32768")
            // New topics matching a pattern are picked up within this.
            .set("topic.metadata.refresh.interval.ms", "10000")
            .set("statistics.interval.ms", "5000");
        for (key, value) in &config.properties {
            client.set(key, value);
        }
        let context = SourceContext {
            rebalances: Mutex::new(Vec::new()),
            metrics: metrics.clone(),
        };
        let consumer: BaseConsumer<SourceContext> =
            client
                .create_with_context(context)
                .map_err(|source| KafkaSourceError::Create {
                    brokers: config.brokers.clone(),
                    source,
                })?;
        let mut subscriptions: Vec<String> = config.topics.clone();
        // librdkafka treats a name starting with `^` as a regular expression.
        subscriptions.extend(config.patterns.iter().map(|p| format!("^{p}$")));
        let names: Vec<&str> = subscriptions.iter().map(String::as_str).collect();
        consumer
            .subscribe(&names)
            .map_err(|source| KafkaSourceError::Client {
                action: "subscribe",
                source,
            })?;
        tracing::info!(brokers = %config.brokers, group = %config.group, topics = ?subscriptions, "subscribed");
        Ok(KafkaSource {
            consumer,
            next: HashMap::new(),
            topics: HashMap::new(),
            metrics,
        })
    }

    /// Reads up to `max` records: waits at most `wait` for the first, then
    /// takes what librdkafka has already fetched, without waiting for more
    /// (the pipeline works on those while the next ones arrive). Stops early
    /// at a rebalance: the records read before it are returned with it, the
    /// record that came with it is not (the pipeline repositions every
    /// partition and reads it again).
    pub fn poll(&mut self, max: usize, wait: Duration) -> Polled {
        let mut polled = Polled::default();
        let deadline = Instant::now() + wait;
        while polled.records.len() < max {
            let timeout = if polled.records.is_empty() {
                deadline.saturating_duration_since(Instant::now())
            } else {
                Duration::ZERO
            };
            let message = self.consumer.poll(timeout);
            let rebalances = std::mem::take(
                &mut *self
                    .consumer
                    .context()
                    .rebalances
                    .lock()
                    .unwrap_or_else(|e| e.into_inner()),
            );
            if !rebalances.is_empty() {
                polled.rebalances = rebalances;
                break;
            }
            match message {
                None => break,
                Some(Err(error)) => {
                    // Broker and network errors are transient: librdkafka
                    // retries and the partition's position does not move.
                    tracing::warn!(%error, "kafka consumer");
                    break;
                }
                Some(Ok(message)) => {
                    let metrics = self.metrics.as_deref();
                    if let Some(record) =
                        accept(&mut self.next, &mut self.topics, metrics, &message)
                    {
                        polled.records.push(record);
                    }
                }
            }
        }
        if let Some(metrics) = &self.metrics {
            let mut per_topic: HashMap<&str, u64> = HashMap::new();
            for record in &polled.records {
                *per_topic.entry(&record.topic).or_default() += 1;
            }
            for (topic, n) in per_topic {
                metrics.records_in(topic, n);
            }
        }
        polled
    }

    /// The partitions assigned to this member now.
    pub fn assignment(&self) -> Vec<(String, i32)> {
        self.consumer
            .assignment()
            .map(|tpl| pairs(&tpl))
            .unwrap_or_default()
    }

    /// Starts each partition at the given next offset (`None`: from the
    /// beginning). Replaces the whole assignment; records read before are
    /// never returned again.
    pub fn reposition(
        &mut self,
        starts: &[(String, i32, Option<i64>)],
    ) -> Result<(), KafkaSourceError> {
        let mut tpl = TopicPartitionList::with_capacity(starts.len());
        self.next.clear();
        for (topic, partition, start) in starts {
            let offset = start.map_or(Offset::Beginning, Offset::Offset);
            tpl.add_partition_offset(topic, *partition, offset)
                .map_err(|source| KafkaSourceError::Client {
                    action: "assign",
                    source,
                })?;
            let interned = self
                .topics
                .entry(topic.clone())
                .or_insert_with(|| Arc::from(topic.as_str()))
                .clone();
            let expected = Expected {
                offset: *start,
                reading: false,
            };
            self.next.insert((interned, *partition), expected);
        }
        self.consumer
            .assign(&tpl)
            .map_err(|source| KafkaSourceError::Client {
                action: "assign",
                source,
            })?;
        tracing::info!(partitions = ?starts, "positioned from the tables' offsets");
        Ok(())
    }

    /// Commits the group's offsets (advisory) without waiting.
    pub fn commit_group(&self, offsets: &[(String, i32, i64)]) {
        if offsets.is_empty() {
            return;
        }
        let mut tpl = TopicPartitionList::with_capacity(offsets.len());
        for (topic, partition, next) in offsets {
            if tpl
                .add_partition_offset(topic, *partition, Offset::Offset(*next))
                .is_err()
            {
                return;
            }
        }
        if let Err(error) = self.consumer.commit(&tpl, CommitMode::Async) {
            tracing::debug!(%error, "committing the group's offsets");
        }
    }

    /// Leaves the group: the partitions go to the other members now.
    pub fn close(self) {
        self.consumer.unsubscribe();
        // Serve the revocation so the group rebalances without waiting for
        // the session to time out.
        let _ = self.consumer.poll(Duration::from_millis(100));
    }
}

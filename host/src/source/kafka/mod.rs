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

use rdkafka::consumer::{BaseConsumer, CommitMode, Consumer};
use rdkafka::error::KafkaError;
use rdkafka::types::RDKafkaErrorCode;
use rdkafka::{ClientConfig, Offset, TopicPartitionList};

mod context;
mod order;

use super::{Polled, Rebalance, Source, SourceError};
use crate::metrics::Metrics;
use context::{SourceContext, pairs};
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
    /// Another process joined the group with this process's static member
    /// id, and the broker fenced this one out (`FENCED_INSTANCE_ID`).
    #[error(
        "another process joined consumer group `{group}` as `{instance_id}` \
         (group.instance.id) and the broker fenced this one out: every process of a \
         pipeline needs its own instance name (`[source] instance`, or `floe run \
         --instance NAME`); the window in flight is not committed"
    )]
    Fenced {
        /// The consumer group.
        group: String,
        /// The member id both processes used.
        instance_id: String,
    },
    /// The brokers refuse the session timeout (outside their
    /// `group.min.session.timeout.ms` and `group.max.session.timeout.ms`).
    #[error(
        "the brokers refuse session.timeout.ms = {ms}: set one within their \
         group.min.session.timeout.ms and group.max.session.timeout.ms in [source.properties]"
    )]
    SessionRefused {
        /// The refused timeout, in milliseconds.
        ms: String,
    },
    /// librdkafka stopped the consumer for good.
    #[error("kafka consumer stopped: {reason}")]
    Fatal {
        /// librdkafka's reason.
        reason: String,
    },
}

impl KafkaSourceError {
    /// Whether the failure may pass (a client call librdkafka can retry);
    /// a fenced member, a refused session timeout or a consumer stopped for
    /// good cannot go on.
    pub fn is_transient(&self) -> bool {
        matches!(self, KafkaSourceError::Client { .. })
    }
}

/// What to read and how to connect.
#[derive(Debug, Clone)]
pub struct KafkaSourceConfig {
    /// `host:port,…`
    pub brokers: String,
    /// The consumer group.
    pub group: String,
    /// This process's static member id in the group (`group.instance.id`);
    /// `None`: a dynamic member.
    pub instance_id: Option<String>,
    /// Topics by name.
    pub topics: Vec<String>,
    /// Topics by regular expression (whole name).
    pub patterns: Vec<String>,
    /// Passed through to librdkafka; they win over floe's defaults.
    pub properties: BTreeMap<String, String>,
}

/// A (topic, partition) pair.
pub type TopicPartition = (Arc<str>, i32);

/// The `group.instance.id` the consumer of `config` has, if any.
fn instance_id(config: &KafkaSourceConfig) -> Option<&str> {
    config
        .properties
        .get("group.instance.id")
        .or(config.instance_id.as_ref())
        .map(String::as_str)
}

/// A consumer for `config`, with `session.timeout.ms` = `session_ms` (and a
/// heartbeat a third of it, at most librdkafka's 3 s) unless the properties
/// set them, subscribed to the topics and patterns.
fn subscribe(
    config: &KafkaSourceConfig,
    session_ms: Option<u32>,
    metrics: Option<&Arc<Metrics>>,
) -> Result<BaseConsumer<SourceContext>, KafkaSourceError> {
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
    if let Some(ms) = session_ms {
        client
            .set("session.timeout.ms", ms.to_string())
            .set("heartbeat.interval.ms", (ms / 3).min(3000).to_string());
    }
    if let Some(id) = &config.instance_id {
        // Static membership: a restarted process rejoins as the member it
        // was, and takes its partitions back without waiting for its
        // predecessor's session to time out.
        client.set("group.instance.id", id);
    }
    for (key, value) in &config.properties {
        client.set(key, value);
    }
    let context = SourceContext {
        rebalances: Mutex::new(Vec::new()),
        metrics: metrics.cloned(),
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
    tracing::info!(
        brokers = %config.brokers,
        group = %config.group,
        instance_id = instance_id(config).unwrap_or("(dynamic)"),
        session_timeout_ms = session_ms.map_or_else(
            || config.properties.get("session.timeout.ms").cloned().unwrap_or_default(),
            |ms| ms.to_string()
        ),
        topics = ?subscriptions,
        "subscribed"
    );
    Ok(consumer)
}

/// A consumer-group member reading the pipeline's topics.
pub struct KafkaSource {
    consumer: BaseConsumer<SourceContext>,
    /// Next offset expected per assigned partition.
    next: HashMap<TopicPartition, Expected>,
    topics: HashMap<String, Arc<str>>,
    metrics: Option<Arc<Metrics>>,
    config: KafkaSourceConfig,
    /// Which of [`SESSION_TIMEOUTS_MS`] the consumer has; `None`: the one
    /// `properties` set.
    session: Option<usize>,
}

/// floe's `session.timeout.ms` unless the properties set one, shortest
/// first: a broker that ignores static membership (librdkafka's mock
/// cluster) keeps a restarted process waiting until its predecessor's
/// session times out. A broker that refuses one (below its
/// `group.min.session.timeout.ms`, 6000 on Apache Kafka) gets the next; a
/// static member's restart is immediate there anyway.
const SESSION_TIMEOUTS_MS: [u32; 3] = [3000, 6000, 45000];

impl KafkaSource {
    /// Creates the consumer and subscribes to the topics and patterns.
    pub fn connect(
        config: &KafkaSourceConfig,
        metrics: Option<Arc<Metrics>>,
    ) -> Result<Self, KafkaSourceError> {
        let session = (!config.properties.contains_key("session.timeout.ms")).then_some(0);
        let consumer = subscribe(
            config,
            session.map(|i| SESSION_TIMEOUTS_MS[i]),
            metrics.as_ref(),
        )?;
        Ok(KafkaSource {
            consumer,
            next: HashMap::new(),
            topics: HashMap::new(),
            metrics,
            config: config.clone(),
            session,
        })
    }

    /// Reads up to `max` records: waits at most `wait` for the first, then
    /// takes what librdkafka has already fetched, without waiting for more
    /// (the pipeline works on those while the next ones arrive). Stops early
    /// at a rebalance: the records read before it are returned with it, the
    /// record that came with it is not (the pipeline repositions every
    /// partition and reads it again). Fails only when librdkafka stopped the
    /// consumer for good (fenced out of the group, …).
    pub fn poll(&mut self, max: usize, wait: Duration) -> Result<Polled, KafkaSourceError> {
        let mut polled = Polled::default();
        let deadline = Instant::now() + wait;
        while polled.records.len() < max {
            let timeout = if polled.records.is_empty() {
                deadline.saturating_duration_since(Instant::now())
            } else {
                Duration::ZERO
            };
            let message = self.consumer.poll(timeout);
            self.check_fatal()?;
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
                Some(Err(KafkaError::MessageConsumption(
                    RDKafkaErrorCode::InvalidSessionTimeout,
                ))) => {
                    polled.rebalances = self.lengthen_session()?;
                    break;
                }
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
        Ok(polled)
    }

    /// The error that stopped the consumer for good, if one did.
    fn check_fatal(&self) -> Result<(), KafkaSourceError> {
        match self.consumer.client().fatal_error() {
            None => Ok(()),
            Some((RDKafkaErrorCode::FencedInstanceId, _)) => Err(KafkaSourceError::Fenced {
                group: self.config.group.clone(),
                instance_id: instance_id(&self.config).unwrap_or_default().to_string(),
            }),
            Some((_, reason)) => Err(KafkaSourceError::Fatal { reason }),
        }
    }

    /// The broker refused the session timeout: joins again with the next
    /// longer one, as a new consumer (the old one's partitions, if it had
    /// any, are revoked), or fails when there is none.
    fn lengthen_session(&mut self) -> Result<Vec<Rebalance>, KafkaSourceError> {
        let refused = match self.session {
            Some(i) => SESSION_TIMEOUTS_MS[i].to_string(),
            None => self
                .config
                .properties
                .get("session.timeout.ms")
                .cloned()
                .unwrap_or_default(),
        };
        let Some(next) = self
            .session
            .map(|i| i + 1)
            .filter(|&i| i < SESSION_TIMEOUTS_MS.len())
        else {
            return Err(KafkaSourceError::SessionRefused { ms: refused });
        };
        let next_ms = SESSION_TIMEOUTS_MS[next];
        tracing::warn!(
            "the broker refuses session.timeout.ms = {refused} (below its \
             group.min.session.timeout.ms): joining again with {next_ms}"
        );
        let revoked = self.assignment();
        self.consumer = subscribe(&self.config, Some(next_ms), self.metrics.as_ref())?;
        self.session = Some(next);
        self.next.clear();
        Ok(if revoked.is_empty() {
            Vec::new()
        } else {
            vec![Rebalance::Revoked(revoked)]
        })
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
}

impl Source for KafkaSource {
    fn poll(&mut self, max: usize, wait: Duration) -> Result<Polled, SourceError> {
        Ok(KafkaSource::poll(self, max, wait)?)
    }

    fn assignment(&self) -> Vec<(String, i32)> {
        KafkaSource::assignment(self)
    }

    fn reposition(&mut self, starts: &[(String, i32, Option<i64>)]) -> Result<(), SourceError> {
        Ok(KafkaSource::reposition(self, starts)?)
    }

    fn commit_group(&mut self, offsets: &[(String, i32, i64)]) {
        KafkaSource::commit_group(self, offsets);
    }

    fn close(&mut self) {
        self.consumer.unsubscribe();
        // Serve the revocation so the group rebalances without waiting for
        // the session to time out.
        let _ = self.consumer.poll(Duration::from_millis(100));
    }
}

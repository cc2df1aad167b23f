//! The series floe exports.

use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use prometheus_client::encoding::EncodeLabelSet;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::Gauge;
use prometheus_client::metrics::histogram::{Histogram, exponential_buckets};
use prometheus_client::registry::Registry;

use super::health::Health;
use super::maintenance::MaintenanceMetrics;
use super::partial::PartialRowMetrics;

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct TopicLabel {
    topic: String,
}

/// The label of a table's series.
#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub(super) struct TableLabel {
    pub(super) table: String,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct TableOpLabels {
    table: String,
    op: String,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct ColumnLabels {
    table: String,
    column: String,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct PartitionLabels {
    topic: String,
    partition: String,
}

impl PartitionLabels {
    fn of(topic: &str, partition: i32) -> Self {
        PartitionLabels {
            topic: topic.to_string(),
            partition: partition.to_string(),
        }
    }
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct DlqLabels {
    topic: String,
    reason: String,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct PluginLabel {
    plugin: String,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct ReloadLabels {
    plugin: String,
    outcome: String,
}

/// Buckets of commit and maintenance durations.
pub(super) fn latency_histogram() -> Histogram {
    // 1 ms … ~16 s.
    Histogram::new(exponential_buckets(0.001, 2.0, 15))
}

fn plugin_histogram() -> Histogram {
    // 10 µs … ~160 ms per batch.
    Histogram::new(exponential_buckets(0.000_01, 2.0, 15))
}

/// A histogram per label set.
pub(super) type HistogramFamily<L> = Family<L, Histogram, fn() -> Histogram>;

/// Every series floe exports. Cheap to update from any thread.
pub struct Metrics {
    registry: Registry,
    records_in: Family<TopicLabel, Counter>,
    records_out: Family<TableLabel, Counter>,
    changes: Family<TableOpLabels, Counter>,
    commit_seconds: HistogramFamily<TableLabel>,
    snapshots: Family<TableLabel, Counter>,
    consumer_lag: Family<PartitionLabels, Gauge>,
    offsets_skipped: Family<PartitionLabels, Counter>,
    dlq_records: Family<DlqLabels, Counter>,
    guessed_times: Family<ColumnLabels, Counter>,
    plugin_calls: Family<PluginLabel, Counter>,
    plugin_seconds: HistogramFamily<PluginLabel>,
    plugin_traps: Family<PluginLabel, Counter>,
    plugin_reloads: Family<ReloadLabels, Counter>,
    index_keys: Family<TableLabel, Gauge>,
    index_bytes: Family<TableLabel, Gauge>,
    buffered_records: Gauge,
    buffered_bytes: Gauge,
    maintenance: MaintenanceMetrics,
    partial_rows: PartialRowMetrics,
    totals: [AtomicU64; 5],
    health: Health,
}

/// Running totals over every label, for progress lines and tests.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Totals {
    /// Records read from the source.
    pub records_in: u64,
    /// Changes committed.
    pub records_out: u64,
    /// Snapshots committed.
    pub snapshots: u64,
    /// Records sent to the dead-letter queue.
    pub dead_letters: u64,
    /// Integer timestamps whose unit was guessed in the ambiguous band.
    pub guessed_times: u64,
}

const IN: usize = 0;
const OUT: usize = 1;
const SNAPSHOTS: usize = 2;
const DEAD: usize = 3;
const GUESSED: usize = 4;

impl Default for Metrics {
    fn default() -> Self {
        Self::new()
    }
}

impl Metrics {
    /// A registry with every series registered and none observed yet.
    pub fn new() -> Self {
        let mut registry = Registry::with_prefix("floe");
        let records_in = Family::<TopicLabel, Counter>::default();
        registry.register(
            "records_in",
            "Records read from the source, per topic",
            records_in.clone(),
        );
        let records_out = Family::<TableLabel, Counter>::default();
        registry.register(
            "records_out",
            "Changes committed to Iceberg, per table",
            records_out.clone(),
        );
        let changes = Family::<TableOpLabels, Counter>::default();
        registry.register(
            "changes",
            "Committed changes per table and op (insert, update, delete, truncate)",
            changes.clone(),
        );
        let commit_seconds: HistogramFamily<TableLabel> =
            Family::new_with_constructor(latency_histogram);
        registry.register(
            "commit_duration_seconds",
            "Time to write a window's files and commit its snapshot",
            commit_seconds.clone(),
        );
        let snapshots = Family::<TableLabel, Counter>::default();
        registry.register(
            "snapshots",
            "Iceberg snapshots committed",
            snapshots.clone(),
        );
        let consumer_lag = Family::<PartitionLabels, Gauge>::default();
        registry.register(
            "consumer_lag",
            "Records between the consumer's position and the partition's end",
            consumer_lag.clone(),
        );
        let offsets_skipped = Family::<PartitionLabels, Counter>::default();
        registry.register(
            "source_offsets_skipped",
            "Offsets the broker did not deliver between two records of a partition \
             (compaction, transaction markers, retention)",
            offsets_skipped.clone(),
        );
        let dlq_records = Family::<DlqLabels, Counter>::default();
        registry.register(
            "dlq_records",
            "Records sent to the dead-letter queue, per source topic and stage",
            dlq_records.clone(),
        );
        let guessed_times = Family::<ColumnLabels, Counter>::default();
        registry.register(
            "decode_guessed_time",
            "Integer timestamps without a schema whose unit was guessed from a magnitude \
             that fits both milliseconds and microseconds (|v| < 253402300800000), \
             per table and column",
            guessed_times.clone(),
        );
        let plugin_calls = Family::<PluginLabel, Counter>::default();
        registry.register(
            "plugin_calls",
            "Batches given to a plugin",
            plugin_calls.clone(),
        );
        let plugin_seconds: HistogramFamily<PluginLabel> =
            Family::new_with_constructor(plugin_histogram);
        registry.register(
            "plugin_call_duration_seconds",
            "Time a plugin took per batch",
            plugin_seconds.clone(),
        );
        let plugin_traps = Family::<PluginLabel, Counter>::default();
        registry.register(
            "plugin_traps",
            "Plugin instances discarded after a trap, a timeout or running out of memory",
            plugin_traps.clone(),
        );
        let plugin_reloads = Family::<ReloadLabels, Counter>::default();
        registry.register(
            "plugin_reloads",
            "Plugin versions published or refused by hot reload",
            plugin_reloads.clone(),
        );
        let index_keys = Family::<TableLabel, Gauge>::default();
        registry.register(
            "key_index_keys",
            "Live keys in a table's key index",
            index_keys.clone(),
        );
        let index_bytes = Family::<TableLabel, Gauge>::default();
        registry.register(
            "key_index_bytes",
            "Memory held by a table's key index",
            index_bytes.clone(),
        );
        let buffered_records = Gauge::default();
        registry.register(
            "buffered_records",
            "Records read and not yet committed",
            buffered_records.clone(),
        );
        let buffered_bytes = Gauge::default();
        registry.register(
            "buffered_bytes",
            "Bytes of records read and not yet committed",
            buffered_bytes.clone(),
        );
        let maintenance = MaintenanceMetrics::register(&mut registry);
        let partial_rows = PartialRowMetrics::register(&mut registry);
        Metrics {
            registry,
            records_in,
            records_out,
            changes,
            commit_seconds,
            snapshots,
            consumer_lag,
            offsets_skipped,
            dlq_records,
            guessed_times,
            plugin_calls,
            plugin_seconds,
            plugin_traps,
            plugin_reloads,
            index_keys,
            index_bytes,
            buffered_records,
            buffered_bytes,
            maintenance,
            partial_rows,
            totals: Default::default(),
            health: Health::new(),
        }
    }

    /// `n` records read from `topic`.
    pub fn records_in(&self, topic: &str, n: u64) {
        let label = TopicLabel {
            topic: topic.to_string(),
        };
        self.records_in.get_or_create(&label).inc_by(n);
        self.totals[IN].fetch_add(n, Ordering::Relaxed);
    }

    /// Totals over every label.
    pub fn totals(&self) -> Totals {
        let get = |i: usize| self.totals[i].load(Ordering::Relaxed);
        Totals {
            records_in: get(IN),
            records_out: get(OUT),
            snapshots: get(SNAPSHOTS),
            dead_letters: get(DEAD),
            guessed_times: get(GUESSED),
        }
    }

    /// Records read and not yet committed.
    pub fn buffered_records(&self) -> i64 {
        self.buffered_records.get()
    }

    /// A commit of `table`: its changes by op and how long it took.
    pub fn committed(&self, table: &str, ops: &[(&str, u64)], took: Duration) {
        let label = TableLabel {
            table: table.to_string(),
        };
        let total: u64 = ops.iter().map(|(_, n)| n).sum();
        self.records_out.get_or_create(&label).inc_by(total);
        for (op, n) in ops {
            let labels = TableOpLabels {
                table: table.to_string(),
                op: (*op).to_string(),
            };
            self.changes.get_or_create(&labels).inc_by(*n);
        }
        self.commit_seconds
            .get_or_create(&label)
            .observe(took.as_secs_f64());
        self.snapshots.get_or_create(&label).inc();
        self.totals[OUT].fetch_add(total, Ordering::Relaxed);
        self.totals[SNAPSHOTS].fetch_add(1, Ordering::Relaxed);
        self.health.committed();
    }

    /// The consumer's lag on a partition, as librdkafka last reported it.
    pub fn consumer_lag(&self, topic: &str, partition: i32, lag: i64) {
        let labels = PartitionLabels::of(topic, partition);
        self.consumer_lag.get_or_create(&labels).set(lag);
    }

    /// `n` offsets of a partition that the broker did not deliver.
    pub fn offsets_skipped(&self, topic: &str, partition: i32, n: u64) {
        let labels = PartitionLabels::of(topic, partition);
        self.offsets_skipped.get_or_create(&labels).inc_by(n);
    }

    /// Forgets a partition's lag (it was revoked).
    pub fn forget_partition(&self, topic: &str, partition: i32) {
        self.consumer_lag
            .remove(&PartitionLabels::of(topic, partition));
    }

    /// `n` records from `topic` sent to the DLQ; `reason` is a short class
    /// (the stage that refused them), not the full message.
    pub fn dead_letters(&self, topic: &str, reason: &str, n: u64) {
        let labels = DlqLabels {
            topic: topic.to_string(),
            reason: reason.to_string(),
        };
        self.dlq_records.get_or_create(&labels).inc_by(n);
        self.totals[DEAD].fetch_add(n, Ordering::Relaxed);
    }

    /// `n` integer timestamps of `table`'s `column` whose unit was guessed
    /// in the ambiguous band.
    pub fn guessed_times(&self, table: &str, column: &str, n: u64) {
        let labels = ColumnLabels {
            table: table.to_string(),
            column: column.to_string(),
        };
        self.guessed_times.get_or_create(&labels).inc_by(n);
        self.totals[GUESSED].fetch_add(n, Ordering::Relaxed);
    }

    /// One batch given to `plugin`, how long it took and how many instances
    /// it had to discard.
    pub fn plugin_call(&self, plugin: &str, took: Duration, traps: u64) {
        let label = PluginLabel {
            plugin: plugin.to_string(),
        };
        self.plugin_calls.get_or_create(&label).inc();
        self.plugin_seconds
            .get_or_create(&label)
            .observe(took.as_secs_f64());
        if traps > 0 {
            self.plugin_traps.get_or_create(&label).inc_by(traps);
        }
    }

    /// A hot-reload outcome for `plugin`: `published`, `refused` or `removed`.
    pub fn plugin_reload(&self, plugin: &str, outcome: &str) {
        let labels = ReloadLabels {
            plugin: plugin.to_string(),
            outcome: outcome.to_string(),
        };
        self.plugin_reloads.get_or_create(&labels).inc();
    }

    /// The size of `table`'s key index.
    pub fn key_index(&self, table: &str, keys: usize, bytes: usize) {
        let label = TableLabel {
            table: table.to_string(),
        };
        self.index_keys.get_or_create(&label).set(keys as i64);
        self.index_bytes.get_or_create(&label).set(bytes as i64);
    }

    /// What is read and not yet committed.
    pub fn buffered(&self, records: usize, bytes: usize) {
        self.buffered_records.set(records as i64);
        self.buffered_bytes.set(bytes as i64);
    }

    /// The series of partial rows filled and dead-lettered.
    pub fn partial_rows(&self) -> &PartialRowMetrics {
        &self.partial_rows
    }

    /// The series of table sizes and maintenance runs.
    pub fn maintenance(&self) -> &MaintenanceMetrics {
        &self.maintenance
    }

    /// The pipeline's health, as `/health` reports it.
    pub fn health(&self) -> &Health {
        &self.health
    }

    /// Every series in Prometheus' text exposition format.
    pub fn encode(&self) -> String {
        let mut text = String::new();
        // Writing into a String cannot fail.
        let _ = prometheus_client::encoding::text::encode(&mut text, &self.registry);
        text
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn encodes_what_was_observed() {
        let metrics = Metrics::new();
        metrics.records_in("db.inv.customers", 3);
        metrics.committed(
            "inv.customers",
            &[("insert", 2), ("delete", 1)],
            Duration::from_millis(20),
        );
        metrics.dead_letters("db.inv.customers", "decode", 1);
        metrics.offsets_skipped("db.inv.customers", 2, 4);
        metrics.offsets_skipped("db.inv.customers", 2, 1);
        metrics.guessed_times("inv.customers", "created_at", 3);
        metrics.guessed_times("inv.customers", "created_at", 2);
        assert_eq!(metrics.totals().guessed_times, 5);
        let text = metrics.encode();
        assert!(
            text.contains(
                r#"floe_source_offsets_skipped_total{topic="db.inv.customers",partition="2"} 5"#
            ),
            "{text}"
        );
        assert!(
            text.contains(r#"floe_records_in_total{topic="db.inv.customers"} 3"#),
            "{text}"
        );
        assert!(
            text.contains(
                r#"floe_decode_guessed_time_total{table="inv.customers",column="created_at"} 5"#
            ),
            "{text}"
        );
        assert!(
            text.contains(r#"floe_changes_total{table="inv.customers",op="insert"} 2"#),
            "{text}"
        );
        assert!(
            text.contains(r#"floe_dlq_records_total{topic="db.inv.customers",reason="decode"} 1"#),
            "{text}"
        );
        assert!(
            text.contains(r#"floe_snapshots_total{table="inv.customers"} 1"#),
            "{text}"
        );
        assert!(
            text.contains("floe_commit_duration_seconds_count{table=\"inv.customers\"} 1"),
            "{text}"
        );
    }

    #[test]
    fn health_follows_the_loop_and_commits() {
        let metrics = Metrics::new();
        assert!(!metrics.health().report().0, "not running yet");
        metrics.health().set_running(true);
        assert!(metrics.health().report().0);
        metrics.health().failing("catalog down".into());
        let (healthy, report) = metrics.health().report();
        assert!(!healthy);
        assert!(report.contains("catalog down"), "{report}");
        metrics.committed("t.t", &[], Duration::ZERO);
        assert!(metrics.health().report().0);
    }
}

//! The series of a table's size and of its maintenance (see
//! [`crate::maintain`]): `floe_table_snapshots{table}`,
//! `floe_table_metadata_bytes{table}`, and per kind of maintenance
//! (`expire_snapshots`) `floe_maintenance_runs_total{table,kind}` and
//! `floe_maintenance_duration_seconds{table,kind}`.

use std::time::Duration;

use prometheus_client::encoding::EncodeLabelSet;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::Gauge;
use prometheus_client::registry::Registry;

use super::registry::{HistogramFamily, TableLabel, latency_histogram};

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct KindLabels {
    table: String,
    kind: String,
}

/// A table's size and its maintenance runs.
pub struct MaintenanceMetrics {
    snapshots: Family<TableLabel, Gauge>,
    metadata_bytes: Family<TableLabel, Gauge>,
    runs: Family<KindLabels, Counter>,
    seconds: HistogramFamily<KindLabels>,
}

impl MaintenanceMetrics {
    /// Registers the series in `registry`.
    pub(super) fn register(registry: &mut Registry) -> Self {
        let snapshots = Family::<TableLabel, Gauge>::default();
        registry.register(
            "table_snapshots",
            "Snapshots in a table's current metadata",
            snapshots.clone(),
        );
        let metadata_bytes = Family::<TableLabel, Gauge>::default();
        registry.register(
            "table_metadata_bytes",
            "Size of a table's current metadata file (measured at each expiry check)",
            metadata_bytes.clone(),
        );
        let runs = Family::<KindLabels, Counter>::default();
        registry.register(
            "maintenance_runs",
            "Table maintenance runs that committed, per kind",
            runs.clone(),
        );
        let seconds: HistogramFamily<KindLabels> = Family::new_with_constructor(latency_histogram);
        registry.register(
            "maintenance_duration_seconds",
            "Time a table maintenance run took (commit and file deletion), per kind",
            seconds.clone(),
        );
        MaintenanceMetrics {
            snapshots,
            metadata_bytes,
            runs,
            seconds,
        }
    }

    /// `table` has `snapshots` snapshots and, when measured, a metadata
    /// file of `metadata_bytes`.
    pub fn table_state(&self, table: &str, snapshots: usize, metadata_bytes: Option<u64>) {
        let label = TableLabel {
            table: table.to_string(),
        };
        self.snapshots.get_or_create(&label).set(snapshots as i64);
        if let Some(bytes) = metadata_bytes {
            self.metadata_bytes.get_or_create(&label).set(bytes as i64);
        }
    }

    /// A maintenance run of `kind` on `table` committed and took `took`.
    pub fn ran(&self, table: &str, kind: &str, took: Duration) {
        let labels = KindLabels {
            table: table.to_string(),
            kind: kind.to_string(),
        };
        self.runs.get_or_create(&labels).inc();
        self.seconds
            .get_or_create(&labels)
            .observe(took.as_secs_f64());
    }
}

#[cfg(test)]
mod tests {
    use super::super::Metrics;
    use super::*;

    #[test]
    fn encodes_table_state_and_runs() {
        let metrics = Metrics::new();
        metrics.maintenance().table_state("inv.t", 12, Some(3456));
        metrics.maintenance().table_state("inv.t", 10, None);
        metrics
            .maintenance()
            .ran("inv.t", "expire_snapshots", Duration::from_millis(30));
        let text = metrics.encode();
        for line in [
            r#"floe_table_snapshots{table="inv.t"} 10"#,
            r#"floe_table_metadata_bytes{table="inv.t"} 3456"#,
            r#"floe_maintenance_runs_total{table="inv.t",kind="expire_snapshots"} 1"#,
            r#"floe_maintenance_duration_seconds_count{table="inv.t",kind="expire_snapshots"} 1"#,
        ] {
            assert!(text.contains(line), "{line} in {text}");
        }
    }
}

//! The series of a table's size and of its maintenance (see
//! [`crate::maintain`]): `floe_table_snapshots{table}`,
//! `floe_table_metadata_bytes{table}`, `floe_table_data_files{table}`,
//! `floe_table_delete_files{table}`, `floe_table_manifests{table}`, and per kind of maintenance
//! (`compact`, `expire_snapshots`, `delete_orphans`) `floe_maintenance_runs_total{table,kind}` and
//! `floe_maintenance_duration_seconds{table,kind}`, and
//! `floe_orphan_files_deleted_total{table}`.

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

/// A table's size after a commit.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct TableState {
    /// Snapshots in its current metadata.
    pub snapshots: usize,
    /// The size of its current metadata file, when measured.
    pub metadata_bytes: Option<u64>,
    /// Live data files (the current snapshot's `total-data-files`), when known.
    pub data_files: Option<u64>,
    /// Live delete files (the current snapshot's `total-delete-files`), when known.
    pub delete_files: Option<u64>,
    /// Manifests of the current snapshot (its `manifests-created` plus
    /// `manifests-kept`), when known.
    pub manifests: Option<u64>,
}

/// A table's size and its maintenance runs.
pub struct MaintenanceMetrics {
    snapshots: Family<TableLabel, Gauge>,
    metadata_bytes: Family<TableLabel, Gauge>,
    data_files: Family<TableLabel, Gauge>,
    delete_files: Family<TableLabel, Gauge>,
    manifests: Family<TableLabel, Gauge>,
    runs: Family<KindLabels, Counter>,
    seconds: HistogramFamily<KindLabels>,
    orphans: Family<TableLabel, Counter>,
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
        let data_files = Family::<TableLabel, Gauge>::default();
        registry.register(
            "table_data_files",
            "Live data files of a table (its current snapshot's total-data-files)",
            data_files.clone(),
        );
        let delete_files = Family::<TableLabel, Gauge>::default();
        registry.register(
            "table_delete_files",
            "Live delete files of a table (its current snapshot's total-delete-files)",
            delete_files.clone(),
        );
        let manifests = Family::<TableLabel, Gauge>::default();
        registry.register(
            "table_manifests",
            "Manifests of a table's current snapshot",
            manifests.clone(),
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
        let orphans = Family::<TableLabel, Counter>::default();
        registry.register(
            "orphan_files_deleted",
            "Files under a table's location that no metadata reached, deleted",
            orphans.clone(),
        );
        MaintenanceMetrics {
            snapshots,
            metadata_bytes,
            data_files,
            delete_files,
            manifests,
            runs,
            seconds,
            orphans,
        }
    }

    /// `table` is now as `state` says; what was not measured keeps its
    /// last value.
    pub fn table_state(&self, table: &str, state: TableState) {
        let label = TableLabel {
            table: table.to_string(),
        };
        self.snapshots
            .get_or_create(&label)
            .set(state.snapshots as i64);
        for (family, value) in [
            (&self.metadata_bytes, state.metadata_bytes),
            (&self.data_files, state.data_files),
            (&self.delete_files, state.delete_files),
            (&self.manifests, state.manifests),
        ] {
            if let Some(value) = value {
                family.get_or_create(&label).set(value as i64);
            }
        }
    }

    /// `n` orphan files of `table` were deleted.
    pub fn orphans_deleted(&self, table: &str, n: usize) {
        self.orphans
            .get_or_create(&TableLabel {
                table: table.to_string(),
            })
            .inc_by(n as u64);
    }

    /// A maintenance run of `kind` on `table` committed (or swept) and took `took`.
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
        let state = TableState {
            snapshots: 12,
            metadata_bytes: Some(3456),
            data_files: Some(7),
            delete_files: Some(3),
            manifests: Some(4),
        };
        metrics.maintenance().table_state("inv.t", state);
        metrics.maintenance().table_state(
            "inv.t",
            TableState {
                snapshots: 10,
                ..TableState::default()
            },
        );
        metrics
            .maintenance()
            .ran("inv.t", "expire_snapshots", Duration::from_millis(30));
        let text = metrics.encode();
        for line in [
            r#"floe_table_snapshots{table="inv.t"} 10"#,
            r#"floe_table_metadata_bytes{table="inv.t"} 3456"#,
            r#"floe_table_data_files{table="inv.t"} 7"#,
            r#"floe_table_delete_files{table="inv.t"} 3"#,
            r#"floe_table_manifests{table="inv.t"} 4"#,
            r#"floe_maintenance_runs_total{table="inv.t",kind="expire_snapshots"} 1"#,
            r#"floe_maintenance_duration_seconds_count{table="inv.t",kind="expire_snapshots"} 1"#,
        ] {
            assert!(text.contains(line), "{line} in {text}");
        }
    }
}

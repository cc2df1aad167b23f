//! The series of partial rows (see [`crate::table::fill`]):
//! `floe_partial_rows_filled_total{table,source}`, the unchanged columns of
//! partial rows filled from the commit window's pending row of the key
//! (`source="pending"`) or from the live row in the table
//! (`source="table"`), and `floe_partial_rows_dead_lettered_total{table}`,
//! partial rows sent to the DLQ because their key had no row anywhere (or it
//! could not be read).

use prometheus_client::encoding::EncodeLabelSet;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::registry::Registry;

use super::registry::TableLabel;

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct SourceLabels {
    table: String,
    source: String,
}

/// Partial rows filled and dead-lettered, per table.
pub struct PartialRowMetrics {
    filled: Family<SourceLabels, Counter>,
    dead: Family<TableLabel, Counter>,
}

impl PartialRowMetrics {
    /// Registers the series in `registry`.
    pub(super) fn register(registry: &mut Registry) -> Self {
        let filled = Family::<SourceLabels, Counter>::default();
        registry.register(
            "partial_rows_filled",
            "Partial rows (unchanged columns not sent: PostgreSQL TOAST placeholders, \
             YugabyteDB set=false or CHANGE identity) filled from the key's pending row \
             (source=pending) or its live row in the table (source=table)",
            filled.clone(),
        );
        let dead = Family::<TableLabel, Counter>::default();
        registry.register(
            "partial_rows_dead_lettered",
            "Partial rows sent to the DLQ: their key had no row to fill them from",
            dead.clone(),
        );
        PartialRowMetrics { filled, dead }
    }

    /// Counts what filling one batch of `table` did.
    pub fn filled(&self, table: &str, pending: u64, from_table: u64, dead: u64) {
        for (source, n) in [("pending", pending), ("table", from_table)] {
            if n > 0 {
                self.filled
                    .get_or_create(&SourceLabels {
                        table: table.to_string(),
                        source: source.to_string(),
                    })
                    .inc_by(n);
            }
        }
        if dead > 0 {
            self.dead
                .get_or_create(&TableLabel {
                    table: table.to_string(),
                })
                .inc_by(dead);
        }
    }
}

#[cfg(test)]
mod tests {
    use crate::metrics::Metrics;

    #[test]
    fn fills_are_counted_by_source_and_dead_letters_by_table() {
        let metrics = Metrics::new();
        metrics.partial_rows().filled("db.t", 2, 3, 1);
        metrics.partial_rows().filled("db.t", 0, 4, 0);
        let text = metrics.encode();
        for line in [
            r#"floe_partial_rows_filled_total{table="db.t",source="pending"} 2"#,
            r#"floe_partial_rows_filled_total{table="db.t",source="table"} 7"#,
            r#"floe_partial_rows_dead_lettered_total{table="db.t"} 1"#,
        ] {
            assert!(text.contains(line), "{line} in:\n{text}");
        }
    }
}

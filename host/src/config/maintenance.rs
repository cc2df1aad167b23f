//! `[tables.maintenance]`: a table's maintenance settings in the pipeline's
//! configuration. Each key stands for a table property (see
//! [`crate::maintain`]); the table's own property wins where it sets one,
//! so that an operator can still tune a table with Spark or PyIceberg.
//!
//! ```toml
//! [[tables]]
//! table = "inventory.customers"
//! [tables.maintenance]
//! compact = true                   # floe.compact.enabled
//! compact_interval_ms = 60000      # floe.compact.interval-ms
//! compact_min_input_files = 5      # floe.compact.min-input-files
//! compact_delete_ratio = 0.3       # floe.compact.delete-ratio
//! compact_max_bytes = 536870912    # floe.compact.max-bytes (budget per cycle)
//! compact_max_files = 2000         # floe.compact.max-files (budget per cycle)
//! target_file_size_bytes = 536870912   # write.target-file-size-bytes
//! expire_interval_ms = 60000       # floe.expire.interval-ms
//! max_snapshot_age_ms = 3600000    # history.expire.max-snapshot-age-ms
//! max_snapshots = 500              # floe.expire.max-snapshots
//! orphans_min_age_ms = 86400000    # floe.orphans.min-age-ms
//! orphans_interval_ms = 3600000    # floe.orphans.interval-ms
//! ```

use std::collections::HashMap;

use serde::Deserialize;

use crate::maintain::compact::policy as compact;
use crate::maintain::{EXPIRE_INTERVAL_MS, MAX_SNAPSHOT_AGE_MS, MAX_SNAPSHOTS, orphans};
use crate::table::status::TARGET_FILE_SIZE;

/// A table's maintenance settings; absent keys take floe's defaults.
#[derive(Debug, Clone, Default, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct MaintenanceConfig {
    /// Compact the table between commit windows.
    pub compact: Option<bool>,
    /// The least time between two compactions, in ms.
    pub compact_interval_ms: Option<u64>,
    /// Candidate files a partition needs before it is compacted.
    pub compact_min_input_files: Option<usize>,
    /// The deleted share that makes a file a candidate on its own.
    pub compact_delete_ratio: Option<f64>,
    /// Bytes of data files one compaction reads at most.
    pub compact_max_bytes: Option<u64>,
    /// Data files one compaction reads at most.
    pub compact_max_files: Option<usize>,
    /// The size new data files are cut at.
    pub target_file_size_bytes: Option<u64>,
    /// The least time between two snapshot expiries, in ms.
    pub expire_interval_ms: Option<u64>,
    /// Snapshots older than this expire, in ms.
    pub max_snapshot_age_ms: Option<i64>,
    /// Snapshots kept per branch at most.
    pub max_snapshots: Option<usize>,
    /// Files younger than this are never orphans, in ms.
    pub orphans_min_age_ms: Option<u64>,
    /// The least time between two orphan sweeps, in ms.
    pub orphans_interval_ms: Option<u64>,
}

impl MaintenanceConfig {
    /// The settings as table properties (the defaults under the table's own).
    pub fn to_properties(&self) -> HashMap<String, String> {
        let entries: [(&str, Option<String>); 12] = [
            (
                compact::COMPACT_ENABLED,
                self.compact.map(|v| v.to_string()),
            ),
            (
                compact::COMPACT_INTERVAL_MS,
                self.compact_interval_ms.map(|v| v.to_string()),
            ),
            (
                compact::COMPACT_MIN_INPUT_FILES,
                self.compact_min_input_files.map(|v| v.to_string()),
            ),
            (
                compact::COMPACT_DELETE_RATIO,
                self.compact_delete_ratio.map(|v| v.to_string()),
            ),
            (
                compact::COMPACT_MAX_BYTES,
                self.compact_max_bytes.map(|v| v.to_string()),
            ),
            (
                compact::COMPACT_MAX_FILES,
                self.compact_max_files.map(|v| v.to_string()),
            ),
            (
                TARGET_FILE_SIZE,
                self.target_file_size_bytes.map(|v| v.to_string()),
            ),
            (
                EXPIRE_INTERVAL_MS,
                self.expire_interval_ms.map(|v| v.to_string()),
            ),
            (
                MAX_SNAPSHOT_AGE_MS,
                self.max_snapshot_age_ms.map(|v| v.to_string()),
            ),
            (MAX_SNAPSHOTS, self.max_snapshots.map(|v| v.to_string())),
            (
                orphans::ORPHAN_MIN_AGE_MS,
                self.orphans_min_age_ms.map(|v| v.to_string()),
            ),
            (
                orphans::ORPHAN_INTERVAL_MS,
                self.orphans_interval_ms.map(|v| v.to_string()),
            ),
        ];
        entries
            .into_iter()
            .filter_map(|(key, value)| Some((key.to_string(), value?)))
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn settings_become_properties() {
        let config: MaintenanceConfig =
            toml::from_str("compact_min_input_files = 3\ntarget_file_size_bytes = 1000").unwrap();
        let properties = config.to_properties();
        assert_eq!(properties.len(), 2);
        assert_eq!(properties["floe.compact.min-input-files"], "3");
        assert_eq!(properties["write.target-file-size-bytes"], "1000");
        assert!(toml::from_str::<MaintenanceConfig>("compact_typo = 1").is_err());
    }
}

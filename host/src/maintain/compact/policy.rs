//! When and how much a table is compacted, from its properties.

use std::collections::HashMap;
use std::time::Duration;

use crate::commit::table_property;
use crate::table::status::{DEFAULT_TARGET_FILE_SIZE, TARGET_FILE_SIZE};

/// Table property (floe's): compact at all.
pub const COMPACT_ENABLED: &str = "floe.compact.enabled";
/// Table property (floe's): the least time between two compactions of a table.
pub const COMPACT_INTERVAL_MS: &str = "floe.compact.interval-ms";
/// Table property (floe's): a partition is compacted once it has this many
/// candidate files (the Java rewrite's `min-input-files`).
pub const COMPACT_MIN_INPUT_FILES: &str = "floe.compact.min-input-files";
/// Table property (floe's): a data file whose deleted share of rows reaches
/// this is a candidate however large, and is rewritten even alone (the
/// Java rewrite's `delete-ratio-threshold`).
pub const COMPACT_DELETE_RATIO: &str = "floe.compact.delete-ratio";
/// Table property (floe's): bytes of data files one compaction reads at most.
pub const COMPACT_MAX_BYTES: &str = "floe.compact.max-bytes";
/// Table property (floe's): data files one compaction reads at most.
pub const COMPACT_MAX_FILES: &str = "floe.compact.max-files";

/// floe's default of [`COMPACT_INTERVAL_MS`]: one minute.
pub const DEFAULT_COMPACT_INTERVAL_MS: u64 = 60_000;
/// floe's default of [`COMPACT_MIN_INPUT_FILES`] (the Java library's).
pub const DEFAULT_COMPACT_MIN_INPUT_FILES: usize = 5;
/// floe's default of [`COMPACT_DELETE_RATIO`] (the Java library's).
pub const DEFAULT_COMPACT_DELETE_RATIO: f64 = 0.3;
/// floe's default of [`COMPACT_MAX_BYTES`]: 512 MiB.
pub const DEFAULT_COMPACT_MAX_BYTES: u64 = 512 << 20;
/// floe's default of [`COMPACT_MAX_FILES`].
pub const DEFAULT_COMPACT_MAX_FILES: usize = 2_000;

/// How a table is compacted.
#[derive(Debug, Clone, PartialEq)]
pub struct CompactPolicy {
    /// Compact at all.
    pub enabled: bool,
    /// The least time between two compactions of the table.
    pub interval: Duration,
    /// New files are cut once they reach this size (`write.target-file-size-bytes`).
    pub target_file_bytes: u64,
    /// Files below this size are candidates (75 % of the target, as the
    /// Java rewrite's `min-file-size-bytes`).
    pub small_file_bytes: u64,
    /// A partition is compacted once it has this many candidates.
    pub min_input_files: usize,
    /// Files with at least this share of deleted rows are candidates.
    pub delete_ratio: f64,
    /// The per-cycle budget: bytes read.
    pub max_bytes: u64,
    /// The per-cycle budget: files read.
    pub max_files: usize,
}

impl CompactPolicy {
    /// The policy `properties` give; absent or unparsable values take
    /// floe's defaults.
    pub fn from_properties(properties: &HashMap<String, String>) -> Self {
        let target = table_property(properties, TARGET_FILE_SIZE, DEFAULT_TARGET_FILE_SIZE).max(1);
        CompactPolicy {
            enabled: table_property(properties, COMPACT_ENABLED, true),
            interval: Duration::from_millis(table_property(
                properties,
                COMPACT_INTERVAL_MS,
                DEFAULT_COMPACT_INTERVAL_MS,
            )),
            target_file_bytes: target,
            small_file_bytes: target / 4 * 3,
            min_input_files: table_property(
                properties,
                COMPACT_MIN_INPUT_FILES,
                DEFAULT_COMPACT_MIN_INPUT_FILES,
            )
            .max(2),
            delete_ratio: table_property(
                properties,
                COMPACT_DELETE_RATIO,
                DEFAULT_COMPACT_DELETE_RATIO,
            )
            .clamp(0.0, 1.0),
            max_bytes: table_property(properties, COMPACT_MAX_BYTES, DEFAULT_COMPACT_MAX_BYTES)
                .max(1),
            max_files: table_property(properties, COMPACT_MAX_FILES, DEFAULT_COMPACT_MAX_FILES)
                .max(2),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn defaults_and_properties() {
        let defaults = CompactPolicy::from_properties(&HashMap::new());
        assert!(defaults.enabled);
        assert_eq!(defaults.interval, Duration::from_secs(60));
        assert_eq!(defaults.target_file_bytes, 512 << 20);
        assert_eq!(defaults.small_file_bytes, 384 << 20);
        assert_eq!(defaults.min_input_files, 5);
        assert_eq!(defaults.delete_ratio, 0.3);
        let props: HashMap<String, String> = [
            (TARGET_FILE_SIZE, "1000"),
            (COMPACT_MIN_INPUT_FILES, "1"),
            (COMPACT_DELETE_RATIO, "x"),
            (COMPACT_ENABLED, "false"),
        ]
        .into_iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect();
        let policy = CompactPolicy::from_properties(&props);
        assert!(!policy.enabled);
        assert_eq!(policy.small_file_bytes, 750);
        assert_eq!(policy.min_input_files, 2, "never fewer than two");
        assert_eq!(policy.delete_ratio, 0.3, "unparsable: default");
    }
}

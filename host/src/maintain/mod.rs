//! Table maintenance: floe keeps the tables it writes cheap to commit and
//! to read, between commit windows, with no other engine involved. One
//! action per file:
//!
//! - [`metadata_files`]: after every commit (floe's row deltas and
//!   maintenance commits alike, in [`Catalog::commit_table`]), the
//!   metadata files that fell off the new metadata's `metadata-log` are
//!   deleted when `write.metadata.delete-after-commit.enabled` is `true`.
//!   The log itself keeps at most `write.metadata.previous-versions-max`
//!   entries (the iceberg crate's metadata builder trims it on every
//!   build). floe creates its tables with both set ([`created_table_properties`]:
//!   20 and `true`) and honours whatever they say on tables others created
//!   (the Java library's defaults there: 100 and `false`, so nothing is deleted).
//! - [`expire`]: snapshot expiry, by age and by count, keeping branch and tag
//!   heads, `min-snapshots-to-keep` per branch and the current snapshot; it
//!   is committed with compare-and-swap (`remove-snapshots`), and only after
//!   it landed are the manifest lists, manifests, data and delete files that
//!   no retained snapshot reaches deleted.
//! - [`orphans`]: files under the table's location that no metadata
//!   reaches (a commit that never landed), older than a safety margin, are
//!   deleted once an hour per table and process.
//! - [`compact`]: small data files and files with many deleted rows are
//!   rewritten per partition, at most once per `floe.compact.interval-ms`,
//!   within a budget; the key index is remapped, not rebuilt
//!   ([`compact::policy`] lists its properties).
//!
//! The policy is read from the table's properties at every run
//! ([`MaintenancePolicy::from_properties`]), over the defaults the
//! pipeline's `[tables.maintenance]` gives ([`Maintainer::with_defaults`]):
//!
//! | property                                   | floe's default | meaning |
//! |--------------------------------------------|----------------|---------|
//! | `write.metadata.previous-versions-max`     | 20 (set at create) | metadata-log entries kept |
//! | `write.metadata.delete-after-commit.enabled` | `true` (set at create) | delete files that fell off the log |
//! | `history.expire.max-snapshot-age-ms`       | 3600000 (1 h)  | snapshots older than this expire |
//! | `floe.expire.max-snapshots`                | 500            | at most this many snapshots per branch |
//! | `history.expire.min-snapshots-to-keep`     | 1              | per branch, always kept |
//! | `floe.expire.interval-ms`                  | 60000 (1 min)  | at most one expiry per table this often |
//! | `floe.orphans.min-age-ms`                  | 86400000 (1 day) | younger files are never orphans |
//! | `floe.orphans.interval-ms`                 | 3600000 (1 h)  | at most one orphan sweep per table this often |
//!
//! When expiry runs: after a commit of the table (in the pipeline, between
//! commit windows), at most once per `floe.expire.interval-ms` per table
//! and process: the check reads only the metadata in memory (and the
//! metadata file's size, for `floe_table_metadata_bytes`), and expires
//! when some snapshot is due (older than the age limit or beyond the
//! count). A failed check or expiry is logged; the next one is an interval
//! later.
//!
//! [`Catalog::commit_table`]: crate::commit::Catalog::commit_table

pub mod compact;
pub mod expire;
pub mod metadata_files;
pub mod orphans;
pub mod unreachable;

use std::collections::HashMap;
use std::time::{Duration, Instant};

use futures::StreamExt;
use iceberg::io::FileIO;
use tracing::{debug, info, warn};

use crate::commit::{Catalog, CommitError, LoadedTable, table_property};
use compact::{CompactError, CompactPolicy, Compacted};

/// Table property: metadata-log entries a new metadata file keeps.
pub const PREVIOUS_VERSIONS_MAX: &str = "write.metadata.previous-versions-max";
/// Table property: delete the metadata files that fell off the log after a commit.
pub const DELETE_AFTER_COMMIT: &str = "write.metadata.delete-after-commit.enabled";
/// Table property: snapshots older than this many milliseconds expire.
pub const MAX_SNAPSHOT_AGE_MS: &str = "history.expire.max-snapshot-age-ms";
/// Table property: snapshots of each branch always kept, newest first.
pub const MIN_SNAPSHOTS_TO_KEEP: &str = "history.expire.min-snapshots-to-keep";
/// Table property (floe's): snapshots kept per branch at most.
pub const MAX_SNAPSHOTS: &str = "floe.expire.max-snapshots";
/// Table property (floe's): the least time between two expiry runs of a table.
pub const EXPIRE_INTERVAL_MS: &str = "floe.expire.interval-ms";

/// floe's default of [`PREVIOUS_VERSIONS_MAX`] on the tables it creates.
pub const DEFAULT_PREVIOUS_VERSIONS_MAX: usize = 20;
/// floe's default of [`MAX_SNAPSHOT_AGE_MS`]: one hour.
pub const DEFAULT_MAX_SNAPSHOT_AGE_MS: i64 = 3_600_000;
/// floe's default of [`MAX_SNAPSHOTS`].
pub const DEFAULT_MAX_SNAPSHOTS: usize = 500;
/// The default of [`MIN_SNAPSHOTS_TO_KEEP`] (the Java library's too).
pub const DEFAULT_MIN_SNAPSHOTS_TO_KEEP: usize = 1;
/// floe's default of [`EXPIRE_INTERVAL_MS`]: one minute.
pub const DEFAULT_EXPIRE_INTERVAL_MS: u64 = 60_000;

/// The maintenance properties floe sets on the tables it creates:
/// previous-versions-max 20 and delete-after-commit on.
pub fn created_table_properties() -> HashMap<String, String> {
    HashMap::from([
        (
            PREVIOUS_VERSIONS_MAX.to_string(),
            DEFAULT_PREVIOUS_VERSIONS_MAX.to_string(),
        ),
        (DELETE_AFTER_COMMIT.to_string(), "true".to_string()),
    ])
}

/// How a table's snapshots expire, from its properties.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MaintenancePolicy {
    /// Snapshots older than this (ms) expire (branch retention may override).
    pub max_snapshot_age_ms: i64,
    /// Snapshots of a branch beyond this many (newest first) expire.
    pub max_snapshots: usize,
    /// Snapshots of a branch always kept, newest first (at least 1).
    pub min_snapshots_to_keep: usize,
    /// The least time between two expiry runs of the table.
    pub interval: Duration,
    /// Files younger than this are never orphans.
    pub orphan_min_age: Duration,
    /// The least time between two orphan sweeps of the table.
    pub orphan_interval: Duration,
}

impl MaintenancePolicy {
    /// The policy a table's properties give; a property that is absent or
    /// not a number takes floe's default.
    pub fn from_properties(properties: &HashMap<String, String>) -> Self {
        MaintenancePolicy {
            max_snapshot_age_ms: table_property(
                properties,
                MAX_SNAPSHOT_AGE_MS,
                DEFAULT_MAX_SNAPSHOT_AGE_MS,
            )
            .max(0),
            max_snapshots: table_property(properties, MAX_SNAPSHOTS, DEFAULT_MAX_SNAPSHOTS).max(1),
            min_snapshots_to_keep: table_property(
                properties,
                MIN_SNAPSHOTS_TO_KEEP,
                DEFAULT_MIN_SNAPSHOTS_TO_KEEP,
            )
            .max(1),
            interval: Duration::from_millis(table_property(
                properties,
                EXPIRE_INTERVAL_MS,
                DEFAULT_EXPIRE_INTERVAL_MS,
            )),
            orphan_min_age: Duration::from_millis(table_property(
                properties,
                orphans::ORPHAN_MIN_AGE_MS,
                orphans::DEFAULT_ORPHAN_MIN_AGE_MS,
            )),
            orphan_interval: Duration::from_millis(table_property(
                properties,
                orphans::ORPHAN_INTERVAL_MS,
                orphans::DEFAULT_ORPHAN_INTERVAL_MS,
            )),
        }
    }
}

/// A table's maintenance between commit windows: when it last ran.
#[derive(Debug)]
pub struct Maintainer {
    catalog: Catalog,
    pipeline: String,
    last_expiry: Option<Instant>,
    last_sweep: Option<Instant>,
    last_compaction: Option<Instant>,
    metadata_bytes: Option<u64>,
    defaults: HashMap<String, String>,
}

/// What a maintenance round did.
#[derive(Debug, Default)]
pub struct Maintained {
    /// The table as expiry committed it (same current snapshot, schema and
    /// offsets); `None` when nothing was committed.
    pub table: Option<LoadedTable>,
    /// Snapshots expired.
    pub expired: usize,
    /// How long the expiry that committed took.
    pub expire_took: Option<Duration>,
    /// Orphan files deleted; `None` when no sweep ran.
    pub orphans_deleted: Option<usize>,
    /// How long the sweep took.
    pub sweep_took: Option<Duration>,
}

impl Maintainer {
    /// Maintenance of tables of `catalog` written by pipeline `pipeline`
    /// (the chain down to its latest snapshot is never expired: its offsets
    /// are there).
    pub fn new(catalog: impl Into<Catalog>, pipeline: impl Into<String>) -> Self {
        Maintainer {
            catalog: catalog.into(),
            pipeline: pipeline.into(),
            last_expiry: None,
            last_sweep: None,
            last_compaction: None,
            metadata_bytes: None,
            defaults: HashMap::new(),
        }
    }

    /// Takes `defaults` (property → value, from `[tables.maintenance]`)
    /// where the table's own properties do not say.
    pub fn with_defaults(mut self, defaults: HashMap<String, String>) -> Self {
        self.defaults = defaults;
        self
    }

    /// The maintenance properties of `table`: its own over the defaults.
    fn properties(&self, table: &LoadedTable) -> HashMap<String, String> {
        let mut properties = self.defaults.clone();
        properties.extend(
            table
                .metadata
                .properties()
                .iter()
                .map(|(k, v)| (k.clone(), v.clone())),
        );
        properties
    }

    /// Compacts `table` when `floe.compact.interval-ms` passed since the
    /// last compaction (the first one is due at once); `None` when nothing
    /// was committed.
    pub async fn compact_if_due(
        &mut self,
        table: &LoadedTable,
    ) -> Result<Option<Compacted>, CompactError> {
        let policy = CompactPolicy::from_properties(&self.properties(table));
        let due = self
            .last_compaction
            .is_none_or(|at| at.elapsed() >= policy.interval);
        if !policy.enabled || !due {
            return Ok(None);
        }
        self.last_compaction = Some(Instant::now());
        compact::compact(&self.catalog, table, &policy, 3).await
    }

    /// Compacts `table` now, whatever the interval says (`floe table
    /// compact`), planning again after each lost compare-and-swap up to
    /// `max_attempts` times.
    pub async fn compact_now(
        &mut self,
        table: &LoadedTable,
        max_attempts: usize,
    ) -> Result<Option<Compacted>, CompactError> {
        let policy = CompactPolicy {
            enabled: true,
            ..CompactPolicy::from_properties(&self.properties(table))
        };
        self.last_compaction = Some(Instant::now());
        compact::compact(&self.catalog, table, &policy, max_attempts).await
    }

    /// The size of the table's current metadata file, as measured at the
    /// last expiry check (`None` before the first).
    pub fn metadata_bytes(&self) -> Option<u64> {
        self.metadata_bytes
    }

    /// Runs what is due on `table`, just committed: snapshot expiry at most
    /// once per `floe.expire.interval-ms`, an orphan sweep at most once per
    /// `floe.orphans.interval-ms`. When expiry's compare-and-swap is lost the
    /// round is skipped, nothing deleted, and the writer reloads at its next
    /// commit as after any conflict. An error leaves the table unharmed: one
    /// before the commit changed nothing, and after the commit nothing fails;
    /// a failed sweep is logged.
    pub async fn after_commit(&mut self, table: &LoadedTable) -> Result<Maintained, CommitError> {
        self.run(table, false).await
    }

    /// Runs expiry and an orphan sweep on `table` now, whatever the
    /// intervals say (`floe table expire`).
    pub async fn run_now(&mut self, table: &LoadedTable) -> Result<Maintained, CommitError> {
        self.run(table, true).await
    }

    async fn run(&mut self, table: &LoadedTable, now: bool) -> Result<Maintained, CommitError> {
        let policy = MaintenancePolicy::from_properties(&self.properties(table));
        let due = |last: Option<Instant>, interval: Duration| {
            now || last.is_none_or(|at| at.elapsed() >= interval)
        };
        let mut maintained = Maintained::default();
        if due(self.last_expiry, policy.interval) {
            let started = Instant::now();
            self.last_expiry = Some(started);
            (maintained.table, maintained.expired) = self.expire(table, &policy).await?;
            if maintained.table.is_some() {
                maintained.expire_took = Some(started.elapsed());
            }
        }
        if due(self.last_sweep, policy.orphan_interval) {
            let started = Instant::now();
            self.last_sweep = Some(started);
            let current = maintained.table.as_ref().unwrap_or(table);
            match self.sweep(current, &policy).await {
                Ok(deleted) => {
                    maintained.orphans_deleted = deleted;
                    maintained.sweep_took = deleted.map(|_| started.elapsed());
                }
                Err(err) => {
                    warn!(table = %table.name(), %err, "orphan sweep failed; tried again later");
                }
            }
        }
        Ok(maintained)
    }

    /// Expires the snapshots that are due: the table as committed and how
    /// many expired.
    async fn expire(
        &mut self,
        table: &LoadedTable,
        policy: &MaintenancePolicy,
    ) -> Result<(Option<LoadedTable>, usize), CommitError> {
        if let Ok(input) = self.catalog.file_io().new_input(&table.metadata_location) {
            self.metadata_bytes = input.metadata().await.ok().map(|m| m.size);
        }
        let expiring =
            expire::snapshots_to_expire(&table.metadata, policy, &self.pipeline, expire::now_ms());
        if expiring.is_empty() {
            return Ok((None, 0));
        }
        match expire::expire_snapshots(&self.catalog, table, &expiring).await {
            Ok(outcome) => {
                info!(
                    table = %table.name(),
                    expired = expiring.len(),
                    kept = outcome.table.metadata.snapshots().len(),
                    files_deleted = outcome.deleted,
                    "snapshots expired"
                );
                Ok((Some(outcome.table), expiring.len()))
            }
            Err(err) if err.is_conflict() => {
                warn!(table = %table.name(), "another writer committed first; snapshot expiry skipped this round");
                Ok((None, 0))
            }
            Err(err) => Err(err),
        }
    }

    /// Deletes the table's orphan files: how many, or `None` when its
    /// location cannot be listed (object storage).
    async fn sweep(
        &self,
        table: &LoadedTable,
        policy: &MaintenancePolicy,
    ) -> Result<Option<usize>, CommitError> {
        let name = table.name();
        let file_io = self.catalog.file_io();
        let reachable =
            orphans::reachable_files(file_io, &name, &table.metadata_location, &table.metadata)
                .await?;
        let listed = orphans::orphan_files(
            table.metadata.location(),
            &reachable,
            policy.orphan_min_age,
            std::time::SystemTime::now(),
        );
        let found = match listed {
            Ok(Some(found)) => found,
            Ok(None) => {
                info!(table = %name, location = table.metadata.location(), "orphan files are not swept on object storage (FileIO cannot list); only on local folders");
                return Ok(None);
            }
            Err(err) => {
                warn!(table = %name, %err, "listing the table's files for orphans failed");
                return Ok(None);
            }
        };
        if found.is_empty() {
            return Ok(Some(0));
        }
        let deleted = delete_files(file_io, &name, found).await;
        info!(table = %name, deleted, "orphan files deleted (no metadata reaches them)");
        Ok(Some(deleted))
    }
}

/// Deletes `files` of `table` (a few at a time); returns how many were
/// deleted. One that cannot be deleted is logged and left behind: it is
/// referenced by nothing the catalog points at, an orphan.
pub async fn delete_files(file_io: &FileIO, table: &str, files: Vec<String>) -> usize {
    let results: Vec<bool> = futures::stream::iter(files)
        .map(|file| async move {
            match file_io.delete(&file).await {
                Ok(()) => true,
                Err(err) => {
                    warn!(%table, %file, %err, "could not delete a file no table metadata references; it stays as an orphan");
                    false
                }
            }
        })
        .buffer_unordered(16)
        .collect()
        .await;
    let deleted = results.into_iter().filter(|ok| *ok).count();
    debug!(%table, deleted, "unreferenced files deleted");
    deleted
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn policy_defaults_and_properties() {
        let defaults = MaintenancePolicy::from_properties(&HashMap::new());
        assert_eq!(defaults.max_snapshot_age_ms, 3_600_000);
        assert_eq!(defaults.max_snapshots, 500);
        assert_eq!(defaults.min_snapshots_to_keep, 1);
        assert_eq!(defaults.interval, Duration::from_secs(60));
        assert_eq!(defaults.orphan_min_age, Duration::from_secs(86_400));
        assert_eq!(defaults.orphan_interval, Duration::from_secs(3_600));
        let props: HashMap<String, String> = [
            (MAX_SNAPSHOT_AGE_MS, "0"),
            (MAX_SNAPSHOTS, "10"),
            (MIN_SNAPSHOTS_TO_KEEP, "0"),
            (EXPIRE_INTERVAL_MS, "x"),
        ]
        .into_iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect();
        let policy = MaintenancePolicy::from_properties(&props);
        assert_eq!(policy.max_snapshot_age_ms, 0);
        assert_eq!(policy.max_snapshots, 10);
        assert_eq!(policy.min_snapshots_to_keep, 1, "never below one");
        assert_eq!(
            policy.interval,
            Duration::from_secs(60),
            "unparsable: default"
        );
    }
}

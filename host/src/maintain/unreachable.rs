//! The files that expired snapshots reached and no retained snapshot does:
//! what expiry deletes once its commit landed.
//!
//! Reachability is computed from the retained snapshots' manifest lists and
//! manifests, so a file any retained snapshot reaches (through any manifest,
//! whatever its entry's status) stays:
//!
//! - manifest lists of expired snapshots that no retained snapshot uses;
//! - manifests those lists name that no retained manifest list names;
//! - data and delete files those manifests name that no retained manifest
//!   names;
//! - statistics and partition statistics files of expired snapshots that
//!   no retained snapshot's statistics use.
//!
//! Retained manifest lists are read current snapshot first, and reading
//! stops as soon as every candidate manifest is known to be retained: floe's
//! manifest lists carry their parent's manifests forward, so in the usual
//! case the current snapshot's list alone settles it and no manifest is
//! read. Manifests are only read when some manifest becomes unreachable (a
//! truncate's predecessors expired, or another engine rewrote manifests).

use std::cmp::Reverse;
use std::collections::{HashMap, HashSet};

use iceberg::io::FileIO;
use iceberg::spec::{ManifestFile, TableMetadata};

use crate::commit::CommitError;
use crate::commit::manifest_list::read_manifest_list;

/// The files `base`'s snapshots reached that none of `retained`'s
/// snapshots reach (`retained` is `base` after expiry).
pub async fn unreachable_files(
    file_io: &FileIO,
    table: &str,
    base: &TableMetadata,
    retained: &TableMetadata,
) -> Result<Vec<String>, CommitError> {
    let version = retained.format_version();
    let retained_ids: HashSet<i64> = retained.snapshots().map(|s| s.snapshot_id()).collect();
    let retained_lists: HashSet<&str> = retained.snapshots().map(|s| s.manifest_list()).collect();
    let mut lists: Vec<String> = Vec::new();
    let mut manifests: HashMap<String, ManifestFile> = HashMap::new();
    for snapshot in base.snapshots() {
        let list = snapshot.manifest_list();
        if retained_ids.contains(&snapshot.snapshot_id()) || retained_lists.contains(list) {
            continue;
        }
        for manifest in read_manifest_list(file_io, table, list, version).await? {
            manifests
                .entry(manifest.manifest_path.clone())
                .or_insert(manifest);
        }
        lists.push(list.to_string());
    }

    let mut order: Vec<_> = retained.snapshots().collect();
    let current = retained.current_snapshot_id();
    order.sort_by_key(|s| (Some(s.snapshot_id()) != current, Reverse(s.timestamp_ms())));
    let mut kept_manifests: HashMap<String, ManifestFile> = HashMap::new();
    for snapshot in order {
        if manifests.is_empty() {
            break;
        }
        for manifest in
            read_manifest_list(file_io, table, snapshot.manifest_list(), version).await?
        {
            manifests.remove(&manifest.manifest_path);
            kept_manifests
                .entry(manifest.manifest_path.clone())
                .or_insert(manifest);
        }
    }

    let mut out: Vec<String> = Vec::new();
    if !manifests.is_empty() {
        // Every retained list was read: `kept_manifests` is complete.
        let mut files: HashSet<String> = HashSet::new();
        for manifest in manifests.values() {
            files.extend(manifest_file_paths(file_io, table, manifest).await?);
        }
        for manifest in kept_manifests.values() {
            if files.is_empty() {
                break;
            }
            for path in manifest_file_paths(file_io, table, manifest).await? {
                files.remove(&path);
            }
        }
        out.extend(files);
        out.extend(manifests.into_keys());
    }
    out.extend(lists);

    let kept_statistics: HashSet<&str> = retained
        .statistics_iter()
        .map(|s| s.statistics_path.as_str())
        .chain(
            retained
                .partition_statistics_iter()
                .map(|s| s.statistics_path.as_str()),
        )
        .collect();
    let expired_statistics = base
        .statistics_iter()
        .map(|s| (s.snapshot_id, s.statistics_path.as_str()))
        .chain(
            base.partition_statistics_iter()
                .map(|s| (s.snapshot_id, s.statistics_path.as_str())),
        );
    for (snapshot_id, path) in expired_statistics {
        if !retained_ids.contains(&snapshot_id) && !kept_statistics.contains(path) {
            out.push(path.to_string());
        }
    }
    Ok(out)
}

/// The paths of the data or delete files a manifest names, in entries of
/// any status.
pub(crate) async fn manifest_file_paths(
    file_io: &FileIO,
    table: &str,
    manifest: &ManifestFile,
) -> Result<Vec<String>, CommitError> {
    let loaded = manifest
        .load_manifest(file_io)
        .await
        .map_err(|source| CommitError::Iceberg {
            table: table.to_string(),
            context: format!("reading {}", manifest.manifest_path),
            source,
        })?;
    Ok(loaded
        .entries()
        .iter()
        .map(|entry| entry.file_path().to_string())
        .collect())
}

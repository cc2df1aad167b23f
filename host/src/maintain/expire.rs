//! Snapshot expiry: which snapshots go, the `remove-snapshots` commit, and
//! the deletion of the files only they reached.
//!
//! **Which.** For each branch (`main` included), walking back from its head:
//! the first `min-snapshots-to-keep` ancestors are kept, and after them
//! those younger than the age limit while fewer than the count limit
//! (`floe.expire.max-snapshots`) are kept; the walk stops at the first one
//! that is not. A branch's own `min-snapshots-to-keep` and
//! `max-snapshot-age-ms` win over the table's. Every tag's snapshot is
//! kept, and so is the current snapshot. Snapshots that no branch reaches
//! are kept while younger than the age limit, as the Java library does.
//! Refs themselves never expire. Finally the chain from the current
//! snapshot down to the latest snapshot of the running pipeline is kept
//! whole: that is where [`latest_floe_snapshot`] finds the table's
//! `floe.offsets` by walking parents, also when another engine committed
//! on top of floe.
//!
//! **Commit.** A new metadata file without those snapshots (and their
//! statistics files), swapped in with the catalog's compare-and-swap like
//! every floe commit. The current snapshot never changes, so neither do
//! the table's rows, schema or offsets. A lost compare-and-swap deletes
//! nothing (the caller skips the round).
//!
//! **Deletion**, only after the swap landed: see [`super::unreachable`].
//! A crash between the swap and the deletion leaves those files on storage,
//! referenced by no metadata the catalog points at: readers of the table
//! never open them, so it reads as it should; they are orphans, for orphan
//! cleanup to take.

use std::collections::{HashMap, HashSet};
use std::time::{SystemTime, UNIX_EPOCH};

use iceberg::spec::{
    MAIN_BRANCH, Snapshot, SnapshotReference, SnapshotRetention, TableMetadata,
    TableMetadataBuilder,
};
use tracing::warn;

use super::{MaintenancePolicy, delete_files, unreachable};
use crate::commit::offsets::latest_floe_snapshot;
use crate::commit::{Catalog, CommitError, LoadedTable};

/// Milliseconds since the epoch, now.
pub fn now_ms() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_millis() as i64)
        .unwrap_or_default()
}

/// The ids of the snapshots of `metadata` that expire at `now_ms` under
/// `policy` (ascending), keeping the chain down to `pipeline`'s latest
/// snapshot. Empty when the table's refs cannot be read.
pub fn snapshots_to_expire(
    metadata: &TableMetadata,
    policy: &MaintenancePolicy,
    pipeline: &str,
    now_ms: i64,
) -> Vec<i64> {
    let Some(mut refs) = refs(metadata) else {
        warn!("could not read the table's refs; no snapshot expires");
        return Vec::new();
    };
    let current = metadata.current_snapshot_id();
    if let Some(current) = current
        && !refs.contains_key(MAIN_BRANCH)
    {
        refs.insert(
            MAIN_BRANCH.to_string(),
            SnapshotReference::new(current, SnapshotRetention::branch(None, None, None)),
        );
    }
    let mut keep: HashSet<i64> = current.into_iter().collect();
    let mut on_branches: HashSet<i64> = HashSet::new();
    for reference in refs.values() {
        let SnapshotRetention::Branch {
            min_snapshots_to_keep,
            max_snapshot_age_ms,
            ..
        } = &reference.retention
        else {
            keep.insert(reference.snapshot_id);
            continue;
        };
        let min = min_snapshots_to_keep
            .map(|m| m.max(1) as usize)
            .unwrap_or(policy.min_snapshots_to_keep);
        let cutoff =
            now_ms.saturating_sub(max_snapshot_age_ms.unwrap_or(policy.max_snapshot_age_ms));
        let mut walking = true;
        for (i, snapshot) in ancestors(metadata, reference.snapshot_id).enumerate() {
            on_branches.insert(snapshot.snapshot_id());
            walking = walking
                && (i < min || (i < policy.max_snapshots && snapshot.timestamp_ms() >= cutoff));
            if walking {
                keep.insert(snapshot.snapshot_id());
            }
        }
    }
    if let (Some(current), Some(latest)) = (current, latest_floe_snapshot(metadata, pipeline)) {
        for snapshot in ancestors(metadata, current) {
            keep.insert(snapshot.snapshot_id());
            if snapshot.snapshot_id() == latest.snapshot_id() {
                break;
            }
        }
    }
    let cutoff = now_ms.saturating_sub(policy.max_snapshot_age_ms);
    let mut expire: Vec<i64> = metadata
        .snapshots()
        .filter(|s| {
            let id = s.snapshot_id();
            !keep.contains(&id) && (on_branches.contains(&id) || s.timestamp_ms() < cutoff)
        })
        .map(|s| s.snapshot_id())
        .collect();
    expire.sort_unstable();
    expire
}

/// `id` and its ancestors, newest first, as far as the table still has them.
fn ancestors(metadata: &TableMetadata, id: i64) -> impl Iterator<Item = &Snapshot> + '_ {
    std::iter::successors(metadata.snapshot_by_id(id).map(|s| s.as_ref()), |s| {
        s.parent_snapshot_id()
            .and_then(|p| metadata.snapshot_by_id(p))
            .map(|s| s.as_ref())
    })
}

/// The table's branches and tags. The iceberg crate keeps them private to
/// its metadata type; its JSON form has them (this costs one serialization
/// of the metadata per expiry check, at most once per interval).
fn refs(metadata: &TableMetadata) -> Option<HashMap<String, SnapshotReference>> {
    let json = serde_json::to_value(metadata).ok()?;
    match json.get("refs") {
        Some(refs) => serde_json::from_value(refs.clone()).ok(),
        None => Some(HashMap::new()),
    }
}

/// What an expiry did.
#[derive(Debug)]
pub struct Expired {
    /// The table as committed without the expired snapshots.
    pub table: LoadedTable,
    /// Files deleted after the commit (manifest lists, manifests, data and
    /// delete files, statistics files).
    pub deleted: usize,
}

/// Removes the snapshots `ids` from `table` with compare-and-swap, then
/// deletes the files that only they reached. A lost compare-and-swap is a
/// [`CommitError::Catalog`] conflict and deletes nothing; once the commit
/// landed this never fails (a file it cannot read or delete is logged and
/// left behind as an orphan).
pub async fn expire_snapshots(
    catalog: &Catalog,
    table: &LoadedTable,
    ids: &[i64],
) -> Result<Expired, CommitError> {
    let committed = commit_expiry(catalog, table, ids).await?;
    let name = table.name();
    let files = match unreachable::unreachable_files(
        catalog.file_io(),
        &name,
        &table.metadata,
        &committed.metadata,
    )
    .await
    {
        Ok(files) => files,
        Err(err) => {
            warn!(table = %name, %err, "snapshots expired, but their files could not be listed; they stay as orphans");
            Vec::new()
        }
    };
    let deleted = delete_files(catalog.file_io(), &name, files).await;
    Ok(Expired {
        table: committed,
        deleted,
    })
}

/// The commit of an expiry alone: `table` without the snapshots `ids` (and
/// their statistics files), swapped in with compare-and-swap. Deletes no
/// data, manifest or manifest list (what a crash right after it leaves).
pub async fn commit_expiry(
    catalog: &Catalog,
    table: &LoadedTable,
    ids: &[i64],
) -> Result<LoadedTable, CommitError> {
    let mut builder = TableMetadataBuilder::new_from_metadata(
        (*table.metadata).clone(),
        Some(table.metadata_location.clone()),
    )
    .remove_snapshots(ids);
    for id in ids {
        builder = builder
            .remove_statistics(*id)
            .remove_partition_statistics(*id);
    }
    let metadata = builder
        .build()
        .map_err(|source| CommitError::Iceberg {
            table: table.name(),
            context: "removing expired snapshots".into(),
            source,
        })?
        .metadata;
    Ok(catalog.commit_table(table, metadata).await?)
}

#[cfg(test)]
mod tests;

//! Manifest merging on commit: the number of manifests in a snapshot stays
//! bounded, as the Java library's `commit.manifest.min-count-to-merge` and
//! `commit.manifest.target-size-bytes` keep it.
//!
//! Every commit adds a manifest or two; without merging, a table committed
//! every second has tens of thousands of manifests a day, and every reader
//! opens each of them. Here the manifests a new snapshot carries over from
//! its parent are grouped by content (data or deletes) and partition spec,
//! and each group is packed, oldest first, into bins of about the target
//! size. A bin of several manifests is rewritten as one, except the bin of
//! the newest manifests while it holds fewer than the minimum count: so a
//! merge happens about once every `min-count-to-merge` commits, rewrites at
//! most a target size of manifests, and full bins are left alone.
//!
//! A merged manifest keeps every live entry as `EXISTING` with its original
//! snapshot id and sequence numbers, so which deletes apply to which rows
//! does not change; `DELETED` entries of earlier snapshots are dropped. The
//! manifests it replaces stay reachable from older snapshots until expiry
//! removes them.

use std::collections::HashMap;

use iceberg::io::FileIO;
use iceberg::spec::{
    ManifestContentType, ManifestFile, ManifestStatus, ManifestWriterBuilder, SchemaRef,
    TableMetadata,
};

use super::{CommitError, table_property};

/// Table property: merge manifests on commit.
pub const MERGE_ENABLED: &str = "commit.manifest-merge.enabled";
/// Table property: the least number of manifests merged at once.
pub const MIN_COUNT_TO_MERGE: &str = "commit.manifest.min-count-to-merge";
/// Table property: the size merged manifests are packed to.
pub const TARGET_SIZE_BYTES: &str = "commit.manifest.target-size-bytes";

/// The default of [`MIN_COUNT_TO_MERGE`] (the Java library's).
pub const DEFAULT_MIN_COUNT_TO_MERGE: usize = 100;
/// The default of [`TARGET_SIZE_BYTES`] (the Java library's): 8 MiB.
pub const DEFAULT_TARGET_SIZE_BYTES: u64 = 8 << 20;

/// When a table's manifests are merged, from its properties.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct MergePolicy {
    /// Merge at all.
    pub enabled: bool,
    /// The newest bin is merged once it holds this many manifests.
    pub min_count: usize,
    /// Bins are packed to about this many bytes of manifests.
    pub target_bytes: u64,
}

impl MergePolicy {
    /// The policy a table's properties give; absent or unparsable values
    /// take the defaults.
    pub fn from_properties(properties: &HashMap<String, String>) -> Self {
        MergePolicy {
            enabled: table_property(properties, MERGE_ENABLED, true),
            min_count: table_property(properties, MIN_COUNT_TO_MERGE, DEFAULT_MIN_COUNT_TO_MERGE)
                .max(2),
            target_bytes: table_property(properties, TARGET_SIZE_BYTES, DEFAULT_TARGET_SIZE_BYTES)
                .max(1),
        }
    }
}

/// Where merged manifests are written, and what has been written.
pub struct MergeTarget<'a> {
    /// The table's file IO.
    pub file_io: &'a FileIO,
    /// The table, `namespace.name`, for errors.
    pub table: &'a str,
    /// The new snapshot's id: merged manifests are added by it.
    pub snapshot_id: i64,
    /// The path of the merged manifest numbered `n`.
    pub path: &'a dyn Fn(usize) -> String,
    /// Paths written, removed again if the commit fails.
    pub written: &'a mut Vec<String>,
}

/// What [`merge_manifests`] made of the carried manifests.
#[derive(Debug, Default)]
pub struct Merged {
    /// The manifests for the new list, in the carried order: each merged
    /// manifest takes the place of the newest manifest it replaces.
    pub manifests: Vec<ManifestFile>,
    /// Merged manifests written.
    pub created: usize,
    /// Carried manifests merged into them.
    pub replaced: usize,
}

impl Merged {
    /// Carried manifests kept as they were.
    pub fn kept(&self) -> usize {
        self.manifests.len() - self.created
    }
}

/// The manifests `carried` (the parent snapshot's, newest first) with the
/// bins that are due merged.
pub async fn merge_manifests(
    metadata: &TableMetadata,
    policy: MergePolicy,
    carried: Vec<ManifestFile>,
    target: &mut MergeTarget<'_>,
) -> Result<Merged, CommitError> {
    let unmerged = |manifests| Merged {
        manifests,
        ..Merged::default()
    };
    if !policy.enabled || carried.len() < 2 {
        return Ok(unmerged(carried));
    }
    let mut groups: HashMap<(bool, i32), Vec<usize>> = HashMap::new();
    for (at, manifest) in carried.iter().enumerate() {
        let deletes = manifest.content == ManifestContentType::Deletes;
        groups
            .entry((deletes, manifest.partition_spec_id))
            .or_default()
            .push(at);
    }
    // replaced[at]: the merged manifest that takes manifest `at`'s place, or
    // `None` when it is dropped (merged into a newer one's place).
    let mut replaced: HashMap<usize, Option<ManifestFile>> = HashMap::new();
    let mut merged = 0;
    for ((deletes, spec_id), members) in groups {
        let sizes: Vec<u64> = members
            .iter()
            .map(|&at| carried[at].manifest_length as u64)
            .collect();
        for (index, bin) in pack_oldest_first(&sizes, policy.target_bytes)
            .into_iter()
            .enumerate()
        {
            let newest_bin = index == 0;
            if bin.len() < 2 || (newest_bin && bin.len() < policy.min_count) {
                continue;
            }
            let inputs: Vec<&ManifestFile> = bin.iter().map(|&i| &carried[members[i]]).collect();
            let path = (target.path)(merged);
            merged += 1;
            let manifest = merge_bin(metadata, deletes, spec_id, &inputs, &path, target).await?;
            replaced.insert(members[bin[0]], Some(manifest));
            for &i in &bin[1..] {
                replaced.insert(members[i], None);
            }
        }
    }
    if replaced.is_empty() {
        return Ok(unmerged(carried));
    }
    let replaced_count = replaced.len();
    let mut out = Vec::with_capacity(carried.len());
    for (at, manifest) in carried.into_iter().enumerate() {
        match replaced.remove(&at) {
            None => out.push(manifest),
            Some(Some(merged)) => out.push(merged),
            Some(None) => {}
        }
    }
    Ok(Merged {
        manifests: out,
        created: merged,
        replaced: replaced_count,
    })
}

/// Packs items of `sizes` (newest first) into bins of at most `target`
/// bytes (an item larger than that is a bin of its own), filling from the
/// oldest, so that the newest bin is the one left partly filled. Returns
/// the bins newest first, each a list of item indices, newest first.
fn pack_oldest_first(sizes: &[u64], target: u64) -> Vec<Vec<usize>> {
    let mut bins: Vec<Vec<usize>> = Vec::new();
    let mut current: Vec<usize> = Vec::new();
    let mut filled = 0u64;
    for at in (0..sizes.len()).rev() {
        if !current.is_empty() && filled + sizes[at] > target {
            bins.push(std::mem::take(&mut current));
            filled = 0;
        }
        current.push(at);
        filled += sizes[at];
    }
    if !current.is_empty() {
        bins.push(current);
    }
    bins.reverse();
    for bin in &mut bins {
        bin.reverse();
    }
    bins
}

/// Writes the live entries of `inputs` into one manifest at `path`.
async fn merge_bin(
    metadata: &TableMetadata,
    deletes: bool,
    spec_id: i32,
    inputs: &[&ManifestFile],
    path: &str,
    target: &mut MergeTarget<'_>,
) -> Result<ManifestFile, CommitError> {
    let table = target.table;
    let iceberg = |context: String| {
        move |source| CommitError::Iceberg {
            table: table.to_string(),
            context,
            source,
        }
    };
    let spec = metadata
        .partition_spec_by_id(spec_id)
        .ok_or_else(|| CommitError::Unsupported {
            table: table.to_string(),
            reason: format!("a manifest names partition spec {spec_id}, which the table lacks"),
        })?;
    let schema: SchemaRef = metadata.current_schema().clone();
    let output = target
        .file_io
        .new_output(path)
        .map_err(iceberg(format!("creating {path}")))?;
    target.written.push(path.to_string());
    let builder =
        ManifestWriterBuilder::new(output, Some(target.snapshot_id), schema, (**spec).clone());
    let mut writer = if deletes {
        builder.build_v2_deletes()
    } else {
        builder.build_v2_data()
    };
    for input in inputs {
        let manifest = input
            .load_manifest(target.file_io)
            .await
            .map_err(iceberg(format!("reading {}", input.manifest_path)))?;
        for entry in manifest.entries() {
            if entry.status() == ManifestStatus::Deleted {
                continue;
            }
            let (Some(snapshot_id), Some(sequence_number)) =
                (entry.snapshot_id(), entry.sequence_number())
            else {
                return Err(CommitError::Unsupported {
                    table: table.to_string(),
                    reason: format!(
                        "an entry of {} has no snapshot id or sequence number",
                        input.manifest_path
                    ),
                });
            };
            writer
                .add_existing_file(
                    entry.data_file().clone(),
                    snapshot_id,
                    sequence_number,
                    entry.file_sequence_number.or(Some(sequence_number)),
                )
                .map_err(iceberg(format!("adding an entry to {path}")))?;
        }
    }
    writer
        .write_manifest_file()
        .await
        .map_err(iceberg(format!("writing {path}")))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bins_fill_from_the_oldest_and_the_newest_is_the_partial_one() {
        // Newest first: sizes of 7 manifests.
        let bins = pack_oldest_first(&[1, 1, 1, 4, 4, 4, 4], 8);
        assert_eq!(bins, vec![vec![0, 1, 2], vec![3, 4], vec![5, 6]]);
        assert_eq!(pack_oldest_first(&[20, 1], 8), vec![vec![0], vec![1]]);
    }

    #[test]
    fn policy_defaults_and_properties() {
        let defaults = MergePolicy::from_properties(&HashMap::new());
        assert_eq!(
            defaults,
            MergePolicy {
                enabled: true,
                min_count: 100,
                target_bytes: 8 << 20
            }
        );
        let properties: HashMap<String, String> = [
            (MERGE_ENABLED, "false"),
            (MIN_COUNT_TO_MERGE, "5"),
            (TARGET_SIZE_BYTES, "x"),
        ]
        .into_iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect();
        let policy = MergePolicy::from_properties(&properties);
        assert!(!policy.enabled);
        assert_eq!(policy.min_count, 5);
        assert_eq!(policy.target_bytes, 8 << 20);
    }
}

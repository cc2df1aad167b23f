//! Which files a compaction rewrites: the current snapshot's data files
//! below the small-file size or with a high share of deleted rows, per
//! partition, within the cycle's budget.
//!
//! A position delete file is matched to its data file by
//! `referenced_data_file`, else by equal `file_path` lower and upper
//! bounds (floe's and the Java library's file-scoped deletes); one that
//! spans several data files ("partition-scoped", as older writers wrote
//! them) is read, and removed only when every row it deletes is in a
//! rewritten file. A data file's deleted share counts its file-scoped
//! deletes only.

use std::collections::{HashMap, HashSet};
use std::sync::Arc;

use futures::StreamExt;
use iceberg::io::FileIO;
use iceberg::spec::{
    DataContentType, DataFile, Datum, Manifest, ManifestFile, ManifestStatus, PrimitiveLiteral,
    Struct, TableMetadata,
};

use super::CompactError;
use super::policy::CompactPolicy;
use crate::commit::manifest_list::read_manifest_list;
use crate::table::files::DELETE_FILE_PATH_ID;

/// A live data file of the snapshot.
#[derive(Debug, Clone)]
pub struct LiveData {
    /// The file as its manifest entry describes it.
    pub file: DataFile,
    /// Its partition spec.
    pub spec_id: i32,
    /// Its data sequence number.
    pub seq: i64,
    /// Rows its file-scoped position deletes delete (an upper bound: a
    /// position may be deleted twice).
    pub deleted: u64,
}

/// A live position delete file of the snapshot.
#[derive(Debug, Clone)]
pub struct LiveDelete {
    /// The file as its manifest entry describes it.
    pub file: DataFile,
    /// Its partition spec.
    pub spec_id: i32,
    /// Its data sequence number.
    pub seq: i64,
    /// The one data file it deletes from, when it says so.
    pub target: Option<String>,
}

/// The current snapshot as compaction sees it.
#[derive(Debug, Default)]
pub struct Snapshot {
    /// Its manifests, loaded.
    pub manifests: Vec<(ManifestFile, Arc<Manifest>)>,
    /// Live data files.
    pub data: Vec<LiveData>,
    /// Live position delete files.
    pub deletes: Vec<LiveDelete>,
    /// Live equality delete files.
    pub equality_deletes: usize,
}

/// The data files of one partition to rewrite together.
#[derive(Debug, Clone)]
pub struct Group {
    /// The partition spec.
    pub spec_id: i32,
    /// The partition.
    pub partition: Struct,
    /// The files, oldest first (indices into [`Snapshot::data`]).
    pub files: Vec<usize>,
}

/// Reads the current snapshot's manifests and sorts their live entries.
pub async fn read_snapshot(
    file_io: &FileIO,
    table: &str,
    metadata: &TableMetadata,
) -> Result<Snapshot, CompactError> {
    let Some(snapshot) = metadata.current_snapshot() else {
        return Ok(Snapshot::default());
    };
    let list = read_manifest_list(
        file_io,
        table,
        snapshot.manifest_list(),
        metadata.format_version(),
    )
    .await?;
    let loaded: Vec<_> = futures::stream::iter(list)
        .map(|m| async move { (m.load_manifest(file_io).await, m) })
        .buffered(8)
        .collect()
        .await;
    let mut out = Snapshot::default();
    for (manifest, file) in loaded {
        let manifest = manifest.map_err(|source| CompactError::Iceberg {
            table: table.to_string(),
            context: format!("reading {}", file.manifest_path),
            source,
        })?;
        for entry in manifest.entries() {
            if entry.status() == ManifestStatus::Deleted {
                continue;
            }
            let df = entry.data_file().clone();
            let seq = entry.sequence_number().unwrap_or(0);
            let spec_id = file.partition_spec_id;
            match df.content_type() {
                DataContentType::Data => out.data.push(LiveData {
                    file: df,
                    spec_id,
                    seq,
                    deleted: 0,
                }),
                DataContentType::PositionDeletes => {
                    let target = referenced_file(&df);
                    out.deletes.push(LiveDelete {
                        file: df,
                        spec_id,
                        seq,
                        target,
                    })
                }
                DataContentType::EqualityDeletes => out.equality_deletes += 1,
            }
        }
        out.manifests.push((file, Arc::new(manifest)));
    }
    let by_path: HashMap<&str, usize> = out
        .data
        .iter()
        .enumerate()
        .map(|(i, d)| (d.file.file_path(), i))
        .collect();
    let mut deleted = vec![0u64; out.data.len()];
    for delete in &out.deletes {
        if let Some(&i) = delete.target.as_deref().and_then(|t| by_path.get(t))
            && out.data[i].seq <= delete.seq
        {
            deleted[i] += delete.file.record_count();
        }
    }
    for (data, deleted) in out.data.iter_mut().zip(deleted) {
        data.deleted = deleted;
    }
    Ok(out)
}

/// The one data file a position delete file deletes from: its
/// `referenced_data_file`, else its `file_path` bounds when they are equal.
pub fn referenced_file(file: &DataFile) -> Option<String> {
    if let Some(path) = file.referenced_data_file() {
        return Some(path);
    }
    let text = |d: Option<&Datum>| match d.map(Datum::literal) {
        Some(PrimitiveLiteral::String(s)) => Some(s.clone()),
        _ => None,
    };
    let lower = text(file.lower_bounds().get(&DELETE_FILE_PATH_ID))?;
    let upper = text(file.upper_bounds().get(&DELETE_FILE_PATH_ID))?;
    (lower == upper).then_some(lower)
}

/// The groups to rewrite under `policy`: per partition, the candidates
/// (small or with a deleted share at the threshold), oldest first, when
/// there are at least `min_input_files` of them or one has that share;
/// partitions with the most candidates first, until the budget is spent.
pub fn pick(snapshot: &Snapshot, policy: &CompactPolicy) -> Vec<Group> {
    let mut partitions: HashMap<(i32, Struct), Vec<usize>> = HashMap::new();
    for (i, data) in snapshot.data.iter().enumerate() {
        partitions
            .entry((data.spec_id, data.file.partition().clone()))
            .or_default()
            .push(i);
    }
    let ratio = |d: &LiveData| d.deleted as f64 / d.file.record_count().max(1) as f64;
    let mut due: Vec<Group> = Vec::new();
    for ((spec_id, partition), files) in partitions {
        let mut candidates: Vec<usize> = files
            .into_iter()
            .filter(|&i| {
                let d = &snapshot.data[i];
                d.file.file_size_in_bytes() < policy.small_file_bytes
                    || (d.deleted > 0 && ratio(d) >= policy.delete_ratio)
            })
            .collect();
        candidates.sort_by(|&a, &b| {
            let (a, b) = (&snapshot.data[a], &snapshot.data[b]);
            a.seq
                .cmp(&b.seq)
                .then_with(|| a.file.file_path().cmp(b.file.file_path()))
        });
        if candidates.is_empty() {
            continue;
        }
        due.push(Group {
            spec_id,
            partition,
            files: candidates,
        });
    }
    // Most candidates first; then by the oldest file's path, for a stable order.
    due.sort_by(|a, b| {
        b.files.len().cmp(&a.files.len()).then_with(|| {
            let path = |g: &Group| snapshot.data[g.files[0]].file.file_path();
            path(a).cmp(path(b))
        })
    });
    let mut bytes = 0u64;
    let mut count = 0usize;
    let mut out = Vec::new();
    for mut group in due {
        let mut taken = Vec::new();
        for i in group.files {
            let size = snapshot.data[i].file.file_size_in_bytes();
            // Within the budget; a first file larger than it is taken alone.
            if count + 1 > policy.max_files || (bytes + size > policy.max_bytes && bytes > 0) {
                break;
            }
            taken.push(i);
            bytes += size;
            count += 1;
        }
        let worth = taken.len() >= policy.min_input_files
            || taken.iter().any(|&i| {
                let d = &snapshot.data[i];
                d.deleted > 0 && ratio(d) >= policy.delete_ratio
            });
        if worth {
            group.files = taken;
            out.push(group);
        } else {
            for &i in &taken {
                bytes -= snapshot.data[i].file.file_size_in_bytes();
            }
            count -= taken.len();
        }
        if count >= policy.max_files || bytes >= policy.max_bytes {
            break;
        }
    }
    out
}

/// The rewritten files' paths.
pub fn rewritten_paths(snapshot: &Snapshot, groups: &[Group]) -> HashSet<String> {
    groups
        .iter()
        .flat_map(|g| g.files.iter())
        .map(|&i| snapshot.data[i].file.file_path().to_string())
        .collect()
}

//! Orphan files: files under a table's location that no metadata the
//! catalog points at reaches, left by a commit that never landed (a crash,
//! a lost race, an error between writing a file and committing it).
//!
//! A file is an orphan when it is older than the table's safety margin
//! ([`ORPHAN_MIN_AGE_MS`], floe's default one day, as the Java library's
//! `DeleteOrphanFiles` keeps three) and not reachable from the current
//! metadata: its metadata file and those in its `metadata-log`, every
//! snapshot's manifest list, every manifest those name, every data and
//! delete file those manifests name (in entries of any status), and the
//! statistics files. The margin keeps the files of a commit in flight, by
//! this or any other writer, out of reach.
//!
//! Listing reads the local file system; a table on object storage is left
//! alone (and says so once).

use std::collections::HashSet;
use std::path::{Path, PathBuf};
use std::time::{Duration, SystemTime};

use iceberg::io::FileIO;
use iceberg::spec::TableMetadata;

use super::unreachable::manifest_file_paths;
use crate::commit::CommitError;
use crate::commit::manifest_list::read_manifest_list;

/// Table property (floe's): files younger than this many milliseconds are
/// never orphans.
pub const ORPHAN_MIN_AGE_MS: &str = "floe.orphans.min-age-ms";
/// floe's default of [`ORPHAN_MIN_AGE_MS`]: one day.
pub const DEFAULT_ORPHAN_MIN_AGE_MS: u64 = 86_400_000;
/// Table property (floe's): the least time between two orphan sweeps of a table.
pub const ORPHAN_INTERVAL_MS: &str = "floe.orphans.interval-ms";
/// floe's default of [`ORPHAN_INTERVAL_MS`]: one hour.
pub const DEFAULT_ORPHAN_INTERVAL_MS: u64 = 3_600_000;

/// Every file the table's current metadata (at `metadata_location`) reaches.
pub async fn reachable_files(
    file_io: &FileIO,
    table: &str,
    metadata_location: &str,
    metadata: &TableMetadata,
) -> Result<HashSet<String>, CommitError> {
    let version = metadata.format_version();
    let mut reachable: HashSet<String> = HashSet::new();
    reachable.insert(metadata_location.to_string());
    reachable.extend(
        metadata
            .metadata_log()
            .iter()
            .map(|m| m.metadata_file.clone()),
    );
    reachable.extend(
        metadata
            .statistics_iter()
            .map(|s| s.statistics_path.clone())
            .chain(
                metadata
                    .partition_statistics_iter()
                    .map(|s| s.statistics_path.clone()),
            ),
    );
    let mut manifests = Vec::new();
    for snapshot in metadata.snapshots() {
        if !reachable.insert(snapshot.manifest_list().to_string()) {
            continue;
        }
        for manifest in
            read_manifest_list(file_io, table, snapshot.manifest_list(), version).await?
        {
            if reachable.insert(manifest.manifest_path.clone()) {
                manifests.push(manifest);
            }
        }
    }
    for manifest in manifests {
        reachable.extend(manifest_file_paths(file_io, table, &manifest).await?);
    }
    Ok(reachable)
}

/// The files under `location` (a table's location, on the local file
/// system) that are older than `min_age` and not in `reachable`, as the
/// locations the metadata would name them by. `None` when the location is
/// not a local folder.
pub fn orphan_files(
    location: &str,
    reachable: &HashSet<String>,
    min_age: Duration,
    now: SystemTime,
) -> std::io::Result<Option<Vec<String>>> {
    let Some(root) = local_path(location) else {
        return Ok(None);
    };
    // Reachable files as local paths, whatever form of the location names them.
    let reachable: HashSet<PathBuf> = reachable.iter().filter_map(|f| local_path(f)).collect();
    let mut found = Vec::new();
    walk(&root, &mut found)?;
    let mut orphans = Vec::new();
    for (path, modified) in found {
        let old = now.duration_since(modified).is_ok_and(|age| age >= min_age);
        if old && !reachable.contains(&path) {
            orphans.push(path.to_string_lossy().into_owned());
        }
    }
    orphans.sort();
    Ok(Some(orphans))
}

/// The local path a location names: a plain path, or a `file:` URI.
fn local_path(location: &str) -> Option<PathBuf> {
    let path = match location.split_once("://") {
        Some(("file", rest)) => rest,
        Some(_) => return None,
        None => location.strip_prefix("file:").unwrap_or(location),
    };
    Some(Path::new(path).components().collect())
}

/// Every file under `dir` with its modification time; a missing folder has none.
fn walk(dir: &Path, out: &mut Vec<(PathBuf, SystemTime)>) -> std::io::Result<()> {
    let entries = match std::fs::read_dir(dir) {
        Ok(entries) => entries,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(()),
        Err(e) => return Err(e),
    };
    for entry in entries {
        let entry = entry?;
        let kind = entry.file_type()?;
        if kind.is_dir() {
            walk(&entry.path(), out)?;
        } else if kind.is_file() {
            out.push((entry.path(), entry.metadata()?.modified()?));
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn age(path: &Path, ago: Duration) {
        let file = std::fs::File::options().write(true).open(path).unwrap();
        file.set_modified(SystemTime::now() - ago).unwrap();
    }

    #[test]
    fn old_unreachable_files_are_orphans_and_nothing_else() {
        let dir = tempfile::tempdir().unwrap();
        let table = dir.path().join("inventory").join("customers");
        std::fs::create_dir_all(table.join("data/region=eu")).unwrap();
        std::fs::create_dir_all(table.join("metadata")).unwrap();
        let live = table.join("data/region=eu/live.parquet");
        let lost = table.join("data/region=eu/lost.parquet");
        let young = table.join("data/young.parquet");
        let metadata = table.join("metadata/00001.metadata.json");
        for file in [&live, &lost, &young, &metadata] {
            std::fs::write(file, b"x").unwrap();
        }
        for file in [&live, &lost, &metadata] {
            age(file, Duration::from_secs(7200));
        }
        let reachable: HashSet<String> = [
            format!("file://{}", live.display()),
            metadata.display().to_string(),
        ]
        .into();
        let location = format!("file://{}", table.display());
        let orphans = orphan_files(
            &location,
            &reachable,
            Duration::from_secs(3600),
            SystemTime::now(),
        )
        .unwrap()
        .unwrap();
        assert_eq!(orphans, vec![lost.display().to_string()]);
    }

    #[test]
    fn object_storage_is_not_listed() {
        let listed = orphan_files(
            "s3://bucket/inventory/customers",
            &HashSet::new(),
            Duration::ZERO,
            SystemTime::now(),
        )
        .unwrap();
        assert!(listed.is_none());
    }
}

//! floe's row-delta commit: data files and position delete files in one
//! snapshot, built on the iceberg crate's spec types. The crate (0.10) can
//! only fast-append; this module is the one place to replace when it gains a
//! row-delta action.
//!
//! Layout of one commit of table `<loc>` (snapshot id `S`, commit uuid `U`):
//!
//! - `<loc>/metadata/U-m<n>.avro`: a data manifest (status ADDED, data
//!   sequence number = the snapshot's) per partition spec of the new data
//!   files, then a delete manifest (content = deletes) per partition spec of
//!   the new position delete files;
//! - `<loc>/metadata/snap-S-1-U.avro`: the manifest list: the new manifests,
//!   then every manifest of the parent snapshot (none after a truncate),
//!   those that are due merged into `<loc>/metadata/U-merged-m<n>.avro`
//!   (see [`super::merge`]);
//! - the snapshot: operation `append` (no deletes), `overwrite` (data and
//!   deletes) or `delete` (deletes only); summary: the spec's `added-*`,
//!   `deleted-*`, `removed-*` and `total-*` counters, `manifests-created`,
//!   `manifests-kept` and `manifests-replaced` (as the Java library writes
//!   them), `floe.pipeline`,
//!   `floe.offsets` (cumulative, see [`super::offsets`]) and `floe.plugins`;
//! - a new metadata file (with the new current schema first, when the schema
//!   evolved) swapped in by [`Catalog::commit_table`].
//!
//! A truncate drops the parent's manifests from the new manifest list: the
//! snapshot then holds only this commit's files, and its `deleted-data-files`,
//! `deleted-records`, `removed-delete-files`, `removed-position-deletes`,
//! `removed-equality-deletes` and `removed-files-size` are the parent's totals.

use std::collections::{BTreeMap, HashMap};
use std::time::{SystemTime, UNIX_EPOCH};

use iceberg::io::FileIO;
use iceberg::spec::{
    DataFile, FormatVersion, MAIN_BRANCH, ManifestFile, ManifestListWriter, ManifestWriterBuilder,
    Operation, Schema, SchemaRef, Snapshot, SnapshotSummaryCollector, Summary, TableMetadata,
    TableMetadataBuilder,
};
use tracing::{debug, info};
use uuid::Uuid;

use super::catalog::{Catalog, LoadedTable};
use super::manifest_list::read_manifest_list;
use super::merge::{MergePolicy, MergeTarget, merge_manifests};
use super::offsets::{
    Offsets, SUMMARY_OFFSETS, SUMMARY_PIPELINE, SUMMARY_PLUGINS, latest_floe_snapshot,
};
use super::{CatalogError, CommitError};

/// What one commit adds to a table.
#[derive(Debug, Clone, Default)]
pub struct RowDelta {
    /// New data files, by partition spec id.
    pub data_files: BTreeMap<i32, Vec<DataFile>>,
    /// New position delete files, by partition spec id (that of the data
    /// files whose rows they delete).
    pub delete_files: BTreeMap<i32, Vec<DataFile>>,
    /// Drop every file of the parent snapshot first.
    pub truncate: bool,
    /// A new current schema (schema evolution), added before the snapshot.
    pub schema: Option<Schema>,
    /// The pipeline id written as `floe.pipeline`.
    pub pipeline: String,
    /// This commit's next offsets; merged over those of the pipeline's
    /// previous snapshot into `floe.offsets` (per partition, the larger wins).
    pub offsets: Offsets,
    /// Plugin name → sha256, written as `floe.plugins`.
    pub plugins: BTreeMap<String, String>,
}

impl RowDelta {
    /// Whether the delta adds or removes any file.
    pub fn changes_files(&self) -> bool {
        self.truncate
            || self.data_files.values().any(|v| !v.is_empty())
            || self.delete_files.values().any(|v| !v.is_empty())
    }

    fn operation(&self) -> Operation {
        let adds_data = self.data_files.values().any(|v| !v.is_empty());
        let removes = self.truncate || self.delete_files.values().any(|v| !v.is_empty());
        match (adds_data, removes) {
            (_, false) => Operation::Append,
            (true, true) => Operation::Overwrite,
            (false, true) => Operation::Delete,
        }
    }
}

fn iceberg_err(
    table: &str,
    context: impl Into<String>,
) -> impl FnOnce(iceberg::Error) -> CommitError {
    let table = table.to_string();
    let context = context.into();
    move |source| CommitError::Iceberg {
        table,
        context,
        source,
    }
}

/// Commits `delta` on top of `base` (the table as loaded): writes the
/// manifests, the manifest list and the metadata file, then swaps the
/// catalog's pointer. Returns the table as committed.
///
/// A lost compare-and-swap is a [`CommitError::is_conflict`] error; the
/// manifests and manifest list written for it are removed again.
pub async fn commit_row_delta(
    catalog: &Catalog,
    base: &LoadedTable,
    delta: RowDelta,
) -> Result<LoadedTable, CommitError> {
    let table = base.name();
    let file_io = catalog.file_io();
    let mut metadata: TableMetadata = (*base.metadata).clone();
    let mut history = Some(base.metadata_location.clone());
    match metadata.format_version() {
        FormatVersion::V2 => {}
        FormatVersion::V1 => {
            metadata = TableMetadataBuilder::new_from_metadata(metadata, history.take())
                .upgrade_format_version(FormatVersion::V2)
                .and_then(|b| b.build())
                .map_err(iceberg_err(&table, "upgrading to format v2"))?
                .metadata;
        }
        FormatVersion::V3 => {
            return Err(CommitError::Unsupported {
                table,
                reason: "format v3 tables are not supported yet (row lineage)".into(),
            });
        }
    }
    if let Some(schema) = delta.schema.clone() {
        metadata = TableMetadataBuilder::new_from_metadata(metadata, history.take())
            .add_current_schema(schema)
            .and_then(|b| b.build())
            .map_err(iceberg_err(&table, "adding the evolved schema"))?
            .metadata;
    }
    let schema: SchemaRef = metadata.current_schema().clone();
    let parent = metadata.current_snapshot().cloned();
    let sequence_number = metadata.next_sequence_number();
    let snapshot_id = new_snapshot_id(&metadata);
    let commit_uuid = Uuid::new_v4();
    let metadata_dir = format!("{}/metadata", metadata.location().trim_end_matches('/'));
    let mut written: Vec<String> = Vec::new();

    let result = async {
        let mut summary = SnapshotSummaryCollector::default();
        let mut new_manifests: Vec<ManifestFile> = Vec::new();
        let mut n = 0;
        for (deletes, files_by_spec) in [(false, &delta.data_files), (true, &delta.delete_files)] {
            for (spec_id, files) in files_by_spec {
                if files.is_empty() {
                    continue;
                }
                let spec = metadata
                    .partition_spec_by_id(*spec_id)
                    .ok_or_else(|| CommitError::Unsupported {
                        table: table.clone(),
                        reason: format!("no partition spec {spec_id}"),
                    })?
                    .clone();
                let path = format!("{metadata_dir}/{commit_uuid}-m{n}.avro");
                n += 1;
                let output = file_io
                    .new_output(&path)
                    .map_err(iceberg_err(&table, format!("creating {path}")))?;
                written.push(path.clone());
                let builder = ManifestWriterBuilder::new(
                    output,
                    Some(snapshot_id),
                    schema.clone(),
                    (*spec).clone(),
                );
                let mut writer = if deletes {
                    builder.build_v2_deletes()
                } else {
                    builder.build_v2_data()
                };
                for file in files {
                    summary.add_file(file, schema.clone(), spec.clone());
                    writer
                        .add_file(file.clone(), sequence_number)
                        .map_err(iceberg_err(&table, format!("adding {} to {path}", file.file_path())))?;
                }
                new_manifests.push(
                    writer
                        .write_manifest_file()
                        .await
                        .map_err(iceberg_err(&table, format!("writing {path}")))?,
                );
            }
        }

        let parent_manifests = match (&parent, delta.truncate) {
            (Some(parent), false) => {
                read_manifest_list(
                    file_io,
                    &table,
                    parent.manifest_list(),
                    metadata.format_version(),
                )
                .await?
            }
            _ => Vec::new(),
        };
        let merged_path = |n: usize| format!("{metadata_dir}/{commit_uuid}-merged-m{n}.avro");
        let merged = merge_manifests(
            &metadata,
            MergePolicy::from_properties(metadata.properties()),
            parent_manifests,
            &mut MergeTarget {
                file_io,
                table: &table,
                snapshot_id,
                path: &merged_path,
                written: &mut written,
            },
        )
        .await?;
        let manifest_counts = [
            (SUMMARY_MANIFESTS_CREATED, new_manifests.len() + merged.created),
            (SUMMARY_MANIFESTS_KEPT, merged.kept()),
            (SUMMARY_MANIFESTS_REPLACED, merged.replaced),
        ];

        let list_path = format!("{metadata_dir}/snap-{snapshot_id}-1-{commit_uuid}.avro");
        let list_out = file_io
            .new_output(&list_path)
            .map_err(iceberg_err(&table, format!("creating {list_path}")))?;
        written.push(list_path.clone());
        let mut list = ManifestListWriter::v2(
            list_out
                .writer()
                .await
                .map_err(iceberg_err(&table, format!("creating {list_path}")))?,
            snapshot_id,
            parent.as_ref().map(|p| p.snapshot_id()),
            sequence_number,
        );
        list.add_manifests(new_manifests.into_iter().chain(merged.manifests))
            .map_err(iceberg_err(&table, format!("writing {list_path}")))?;
        list.close()
            .await
            .map_err(iceberg_err(&table, format!("writing {list_path}")))?;

        let previous = parent.as_ref().map(|p| &p.summary().additional_properties);
        let mut properties = summary.build();
        for (key, count) in manifest_counts {
            properties.insert(key.into(), count.to_string());
        }
        add_totals(&mut properties, previous, delta.truncate);
        properties.insert(SUMMARY_PIPELINE.into(), delta.pipeline.clone());
        let carried = latest_floe_snapshot(&metadata, &delta.pipeline)
            .and_then(|s| s.summary().additional_properties.get(SUMMARY_OFFSETS))
            .and_then(|text| Offsets::from_json(text))
            .unwrap_or_default();
        properties.insert(
            SUMMARY_OFFSETS.into(),
            carried.advanced_by(&delta.offsets).to_json(),
        );
        properties.insert(
            SUMMARY_PLUGINS.into(),
            serde_json::to_string(&delta.plugins).unwrap_or_else(|_| "{}".into()),
        );
        let operation = delta.operation();
        let snapshot = Snapshot::builder()
            .with_snapshot_id(snapshot_id)
            .with_parent_snapshot_id(parent.as_ref().map(|p| p.snapshot_id()))
            .with_sequence_number(sequence_number)
            .with_timestamp_ms(now_ms().max(metadata.last_updated_ms()))
            .with_manifest_list(list_path.clone())
            .with_summary(Summary {
                operation: operation.clone(),
                additional_properties: properties,
            })
            .with_schema_id(schema.schema_id())
            .build();
        let new_metadata = TableMetadataBuilder::new_from_metadata(metadata.clone(), history.clone())
            .set_branch_snapshot(snapshot, MAIN_BRANCH)
            .and_then(|b| b.build())
            .map_err(iceberg_err(&table, "adding the snapshot"))?
            .metadata;
        debug!(table = %table, snapshot_id, sequence_number, operation = operation.as_str(), "committing");
        let committed = catalog.commit_table(base, new_metadata).await?;
        info!(
            table = %table,
            snapshot_id,
            operation = operation.as_str(),
            data_files = delta.data_files.values().map(Vec::len).sum::<usize>(),
            delete_files = delta.delete_files.values().map(Vec::len).sum::<usize>(),
            truncate = delta.truncate,
            "snapshot committed"
        );
        Ok(committed)
    }
    .await;

    discard_written_on_failure(file_io, &written, &result).await;
    result
}

/// Deletes the files a commit attempt wrote (`written`) when the attempt
/// certainly did not land: a lost compare-and-swap, or a failure before the
/// catalog was asked. Any other error leaves them, since the commit may have
/// landed; orphan cleanup takes them later if it did not.
pub(crate) async fn discard_written_on_failure<T>(
    file_io: &FileIO,
    written: &[String],
    result: &Result<T, CommitError>,
) {
    if let Err(err) = result
        && matches!(
            err,
            CommitError::Catalog(CatalogError::CommitConflict { .. }) | CommitError::Iceberg { .. }
        )
    {
        for path in written {
            let _ = file_io.delete(path).await;
        }
    }
}

/// Summary key (the Java library's): manifests this snapshot wrote.
pub const SUMMARY_MANIFESTS_CREATED: &str = "manifests-created";
/// Summary key (the Java library's): manifests carried over unchanged.
pub const SUMMARY_MANIFESTS_KEPT: &str = "manifests-kept";
/// Summary key (the Java library's): carried manifests merged into new ones.
pub const SUMMARY_MANIFESTS_REPLACED: &str = "manifests-replaced";

/// A snapshot id not yet used by the table: random, positive.
pub(crate) fn new_snapshot_id(metadata: &TableMetadata) -> i64 {
    loop {
        let bytes = *Uuid::new_v4().as_bytes();
        let id = (i64::from_le_bytes(bytes[..8].try_into().unwrap_or_default()) & i64::MAX).max(1);
        if metadata.snapshot_by_id(id).is_none() {
            return id;
        }
    }
}

/// Milliseconds since the epoch, now.
pub(crate) fn now_ms() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_millis() as i64)
        .unwrap_or_default()
}

/// The spec's `total-*` counters: the previous snapshot's plus what was
/// added less what was removed (everything, after a truncate). A total the
/// previous snapshot lacks is left out, as Java does, unless the table had no
/// snapshot.
pub(crate) fn add_totals(
    properties: &mut HashMap<String, String>,
    previous: Option<&HashMap<String, String>>,
    truncate: bool,
) {
    const TOTALS: [(&str, &str, &str); 6] = [
        ("total-data-files", "added-data-files", "deleted-data-files"),
        (
            "total-delete-files",
            "added-delete-files",
            "removed-delete-files",
        ),
        ("total-records", "added-records", "deleted-records"),
        ("total-files-size", "added-files-size", "removed-files-size"),
        (
            "total-position-deletes",
            "added-position-deletes",
            "removed-position-deletes",
        ),
        (
            "total-equality-deletes",
            "added-equality-deletes",
            "removed-equality-deletes",
        ),
    ];
    let get = |map: &HashMap<String, String>, key: &str| -> Option<u64> {
        map.get(key).and_then(|v| v.parse().ok())
    };
    for (total, added, removed) in TOTALS {
        let before = match previous {
            None => Some(0),
            Some(prev) => get(prev, total),
        };
        let Some(before) = before else { continue };
        let add = get(properties, added).unwrap_or(0);
        let mut remove = get(properties, removed).unwrap_or(0);
        if truncate && before > 0 {
            remove += before;
            properties.insert(removed.to_string(), remove.to_string());
        }
        properties.insert(
            total.to_string(),
            (before + add).saturating_sub(remove).to_string(),
        );
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn totals_add_and_truncate() {
        let mut props: HashMap<String, String> = [
            ("added-data-files", "2"),
            ("added-records", "10"),
            ("added-delete-files", "1"),
            ("added-position-deletes", "3"),
        ]
        .into_iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect();
        let prev: HashMap<String, String> = [
            ("total-data-files", "5"),
            ("total-records", "50"),
            ("total-delete-files", "2"),
            ("total-position-deletes", "4"),
            ("total-equality-deletes", "0"),
        ]
        .into_iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect();
        let mut a = props.clone();
        add_totals(&mut a, Some(&prev), false);
        assert_eq!(a["total-data-files"], "7");
        assert_eq!(a["total-records"], "60");
        assert_eq!(a["total-delete-files"], "3");
        assert_eq!(a["total-position-deletes"], "7");
        assert_eq!(a["total-equality-deletes"], "0");
        assert!(!a.contains_key("total-files-size"));
        add_totals(&mut props, Some(&prev), true);
        assert_eq!(props["total-data-files"], "2");
        assert_eq!(props["deleted-data-files"], "5");
        assert_eq!(props["deleted-records"], "50");
        assert_eq!(props["total-records"], "10");
        assert_eq!(props["total-position-deletes"], "3");
        assert_eq!(props["removed-position-deletes"], "4");
    }
}

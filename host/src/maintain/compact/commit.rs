//! The `replace` snapshot of a compaction: the new data files in a new
//! manifest; each parent manifest that lists a removed data or delete file
//! rewritten with that entry `DELETED` and the others `EXISTING` (their
//! snapshot ids and sequence numbers kept, so which deletes apply to which
//! rows does not change); the other manifests carried as they are. The
//! summary has the spec's counters and totals, `manifests-created`,
//! `manifests-kept` and `manifests-replaced`, and the parent's `floe.*`
//! keys (`floe.pipeline`, `floe.offsets`, `floe.plugins`) unchanged: the
//! rows and the offsets they stand for are the same. Swapped in with the
//! catalog's compare-and-swap like every floe commit.

use std::collections::HashSet;

use iceberg::spec::{
    FormatVersion, MAIN_BRANCH, ManifestContentType, ManifestFile, ManifestListWriter,
    ManifestStatus, ManifestWriterBuilder, Operation, SchemaRef, Snapshot as IcebergSnapshot,
    SnapshotSummaryCollector, Summary, TableMetadataBuilder,
};
use tracing::debug;
use uuid::Uuid;

use super::plan::Snapshot;
use super::rewrite::Rewritten;
use crate::commit::row_delta::{
    SUMMARY_MANIFESTS_CREATED, SUMMARY_MANIFESTS_KEPT, SUMMARY_MANIFESTS_REPLACED, add_totals,
    discard_written_on_failure, new_snapshot_id, now_ms,
};
use crate::commit::{Catalog, CommitError, LoadedTable};

/// Commits the rewrite `rewritten` of `snapshot` (read from `base`'s
/// current snapshot) as a `replace` snapshot. Returns the table as
/// committed; a lost compare-and-swap is a [`CommitError::is_conflict`]
/// error, and the manifests written for it are removed again.
pub async fn commit_replace(
    catalog: &Catalog,
    base: &LoadedTable,
    snapshot: &Snapshot,
    rewritten: &Rewritten,
) -> Result<LoadedTable, CommitError> {
    let table = base.name();
    let file_io = catalog.file_io();
    let metadata = &base.metadata;
    if metadata.format_version() != FormatVersion::V2 {
        return Err(CommitError::Unsupported {
            table,
            reason: "compaction commits to format v2 tables only".into(),
        });
    }
    let Some(parent) = metadata.current_snapshot() else {
        return Err(CommitError::Unsupported {
            table,
            reason: "the table has no snapshot to compact".into(),
        });
    };
    let iceberg = |context: String| {
        let table = table.clone();
        move |source| CommitError::Iceberg {
            table,
            context,
            source,
        }
    };
    let schema: SchemaRef = metadata.current_schema().clone();
    let sequence_number = metadata.next_sequence_number();
    let snapshot_id = new_snapshot_id(metadata);
    let commit_uuid = Uuid::new_v4();
    let metadata_dir = format!("{}/metadata", metadata.location().trim_end_matches('/'));
    let mut written: Vec<String> = Vec::new();
    let removed: HashSet<&str> = rewritten
        .removed_data
        .iter()
        .chain(&rewritten.removed_deletes)
        .map(String::as_str)
        .collect();

    let result = async {
        let mut summary = SnapshotSummaryCollector::default();
        let mut manifests: Vec<ManifestFile> = Vec::new();
        let mut n = 0;
        let mut kept = 0usize;
        let mut replaced = 0usize;
        let no_spec = |spec_id: i32| CommitError::Unsupported {
            table: table.clone(),
            reason: format!("no partition spec {spec_id}"),
        };
        let mut specs: Vec<i32> = rewritten.added.iter().map(|(s, _)| *s).collect();
        specs.sort_unstable();
        specs.dedup();
        for spec_id in specs {
            let spec = metadata
                .partition_spec_by_id(spec_id)
                .cloned()
                .ok_or_else(|| no_spec(spec_id))?;
            let path = format!("{metadata_dir}/{commit_uuid}-m{n}.avro");
            n += 1;
            let output = file_io
                .new_output(&path)
                .map_err(iceberg(format!("creating {path}")))?;
            written.push(path.clone());
            let mut writer = ManifestWriterBuilder::new(
                output,
                Some(snapshot_id),
                schema.clone(),
                (*spec).clone(),
            )
            .build_v2_data();
            for (_, file) in rewritten.added.iter().filter(|(s, _)| *s == spec_id) {
                summary.add_file(file, schema.clone(), spec.clone());
                writer
                    .add_file(file.clone(), sequence_number)
                    .map_err(iceberg(format!("adding {} to {path}", file.file_path())))?;
            }
            manifests.push(
                writer
                    .write_manifest_file()
                    .await
                    .map_err(iceberg(format!("writing {path}")))?,
            );
        }
        for (file, manifest) in &snapshot.manifests {
            let touched = manifest
                .entries()
                .iter()
                .any(|e| e.status() != ManifestStatus::Deleted && removed.contains(e.file_path()));
            if !touched {
                manifests.push(file.clone());
                kept += 1;
                continue;
            }
            replaced += 1;
            let spec = metadata
                .partition_spec_by_id(file.partition_spec_id)
                .cloned()
                .ok_or_else(|| no_spec(file.partition_spec_id))?;
            let path = format!("{metadata_dir}/{commit_uuid}-m{n}.avro");
            n += 1;
            let output = file_io
                .new_output(&path)
                .map_err(iceberg(format!("creating {path}")))?;
            written.push(path.clone());
            let builder = ManifestWriterBuilder::new(
                output,
                Some(snapshot_id),
                schema.clone(),
                (*spec).clone(),
            );
            let mut writer = match file.content {
                ManifestContentType::Data => builder.build_v2_data(),
                ManifestContentType::Deletes => builder.build_v2_deletes(),
            };
            for entry in manifest.entries() {
                if entry.status() == ManifestStatus::Deleted {
                    continue;
                }
                let (Some(entry_snapshot), Some(seq)) =
                    (entry.snapshot_id(), entry.sequence_number())
                else {
                    return Err(CommitError::Unsupported {
                        table: table.clone(),
                        reason: format!(
                            "an entry of {} has no snapshot id or sequence number",
                            file.manifest_path
                        ),
                    });
                };
                let file_seq = entry.file_sequence_number.or(Some(seq));
                let df = entry.data_file().clone();
                if removed.contains(df.file_path()) {
                    summary.remove_file(&df, schema.clone(), spec.clone());
                    writer
                        .add_delete_file(df, seq, file_seq)
                        .map_err(iceberg(format!("removing an entry in {path}")))?;
                } else {
                    writer
                        .add_existing_file(df, entry_snapshot, seq, file_seq)
                        .map_err(iceberg(format!("keeping an entry in {path}")))?;
                }
            }
            manifests.push(
                writer
                    .write_manifest_file()
                    .await
                    .map_err(iceberg(format!("writing {path}")))?,
            );
        }

        let list_path = format!("{metadata_dir}/snap-{snapshot_id}-1-{commit_uuid}.avro");
        let list_out = file_io
            .new_output(&list_path)
            .map_err(iceberg(format!("creating {list_path}")))?;
        written.push(list_path.clone());
        let mut list = ManifestListWriter::v2(
            list_out
                .writer()
                .await
                .map_err(iceberg(format!("creating {list_path}")))?,
            snapshot_id,
            Some(parent.snapshot_id()),
            sequence_number,
        );
        list.add_manifests(manifests.into_iter())
            .map_err(iceberg(format!("writing {list_path}")))?;
        list.close()
            .await
            .map_err(iceberg(format!("writing {list_path}")))?;

        let previous = &parent.summary().additional_properties;
        let mut properties = summary.build();
        for (key, count) in [
            (SUMMARY_MANIFESTS_CREATED, n),
            (SUMMARY_MANIFESTS_KEPT, kept),
            (SUMMARY_MANIFESTS_REPLACED, replaced),
        ] {
            properties.insert(key.into(), count.to_string());
        }
        add_totals(&mut properties, Some(previous), false);
        for (key, value) in previous {
            if key.starts_with("floe.") {
                properties.insert(key.clone(), value.clone());
            }
        }
        let new_snapshot = IcebergSnapshot::builder()
            .with_snapshot_id(snapshot_id)
            .with_parent_snapshot_id(Some(parent.snapshot_id()))
            .with_sequence_number(sequence_number)
            .with_timestamp_ms(now_ms().max(metadata.last_updated_ms()))
            .with_manifest_list(list_path.clone())
            .with_summary(Summary {
                operation: Operation::Replace,
                additional_properties: properties,
            })
            .with_schema_id(schema.schema_id())
            .build();
        let new_metadata = TableMetadataBuilder::new_from_metadata(
            (**metadata).clone(),
            Some(base.metadata_location.clone()),
        )
        .set_branch_snapshot(new_snapshot, MAIN_BRANCH)
        .and_then(|b| b.build())
        .map_err(iceberg("adding the snapshot".into()))?
        .metadata;
        debug!(table = %table, snapshot_id, sequence_number, "committing a compaction");
        Ok(catalog.commit_table(base, new_metadata).await?)
    }
    .await;

    discard_written_on_failure(file_io, &written, &result).await;
    result
}

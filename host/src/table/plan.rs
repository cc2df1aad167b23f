//! The files of a commit window: which rows go into a new data file of
//! which partition, which positions of which existing data file are deleted
//! (one position-delete file per data file), and writing them into the row
//! delta that commits them.

use std::collections::{BTreeMap, HashMap};
use std::sync::Arc;

use iceberg::io::FileIO;
use iceberg::spec::{SchemaRef, Struct, TableMetadata};
use tracing::debug;
use uuid::Uuid;

use super::columns::{WindowRow, record_batch};
use super::error::TableError;
use super::files::{partition_dir, write_data_file, write_position_delete_file};
use super::index::{IndexedFile, KeyIndex, RowLocation};
use super::key::IndexKey;
use super::partition::Partitioner;
use super::schema::SchemaState;
use super::window::Window;
use super::writer::CommitReport;
use crate::commit::index_upkeep::IndexChanges;
use crate::commit::{Offsets, RowDelta};

/// The table a window is written to.
pub(crate) struct Target<'a> {
    /// The table's name, `namespace.name`.
    pub name: &'a str,
    /// Where its files go.
    pub file_io: &'a FileIO,
    /// Its metadata as last loaded or committed.
    pub metadata: &'a TableMetadata,
    /// Its schema, evolved by the window.
    pub schema: &'a SchemaState,
    /// Where its live rows are.
    pub index: &'a KeyIndex,
}

/// What the commit carries besides the files.
pub(crate) struct Carried<'a> {
    /// The pipeline id (`floe.pipeline`).
    pub pipeline: &'a str,
    /// The next offsets per source partition.
    pub offsets: &'a Offsets,
    /// The plugin versions.
    pub plugins: &'a BTreeMap<String, String>,
}

/// A window's files written: the row delta to commit, and what the commit
/// does once it is in.
#[derive(Debug)]
pub(crate) struct Written {
    /// The commit.
    pub delta: RowDelta,
    /// Every file written (removed again if the commit fails).
    pub files: Vec<String>,
    /// The key index's changes.
    pub changes: IndexChanges,
    /// What the commit does (snapshot, conflicts and offsets not yet set).
    pub report: CommitReport,
}

/// The files of a window, before they are written.
struct Plan {
    /// Data file (the index's number) → positions deleted in it: one delete
    /// file per data file (`write.delete.granularity = file`), so that a
    /// reader attaches it to that file only.
    deletes: BTreeMap<u32, Vec<u32>>,
    /// Partition → the keys and rows of its new data file.
    rows: HashMap<Struct, Vec<(IndexKey, WindowRow)>>,
    /// Keys whose old row is gone.
    removed: Vec<IndexKey>,
    report: CommitReport,
}

/// Plans `window`'s files on `target` and writes them. `duplicates` are
/// older duplicate rows of a key, deleted with the window.
pub(crate) async fn write_window(
    target: Target<'_>,
    window: &Window,
    duplicates: &[RowLocation],
    carried: Carried<'_>,
) -> Result<Written, TableError> {
    let schema: SchemaRef = target.schema.schema().clone();
    let spec = target.metadata.default_partition_spec();
    let partitioner = Partitioner::new(spec, &schema).map_err(|source| TableError::Write {
        table: target.name.to_string(),
        path: target.metadata.location().to_string(),
        source,
    })?;
    let plan =
        plan(&target, &partitioner, window, duplicates).map_err(|source| TableError::Write {
            table: target.name.to_string(),
            path: target.metadata.location().to_string(),
            source,
        })?;
    write(&target, plan, window, carried).await
}

/// Which rows to delete and which to write, per file; fails when a row's
/// partition cannot be computed.
fn plan(
    target: &Target<'_>,
    partitioner: &Partitioner,
    window: &Window,
    duplicates: &[RowLocation],
) -> Result<Plan, iceberg::Error> {
    let truncated = window.truncated;
    let mut plan = Plan {
        deletes: BTreeMap::new(),
        rows: HashMap::new(),
        removed: Vec::new(),
        report: CommitReport::default(),
    };
    let deletes = &mut plan.deletes;
    let mut delete_row = |at: RowLocation| deletes.entry(at.file).or_default().push(at.pos);
    if !truncated {
        for at in duplicates {
            delete_row(*at);
            plan.report.duplicates_removed += 1;
        }
    }
    for (key, row) in &window.rows {
        let old = if truncated {
            None
        } else {
            target.index.get(key)
        };
        if let Some(at) = old {
            delete_row(at);
        }
        match (old, row) {
            (Some(_), Some(_)) => plan.report.updated += 1,
            (None, Some(_)) => plan.report.inserted += 1,
            (Some(_), None) => plan.report.deleted += 1,
            (None, None) => plan.report.missing_deletes += 1,
        }
        plan.removed.push(*key);
        if let Some(at) = *row {
            let image = window.image(at).expect("window rows have an image");
            let partition = partitioner.partition(&image)?;
            plan.rows.entry(partition).or_default().push((*key, at));
        }
    }
    Ok(plan)
}

/// Writes the planned data and position-delete files into a row delta.
async fn write(
    target: &Target<'_>,
    plan: Plan,
    window: &Window,
    carried: Carried<'_>,
) -> Result<Written, TableError> {
    let Plan {
        deletes,
        rows,
        removed,
        mut report,
    } = plan;
    let metadata = target.metadata;
    let file_io = target.file_io;
    let schema: SchemaRef = target.schema.schema().clone();
    let evolved = target.schema.evolved();
    let spec = metadata.default_partition_spec().clone();
    let spec_id = spec.spec_id();
    let truncated = window.truncated;
    let write_err = |path: &str, source: iceberg::Error| TableError::Write {
        table: target.name.to_string(),
        path: path.to_string(),
        source,
    };
    let mut files = Vec::new();
    let mut changes = IndexChanges {
        truncated,
        removed,
        ..IndexChanges::default()
    };

    let commit = Uuid::new_v4();
    let data_root = format!("{}/data", metadata.location().trim_end_matches('/'));
    let arrow = Arc::new(
        iceberg::arrow::schema_to_arrow_schema(&schema)
            .map_err(|source| write_err(&data_root, source))?,
    );
    let mut delta = RowDelta {
        truncate: truncated,
        schema: evolved.then(|| schema.as_ref().clone()),
        pipeline: carried.pipeline.to_string(),
        offsets: carried.offsets.clone(),
        plugins: carried.plugins.clone(),
        ..RowDelta::default()
    };
    let mut n = 0;
    for (partition, mut keyed) in rows {
        let dir = partition_dir(&spec, &schema, &partition);
        let path = format!("{data_root}/{dir}{commit}-{n:05}.parquet");
        n += 1;
        // In window order, so that the columns are read front to back.
        keyed.sort_unstable_by_key(|(_, at)| *at);
        let at: Vec<WindowRow> = keyed.iter().map(|(_, at)| *at).collect();
        let batch = record_batch(&schema, &arrow, &window.images, &at).map_err(|e| {
            write_err(
                &path,
                iceberg::Error::new(iceberg::ErrorKind::DataInvalid, "building the record batch")
                    .with_source(e),
            )
        })?;
        files.push(path.clone());
        let file = write_data_file(
            file_io,
            &path,
            schema.clone(),
            &batch,
            spec_id,
            partition.clone(),
        )
        .await
        .map_err(|source| write_err(&path, source))?;
        report.rows_written += keyed.len() as u64;
        let file_no = changes.new_files.len() as u32;
        changes.new_files.push(IndexedFile {
            path: Arc::from(path.as_str()),
            spec_id,
            partition,
        });
        changes.added.extend(
            keyed
                .iter()
                .enumerate()
                .map(|(pos, (key, _))| (*key, file_no, pos as u32)),
        );
        delta.data_files.entry(spec_id).or_default().push(file);
    }
    for (data_file, mut positions) in deletes {
        let target_file = target.index.file(data_file);
        let dir = match metadata.partition_spec_by_id(target_file.spec_id) {
            Some(s) => partition_dir(s, &schema, &target_file.partition),
            None => String::new(),
        };
        let path = format!("{data_root}/{dir}{commit}-{n:05}-deletes.parquet");
        n += 1;
        files.push(path.clone());
        report.deletes_written += positions.len() as u64;
        let file = write_position_delete_file(file_io, &path, target_file, &mut positions)
            .await
            .map_err(|source| write_err(&path, source))?;
        delta
            .delete_files
            .entry(target_file.spec_id)
            .or_default()
            .push(file);
    }
    report.data_files = delta.data_files.values().map(Vec::len).sum();
    report.delete_files = delta.delete_files.values().map(Vec::len).sum();
    report.truncated = truncated;
    debug!(table = %target.name, report = ?report, "commit planned");
    Ok(Written {
        delta,
        files,
        changes,
        report,
    })
}

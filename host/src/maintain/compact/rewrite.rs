//! Rewriting a group's live rows: each old data file is read in record
//! batches (the iceberg crate's reader, which projects older files onto the
//! current schema), the rows its position deletes name are dropped, and the
//! rest are appended to new files of the same partition, cut once a file
//! reaches the target size. Memory is bounded by a batch and a row group,
//! not by the partition. Where each row went is recorded for the key
//! index ([`RowMoves`]).

use std::collections::{HashMap, HashSet};
use std::sync::Arc;

use arrow_array::cast::AsArray;
use arrow_array::types::Int64Type;
use arrow_array::{BooleanArray, RecordBatch, RecordBatchOptions};
use arrow_schema::{ArrowError, SchemaRef as ArrowSchemaRef};
use futures::TryStreamExt;
use iceberg::io::FileIO;
use iceberg::scan::FileScanTask;
use iceberg::spec::{DataContentType, DataFile, DataFileFormat, SchemaRef, TableMetadata};
use iceberg::writer::CurrentFileStatus;
use iceberg::writer::file_writer::{
    FileWriter, FileWriterBuilder, ParquetWriter, ParquetWriterBuilder,
};
use parquet::basic::{Compression, ZstdLevel};
use parquet::file::properties::WriterProperties;
use uuid::Uuid;

use super::CompactError;
use super::plan::{Group, Snapshot};
use super::policy::CompactPolicy;
use crate::table::files::{DELETE_FILE_PATH_ID, DELETE_POS_ID, partition_dir};
use crate::table::index::{IndexedFile, RowMoves};
use crate::table::rebuild::read_columns;

/// Rows per record batch read, and per row group written at most.
const BATCH_ROWS: usize = 8 * 1024;
const ROW_GROUP_ROWS: usize = 128 * 1024;

/// What the rewrite of a snapshot's groups produced.
#[derive(Debug, Default)]
pub struct Rewritten {
    /// New data files, by partition spec.
    pub added: Vec<(i32, DataFile)>,
    /// Every file written (removed again if the commit fails).
    pub written: Vec<String>,
    /// Old data files removed.
    pub removed_data: HashSet<String>,
    /// Delete files removed: every row they delete is in a removed file.
    pub removed_deletes: HashSet<String>,
    /// Where the rows went.
    pub moves: RowMoves,
    /// Rows read and rows written.
    pub rows_read: u64,
    /// Rows written (the live ones).
    pub rows_written: u64,
    /// Bytes of data files read.
    pub bytes_read: u64,
}

/// Rewrites `groups` of `snapshot` into `out` (which lists every file
/// written, also when the rewrite fails part way).
pub async fn rewrite(
    file_io: &FileIO,
    table: &str,
    metadata: &TableMetadata,
    snapshot: &Snapshot,
    groups: &[Group],
    policy: &CompactPolicy,
    out: &mut Rewritten,
) -> Result<(), CompactError> {
    let rewritten: HashSet<&str> = groups
        .iter()
        .flat_map(|g| g.files.iter())
        .map(|&i| snapshot.data[i].file.file_path())
        .collect();
    let deleted = deleted_positions(file_io, table, snapshot, &rewritten, out).await?;
    let schema = metadata.current_schema().clone();
    let arrow: ArrowSchemaRef = Arc::new(iceberg::arrow::schema_to_arrow_schema(&schema).map_err(
        |source| CompactError::Iceberg {
            table: table.to_string(),
            context: "converting the schema to Arrow".into(),
            source,
        },
    )?);
    let commit = Uuid::new_v4();
    let data_root = format!("{}/data", metadata.location().trim_end_matches('/'));
    let mut n = 0usize;
    for group in groups {
        let spec = metadata
            .partition_spec_by_id(group.spec_id)
            .ok_or_else(|| CompactError::Unsupported {
                table: table.to_string(),
                reason: format!("no partition spec {}", group.spec_id),
            })?
            .clone();
        let dir = partition_dir(&spec, &schema, &group.partition);
        let mut sink = Sink {
            file_io,
            table,
            schema: schema.clone(),
            spec_id: group.spec_id,
            partition: group.partition.clone(),
            target: policy.target_file_bytes,
            path: Box::new(|| {
                let path = format!("{data_root}/{dir}{commit}-c{n:05}.parquet");
                n += 1;
                path
            }),
            open: None,
            rows: 0,
            out: &mut *out,
        };
        for &i in &group.files {
            let data = &snapshot.data[i];
            let path = data.file.file_path();
            let dead = deleted.get(path).map(Vec::as_slice).unwrap_or_default();
            let mut ordinals = Vec::with_capacity(data.file.record_count() as usize);
            let task = FileScanTask::builder()
                .with_file_size_in_bytes(data.file.file_size_in_bytes())
                .with_start(0)
                .with_length(data.file.file_size_in_bytes())
                .with_record_count(Some(data.file.record_count()))
                .with_data_file_path(path.to_string())
                .with_data_file_format(DataFileFormat::Parquet)
                .with_schema(schema.clone())
                .with_project_field_ids(schema.as_struct().fields().iter().map(|f| f.id).collect())
                .with_partition(Some(data.file.partition().clone()))
                .with_partition_spec(Some(spec.clone()))
                .with_case_sensitive(true)
                .build();
            let reader = iceberg::arrow::ArrowReaderBuilder::new(
                file_io.clone(),
                iceberg::Runtime::current(),
            )
            .with_data_file_concurrency_limit(1)
            .with_batch_size(BATCH_ROWS)
            .build();
            let read_err = |source: iceberg::Error| CompactError::Iceberg {
                table: table.to_string(),
                context: format!("reading {path}"),
                source,
            };
            let mut batches = reader
                .read(Box::pin(futures::stream::once(async { Ok(task) })))
                .map_err(read_err)?
                .stream();
            let mut pos = 0u64;
            let mut next_dead = 0usize;
            while let Some(batch) = batches.try_next().await.map_err(read_err)? {
                let batch = conform(&batch, &arrow).map_err(|e| CompactError::Arrow {
                    table: table.to_string(),
                    path: path.to_string(),
                    source: e,
                })?;
                let mut keep = Vec::with_capacity(batch.num_rows());
                for _ in 0..batch.num_rows() {
                    while next_dead < dead.len() && dead[next_dead] < pos {
                        next_dead += 1;
                    }
                    let gone = next_dead < dead.len() && dead[next_dead] == pos;
                    keep.push(!gone);
                    pos += 1;
                }
                sink.out.rows_read += batch.num_rows() as u64;
                let live = arrow_select::filter::filter_record_batch(
                    &batch,
                    &BooleanArray::from(keep.clone()),
                )
                .map_err(|e| CompactError::Arrow {
                    table: table.to_string(),
                    path: path.to_string(),
                    source: e,
                })?;
                let first = sink.write(&live).await?;
                let mut ordinal = first;
                for kept in keep {
                    if kept {
                        ordinals.push(ordinal);
                        ordinal += 1;
                    } else {
                        ordinals.push(RowMoves::GONE);
                    }
                }
            }
            sink.out.bytes_read += data.file.file_size_in_bytes();
            sink.out.removed_data.insert(path.to_string());
            sink.out.moves.old.insert(Arc::from(path), ordinals);
        }
        sink.close().await?;
    }
    Ok(())
}

/// `batch` as the new files take it: the reader gives identity partition
/// columns filled from the partition as run-end encoded constants, cast
/// back to the column's type here.
fn conform(batch: &RecordBatch, arrow: &ArrowSchemaRef) -> Result<RecordBatch, ArrowError> {
    let columns = batch
        .columns()
        .iter()
        .zip(arrow.fields())
        .map(|(column, field)| {
            if column.data_type() == field.data_type() {
                Ok(column.clone())
            } else {
                arrow_cast::cast(column, field.data_type())
            }
        })
        .collect::<Result<Vec<_>, _>>()?;
    RecordBatch::try_new_with_options(
        arrow.clone(),
        columns,
        &RecordBatchOptions::new().with_row_count(Some(batch.num_rows())),
    )
}

/// Per rewritten data file, the sorted positions its position deletes
/// delete; notes the delete files whose every row is in a rewritten file
/// (removed with them).
async fn deleted_positions(
    file_io: &FileIO,
    table: &str,
    snapshot: &Snapshot,
    rewritten: &HashSet<&str>,
    out: &mut Rewritten,
) -> Result<HashMap<String, Vec<u64>>, CompactError> {
    let seq_of: HashMap<&str, i64> = snapshot
        .data
        .iter()
        .map(|d| (d.file.file_path(), d.seq))
        .collect();
    let partitions: HashSet<(i32, &iceberg::spec::Struct)> = snapshot
        .data
        .iter()
        .filter(|d| rewritten.contains(d.file.file_path()))
        .map(|d| (d.spec_id, d.file.partition()))
        .collect();
    let mut deleted: HashMap<String, Vec<u64>> = HashMap::new();
    for delete in &snapshot.deletes {
        if delete.file.content_type() != DataContentType::PositionDeletes {
            continue;
        }
        let scoped_to_rewritten = delete
            .target
            .as_deref()
            .is_some_and(|t| rewritten.contains(t));
        let spanning_in_scope = delete.target.is_none()
            && partitions.contains(&(delete.spec_id, delete.file.partition()));
        if !scoped_to_rewritten && !spanning_in_scope {
            continue;
        }
        let path = delete.file.file_path();
        let batches = read_columns(
            file_io,
            path,
            &[DELETE_FILE_PATH_ID, DELETE_POS_ID],
            &["file_path", "pos"],
        )
        .await
        .map_err(|message| CompactError::Read {
            table: table.to_string(),
            path: path.to_string(),
            message,
        })?;
        let mut only_rewritten = true;
        for batch in &batches {
            let (Some(paths), Some(positions)) = (
                batch.column(0).as_string_opt::<i32>(),
                batch.column(1).as_primitive_opt::<Int64Type>(),
            ) else {
                return Err(CompactError::Read {
                    table: table.to_string(),
                    path: path.to_string(),
                    message: "not a position delete file (file_path string, pos long)".into(),
                });
            };
            for row in 0..batch.num_rows() {
                let target = paths.value(row);
                if !rewritten.contains(target) {
                    only_rewritten = false;
                    continue;
                }
                if seq_of.get(target).is_some_and(|seq| *seq <= delete.seq) {
                    deleted
                        .entry(target.to_string())
                        .or_default()
                        .push(positions.value(row) as u64);
                }
            }
        }
        if only_rewritten {
            out.removed_deletes.insert(path.to_string());
        }
    }
    for positions in deleted.values_mut() {
        positions.sort_unstable();
        positions.dedup();
    }
    Ok(deleted)
}

/// The new files of one group: rows appended in order, a file cut once it
/// reaches the target size.
struct Sink<'a> {
    file_io: &'a FileIO,
    table: &'a str,
    schema: SchemaRef,
    spec_id: i32,
    partition: iceberg::spec::Struct,
    target: u64,
    path: Box<dyn FnMut() -> String + 'a>,
    open: Option<(String, ParquetWriter)>,
    /// Rows in the open file.
    rows: u32,
    out: &'a mut Rewritten,
}

impl Sink<'_> {
    /// Appends `batch`; returns the ordinal (among all new rows) of its first row.
    async fn write(&mut self, batch: &RecordBatch) -> Result<u32, CompactError> {
        let first = self.out.moves.rows.iter().sum::<u32>() + self.rows;
        if batch.num_rows() == 0 {
            return Ok(first);
        }
        if self.open.is_none() {
            let path = (self.path)();
            let output = self.file_io.new_output(&path).map_err(self.err(&path))?;
            self.out.written.push(path.clone());
            let writer = ParquetWriterBuilder::new(properties(), self.schema.clone())
                .build(output)
                .await
                .map_err(self.err(&path))?;
            self.open = Some((path, writer));
        }
        let (path, writer) = self.open.as_mut().expect("opened above");
        let path = path.clone();
        writer.write(batch).await.map_err(self.err(&path))?;
        self.rows += batch.num_rows() as u32;
        self.out.rows_written += batch.num_rows() as u64;
        let size = self
            .open
            .as_ref()
            .map_or(0, |(_, w)| w.current_written_size() as u64);
        if size >= self.target {
            self.close().await?;
        }
        Ok(first)
    }

    /// Closes the open file, if any, and describes it.
    async fn close(&mut self) -> Result<(), CompactError> {
        let Some((path, writer)) = self.open.take() else {
            return Ok(());
        };
        let mut builders = writer.close().await.map_err(self.err(&path))?;
        let mut builder = builders.pop().ok_or_else(|| CompactError::Unsupported {
            table: self.table.to_string(),
            reason: format!("no data file written at {path}"),
        })?;
        builder
            .content(DataContentType::Data)
            .partition(self.partition.clone())
            .partition_spec_id(self.spec_id);
        let file = builder.build().map_err(|e| CompactError::Unsupported {
            table: self.table.to_string(),
            reason: format!("describing {path}: {e}"),
        })?;
        self.out.moves.files.push(IndexedFile {
            path: Arc::from(path.as_str()),
            spec_id: self.spec_id,
            partition: self.partition.clone(),
        });
        self.out.moves.rows.push(self.rows);
        self.out.added.push((self.spec_id, file));
        self.rows = 0;
        Ok(())
    }

    fn err(&self, path: &str) -> impl FnOnce(iceberg::Error) -> CompactError + use<> {
        let table = self.table.to_string();
        let context = format!("writing {path}");
        move |source| CompactError::Iceberg {
            table,
            context,
            source,
        }
    }
}

/// How new data files are written: zstd, dictionaries, row groups of at
/// most [`ROW_GROUP_ROWS`] (the memory a file being written holds).
fn properties() -> WriterProperties {
    WriterProperties::builder()
        .set_compression(Compression::ZSTD(ZstdLevel::default()))
        .set_max_row_group_row_count(Some(ROW_GROUP_ROWS))
        .set_created_by("floe".to_string())
        .build()
}

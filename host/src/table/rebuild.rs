//! Building the key index from a table's current snapshot.
//!
//! Reads every live manifest; reads the position delete files (`file_path`,
//! `pos`) and equality delete files (their equality columns) of the snapshot,
//! whoever wrote them; then reads only the key columns (and the columns
//! equality deletes compare) of every data file and indexes each row that no
//! delete removes. A position delete applies to a data file of the same path
//! with a data sequence number no newer than the delete's; an equality
//! delete to data files with an older data sequence number, in its partition
//! (every partition when its spec is unpartitioned).
//!
//! Two live rows with one key (e.g. appended twice by another writer) keep
//! the newer (higher data sequence number, then later file and position) in
//! the index; the older are returned as duplicates, for the next commit to
//! delete.

use std::collections::HashMap;
use std::sync::Arc;
use std::time::Instant;

use arrow_array::cast::AsArray;
use arrow_array::types::Int64Type;
use arrow_array::{Array, RecordBatch};
use futures::{StreamExt, TryStreamExt};
use iceberg::arrow::ArrowFileReader;
use iceberg::io::FileIO;
use iceberg::spec::{
    DataContentType, DataFileFormat, ManifestStatus, Schema, Struct, TableMetadata,
};
use parquet::arrow::ProjectionMask;
use parquet::arrow::async_reader::ParquetRecordBatchStreamBuilder;
use tracing::info;

use super::columns::KeyColumn;
use super::files::{DELETE_FILE_PATH_ID, DELETE_POS_ID};
use super::index::{IndexedFile, KeyIndex, RowLocation};
use super::key::{IndexKey, KeyHashBuilder, index_key};
use crate::commit::CommitError;
use crate::commit::manifest_list::read_manifest_list;

/// Why the index could not be built.
#[derive(Debug, thiserror::Error)]
pub enum RebuildError {
    /// Reading a manifest or a file failed.
    #[error("rebuilding the key index of {table}: {path}: {message}")]
    Read {
        /// The table.
        table: String,
        /// The file.
        path: String,
        /// What failed.
        message: String,
    },
    /// The table holds something floe cannot index.
    #[error("rebuilding the key index of {table}: {reason}")]
    Unsupported {
        /// The table.
        table: String,
        /// What.
        reason: String,
    },
}

/// What a rebuild found.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct RebuildStats {
    /// Live data files read.
    pub data_files: usize,
    /// Live delete files read (position and equality).
    pub delete_files: usize,
    /// Rows read from data files.
    pub rows_read: u64,
    /// Rows removed by existing deletes.
    pub rows_deleted: u64,
    /// Live keys indexed.
    pub keys: usize,
    /// Older live rows sharing a key with a newer one.
    pub duplicates: usize,
    /// Wall time, in seconds.
    pub seconds: f64,
}

/// The index of a snapshot.
#[derive(Debug, Default)]
pub struct Rebuilt {
    /// Key → live row.
    pub index: KeyIndex,
    /// Live rows whose key a newer row also has.
    pub duplicates: Vec<RowLocation>,
    /// What was read.
    pub stats: RebuildStats,
}

struct DataEntry {
    path: String,
    spec_id: i32,
    partition: Struct,
    seq: i64,
    records: u64,
}

struct DeleteEntry {
    path: String,
    spec_id: i32,
    partition: Struct,
    seq: i64,
    equality_ids: Option<Vec<i32>>,
}

/// Equality deletes of one set of columns in one scope: key of the deleted
/// values → newest delete sequence number.
struct EqualityGroup {
    field_ids: Vec<i32>,
    /// `None`: every partition; else (spec id, partition).
    scope: Option<(i32, Struct)>,
    keys: HashMap<IndexKey, i64, KeyHashBuilder>,
}

/// Builds the index of `metadata`'s current snapshot, keyed by the columns
/// `key_ids` (field ids, in key order).
pub async fn rebuild_index(
    file_io: &FileIO,
    metadata: &TableMetadata,
    key_ids: &[i32],
    table: &str,
) -> Result<Rebuilt, RebuildError> {
    let started = Instant::now();
    let read_err = |path: &str, message: String| RebuildError::Read {
        table: table.to_string(),
        path: path.to_string(),
        message,
    };
    let Some(snapshot) = metadata.current_snapshot() else {
        return Ok(Rebuilt::default());
    };
    let schema = metadata
        .schema_by_id(snapshot.schema_id().unwrap_or(metadata.current_schema_id()))
        .unwrap_or(metadata.current_schema())
        .clone();
    let list_path = snapshot.manifest_list();
    let manifests = read_manifest_list(file_io, table, list_path, metadata.format_version())
        .await
        .map_err(|e| match e {
            CommitError::Iceberg { source, .. } => read_err(list_path, source.to_string()),
            other => read_err(list_path, other.to_string()),
        })?;
    let loaded: Vec<_> = futures::stream::iter(manifests)
        .map(|m| async move {
            let manifest = m.load_manifest(file_io).await;
            (m, manifest)
        })
        .buffered(8)
        .collect()
        .await;

    let mut data: Vec<DataEntry> = Vec::new();
    let mut deletes: Vec<DeleteEntry> = Vec::new();
    for (file, manifest) in loaded {
        let manifest = manifest.map_err(|e| read_err(&file.manifest_path, e.to_string()))?;
        for entry in manifest.entries() {
            if entry.status() == ManifestStatus::Deleted {
                continue;
            }
            let df = entry.data_file();
            let seq = entry.sequence_number().unwrap_or(0);
            if df.file_format() != DataFileFormat::Parquet {
                return Err(RebuildError::Unsupported {
                    table: table.to_string(),
                    reason: format!(
                        "{} is {:?}: floe reads Parquet data and delete files only",
                        df.file_path(),
                        df.file_format()
                    ),
                });
            }
            match df.content_type() {
                DataContentType::Data => data.push(DataEntry {
                    path: df.file_path().to_string(),
                    spec_id: file.partition_spec_id,
                    partition: df.partition().clone(),
                    seq,
                    records: df.record_count(),
                }),
                DataContentType::PositionDeletes => deletes.push(DeleteEntry {
                    path: df.file_path().to_string(),
                    spec_id: file.partition_spec_id,
                    partition: df.partition().clone(),
                    seq,
                    equality_ids: None,
                }),
                DataContentType::EqualityDeletes => deletes.push(DeleteEntry {
                    path: df.file_path().to_string(),
                    spec_id: file.partition_spec_id,
                    partition: df.partition().clone(),
                    seq,
                    equality_ids: Some(df.equality_ids().unwrap_or_default()),
                }),
            }
        }
    }
    // Older data first, so a newer row of a key wins.
    data.sort_by(|a, b| a.seq.cmp(&b.seq).then_with(|| a.path.cmp(&b.path)));
    let data_seq: HashMap<&str, (usize, i64)> = data
        .iter()
        .enumerate()
        .map(|(i, d)| (d.path.as_str(), (i, d.seq)))
        .collect();

    let mut stats = RebuildStats {
        data_files: data.len(),
        delete_files: deletes.len(),
        ..RebuildStats::default()
    };

    // Position deletes, per data file.
    let mut deleted: Vec<Vec<u64>> = vec![Vec::new(); data.len()];
    let mut groups: Vec<EqualityGroup> = Vec::new();
    let mut buf = Vec::with_capacity(64);
    let delete_columns = |delete: &DeleteEntry| match &delete.equality_ids {
        None => (
            vec![DELETE_FILE_PATH_ID, DELETE_POS_ID],
            vec!["file_path".to_string(), "pos".to_string()],
        ),
        Some(ids) => (
            ids.clone(),
            ids.iter()
                .map(|id| schema.name_by_field_id(*id).unwrap_or_default().to_string())
                .collect(),
        ),
    };
    let delete_reads = read_files(
        file_io,
        deletes.iter().map(|d| {
            let (ids, names) = delete_columns(d);
            (d.path.clone(), ids, names)
        }),
    );
    futures::pin_mut!(delete_reads);
    for delete in &deletes {
        let (_, batches) = delete_reads.next().await.expect("one read per delete file");
        let batches = batches.map_err(|e| read_err(&delete.path, e))?;
        match &delete.equality_ids {
            None => {
                for batch in batches {
                    let (Some(paths), Some(positions)) = (
                        batch.column(0).as_string_opt::<i32>(),
                        batch.column(1).as_primitive_opt::<Int64Type>(),
                    ) else {
                        return Err(read_err(
                            &delete.path,
                            "not a position delete file (file_path string, pos long)".into(),
                        ));
                    };
                    // A delete file lists its data files' rows path by path:
                    // look a path up once per run of it.
                    let mut last: Option<(&str, Option<(usize, i64)>)> = None;
                    for row in 0..batch.num_rows() {
                        let path = paths.value(row);
                        let target = match last {
                            Some((p, target)) if p == path => target,
                            _ => {
                                let target = data_seq.get(path).copied();
                                last = Some((path, target));
                                target
                            }
                        };
                        if let Some((i, seq)) = target
                            && seq <= delete.seq
                        {
                            deleted[i].push(positions.value(row) as u64);
                        }
                    }
                }
            }
            Some(ids) => {
                let scope = match metadata.partition_spec_by_id(delete.spec_id) {
                    Some(spec) if spec.is_unpartitioned() => None,
                    _ => Some((delete.spec_id, delete.partition.clone())),
                };
                let group = match groups
                    .iter_mut()
                    .position(|g| &g.field_ids == ids && g.scope == scope)
                {
                    Some(i) => &mut groups[i],
                    None => {
                        groups.push(EqualityGroup {
                            field_ids: ids.clone(),
                            scope,
                            keys: HashMap::default(),
                        });
                        groups.last_mut().expect("just pushed")
                    }
                };
                for batch in batches {
                    let columns: Vec<KeyColumn<'_>> = batch
                        .columns()
                        .iter()
                        .map(|c| KeyColumn::new(c.as_ref()))
                        .collect();
                    for row in 0..batch.num_rows() {
                        buf.clear();
                        for (column, array) in columns.iter().zip(batch.columns()) {
                            if !column.encode(row, &mut buf) {
                                return Err(read_err(
                                    &delete.path,
                                    format!(
                                        "equality delete column of type {} cannot be compared",
                                        array.data_type()
                                    ),
                                ));
                            }
                        }
                        let seq = group.keys.entry(index_key(&buf)).or_insert(delete.seq);
                        *seq = (*seq).max(delete.seq);
                    }
                }
            }
        }
    }
    for positions in &mut deleted {
        positions.sort_unstable();
        positions.dedup();
    }

    // The columns to read from data files: the key, then every equality group's.
    let mut read_ids: Vec<i32> = key_ids.to_vec();
    for group in &groups {
        for id in &group.field_ids {
            if !read_ids.contains(id) {
                read_ids.push(*id);
            }
        }
    }
    let read_names: Vec<String> = read_ids
        .iter()
        .map(|id| schema.name_by_field_id(*id).unwrap_or_default().to_string())
        .collect();
    let group_columns: Vec<Vec<usize>> = groups
        .iter()
        .map(|g| {
            g.field_ids
                .iter()
                .map(|id| read_ids.iter().position(|r| r == id).unwrap_or(0))
                .collect()
        })
        .collect();

    // Room for the rows no position delete removes: exact when every
    // replaced row has one (as floe writes them), a bound otherwise.
    let total: u64 = data.iter().map(|d| d.records).sum();
    let position_deleted: u64 = deleted.iter().map(|d| d.len() as u64).sum();
    let mut index = KeyIndex::with_capacity(total.saturating_sub(position_deleted) as usize);
    let mut duplicates = Vec::new();
    let reads = read_files(
        file_io,
        data.iter()
            .map(|d| (d.path.clone(), read_ids.clone(), read_names.clone())),
    );
    futures::pin_mut!(reads);
    while let Some((i, batches)) = reads.next().await {
        let entry = &data[i];
        let batches = batches.map_err(|e| read_err(&entry.path, e))?;
        let file = index.intern(IndexedFile {
            path: Arc::from(entry.path.as_str()),
            spec_id: entry.spec_id,
            partition: entry.partition.clone(),
        });
        let applicable: Vec<usize> = groups
            .iter()
            .enumerate()
            .filter(|(_, g)| match &g.scope {
                None => true,
                Some((spec, partition)) => *spec == entry.spec_id && *partition == entry.partition,
            })
            .map(|(i, _)| i)
            .collect();
        let dead = &deleted[i];
        let mut next_dead = 0;
        let mut pos: u64 = 0;
        for batch in batches {
            let columns: Vec<KeyColumn<'_>> = batch
                .columns()
                .iter()
                .map(|c| KeyColumn::new(c.as_ref()))
                .collect();
            for row in 0..batch.num_rows() {
                let here = pos;
                pos += 1;
                stats.rows_read += 1;
                while next_dead < dead.len() && dead[next_dead] < here {
                    next_dead += 1;
                }
                if next_dead < dead.len() && dead[next_dead] == here {
                    stats.rows_deleted += 1;
                    continue;
                }
                let mut gone = false;
                for &g in &applicable {
                    buf.clear();
                    for &c in &group_columns[g] {
                        columns[c].encode(row, &mut buf);
                    }
                    if groups[g]
                        .keys
                        .get(&index_key(&buf))
                        .is_some_and(|s| *s > entry.seq)
                    {
                        gone = true;
                        break;
                    }
                }
                if gone {
                    stats.rows_deleted += 1;
                    continue;
                }
                buf.clear();
                for (c, column) in columns.iter().enumerate().take(key_ids.len()) {
                    if !column.encode(row, &mut buf) {
                        return Err(read_err(
                            &entry.path,
                            format!(
                                "key column of type {} cannot be indexed",
                                batch.column(c).data_type()
                            ),
                        ));
                    }
                }
                let position = u32::try_from(here).map_err(|_| RebuildError::Unsupported {
                    table: table.to_string(),
                    reason: format!("{} has more than 2^32 rows", entry.path),
                })?;
                if let Some(old) = index.insert(
                    index_key(&buf),
                    RowLocation {
                        file,
                        pos: position,
                    },
                ) {
                    duplicates.push(old);
                }
            }
        }
    }
    index.shrink_to_fit();
    stats.keys = index.len();
    stats.duplicates = duplicates.len();
    stats.seconds = started.elapsed().as_secs_f64();
    info!(
        table,
        keys = stats.keys,
        data_files = stats.data_files,
        delete_files = stats.delete_files,
        rows_deleted = stats.rows_deleted,
        duplicates = stats.duplicates,
        seconds = stats.seconds,
        "key index rebuilt"
    );
    Ok(Rebuilt {
        index,
        duplicates,
        stats,
    })
}

/// The threads files are read and decoded on: decoding Parquet is most of a
/// rebuild, and files are independent.
fn readers() -> &'static tokio::runtime::Runtime {
    static READERS: std::sync::OnceLock<tokio::runtime::Runtime> = std::sync::OnceLock::new();
    READERS.get_or_init(|| {
        tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .thread_name("floe-rebuild")
            .enable_all()
            .build()
            .expect("starting the key index's reader threads")
    })
}

/// Reads `files` (path, field ids, names; see [`read_columns`]) on the
/// reader threads, a few at a time, yielding each file's batches in order
/// with its position in `files`.
fn read_files(
    file_io: &FileIO,
    files: impl Iterator<Item = (String, Vec<i32>, Vec<String>)>,
) -> impl futures::Stream<Item = (usize, Result<Vec<RecordBatch>, String>)> {
    let file_io = file_io.clone();
    futures::stream::iter(files.enumerate())
        .map(move |(i, (path, ids, names))| {
            let file_io = file_io.clone();
            let task = readers().spawn(async move {
                let names: Vec<&str> = names.iter().map(String::as_str).collect();
                read_columns(&file_io, &path, &ids, &names).await
            });
            async move {
                let read = task
                    .await
                    .unwrap_or_else(|e| Err(format!("reading failed: {e}")));
                (i, read)
            }
        })
        .buffered(3)
}

/// Reads the columns with field ids `ids` (falling back to `names` for
/// files without field ids) of a Parquet file, in that order; a column the
/// file lacks reads as NULL.
pub(crate) async fn read_columns(
    file_io: &FileIO,
    path: &str,
    ids: &[i32],
    names: &[&str],
) -> Result<Vec<RecordBatch>, String> {
    let input = file_io.new_input(path).map_err(|e| e.to_string())?;
    let meta = input.metadata().await.map_err(|e| e.to_string())?;
    let reader = input.reader().await.map_err(|e| e.to_string())?;
    let builder = ParquetRecordBatchStreamBuilder::new(ArrowFileReader::new(meta, reader))
        .await
        .map_err(|e| e.to_string())?;
    let descr = builder.parquet_schema();
    // Top-level leaves only: key and equality columns are primitives.
    let mut leaves: Vec<(usize, usize)> = Vec::new(); // (leaf index, position in ids)
    for (want, (id, name)) in ids.iter().zip(names).enumerate() {
        let found = (0..descr.num_columns()).find(|&i| {
            let column = descr.column(i);
            let info = column.self_type().get_basic_info();
            column.path().parts().len() == 1
                && ((info.has_id() && info.id() == *id)
                    || (!info.has_id() && column.name() == *name))
        });
        if let Some(leaf) = found {
            leaves.push((leaf, want));
        }
    }
    let mut order = leaves.clone();
    order.sort_unstable();
    let mask = ProjectionMask::leaves(descr, order.iter().map(|(leaf, _)| *leaf));
    let stream = builder
        .with_projection(mask)
        .with_batch_size(64 * 1024)
        .build()
        .map_err(|e| e.to_string())?;
    let batches: Vec<RecordBatch> = stream.try_collect().await.map_err(|e| e.to_string())?;
    // Reorder into `ids` order; missing columns become NULL columns.
    let mut out = Vec::with_capacity(batches.len());
    for batch in batches {
        let rows = batch.num_rows();
        let mut columns = Vec::with_capacity(ids.len());
        let mut fields = Vec::with_capacity(ids.len());
        for want in 0..ids.len() {
            match order.iter().position(|(_, w)| *w == want) {
                Some(j) => {
                    columns.push(batch.column(j).clone());
                    fields.push(batch.schema().field(j).clone());
                }
                None => {
                    columns.push(arrow_array::new_null_array(
                        &arrow_schema::DataType::Null,
                        rows,
                    ));
                    fields.push(arrow_schema::Field::new(
                        format!("missing{want}"),
                        arrow_schema::DataType::Null,
                        true,
                    ));
                }
            }
        }
        let schema = Arc::new(arrow_schema::Schema::new(fields));
        out.push(
            RecordBatch::try_new_with_options(
                schema,
                columns,
                &arrow_array::RecordBatchOptions::new().with_row_count(Some(rows)),
            )
            .map_err(|e| e.to_string())?,
        );
    }
    Ok(out)
}

/// The key column field ids of a schema, ascending (the order key values are
/// encoded in): its identifier fields, else the named columns.
pub fn key_field_ids(schema: &Schema, names: &[String]) -> Option<Vec<i32>> {
    let mut ids: Vec<i32> = schema.identifier_field_ids().collect();
    if ids.is_empty() {
        if names.is_empty() {
            return None;
        }
        ids = names
            .iter()
            .map(|n| schema.field_id_by_name(n))
            .collect::<Option<_>>()?;
    }
    ids.sort_unstable();
    ids.dedup();
    Some(ids)
}

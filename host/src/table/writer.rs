//! The table writer: buffers a commit window of changes collapsed per key,
//! and commits them as one row-delta snapshot.

use std::collections::{BTreeMap, HashMap};
use std::sync::Arc;

use iceberg::spec::{SchemaRef, Struct};
use tracing::{debug, info, warn};
use uuid::Uuid;

use super::admission::{ColumnBudget, SideColumns, admit_side, columns_named};
use super::columns::{WindowRow, record_batch};
use super::error::{ChangeError, Rejected, TableError};
use super::files::{partition_dir, write_data_file, write_position_delete_file};
use super::index::{IndexedFile, KeyIndex, RowLocation};
use super::key::{IndexKey, KeyHashBuilder, encode_cell, index_key};
use super::partition::{Partitioner, partition_spec};
use super::rebuild::{RebuildStats, key_field_ids, rebuild_index};
use super::schema::{SchemaMismatch, SchemaState, new_table_schema};
use crate::change::{ChangeBatch, ImageRef, Images, Op, Which};
use crate::commit::catalog::table_name;
use crate::commit::offsets::table_offsets;
use crate::commit::{CatalogError, LoadedTable, Offsets, RowDelta, SqlCatalog, commit_row_delta};

pub use crate::commit::catalog::TableIdent;

/// How a table is written.
#[derive(Debug, Clone)]
pub struct TableOptions {
    /// The pipeline id, written as `floe.pipeline`; offsets are per pipeline.
    pub pipeline: String,
    /// Create the table (and its namespace) from the first change's schema
    /// when it does not exist.
    pub create: bool,
    /// Evolve the schema: add new columns (optional), widen int → long,
    /// float → double, decimal precision.
    pub evolve: bool,
    /// Partition fields of a created table (see [`super::partition`]).
    pub partition: Vec<String>,
    /// Key columns when the table has no identifier fields and changes name none.
    pub key: Vec<String>,
    /// Table properties of a created table; by default floe's maintenance
    /// properties ([`crate::maintain::created_table_properties`]).
    pub properties: HashMap<String, String>,
    /// Commit attempts before giving up on compare-and-swap conflicts.
    pub max_attempts: usize,
    /// How many columns schema evolution may add to the table in one commit
    /// window; a change that would add more goes to the dead-letter queue
    /// and the table is left as it was. Creating a table is not limited.
    pub max_new_columns: usize,
}

/// The default of [`TableOptions::max_new_columns`].
pub const DEFAULT_MAX_NEW_COLUMNS: usize = 200;

impl TableOptions {
    /// Options for `pipeline`: no creation, evolution on, five attempts,
    /// floe's maintenance properties for a created table.
    pub fn new(pipeline: impl Into<String>) -> Self {
        TableOptions {
            pipeline: pipeline.into(),
            create: false,
            evolve: true,
            partition: Vec::new(),
            key: Vec::new(),
            properties: crate::maintain::created_table_properties(),
            max_attempts: 5,
            max_new_columns: DEFAULT_MAX_NEW_COLUMNS,
        }
    }
}

/// What a commit did.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct CommitReport {
    /// The snapshot committed; `None` when the batch was dropped.
    pub snapshot_id: Option<i64>,
    /// The batch was dropped: the table's offsets had moved past it (another
    /// instance applied those records).
    pub dropped: bool,
    /// Keys that became rows and had none.
    pub inserted: u64,
    /// Keys whose row was replaced.
    pub updated: u64,
    /// Keys whose row was deleted.
    pub deleted: u64,
    /// Deletes of keys the table did not have (no-ops).
    pub missing_deletes: u64,
    /// Older duplicate rows of a key deleted.
    pub duplicates_removed: u64,
    /// The table was truncated first.
    pub truncated: bool,
    /// Data files written.
    pub data_files: usize,
    /// Position delete files written.
    pub delete_files: usize,
    /// Rows written to data files.
    pub rows_written: u64,
    /// Position deletes written.
    pub deletes_written: u64,
    /// Compare-and-swap conflicts recovered from.
    pub conflicts: usize,
    /// The table's offsets after the commit.
    pub offsets: Offsets,
}

/// The buffered commit window.
#[derive(Debug, Default)]
struct Pending {
    /// Key → final state: a row of `images`, or `None` for deleted.
    rows: HashMap<IndexKey, Option<WindowRow>, KeyHashBuilder>,
    /// The after images of the batches applied, in order.
    images: Vec<Images>,
    /// A truncate was applied: everything committed before is gone.
    truncated: bool,
    /// First offset applied per partition.
    first: Offsets,
    /// Next offset per partition (last applied + 1).
    next: Offsets,
    /// Columns schema evolution added in this window.
    columns_added: usize,
}

impl Pending {
    fn is_empty(&self) -> bool {
        self.rows.is_empty() && !self.truncated
    }

    /// The image of a window row.
    fn image(&self, at: WindowRow) -> Option<ImageRef<'_>> {
        self.images[at.batch as usize].view().row(at.row as usize)
    }
}

/// Writes one Iceberg table.
///
/// ```text
/// let mut writer = TableWriter::open(catalog, ident, options).await?;
/// let skip_below = writer.offsets();            // from the table's snapshot
/// let rejected = writer.apply(changes);         // per-change errors → DLQ
/// let report = writer.commit(&consumed, &plugins).await?;
/// ```
pub struct TableWriter {
    catalog: SqlCatalog,
    ident: TableIdent,
    name: String,
    options: TableOptions,
    table: Option<LoadedTable>,
    schema: Option<SchemaState>,
    key_names: Vec<String>,
    index: Option<KeyIndex>,
    duplicates: Vec<RowLocation>,
    offsets: Offsets,
    pending: Pending,
    rebuild: RebuildStats,
    skipped: u64,
    buf: Vec<u8>,
}

impl TableWriter {
    /// Loads the table (when it exists), builds its key index and reads its
    /// offsets for `options.pipeline`. A missing table is an error unless
    /// `options.create`: it is then created at the first commit.
    pub async fn open(
        catalog: SqlCatalog,
        ident: TableIdent,
        options: TableOptions,
    ) -> Result<TableWriter, TableError> {
        let name = table_name(&ident);
        let table = match catalog.load_table(&ident).await {
            Ok(table) => Some(table),
            Err(CatalogError::NoSuchTable { .. }) if options.create => None,
            Err(err) => return Err(err.into()),
        };
        let mut writer = TableWriter {
            catalog,
            ident,
            name,
            options,
            table: None,
            schema: None,
            key_names: Vec::new(),
            index: None,
            duplicates: Vec::new(),
            offsets: Offsets::new(),
            pending: Pending::default(),
            rebuild: RebuildStats::default(),
            skipped: 0,
            buf: Vec::with_capacity(64),
        };
        if let Some(table) = table {
            writer.adopt(table).await?;
        } else {
            writer.index = Some(KeyIndex::new());
            info!(table = %writer.name, "table does not exist yet; created at the first commit");
        }
        Ok(writer)
    }

    /// Takes `table` as the base: schema, key, offsets and (when the key is
    /// known) the index rebuilt from its current snapshot.
    async fn adopt(&mut self, table: LoadedTable) -> Result<(), TableError> {
        let metadata = &table.metadata;
        self.schema = Some(SchemaState::new(
            metadata.current_schema().clone(),
            metadata.last_column_id(),
        ));
        self.offsets = table_offsets(metadata, &self.options.pipeline);
        let names = if self.key_names.is_empty() {
            self.options.key.clone()
        } else {
            self.key_names.clone()
        };
        self.index = None;
        self.duplicates.clear();
        if let Some(ids) = key_field_ids(metadata.current_schema(), &names) {
            self.key_names = ids
                .iter()
                .filter_map(|id| metadata.current_schema().name_by_field_id(*id))
                .map(str::to_string)
                .collect();
            let rebuilt = rebuild_index(self.catalog.file_io(), metadata, &ids, &self.name).await?;
            self.index = Some(rebuilt.index);
            self.duplicates = rebuilt.duplicates;
            self.rebuild = rebuilt.stats;
        }
        self.table = Some(table);
        Ok(())
    }

    /// The table's name, `namespace.name`.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// The next offset per source partition the table has committed for this
    /// pipeline: records below it are in the table already (and [`apply`]
    /// skips them).
    ///
    /// [`apply`]: TableWriter::apply
    pub fn offsets(&self) -> &Offsets {
        &self.offsets
    }

    /// Takes `table`, which table maintenance committed on top of the table
    /// this writer last committed, as the base of the next commit.
    /// Maintenance changes neither the current snapshot nor the schema, so
    /// the key index and offsets stay as they are; a table whose current
    /// snapshot differs is not taken (the next commit then reloads).
    pub fn maintained(&mut self, table: LoadedTable) {
        let current = self
            .table
            .as_ref()
            .map(|t| t.metadata.current_snapshot_id());
        if current == Some(table.metadata.current_snapshot_id()) {
            self.table = Some(table);
        }
    }

    /// The table as last loaded or committed (`None` before it is created).
    pub fn table(&self) -> Option<&LoadedTable> {
        self.table.as_ref()
    }

    /// The schema changes are checked against: the table's, evolved by the
    /// window; before the table exists, the one it will be created with
    /// (`None` until the first change).
    pub fn schema(&self) -> Option<&SchemaRef> {
        self.schema.as_ref().map(SchemaState::schema)
    }

    /// The key columns, in index order (empty while unknown).
    pub fn key_columns(&self) -> &[String] {
        &self.key_names
    }

    /// Live keys in the index.
    pub fn index_len(&self) -> usize {
        self.index.as_ref().map_or(0, KeyIndex::len)
    }

    /// Approximate memory of the index, in bytes.
    pub fn index_memory_bytes(&self) -> usize {
        self.index.as_ref().map_or(0, KeyIndex::memory_bytes)
    }

    /// What the last index rebuild read.
    pub fn rebuild_stats(&self) -> &RebuildStats {
        &self.rebuild
    }

    /// Changes skipped because the table already had their offsets.
    pub fn skipped(&self) -> u64 {
        self.skipped
    }

    /// Keys buffered for the next commit.
    pub fn pending_keys(&self) -> usize {
        self.pending.rows.len()
    }

    /// Buffers changes (in offset order), collapsing them per key: the last
    /// state wins. Returns the changes that cannot be applied, with why; the
    /// others are applied (a change below the table's offset is skipped).
    pub fn apply(&mut self, changes: impl Into<ChangeBatch>) -> Vec<Rejected> {
        let batch: ChangeBatch = changes.into();
        let mut rejected = Vec::new();
        let mut applying = Applying {
            batch: &batch,
            number: self.pending.images.len() as u32,
            sides: [None, None],
            keys: [None, None],
            kept: false,
        };
        // Per source partition: the offset below which rows are in the table.
        let skip_below: Vec<Option<i64>> = batch
            .sources()
            .iter()
            .map(|(topic, partition)| self.offsets.get(topic, *partition))
            .collect();
        // Per source partition: the first and last offsets applied.
        let mut applied: Vec<Option<(i64, i64)>> = vec![None; batch.sources().len()];
        for row in 0..batch.len() {
            let source = batch.source_index(row);
            let offset = batch.offset(row);
            if skip_below[source].is_some_and(|next| offset < next) {
                self.skipped += 1;
                continue;
            }
            if let Err(error) = self.apply_row(&mut applying, row) {
                rejected.push(Rejected {
                    change: batch.to_change(row),
                    error,
                });
            }
            let range = applied[source].get_or_insert((offset, offset));
            range.1 = range.1.max(offset);
        }
        for ((topic, partition), range) in batch.sources().iter().zip(applied) {
            let Some((first, last)) = range else { continue };
            let pending = &mut self.pending;
            if pending.first.get(topic, *partition).is_none() {
                pending.first.set(topic, *partition, first);
            }
            pending.next.advance(topic, *partition, last + 1);
        }
        if applying.kept {
            self.pending.images.push(batch.into_after());
        }
        rejected
    }

    /// Applies row `row` of a batch to the pending rows; a row it refuses
    /// leaves the window as it was.
    fn apply_row(&mut self, applying: &mut Applying<'_>, row: usize) -> Result<(), ChangeError> {
        let batch = applying.batch;
        let op = batch.op(row);
        if op == Op::Truncate {
            self.pending.rows.clear();
            self.pending.truncated = true;
            return Ok(());
        }
        let is_delete = op == Op::Delete;
        let which = if is_delete {
            Which::Before
        } else {
            Which::After
        };
        let images = batch.images(which);
        let image = images.row(row).ok_or(ChangeError::NoImage(op))?;
        if self.key_names.is_empty() {
            let key = if batch.key_columns(row).is_empty() {
                &self.options.key
            } else {
                batch.key_columns(row)
            };
            if key.is_empty() {
                return Err(ChangeError::NoKey);
            }
            let mut key = key.to_vec();
            if let Some(state) = &self.schema {
                // An existing table without identifier fields: key in id order.
                let schema = state.schema();
                key.sort_by_key(|n| schema.field_id_by_name(n).unwrap_or(i32::MAX));
            }
            self.key_names = key;
        }
        if self.schema.is_none() {
            if is_delete {
                // Nothing to delete in a table that does not exist.
                return Ok(());
            }
            if !self.options.create {
                return Err(ChangeError::NoTable);
            }
            // Key columns first in the new table's id order.
            let image = image.to_image();
            let mut key = self.key_names.clone();
            key.sort_by_key(|n| image.fields().iter().position(|f| *f.name == **n));
            let schema = new_table_schema(&image, &key)?;
            let last = schema.highest_field_id();
            self.key_names = key;
            self.schema = Some(SchemaState::new(Arc::new(schema), last));
        }
        let state = self.schema.as_mut().expect("schema set above");
        let side = applying.sides[which as usize].get_or_insert_with(|| {
            let mut budget = ColumnBudget {
                limit: self.options.max_new_columns,
                added: self.pending.columns_added,
            };
            let side = admit_side(state, images, self.options.evolve, &mut budget);
            self.pending.columns_added = budget.added;
            side
        });
        if let Some(refusal) = side.refusal(images, row) {
            return Err(refusal.clone().into());
        }
        if !is_delete && let Some(name) = side.missing_required(images, row) {
            return Err(SchemaMismatch::Required(name.to_string()).into());
        }
        let key = applying.key(which, &self.key_names, row, &mut self.buf)?;
        if op == Op::Update
            && batch.before(row).is_some()
            && let Ok(old) = applying.key(Which::Before, &self.key_names, row, &mut self.buf)
            && old != key
        {
            // A primary-key change as one update: delete the old key.
            self.pending.rows.insert(old, None);
        }
        let state = (!is_delete).then_some(WindowRow {
            batch: applying.number,
            row: row as u32,
        });
        applying.kept |= state.is_some();
        self.pending.rows.insert(key, state);
        Ok(())
    }

    /// Commits the buffered window with the next offsets `consumed` (per
    /// source partition feeding this table, including records that produced
    /// no change) and the plugin versions. Returns `None` when there was
    /// nothing to commit.
    ///
    /// On a lost compare-and-swap the table is reloaded: if its offsets moved
    /// past this window's first offsets, the window is dropped (reported);
    /// else the index is rebuilt and the commit retried.
    pub async fn commit(
        &mut self,
        consumed: &Offsets,
        plugins: &BTreeMap<String, String>,
    ) -> Result<Option<CommitReport>, TableError> {
        let offsets = self.pending.next.advanced_by(consumed);
        let advances = offsets
            .iter()
            .any(|(t, p, o)| self.offsets.get(t, p).is_none_or(|cur| o > cur));
        if self.pending.is_empty() && !advances {
            return Ok(None);
        }
        if self.table.is_none() && self.pending.rows.values().all(Option::is_none) && !advances {
            self.pending = Pending::default();
            return Ok(None);
        }
        let mut conflicts = 0;
        loop {
            if self.table.is_none() {
                if self.schema.is_none() {
                    // Only deletes or offsets for a table never created: nothing to write.
                    self.offsets = self.offsets.advanced_by(&offsets);
                    self.pending = Pending::default();
                    return Ok(None);
                }
                match self.create().await {
                    Ok(table) => {
                        self.table = Some(table);
                        self.index.get_or_insert_with(KeyIndex::new);
                    }
                    Err(TableError::Catalog(CatalogError::TableAlreadyExists { .. })) => {
                        conflicts += 1;
                        self.reload().await?;
                        continue;
                    }
                    Err(err) => return Err(err),
                }
            }
            if self.index.is_none() {
                let table = self.table.clone().expect("table loaded");
                self.adopt(table).await?;
                if self.index.is_none() {
                    return Err(TableError::NoKey {
                        table: self.name.clone(),
                    });
                }
            }
            let (delta, plan) = self.plan(&offsets, plugins).await?;
            let base = self.table.clone().expect("table loaded");
            match commit_row_delta(&self.catalog, &base, delta).await {
                Ok(table) => {
                    let report = self.finish(table, plan, offsets, conflicts);
                    return Ok(Some(report));
                }
                Err(err) if err.is_conflict() => {
                    conflicts += 1;
                    for path in &plan.files {
                        let _ = self.catalog.file_io().delete(path).await;
                    }
                    warn!(table = %self.name, attempt = conflicts, "commit conflict; reloading");
                    self.reload().await?;
                    let theirs = self.offsets.clone();
                    if theirs.any_ahead_of(&self.pending.first) {
                        warn!(table = %self.name, "table offsets moved past this batch (another instance applied it); dropping the batch");
                        self.pending = Pending::default();
                        return Ok(Some(CommitReport {
                            dropped: true,
                            conflicts,
                            offsets: theirs,
                            ..CommitReport::default()
                        }));
                    }
                    if conflicts >= self.options.max_attempts {
                        return Err(TableError::TooManyConflicts {
                            table: self.name.clone(),
                            attempts: conflicts,
                        });
                    }
                }
                Err(err) => {
                    for path in &plan.files {
                        let _ = self.catalog.file_io().delete(path).await;
                    }
                    return Err(err.into());
                }
            }
        }
    }

    /// Forgets the buffered window (its records will be read again).
    pub fn discard(&mut self) {
        self.pending = Pending::default();
    }

    /// Forgets the buffered window and catches up with the catalog: when
    /// another writer committed since this one loaded the table, the table
    /// is reloaded (schema, offsets, key index). Called when partitions move
    /// between processes.
    pub async fn refresh(&mut self) -> Result<(), TableError> {
        self.pending = Pending::default();
        let table = match self.catalog.load_table(&self.ident).await {
            Ok(table) => table,
            Err(CatalogError::NoSuchTable { .. }) if self.options.create => return Ok(()),
            Err(err) => return Err(err.into()),
        };
        let unchanged = self
            .table
            .as_ref()
            .is_some_and(|t| t.metadata_location == table.metadata_location);
        if !unchanged {
            info!(table = %self.name, "the table moved on since it was loaded; reloading");
            self.adopt(table).await?;
        }
        Ok(())
    }

    /// Reloads the table after a conflict and re-admits the buffered rows to
    /// its (possibly changed) schema.
    async fn reload(&mut self) -> Result<(), TableError> {
        let table = self.catalog.load_table(&self.ident).await?;
        self.adopt(table).await?;
        let state = self.schema.as_mut().expect("adopt sets the schema");
        for at in self.pending.rows.values().flatten() {
            let image = self.pending.image(*at).expect("window rows have an image");
            state
                .admit(&image, self.options.evolve, false)
                .map_err(|source| TableError::Schema {
                    table: self.name.clone(),
                    source,
                })?;
        }
        Ok(())
    }

    async fn create(&mut self) -> Result<LoadedTable, TableError> {
        let state = self.schema.as_ref().expect("schema known");
        let schema = state.schema().as_ref().clone();
        let spec = partition_spec(&self.options.partition, &schema).map_err(|source| {
            TableError::Partition {
                table: self.name.clone(),
                source,
            }
        })?;
        self.catalog
            .ensure_namespace(self.ident.namespace())
            .await?;
        let table = self
            .catalog
            .create_table(&self.ident, schema, spec, self.options.properties.clone())
            .await?;
        // Ids may have been reassigned: take the table's schema.
        self.schema = Some(SchemaState::new(
            table.metadata.current_schema().clone(),
            table.metadata.last_column_id(),
        ));
        Ok(table)
    }

    /// Writes the window's files and describes the commit.
    async fn plan(
        &mut self,
        offsets: &Offsets,
        plugins: &BTreeMap<String, String>,
    ) -> Result<(RowDelta, Plan), TableError> {
        let table = self.table.as_ref().expect("table loaded");
        let metadata = table.metadata.clone();
        let file_io = self.catalog.file_io().clone();
        let state = self.schema.as_ref().expect("schema known");
        let schema: SchemaRef = state.schema().clone();
        let evolved = state.evolved();
        let spec = metadata.default_partition_spec().clone();
        let spec_id = spec.spec_id();
        let partitioner = Partitioner::new(&spec, &schema).map_err(|source| TableError::Write {
            table: self.name.clone(),
            path: metadata.location().to_string(),
            source,
        })?;
        let index = self.index.as_ref().expect("index built");
        let truncated = self.pending.truncated;

        let mut plan = Plan {
            truncated,
            ..Plan::default()
        };
        // Data file (the index's number) → positions deleted in it: one
        // delete file per data file (`write.delete.granularity = file`), so
        // that a reader attaches it to that file only. Partition → rows.
        let mut deletes: BTreeMap<u32, Vec<u32>> = BTreeMap::new();
        let mut rows: HashMap<Struct, Vec<(IndexKey, WindowRow)>> = HashMap::new();
        let mut delete_row = |at: RowLocation| deletes.entry(at.file).or_default().push(at.pos);
        if !truncated {
            for at in &self.duplicates {
                delete_row(*at);
                plan.report.duplicates_removed += 1;
            }
        }
        for (key, row) in &self.pending.rows {
            let old = if truncated { None } else { index.get(key) };
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
                let image = self.pending.image(at).expect("window rows have an image");
                let partition =
                    partitioner
                        .partition(&image)
                        .map_err(|source| TableError::Write {
                            table: self.name.clone(),
                            path: metadata.location().to_string(),
                            source,
                        })?;
                rows.entry(partition).or_default().push((*key, at));
            }
        }

        let commit = Uuid::new_v4();
        let data_root = format!("{}/data", metadata.location().trim_end_matches('/'));
        let arrow = Arc::new(iceberg::arrow::schema_to_arrow_schema(&schema).map_err(
            |source| TableError::Write {
                table: self.name.clone(),
                path: data_root.clone(),
                source,
            },
        )?);
        let mut delta = RowDelta {
            truncate: truncated,
            schema: evolved.then(|| schema.as_ref().clone()),
            pipeline: self.options.pipeline.clone(),
            offsets: offsets.clone(),
            plugins: plugins.clone(),
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
            let write_err = |source: iceberg::Error| TableError::Write {
                table: self.name.clone(),
                path: path.clone(),
                source,
            };
            let batch = record_batch(&schema, &arrow, &self.pending.images, &at).map_err(|e| {
                write_err(
                    iceberg::Error::new(
                        iceberg::ErrorKind::DataInvalid,
                        "building the record batch",
                    )
                    .with_source(e),
                )
            })?;
            plan.files.push(path.clone());
            let file = write_data_file(
                &file_io,
                &path,
                schema.clone(),
                &batch,
                spec_id,
                partition.clone(),
            )
            .await
            .map_err(write_err)?;
            plan.report.rows_written += keyed.len() as u64;
            let file_no = plan.new_files.len() as u32;
            plan.new_files.push(IndexedFile {
                path: Arc::from(path.as_str()),
                spec_id,
                partition,
            });
            plan.added.extend(
                keyed
                    .iter()
                    .enumerate()
                    .map(|(pos, (key, _))| (*key, file_no, pos as u32)),
            );
            delta.data_files.entry(spec_id).or_default().push(file);
        }
        for (data_file, mut positions) in deletes {
            let target = index.file(data_file);
            let dir = match metadata.partition_spec_by_id(target.spec_id) {
                Some(s) => partition_dir(s, &schema, &target.partition),
                None => String::new(),
            };
            let path = format!("{data_root}/{dir}{commit}-{n:05}-deletes.parquet");
            n += 1;
            plan.files.push(path.clone());
            plan.report.deletes_written += positions.len() as u64;
            let file = write_position_delete_file(&file_io, &path, target, &mut positions)
                .await
                .map_err(|source| TableError::Write {
                    table: self.name.clone(),
                    path: path.clone(),
                    source,
                })?;
            delta
                .delete_files
                .entry(target.spec_id)
                .or_default()
                .push(file);
        }
        plan.report.data_files = delta.data_files.values().map(Vec::len).sum();
        plan.report.delete_files = delta.delete_files.values().map(Vec::len).sum();
        plan.report.truncated = truncated;
        debug!(table = %self.name, report = ?plan.report, "commit planned");
        Ok((delta, plan))
    }

    /// Applies a committed plan to the index and resets the window.
    fn finish(
        &mut self,
        table: LoadedTable,
        plan: Plan,
        offsets: Offsets,
        conflicts: usize,
    ) -> CommitReport {
        let index = self.index.get_or_insert_with(KeyIndex::new);
        if plan.truncated {
            index.clear();
        }
        for key in &plan.removed {
            index.remove(key);
        }
        let ids: Vec<u32> = plan
            .new_files
            .into_iter()
            .map(|f| index.intern(f))
            .collect();
        for (key, file_no, pos) in plan.added {
            index.insert(
                key,
                RowLocation {
                    file: ids[file_no as usize],
                    pos,
                },
            );
        }
        self.duplicates.clear();
        self.schema = Some(SchemaState::new(
            table.metadata.current_schema().clone(),
            table.metadata.last_column_id(),
        ));
        self.offsets = self.offsets.advanced_by(&offsets);
        let mut report = plan.report;
        report.snapshot_id = table.metadata.current_snapshot_id();
        report.conflicts = conflicts;
        report.offsets = self.offsets.clone();
        self.table = Some(table);
        self.pending = Pending::default();
        info!(
            table = %self.name,
            snapshot_id = report.snapshot_id,
            inserted = report.inserted,
            updated = report.updated,
            deleted = report.deleted,
            missing_deletes = report.missing_deletes,
            keys = self.index_len(),
            "table committed"
        );
        report
    }
}

/// A planned commit: the files written and the index changes it makes.
#[derive(Debug, Default)]
struct Plan {
    truncated: bool,
    /// Every file written (removed again if the commit fails).
    files: Vec<String>,
    /// Keys whose old row is gone.
    removed: Vec<IndexKey>,
    /// New data files, in `added`'s numbering.
    new_files: Vec<IndexedFile>,
    /// Key → (new file number, position).
    added: Vec<(IndexKey, u32, u32)>,
    report: CommitReport,
}

/// A batch being applied, and what is learnt of it once.
struct Applying<'b> {
    batch: &'b ChangeBatch,
    /// Its number in the window.
    number: u32,
    /// The schema's view of the after images and the before images.
    sides: [Option<SideColumns>; 2],
    /// Each key column's columns in the before and after images.
    keys: [Option<Vec<Vec<usize>>>; 2],
    /// Whether a row of its after images went into the window.
    kept: bool,
}

impl Applying<'_> {
    /// The index key of row `row`'s image `which`.
    fn key(
        &mut self,
        which: Which,
        names: &[String],
        row: usize,
        buf: &mut Vec<u8>,
    ) -> Result<IndexKey, ChangeError> {
        let images = self.batch.images(which);
        let columns = self.keys[which as usize]
            .get_or_insert_with(|| names.iter().map(|n| columns_named(images, n)).collect());
        buf.clear();
        for (name, columns) in names.iter().zip(columns.iter()) {
            let cell = columns
                .iter()
                .find_map(|&c| {
                    let column = images.column(c);
                    column.cell(row).flatten().map(|bytes| (column.ty(), bytes))
                })
                .ok_or_else(|| SchemaMismatch::MissingKey(name.clone()))?;
            encode_cell(cell.0, cell.1, buf);
        }
        Ok(index_key(buf))
    }
}

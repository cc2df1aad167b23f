//! The table writer: the facade the pipeline uses. It holds one table's
//! state (schema, key, key index, offsets), buffers a commit window of
//! changes ([`super::window`]) and commits it as one row-delta snapshot:
//! the window's files are written by [`super::plan`], swapped into the
//! catalog by [`crate::commit::attempt`] and the key index kept up by
//! [`crate::commit::index_upkeep`].

use std::collections::BTreeMap;

use iceberg::spec::SchemaRef;
use tracing::{info, warn};

use super::error::{Rejected, TableError};
use super::fill::{FillContext, Filled, fill};
use super::index::{KeyIndex, RowLocation, RowMoves};
use super::options::TableOptions;
use super::partition::partition_spec;
use super::plan::{Carried, Target, Written, write_window};
use super::rebuild::{RebuildStats, key_field_ids, rebuild_index};
use super::schema::SchemaState;
use super::window::{TableShape, Window};
use crate::change::ChangeBatch;
use crate::commit::attempt::{
    Attempt, CaughtUp, Committer, Outcome, Prepared, commit_with_retries,
};
use crate::commit::catalog::table_name;
use crate::commit::index_upkeep::IndexChanges;
use crate::commit::offsets::table_offsets;
use crate::commit::{Catalog, CatalogError, LoadedTable, Offsets};

pub use crate::commit::catalog::TableIdent;

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

/// Writes one Iceberg table.
///
/// ```text
/// let mut writer = TableWriter::open(catalog, ident, options).await?;
/// let door = writer.offsets();                  // from the table's snapshot
/// let rejected = writer.apply(fresh_changes);   // per-change errors → DLQ
/// let report = writer.commit(&consumed, &plugins).await?;
/// ```
pub struct TableWriter {
    catalog: Catalog,
    ident: TableIdent,
    name: String,
    options: TableOptions,
    table: Option<LoadedTable>,
    shape: TableShape,
    index: Option<KeyIndex>,
    /// The snapshot the index is of: a commit's position deletes point into
    /// it, so it must be the commit's base (checked before each attempt).
    index_snapshot: Option<i64>,
    duplicates: Vec<RowLocation>,
    offsets: Offsets,
    window: Window,
    rebuild: RebuildStats,
}

impl TableWriter {
    /// Loads the table (when it exists), builds its key index and reads its
    /// offsets for `options.pipeline`. A missing table is an error unless
    /// `options.create`: it is then created at the first commit.
    pub async fn open(
        catalog: impl Into<Catalog>,
        ident: TableIdent,
        options: TableOptions,
    ) -> Result<TableWriter, TableError> {
        let catalog = catalog.into();
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
            shape: TableShape::default(),
            index: None,
            index_snapshot: None,
            duplicates: Vec::new(),
            offsets: Offsets::new(),
            window: Window::default(),
            rebuild: RebuildStats::default(),
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
        self.shape.schema = Some(SchemaState::new(
            metadata.current_schema().clone(),
            metadata.last_column_id(),
        ));
        self.offsets = table_offsets(metadata, &self.options.pipeline);
        let names = if self.shape.key_names.is_empty() {
            self.options.key.clone()
        } else {
            self.shape.key_names.clone()
        };
        self.index = None;
        self.duplicates.clear();
        if let Some(ids) = key_field_ids(metadata.current_schema(), &names) {
            self.shape.key_names = ids
                .iter()
                .filter_map(|id| metadata.current_schema().name_by_field_id(*id))
                .map(str::to_string)
                .collect();
            let rebuilt = rebuild_index(self.catalog.file_io(), metadata, &ids, &self.name).await?;
            self.index = Some(rebuilt.index);
            self.index_snapshot = metadata.current_snapshot_id();
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

    /// Takes `table`, which compaction committed on top of snapshot
    /// `parent`, as the base of the next commit, and points the key index
    /// at the rows' new places (`moves`) instead of rebuilding it. When the
    /// writer's table is not at `parent` (another writer committed since)
    /// nothing is taken: the next commit loses its compare-and-swap and
    /// reloads. Should the remap find a key at a row the compaction found
    /// deleted (the index did not match the table), the index is rebuilt
    /// before the next commit.
    pub fn compacted(&mut self, table: LoadedTable, parent: Option<i64>, moves: &RowMoves) {
        let current = self
            .table
            .as_ref()
            .and_then(|t| t.metadata.current_snapshot_id());
        if current.is_none() || current != parent || !self.duplicates.is_empty() {
            return;
        }
        let Some(index) = self.index.as_mut() else {
            return;
        };
        let remapped = index.remap(moves);
        if remapped.lost > 0 {
            warn!(table = %self.name, lost = remapped.lost, "the key index pointed at rows compaction found deleted; rebuilding it");
            self.index = None;
        }
        self.index_snapshot = table.metadata.current_snapshot_id();
        self.table = Some(table);
    }

    /// The key index (`None` while the key is unknown).
    pub fn index(&self) -> Option<&KeyIndex> {
        self.index.as_ref()
    }

    /// The table as last loaded or committed (`None` before it is created).
    pub fn table(&self) -> Option<&LoadedTable> {
        self.table.as_ref()
    }

    /// The schema changes are checked against: the table's, evolved by the
    /// window; before the table exists, the one it will be created with
    /// (`None` until the first change).
    pub fn schema(&self) -> Option<&SchemaRef> {
        self.shape.schema.as_ref().map(SchemaState::schema)
    }

    /// The key columns, in index order (empty while unknown).
    pub fn key_columns(&self) -> &[String] {
        &self.shape.key_names
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

    /// Keys buffered for the next commit.
    pub fn pending_keys(&self) -> usize {
        self.window.rows.len()
    }

    /// Buffers changes (in offset order), collapsing them per key: the last
    /// state wins. Returns the changes that cannot be applied, with why; the
    /// others are applied. Which changes the table already has is the
    /// caller's to decide, once, before it gets here (the pipeline's door,
    /// [`TableWriter::offsets`]).
    pub fn apply(&mut self, changes: impl Into<ChangeBatch>) -> Vec<Rejected> {
        self.window
            .apply(changes.into(), &mut self.shape, &self.options)
            .rejected
    }

    /// Fills the partial rows of `changes` (columns the source left
    /// unchanged) from each key's current state: an earlier change of the
    /// batch or the window's pending row, else the live row in the table
    /// (read from its data file). A partial row of a key with no row is
    /// rejected; the others come back full, to [`apply`](TableWriter::apply)
    /// next. A batch without partial rows comes back as it is. See
    /// [`super::fill`].
    pub async fn fill(&self, changes: ChangeBatch) -> Filled {
        let table = self
            .table
            .as_ref()
            .map(|t| (self.catalog.file_io(), t.metadata.current_schema().as_ref()));
        fill(
            changes,
            FillContext {
                name: &self.name,
                window: &self.window,
                key_names: &self.shape.key_names,
                default_key: &self.options.key,
                index: self.index.as_ref(),
                table,
            },
        )
        .await
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
        let offsets = self.window.next.advanced_by(consumed);
        let advances = offsets
            .iter()
            .any(|(t, p, o)| self.offsets.get(t, p).is_none_or(|cur| o > cur));
        if self.window.is_empty() && !advances {
            return Ok(None);
        }
        if self.table.is_none() && self.window.rows.values().all(Option::is_none) && !advances {
            self.window = Window::default();
            return Ok(None);
        }
        let max_attempts = self.options.max_attempts;
        let mut committing = WindowCommit {
            writer: self,
            offsets: &offsets,
            plugins,
        };
        match commit_with_retries(&mut committing, max_attempts).await? {
            Outcome::Nothing => Ok(None),
            Outcome::Committed {
                table,
                kept: (changes, report),
                conflicts,
            } => Ok(Some(
                self.finish(table, changes, report, offsets, conflicts),
            )),
            Outcome::Dropped { conflicts } => Ok(Some(CommitReport {
                dropped: true,
                conflicts,
                offsets: self.offsets.clone(),
                ..CommitReport::default()
            })),
            Outcome::GaveUp { attempts } => Err(TableError::TooManyConflicts {
                table: self.name.clone(),
                attempts,
            }),
        }
    }

    /// Forgets the buffered window (its records will be read again).
    pub fn discard(&mut self) {
        self.window = Window::default();
    }

    /// Forgets the buffered window and catches up with the catalog: when
    /// another writer committed since this one loaded the table, the table
    /// is reloaded (schema, offsets, key index). Called when partitions move
    /// between processes.
    pub async fn refresh(&mut self) -> Result<(), TableError> {
        self.window = Window::default();
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
        self.rebase(table).await
    }

    /// Takes `table` as the base (its index rebuilt) and re-admits the
    /// buffered rows to its schema.
    async fn rebase(&mut self, table: LoadedTable) -> Result<(), TableError> {
        self.adopt(table).await?;
        let state = self.shape.schema.as_mut().expect("adopt sets the schema");
        self.window
            .readmit(state, self.options.evolve)
            .map_err(|source| TableError::Schema {
                table: self.name.clone(),
                source,
            })
    }

    /// Creates the table with the schema the window's changes taught.
    async fn create(&mut self) -> Result<LoadedTable, TableError> {
        let state = self.shape.schema.as_ref().expect("schema known");
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
        self.shape.schema = Some(SchemaState::new(
            table.metadata.current_schema().clone(),
            table.metadata.last_column_id(),
        ));
        Ok(table)
    }

    /// Takes a committed window's table: the key index kept up, the window
    /// reset.
    fn finish(
        &mut self,
        table: LoadedTable,
        changes: IndexChanges,
        mut report: CommitReport,
        offsets: Offsets,
        conflicts: usize,
    ) -> CommitReport {
        changes.apply_to(self.index.get_or_insert_with(KeyIndex::new));
        self.duplicates.clear();
        self.shape.schema = Some(SchemaState::new(
            table.metadata.current_schema().clone(),
            table.metadata.last_column_id(),
        ));
        self.offsets = self.offsets.advanced_by(&offsets);
        report.snapshot_id = table.metadata.current_snapshot_id();
        self.index_snapshot = report.snapshot_id;
        report.conflicts = conflicts;
        report.offsets = self.offsets.clone();
        self.table = Some(table);
        self.window = Window::default();
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

/// A writer committing its window: what the compare-and-swap loop asks of it.
struct WindowCommit<'w> {
    writer: &'w mut TableWriter,
    /// The next offsets the commit carries.
    offsets: &'w Offsets,
    /// The plugin versions it carries.
    plugins: &'w BTreeMap<String, String>,
}

impl Committer for WindowCommit<'_> {
    type Kept = (IndexChanges, CommitReport);
    type Error = TableError;

    fn name(&self) -> &str {
        &self.writer.name
    }

    fn catalog(&self) -> &Catalog {
        &self.writer.catalog
    }

    async fn prepare(&mut self) -> Result<Prepared<Self::Kept>, TableError> {
        let writer = &mut *self.writer;
        if writer.table.is_none() {
            if writer.shape.schema.is_none() {
                // Only deletes or offsets for a table never created: nothing to write.
                writer.offsets = writer.offsets.advanced_by(self.offsets);
                writer.window = Window::default();
                return Ok(Prepared::Nothing);
            }
            match writer.create().await {
                Ok(table) => {
                    writer.table = Some(table);
                    writer.index.get_or_insert_with(KeyIndex::new);
                }
                Err(TableError::Catalog(CatalogError::TableAlreadyExists { .. })) => {
                    writer.reload().await?;
                    return Ok(Prepared::Lost);
                }
                Err(err) => return Err(err),
            }
        }
        if writer.index.is_none() {
            let table = writer.table.clone().expect("table loaded");
            writer.adopt(table).await?;
            if writer.index.is_none() {
                return Err(TableError::NoKey {
                    table: writer.name.clone(),
                });
            }
        }
        let base = writer.table.clone().expect("table loaded");
        if writer.index_snapshot != base.metadata.current_snapshot_id() {
            // The index is not of the base: its positions may point into
            // files the base no longer has (rewritten by another writer).
            warn!(table = %writer.name, "the key index is not of the table's current snapshot; rebuilding it before the commit");
            writer.rebase(base.clone()).await?;
        }
        let target = Target {
            name: &writer.name,
            file_io: writer.catalog.file_io(),
            metadata: &base.metadata,
            schema: writer.shape.schema.as_ref().expect("schema known"),
            index: writer.index.as_ref().expect("index built"),
        };
        let carried = Carried {
            pipeline: &writer.options.pipeline,
            offsets: self.offsets,
            plugins: self.plugins,
        };
        let Written {
            delta,
            files,
            changes,
            report,
        } = write_window(target, &writer.window, &writer.duplicates, carried).await?;
        Ok(Prepared::Attempt(
            Box::new(Attempt { base, delta, files }),
            (changes, report),
        ))
    }

    async fn catch_up(&mut self) -> Result<CaughtUp, TableError> {
        let writer = &mut *self.writer;
        writer.reload().await?;
        if writer.offsets.any_ahead_of(&writer.window.first) {
            warn!(table = %writer.name, "table offsets moved past this batch (another instance applied it); dropping the batch");
            writer.window = Window::default();
            return Ok(CaughtUp::Dropped);
        }
        Ok(CaughtUp::Retry)
    }
}

//! The pipeline: records from the source, through each table's decoder and
//! transform chain, into the table writers; rejected records into the
//! dead-letter queue; one Iceberg snapshot per table per commit window.
//!
//! Exactly once: every snapshot floe commits carries the next offset of each
//! source partition that feeds the table (`floe.offsets`). On start the
//! source is positioned at the smallest offset any table needs, and each
//! table skips the records below its own offset, so a run that stopped at
//! any point (even `kill -9`) replays to the same table contents. A commit
//! window writes its DLQ files first, then commits each table.

use std::collections::{BTreeMap, HashMap};
use std::sync::Arc;
use std::time::Instant;

use crate::change::ColumnType;
use crate::commit::Offsets;
use crate::commit::catalog::{self, SqlCatalog};
use crate::config::{PipelineConfig, SourceConfig, TableConfig};
use crate::decode::{DebeziumConfig, DebeziumDecoder, Decoded};
use crate::dlq::{DeadLetter, DlqStage, DlqWriter};
use crate::plugin::{DecodeStage, HotReload, PluginEngine, PluginRegistry, TransformStage};
use crate::source::{FileSource, RawRecord};
use crate::table::schema::column_type;
use crate::table::{CommitReport, TableOptions, TableWriter};

/// Why a pipeline cannot start or go on.
#[derive(Debug, thiserror::Error)]
pub enum PipelineError {
    /// Something it needs at start-up is wrong or unreachable (exit code 2).
    #[error("{0}")]
    Setup(String),
    /// Running failed (the last window is not committed; a rerun resumes).
    #[error("{0}")]
    Run(String),
}

/// What a run did, for the summary line and tests.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct RunSummary {
    /// Records read from the source.
    pub records: u64,
    /// Records sent to the dead-letter queue.
    pub dead_letters: u64,
    /// Records that carried no row change (tombstones, transaction markers, …).
    pub skipped: u64,
    /// Snapshots committed, over all tables.
    pub snapshots: u64,
}

/// How a table turns raw records into changes.
enum TableDecoder {
    Debezium(Box<DebeziumDecoder>),
    Plugin(DecodeStage),
}

/// One configured table at run time.
struct TableRun {
    name: String,
    decoder: TableDecoder,
    transforms: Vec<TransformStage>,
    writer: TableWriter,
    /// The records consumed this window: next offset per partition.
    consumed: Offsets,
    /// The first offset of this window per (topic, partition): names its DLQ file.
    window_start: BTreeMap<(Arc<str>, i32), i64>,
    /// Dead letters of this window per (topic, partition).
    dead: BTreeMap<(Arc<str>, i32), Vec<DeadLetter>>,
    /// The plugin versions that produced this window's changes.
    plugins: BTreeMap<String, String>,
}

/// A running pipeline.
///
/// Catalog and table I/O is async and runs on the pipeline's own runtime;
/// decoding and plugin calls run outside it (wasmtime-wasi's synchronous
/// bindings drive their own and must not be nested in another).
pub struct Pipeline {
    runtime: tokio::runtime::Runtime,
    config: PipelineConfig,
    tables: Vec<TableRun>,
    dlq: DlqWriter,
    _reload: Option<HotReload>,
    summary: RunSummary,
    buffered: usize,
}

impl Pipeline {
    /// Connects to the catalog, loads the plugins and opens every table
    /// (rebuilding its key index). Any failure here is a
    /// [`PipelineError::Setup`]: nothing has been written.
    pub fn open(config: PipelineConfig) -> Result<Self, PipelineError> {
        let setup = |e: String| PipelineError::Setup(e);
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .map_err(|e| setup(format!("starting the async runtime: {e}")))?;
        let catalog = runtime
            .block_on(SqlCatalog::connect(&catalog::CatalogConfig {
                name: config.catalog.name.clone(),
                uri: config.catalog.uri.clone(),
                warehouse: config.catalog.warehouse.clone(),
            }))
            .map_err(|e| setup(format!("catalog {}: {e}", config.catalog.uri)))?;
        let (registry, reload) = match &config.plugins.dir {
            Some(dir) => {
                let cache = config
                    .plugins
                    .cache_dir
                    .clone()
                    .unwrap_or_else(PluginEngine::default_cache_dir);
                let engine = PluginEngine::new(cache).map_err(|e| setup(e.to_string()))?;
                let registry =
                    PluginRegistry::open(engine, dir).map_err(|e| setup(e.to_string()))?;
                let reload = if config.plugins.hot_reload {
                    Some(HotReload::start(registry.clone()).map_err(|e| setup(e.to_string()))?)
                } else {
                    None
                };
                (Some(registry), reload)
            }
            None => (None, None),
        };
        let mut tables = Vec::with_capacity(config.tables.len());
        for table in &config.tables {
            tables.push(open_table(
                &runtime,
                &config,
                table,
                &catalog,
                registry.as_ref(),
            )?);
        }
        Ok(Pipeline {
            runtime,
            dlq: DlqWriter::new(config.dlq.path.clone()),
            config,
            tables,
            _reload: reload,
            summary: RunSummary::default(),
            buffered: 0,
        })
    }

    /// Runs a file source to its end, committing every window, and returns
    /// what it did.
    pub fn run_to_end(mut self) -> Result<RunSummary, PipelineError> {
        let SourceConfig::File { path, topic } = self.config.source.clone() else {
            return Err(PipelineError::Setup(
                "only `[source] kind = \"file\"` runs to an end; Kafka sources stream".into(),
            ));
        };
        let router = self.config.router();
        let feeding = router.tables_for(&topic);
        if feeding.is_empty() {
            return Err(PipelineError::Setup(format!(
                "no [[tables]] entry takes topic `{topic}`"
            )));
        }
        let mut source =
            FileSource::open(&path, &topic).map_err(|e| PipelineError::Setup(e.to_string()))?;
        let start = feeding
            .iter()
            .map(|&t| self.tables[t].writer.offsets().get(&topic, 0).unwrap_or(0))
            .min()
            .unwrap_or(0);
        source
            .seek(start)
            .map_err(|e| PipelineError::Run(e.to_string()))?;
        if start > 0 {
            tracing::info!(%topic, offset = start, "resuming where the tables' snapshots say");
        }
        let interval = self.config.commit.interval();
        let max_records = self.config.commit.max_records;
        let mut window_started = Instant::now();
        loop {
            let batch = source
                .next_batch(max_records.min(8192))
                .map_err(|e| PipelineError::Run(e.to_string()))?;
            if batch.is_empty() {
                break;
            }
            self.summary.records += batch.len() as u64;
            self.buffered += batch.len();
            for &table in &feeding {
                self.process(table, &batch);
            }
            if self.buffered >= max_records || window_started.elapsed() >= interval {
                self.commit()?;
                window_started = Instant::now();
            }
        }
        self.commit()?;
        Ok(self.summary)
    }

    /// Decodes, transforms and buffers `records` for table `index`.
    fn process(&mut self, index: usize, records: &[RawRecord]) {
        let run = &mut self.tables[index];
        let (first, last) = (&records[0], &records[records.len() - 1]);
        let already = run
            .writer
            .offsets()
            .get(&first.topic, first.partition)
            .unwrap_or(0);
        let fresh: Vec<&RawRecord> = records.iter().filter(|r| r.offset >= already).collect();
        run.consumed
            .advance(&last.topic, last.partition, last.offset + 1);
        if fresh.is_empty() {
            return;
        }
        run.window_start
            .entry((first.topic.clone(), first.partition))
            .or_insert(fresh[0].offset);
        let by_offset: HashMap<i64, &RawRecord> = fresh.iter().map(|r| (r.offset, *r)).collect();
        let mut dead = Vec::new();
        let mut changes = Vec::with_capacity(fresh.len());
        match &mut run.decoder {
            TableDecoder::Debezium(decoder) => {
                for record in &fresh {
                    match decoder.decode(record) {
                        Ok(Decoded::Changes(decoded)) => changes.extend(decoded),
                        Ok(Decoded::Skipped(_)) => self.summary.skipped += 1,
                        Err(error) => dead.push(letter(
                            record,
                            &run.name,
                            DlqStage::Decode,
                            error.to_string(),
                        )),
                    }
                }
            }
            TableDecoder::Plugin(stage) => {
                let owned: Vec<RawRecord> = fresh.iter().map(|r| (*r).clone()).collect();
                let output = stage.apply(&owned);
                run.plugins
                    .insert(output.plugin.name.clone(), output.plugin.sha256.clone());
                for rejected in output.rejected {
                    dead.push(letter(
                        &owned[rejected.index],
                        &run.name,
                        DlqStage::Decode,
                        rejected.reason,
                    ));
                }
                changes = output.changes;
            }
        }
        for change in &mut changes {
            change.table.clone_from(&run.name);
        }
        for stage in &mut run.transforms {
            let output = stage.apply(changes);
            run.plugins
                .insert(output.plugin.name.clone(), output.plugin.sha256.clone());
            for rejected in output.rejected {
                if let Some(record) = by_offset.get(&rejected.change.position.offset) {
                    dead.push(letter(
                        record,
                        &run.name,
                        DlqStage::Transform,
                        rejected.reason,
                    ));
                }
            }
            changes = Vec::with_capacity(output.changes.len());
            for change in output.changes {
                if change.table == run.name {
                    changes.push(change);
                } else if let Some(record) = by_offset.get(&change.position.offset) {
                    let reason = format!(
                        "routed to table `{}`: routing between tables is not supported by the file source yet",
                        change.table
                    );
                    dead.push(letter(record, &run.name, DlqStage::Transform, reason));
                }
            }
        }
        for rejected in run.writer.apply(changes) {
            if let Some(record) = by_offset.get(&rejected.change.position.offset) {
                dead.push(letter(
                    record,
                    &run.name,
                    DlqStage::Write,
                    rejected.error.to_string(),
                ));
            }
        }
        if !dead.is_empty() {
            self.summary.dead_letters += dead.len() as u64;
            run.dead
                .entry((first.topic.clone(), first.partition))
                .or_default()
                .extend(dead);
        }
    }

    /// Commits the window: DLQ files first, then one snapshot per table.
    fn commit(&mut self) -> Result<(), PipelineError> {
        for run in &mut self.tables {
            for ((topic, partition), letters) in std::mem::take(&mut run.dead) {
                let start = run
                    .window_start
                    .get(&(topic.clone(), partition))
                    .copied()
                    .unwrap_or(0);
                let path = self
                    .dlq
                    .write_window(&run.name, &topic, partition, start, &letters)
                    .map_err(|e| PipelineError::Run(e.to_string()))?;
                tracing::info!(table = %run.name, records = letters.len(), file = %path.display(), "dead letters written");
            }
            let started = Instant::now();
            let report = self
                .runtime
                .block_on(run.writer.commit(&run.consumed, &run.plugins))
                .map_err(|e| PipelineError::Run(format!("committing {}: {e}", run.name)))?;
            if let Some(report) = report {
                log_commit(&run.name, &report, started.elapsed());
                if report.snapshot_id.is_some() {
                    self.summary.snapshots += 1;
                }
            }
            run.consumed = Offsets::new();
            run.window_start.clear();
        }
        self.buffered = 0;
        Ok(())
    }
}

fn open_table(
    runtime: &tokio::runtime::Runtime,
    config: &PipelineConfig,
    table: &TableConfig,
    catalog: &SqlCatalog,
    registry: Option<&Arc<PluginRegistry>>,
) -> Result<TableRun, PipelineError> {
    let setup = |e: String| PipelineError::Setup(format!("table {}: {e}", table.table));
    let ident = catalog::parse_table_ident(&table.table)
        .ok_or_else(|| setup("not `namespace.name`".into()))?;
    let mut options = TableOptions::new(config.pipeline.clone());
    options.create = table.create;
    options.partition = table.partition_by.clone();
    options.key = table.key.clone().unwrap_or_default();
    let writer = runtime
        .block_on(TableWriter::open(catalog.clone(), ident, options))
        .map_err(|e| setup(e.to_string()))?;
    let plugin_stage = |name: &str| -> Result<&Arc<PluginRegistry>, PipelineError> {
        registry.ok_or_else(|| setup(format!("plugin `{name}` needs `[plugins] dir`")))
    };
    // Schemaless messages take the existing table's types; `types` in the
    // configuration adds to them and wins where both name a column.
    let mut column_types: HashMap<String, ColumnType> = HashMap::new();
    if let Some(loaded) = writer.table() {
        for field in loaded.metadata.current_schema().as_struct().fields() {
            if let Some(ty) = column_type(&field.field_type) {
                column_types.insert(field.name.clone(), ty);
            }
        }
    }
    column_types.extend(table.column_types());
    let decoder = match &table.decoder {
        Some(step) if step.plugin != "debezium" => {
            let registry = plugin_stage(&step.plugin)?;
            TableDecoder::Plugin(
                DecodeStage::new(registry.clone(), &step.plugin, step.stage_settings())
                    .map_err(|e| setup(e.to_string()))?,
            )
        }
        _ => TableDecoder::Debezium(Box::new(DebeziumDecoder::new(DebeziumConfig {
            table: Some(table.table.clone()),
            key: table.key.clone(),
            column_types,
            ..DebeziumConfig::default()
        }))),
    };
    let mut transforms = Vec::with_capacity(table.transforms.len());
    for step in &table.transforms {
        let registry = plugin_stage(&step.plugin)?;
        transforms.push(
            TransformStage::new(registry.clone(), &step.plugin, step.stage_settings())
                .map_err(|e| setup(e.to_string()))?,
        );
    }
    Ok(TableRun {
        name: table.table.clone(),
        decoder,
        transforms,
        writer,
        consumed: Offsets::new(),
        window_start: BTreeMap::new(),
        dead: BTreeMap::new(),
        plugins: BTreeMap::new(),
    })
}

fn letter(record: &RawRecord, table: &str, stage: DlqStage, reason: String) -> DeadLetter {
    DeadLetter {
        position: record.position(),
        timestamp: record.timestamp,
        key: record.key.clone(),
        value: record.value.clone(),
        headers: record.headers.clone(),
        table: table.to_string(),
        stage,
        reason,
    }
}

fn log_commit(table: &str, report: &CommitReport, took: std::time::Duration) {
    if report.dropped {
        tracing::warn!(%table, "another writer committed these offsets first; the window was dropped, not applied twice");
        return;
    }
    tracing::info!(
        %table,
        snapshot = ?report.snapshot_id,
        inserted = report.inserted,
        updated = report.updated,
        deleted = report.deleted,
        truncated = report.truncated,
        data_files = report.data_files,
        delete_files = report.delete_files,
        ?took,
        "committed"
    );
}

//! The pipeline's tables at run time, and which of them take each topic.

use std::collections::{HashMap, HashSet};
use std::sync::Arc;
use std::time::{Duration, Instant};

use iceberg::spec::Schema;

use crate::change::ColumnType;
use crate::commit::catalog::{self, Catalog};
use crate::commit::row_delta::{SUMMARY_MANIFESTS_CREATED, SUMMARY_MANIFESTS_KEPT};
use crate::config::{PipelineConfig, TableConfig, TopicRouter};
use crate::decode::{DebeziumConfig, DebeziumDecoder};
use crate::dlq::DeadLetter;
use crate::maintain::Maintainer;
use crate::metrics::{MaintenanceMetrics, TableState};
use crate::plugin::{
    Chain, ChainDecoder, ColumnGuard, DecodeStage, PluginRegistry, TransformStage, TypesMailbox,
};
use crate::source::RawRecord;
use crate::table::schema::column_type;
use crate::table::{TableOptions, TableWriter};

use super::PipelineError;
use super::window::TableWindow;

/// The decoder's column types for a table of `schema`: the table's own,
/// then the configured `types`, which win where both name a column.
fn decoder_types(
    schema: Option<&Schema>,
    configured: &HashMap<String, ColumnType>,
) -> HashMap<String, ColumnType> {
    let mut types: HashMap<String, ColumnType> = schema
        .into_iter()
        .flat_map(|s| s.as_struct().fields().iter())
        .filter_map(|field| Some((field.name.clone(), column_type(&field.field_type)?)))
        .collect();
    types.extend(configured.iter().map(|(name, ty)| (name.clone(), *ty)));
    types
}

/// How often the same dead-letter reason is logged again.
const REASON_LOG_EVERY: Duration = Duration::from_secs(60);

/// One configured table at run time, as the writers see it (its decoder
/// and transforms run in [`super::staging`]).
pub(super) struct TableRun {
    pub name: String,
    pub writer: TableWriter,
    /// The commit window's offsets, dead letters and plugin versions (its
    /// changes are buffered in the writer).
    pub window: TableWindow,
    /// When each distinct reason class was last logged.
    reasons_logged: HashMap<String, Instant>,
    /// The table's maintenance between commit windows.
    maintainer: Maintainer,
    /// Where the decoder learns the table's column types.
    types: TypesMailbox,
    /// The column types the configuration declares.
    configured_types: HashMap<String, ColumnType>,
    /// The schema whose types the decoder was last given.
    published: Option<Arc<Schema>>,
}

impl TableRun {
    /// The table's door: the first offset of `(topic, partition)` it has
    /// not applied (0 when its snapshots name none). A record, change or
    /// dead letter below it is one the table has already, from an earlier
    /// run or another process, and is kept out of the window.
    pub fn door(&self, topic: &str, partition: i32) -> i64 {
        self.writer.offsets().get(topic, partition).unwrap_or(0)
    }

    /// The index of the first of `records` (one partition's, in offset
    /// order) that the door lets in.
    pub fn first_fresh(&self, records: &[RawRecord]) -> Option<usize> {
        let first = records.first()?;
        let door = self.door(&first.topic, first.partition);
        records.iter().position(|r| r.offset >= door)
    }

    /// Runs the table maintenance that is due after a commit (see
    /// [`crate::maintain`]), hands what it committed to the writer and
    /// reports the table's size. A failure is logged and changes nothing
    /// the next commit needs.
    pub fn maintain(&mut self, runtime: &tokio::runtime::Runtime, metrics: &MaintenanceMetrics) {
        let Some(table) = self.writer.table().cloned() else {
            return;
        };
        let table = self.compact(runtime, metrics, table);
        let table = match runtime.block_on(self.maintainer.after_commit(&table)) {
            Ok(maintained) => {
                if let Some(took) = maintained.expire_took {
                    metrics.ran(&self.name, "expire_snapshots", took);
                }
                if let (Some(deleted), Some(took)) =
                    (maintained.orphans_deleted, maintained.sweep_took)
                {
                    metrics.ran(&self.name, "delete_orphans", took);
                    metrics.orphans_deleted(&self.name, deleted);
                }
                match maintained.table {
                    Some(expired) => {
                        self.writer.maintained(expired.clone());
                        expired
                    }
                    None => table,
                }
            }
            Err(err) => {
                tracing::warn!(table = %self.name, %err, "table maintenance failed; tried again later");
                table
            }
        };
        let total = |key: &str| -> Option<u64> {
            let summary = &table
                .metadata
                .current_snapshot()?
                .summary()
                .additional_properties;
            summary.get(key)?.parse().ok()
        };
        metrics.table_state(
            &self.name,
            TableState {
                snapshots: table.metadata.snapshots().len(),
                metadata_bytes: self.maintainer.metadata_bytes(),
                data_files: total("total-data-files"),
                delete_files: total("total-delete-files"),
                manifests: total(SUMMARY_MANIFESTS_CREATED)
                    .zip(total(SUMMARY_MANIFESTS_KEPT))
                    .map(|(created, kept)| created + kept),
            },
        );
    }

    /// Compacts the table when due (see [`crate::maintain::compact`]): the
    /// writer takes the compacted table and remaps its key index. Returns
    /// the table as it is now.
    fn compact(
        &mut self,
        runtime: &tokio::runtime::Runtime,
        metrics: &MaintenanceMetrics,
        table: crate::commit::LoadedTable,
    ) -> crate::commit::LoadedTable {
        match runtime.block_on(self.maintainer.compact_if_due(&table)) {
            Ok(Some(compacted)) => {
                metrics.ran(&self.name, "compact", compacted.took);
                self.writer
                    .compacted(compacted.table.clone(), compacted.parent, &compacted.moves);
                compacted.table
            }
            Ok(None) => table,
            Err(err) => {
                tracing::warn!(table = %self.name, %err, "compaction failed; tried again later");
                table
            }
        }
    }

    /// Tells the decoder the table's column types when the writer's schema
    /// changed since it was last told: the table was created, evolved, or
    /// reloaded with another writer's schema.
    pub fn publish_types(&mut self) {
        let current = self.writer.schema();
        let unchanged = match (current, &self.published) {
            (Some(now), Some(told)) => Arc::ptr_eq(now, told),
            (None, None) => true,
            _ => false,
        };
        if unchanged {
            return;
        }
        self.published = current.cloned();
        self.types.post(decoder_types(
            current.map(Arc::as_ref),
            &self.configured_types,
        ));
    }

    /// Logs a dead letter's reason, once a minute per distinct reason (its
    /// text up to the first detail).
    pub fn note_reason(&mut self, letter: &DeadLetter) {
        let class: String = letter.reason.chars().take(60).collect();
        let now = Instant::now();
        let due = self
            .reasons_logged
            .get(&class)
            .is_none_or(|last| now.duration_since(*last) >= REASON_LOG_EVERY);
        if due {
            self.reasons_logged.insert(class, now);
            tracing::warn!(
                table = %self.name,
                stage = letter.stage.as_str(),
                position = %letter.position,
                reason = %letter.reason,
                "record sent to the dead-letter queue (this reason is logged once a minute)"
            );
        }
    }
}

/// Which tables take each topic: `(table index, direct)`; `direct` tables
/// are fed by the topic, the others only by routes of their transforms.
pub(super) struct TopicTables {
    router: TopicRouter,
    route_only: Vec<usize>,
    routing: bool,
    cache: HashMap<String, Arc<[(usize, bool)]>>,
}

impl TopicTables {
    pub fn new(config: &PipelineConfig) -> Self {
        TopicTables {
            router: config.router(),
            route_only: config
                .tables
                .iter()
                .enumerate()
                .filter(|(_, t)| t.is_route_only())
                .map(|(i, _)| i)
                .collect(),
            routing: config.tables.iter().any(|t| !t.transforms.is_empty()),
            cache: HashMap::new(),
        }
    }

    /// The tables that take `topic`: those fed by it, then the route-only
    /// tables when one of them has transforms (which may route).
    pub fn for_topic(&mut self, topic: &str) -> Arc<[(usize, bool)]> {
        if let Some(tables) = self.cache.get(topic) {
            return tables.clone();
        }
        let direct = self.router.tables_for(topic);
        let mut seen: HashSet<usize> = direct.iter().copied().collect();
        let mut tables: Vec<(usize, bool)> = direct.iter().map(|&t| (t, true)).collect();
        if self.routing && !direct.is_empty() {
            for &t in &self.route_only {
                if seen.insert(t) {
                    tables.push((t, false));
                }
            }
        }
        let tables: Arc<[(usize, bool)]> = tables.into();
        self.cache.insert(topic.to_string(), tables.clone());
        tables
    }
}

pub(super) fn open_table(
    runtime: &tokio::runtime::Runtime,
    config: &PipelineConfig,
    table: &TableConfig,
    catalog: &Catalog,
    registry: Option<&Arc<PluginRegistry>>,
) -> Result<(TableRun, Chain), PipelineError> {
    let ident = catalog::parse_table_ident(&table.table).ok_or_else(|| {
        PipelineError::Config(format!("table {}: not `namespace.name`", table.table))
    })?;
    let mut options = TableOptions::new(config.pipeline.clone());
    options.create = table.create;
    options.partition = table.partition_by.clone();
    options.key = table.key.clone().unwrap_or_default();
    options.properties.extend(table.properties.clone());
    if let Some(limit) = table.max_new_columns {
        options.max_new_columns = limit;
    }
    let max_new_columns = options.max_new_columns;
    let writer = runtime
        .block_on(TableWriter::open(catalog.clone(), ident, options))
        .map_err(|source| PipelineError::OpenTable {
            table: table.table.clone(),
            source: Box::new(source),
        })?;
    let plugin_error = |source| PipelineError::Plugin {
        table: table.table.clone(),
        source,
    };
    let plugin_stage = |name: &str| -> Result<&Arc<PluginRegistry>, PipelineError> {
        registry.ok_or_else(|| {
            PipelineError::Config(format!(
                "table {}: plugin `{name}` needs `[plugins] dir`",
                table.table
            ))
        })
    };
    // Schemaless messages take the table's types as it is now (updated as
    // this run creates or evolves it); `types` in the configuration adds to
    // them and wins where both name a column.
    let configured_types: HashMap<String, ColumnType> = table.column_types().into_iter().collect();
    let column_types = decoder_types(writer.schema().map(Arc::as_ref), &configured_types);
    let types = TypesMailbox::default();
    let decoder = match &table.decoder {
        Some(step) if step.plugin != "debezium" => {
            let registry = plugin_stage(&step.plugin)?;
            ChainDecoder::Plugin(Box::new(
                DecodeStage::new(registry.clone(), &step.plugin, step.stage_settings())
                    .map_err(plugin_error)?,
            ))
        }
        _ => {
            let mut guard = ColumnGuard::new(max_new_columns);
            guard.learn(column_types.keys());
            ChainDecoder::Native {
                decoder: Box::new(DebeziumDecoder::new(DebeziumConfig {
                    table: Some(table.table.clone()),
                    key: table.key.clone(),
                    column_types,
                    numeric_time: table.numeric_time,
                    numeric_time_columns: table.numeric_time_columns.clone().into_iter().collect(),
                })),
                guard,
                types: types.clone(),
            }
        }
    };
    let mut transforms = Vec::with_capacity(table.transforms.len());
    for step in &table.transforms {
        let registry = plugin_stage(&step.plugin)?;
        transforms.push(
            TransformStage::new(registry.clone(), &step.plugin, step.stage_settings())
                .map_err(plugin_error)?,
        );
    }
    let chain = Chain::new(table.table.clone(), decoder, transforms);
    let writer_schema = writer.schema().cloned();
    let run = TableRun {
        name: table.table.clone(),
        writer,
        window: TableWindow::default(),
        reasons_logged: HashMap::new(),
        maintainer: Maintainer::new(catalog.clone(), config.pipeline.clone())
            .with_defaults(table.maintenance.to_properties()),
        published: writer_schema,
        types,
        configured_types,
    };
    Ok((run, chain))
}

//! The pipeline's tables at run time, and which of them take each topic.

use std::collections::{BTreeMap, HashMap, HashSet};
use std::sync::Arc;
use std::time::{Duration, Instant};

use crate::change::ColumnType;
use crate::commit::Offsets;
use crate::commit::catalog::{self, SqlCatalog};
use crate::config::{PipelineConfig, TableConfig, TopicRouter};
use crate::decode::{DebeziumConfig, DebeziumDecoder};
use crate::dlq::DeadLetter;
use crate::plugin::{DecodeStage, PluginRegistry, TransformStage};
use crate::table::schema::column_type;
use crate::table::{TableOptions, TableWriter};

use super::PipelineError;
use super::staging::TableStages;

/// How a table turns raw records into changes (each boxed: the two differ
/// in size by hundreds of bytes).
pub(super) enum TableDecoder {
    Debezium(Box<DebeziumDecoder>),
    Plugin(Box<DecodeStage>),
}

/// How often the same dead-letter reason is logged again.
const REASON_LOG_EVERY: Duration = Duration::from_secs(60);

/// One configured table at run time, as the writers see it (its decoder
/// and transforms run in [`super::staging`]).
pub(super) struct TableRun {
    pub name: String,
    pub writer: TableWriter,
    /// The records consumed this window: next offset per partition.
    pub consumed: Offsets,
    /// The first offset of this window per (topic, partition): names its DLQ file.
    pub window_start: BTreeMap<(Arc<str>, i32), i64>,
    /// Dead letters of this window per (topic, partition).
    pub dead: BTreeMap<(Arc<str>, i32), Vec<DeadLetter>>,
    /// This window's dead letters were produced to the DLQ topic already.
    pub dead_sent: bool,
    /// The plugin versions that produced this window's changes.
    pub plugins: BTreeMap<String, String>,
    /// When each distinct reason class was last logged.
    reasons_logged: HashMap<String, Instant>,
}

impl TableRun {
    /// The first offset of `(topic, partition)` the table has not applied
    /// (0 when its snapshots name none).
    pub fn next_offset(&self, topic: &str, partition: i32) -> i64 {
        self.writer.offsets().get(topic, partition).unwrap_or(0)
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
    catalog: &SqlCatalog,
    registry: Option<&Arc<PluginRegistry>>,
) -> Result<(TableRun, TableStages), PipelineError> {
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
            TableDecoder::Plugin(Box::new(
                DecodeStage::new(registry.clone(), &step.plugin, step.stage_settings())
                    .map_err(|e| setup(e.to_string()))?,
            ))
        }
        _ => TableDecoder::Debezium(Box::new(DebeziumDecoder::new(DebeziumConfig {
            table: Some(table.table.clone()),
            key: table.key.clone(),
            column_types,
            numeric_time: table.numeric_time,
            numeric_time_columns: table.numeric_time_columns.clone().into_iter().collect(),
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
    let stages = TableStages {
        name: table.table.clone(),
        decoder,
        transforms,
    };
    let run = TableRun {
        name: table.table.clone(),
        writer,
        consumed: Offsets::new(),
        window_start: BTreeMap::new(),
        dead: BTreeMap::new(),
        dead_sent: false,
        plugins: BTreeMap::new(),
        reasons_logged: HashMap::new(),
    };
    Ok((run, stages))
}

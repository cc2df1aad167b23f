//! The pipeline: records from the source, through each table's decoder and
//! transform chain, into the table writers; rejected records into the
//! dead-letter queue; one Iceberg snapshot per table per commit window.
//!
//! Exactly once: every snapshot floe commits carries the next offset of each
//! source partition that feeds the table (`floe.offsets`). On start (and on
//! every Kafka assignment) each partition is read from the smallest offset
//! any of its tables needs, and each table skips the records below its own
//! offset, so a run that stopped at any point (even `kill -9`) replays to the
//! same table contents. A commit window writes its DLQ files first, then
//! commits each table, then (Kafka) the group's advisory offsets.
//!
//! [`Pipeline::run_to_end`] runs a file source ([`file`]); [`Pipeline::run`]
//! streams from Kafka until asked to stop ([`stream`]).

mod column_guard;
mod file;
mod staging;
mod stream;
mod tables;

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::sync::Arc;
use std::time::Instant;

use crate::change::{ChangeBatch, ChangeBatchBuilder};
use crate::commit::Offsets;
use crate::commit::catalog::{self, SqlCatalog};
use crate::config::PipelineConfig;
use crate::dlq::{DeadLetter, DlqStage, DlqTopic, DlqWriter};
use crate::metrics::Metrics;
use crate::plugin::{HotReload, PluginEngine, PluginRegistry, ReloadEvent};
use crate::source::RawRecord;
use crate::table::CommitReport;

use staging::{PartitionWork, StagedPartition, Staging, StagingStopped};
pub use stream::StopSignal;
use tables::{TableRun, TopicTables};

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

/// What a commit of the window did.
#[derive(Debug, Default)]
struct WindowCommit {
    /// A table's commit found its offsets moved by another writer: the
    /// window was dropped and the source must be repositioned.
    dropped: bool,
}

/// A running pipeline.
///
/// Catalog and table I/O is async and runs on the pipeline's own runtime;
/// decoding and plugin calls run on the staging thread ([`staging`]),
/// outside it (wasmtime-wasi's synchronous bindings drive their own runtime
/// and must not be nested in another).
pub struct Pipeline {
    runtime: tokio::runtime::Runtime,
    config: PipelineConfig,
    tables: Vec<TableRun>,
    staging: Staging,
    topics: TopicTables,
    dlq: DlqWriter,
    dlq_topic: Option<DlqTopic>,
    registry: Option<Arc<PluginRegistry>>,
    reload_events_seen: usize,
    _reload: Option<HotReload>,
    metrics: Arc<Metrics>,
    summary: RunSummary,
    /// Records and bytes read since the last commit.
    buffered: (usize, usize),
}

impl Pipeline {
    /// Connects to the catalog, loads the plugins and opens every table
    /// (rebuilding its key index). Any failure here is a
    /// [`PipelineError::Setup`]: nothing has been written.
    pub fn open(config: PipelineConfig) -> Result<Self, PipelineError> {
        Self::open_with_metrics(config, Arc::new(Metrics::new()))
    }

    /// As [`Pipeline::open`], reporting into `metrics`.
    pub fn open_with_metrics(
        config: PipelineConfig,
        metrics: Arc<Metrics>,
    ) -> Result<Self, PipelineError> {
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
        let mut stages = Vec::with_capacity(config.tables.len());
        for table in &config.tables {
            let (run, table_stages) =
                tables::open_table(&runtime, &config, table, &catalog, registry.as_ref())?;
            tables.push(run);
            stages.push(table_stages);
        }
        let staging = Staging::start(stages, metrics.clone())
            .map_err(|e| setup(format!("starting the decoding thread: {e}")))?;
        let dlq_topic = match (&config.dlq.topic, &config.source) {
            (
                Some(topic),
                crate::config::SourceConfig::Kafka {
                    brokers,
                    properties,
                    ..
                },
            ) => Some(
                DlqTopic::connect(brokers, topic, properties).map_err(|e| setup(e.to_string()))?,
            ),
            (Some(_), _) => {
                return Err(setup("`[dlq] topic` needs a Kafka source".into()));
            }
            (None, _) => None,
        };
        let topics = TopicTables::new(&config);
        let pipeline = Pipeline {
            runtime,
            dlq: DlqWriter::new(config.dlq.path.clone()),
            dlq_topic,
            config,
            tables,
            staging,
            topics,
            registry,
            reload_events_seen: 0,
            _reload: reload,
            metrics,
            summary: RunSummary::default(),
            buffered: (0, 0),
        };
        pipeline.report_index_sizes();
        Ok(pipeline)
    }

    /// The metrics this pipeline reports into.
    pub fn metrics(&self) -> &Arc<Metrics> {
        &self.metrics
    }

    /// Hands records (of any partitions) to staging, to be decoded and
    /// transformed for every table fed by their topics while the writers
    /// work; [`Pipeline::apply_staged`] takes the results back in order.
    fn stage(&mut self, records: Vec<RawRecord>) -> Result<(), PipelineError> {
        let mut batch = Vec::new();
        for records in by_partition(records) {
            let first = &records[0];
            let (topic, partition) = (first.topic.clone(), first.partition);
            let mut tables = Vec::new();
            for &(index, direct) in self.topics.for_topic(&topic).iter() {
                if !direct {
                    continue;
                }
                let already = self.tables[index].next_offset(&topic, partition);
                if let Some(fresh_from) = records.iter().position(|r| r.offset >= already) {
                    tables.push((index, fresh_from));
                }
            }
            batch.push(PartitionWork { records, tables });
        }
        self.staging.submit(batch).map_err(stopped)
    }

    /// Applies the oldest staged batch; `false` when none is in flight.
    fn apply_staged(&mut self) -> Result<bool, PipelineError> {
        let Some(batch) = self.staging.next().map_err(stopped)? else {
            return Ok(false);
        };
        for partition in batch {
            self.apply_partition(partition);
        }
        Ok(true)
    }

    /// Applies every staged batch.
    fn apply_all_staged(&mut self) -> Result<(), PipelineError> {
        while self.apply_staged()? {}
        Ok(())
    }

    /// Buffers what staging made of one topic partition's records, in offset
    /// order, in every table that takes them (directly, or through routes of
    /// another table's transforms).
    fn apply_partition(&mut self, staged: StagedPartition) {
        let records = &staged.records;
        let Some(first) = records.first() else { return };
        let topic = first.topic.clone();
        let partition = first.partition;
        let last = records[records.len() - 1].offset;
        self.summary.records += records.len() as u64;
        self.buffered.0 += records.len();
        self.buffered.1 += records
            .iter()
            .map(|r| r.value.as_ref().map_or(0, Vec::len) + r.key.as_ref().map_or(0, Vec::len))
            .sum::<usize>();
        let participants = self.topics.for_topic(&topic);
        let by_offset: HashMap<i64, &RawRecord> = records.iter().map(|r| (r.offset, r)).collect();
        let mut staged_tables = staged.tables;
        let mut routed: Vec<(usize, ChangeBatch)> = Vec::new();
        for &(index, _) in participants.iter() {
            let run = &mut self.tables[index];
            run.consumed.advance(&topic, partition, last + 1);
            let already = run.next_offset(&topic, partition);
            let Some(fresh_from) = records.iter().position(|r| r.offset >= already) else {
                continue;
            };
            run.window_start
                .entry((topic.clone(), partition))
                .or_insert(records[fresh_from].offset);
            let Some(at) = staged_tables.iter().position(|t| t.index == index) else {
                continue;
            };
            let table = staged_tables.swap_remove(at);
            self.summary.skipped += table.skipped;
            for plugin in table.plugins {
                self.tables[index]
                    .plugins
                    .insert(plugin.name, plugin.sha256);
            }
            for rejection in table.rejected {
                if rejection.offset < already {
                    continue;
                }
                if let Some(record) = by_offset.get(&rejection.offset) {
                    let name = self.tables[index].name.clone();
                    let dead = letter(record, &name, rejection.stage, rejection.reason);
                    self.bury(index, dead);
                }
            }
            let mut changes = table.changes;
            if (0..changes.len()).any(|row| changes.offset(row) < already) {
                changes.retain(|b, row| b.offset(row) >= already);
            }
            let name = &self.tables[index].name;
            let (own, elsewhere) = changes.split(|b, row| b.table(row) == name);
            if !elsewhere.is_empty() {
                routed.push((index, elsewhere));
            }
            self.write(index, own, &by_offset);
        }
        // Routed changes, per target table in arrival order; each target
        // also records the versions of the plugins that routed to it.
        let mut by_target: BTreeMap<usize, ChangeBatchBuilder> = BTreeMap::new();
        let mut sources: BTreeSet<(usize, usize)> = BTreeSet::new();
        for (from, changes) in routed {
            for row in 0..changes.len() {
                let table = changes.table(row);
                let offset = changes.offset(row);
                let target = participants
                    .iter()
                    .find(|(t, _)| self.tables[*t].name == table)
                    .map(|(t, _)| *t);
                let Some(record) = by_offset.get(&offset) else {
                    continue;
                };
                match target {
                    Some(target) => {
                        let already = self.tables[target].next_offset(&topic, partition);
                        if offset >= already {
                            sources.insert((from, target));
                            by_target.entry(target).or_default().push_row(&changes, row);
                        }
                    }
                    None => {
                        let reason = format!(
                            "routed to table `{table}`, which does not take changes from topic `{topic}`: \
                             configure it as a `[[tables]]` entry fed by this topic or by routes only"
                        );
                        let name = self.tables[from].name.clone();
                        self.bury(from, letter(record, &name, DlqStage::Transform, reason));
                    }
                }
            }
        }
        for (from, target) in sources {
            let plugins = self.tables[from].plugins.clone();
            self.tables[target].plugins.extend(plugins);
        }
        for (target, changes) in by_target {
            self.write(target, changes.finish(), &by_offset);
        }
        self.metrics.buffered(self.buffered.0, self.buffered.1);
    }

    /// Applies changes to table `index`'s writer; what it refuses goes to the DLQ.
    fn write(&mut self, index: usize, changes: ChangeBatch, by_offset: &HashMap<i64, &RawRecord>) {
        if changes.is_empty() {
            return;
        }
        let run = &mut self.tables[index];
        let mut dead = Vec::new();
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
        run.publish_types();
        for letter in dead {
            self.bury(index, letter);
        }
    }

    /// Buffers a dead letter for table `index`'s window.
    fn bury(&mut self, index: usize, letter: DeadLetter) {
        self.summary.dead_letters += 1;
        let run = &mut self.tables[index];
        let key = (letter.position.topic.clone(), letter.position.partition);
        run.window_start
            .entry(key.clone())
            .or_insert(letter.position.offset);
        run.note_reason(&letter);
        run.dead.entry(key).or_default().push(letter);
    }

    /// Commits the window: per table, its DLQ files (and DLQ topic records)
    /// first, then its snapshot. A table whose commit fails keeps its window
    /// for the next attempt; tables already committed are not redone.
    fn commit(&mut self) -> Result<WindowCommit, PipelineError> {
        let mut outcome = WindowCommit::default();
        for index in 0..self.tables.len() {
            let run = &mut self.tables[index];
            if let Some(dlq_topic) = &self.dlq_topic
                && !run.dead_sent
                && !run.dead.is_empty()
            {
                for letters in run.dead.values() {
                    dlq_topic
                        .send(letters)
                        .map_err(|e| PipelineError::Run(e.to_string()))?;
                }
                dlq_topic
                    .flush(std::time::Duration::from_secs(30))
                    .map_err(|e| PipelineError::Run(e.to_string()))?;
                run.dead_sent = true;
            }
            for ((topic, partition), letters) in &run.dead {
                let start = run
                    .window_start
                    .get(&(topic.clone(), *partition))
                    .copied()
                    .unwrap_or(0);
                let path = self
                    .dlq
                    .write_window(&run.name, topic, *partition, start, letters)
                    .map_err(|e| PipelineError::Run(e.to_string()))?;
                tracing::info!(table = %run.name, records = letters.len(), file = %path.display(), "dead letters written");
            }
            let started = Instant::now();
            let report = self
                .runtime
                .block_on(run.writer.commit(&run.consumed, &run.plugins))
                .map_err(|e| PipelineError::Run(format!("committing {}: {e}", run.name)))?;
            let took = started.elapsed();
            for ((topic, _), letters) in std::mem::take(&mut run.dead) {
                for letter in &letters {
                    self.metrics.dead_letters(&topic, letter.stage.as_str(), 1);
                }
            }
            run.dead_sent = false;
            run.publish_types();
            if let Some(report) = report {
                log_commit(&run.name, &report, took);
                if report.dropped {
                    outcome.dropped = true;
                } else if report.snapshot_id.is_some() {
                    run.maintain(&self.runtime, self.metrics.maintenance());
                    self.summary.snapshots += 1;
                    self.metrics.committed(
                        &run.name,
                        &[
                            ("insert", report.inserted),
                            ("update", report.updated),
                            ("delete", report.deleted),
                        ],
                        took,
                    );
                }
                self.metrics.key_index(
                    &run.name,
                    run.writer.index_len(),
                    run.writer.index_memory_bytes(),
                );
            }
            run.consumed = Offsets::new();
            run.window_start.clear();
        }
        self.buffered = (0, 0);
        self.metrics.buffered(0, 0);
        self.note_reloads();
        Ok(outcome)
    }

    /// Forgets the window in every table and whatever is staged: those
    /// records will be read again.
    fn discard_window(&mut self) -> Result<(), PipelineError> {
        self.staging.discard().map_err(stopped)?;
        for run in &mut self.tables {
            run.writer.discard();
            run.consumed = Offsets::new();
            run.window_start.clear();
            run.dead.clear();
            run.dead_sent = false;
            run.plugins.clear();
        }
        self.buffered = (0, 0);
        self.metrics.buffered(0, 0);
        Ok(())
    }

    /// The next offset to read for `(topic, partition)`: the smallest any of
    /// its tables needs; `None` when one of them has none (from the start).
    fn start_offset(&mut self, topic: &str, partition: i32) -> Option<i64> {
        let mut start: Option<i64> = None;
        let tables = self.topics.for_topic(topic);
        for (index, _) in tables.iter() {
            let offset = self.tables[*index].writer.offsets().get(topic, partition)?;
            start = Some(start.map_or(offset, |s: i64| s.min(offset)));
        }
        start
    }

    fn report_index_sizes(&self) {
        for run in &self.tables {
            self.metrics.key_index(
                &run.name,
                run.writer.index_len(),
                run.writer.index_memory_bytes(),
            );
        }
    }

    /// Counts hot-reload outcomes since the last look.
    fn note_reloads(&mut self) {
        let Some(registry) = &self.registry else {
            return;
        };
        let events = registry.events();
        for event in events.iter().skip(self.reload_events_seen) {
            match event {
                ReloadEvent::Loaded(id) => self.metrics.plugin_reload(&id.name, "published"),
                ReloadEvent::Failed { name, .. } => self.metrics.plugin_reload(name, "refused"),
                ReloadEvent::Removed { name } => self.metrics.plugin_reload(name, "removed"),
            }
        }
        self.reload_events_seen = events.len();
    }
}

fn stopped(error: StagingStopped) -> PipelineError {
    PipelineError::Run(error.to_string())
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

/// Groups `records` into runs of one topic partition, keeping each
/// partition's order.
fn by_partition(records: Vec<RawRecord>) -> Vec<Vec<RawRecord>> {
    let mut groups: BTreeMap<(Arc<str>, i32), Vec<RawRecord>> = BTreeMap::new();
    for record in records {
        groups
            .entry((record.topic.clone(), record.partition))
            .or_default()
            .push(record);
    }
    groups.into_values().collect()
}

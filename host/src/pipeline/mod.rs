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
//! The parts, each with one job:
//! - `apply`: staged batches into the tables' windows, through each door;
//! - [`run`]: the one run loop, over any [`crate::source::Source`]
//!   ([`Pipeline::run_to_end`] for a file, [`Pipeline::run`] for Kafka);
//! - `staging`: the thread that runs each table's [`crate::plugin::Chain`];
//! - `tables`: the tables at run time and which of them take each topic;
//! - `window`: what a table's commit window holds besides its changes;
//! - [`PipelineError`]: why it stops, by kind.

mod apply;
mod error;
pub mod run;
mod staging;
mod stop;
mod tables;
mod window;

use std::sync::Arc;
use std::time::Instant;

use crate::commit::catalog::{self, Catalog};
use crate::config::PipelineConfig;
use crate::dlq::{DlqTopic, DlqWriter};
use crate::metrics::Metrics;
use crate::plugin::{HotReload, PluginEngine, PluginRegistry, ReloadEvent};
use crate::table::CommitReport;

pub use error::PipelineError;
use staging::{Staging, StagingStopped};
pub use stop::StopSignal;
use tables::{TableRun, TopicTables};

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
    /// Partial rows (columns the source did not send) filled from the
    /// row's current state.
    pub partial_rows: u64,
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
    /// (rebuilding its key index). Any failure here is one where
    /// [`PipelineError::is_setup`] holds: nothing has been written.
    pub fn open(config: PipelineConfig) -> Result<Self, PipelineError> {
        Self::open_with_metrics(config, Arc::new(Metrics::new()))
    }

    /// As [`Pipeline::open`], reporting into `metrics`.
    pub fn open_with_metrics(
        config: PipelineConfig,
        metrics: Arc<Metrics>,
    ) -> Result<Self, PipelineError> {
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .map_err(|source| PipelineError::Start {
                what: "the async runtime",
                source,
            })?;
        let catalog = runtime
            .block_on(Catalog::open(&config.catalog))
            .map_err(|source| PipelineError::Catalog {
                uri: catalog::redact(&config.catalog.uri),
                source: Box::new(source),
            })?;
        let (registry, reload) = match &config.plugins.dir {
            Some(dir) => {
                let cache = config
                    .plugins
                    .cache_dir
                    .clone()
                    .unwrap_or_else(PluginEngine::default_cache_dir);
                let registry = PluginRegistry::open(PluginEngine::new(cache)?, dir)?;
                let reload = if config.plugins.hot_reload {
                    Some(HotReload::start(registry.clone())?)
                } else {
                    None
                };
                (Some(registry), reload)
            }
            None => (None, None),
        };
        let mut tables = Vec::with_capacity(config.tables.len());
        let mut chains = Vec::with_capacity(config.tables.len());
        for table in &config.tables {
            let (run, chain) =
                tables::open_table(&runtime, &config, table, &catalog, registry.as_ref())?;
            tables.push(run);
            chains.push(chain);
        }
        let staging =
            Staging::start(chains, metrics.clone()).map_err(|source| PipelineError::Start {
                what: "the decoding thread",
                source,
            })?;
        let dlq_topic = match (&config.dlq.topic, &config.source) {
            (
                Some(topic),
                crate::config::SourceConfig::Kafka {
                    brokers,
                    properties,
                    ..
                },
            ) => Some(
                DlqTopic::connect(brokers, topic, properties).map_err(PipelineError::ConnectDlq)?,
            ),
            (Some(_), _) => {
                return Err(PipelineError::Config(
                    "`[dlq] topic` needs a Kafka source".into(),
                ));
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

    /// Commits the window: per table, its DLQ files (and DLQ topic records)
    /// first, then its snapshot. A table whose commit fails keeps its window
    /// for the next attempt; tables already committed are not redone.
    fn commit(&mut self) -> Result<WindowCommit, PipelineError> {
        let mut outcome = WindowCommit::default();
        for index in 0..self.tables.len() {
            let run = &mut self.tables[index];
            if let Some(dlq_topic) = &self.dlq_topic
                && run.window.dead_to_send()
            {
                for (_, _, _, letters) in run.window.dead_letters() {
                    dlq_topic.send(letters)?;
                }
                dlq_topic.flush(std::time::Duration::from_secs(30))?;
                run.window.dead_sent();
            }
            for (topic, partition, start, letters) in run.window.dead_letters() {
                let path = self
                    .dlq
                    .write_window(&run.name, topic, partition, start, letters)?;
                tracing::info!(table = %run.name, records = letters.len(), file = %path.display(), "dead letters written");
            }
            let started = Instant::now();
            let report = self
                .runtime
                .block_on(
                    run.writer
                        .commit(run.window.consumed(), run.window.plugins()),
                )
                .map_err(|source| PipelineError::Commit {
                    table: run.name.clone(),
                    source: Box::new(source),
                })?;
            let took = started.elapsed();
            for letter in run.window.clear() {
                self.metrics
                    .dead_letters(&letter.position.topic, letter.stage.as_str(), 1);
            }
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
            run.window.drop_all();
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

fn stopped(_: StagingStopped) -> PipelineError {
    PipelineError::StagingStopped
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

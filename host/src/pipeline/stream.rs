//! Streaming mode: Kafka topics in a consumer group, until asked to stop.
//!
//! One thread polls, applies and commits, while the staging thread decodes
//! and transforms at most a few batches ahead of it; a window is committed
//! while nothing is fetched: librdkafka stops fetching once its bounded
//! prefetch queue is full, and a slow catalog slows floe down instead of
//! filling its memory. A rebalance drops the in-flight window (and what is
//! staged) and repositions every assigned partition from its tables' offsets
//! (a revoked partition is let go with nothing of it half-committed); a
//! commit that finds its offsets moved by another process does the same.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use super::{Pipeline, PipelineError, RunSummary};
use crate::config::SourceConfig;
use crate::source::{KafkaSource, KafkaSourceConfig};

/// How many times a failing commit is retried once a stop was asked for.
const ATTEMPTS_WHEN_STOPPING: u32 = 5;
/// The longest wait between attempts of a failing commit or reposition.
const MAX_BACKOFF: Duration = Duration::from_secs(30);

/// Asks a running pipeline to stop: it commits what it has buffered and
/// returns. SIGTERM and SIGINT raise it ([`StopSignal::on_termination`]).
#[derive(Debug, Clone, Default)]
pub struct StopSignal(Arc<AtomicBool>);

impl StopSignal {
    /// A signal nothing has raised yet.
    pub fn new() -> Self {
        Self::default()
    }

    /// A signal that SIGTERM and SIGINT raise.
    pub fn on_termination() -> std::io::Result<Self> {
        let signal = Self::new();
        for sig in [signal_hook::consts::SIGTERM, signal_hook::consts::SIGINT] {
            signal_hook::flag::register(sig, signal.0.clone())?;
        }
        Ok(signal)
    }

    /// Asks the pipeline to stop.
    pub fn stop(&self) {
        self.0.store(true, Ordering::Relaxed);
    }

    /// Whether a stop was asked for.
    pub fn is_stopped(&self) -> bool {
        self.0.load(Ordering::Relaxed)
    }
}

impl Pipeline {
    /// Streams from the Kafka source until `stop` is raised, committing a
    /// window every `commit.interval_ms` or `commit.max_records`; then
    /// commits what is buffered, leaves the group and returns what it did.
    ///
    /// Transient failures (broker outages, a catalog that does not answer)
    /// are logged and retried with backoff; they never end the run.
    pub fn run(mut self, stop: &StopSignal) -> Result<RunSummary, PipelineError> {
        let instance_id = self
            .config
            .group_instance_id()
            .map_err(PipelineError::Setup)?;
        let SourceConfig::Kafka {
            brokers,
            group,
            properties,
            ..
        } = self.config.source.clone()
        else {
            return Err(PipelineError::Setup(
                "`Pipeline::run` streams from `[source] kind = \"kafka\"`; a file source uses `run_to_end`".into(),
            ));
        };
        let source_config = KafkaSourceConfig {
            brokers,
            group: group.unwrap_or_else(|| self.config.pipeline.clone()),
            instance_id,
            topics: self
                .config
                .tables
                .iter()
                .flat_map(|t| t.topics.iter().cloned())
                .collect(),
            patterns: self
                .config
                .tables
                .iter()
                .filter_map(|t| t.topic_pattern.clone())
                .collect(),
            properties,
        };
        let mut source = KafkaSource::connect(&source_config, Some(self.metrics.clone()))
            .map_err(|e| PipelineError::Setup(e.to_string()))?;
        self.metrics.health().set_running(true);
        let interval = self.config.commit.interval();
        let max_records = self.config.commit.max_records;
        let mut window_opened: Option<Instant> = None;
        let mut reloads_noted = Instant::now();
        while !stop.is_stopped() {
            if reloads_noted.elapsed() >= Duration::from_secs(1) {
                self.note_reloads();
                reloads_noted = Instant::now();
            }
            let wait = window_opened
                .map(|at| interval.saturating_sub(at.elapsed()))
                .unwrap_or(interval)
                .min(Duration::from_millis(100));
            let polled = source
                .poll(max_records.min(8192), wait)
                .map_err(|e| PipelineError::Run(e.to_string()))?;
            if !polled.rebalances.is_empty() {
                self.discard_window()?;
                window_opened = None;
                self.reposition(&mut source, stop)?;
                continue;
            }
            if polled.records.is_empty() {
                // Nothing new: what is staged is all there is to apply.
                self.apply_all_staged()?;
            } else {
                self.stage(polled.records)?;
                // One batch is decoded while the one before it is applied.
                while self.staging.in_flight() > 1 {
                    self.apply_staged()?;
                }
            }
            if self.buffered.0 > 0 || self.staging.in_flight() > 0 {
                window_opened.get_or_insert_with(Instant::now);
            }
            let due = window_opened.is_some_and(|at| at.elapsed() >= interval)
                || self.buffered.0 >= max_records;
            if due && self.buffered.0 > 0 {
                self.commit_window(&mut source, stop)?;
                window_opened = None;
            }
        }
        tracing::info!("stopping: committing what is buffered");
        self.apply_all_staged()?;
        if self.buffered.0 > 0 {
            self.commit_window(&mut source, stop)?;
        }
        source.close();
        self.metrics.health().set_running(false);
        Ok(self.summary)
    }

    /// Commits the window, retrying with backoff while the catalog or the
    /// DLQ fail; then commits the group's offsets (advisory). A window
    /// dropped because another process moved the tables' offsets sends the
    /// source back to them.
    fn commit_window(
        &mut self,
        source: &mut KafkaSource,
        stop: &StopSignal,
    ) -> Result<(), PipelineError> {
        let mut backoff = Duration::from_millis(250);
        let mut attempts = 0;
        loop {
            attempts += 1;
            match self.commit() {
                Ok(outcome) => {
                    if outcome.dropped {
                        self.discard_window()?;
                        self.reposition(source, stop)?;
                    } else {
                        let offsets: Vec<(String, i32, i64)> = source
                            .assignment()
                            .into_iter()
                            .filter_map(|(t, p)| self.start_offset(&t, p).map(|o| (t, p, o)))
                            .collect();
                        source.commit_group(&offsets);
                    }
                    return Ok(());
                }
                Err(PipelineError::Run(message)) => {
                    self.metrics.health().failing(message.clone());
                    if stop.is_stopped() && attempts >= ATTEMPTS_WHEN_STOPPING {
                        return Err(PipelineError::Run(format!(
                            "{message} (gave up after {attempts} attempts while stopping; \
                             the window is not committed and is read again on restart)"
                        )));
                    }
                    tracing::warn!(error = %message, retry_in = ?backoff, "commit failed; retrying");
                    std::thread::sleep(backoff);
                    backoff = (backoff * 2).min(MAX_BACKOFF);
                }
                Err(setup) => return Err(setup),
            }
        }
    }

    /// Catches every table up with the catalog (another process may have
    /// committed to it) and starts each assigned partition at the smallest
    /// offset its tables need.
    fn reposition(
        &mut self,
        source: &mut KafkaSource,
        stop: &StopSignal,
    ) -> Result<(), PipelineError> {
        let mut backoff = Duration::from_millis(250);
        loop {
            let refreshed: Result<(), String> = self.tables.iter_mut().try_for_each(|run| {
                self.runtime
                    .block_on(run.writer.refresh())
                    .map_err(|e| format!("reloading {}: {e}", run.name))?;
                run.publish_types();
                Ok(())
            });
            match refreshed {
                Ok(()) => break,
                Err(message) => {
                    self.metrics.health().failing(message.clone());
                    if stop.is_stopped() {
                        return Err(PipelineError::Run(message));
                    }
                    tracing::warn!(error = %message, retry_in = ?backoff, "reloading tables failed; retrying");
                    std::thread::sleep(backoff);
                    backoff = (backoff * 2).min(MAX_BACKOFF);
                }
            }
        }
        self.report_index_sizes();
        let starts: Vec<(String, i32, Option<i64>)> = source
            .assignment()
            .into_iter()
            .map(|(t, p)| {
                let start = self.start_offset(&t, p);
                (t, p, start)
            })
            .collect();
        source
            .reposition(&starts)
            .map_err(|e| PipelineError::Run(e.to_string()))
    }
}

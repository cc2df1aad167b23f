//! The one run loop: records from a [`Source`] through staging into the
//! tables' windows, a commit every `commit.interval_ms` or
//! `commit.max_records`, until the source ends (a file) or a stop is asked
//! for (Kafka).
//!
//! One thread polls, applies and commits, while the staging thread runs the
//! chains at most a few batches ahead of it; a window is committed while
//! nothing is fetched: librdkafka stops fetching once its bounded prefetch
//! queue is full, and a slow catalog slows floe down instead of filling its
//! memory. A rebalance drops the window in flight (and what is staged) and
//! repositions every assigned partition from its tables' offsets (a revoked
//! partition is let go with nothing of it half-committed); a commit that
//! finds its offsets moved by another process does the same.
//!
//! Failures that may pass ([`PipelineError::is_transient`]) are retried with
//! exponential backoff (`backon`), for as long as it takes while streaming,
//! a few times when stopping or reading a file; any other failure ends the
//! run with its message.

use std::cell::Cell;
use std::time::{Duration, Instant};

use backon::{BlockingRetryable, ExponentialBuilder};

use super::{Pipeline, PipelineError, RunSummary, StopSignal};
use crate::config::SourceConfig;
use crate::source::{FileSource, KafkaSource, KafkaSourceConfig, Source};

/// How many times a transient failure is tried once a stop was asked for,
/// or in a run that reads a file (which has no one to wait for).
const ATTEMPTS_WHEN_BOUNDED: u32 = 5;
/// The first wait between attempts of a failing commit or reposition.
const MIN_BACKOFF: Duration = Duration::from_millis(250);
/// The longest wait between attempts.
const MAX_BACKOFF: Duration = Duration::from_secs(30);
/// The most records one poll takes.
const MAX_POLL: usize = 8192;

impl Pipeline {
    /// Runs a file source to its end, committing every window, and returns
    /// what it did.
    pub fn run_to_end(mut self) -> Result<RunSummary, PipelineError> {
        let SourceConfig::File { path, topic } = self.config.source.clone() else {
            return Err(PipelineError::Config(
                "only `[source] kind = \"file\"` runs to an end; Kafka sources stream".into(),
            ));
        };
        if self.topics.for_topic(&topic).is_empty() {
            return Err(PipelineError::Config(format!(
                "no [[tables]] entry takes topic `{topic}`"
            )));
        }
        let batch = self.config.commit.max_records.min(MAX_POLL);
        let mut source =
            FileSource::open(&path, &topic, batch).map_err(|e| PipelineError::Connect(e.into()))?;
        self.drive(&mut source, &StopSignal::new(), true)
    }

    /// Streams from the Kafka source until `stop` is raised, committing a
    /// window every `commit.interval_ms` or `commit.max_records`; then
    /// commits what is buffered, leaves the group and returns what it did.
    ///
    /// Transient failures (broker outages, a catalog that does not answer)
    /// are logged and retried with backoff; they never end the run. A
    /// failure that cannot pass (a table in a form floe cannot commit to, a
    /// consumer fenced out of its group) ends it.
    pub fn run(self, stop: &StopSignal) -> Result<RunSummary, PipelineError> {
        let instance_id = self
            .config
            .group_instance_id()
            .map_err(PipelineError::Config)?;
        let SourceConfig::Kafka {
            brokers,
            group,
            properties,
            ..
        } = self.config.source.clone()
        else {
            return Err(PipelineError::Config(
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
            .map_err(|e| PipelineError::Connect(e.into()))?;
        self.drive(&mut source, stop, false)
    }

    /// The run loop over `source`; `bounded` when the source ends by itself.
    fn drive(
        mut self,
        source: &mut dyn Source,
        stop: &StopSignal,
        bounded: bool,
    ) -> Result<RunSummary, PipelineError> {
        self.metrics.health().set_running(true);
        // A bounded source reads nothing until told where its partitions
        // start; a consumer group's partitions come with its first rebalance.
        if bounded {
            self.position(source)?;
        }
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
            let polled = source.poll(max_records.min(MAX_POLL), wait)?;
            if !polled.rebalances.is_empty() {
                self.discard_window()?;
                window_opened = None;
                self.reposition(source, stop, bounded)?;
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
                self.commit_window(source, stop, bounded)?;
                window_opened = None;
            }
            if polled.finished {
                break;
            }
        }
        if stop.is_stopped() {
            tracing::info!("stopping: committing what is buffered");
        }
        self.apply_all_staged()?;
        if self.buffered.0 > 0 {
            self.commit_window(source, stop, bounded)?;
        }
        source.close();
        self.metrics.health().set_running(false);
        Ok(self.summary)
    }

    /// Commits the window, retrying while it fails for a passing reason;
    /// then commits the group's offsets (advisory). A window dropped
    /// because another process moved the tables' offsets sends the source
    /// back to them.
    fn commit_window(
        &mut self,
        source: &mut dyn Source,
        stop: &StopSignal,
        bounded: bool,
    ) -> Result<(), PipelineError> {
        let outcome = self.retrying("commit", stop, bounded, |pipeline| pipeline.commit())?;
        if outcome.dropped {
            self.discard_window()?;
            self.reposition(source, stop, bounded)?;
        } else {
            let offsets: Vec<(String, i32, i64)> = source
                .assignment()
                .into_iter()
                .filter_map(|(t, p)| self.start_offset(&t, p).map(|o| (t, p, o)))
                .collect();
            source.commit_group(&offsets);
        }
        Ok(())
    }

    /// Catches every table up with the catalog (another process may have
    /// committed to it) and starts each assigned partition at the smallest
    /// offset its tables need.
    fn reposition(
        &mut self,
        source: &mut dyn Source,
        stop: &StopSignal,
        bounded: bool,
    ) -> Result<(), PipelineError> {
        self.retrying("reloading the tables", stop, bounded, |pipeline| {
            for run in &mut pipeline.tables {
                pipeline
                    .runtime
                    .block_on(run.writer.refresh())
                    .map_err(|source| PipelineError::Reload {
                        table: run.name.clone(),
                        source: Box::new(source),
                    })?;
                run.publish_types();
            }
            Ok(())
        })?;
        self.report_index_sizes();
        self.position(source)
    }

    /// Starts each partition the source reads at the smallest offset its
    /// tables need.
    fn position(&mut self, source: &mut dyn Source) -> Result<(), PipelineError> {
        let starts: Vec<(String, i32, Option<i64>)> = source
            .assignment()
            .into_iter()
            .map(|(t, p)| {
                let start = self.start_offset(&t, p);
                (t, p, start)
            })
            .collect();
        Ok(source.reposition(&starts)?)
    }

    /// Runs `attempt` until it succeeds or fails for a reason that does not
    /// pass; a transient failure is retried with exponential backoff, at
    /// most [`ATTEMPTS_WHEN_BOUNDED`] times once a stop was asked for or
    /// when the source is bounded. Each failure is logged and shown by the
    /// health endpoint.
    fn retrying<T>(
        &mut self,
        what: &str,
        stop: &StopSignal,
        bounded: bool,
        mut attempt: impl FnMut(&mut Self) -> Result<T, PipelineError>,
    ) -> Result<T, PipelineError> {
        let attempts = Cell::new(0u32);
        let metrics = self.metrics.clone();
        let backoff = ExponentialBuilder::new()
            .with_min_delay(MIN_BACKOFF)
            .with_max_delay(MAX_BACKOFF)
            .with_jitter()
            .without_max_times();
        let result = (|| {
            attempts.set(attempts.get() + 1);
            attempt(self)
        })
        .retry(backoff)
        .sleep(std::thread::sleep)
        .when(|error: &PipelineError| {
            let giving_up =
                (bounded || stop.is_stopped()) && attempts.get() >= ATTEMPTS_WHEN_BOUNDED;
            error.is_transient() && !giving_up
        })
        .notify(|error: &PipelineError, retry_in: Duration| {
            metrics.health().failing(error.to_string());
            tracing::warn!(%error, ?retry_in, "{what} failed; retrying");
        })
        .call();
        match result {
            Err(error) if error.is_transient() => Err(PipelineError::GaveUp {
                attempts: attempts.get(),
                source: Box::new(error),
            }),
            result => result,
        }
    }
}

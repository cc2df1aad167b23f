//! Batch mode: a file of records standing for one partition, applied to its end.

use std::time::Instant;

use super::{Pipeline, PipelineError, RunSummary};
use crate::config::SourceConfig;
use crate::source::FileSource;

impl Pipeline {
    /// Runs a file source to its end, committing every window, and returns
    /// what it did.
    pub fn run_to_end(mut self) -> Result<RunSummary, PipelineError> {
        let SourceConfig::File { path, topic } = self.config.source.clone() else {
            return Err(PipelineError::Setup(
                "only `[source] kind = \"file\"` runs to an end; Kafka sources stream".into(),
            ));
        };
        if self.topics.for_topic(&topic).is_empty() {
            return Err(PipelineError::Setup(format!(
                "no [[tables]] entry takes topic `{topic}`"
            )));
        }
        let mut source =
            FileSource::open(&path, &topic).map_err(|e| PipelineError::Setup(e.to_string()))?;
        let start = self.start_offset(&topic, 0).unwrap_or(0);
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
            self.process_partition(&batch);
            if self.buffered.0 >= max_records || window_started.elapsed() >= interval {
                self.commit()?;
                window_started = Instant::now();
            }
        }
        self.commit()?;
        Ok(self.summary)
    }
}

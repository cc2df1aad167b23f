//! Batch mode: a file of records standing for one partition, applied to its end.

use std::sync::mpsc::{Receiver, sync_channel};
use std::time::Instant;

use super::{Pipeline, PipelineError, RunSummary};
use crate::config::SourceConfig;
use crate::source::{FileSource, FileSourceError, RawRecord};

/// How many batches the reading thread may read ahead.
const READ_AHEAD: usize = 2;

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
        let batches = read_ahead(source, max_records.min(8192))
            .map_err(|e| PipelineError::Setup(format!("starting the reading thread: {e}")))?;
        let mut window_started = Instant::now();
        for batch in batches {
            let batch = batch.map_err(|e| PipelineError::Run(e.to_string()))?;
            self.stage(batch)?;
            // One batch is decoded while the one before it is applied.
            while self.staging.in_flight() > 1 {
                self.apply_staged()?;
            }
            if self.buffered.0 >= max_records || window_started.elapsed() >= interval {
                self.commit()?;
                window_started = Instant::now();
            }
        }
        self.apply_all_staged()?;
        self.commit()?;
        Ok(self.summary)
    }
}

/// Reads `source` to its end on a thread of its own, in batches of up to
/// `batch` records, a few batches ahead of the pipeline: splitting the lines
/// into records costs as much as a third of decoding them. The channel ends
/// after the last batch or the first error.
fn read_ahead(
    mut source: FileSource,
    batch: usize,
) -> std::io::Result<Receiver<Result<Vec<RawRecord>, FileSourceError>>> {
    let (batches, received) = sync_channel(READ_AHEAD);
    std::thread::Builder::new()
        .name("floe-read".into())
        .spawn(move || {
            loop {
                match source.next_batch(batch) {
                    Ok(records) if records.is_empty() => return,
                    Ok(records) => {
                        if batches.send(Ok(records)).is_err() {
                            return;
                        }
                    }
                    Err(error) => {
                        let _ = batches.send(Err(error));
                        return;
                    }
                }
            }
        })?;
    Ok(received)
}

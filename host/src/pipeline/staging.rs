//! The thread that runs the tables' chains ([`crate::plugin::Chain`]), one
//! batch ahead of the table writers.
//!
//! While the pipeline applies batch N to the tables (and commits windows),
//! batch N+1 is decoded and run through each table's plugins here. Results
//! come back in the order the batches went in, so per-partition order holds
//! end to end. Staging has no effect on a table: what it produces is only
//! applied by the pipeline, which can drop any of it (a rebalance, a commit
//! that lost a race) and read the records again.

use std::sync::Arc;
use std::sync::mpsc::{Receiver, SyncSender, sync_channel};
use std::thread::JoinHandle;

use crate::metrics::Metrics;
use crate::plugin::{Chain, ChainOutput};
use crate::source::RawRecord;

/// How many batches may wait for the writers: bounds staged memory.
const QUEUE: usize = 2;

/// One topic partition's records, in offset order, and the tables fed by
/// the topic that still need some of them.
pub(super) struct PartitionWork {
    /// The records.
    pub records: Vec<RawRecord>,
    /// `(table index, first record it needs)`.
    pub tables: Vec<(usize, usize)>,
}

/// What one table's chain made of a partition's records.
pub(super) struct StagedTable {
    /// The table's index in the pipeline.
    pub index: usize,
    /// The chain's outputs.
    pub output: ChainOutput,
}

/// A partition's records with what every table made of them.
pub(super) struct StagedPartition {
    /// The records, in offset order.
    pub records: Vec<RawRecord>,
    /// One entry per table of the work, in the same order.
    pub tables: Vec<StagedTable>,
}

/// The staging thread and the batches in flight to it.
pub(super) struct Staging {
    work: Option<SyncSender<Vec<PartitionWork>>>,
    staged: Receiver<Vec<StagedPartition>>,
    in_flight: usize,
    thread: Option<JoinHandle<()>>,
}

/// The staging thread stopped (it panicked): nothing more can be decoded.
#[derive(Debug, thiserror::Error)]
#[error("the decoding thread stopped unexpectedly")]
pub(super) struct StagingStopped;

impl Staging {
    /// Starts the thread, which owns every table's chain (by table index).
    pub fn start(chains: Vec<Chain>, metrics: Arc<Metrics>) -> std::io::Result<Self> {
        let (work, inbox) = sync_channel::<Vec<PartitionWork>>(QUEUE);
        let (outbox, staged) = sync_channel(QUEUE);
        let thread = std::thread::Builder::new()
            .name("floe-decode".into())
            .spawn(move || {
                let mut chains = chains;
                for batch in inbox {
                    let done: Vec<StagedPartition> = batch
                        .into_iter()
                        .map(|work| stage_partition(&mut chains, &metrics, work))
                        .collect();
                    if outbox.send(done).is_err() {
                        return;
                    }
                }
            })?;
        Ok(Staging {
            work: Some(work),
            staged,
            in_flight: 0,
            thread: Some(thread),
        })
    }

    /// Hands a batch to the thread; waits while [`QUEUE`] batches are
    /// already waiting for it.
    pub fn submit(&mut self, batch: Vec<PartitionWork>) -> Result<(), StagingStopped> {
        let work = self.work.as_ref().ok_or(StagingStopped)?;
        work.send(batch).map_err(|_| StagingStopped)?;
        self.in_flight += 1;
        Ok(())
    }

    /// Batches handed over and not yet taken back.
    pub fn in_flight(&self) -> usize {
        self.in_flight
    }

    /// The oldest batch in flight, once staged; `None` when none is in flight.
    pub fn next(&mut self) -> Result<Option<Vec<StagedPartition>>, StagingStopped> {
        if self.in_flight == 0 {
            return Ok(None);
        }
        let batch = self.staged.recv().map_err(|_| StagingStopped)?;
        self.in_flight -= 1;
        Ok(Some(batch))
    }

    /// Waits for every batch in flight and drops it.
    pub fn discard(&mut self) -> Result<(), StagingStopped> {
        while self.next()?.is_some() {}
        Ok(())
    }
}

impl Drop for Staging {
    fn drop(&mut self) {
        self.work = None;
        while self.in_flight > 0 && self.staged.recv().is_ok() {
            self.in_flight -= 1;
        }
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}

/// Runs `work` through the chain of each of its tables.
fn stage_partition(
    chains: &mut [Chain],
    metrics: &Metrics,
    work: PartitionWork,
) -> StagedPartition {
    let tables = work
        .tables
        .iter()
        .map(|&(index, fresh_from)| StagedTable {
            index,
            output: chains[index].run(&work.records[fresh_from..], metrics),
        })
        .collect();
    StagedPartition {
        records: work.records,
        tables,
    }
}

//! Decoding and the transform chains on a thread of their own, one batch
//! ahead of the table writers.
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
use std::time::Instant;

use crate::change::{ChangeBatch, ChangeBatchBuilder};
use crate::decode::Decoded;
use crate::dlq::DlqStage;
use crate::metrics::Metrics;
use crate::plugin::PluginId;
use crate::source::RawRecord;

use super::column_guard::ColumnGuard;
use super::tables::{TableDecoder, TypesMailbox};
use crate::plugin::TransformStage;

/// How many batches may wait for the writers: bounds staged memory.
const QUEUE: usize = 2;

/// A table's decoder and transform chain: what staging runs for it.
pub(super) struct TableStages {
    /// The table, as `namespace.name`: the target of its own changes.
    pub name: String,
    /// How the table turns records into changes.
    pub decoder: TableDecoder,
    /// The table's transforms, in order.
    pub transforms: Vec<TransformStage>,
    /// The table's column types, as the writers learn them.
    pub types: TypesMailbox,
    /// Refuses changes too wide for the table before they join a batch.
    pub guard: ColumnGuard,
}

/// One topic partition's records, in offset order, and the tables fed by
/// the topic that still need some of them.
pub(super) struct PartitionWork {
    /// The records.
    pub records: Vec<RawRecord>,
    /// `(table index, first record it needs)`.
    pub tables: Vec<(usize, usize)>,
}

/// A record that goes to the dead-letter queue, and why.
pub(super) struct Rejection {
    /// The record's offset in its partition.
    pub offset: i64,
    /// Where it was refused.
    pub stage: DlqStage,
    /// Why.
    pub reason: String,
}

/// What one table's decoder and transforms made of a partition's records.
pub(super) struct StagedTable {
    /// The table's index in the pipeline.
    pub index: usize,
    /// Its changes and those its transforms routed to other tables.
    pub changes: ChangeBatch,
    /// Records refused by its decoder or transforms.
    pub rejected: Vec<Rejection>,
    /// The plugin versions that ran.
    pub plugins: Vec<PluginId>,
    /// Records that carried no row change.
    pub skipped: u64,
}

impl StagedTable {
    /// Notes a plugin call that started at `started`: its metrics, and its
    /// version for the table's snapshot.
    fn called(&mut self, metrics: &Metrics, plugin: PluginId, started: Instant, failures: usize) {
        metrics.plugin_call(&plugin.name, started.elapsed(), failures as u64);
        self.plugins.push(plugin);
    }
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
    /// Starts the thread, which owns every table's stages (by table index).
    pub fn start(stages: Vec<TableStages>, metrics: Arc<Metrics>) -> std::io::Result<Self> {
        let (work, inbox) = sync_channel::<Vec<PartitionWork>>(QUEUE);
        let (outbox, staged) = sync_channel(QUEUE);
        let thread = std::thread::Builder::new()
            .name("floe-decode".into())
            .spawn(move || {
                let mut stages = stages;
                for batch in inbox {
                    let done: Vec<StagedPartition> = batch
                        .into_iter()
                        .map(|work| stage_partition(&mut stages, &metrics, work))
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

/// Decodes and transforms `work` for each of its tables.
fn stage_partition(
    stages: &mut [TableStages],
    metrics: &Metrics,
    work: PartitionWork,
) -> StagedPartition {
    let tables = work
        .tables
        .iter()
        .map(|&(index, fresh_from)| {
            stage_table(
                &mut stages[index],
                metrics,
                index,
                &work.records[fresh_from..],
            )
        })
        .collect();
    StagedPartition {
        records: work.records,
        tables,
    }
}

/// Decodes `records` and runs the table's transform chain: the changes for
/// this table and those routed elsewhere.
fn stage_table(
    table: &mut TableStages,
    metrics: &Metrics,
    index: usize,
    records: &[RawRecord],
) -> StagedTable {
    let mut staged = StagedTable {
        index,
        changes: ChangeBatch::new(),
        rejected: Vec::new(),
        plugins: Vec::new(),
        skipped: 0,
    };
    match &mut table.decoder {
        TableDecoder::Debezium(decoder) => {
            if let Some(types) = table.types.take() {
                table.guard.learn(types.keys());
                decoder.set_column_types(types);
            }
            let mut changes = ChangeBatchBuilder::with_capacity(records.len());
            for record in records {
                match decoder.decode(record) {
                    Ok(Decoded::Changes(decoded)) => {
                        if let Some(refusal) =
                            decoded.iter().find_map(|c| table.guard.check(c).err())
                        {
                            staged.rejected.push(Rejection {
                                offset: record.offset,
                                stage: DlqStage::Write,
                                reason: refusal.to_string(),
                            });
                            continue;
                        }
                        for change in &decoded {
                            changes.push_change_for(&table.name, change);
                        }
                    }
                    Ok(Decoded::Skipped(_)) => staged.skipped += 1,
                    Err(error) => staged.rejected.push(Rejection {
                        offset: record.offset,
                        stage: DlqStage::Decode,
                        reason: error.to_string(),
                    }),
                }
            }
            staged.changes = changes.finish();
            for (column, n) in decoder.take_guessed_times() {
                metrics.guessed_times(&table.name, &column, n);
            }
        }
        TableDecoder::Plugin(stage) => {
            let started = Instant::now();
            let output = stage.apply(records);
            staged.called(metrics, output.plugin, started, output.failures);
            for rejected in output.rejected {
                staged.rejected.push(Rejection {
                    offset: records[rejected.index].offset,
                    stage: DlqStage::Decode,
                    reason: rejected.reason,
                });
            }
            staged.changes = output.changes;
            staged.changes.retarget(&table.name);
        }
    }
    for stage in &mut table.transforms {
        // Changes already routed elsewhere pass the rest of the chain by.
        let (mine, elsewhere) =
            std::mem::take(&mut staged.changes).split(|b, row| b.table(row) == table.name);
        let started = Instant::now();
        let output = stage.apply(mine);
        staged.called(metrics, output.plugin, started, output.failures);
        for rejected in output.rejected {
            staged.rejected.push(Rejection {
                offset: rejected.change.position.offset,
                stage: DlqStage::Transform,
                reason: rejected.reason,
            });
        }
        staged.changes = output.changes;
        staged.changes.extend(&elsewhere);
    }
    staged
}

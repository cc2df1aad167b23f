//! A table's chain: its decoder (floe's native Debezium decoder or a
//! decoder plugin) and its transforms, run as one object.
//!
//! Given one partition's records, a [`Chain`] returns its named outputs, as
//! a Vector transform does: the changes for its own table, the changes its
//! transforms routed to other tables (by table name), and the records it
//! refused, each with its offset, the stage that refused it and why. Nothing
//! here touches a table: the pipeline decides what each output becomes.

use std::collections::{BTreeMap, HashMap};
use std::sync::{Arc, Mutex};
use std::time::Instant;

use crate::change::{ChangeBatch, ChangeBatchBuilder, ColumnType};
use crate::decode::{DebeziumDecoder, Decoded};
use crate::dlq::DlqStage;
use crate::metrics::Metrics;
use crate::source::RawRecord;

use super::column_guard::ColumnGuard;
use super::decoder::DecodeStage;
use super::transformer::TransformStage;
use super::version::PluginId;

/// How a chain turns raw records into changes (each boxed: the two differ
/// in size by hundreds of bytes).
pub enum ChainDecoder {
    /// floe's Debezium decoder, with the guard that refuses changes too wide
    /// for the table and the mailbox it learns the table's types from.
    Native {
        /// The decoder.
        decoder: Box<DebeziumDecoder>,
        /// Refuses changes too wide for the table before they join a batch.
        guard: ColumnGuard,
        /// The table's column types, as the writers learn them.
        types: TypesMailbox,
    },
    /// A decoder plugin.
    Plugin(Box<DecodeStage>),
}

/// The column types a table's native decoder types schemaless values by,
/// passed from the writers' side (which learns them when the table is
/// created or its schema evolves) to the thread that runs the chain: the
/// latest types posted are taken before the table's next records are
/// decoded.
#[derive(Debug, Clone, Default)]
pub struct TypesMailbox(Arc<Mutex<Option<HashMap<String, ColumnType>>>>);

impl TypesMailbox {
    /// Leaves `types` for the decoder, replacing any it has not taken yet.
    pub fn post(&self, types: HashMap<String, ColumnType>) {
        *self.0.lock().unwrap_or_else(|e| e.into_inner()) = Some(types);
    }

    /// The types posted since the last look, if any.
    pub fn take(&self) -> Option<HashMap<String, ColumnType>> {
        self.0.lock().unwrap_or_else(|e| e.into_inner()).take()
    }
}

/// A record the chain refused: it goes to the dead-letter queue.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Rejection {
    /// The record's offset in its partition.
    pub offset: i64,
    /// The stage that refused it.
    pub stage: DlqStage,
    /// Why.
    pub reason: String,
}

/// What a chain made of a partition's records: its named outputs.
#[derive(Debug, Default)]
pub struct ChainOutput {
    /// Changes for the chain's own table, in record order.
    pub own: ChangeBatch,
    /// Changes the transforms routed to other tables, by table name.
    pub routed: BTreeMap<String, ChangeBatch>,
    /// Records refused by the decoder or a transform.
    pub rejected: Vec<Rejection>,
    /// The plugin versions that ran (recorded in the table's snapshot).
    pub plugins: Vec<PluginId>,
    /// Records that carried no row change.
    pub skipped: u64,
}

impl ChainOutput {
    /// Notes a call of `plugin` that started at `started`: its metrics, and
    /// its version for the table's snapshot.
    fn called(&mut self, metrics: &Metrics, plugin: &PluginId, started: Instant, failures: usize) {
        metrics.plugin_call(&plugin.name, started.elapsed(), failures as u64);
        self.plugins.push(plugin.clone());
    }
}

/// One table's decoder and transforms.
pub struct Chain {
    table: String,
    decoder: ChainDecoder,
    transforms: Vec<TransformStage>,
}

impl Chain {
    /// The chain of table `table` (`namespace.name`).
    pub fn new(table: String, decoder: ChainDecoder, transforms: Vec<TransformStage>) -> Self {
        Chain {
            table,
            decoder,
            transforms,
        }
    }

    /// Decodes `records` (one partition's, in offset order) and runs the
    /// transforms, reporting plugin calls and guessed timestamp units into
    /// `metrics`. Never fails: what cannot be handled is in
    /// [`ChainOutput::rejected`].
    pub fn run(&mut self, records: &[RawRecord], metrics: &Metrics) -> ChainOutput {
        let mut output = ChainOutput::default();
        let mut changes = self.decode(records, metrics, &mut output);
        for stage in &mut self.transforms {
            // Changes already routed elsewhere pass the rest of the chain by.
            let (mine, elsewhere) = changes.split(|b, row| b.table(row) == self.table);
            let started = Instant::now();
            let transformed = stage.apply(mine);
            output.called(metrics, &transformed.plugin, started, transformed.failures);
            output
                .rejected
                .extend(transformed.rejected.into_iter().map(|r| Rejection {
                    offset: r.change.position.offset,
                    stage: DlqStage::Transform,
                    reason: r.reason,
                }));
            changes = transformed.changes;
            changes.extend(&elsewhere);
        }
        let (own, elsewhere) = changes.split(|b, row| b.table(row) == self.table);
        output.own = own;
        output.routed = by_table(&elsewhere);
        output
    }

    /// The decoder's changes, all for this chain's table.
    fn decode(
        &mut self,
        records: &[RawRecord],
        metrics: &Metrics,
        output: &mut ChainOutput,
    ) -> ChangeBatch {
        match &mut self.decoder {
            ChainDecoder::Native {
                decoder,
                guard,
                types,
            } => {
                if let Some(types) = types.take() {
                    guard.learn(types.keys());
                    decoder.set_column_types(types);
                }
                let mut changes = ChangeBatchBuilder::with_capacity(records.len());
                for record in records {
                    match decoder.decode(record) {
                        Ok(Decoded::Changes(decoded)) => {
                            if let Some(refusal) = decoded.iter().find_map(|c| guard.check(c).err())
                            {
                                output.rejected.push(Rejection {
                                    offset: record.offset,
                                    stage: DlqStage::Write,
                                    reason: refusal.to_string(),
                                });
                                continue;
                            }
                            for change in &decoded {
                                changes.push_change_for(&self.table, change);
                            }
                        }
                        Ok(Decoded::Skipped(_)) => output.skipped += 1,
                        Err(error) => output.rejected.push(Rejection {
                            offset: record.offset,
                            stage: DlqStage::Decode,
                            reason: error.to_string(),
                        }),
                    }
                }
                for (column, n) in decoder.take_guessed_times() {
                    metrics.guessed_times(&self.table, &column, n);
                }
                changes.finish()
            }
            ChainDecoder::Plugin(stage) => {
                let started = Instant::now();
                let decoded = stage.apply(records);
                output.called(metrics, &decoded.plugin, started, decoded.failures);
                output
                    .rejected
                    .extend(decoded.rejected.into_iter().map(|r| Rejection {
                        offset: records[r.index].offset,
                        stage: DlqStage::Decode,
                        reason: r.reason,
                    }));
                let mut changes = decoded.changes;
                changes.retarget(&self.table);
                changes
            }
        }
    }
}

/// `changes` grouped by target table, each group in arrival order.
fn by_table(changes: &ChangeBatch) -> BTreeMap<String, ChangeBatch> {
    let mut groups: BTreeMap<String, ChangeBatchBuilder> = BTreeMap::new();
    for row in 0..changes.len() {
        let table = changes.table(row);
        match groups.get_mut(table) {
            Some(group) => group.push_row(changes, row),
            None => {
                let mut group = ChangeBatchBuilder::new();
                group.push_row(changes, row);
                groups.insert(table.to_string(), group);
            }
        }
    }
    groups
        .into_iter()
        .map(|(table, group)| (table, group.finish()))
        .collect()
}

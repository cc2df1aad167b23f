//! Taking what staging made of the records into the tables' windows: each
//! table's own changes, the changes routed to it, and the dead letters,
//! all through the table's door (the offsets it already has).

use std::collections::{BTreeMap, HashMap};
use std::sync::Arc;

use crate::change::ChangeBatch;
use crate::dlq::{DeadLetter, DlqStage};
use crate::source::RawRecord;

use super::staging::{PartitionWork, StagedPartition, StagedTable};
use super::tables::TableRun;
use super::{Pipeline, PipelineError, stopped};

impl Pipeline {
    /// Hands records (of any partitions) to staging, to be run through the
    /// chain of every table fed by their topics while the writers work;
    /// [`Pipeline::apply_staged`] takes the results back in order. A table's
    /// chain sees only the records past its door.
    pub(super) fn stage(&mut self, records: Vec<RawRecord>) -> Result<(), PipelineError> {
        let mut batch = Vec::new();
        for records in by_partition(records) {
            let tables = self
                .topics
                .for_topic(&records[0].topic)
                .iter()
                .filter(|(_, direct)| *direct)
                .filter_map(|&(index, _)| Some((index, self.tables[index].first_fresh(&records)?)))
                .collect();
            batch.push(PartitionWork { records, tables });
        }
        self.staging.submit(batch).map_err(stopped)
    }

    /// Applies the oldest staged batch; `false` when none is in flight.
    pub(super) fn apply_staged(&mut self) -> Result<bool, PipelineError> {
        let Some(batch) = self.staging.next().map_err(stopped)? else {
            return Ok(false);
        };
        for partition in batch {
            self.apply_partition(partition);
        }
        Ok(true)
    }

    /// Applies every staged batch.
    pub(super) fn apply_all_staged(&mut self) -> Result<(), PipelineError> {
        while self.apply_staged()? {}
        Ok(())
    }

    /// Takes what the chains made of one topic partition's records into the
    /// windows of every table that takes them (directly, or through routes
    /// of another table's transforms), in offset order.
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
        // Every table of the topic consumed the records, whatever its chain
        // made of them.
        for &(index, _) in participants.iter() {
            let run = &mut self.tables[index];
            let first_fresh = run.first_fresh(records).map(|at| records[at].offset);
            run.window.read(&topic, partition, first_fresh, last);
        }
        let part = Part {
            by_offset: records.iter().map(|r| (r.offset, r)).collect(),
            topic: &topic,
            partition,
        };
        let mut routed: Vec<(usize, String, ChangeBatch)> = Vec::new();
        for StagedTable { index, output } in staged.tables {
            self.summary.skipped += output.skipped;
            self.tables[index].window.ran(output.plugins);
            for rejection in output.rejected {
                self.reject(
                    index,
                    &part,
                    rejection.offset,
                    rejection.stage,
                    rejection.reason,
                );
            }
            self.write(index, &part, output.own);
            routed.extend(
                output
                    .routed
                    .into_iter()
                    .map(|(table, changes)| (index, table, changes)),
            );
        }
        // Routed changes, per target table in arrival order; each target
        // also records the versions of the plugins that routed to it.
        let mut by_target: BTreeMap<usize, ChangeBatch> = BTreeMap::new();
        for (from, table, changes) in routed {
            let target = participants
                .iter()
                .map(|&(t, _)| t)
                .find(|&t| self.tables[t].name == table);
            match target {
                Some(target) => {
                    let (source, target_run) = two(&mut self.tables, from, target);
                    target_run.window.ran_as(&source.window);
                    by_target.entry(target).or_default().extend(&changes);
                }
                None => {
                    let reason = format!(
                        "routed to table `{table}`, which does not take changes from topic `{topic}`: \
                         configure it as a `[[tables]]` entry fed by this topic or by routes only"
                    );
                    for row in 0..changes.len() {
                        let offset = changes.offset(row);
                        self.reject(from, &part, offset, DlqStage::Transform, reason.clone());
                    }
                }
            }
        }
        for (target, changes) in by_target {
            self.write(target, &part, changes);
        }
        self.metrics.buffered(self.buffered.0, self.buffered.1);
    }

    /// Applies changes to table `index`'s writer, those past its door; what
    /// the writer refuses goes to the DLQ.
    fn write(&mut self, index: usize, part: &Part<'_>, mut changes: ChangeBatch) {
        let run = &mut self.tables[index];
        let door = run.door(part.topic, part.partition);
        if (0..changes.len()).any(|row| changes.offset(row) < door) {
            changes.retain(|b, row| b.offset(row) >= door);
        }
        if changes.is_empty() {
            return;
        }
        let mut refused = Vec::new();
        if !changes.partial_rows().is_empty() {
            // Columns the source did not send take the row's current state.
            let filled = self.runtime.block_on(run.writer.fill(changes));
            self.metrics.partial_rows().filled(
                &run.name,
                filled.from_pending,
                filled.from_table,
                filled.rejected.len() as u64,
            );
            self.summary.partial_rows += filled.from_pending + filled.from_table;
            refused = filled.rejected;
            changes = filled.batch;
        }
        refused.extend(run.writer.apply(changes));
        let mut dead = Vec::new();
        for rejected in refused {
            if let Some(record) = part.by_offset.get(&rejected.change.position.offset) {
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

    /// Sends the record at `offset` to table `index`'s dead letters, if it is
    /// past the table's door.
    fn reject(
        &mut self,
        index: usize,
        part: &Part<'_>,
        offset: i64,
        stage: DlqStage,
        reason: String,
    ) {
        let run = &self.tables[index];
        if offset < run.door(part.topic, part.partition) {
            return;
        }
        if let Some(record) = part.by_offset.get(&offset) {
            let dead = letter(record, &run.name, stage, reason);
            self.bury(index, dead);
        }
    }

    /// Buffers a dead letter in table `index`'s window.
    fn bury(&mut self, index: usize, letter: DeadLetter) {
        self.summary.dead_letters += 1;
        let run = &mut self.tables[index];
        run.note_reason(&letter);
        run.window.bury(letter);
    }
}

/// One topic partition's records, for the changes and rejections made of them.
struct Part<'a> {
    by_offset: HashMap<i64, &'a RawRecord>,
    topic: &'a str,
    partition: i32,
}

/// Mutable access to two different tables.
fn two(tables: &mut [TableRun], a: usize, b: usize) -> (&TableRun, &mut TableRun) {
    assert_ne!(a, b, "a table routes to itself only through its own output");
    if a < b {
        let (left, right) = tables.split_at_mut(b);
        (&left[a], &mut right[0])
    } else {
        let (left, right) = tables.split_at_mut(a);
        (&right[0], &mut left[b])
    }
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

//! The decode stage: a batch of raw records through a decoder plugin.

use std::sync::Arc;

use crate::change::ChangeBatch;
use crate::source::RawRecord;

use super::bindings::Decoded;
use super::convert;
use super::error::PluginError;
use super::instance::CallFailure;
use super::records;
use super::registry::PluginRegistry;
use super::stage::{PluginStage, Role, StageSettings};
use super::version::PluginId;

/// A record a decoder refused or failed on.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RejectedRecord {
    /// The index of the record in the batch given to [`DecodeStage::apply`].
    pub index: usize,
    /// Why: names the plugin and version, and gives its message.
    pub reason: String,
}

/// What a decode stage made of a batch of records.
#[derive(Debug, Clone, PartialEq)]
pub struct DecodeOutput {
    /// The decoded changes, in record order; each carries its record's position.
    pub changes: ChangeBatch,
    /// Records bound for the dead-letter queue.
    pub rejected: Vec<RejectedRecord>,
    /// Failed calls: the batch's instance, then each guilty record's, was
    /// discarded (trap, deadline, memory cap or malformed result).
    pub failures: usize,
    /// The version that decoded the whole batch.
    pub plugin: PluginId,
}

/// Runs batches of raw records through one decoder plugin, with the same
/// containment as [`super::TransformStage`]: a failed batch is retried
/// record by record on fresh instances.
pub struct DecodeStage {
    stage: PluginStage,
}

impl DecodeStage {
    /// A stage running decoder `name` of `registry` with `settings`.
    pub fn new(
        registry: Arc<PluginRegistry>,
        name: &str,
        settings: StageSettings,
    ) -> Result<Self, PluginError> {
        Ok(DecodeStage {
            stage: PluginStage::new(registry, name, Role::Decoder, settings)?,
        })
    }

    /// Decodes a batch. Never fails: bad records come back in
    /// [`DecodeOutput::rejected`].
    pub fn apply(&mut self, records: &[RawRecord]) -> DecodeOutput {
        self.stage.begin_batch();
        let plugin = self.stage.version().id().clone();
        let mut output = DecodeOutput {
            changes: ChangeBatch::new(),
            rejected: Vec::new(),
            failures: 0,
            plugin,
        };
        if records.is_empty() {
            return output;
        }
        if let Err(failure) = self.run(records, 0, &mut output) {
            tracing::warn!(plugin = %output.plugin, records = records.len(), %failure, "batch failed; retrying record by record");
            output.changes = ChangeBatch::new();
            output.rejected.clear();
            output.failures += 1;
            for (index, record) in records.iter().enumerate() {
                if let Err(failure) = self.run(std::slice::from_ref(record), index, &mut output) {
                    output.failures += 1;
                    output.rejected.push(RejectedRecord {
                        index,
                        reason: format!("plugin {} {failure}", output.plugin),
                    });
                }
            }
        }
        output
    }

    /// One call over `records` (the batch's records from `first` on).
    fn run(
        &mut self,
        records: &[RawRecord],
        first: usize,
        output: &mut DecodeOutput,
    ) -> Result<(), CallFailure> {
        let batch = records::encode_records(records);
        let decoded = self.stage.call(|instance| instance.decode(&batch))?;
        match interpret(decoded, records, first, &output.plugin) {
            Ok((changes, rejected)) => {
                output.changes.extend(&changes);
                output.rejected.extend(rejected);
                Ok(())
            }
            Err(message) => {
                self.stage.discard();
                Err(CallFailure(format!(
                    "returned a malformed result: {message}"
                )))
            }
        }
    }
}

fn interpret(
    decoded: Decoded,
    records: &[RawRecord],
    first: usize,
    plugin: &PluginId,
) -> Result<(ChangeBatch, Vec<RejectedRecord>), String> {
    if decoded.source_row.len() != decoded.changes.ops.len() {
        return Err(format!(
            "{} source rows for {} changes",
            decoded.source_row.len(),
            decoded.changes.ops.len()
        ));
    }
    if decoded.source_row.windows(2).any(|w| w[0] > w[1]) {
        return Err("source rows are not in ascending order".into());
    }
    if let Some(&row) = decoded
        .source_row
        .iter()
        .chain(decoded.rejected.iter().map(|r| &r.row))
        .find(|&&r| r as usize >= records.len())
    {
        return Err(format!("row {row} of a batch of {} records", records.len()));
    }
    let source_row = decoded.source_row;
    let mut changes = ChangeBatch::from_wire(convert::batch_from_wit(decoded.changes), |k| {
        records[source_row[k] as usize].position()
    })?;
    if !decoded.rejected.is_empty() {
        // A rejected record's changes, if the plugin wrote any, are not kept.
        let rejected_rows: std::collections::HashSet<u32> =
            decoded.rejected.iter().map(|r| r.row).collect();
        changes.retain(|_, k| !rejected_rows.contains(&source_row[k]));
    }
    let rejected = decoded
        .rejected
        .into_iter()
        .map(|r| RejectedRecord {
            index: first + r.row as usize,
            reason: format!("rejected by plugin {plugin}: {}", r.reason),
        })
        .collect();
    Ok((changes, rejected))
}

//! The transform stage: a batch of changes through a transformer plugin.

use std::sync::Arc;

use crate::change::{Change, ChangeBatch, ChangeBatchBuilder};

use super::bindings::Transformed;
use super::convert;
use super::error::PluginError;
use super::instance::CallFailure;
use super::registry::PluginRegistry;
use super::stage::{PluginStage, Role, StageSettings};
use super::version::PluginId;

/// The codes of a `transformed` record's `outcomes` (the contract's `outcome`).
mod outcome {
    pub const KEEP: u8 = 0;
    pub const DROP: u8 = 1;
    pub const REPLACE: u8 = 2;
    pub const ROUTE: u8 = 3;
    pub const REJECT: u8 = 4;
}

/// A change a plugin refused, trapped on, or ran out of time or memory on.
#[derive(Debug, Clone, PartialEq)]
pub struct RejectedChange {
    /// The change as it entered the stage.
    pub change: Change,
    /// Why: names the plugin and version, and gives its message.
    pub reason: String,
}

/// What a transform stage made of a batch.
#[derive(Debug, Clone, PartialEq)]
pub struct TransformOutput {
    /// Kept, replaced and routed changes, in input order.
    pub changes: ChangeBatch,
    /// Changes bound for the dead-letter queue.
    pub rejected: Vec<RejectedChange>,
    /// How many changes the plugin dropped (filtered out).
    pub dropped: usize,
    /// Failed calls: the batch's instance, then each guilty change's, was
    /// discarded (trap, deadline, memory cap or malformed result).
    pub failures: usize,
    /// The version that processed the whole batch.
    pub plugin: PluginId,
}

/// Runs batches of changes through one transformer plugin.
///
/// A batch goes through in one call. If the guest traps, runs past its
/// deadline or memory cap, or returns a malformed result, its instance is
/// discarded and the batch is retried change by change on fresh instances,
/// so only the guilty changes are rejected.
pub struct TransformStage {
    stage: PluginStage,
}

impl TransformStage {
    /// A stage running plugin `name` of `registry` with `settings`.
    pub fn new(
        registry: Arc<PluginRegistry>,
        name: &str,
        settings: StageSettings,
    ) -> Result<Self, PluginError> {
        Ok(TransformStage {
            stage: PluginStage::new(registry, name, Role::Transformer, settings)?,
        })
    }

    /// Transforms a batch. Never fails: what the plugin cannot handle comes
    /// back in [`TransformOutput::rejected`].
    pub fn apply(&mut self, changes: impl Into<ChangeBatch>) -> TransformOutput {
        let batch: ChangeBatch = changes.into();
        self.stage.begin_batch();
        let plugin = self.stage.version().id().clone();
        let mut output = TransformOutput {
            changes: ChangeBatch::new(),
            rejected: Vec::new(),
            dropped: 0,
            failures: 0,
            plugin,
        };
        if batch.is_empty() {
            output.changes = batch;
            return output;
        }
        let failure = match self.run(&batch, &output.plugin) {
            Ok(None) => {
                output.changes = batch;
                return output;
            }
            Ok(Some(applied)) => {
                output.changes = applied.changes;
                output.rejected = applied.rejected;
                output.dropped = applied.dropped;
                return output;
            }
            Err(failure) => failure,
        };
        tracing::warn!(plugin = %output.plugin, changes = batch.len(), %failure, "batch failed; retrying change by change");
        output.failures += 1;
        let mut changes = ChangeBatchBuilder::with_capacity(batch.len());
        for row in 0..batch.len() {
            let one = batch.select([row]);
            match self.run(&one, &output.plugin) {
                Ok(None) => changes.push_row(&batch, row),
                Ok(Some(applied)) => {
                    for k in 0..applied.changes.len() {
                        changes.push_row(&applied.changes, k);
                    }
                    output.rejected.extend(applied.rejected);
                    output.dropped += applied.dropped;
                }
                Err(failure) => {
                    output.failures += 1;
                    output.rejected.push(RejectedChange {
                        change: batch.to_change(row),
                        reason: format!("plugin {} {failure}", output.plugin),
                    });
                }
            }
        }
        output.changes = changes.finish();
        output
    }

    /// One call over `batch`; `None` when every change was kept as it is.
    fn run(
        &mut self,
        batch: &ChangeBatch,
        plugin: &PluginId,
    ) -> Result<Option<Output>, CallFailure> {
        let wire = convert::batch_to_wit(batch.wire());
        let result = self.stage.call(|instance| instance.transform(&wire))?;
        interpret(result, batch, plugin).map_err(|message| {
            self.stage.discard();
            CallFailure(format!("returned a malformed result: {message}"))
        })
    }
}

/// What a call made of its batch, when it did not keep every change as it is.
struct Output {
    changes: ChangeBatch,
    rejected: Vec<RejectedChange>,
    dropped: usize,
}

/// Applies a guest's `transformed` to its input batch, all of it checked
/// first: a malformed result is an error and nothing is applied. `None`
/// when every change was kept as it is.
fn interpret(
    result: Transformed,
    batch: &ChangeBatch,
    plugin: &PluginId,
) -> Result<Option<Output>, String> {
    let outcomes = &result.outcomes;
    if outcomes.len() != batch.len() {
        return Err(format!(
            "{} outcomes for {} changes",
            outcomes.len(),
            batch.len()
        ));
    }
    let mut counts = [0usize; 5];
    for &code in outcomes {
        match counts.get_mut(code as usize) {
            Some(count) => *count += 1,
            None => return Err(format!("outcome code {code}")),
        }
    }
    if counts[outcome::KEEP as usize] == batch.len() && result.replaced.ops.is_empty() {
        return Ok(None);
    }
    for (what, outcome, given) in [
        ("routes", outcome::ROUTE, result.routes.len()),
        ("rejections", outcome::REJECT, result.rejected.len()),
        ("replacements", outcome::REPLACE, result.replaced.ops.len()),
    ] {
        if given != counts[outcome as usize] {
            return Err(format!(
                "{given} {what} for {} {what} outcomes",
                counts[outcome as usize]
            ));
        }
    }
    if let Some(empty) = result.routes.iter().find(|t| t.trim().is_empty()) {
        return Err(format!("route to an empty table name {empty:?}"));
    }
    let replace_rows: Vec<usize> = (0..batch.len())
        .filter(|&row| outcomes[row] == outcome::REPLACE)
        .collect();
    let replaced = ChangeBatch::from_wire_after(
        convert::batch_from_wit(result.replaced),
        |k| batch.position(replace_rows[k]),
        Some(batch),
    )?;
    // A replacement that names no table or key keeps the original's.
    let inherits = (0..replaced.len())
        .any(|k| replaced.table(k).is_empty() || replaced.key_columns(k).is_empty());
    if replace_rows.len() == batch.len() && !inherits && batch.partial_rows().is_empty() {
        return Ok(Some(Output {
            changes: replaced,
            rejected: Vec::new(),
            dropped: 0,
        }));
    }
    let mut changes = ChangeBatchBuilder::with_capacity(batch.len());
    let mut rejected = Vec::new();
    let mut dropped = 0;
    let mut replacements = 0..replaced.len();
    let mut routes = result.routes.iter();
    let mut reasons = result.rejected.into_iter();
    for (row, &code) in outcomes.iter().enumerate() {
        match code {
            outcome::KEEP => changes.push_row(batch, row),
            outcome::DROP => dropped += 1,
            outcome::REPLACE => {
                let k = replacements.next().expect("counted above");
                let pick = |own: &str, theirs: &str| {
                    if own.is_empty() {
                        theirs.to_string()
                    } else {
                        own.to_string()
                    }
                };
                let table = pick(replaced.table(k), batch.table(row));
                let key = if replaced.key_columns(k).is_empty() {
                    batch.key_columns(row)
                } else {
                    replaced.key_columns(k)
                };
                changes.begin(
                    replaced.op(k),
                    &table,
                    key,
                    &batch.position(row),
                    replaced.event_time(k),
                );
                changes.copy_images(&replaced, k);
                // Columns a partial row left unchanged stay so unless the
                // plugin set them: the table writer fills them.
                changes.inherit_unchanged(batch, row);
            }
            outcome::ROUTE => {
                let table = routes.next().expect("counted above");
                changes.begin(
                    batch.op(row),
                    table,
                    batch.key_columns(row),
                    &batch.position(row),
                    batch.event_time(row),
                );
                changes.copy_images(batch, row);
            }
            _ => {
                let reason = reasons.next().expect("counted above").reason;
                rejected.push(RejectedChange {
                    change: batch.to_change(row),
                    reason: format!("rejected by plugin {plugin}: {reason}"),
                });
            }
        }
    }
    Ok(Some(Output {
        changes: changes.finish(),
        rejected,
        dropped,
    }))
}

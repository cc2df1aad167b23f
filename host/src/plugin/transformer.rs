//! The transform stage: a batch of changes through a transformer plugin.

use std::sync::Arc;

use crate::change::Change;

use super::bindings::{Outcome, Transformed};
use super::columnar;
use super::error::PluginError;
use super::instance::CallFailure;
use super::registry::PluginRegistry;
use super::replacement::decode_replacements;
use super::stage::{PluginStage, Role, StageSettings};
use super::version::PluginId;

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
    pub changes: Vec<Change>,
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
    pub fn apply(&mut self, changes: Vec<Change>) -> TransformOutput {
        self.stage.begin_batch();
        let plugin = self.stage.version().id().clone();
        let mut output = TransformOutput {
            changes: Vec::with_capacity(changes.len()),
            rejected: Vec::new(),
            dropped: 0,
            failures: 0,
            plugin,
        };
        if changes.is_empty() {
            return output;
        }
        let Err((failure, changes)) = self.run(changes, &mut output) else {
            return output;
        };
        tracing::warn!(plugin = %output.plugin, changes = changes.len(), %failure, "batch failed; retrying change by change");
        output.failures += 1;
        for change in changes {
            if let Err((failure, mut unprocessed)) = self.run(vec![change], &mut output) {
                output.failures += 1;
                let reason = format!("plugin {} {failure}", output.plugin);
                let change = unprocessed.pop().expect("the one change comes back");
                output.rejected.push(RejectedChange { change, reason });
            }
        }
        output
    }

    /// One call over `changes`, its result appended to `output`. On failure
    /// the changes come back untouched, for the retry.
    fn run(
        &mut self,
        changes: Vec<Change>,
        output: &mut TransformOutput,
    ) -> Result<(), (CallFailure, Vec<Change>)> {
        let batch = columnar::encode_changes(&changes);
        let result = match self.stage.call(|instance| instance.transform(&batch)) {
            Ok(result) => result,
            Err(failure) => return Err((failure, changes)),
        };
        match interpret(result, changes, &output.plugin) {
            Ok(applied) => {
                output.changes.extend(applied.changes);
                output.rejected.extend(applied.rejected);
                output.dropped += applied.dropped;
                Ok(())
            }
            Err((message, changes)) => {
                self.stage.discard();
                Err((
                    CallFailure(format!("returned a malformed result: {message}")),
                    changes,
                ))
            }
        }
    }
}

struct Applied {
    changes: Vec<Change>,
    rejected: Vec<RejectedChange>,
    dropped: usize,
}

/// Applies a guest's `transformed` to the input changes, checking all of it
/// before consuming them: a malformed result gives the changes back.
fn interpret(
    result: Transformed,
    mut changes: Vec<Change>,
    plugin: &PluginId,
) -> Result<Applied, (String, Vec<Change>)> {
    let replace_rows = match check(&result, &changes) {
        Ok(rows) => rows,
        Err(message) => return Err((message, changes)),
    };
    let replaced = match decode_replacements(result.replaced, &mut changes, &replace_rows) {
        Ok(replaced) => replaced,
        Err(message) => return Err((message, changes)),
    };
    let mut replaced = replaced.into_iter();
    let mut routes = result.routes.into_iter();
    let mut reasons = result.rejected.into_iter();
    let mut applied = Applied {
        changes: Vec::with_capacity(changes.len()),
        rejected: Vec::new(),
        dropped: 0,
    };
    for (change, outcome) in changes.into_iter().zip(result.outcomes) {
        match outcome {
            Outcome::Keep => applied.changes.push(change),
            Outcome::Drop => applied.dropped += 1,
            Outcome::Replace => applied
                .changes
                .push(replaced.next().expect("counted by check")),
            Outcome::Route => {
                let mut routed = change;
                routed.table = routes.next().expect("counted by check");
                applied.changes.push(routed);
            }
            Outcome::Reject => {
                let reason = reasons.next().expect("counted by check").reason;
                applied.rejected.push(RejectedChange {
                    change,
                    reason: format!("rejected by plugin {plugin}: {reason}"),
                });
            }
        }
    }
    Ok(applied)
}

/// Checks that a result's parts agree with its outcomes; returns the rows
/// replaced (the replacements themselves are checked as they are decoded).
fn check(result: &Transformed, changes: &[Change]) -> Result<Vec<usize>, String> {
    let outcomes = result.outcomes.len();
    if outcomes != changes.len() {
        return Err(format!("{outcomes} outcomes for {} changes", changes.len()));
    }
    let count = |wanted: Outcome| result.outcomes.iter().filter(|&&o| o == wanted).count();
    if result.routes.len() != count(Outcome::Route) {
        return Err(format!(
            "{} routes for {} route outcomes",
            result.routes.len(),
            count(Outcome::Route)
        ));
    }
    if result.rejected.len() != count(Outcome::Reject) {
        return Err(format!(
            "{} rejections for {} reject outcomes",
            result.rejected.len(),
            count(Outcome::Reject)
        ));
    }
    if let Some(empty) = result.routes.iter().find(|t| t.trim().is_empty()) {
        return Err(format!("route to an empty table name {empty:?}"));
    }
    let replace_rows: Vec<usize> = result
        .outcomes
        .iter()
        .enumerate()
        .filter(|(_, o)| **o == Outcome::Replace)
        .map(|(i, _)| i)
        .collect();
    Ok(replace_rows)
}

//! A live plugin instance: one store, its exports, calls under a deadline.

use std::sync::Arc;
use std::time::Duration;

use wasmtime::{Store, Trap};

use super::bindings::exports::floe::plugin::{decode, transform};
use super::bindings::{ChangeBatch, Decoded, RecordBatch, Transformed};
use super::sandbox::{HostState, MemoryLimitExceeded};

/// Why a call into a guest failed: it trapped, ran out of memory or time.
/// The instance must be discarded afterwards.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct CallFailure(pub String);

/// One instance of a plugin version in its own sandboxed store.
pub struct Instance {
    store: Store<HostState>,
    plugin: Arc<str>,
    deadline: Duration,
    deadline_ticks: u64,
    decode: Option<decode::Guest>,
    transform: Option<transform::Guest>,
}

impl Instance {
    pub(super) fn new(
        store: Store<HostState>,
        plugin: Arc<str>,
        deadline: Duration,
        deadline_ticks: u64,
        decode: Option<decode::Guest>,
        transform: Option<transform::Guest>,
    ) -> Self {
        Instance {
            store,
            plugin,
            deadline,
            deadline_ticks,
            decode,
            transform,
        }
    }

    /// `name@version` of the plugin this is an instance of.
    pub fn plugin(&self) -> &str {
        &self.plugin
    }

    /// Runs `call` with a fresh deadline, turning a trap into a [`CallFailure`]
    /// that carries the trap and what the guest last wrote to stderr.
    pub(super) fn call<R>(
        &mut self,
        call: impl FnOnce(&mut Store<HostState>) -> wasmtime::Result<R>,
    ) -> Result<R, CallFailure> {
        self.store.set_epoch_deadline(self.deadline_ticks);
        let result = call(&mut self.store);
        let stderr = self.store.data().take_stderr();
        result.map_err(|error| CallFailure(describe(&error, &stderr, self.deadline)))
    }

    /// Calls the plugin's `decode`.
    pub fn decode(&mut self, batch: &RecordBatch) -> Result<Decoded, CallFailure> {
        let guest = self
            .decode
            .clone()
            .ok_or_else(|| CallFailure("the plugin does not export decode".into()))?;
        self.call(|store| guest.call_decode(store, batch))
    }

    /// Calls the plugin's `transform`.
    pub fn transform(&mut self, batch: &ChangeBatch) -> Result<Transformed, CallFailure> {
        let guest = self
            .transform
            .clone()
            .ok_or_else(|| CallFailure("the plugin does not export transform".into()))?;
        self.call(|store| guest.call_transform(store, batch))
    }
}

/// A one-line reason from a wasmtime error and the guest's stderr.
fn describe(error: &wasmtime::Error, stderr: &str, deadline: Duration) -> String {
    let what = if let Some(exceeded) = error.downcast_ref::<MemoryLimitExceeded>() {
        format!("exceeded its memory limit: {exceeded}")
    } else {
        match error.downcast_ref::<Trap>() {
            Some(Trap::Interrupt) => format!("exceeded its deadline of {deadline:?}"),
            Some(Trap::StackOverflow) => "overflowed its stack".to_string(),
            Some(trap) => format!("trapped: {trap}"),
            None => format!("failed: {error:#}"),
        }
    };
    let said: Vec<&str> = stderr
        .lines()
        .map(str::trim)
        .filter(|line| !line.is_empty() && !line.starts_with("note: run with `RUST_BACKTRACE"))
        .collect();
    if said.is_empty() {
        what
    } else {
        let tail = said[said.len().saturating_sub(3)..].join(" | ");
        format!("{what}; it said: {tail}")
    }
}

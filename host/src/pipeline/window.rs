//! One table's commit window, as the pipeline keeps it beside the table's
//! buffered changes: the offsets it consumed, the dead letters of its
//! records, and the plugin versions that made its changes.
//!
//! The window is committed or dropped whole: [`TableWindow::clear`] after a
//! commit or a rebalance, never in part.

use std::collections::BTreeMap;
use std::sync::Arc;

use crate::commit::Offsets;
use crate::dlq::DeadLetter;
use crate::plugin::PluginId;

/// A partition: `(topic, partition)`.
type Partition = (Arc<str>, i32);

/// What one table's commit window holds besides its changes.
#[derive(Debug, Default)]
pub(super) struct TableWindow {
    /// The records consumed: next offset per partition, written into the
    /// table's snapshot (`floe.offsets`).
    consumed: Offsets,
    /// The first offset of the window per partition: names its DLQ file.
    start: BTreeMap<Partition, i64>,
    /// Dead letters per partition.
    dead: BTreeMap<Partition, Vec<DeadLetter>>,
    /// The dead letters were produced to the DLQ topic already (a commit
    /// that failed after that does not produce them twice).
    dead_sent: bool,
    /// The plugin versions that produced the window's changes, by name.
    plugins: BTreeMap<String, String>,
}

impl TableWindow {
    /// Notes that the window read `topic`/`partition` from `first` (the first
    /// record the table did not have) through `last`.
    pub fn read(&mut self, topic: &Arc<str>, partition: i32, first: Option<i64>, last: i64) {
        self.consumed.advance(topic, partition, last + 1);
        if let Some(first) = first {
            self.start
                .entry((topic.clone(), partition))
                .or_insert(first);
        }
    }

    /// Adds a dead letter.
    pub fn bury(&mut self, letter: DeadLetter) {
        let key = (letter.position.topic.clone(), letter.position.partition);
        self.start
            .entry(key.clone())
            .or_insert(letter.position.offset);
        self.dead.entry(key).or_default().push(letter);
    }

    /// Notes the plugin versions that ran for the window's changes.
    pub fn ran(&mut self, plugins: impl IntoIterator<Item = PluginId>) {
        for plugin in plugins {
            self.plugins.insert(plugin.name, plugin.sha256);
        }
    }

    /// Takes on the plugin versions of another table's window, which routed
    /// changes into this one.
    pub fn ran_as(&mut self, other: &TableWindow) {
        self.plugins
            .extend(other.plugins.iter().map(|(n, v)| (n.clone(), v.clone())));
    }

    /// The records consumed.
    pub fn consumed(&self) -> &Offsets {
        &self.consumed
    }

    /// The plugin versions, by name.
    pub fn plugins(&self) -> &BTreeMap<String, String> {
        &self.plugins
    }

    /// The dead letters per partition, each with the window's first offset
    /// there.
    pub fn dead_letters(&self) -> impl Iterator<Item = (&Arc<str>, i32, i64, &[DeadLetter])> {
        self.dead.iter().map(|((topic, partition), letters)| {
            let start = self
                .start
                .get(&(topic.clone(), *partition))
                .copied()
                .unwrap_or(0);
            (topic, *partition, start, letters.as_slice())
        })
    }

    /// Whether there are dead letters still to produce to the DLQ topic.
    pub fn dead_to_send(&self) -> bool {
        !self.dead_sent && !self.dead.is_empty()
    }

    /// Notes that the dead letters were produced to the DLQ topic.
    pub fn dead_sent(&mut self) {
        self.dead_sent = true;
    }

    /// Ends the window, handing back its dead letters (for the metrics).
    pub fn clear(&mut self) -> Vec<DeadLetter> {
        let dead = std::mem::take(&mut self.dead);
        *self = TableWindow {
            plugins: std::mem::take(&mut self.plugins),
            ..TableWindow::default()
        };
        dead.into_values().flatten().collect()
    }

    /// Drops the window and the plugin versions with it: its records will be
    /// read again.
    pub fn drop_all(&mut self) {
        *self = TableWindow::default();
    }
}

//! The source offsets a snapshot stands for, kept in its summary.
//!
//! `floe.offsets` is JSON `{"<topic>": {"<partition>": <next offset>}}`: the
//! next offset to read per source partition that feeds the table. It is
//! cumulative: a commit writes its own partitions over those of the previous
//! floe snapshot of the same pipeline and carries the others forward.

use std::collections::BTreeMap;

use iceberg::spec::{Snapshot, TableMetadata};
use serde_json::{Map, Value as Json};

/// Summary key: the pipeline id of the floe instance that wrote the snapshot.
pub const SUMMARY_PIPELINE: &str = "floe.pipeline";
/// Summary key: the cumulative next offsets, as JSON.
pub const SUMMARY_OFFSETS: &str = "floe.offsets";
/// Summary key: the plugins that produced the snapshot, JSON name → sha256.
pub const SUMMARY_PLUGINS: &str = "floe.plugins";

/// Next offset to read, per topic and partition.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Offsets(BTreeMap<String, BTreeMap<i32, i64>>);

impl Offsets {
    /// No offsets.
    pub fn new() -> Self {
        Offsets::default()
    }

    /// The next offset of a partition, if known.
    pub fn get(&self, topic: &str, partition: i32) -> Option<i64> {
        self.0.get(topic)?.get(&partition).copied()
    }

    /// Sets the next offset of a partition.
    pub fn set(&mut self, topic: &str, partition: i32, next: i64) {
        self.0
            .entry(topic.to_string())
            .or_default()
            .insert(partition, next);
    }

    /// Raises the next offset of a partition to `next` (never lowers it).
    pub fn advance(&mut self, topic: &str, partition: i32, next: i64) {
        let slot = self
            .0
            .entry(topic.to_string())
            .or_default()
            .entry(partition)
            .or_insert(next);
        *slot = (*slot).max(next);
    }

    /// Whether no partition has an offset.
    pub fn is_empty(&self) -> bool {
        self.0.values().all(BTreeMap::is_empty)
    }

    /// Every (topic, partition, next offset).
    pub fn iter(&self) -> impl Iterator<Item = (&str, i32, i64)> + '_ {
        self.0
            .iter()
            .flat_map(|(t, ps)| ps.iter().map(move |(p, o)| (t.as_str(), *p, *o)))
    }

    /// `self` with `newer`'s entries written over it.
    pub fn merged_with(&self, newer: &Offsets) -> Offsets {
        let mut out = self.clone();
        for (topic, partition, next) in newer.iter() {
            out.set(topic, partition, next);
        }
        out
    }

    /// `self` raised by `newer`'s entries (per partition, the larger wins).
    pub fn advanced_by(&self, newer: &Offsets) -> Offsets {
        let mut out = self.clone();
        for (topic, partition, next) in newer.iter() {
            out.advance(topic, partition, next);
        }
        out
    }

    /// Whether, for any partition of `first` (the first offset of each
    /// partition in a batch), `self` (a table's offsets) is already past it:
    /// someone else applied records of that batch.
    pub fn any_ahead_of(&self, first: &Offsets) -> bool {
        first.iter().any(|(topic, partition, offset)| {
            self.get(topic, partition).is_some_and(|t| t > offset)
        })
    }

    /// The JSON form.
    pub fn to_json(&self) -> String {
        let object: Map<String, Json> = self
            .0
            .iter()
            .map(|(topic, partitions)| {
                let inner: Map<String, Json> = partitions
                    .iter()
                    .map(|(p, o)| (p.to_string(), Json::from(*o)))
                    .collect();
                (topic.clone(), Json::Object(inner))
            })
            .collect();
        Json::Object(object).to_string()
    }

    /// Parses the JSON form; `None` when it is not one.
    pub fn from_json(text: &str) -> Option<Offsets> {
        let Json::Object(topics) = serde_json::from_str(text).ok()? else {
            return None;
        };
        let mut out = Offsets::new();
        for (topic, partitions) in topics {
            let Json::Object(partitions) = partitions else {
                return None;
            };
            for (partition, next) in partitions {
                out.set(&topic, partition.parse().ok()?, next.as_i64()?);
            }
        }
        Some(out)
    }
}

/// The latest snapshot on the current branch's ancestry written by floe
/// pipeline `pipeline` (its summary has `floe.pipeline` = `pipeline`).
pub fn latest_floe_snapshot<'a>(
    metadata: &'a TableMetadata,
    pipeline: &str,
) -> Option<&'a Snapshot> {
    let mut next = metadata.current_snapshot();
    while let Some(snapshot) = next {
        let props = &snapshot.summary().additional_properties;
        if props.get(SUMMARY_PIPELINE).map(String::as_str) == Some(pipeline) {
            return Some(snapshot);
        }
        next = snapshot
            .parent_snapshot_id()
            .and_then(|id| metadata.snapshot_by_id(id));
    }
    None
}

/// The offsets the table stands at for `pipeline`: those of its latest floe
/// snapshot (empty when floe has not written it).
pub fn table_offsets(metadata: &TableMetadata, pipeline: &str) -> Offsets {
    latest_floe_snapshot(metadata, pipeline)
        .and_then(|s| s.summary().additional_properties.get(SUMMARY_OFFSETS))
        .and_then(|text| Offsets::from_json(text))
        .unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn json_round_trips_and_merges() {
        let mut a = Offsets::new();
        a.set("t1", 0, 10);
        a.set("t1", 1, 5);
        a.set("t2", 0, 7);
        let text = a.to_json();
        assert_eq!(text, r#"{"t1":{"0":10,"1":5},"t2":{"0":7}}"#);
        assert_eq!(Offsets::from_json(&text), Some(a.clone()));
        let mut b = Offsets::new();
        b.set("t1", 1, 9);
        let merged = a.merged_with(&b);
        assert_eq!(merged.get("t1", 0), Some(10));
        assert_eq!(merged.get("t1", 1), Some(9));
        assert_eq!(merged.get("t2", 0), Some(7));
        assert!(Offsets::from_json("[1]").is_none());
        assert!(Offsets::from_json(r#"{"t":{"x":1}}"#).is_none());
    }

    #[test]
    fn ahead_compares_only_our_partitions() {
        let mut table = Offsets::new();
        table.set("t", 0, 20);
        table.set("u", 0, 99);
        let mut ours = Offsets::new();
        ours.set("t", 0, 20);
        assert!(!table.any_ahead_of(&ours));
        ours.set("t", 0, 15);
        assert!(table.any_ahead_of(&ours));
    }
}

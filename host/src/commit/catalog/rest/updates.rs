//! A REST commit from what floe built: floe makes the new
//! [`TableMetadata`] itself (row deltas, expiry, manifest merging), and
//! this module is the one place that turns (base, new) into the REST
//! protocol's requirements and updates.
//!
//! Requirements make the commit a compare-and-swap: `assert-table-uuid`,
//! `assert-ref-snapshot-id` on `main` (the base's snapshot, or none), and
//! when the schema changes `assert-current-schema-id` and
//! `assert-last-assigned-field-id`. Updates, in the order a server applies
//! them: `upgrade-format-version`, `add-schema`, `set-current-schema`,
//! `add-snapshot`, `set-snapshot-ref` / `remove-snapshot-ref`,
//! `remove-snapshots`, `set-properties` / `remove-properties`.

use std::collections::{BTreeMap, HashMap, HashSet};

use iceberg::TableRequirement;
use iceberg::TableUpdate;
use iceberg::spec::{MAIN_BRANCH, SnapshotReference, TableMetadata};

/// What a commit asks of the table and what it changes.
#[derive(Debug)]
pub struct Changes {
    /// Conditions the table must meet for the commit to apply.
    pub requirements: Vec<TableRequirement>,
    /// The changes, in order.
    pub updates: Vec<TableUpdate>,
}

/// A change floe's commit path made that the REST commit cannot carry.
#[derive(Debug, thiserror::Error)]
#[error("{0}")]
pub struct Unsupported(pub String);

/// The requirements and updates that turn `base` into `new`.
pub fn changes(base: &TableMetadata, new: &TableMetadata) -> Result<Changes, Unsupported> {
    if base.uuid() != new.uuid() {
        return Err(Unsupported("the table's uuid changed".into()));
    }
    let mut requirements = vec![
        TableRequirement::UuidMatch { uuid: base.uuid() },
        TableRequirement::RefSnapshotIdMatch {
            r#ref: MAIN_BRANCH.to_string(),
            snapshot_id: base.snapshot_for_ref(MAIN_BRANCH).map(|s| s.snapshot_id()),
        },
    ];
    let mut updates = Vec::new();
    if new.format_version() != base.format_version() {
        updates.push(TableUpdate::UpgradeFormatVersion {
            format_version: new.format_version(),
        });
    }
    let specs_changed = base.partition_specs_iter().len() != new.partition_specs_iter().len()
        || base.default_partition_spec_id() != new.default_partition_spec_id();
    if specs_changed {
        return Err(Unsupported("the partition spec changed".into()));
    }

    let base_schemas: HashSet<i32> = base.schemas_iter().map(|s| s.schema_id()).collect();
    let added_schemas: Vec<_> = new
        .schemas_iter()
        .filter(|s| !base_schemas.contains(&s.schema_id()))
        .collect();
    let schema_changed =
        !added_schemas.is_empty() || new.current_schema_id() != base.current_schema_id();
    if schema_changed {
        requirements.push(TableRequirement::CurrentSchemaIdMatch {
            current_schema_id: base.current_schema_id(),
        });
        requirements.push(TableRequirement::LastAssignedFieldIdMatch {
            last_assigned_field_id: base.last_column_id(),
        });
    }
    let mut added_ids = added_schemas
        .iter()
        .map(|s| s.schema_id())
        .collect::<Vec<_>>();
    added_ids.sort_unstable();
    let mut sorted = added_schemas;
    sorted.sort_by_key(|s| s.schema_id());
    for schema in sorted {
        updates.push(TableUpdate::AddSchema {
            schema: schema.as_ref().clone(),
        });
    }
    if new.current_schema_id() != base.current_schema_id() {
        // -1: the schema added last in this commit (the server may number
        // it differently from floe).
        let schema_id = if added_ids.last() == Some(&new.current_schema_id()) {
            -1
        } else {
            new.current_schema_id()
        };
        updates.push(TableUpdate::SetCurrentSchema { schema_id });
    }

    let base_snapshots: HashSet<i64> = base.snapshots().map(|s| s.snapshot_id()).collect();
    let new_snapshots: HashSet<i64> = new.snapshots().map(|s| s.snapshot_id()).collect();
    let mut added: Vec<_> = new
        .snapshots()
        .filter(|s| !base_snapshots.contains(&s.snapshot_id()))
        .collect();
    added.sort_by_key(|s| s.sequence_number());
    for snapshot in added {
        updates.push(TableUpdate::AddSnapshot {
            snapshot: snapshot.as_ref().clone(),
        });
    }
    let (base_refs, new_refs) = (refs(base), refs(new));
    for (name, reference) in &new_refs {
        if base_refs.get(name) != Some(reference) {
            updates.push(TableUpdate::SetSnapshotRef {
                ref_name: name.clone(),
                reference: reference.clone(),
            });
        }
    }
    for name in base_refs.keys().filter(|n| !new_refs.contains_key(*n)) {
        updates.push(TableUpdate::RemoveSnapshotRef {
            ref_name: name.clone(),
        });
    }
    let mut removed: Vec<i64> = base_snapshots.difference(&new_snapshots).copied().collect();
    if !removed.is_empty() {
        removed.sort_unstable();
        updates.push(TableUpdate::RemoveSnapshots {
            snapshot_ids: removed,
        });
    }

    let set: HashMap<String, String> = new
        .properties()
        .iter()
        .filter(|(k, v)| base.properties().get(*k) != Some(*v))
        .map(|(k, v)| (k.clone(), v.clone()))
        .collect();
    if !set.is_empty() {
        updates.push(TableUpdate::SetProperties { updates: set });
    }
    let mut removals: Vec<String> = base
        .properties()
        .keys()
        .filter(|k| !new.properties().contains_key(*k))
        .cloned()
        .collect();
    if !removals.is_empty() {
        removals.sort();
        updates.push(TableUpdate::RemoveProperties { removals });
    }
    Ok(Changes {
        requirements,
        updates,
    })
}

/// Whether `current` (the table as reloaded) shows the commit that turned
/// `base` into `new`: its snapshots are there and those it removed are gone.
/// For a commit that changed no snapshot, whether `current`'s metadata
/// location moved on is what tells, and the caller decides.
pub fn landed(base: &TableMetadata, new: &TableMetadata, current: &TableMetadata) -> bool {
    let base_snapshots: HashSet<i64> = base.snapshots().map(|s| s.snapshot_id()).collect();
    let new_snapshots: HashSet<i64> = new.snapshots().map(|s| s.snapshot_id()).collect();
    let added = new_snapshots.difference(&base_snapshots);
    let removed = base_snapshots.difference(&new_snapshots);
    let mut any = false;
    for id in added {
        any = true;
        if current.snapshot_by_id(*id).is_none() {
            return false;
        }
    }
    for id in removed {
        any = true;
        if current.snapshot_by_id(*id).is_some() {
            return false;
        }
    }
    any
}

/// The table's refs (the crate keeps them private; its JSON form has them).
fn refs(metadata: &TableMetadata) -> BTreeMap<String, SnapshotReference> {
    let refs = serde_json::to_value(metadata)
        .ok()
        .and_then(|json| json.get("refs").cloned())
        .and_then(|refs| serde_json::from_value(refs).ok())
        .unwrap_or_default();
    let mut refs: BTreeMap<String, SnapshotReference> = refs;
    if let (false, Some(current)) = (refs.contains_key(MAIN_BRANCH), metadata.current_snapshot()) {
        refs.insert(
            MAIN_BRANCH.to_string(),
            SnapshotReference::new(
                current.snapshot_id(),
                iceberg::spec::SnapshotRetention::branch(None, None, None),
            ),
        );
    }
    refs
}

#[cfg(test)]
mod tests;

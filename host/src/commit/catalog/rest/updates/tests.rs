use std::collections::HashMap;

use iceberg::spec::{
    FormatVersion, NestedField, Operation, PrimitiveType, Schema, Snapshot, SortOrder, Summary,
    TableMetadataBuilder, Type, UnboundPartitionSpec,
};

use super::*;

fn schema(columns: i32) -> Schema {
    Schema::builder()
        .with_fields(
            (1..=columns)
                .map(|id| {
                    NestedField::optional(
                        id,
                        format!("c{id}"),
                        Type::Primitive(PrimitiveType::Long),
                    )
                    .into()
                })
                .collect::<Vec<_>>(),
        )
        .build()
        .unwrap()
}

fn empty_table() -> TableMetadata {
    TableMetadataBuilder::new(
        schema(1),
        UnboundPartitionSpec::builder().build(),
        SortOrder::unsorted_order(),
        "s3://b/t".into(),
        FormatVersion::V2,
        HashMap::new(),
    )
    .unwrap()
    .build()
    .unwrap()
    .metadata
}

fn with_snapshot(base: &TableMetadata, id: i64) -> TableMetadata {
    let snapshot = Snapshot::builder()
        .with_snapshot_id(id)
        .with_parent_snapshot_id(base.current_snapshot_id())
        .with_sequence_number(base.last_sequence_number() + 1)
        .with_timestamp_ms(base.last_updated_ms() + 1)
        .with_manifest_list(format!("s3://b/t/metadata/snap-{id}.avro"))
        .with_summary(Summary {
            operation: Operation::Append,
            additional_properties: HashMap::new(),
        })
        .with_schema_id(base.current_schema_id())
        .build();
    TableMetadataBuilder::new_from_metadata(base.clone(), None)
        .set_branch_snapshot(snapshot, MAIN_BRANCH)
        .unwrap()
        .build()
        .unwrap()
        .metadata
}

fn actions(changes: &Changes) -> Vec<String> {
    changes
        .updates
        .iter()
        .map(|u| {
            serde_json::to_value(u).unwrap()["action"]
                .as_str()
                .unwrap()
                .to_string()
        })
        .collect()
}

#[test]
fn a_row_delta_asserts_the_base_snapshot_and_adds_its_own() {
    let base = with_snapshot(&empty_table(), 1);
    let new = with_snapshot(&base, 2);
    let changes = changes(&base, &new).unwrap();
    let requirements = serde_json::to_value(&changes.requirements).unwrap();
    assert_eq!(requirements[0]["type"], "assert-table-uuid");
    assert_eq!(requirements[1]["type"], "assert-ref-snapshot-id");
    assert_eq!(requirements[1]["ref"], "main");
    assert_eq!(requirements[1]["snapshot-id"], 1);
    assert_eq!(
        requirements.as_array().unwrap().len(),
        2,
        "no schema asserts"
    );
    assert_eq!(actions(&changes), ["add-snapshot", "set-snapshot-ref"]);
    assert!(landed(&base, &new, &new));
    assert!(!landed(&base, &new, &base));
}

#[test]
fn the_first_snapshot_asserts_that_main_has_none() {
    let base = empty_table();
    let new = with_snapshot(&base, 7);
    let requirements = serde_json::to_value(changes(&base, &new).unwrap().requirements).unwrap();
    assert_eq!(requirements[1]["snapshot-id"], serde_json::Value::Null);
}

#[test]
fn a_schema_change_asserts_the_schema_and_sets_the_one_it_adds() {
    let base = with_snapshot(&empty_table(), 1);
    let evolved = TableMetadataBuilder::new_from_metadata(base.clone(), None)
        .add_current_schema(schema(3))
        .unwrap()
        .build()
        .unwrap()
        .metadata;
    let new = with_snapshot(&evolved, 2);
    let changes = changes(&base, &new).unwrap();
    let requirements = serde_json::to_value(&changes.requirements).unwrap();
    assert_eq!(requirements[2]["type"], "assert-current-schema-id");
    assert_eq!(requirements[2]["current-schema-id"], 0);
    assert_eq!(requirements[3]["type"], "assert-last-assigned-field-id");
    assert_eq!(requirements[3]["last-assigned-field-id"], 1);
    assert_eq!(
        actions(&changes),
        [
            "add-schema",
            "set-current-schema",
            "add-snapshot",
            "set-snapshot-ref"
        ]
    );
    let set = serde_json::to_value(&changes.updates[1]).unwrap();
    assert_eq!(set["schema-id"], -1, "the schema this commit added");
}

#[test]
fn an_expiry_removes_snapshots_and_has_landed_once_they_are_gone() {
    let one = with_snapshot(&empty_table(), 1);
    let two = with_snapshot(&one, 2);
    let base = with_snapshot(&two, 3);
    let new = TableMetadataBuilder::new_from_metadata(base.clone(), None)
        .remove_snapshots(&[1, 2])
        .build()
        .unwrap()
        .metadata;
    let changes = changes(&base, &new).unwrap();
    assert_eq!(actions(&changes), ["remove-snapshots"]);
    let removed = serde_json::to_value(&changes.updates[0]).unwrap();
    assert_eq!(removed["snapshot-ids"], serde_json::json!([1, 2]));
    assert!(landed(&base, &new, &new));
    assert!(!landed(&base, &new, &base));
}

#[test]
fn changed_properties_are_set_and_removed_ones_removed() {
    let base = TableMetadataBuilder::new_from_metadata(empty_table(), None)
        .set_properties(HashMap::from([("a".to_string(), "1".to_string())]))
        .unwrap()
        .build()
        .unwrap()
        .metadata;
    let new = TableMetadataBuilder::new_from_metadata(base.clone(), None)
        .set_properties(HashMap::from([("b".to_string(), "2".to_string())]))
        .unwrap()
        .remove_properties(&["a".to_string()])
        .unwrap()
        .build()
        .unwrap()
        .metadata;
    let changes = changes(&base, &new).unwrap();
    assert_eq!(actions(&changes), ["set-properties", "remove-properties"]);
}

use std::collections::HashMap;

use iceberg::spec::{
    FormatVersion, NestedField, Operation, PrimitiveType, Schema, SortOrder, Summary, Type,
    UnboundPartitionSpec,
};

use super::*;
use crate::commit::offsets::{SUMMARY_OFFSETS, SUMMARY_PIPELINE, table_offsets};

fn policy(age_ms: i64, max: usize, min: usize) -> MaintenancePolicy {
    MaintenancePolicy {
        max_snapshot_age_ms: age_ms,
        max_snapshots: max,
        min_snapshots_to_keep: min,
        interval: std::time::Duration::ZERO,
        ..MaintenancePolicy::from_properties(&Default::default())
    }
}

/// A table whose `main` has snapshots 1..=n, one a second, the last at
/// the time returned; `pipeline(i)` names the floe pipeline that wrote
/// snapshot i, if any.
fn table(n: i64, pipeline: impl Fn(i64) -> Option<&'static str>) -> (TableMetadata, i64) {
    let now = now_ms();
    let schema = Schema::builder()
        .with_fields(vec![
            NestedField::required(1, "id", Type::Primitive(PrimitiveType::Long)).into(),
        ])
        .build()
        .unwrap();
    let mut metadata = TableMetadataBuilder::new(
        schema,
        UnboundPartitionSpec::builder().build(),
        SortOrder::unsorted_order(),
        "/t".into(),
        FormatVersion::V2,
        HashMap::new(),
    )
    .unwrap()
    .build()
    .unwrap()
    .metadata;
    for i in 1..=n {
        let mut properties = HashMap::new();
        if let Some(p) = pipeline(i) {
            properties.insert(SUMMARY_PIPELINE.to_string(), p.to_string());
            properties.insert(
                SUMMARY_OFFSETS.to_string(),
                format!(r#"{{"t":{{"0":{i}}}}}"#),
            );
        }
        let snapshot = Snapshot::builder()
            .with_snapshot_id(i)
            .with_parent_snapshot_id((i > 1).then_some(i - 1))
            .with_sequence_number(i)
            .with_timestamp_ms(now - (n - i) * 1000)
            .with_manifest_list(format!("/t/metadata/snap-{i}.avro"))
            .with_summary(Summary {
                operation: Operation::Append,
                additional_properties: properties,
            })
            .with_schema_id(0)
            .build();
        metadata = TableMetadataBuilder::new_from_metadata(metadata, None)
            .set_branch_snapshot(snapshot, MAIN_BRANCH)
            .unwrap()
            .build()
            .unwrap()
            .metadata;
    }
    (metadata, now)
}

fn floe(_: i64) -> Option<&'static str> {
    Some("p")
}

#[test]
fn count_limit_keeps_the_newest() {
    let (metadata, now) = table(20, floe);
    let expired = snapshots_to_expire(&metadata, &policy(3_600_000, 5, 1), "p", now);
    assert_eq!(expired, (1..=15).collect::<Vec<_>>());
}

#[test]
fn age_limit_and_min_to_keep() {
    let (metadata, now) = table(20, floe);
    // Snapshots 11..=20 are at most 9 s old.
    let expired = snapshots_to_expire(&metadata, &policy(9_000, 500, 1), "p", now);
    assert_eq!(expired, (1..=10).collect::<Vec<_>>());
    let expired = snapshots_to_expire(&metadata, &policy(0, 500, 1), "p", now);
    assert_eq!(
        expired,
        (1..=19).collect::<Vec<_>>(),
        "the current one stays"
    );
    let expired = snapshots_to_expire(&metadata, &policy(0, 500, 3), "p", now);
    assert_eq!(expired, (1..=17).collect::<Vec<_>>());
    let expired = snapshots_to_expire(&metadata, &policy(0, 2, 4), "p", now);
    assert_eq!(
        expired,
        (1..=16).collect::<Vec<_>>(),
        "min-to-keep wins over the count"
    );
    assert!(snapshots_to_expire(&metadata, &policy(3_600_000, 500, 1), "p", now).is_empty());
}

#[test]
fn tags_and_branches_are_kept() {
    let (mut metadata, now) = table(20, floe);
    metadata = TableMetadataBuilder::new_from_metadata(metadata, None)
        .set_ref(
            "release",
            SnapshotReference::new(
                3,
                SnapshotRetention::Tag {
                    max_ref_age_ms: None,
                },
            ),
        )
        .unwrap()
        .set_ref(
            "audit",
            SnapshotReference::new(7, SnapshotRetention::branch(Some(2), None, None)),
        )
        .unwrap()
        .build()
        .unwrap()
        .metadata;
    let expired = snapshots_to_expire(&metadata, &policy(0, 500, 1), "p", now);
    let kept: Vec<i64> = (1..=20).filter(|id| !expired.contains(id)).collect();
    assert_eq!(
        kept,
        [3, 6, 7, 20],
        "tag, the branch's head and its min of 2, current"
    );
}

#[test]
fn the_chain_to_the_pipelines_offsets_stays() {
    // Another engine committed 18..=20 on top of floe's 17.
    let (metadata, now) = table(20, |i| (i <= 17).then_some("p"));
    let expired = snapshots_to_expire(&metadata, &policy(0, 2, 1), "p", now);
    assert_eq!(expired, (1..=16).collect::<Vec<_>>());
    let after = TableMetadataBuilder::new_from_metadata(metadata.clone(), None)
        .remove_snapshots(&expired)
        .build()
        .unwrap()
        .metadata;
    assert_eq!(after.snapshots().len(), 4);
    assert_eq!(
        table_offsets(&after, "p"),
        table_offsets(&metadata, "p"),
        "offsets found through the retained chain"
    );
    assert_eq!(table_offsets(&after, "p").get("t", 0), Some(17));
    // Another pipeline's chain is not protected.
    let expired = snapshots_to_expire(&metadata, &policy(0, 2, 1), "q", now);
    assert_eq!(expired, (1..=19).collect::<Vec<_>>());
}

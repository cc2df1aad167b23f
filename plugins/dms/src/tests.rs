//! The decoder's pure logic on the fixtures and on bad records.

use super::*;
use floe_guest::OwnedValue;
use floe_guest::testing::{self, TestRecord};

fn decode(config: &[(&str, &str)], values: &[&str]) -> testing::TestDecoded {
    let mut dms = Dms::init(&Config::from_pairs(config.iter().copied())).unwrap();
    let records: Vec<TestRecord> = values.iter().map(|v| TestRecord::new("dms", *v)).collect();
    testing::decode(&mut dms, &records)
}

#[test]
fn the_fixtures() {
    let out = decode(
        &[],
        &[
            include_str!("../fixtures/control-create-table.json"),
            include_str!("../fixtures/load.json"),
            include_str!("../fixtures/insert.json"),
            include_str!("../fixtures/update-before-image.json"),
            include_str!("../fixtures/delete.json"),
        ],
    );
    assert!(out.rejected.is_empty(), "{:?}", out.rejected);
    let ops: Vec<(u32, Op, &str)> = out
        .changes
        .iter()
        .map(|(i, c)| (*i, c.op, c.table.as_str()))
        .collect();
    assert_eq!(
        ops,
        vec![
            (1, Op::Read, "DMS_SAMPLE.LOCATIONS"),
            (2, Op::Insert, "sbtest.sbtest_x"),
            (3, Op::Update, "sbtest.sbtest_x"),
            (4, Op::Delete, "sbtest.sbtest_x"),
        ]
    );
    let load = out.changes[0].1.after.as_ref().unwrap();
    assert_eq!(load.get("LOCATION_ID"), Some(&OwnedValue::Long(1)));
    assert_eq!(load.get("ACTIVE"), Some(&OwnedValue::Boolean(true)));
    assert_eq!(load.get("RATING"), Some(&OwnedValue::Double(4.5)));
    assert_eq!(load.get("NOTE"), Some(&OwnedValue::Null));
    let insert = &out.changes[1].1;
    assert_eq!(insert.event_time, Some(1_572_562_439_721_201));
    assert_eq!(
        insert.after.as_ref().unwrap().get("k"),
        Some(&OwnedValue::Long(1869))
    );
    let update = &out.changes[2].1;
    let before = update.before.as_ref().unwrap();
    assert_eq!(before.get("id"), Some(&OwnedValue::Long(100_000_161)));
    assert_eq!(
        update.after.as_ref().unwrap().get("pad"),
        Some(&"updated".into())
    );
    let delete = &out.changes[3].1;
    assert!(delete.after.is_none());
    assert_eq!(
        delete.before.as_ref().unwrap().get("id"),
        Some(&OwnedValue::Long(100_000_161))
    );
}

#[test]
fn the_before_image_field_is_configurable_and_overlays_the_row() {
    let update = r#"{"data":{"id":2,"v":"new"},"BI":{"id":1},"metadata":{"record-type":"data","operation":"update","schema-name":"s","table-name":"t"}}"#;
    let out = decode(
        &[("before_image_field", "BI"), ("table", "raw.{table}")],
        &[update],
    );
    let change = &out.changes[0].1;
    assert_eq!(change.table, "raw.t");
    let before = change.before.as_ref().unwrap();
    assert_eq!(
        before.get("id"),
        Some(&OwnedValue::Long(1)),
        "a key change: the old key"
    );
    assert_eq!(before.get("v"), Some(&"new".into()));
    let out = decode(&[], &[update]);
    assert!(
        out.changes[0].1.before.is_none(),
        "`BI` is not the default field name"
    );
    assert!(Dms::init(&Config::from_pairs([("before_image_field", " ")])).is_err());
}

#[test]
fn bad_records_are_rejected_with_a_reason() {
    let meta = |rt: &str, op: &str| {
        format!(r#"{{"record-type":"{rt}","operation":"{op}","schema-name":"s","table-name":"t"}}"#)
    };
    let out = decode(
        &[],
        &[
            "{not json".to_owned(),
            "7".to_owned(),
            r#"{"data":{"id":1}}"#.to_owned(),
            format!(r#"{{"data":{{"id":1}},"metadata":{}}}"#, meta("ddl", "insert")),
            format!(r#"{{"data":{{"id":1}},"metadata":{}}}"#, meta("data", "merge")),
            format!(r#"{{"metadata":{}}}"#, meta("data", "insert")),
            format!(r#"{{"data":{{"id":18446744073709551615}},"metadata":{}}}"#, meta("data", "insert")),
            r#"{"data":{"id":1},"metadata":{"record-type":"data","operation":"insert","table-name":"t"}}"#.to_owned(),
            r#"{"data":{"id":1},"metadata":{"record-type":"data","operation":"insert","schema-name":"s","table-name":"t","timestamp":"yesterday"}}"#.to_owned(),
            format!(r#"{{"data":{{"id":1}},"metadata":{}}}"#, meta("data", "insert")),
        ]
        .iter()
        .map(String::as_str)
        .collect::<Vec<_>>(),
    );
    let reasons: Vec<(u32, &str)> = out.rejected.iter().map(|(i, r)| (*i, r.as_str())).collect();
    assert!(
        reasons[0].1.starts_with("invalid JSON: "),
        "{}",
        reasons[0].1
    );
    assert_eq!(
        reasons[1..].to_vec(),
        vec![
            (1, "a DMS record is a JSON object"),
            (2, "missing object field `metadata`"),
            (3, "unknown DMS record-type `ddl`"),
            (4, "unknown DMS operation `merge`"),
            (5, "a `insert` record needs an object `data`"),
            (
                6,
                "column `id`: integer 18446744073709551615 does not fit a long"
            ),
            (7, "missing string field `schema-name`"),
            (
                8,
                r#"metadata `timestamp` is not an ISO 8601 time: "yesterday""#
            ),
        ]
    );
    assert_eq!(out.changes.len(), 1);
    assert_eq!(out.changes[0].0, 9);
}

//! The decoder's pure logic on the fixtures and on bad messages.

use super::*;
use floe_guest::testing::{self, TestRecord};
use floe_guest::{ColumnType, Decimal, OwnedValue};

fn decode(values: &[&str]) -> testing::TestDecoded {
    let mut canal = Canal::init(&Config::from_pairs([("table", "{database}.{table}")])).unwrap();
    let records: Vec<TestRecord> = values
        .iter()
        .map(|v| TestRecord::new("canal", *v))
        .collect();
    testing::decode(&mut canal, &records)
}

#[test]
fn the_wiki_update_types_every_column() {
    let out = decode(&[include_str!("../fixtures/wiki-update.json")]);
    assert!(out.rejected.is_empty(), "{:?}", out.rejected);
    let update = &out.changes[0].1;
    assert_eq!(update.op, Op::Update);
    assert_eq!(update.table, "canal_manager.canal_user");
    assert_eq!(update.key_columns, vec!["id".to_string()]);
    assert_eq!(update.event_time, Some(1_568_972_368_000_000));
    let after = update.after.as_ref().unwrap();
    let before = update.before.as_ref().unwrap();
    assert_eq!(after.get("id"), Some(&OwnedValue::Long(13)));
    assert_eq!(after.get("name"), Some(&"Canal Manager V2".into()));
    assert_eq!(before.get("name"), Some(&"Canal Manager".into()));
    assert_eq!(
        before.get("roles"),
        Some(&"admin".into()),
        "before = data overlaid with old"
    );
    assert_eq!(after.get("avatar"), Some(&OwnedValue::Null));
    assert_eq!(after.column_type("avatar"), Some(ColumnType::String));
    assert_eq!(
        after.get("creation_date"),
        Some(&OwnedValue::Timestamp(1_535_729_597_000_000))
    );
}

#[test]
fn several_rows_make_several_changes_in_order() {
    let out = decode(&[
        include_str!("../fixtures/products-insert-two-rows.json"),
        include_str!("../fixtures/ddl-create-database.json"),
        include_str!("../fixtures/products-update.json"),
        include_str!("../fixtures/products-delete.json"),
    ]);
    assert!(out.rejected.is_empty(), "{:?}", out.rejected);
    let summary: Vec<(u32, Op, Option<OwnedValue>)> = out
        .changes
        .iter()
        .map(|(i, c)| {
            let image = c.after.as_ref().or(c.before.as_ref()).unwrap();
            (*i, c.op, image.get("id").cloned())
        })
        .collect();
    assert_eq!(
        summary,
        vec![
            (0, Op::Insert, Some(OwnedValue::Int(101))),
            (0, Op::Insert, Some(OwnedValue::Int(102))),
            (2, Op::Update, Some(OwnedValue::Int(111))),
            (3, Op::Delete, Some(OwnedValue::Int(111))),
        ]
    );
    let update = &out.changes[2].1;
    assert_eq!(
        update.before.as_ref().unwrap().get("weight"),
        Some(&OwnedValue::Float(5.15))
    );
    assert_eq!(
        update.after.as_ref().unwrap().get("weight"),
        Some(&OwnedValue::Float(5.18))
    );
    assert!(out.changes[3].1.after.is_none());
}

#[test]
fn typed_values() {
    let msg = r#"{"data":[{"id":"7","price":"-0.05","big":"18446744073709551615","d":"2024-02-29","t":"12:34:56","b":"\u00ff\u0000","flag":"1","n":null}],
        "database":"shop","table":"t","type":"INSERT","isDdl":false,"es":null,
        "mysqlType":{"id":"int(11)","price":"decimal(10,2)","big":"bigint(20) unsigned","d":"date","t":"time","b":"varbinary(4)","flag":"bit(1)"},
        "sqlType":{"n":93}}"#;
    let out = decode(&[msg]);
    assert!(out.rejected.is_empty(), "{:?}", out.rejected);
    let after = out.changes[0].1.after.as_ref().unwrap();
    assert_eq!(after.get("id"), Some(&OwnedValue::Int(7)));
    assert_eq!(
        after.get("price"),
        Some(&OwnedValue::Decimal(Decimal {
            unscaled: -5,
            precision: 10,
            scale: 2
        }))
    );
    assert_eq!(
        after.get("big"),
        Some(&OwnedValue::Decimal(Decimal {
            unscaled: 18_446_744_073_709_551_615,
            precision: 20,
            scale: 0
        }))
    );
    assert_eq!(after.get("d"), Some(&OwnedValue::Date(19_782)));
    assert_eq!(after.get("t"), Some(&OwnedValue::Time(45_296_000_000)));
    assert_eq!(after.get("b"), Some(&OwnedValue::Binary(vec![0xff, 0])));
    assert_eq!(after.get("flag"), Some(&OwnedValue::Long(1)));
    assert_eq!(after.column_type("n"), Some(ColumnType::Timestamp));
    assert_eq!(out.changes[0].1.event_time, None);
}

#[test]
fn bad_messages_are_rejected_with_a_reason() {
    let ok = r#"{"data":[{"id":"1"}],"database":"s","table":"t","type":"INSERT","mysqlType":{"id":"int"}}"#;
    let out = decode(&[
        "{not json",
        "[1]",
        r#"{"data":[{"id":"1"}],"table":"t","type":"INSERT","mysqlType":{"id":"int"}}"#,
        r#"{"database":"s","table":"t","type":"INSERT"}"#,
        r#"{"data":[{"id":"1"},{"id":"x"}],"database":"s","table":"t","type":"INSERT","mysqlType":{"id":"int"}}"#,
        r#"{"data":[{"g":"POINT(1 1)"}],"database":"s","table":"t","type":"INSERT","mysqlType":{"g":"geometry"}}"#,
        r#"{"data":[{"id":"1"}],"database":"s","table":"t","type":"INSERT"}"#,
        r#"{"data":[{"id":"1"}],"old":[],"database":"s","table":"t","type":"UPDATE","mysqlType":{"id":"int"}}"#,
        r#"{"data":null,"database":"s","table":"","type":"GTID","isDdl":false}"#,
        ok,
    ]);
    let reasons: Vec<(u32, &str)> = out.rejected.iter().map(|(i, r)| (*i, r.as_str())).collect();
    assert!(
        reasons[0].1.starts_with("invalid JSON: "),
        "{}",
        reasons[0].1
    );
    assert_eq!(
        reasons[1..].to_vec(),
        vec![
            (1, "a Canal flat message is a JSON object"),
            (2, "missing string field `database`"),
            (3, "a `INSERT` message needs an array `data`"),
            (4, "row 1: column `id`: `x` is not a valid int"),
            (5, "row 0: column `g`: unknown MySQL type `geometry`"),
            (
                6,
                "row 0: column `id`: no mysqlType or sqlType for the column"
            ),
            (7, "`old` has 0 rows and `data` 1"),
        ]
    );
    assert_eq!(
        out.changes.len(),
        1,
        "a rejected record keeps none of its rows"
    );
    assert_eq!(out.changes[0].0, 9);
}

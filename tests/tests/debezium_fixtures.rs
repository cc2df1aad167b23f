//! The native Debezium decoder against every fixture in
//! `../shared/fixtures/debezium/` (one test per file), plus error cases and
//! truncated/mutated inputs that must never panic.
//!
//! Expected values are worked out by hand from the fixture text; the
//! comments show the arithmetic.

use std::collections::HashMap;
use std::sync::Arc;

use floe::change::{Change, ColumnType, Image, Op, Value};
use floe::decode::{
    DebeziumConfig, DebeziumDecoder, DecodeError, Decoded, NumericTime, Part, SkipReason,
};
use floe::source::RawRecord;
use floe_tests::cdc::Lcg;
use floe_tests::fixtures_dir;
// `RawValue` needs serde_json's `raw_value` feature, which floe enables.
use serde_json::value::RawValue;

const TOPIC: &str = "fixtures.topic";

/// A fixture as a Kafka record: `{"key": …, "value": …}` files give both
/// (a JSON null is a Kafka null); any other file is the value alone. The
/// bytes are the fixture's own text (indentation and member order kept).
fn record(name: &str) -> RawRecord {
    let text = std::fs::read_to_string(fixtures_dir().join(name))
        .unwrap_or_else(|e| panic!("read fixture {name}: {e}"));
    let (key, value) = split_fixture(&text);
    RawRecord {
        topic: Arc::from(TOPIC),
        partition: 0,
        offset: 7,
        timestamp: None,
        key,
        value,
        headers: Vec::new(),
    }
}

fn split_fixture(text: &str) -> (Option<Vec<u8>>, Option<Vec<u8>>) {
    let members: Result<HashMap<String, &RawValue>, _> = serde_json::from_str(text);
    match members {
        Ok(m) if m.len() == 2 && m.contains_key("key") && m.contains_key("value") => {
            let bytes = |r: &RawValue| (r.get() != "null").then(|| r.get().as_bytes().to_vec());
            (bytes(m["key"]), bytes(m["value"]))
        }
        _ => (None, Some(text.as_bytes().to_vec())),
    }
}

fn decode_with(record: &RawRecord, config: DebeziumConfig) -> Result<Decoded, DecodeError> {
    DebeziumDecoder::new(config).decode(record)
}

fn decode(name: &str) -> Result<Decoded, DecodeError> {
    decode_with(&record(name), DebeziumConfig::default())
}

fn one_change(decoded: Result<Decoded, DecodeError>) -> Change {
    match decoded {
        Ok(Decoded::Changes(mut changes)) => {
            assert_eq!(changes.len(), 1, "one change per Debezium record");
            let change = changes.remove(0);
            assert_eq!(change.position.topic.as_ref(), TOPIC);
            assert_eq!(change.position.offset, 7);
            change
        }
        other => panic!("expected a change, got {other:?}"),
    }
}

fn change(name: &str) -> Change {
    one_change(decode(name))
}

fn skipped(name: &str) -> SkipReason {
    match decode(name) {
        Ok(Decoded::Skipped(reason)) => reason,
        other => panic!("{name}: expected a skip, got {other:?}"),
    }
}

/// Column `name` of `image`: its type and value.
fn col<'i>(image: &'i Image, name: &str) -> (ColumnType, Option<&'i Value>) {
    let field = image
        .field(name)
        .unwrap_or_else(|| panic!("no column {name} in {image:?}"));
    (field.ty, field.value.as_ref())
}

fn names(image: &Image) -> Vec<&str> {
    image.fields().iter().map(|f| &*f.name).collect()
}

fn s(text: &str) -> Value {
    Value::String(text.to_owned())
}

const DEC: fn(u8, u8) -> ColumnType = |precision, scale| ColumnType::Decimal { precision, scale };

/// Every file in the fixture directory has a test below.
#[test]
fn every_fixture_has_a_test() {
    let this = include_str!("debezium_fixtures.rs");
    let mut missing = Vec::new();
    for entry in std::fs::read_dir(fixtures_dir()).expect("fixtures directory") {
        let name = entry.unwrap().file_name().into_string().unwrap();
        if name.ends_with(".json") {
            let test = format!("fn {}()", name.trim_end_matches(".json").replace('-', "_"));
            if !this.contains(&test) {
                missing.push(name);
            }
        }
    }
    assert!(missing.is_empty(), "fixtures without a test: {missing:?}");
}

// ---------------------------------------------------------------- MongoDB

#[test]
fn mongodb_create_noschema_objectid() {
    let c = change("mongodb-create-noschema-objectid.json");
    assert_eq!(c.op, Op::Insert);
    assert_eq!(c.key, ["_id"], "from the Kafka key's `id`");
    assert_eq!(c.table, "bigdata_test.sync_test_table");
    assert_eq!(c.event_time, Some(1_739_321_992_000_000)); // source.ts_us
    assert!(c.before.is_none());
    let after = c.after.unwrap();
    assert_eq!(
        names(&after),
        ["_id", "created_at", "created_by", "tags", "updated_at"]
    );
    assert_eq!(
        col(&after, "_id"),
        (ColumnType::String, Some(&s("67ab25755c0d5ac87eb8c632")))
    );
    assert_eq!(
        col(&after, "created_at"),
        (ColumnType::Long, Some(&Value::Long(1_736_207_571_013)))
    );
    assert_eq!(
        col(&after, "created_by"),
        (ColumnType::String, Some(&s("peter")))
    );
    assert_eq!(
        col(&after, "tags"),
        (ColumnType::String, Some(&s(r#"["pending"]"#)))
    );
    // {"$date": 1739455297970} is milliseconds.
    assert_eq!(
        col(&after, "updated_at"),
        (
            ColumnType::Timestamptz,
            Some(&Value::Timestamptz(1_739_455_297_970_000))
        )
    );
}

#[test]
fn mongodb_delete_noschema_nobefore() {
    let c = change("mongodb-delete-noschema-nobefore.json");
    assert_eq!(c.op, Op::Delete);
    assert_eq!(c.key, ["_id"]);
    assert!(c.after.is_none());
    // No pre-image: the row identity comes from the key {"id": "{\"$oid\": …}"}.
    let before = c.before.unwrap();
    assert_eq!(names(&before), ["_id"]);
    assert_eq!(
        col(&before, "_id"),
        (ColumnType::String, Some(&s("67ab25755c0d5ac87eb8c632")))
    );
}

#[test]
fn mongodb_delete_noschema() {
    let c = change("mongodb-delete-noschema.json");
    assert_eq!(c.op, Op::Delete);
    assert!(c.key.is_empty(), "value-only fixture: no Kafka key");
    assert_eq!(c.table, "inventory.customers");
    assert_eq!(c.event_time, Some(1_558_965_508_000_000));
    assert!(c.after.is_none());
    let before = c.before.unwrap();
    assert_eq!(
        col(&before, "_id"),
        (ColumnType::Long, Some(&Value::Long(1004)))
    );
    assert_eq!(col(&before, "first_name").1, Some(&s("Anne Marie")));
    assert_eq!(col(&before, "email").1, Some(&s("annek@noanswer.org")));
}

#[test]
fn mongodb_read_withschema() {
    let c = change("mongodb-read-withschema.json");
    assert_eq!(c.op, Op::Read);
    assert_eq!(c.table, "inventory.customers");
    assert_eq!(c.event_time, Some(1_681_879_044_000_000)); // source.ts_ms * 1000
    let after = c.after.unwrap();
    assert_eq!(names(&after), ["_id", "first_name", "last_name", "email"]);
    assert_eq!(
        col(&after, "_id"),
        (ColumnType::Long, Some(&Value::Long(1001)))
    );
    assert_eq!(col(&after, "first_name").1, Some(&s("Sally")));
    assert_eq!(col(&after, "email").1, Some(&s("sally.thomas@acme.com")));
}

#[test]
fn mongodb_update_noschema_objectid() {
    let c = change("mongodb-update-noschema-objectid.json");
    assert_eq!(c.op, Op::Update);
    assert_eq!(c.key, ["_id"]);
    let (before, after) = (c.before.unwrap(), c.after.unwrap());
    assert_eq!(col(&before, "tags").1, Some(&s(r#"["pending"]"#)));
    assert_eq!(col(&after, "tags").1, Some(&s(r#"["succeed"]"#)));
    assert_eq!(
        col(&before, "updated_at").1,
        Some(&Value::Timestamptz(1_739_455_297_970_000))
    );
    assert_eq!(
        col(&after, "updated_at").1,
        Some(&Value::Timestamptz(1_739_455_397_970_000))
    );
    assert_eq!(col(&after, "_id").1, Some(&s("67ab25755c0d5ac87eb8c632")));
}

#[test]
fn mongodb_update_noschema() {
    let c = change("mongodb-update-noschema.json");
    assert_eq!(c.op, Op::Update);
    assert_eq!(c.event_time, Some(1_558_965_508_000_000));
    let (before, after) = (c.before.unwrap(), c.after.unwrap());
    assert_eq!(col(&before, "first_name").1, Some(&s("unknown")));
    assert_eq!(col(&after, "first_name").1, Some(&s("Anne Marie")));
    assert_eq!(
        col(&after, "_id"),
        (ColumnType::Long, Some(&Value::Long(1004)))
    );
}

// ------------------------------------------------------------------ MySQL

#[test]
fn mysql_create_withschema() {
    let c = change("mysql-create-withschema.json");
    assert_eq!(c.op, Op::Insert);
    assert!(c.key.is_empty());
    assert_eq!(c.table, "inventory.customers");
    // The documentation example has source ts_ms/ts_us/ts_ns = 0.
    assert_eq!(c.event_time, Some(0));
    assert!(c.before.is_none());
    let after = c.after.unwrap();
    assert_eq!(names(&after), ["id", "first_name", "last_name", "email"]);
    assert_eq!(
        col(&after, "id"),
        (ColumnType::Int, Some(&Value::Int(1004)))
    );
    assert_eq!(
        col(&after, "first_name"),
        (ColumnType::String, Some(&s("Anne")))
    );
    assert_eq!(col(&after, "email").1, Some(&s("annek@noanswer.org")));
}

#[test]
fn mysql_delete_noschema() {
    let c = change("mysql-delete-noschema.json");
    assert_eq!(c.op, Op::Delete);
    assert_eq!(c.event_time, Some(1_465_581_902_300_000));
    assert!(c.after.is_none());
    let before = c.before.unwrap();
    assert_eq!(
        col(&before, "id"),
        (ColumnType::Long, Some(&Value::Long(1004)))
    );
    assert_eq!(col(&before, "first_name").1, Some(&s("Anne Marie")));
}

#[test]
fn mysql_delete_withschema() {
    let c = change("mysql-delete-withschema.json");
    assert_eq!(c.op, Op::Delete);
    assert_eq!(c.key, ["id"]);
    assert_eq!(c.table, "inventory.customers");
    assert_eq!(c.event_time, Some(1_718_486_007_000_000));
    assert!(c.after.is_none());
    let before = c.before.unwrap();
    assert_eq!(
        col(&before, "id"),
        (ColumnType::Int, Some(&Value::Int(1004)))
    );
    assert_eq!(col(&before, "last_name").1, Some(&s("Kretchmar")));
}

#[test]
fn mysql_read_withschema_alltypes() {
    let c = change("mysql-read-withschema-alltypes.json");
    assert_eq!(c.op, Op::Read);
    assert_eq!(c.table, "paimon_sync_table.all_types_table");
    assert_eq!(c.event_time, Some(0));
    let a = c.after.unwrap();
    assert_eq!(a.len(), 78, "every column of the after struct");
    assert_eq!(col(&a, "_id"), (ColumnType::Int, Some(&Value::Int(1))));
    // Decimal(2,1) carried as the JSON number 1.1: unscaled 11.
    assert_eq!(col(&a, "pt"), (DEC(2, 1), Some(&Value::Decimal(11))));
    assert_eq!(
        col(&a, "_bit1"),
        (ColumnType::Boolean, Some(&Value::Boolean(true)))
    );
    // io.debezium.data.Bits "xwcAAAAAAAA=": 0xc7 0x07 then six zero bytes.
    assert_eq!(
        col(&a, "_bit"),
        (
            ColumnType::Binary,
            Some(&Value::Binary(vec![0xc7, 0x07, 0, 0, 0, 0, 0, 0]))
        )
    );
    assert_eq!(
        col(&a, "_tinyint1"),
        (ColumnType::Int, Some(&Value::Int(1)))
    );
    assert_eq!(
        col(&a, "_tinyint_unsigned_zerofill"),
        (ColumnType::Int, Some(&Value::Int(3)))
    );
    assert_eq!(
        col(&a, "_smallint"),
        (ColumnType::Int, Some(&Value::Int(1000)))
    );
    assert_eq!(
        col(&a, "_mediumint_unsigned"),
        (ColumnType::Int, Some(&Value::Int(200_000)))
    );
    assert_eq!(
        col(&a, "_int_unsigned"),
        (ColumnType::Long, Some(&Value::Long(2_000_000)))
    );
    assert_eq!(
        col(&a, "_bigint"),
        (ColumnType::Long, Some(&Value::Long(10_000_000_000)))
    );
    // Decimal without connect.decimal.precision: precision 38.
    assert_eq!(
        col(&a, "_bigint_unsigned"),
        (DEC(38, 0), Some(&Value::Decimal(20_000_000_000)))
    );
    assert_eq!(
        col(&a, "_serial"),
        (DEC(38, 0), Some(&Value::Decimal(40_000_000_000)))
    );
    assert_eq!(
        col(&a, "_float"),
        (ColumnType::Double, Some(&Value::Double(1.5)))
    );
    assert_eq!(
        col(&a, "_real"),
        (ColumnType::Double, Some(&Value::Double(1.000001)))
    );
    // 12345.11 at scale 3: 12345110.
    assert_eq!(
        col(&a, "_numeric"),
        (DEC(8, 3), Some(&Value::Decimal(12_345_110)))
    );
    // Precision 40 is capped at Iceberg's 38. The JSON number's exact text
    // 123456789876543212345678987654321.110 is kept (never through a double).
    assert_eq!(
        col(&a, "_fixed"),
        (
            DEC(38, 3),
            Some(&Value::Decimal(
                123_456_789_876_543_212_345_678_987_654_321_110
            ))
        )
    );
    assert_eq!(
        col(&a, "_fixed_unsigned").1,
        Some(&Value::Decimal(
            123_456_789_876_543_212_345_678_987_654_321_220
        ))
    );
    assert_eq!(
        col(&a, "_decimal"),
        (DEC(8, 0), Some(&Value::Decimal(11_111)))
    );
    // 2222222222222222300000001111.1234567890 at scale 10: all 38 digits.
    assert_eq!(
        col(&a, "_big_decimal"),
        (
            DEC(38, 10),
            Some(&Value::Decimal(
                22_222_222_222_222_223_000_000_011_111_234_567_890
            ))
        )
    );
    assert_eq!(
        col(&a, "_date"),
        (ColumnType::Date, Some(&Value::Date(19_439)))
    );
    // io.debezium.time.Timestamp is milliseconds; MicroTimestamp microseconds.
    assert_eq!(
        col(&a, "_datetime"),
        (
            ColumnType::Timestamp,
            Some(&Value::Timestamp(1_679_581_805_000_000))
        )
    );
    assert_eq!(
        col(&a, "_datetime3").1,
        Some(&Value::Timestamp(1_679_581_805_123_000))
    );
    assert_eq!(
        col(&a, "_datetime6").1,
        Some(&Value::Timestamp(1_679_581_805_123_456))
    );
    // "2023-03-23T22:00:10.123456Z": 19439 days * 86400 + 22*3600 + 10 = 1679608810 s.
    assert_eq!(
        col(&a, "_timestamp"),
        (
            ColumnType::Timestamptz,
            Some(&Value::Timestamptz(1_679_608_810_123_456))
        )
    );
    // "2023-03-23T07:10:00Z": 1679529600 + 7*3600 + 600 = 1679555400 s.
    assert_eq!(
        col(&a, "_timestamp0").1,
        Some(&Value::Timestamptz(1_679_555_400_000_000))
    );
    assert_eq!(col(&a, "_char"), (ColumnType::String, Some(&s("Paimon"))));
    assert_eq!(
        col(&a, "_longtext").1,
        Some(&s("Apache Paimon MySQL Long Test Data"))
    );
    // bytes "Ynl0ZXMAAAAAAA==" = "bytes" and five NULs.
    assert_eq!(
        col(&a, "_bin"),
        (
            ColumnType::Binary,
            Some(&Value::Binary(b"bytes\0\0\0\0\0".to_vec()))
        )
    );
    assert_eq!(
        col(&a, "_blob").1,
        Some(&Value::Binary(b"BLOB type test data".to_vec()))
    );
    assert_eq!(
        col(&a, "_json"),
        (ColumnType::String, Some(&s(r#"{"a": "b"}"#)))
    );
    assert_eq!(col(&a, "_enum"), (ColumnType::String, Some(&s("value1"))));
    assert_eq!(col(&a, "_year"), (ColumnType::Int, Some(&Value::Int(2023))));
    // MicroTime 36803000000 µs = 10:13:23.
    assert_eq!(
        col(&a, "_time"),
        (ColumnType::Time, Some(&Value::Time(36_803_000_000)))
    );
    // Geometry structs: their compact JSON, member order kept.
    assert_eq!(
        col(&a, "_point"),
        (
            ColumnType::String,
            Some(&s(
                r#"{"x":1.0,"y":1.0,"wkb":"AQEAAAAAAAAAAADwPwAAAAAAAPA/","srid":null}"#
            ))
        )
    );
    assert_eq!(col(&a, "_set"), (ColumnType::String, Some(&s("a,b"))));
}

#[test]
fn mysql_read_withschema_date() {
    let c = change("mysql-read-withschema-date.json");
    assert_eq!(c.op, Op::Read);
    assert_eq!(c.key, ["order_number"]);
    assert_eq!(c.table, "inventory.orders");
    assert_eq!(c.event_time, Some(1_718_461_481_000_000));
    let a = c.after.unwrap();
    assert_eq!(
        col(&a, "order_number"),
        (ColumnType::Int, Some(&Value::Int(10_004)))
    );
    // io.debezium.time.Date 16852 days = 2016-02-21.
    assert_eq!(
        col(&a, "order_date"),
        (ColumnType::Date, Some(&Value::Date(16_852)))
    );
    assert_eq!(col(&a, "purchaser").1, Some(&Value::Int(1003)));
    assert_eq!(col(&a, "product_id").1, Some(&Value::Int(107)));
}

#[test]
fn mysql_schemachange_noschema() {
    assert_eq!(
        skipped("mysql-schemachange-noschema.json"),
        SkipReason::SchemaChange
    );
}

#[test]
fn mysql_schemachange_withschema() {
    assert_eq!(
        skipped("mysql-schemachange-withschema.json"),
        SkipReason::SchemaChange
    );
}

#[test]
fn mysql_tombstone() {
    assert_eq!(skipped("mysql-tombstone.json"), SkipReason::Tombstone);
}

#[test]
fn mysql_truncate_noschema() {
    let c = change("mysql-truncate-noschema.json");
    assert_eq!(c.op, Op::Truncate);
    assert!(c.key.is_empty(), "null key");
    assert!(c.before.is_none() && c.after.is_none());
    assert_eq!(c.table, "inventory.customers");
    assert_eq!(c.event_time, Some(1_465_581_029_100_000));
}

#[test]
fn mysql_txnbegin_noschema() {
    assert_eq!(
        skipped("mysql-txnbegin-noschema.json"),
        SkipReason::TransactionMetadata
    );
}

#[test]
fn mysql_txnend_noschema() {
    assert_eq!(
        skipped("mysql-txnend-noschema.json"),
        SkipReason::TransactionMetadata
    );
}

#[test]
fn mysql_update_noschema() {
    let c = change("mysql-update-noschema.json");
    assert_eq!(c.op, Op::Update);
    assert_eq!(c.event_time, Some(1_465_581_029_100_000));
    let (before, after) = (c.before.unwrap(), c.after.unwrap());
    assert_eq!(col(&before, "first_name").1, Some(&s("Anne")));
    assert_eq!(col(&after, "first_name").1, Some(&s("Anne Marie")));
    assert_eq!(
        col(&after, "id"),
        (ColumnType::Long, Some(&Value::Long(1004)))
    );
}

#[test]
fn mysql_update_withschema() {
    let c = change("mysql-update-withschema.json");
    assert_eq!(c.op, Op::Update);
    assert_eq!(c.table, "inventory.customers");
    assert_eq!(c.event_time, Some(1_661_328_309_000_000));
    let (before, after) = (c.before.unwrap(), c.after.unwrap());
    assert_eq!(col(&before, "first_name").1, Some(&s("Anne")));
    assert_eq!(col(&after, "first_name").1, Some(&s("Anne1")));
    assert_eq!(
        col(&after, "id"),
        (ColumnType::Int, Some(&Value::Int(1004)))
    );
}

// ----------------------------------------------------------------- Oracle

#[test]
fn oracle_create_withschema() {
    let c = change("oracle-create-withschema.json");
    assert_eq!(c.op, Op::Insert);
    assert_eq!(c.key, ["ID"]);
    // This source block names no schema or table: the topic stands in.
    assert_eq!(c.table, TOPIC);
    assert_eq!(c.event_time, Some(1_520_085_154_000_000));
    let a = c.after.unwrap();
    assert_eq!(names(&a), ["ID", "FIRST_NAME", "LAST_NAME", "EMAIL"]);
    assert_eq!(col(&a, "ID"), (ColumnType::Int, Some(&Value::Int(1004))));
    assert_eq!(col(&a, "EMAIL").1, Some(&s("annek@noanswer.org")));
}

#[test]
fn oracle_delete_noschema() {
    let c = change("oracle-delete-noschema.json");
    assert_eq!(c.op, Op::Delete);
    assert_eq!(c.event_time, Some(1_520_085_153_000_000));
    let before = c.before.unwrap();
    assert_eq!(
        col(&before, "ID"),
        (ColumnType::Long, Some(&Value::Long(1004)))
    );
    assert_eq!(col(&before, "EMAIL").1, Some(&s("anne@example.com")));
}

#[test]
fn oracle_truncate_noschema() {
    let c = change("oracle-truncate-noschema.json");
    assert_eq!(c.op, Op::Truncate);
    assert!(c.key.is_empty());
    assert!(c.before.is_none() && c.after.is_none());
    assert_eq!(c.table, "DEBEZIUM.TEST_TABLE");
    assert_eq!(c.event_time, Some(1_638_974_535_000_000));
}

#[test]
fn oracle_update_noschema() {
    let c = change("oracle-update-noschema.json");
    assert_eq!(c.op, Op::Update);
    assert_eq!(c.event_time, Some(1_520_085_811_000_000));
    let (before, after) = (c.before.unwrap(), c.after.unwrap());
    assert_eq!(col(&before, "EMAIL").1, Some(&s("annek@noanswer.org")));
    assert_eq!(col(&after, "EMAIL").1, Some(&s("anne@example.com")));
}

// ------------------------------------------------------------- PostgreSQL

#[test]
fn postgres_create_noschema_zonedtimestamp() {
    let name = "postgres-create-noschema-zonedtimestamp.json";
    // Without types the ZonedTimestamp text stays a string.
    let c = change(name);
    assert_eq!(c.op, Op::Insert);
    assert_eq!(c.table, "public.customers");
    assert_eq!(c.event_time, Some(1_559_033_904_863_000));
    assert_eq!(
        col(c.after.as_ref().unwrap(), "created_at"),
        (
            ColumnType::String,
            Some(&s("2011-01-11T16:40:30.123456789+00:00"))
        )
    );
    // With the table saying timestamptz: 2011-01-11 = 14985 days = 1294704000 s,
    // + 16:40:30 = 1294764030 s; nanoseconds .123456789 truncate to .123456.
    let config = DebeziumConfig {
        column_types: HashMap::from([
            ("created_at".to_owned(), ColumnType::Timestamptz),
            ("id".to_owned(), ColumnType::Int),
        ]),
        ..DebeziumConfig::default()
    };
    let c = one_change(decode_with(&record(name), config));
    let a = c.after.unwrap();
    assert_eq!(
        col(&a, "created_at"),
        (
            ColumnType::Timestamptz,
            Some(&Value::Timestamptz(1_294_764_030_123_456))
        )
    );
    assert_eq!(col(&a, "id"), (ColumnType::Int, Some(&Value::Int(1))));
    assert_eq!(
        col(&a, "email"),
        (ColumnType::String, Some(&s("annek@noanswer.org")))
    );
}

#[test]
fn postgres_create_unwrapped_array() {
    let c = change("postgres-create-unwrapped-array.json");
    assert_eq!(c.op, Op::Insert, "__op: c");
    assert_eq!(c.table, "postgres.array_data", "__db + __table");
    assert_eq!(c.event_time, Some(1_638_128_893_618_000), "__source_ts_ms");
    assert!(c.before.is_none());
    let a = c.after.unwrap();
    assert_eq!(
        names(&a),
        ["name", "pay_by_quarter", "schedule"],
        "__ fields dropped"
    );
    assert_eq!(col(&a, "name"), (ColumnType::String, Some(&s("Bill"))));
    assert_eq!(
        col(&a, "pay_by_quarter").1,
        Some(&s("[10000,10001,10002,10003]"))
    );
    assert_eq!(
        col(&a, "schedule").1,
        Some(&s(
            r#"["[Ljava.lang.String;@508917a0","[Ljava.lang.String;@7412bd2"]"#
        ))
    );
}

#[test]
fn postgres_create_withschema() {
    let c = change("postgres-create-withschema.json");
    assert_eq!(c.op, Op::Insert);
    assert_eq!(c.table, "public.customers");
    assert_eq!(c.event_time, Some(1_559_033_904_863_123)); // source.ts_us
    let a = c.after.unwrap();
    assert_eq!(col(&a, "id"), (ColumnType::Int, Some(&Value::Int(1))));
    assert_eq!(col(&a, "last_name").1, Some(&s("Kretchmar")));
}

#[test]
fn postgres_delete_noschema_beforenull() {
    let name = "postgres-delete-noschema-beforenull.json";
    // The fixture is the value alone: without a key nothing identifies the row.
    let err = decode(name).unwrap_err();
    assert_eq!(err, DecodeError::NoRowIdentity);
    assert_eq!(err.reason(), "no_row_identity");
    assert_eq!(
        err.to_string(),
        "delete has no row identity: `before` and `after` are null and the record has no key with fields"
    );
    // With the Kafka key Debezium writes beside it, the key is the identity.
    let mut rec = record(name);
    rec.key = Some(br#"{"id": 111}"#.to_vec());
    let c = one_change(decode_with(&rec, DebeziumConfig::default()));
    assert_eq!(c.op, Op::Delete);
    assert_eq!(c.key, ["id"]);
    assert_eq!(c.table, "inventory.products");
    assert_eq!(c.event_time, Some(1_596_010_988_168_000));
    assert!(c.after.is_none());
    let before = c.before.unwrap();
    assert_eq!(names(&before), ["id"]);
    assert_eq!(
        col(&before, "id"),
        (ColumnType::Long, Some(&Value::Long(111)))
    );
}

#[test]
fn postgres_delete_noschema() {
    let c = change("postgres-delete-noschema.json");
    assert_eq!(c.op, Op::Delete);
    assert_eq!(c.event_time, Some(1_559_033_904_863_852));
    let before = c.before.unwrap();
    assert_eq!(
        names(&before),
        ["id"],
        "REPLICA IDENTITY DEFAULT: the key only"
    );
    assert_eq!(col(&before, "id").1, Some(&Value::Long(1)));
}

#[test]
fn postgres_message_noschema() {
    assert_eq!(
        skipped("postgres-message-noschema.json"),
        SkipReason::LogicalMessage
    );
}

#[test]
fn postgres_read_withschema_connecttime() {
    let c = change("postgres-read-withschema-connecttime.json");
    assert_eq!(c.op, Op::Read);
    assert_eq!(c.table, "public.t2");
    assert_eq!(c.event_time, Some(1_666_147_791_437_000));
    let a = c.after.unwrap();
    assert_eq!(col(&a, "id"), (ColumnType::Long, Some(&Value::Long(1))));
    // Connect Timestamp/Time are milliseconds.
    assert_eq!(
        col(&a, "ts"),
        (
            ColumnType::Timestamp,
            Some(&Value::Timestamp(1_666_147_762_800_000))
        )
    );
    assert_eq!(
        col(&a, "ts2").1,
        Some(&Value::Timestamp(1_666_147_762_813_000))
    );
    assert_eq!(col(&a, "d"), (ColumnType::Date, Some(&Value::Date(19_284))));
    // 10162800 ms = 02:49:22.8.
    assert_eq!(
        col(&a, "t"),
        (ColumnType::Time, Some(&Value::Time(10_162_800_000)))
    );
    assert_eq!(col(&a, "t2").1, Some(&Value::Time(10_162_813_000)));
}

#[test]
fn postgres_read_withschema_microtimestamp() {
    let c = change("postgres-read-withschema-microtimestamp.json");
    assert_eq!(c.op, Op::Read);
    assert_eq!(c.table, "public.t");
    assert_eq!(c.event_time, Some(1_665_806_169_262_000));
    let a = c.after.unwrap();
    assert_eq!(col(&a, "id"), (ColumnType::Long, Some(&Value::Long(1))));
    assert_eq!(
        col(&a, "ts"),
        (
            ColumnType::Timestamp,
            Some(&Value::Timestamp(1_665_791_731_989_360))
        )
    );
    // 19279 days since 1970-01-01 = 2022-10-15.
    assert_eq!(col(&a, "d"), (ColumnType::Date, Some(&Value::Date(19_279))));
    assert_eq!(
        col(&a, "t"),
        (ColumnType::Time, Some(&Value::Time(86_131_989_360)))
    );
}

#[test]
fn postgres_truncate_noschema() {
    let c = change("postgres-truncate-noschema.json");
    assert_eq!(c.op, Op::Truncate);
    assert!(c.key.is_empty());
    assert!(c.before.is_none() && c.after.is_none());
    assert_eq!(c.table, "public.customers");
    assert_eq!(c.event_time, Some(1_559_033_904_863_112));
}

#[test]
fn postgres_update_noschema_beforenull() {
    let c = change("postgres-update-noschema-beforenull.json");
    assert_eq!(c.op, Op::Update);
    assert!(c.before.is_none());
    assert_eq!(c.table, "inventory.products");
    let a = c.after.unwrap();
    assert_eq!(col(&a, "id"), (ColumnType::Long, Some(&Value::Long(106))));
    assert_eq!(col(&a, "description").1, Some(&s("18oz carpenter hammer")));
    // "weight": 1.0 is not an integer literal: double.
    assert_eq!(
        col(&a, "weight"),
        (ColumnType::Double, Some(&Value::Double(1.0)))
    );
}

#[test]
fn postgres_update_noschema() {
    let c = change("postgres-update-noschema.json");
    assert_eq!(c.op, Op::Update);
    assert_eq!(c.event_time, Some(1_559_033_904_863_769));
    assert_eq!(names(c.before.as_ref().unwrap()), ["id"]);
    let a = c.after.unwrap();
    assert_eq!(col(&a, "first_name").1, Some(&s("Anne Marie")));
}

// ------------------------------------------------------------- SQL Server

#[test]
fn sqlserver_create_withschema() {
    let c = change("sqlserver-create-withschema.json");
    assert_eq!(c.op, Op::Insert);
    assert_eq!(c.table, "dbo.customers");
    assert_eq!(c.event_time, Some(1_559_729_468_470_000));
    let a = c.after.unwrap();
    assert_eq!(col(&a, "id"), (ColumnType::Int, Some(&Value::Int(1005))));
    assert_eq!(col(&a, "email").1, Some(&s("john.doe@example.org")));
}

#[test]
fn sqlserver_delete_noschema() {
    let c = change("sqlserver-delete-noschema.json");
    assert_eq!(c.op, Op::Delete);
    assert_eq!(c.event_time, Some(1_559_730_445_243_000));
    let before = c.before.unwrap();
    assert_eq!(col(&before, "id").1, Some(&Value::Long(1005)));
    assert_eq!(col(&before, "email").1, Some(&s("noreply@example.org")));
}

#[test]
fn sqlserver_delete_withschema_decimal() {
    let c = change("sqlserver-delete-withschema-decimal.json");
    assert_eq!(c.op, Op::Delete);
    assert_eq!(c.key, ["empno"]);
    assert_eq!(c.table, "dbo.emp");
    assert_eq!(c.event_time, Some(1_637_859_764_960_000));
    assert!(c.after.is_none());
    let b = c.before.unwrap();
    assert_eq!(col(&b, "empno"), (ColumnType::Int, Some(&Value::Int(11))));
    assert_eq!(col(&b, "fname").1, Some(&s("Yossi")));
    assert_eq!(col(&b, "mgr").1, Some(&Value::Int(1)));
    // io.debezium.time.Timestamp 1562630400000 ms (2019-07-09).
    assert_eq!(
        col(&b, "hiredate"),
        (
            ColumnType::Timestamp,
            Some(&Value::Timestamp(1_562_630_400_000_000))
        )
    );
    // "dzWUAA==" = 0x77 0x35 0x94 0x00 = 7*16^7 + 7*16^6 + 3*16^5 + 5*16^4 + 9*16^3 + 4*16^2
    // = 2000000000, i.e. 200000.0000 at scale 4.
    assert_eq!(
        col(&b, "sal"),
        (DEC(19, 4), Some(&Value::Decimal(2_000_000_000)))
    );
    // "AYag" = 0x01 0x86 0xa0 = 65536 + 8*4096 + 6*256 + 10*16 = 100000, i.e. 10.0000.
    assert_eq!(
        col(&b, "comm"),
        (DEC(19, 4), Some(&Value::Decimal(100_000)))
    );
    assert_eq!(col(&b, "dept").1, Some(&Value::Int(3)));
}

#[test]
fn sqlserver_schemachange_noschema() {
    assert_eq!(
        skipped("sqlserver-schemachange-noschema.json"),
        SkipReason::SchemaChange
    );
}

#[test]
fn sqlserver_update_noschema() {
    let c = change("sqlserver-update-noschema.json");
    assert_eq!(c.op, Op::Update);
    assert_eq!(c.event_time, Some(1_559_729_995_937_000));
    let (before, after) = (c.before.unwrap(), c.after.unwrap());
    assert_eq!(col(&before, "email").1, Some(&s("john.doe@example.org")));
    assert_eq!(col(&after, "email").1, Some(&s("noreply@example.org")));
}

// ------------------------------------------------------- configuration

#[test]
fn configured_key_and_table_win() {
    let config = DebeziumConfig {
        table: Some("lake.customers".to_owned()),
        key: Some(vec!["email".to_owned()]),
        ..DebeziumConfig::default()
    };
    let c = one_change(decode_with(&record("mysql-delete-withschema.json"), config));
    assert_eq!(c.table, "lake.customers");
    assert_eq!(c.key, ["email"]);
}

#[test]
fn numeric_time_unit_can_be_fixed() {
    let value = br#"{"op":"c","after":{"id":1,"at":1000},"source":{"ts_ms":1}}"#;
    let rec = value_record(value);
    let typed = |numeric| {
        let config = DebeziumConfig {
            column_types: HashMap::from([("at".to_owned(), ColumnType::Timestamp)]),
            numeric_time: numeric,
            ..DebeziumConfig::default()
        };
        let c = one_change(decode_with(&rec, config));
        c.after.unwrap().get("at").cloned()
    };
    assert_eq!(
        typed(NumericTime::Auto),
        Some(Value::Timestamp(1_000_000)),
        "small: ms"
    );
    assert_eq!(
        typed(NumericTime::Fixed(floe::decode::TimeUnit::Micros)),
        Some(Value::Timestamp(1000))
    );
}

#[test]
fn flattened_delete_rewrite() {
    let rec = value_record(
        br#"{"id": 5, "name": "x", "__op": "d", "__table": "t", "__source_ts_us": 42, "__deleted": "true"}"#,
    );
    let c = one_change(decode_with(&rec, DebeziumConfig::default()));
    assert_eq!(c.op, Op::Delete);
    assert_eq!(c.table, "t");
    assert_eq!(c.event_time, Some(42));
    assert!(c.after.is_none());
    assert_eq!(names(c.before.as_ref().unwrap()), ["id", "name"]);
    // __deleted alone (delete.handling.mode=rewrite without add.fields).
    let rec = value_record(br#"{"id": 5, "__deleted": "false"}"#);
    let c = one_change(decode_with(&rec, DebeziumConfig::default()));
    assert_eq!(c.op, Op::Update, "an upsert");
    assert_eq!(names(c.after.as_ref().unwrap()), ["id"]);
}

#[test]
fn heartbeat_and_null_payload_are_skipped() {
    let mut decoder = DebeziumDecoder::new(DebeziumConfig::default());
    for (value, reason) in [
        (&br#"{"ts_ms": 1588252618953}"#[..], SkipReason::Heartbeat),
        (
            br#"{"schema": null, "payload": null}"#,
            SkipReason::Tombstone,
        ),
        (b"null", SkipReason::Tombstone),
    ] {
        assert_eq!(
            decoder.decode(&value_record(value)),
            Ok(Decoded::Skipped(reason))
        );
    }
    assert_eq!(decoder.stats().skipped(SkipReason::Tombstone), 2);
    assert_eq!(decoder.stats().skipped(SkipReason::Heartbeat), 1);
}

// ------------------------------------------------------------------ schemas

/// `text` without whitespace outside strings: the layout JsonConverter writes.
fn compact(text: &str) -> String {
    let (mut out, mut in_string, mut escaped) = (String::new(), false, false);
    for c in text.chars() {
        if in_string {
            in_string = c != '"' || escaped;
            escaped = c == '\\' && !escaped;
        } else if c == '"' {
            in_string = true;
        } else if c.is_whitespace() {
            continue;
        }
        out.push(c);
    }
    out
}

#[test]
fn schema_blocks_are_parsed_once_and_the_fast_path_agrees() {
    for name in [
        "mysql-read-withschema-alltypes.json",
        "sqlserver-delete-withschema-decimal.json",
        "postgres-read-withschema-connecttime.json",
        "mongodb-read-withschema.json",
    ] {
        let pretty = record(name);
        let expected = decode_with(&pretty, DebeziumConfig::default()).unwrap();
        let mut compacted = pretty.clone();
        compacted.value = pretty
            .value
            .as_ref()
            .map(|v| compact(std::str::from_utf8(v).unwrap()).into_bytes());
        compacted.key = pretty
            .key
            .as_ref()
            .map(|v| compact(std::str::from_utf8(v).unwrap()).into_bytes());
        let mut decoder = DebeziumDecoder::new(DebeziumConfig::default());
        for _ in 0..50 {
            assert_eq!(decoder.decode(&compacted).as_ref(), Ok(&expected), "{name}");
        }
        let schemas = 1 + u64::from(pretty.key.is_some());
        assert_eq!(
            decoder.schemas_parsed(),
            schemas,
            "{name}: once per distinct schema"
        );
        assert_eq!(decoder.stats().changes, 50);
    }
}

// ------------------------------------------------------------------- errors

fn value_record(value: &[u8]) -> RawRecord {
    RawRecord {
        topic: Arc::from(TOPIC),
        partition: 0,
        offset: 7,
        timestamp: Some(0),
        key: None,
        value: Some(value.to_vec()),
        headers: Vec::new(),
    }
}

fn error_of(value: &[u8], config: DebeziumConfig) -> DecodeError {
    decode_with(&value_record(value), config).expect_err("should not decode")
}

#[test]
fn invalid_json_is_an_error_naming_the_place() {
    let err = error_of(b"{\"op\": \"c\", \"after\": {", DebeziumConfig::default());
    assert!(matches!(
        err,
        DecodeError::InvalidJson {
            part: Part::Value,
            ..
        }
    ));
    assert_eq!(
        err.to_string(),
        "value is not valid JSON: EOF while parsing an object at line 1 column 22"
    );
    assert_eq!(err.reason(), "invalid_json");
    let err = error_of(b"\xff\xfe", DebeziumConfig::default());
    assert!(
        err.to_string()
            .starts_with("value is not valid JSON: invalid utf-8"),
        "{err}"
    );
    let err = error_of(b"[1, 2]", DebeziumConfig::default());
    assert_eq!(err.to_string(), "value must be a JSON object, not an array");
    let mut rec = value_record(br#"{"op":"c","after":{"id":1}}"#);
    rec.key = Some(b"{oops".to_vec());
    let err = decode_with(&rec, DebeziumConfig::default()).unwrap_err();
    assert!(
        matches!(
            err,
            DecodeError::InvalidJson {
                part: Part::Key,
                ..
            }
        ),
        "{err}"
    );
}

#[test]
fn envelope_without_op() {
    let err = error_of(
        br#"{"before": null, "after": {"id": 1}, "source": {"db": "x"}}"#,
        DebeziumConfig::default(),
    );
    assert_eq!(err, DecodeError::MissingOp);
    assert!(err.to_string().starts_with("envelope has no `op` field"));
    let err = error_of(
        br#"{"op": 5, "after": {"id": 1}}"#,
        DebeziumConfig::default(),
    );
    assert_eq!(err.to_string(), "`op` must be a string, not a number");
}

#[test]
fn unknown_op() {
    let err = error_of(
        br#"{"op": "x", "after": {"id": 1}}"#,
        DebeziumConfig::default(),
    );
    assert_eq!(err, DecodeError::UnknownOp("x".to_owned()));
    assert_eq!(
        err.to_string(),
        "unknown op `x` (expected c, r, u, d, t or m)"
    );
}

#[test]
fn create_without_after() {
    for op in ["c", "r", "u"] {
        let value = format!(r#"{{"op": "{op}", "before": null, "after": null}}"#);
        let err = error_of(value.as_bytes(), DebeziumConfig::default());
        assert_eq!(err, DecodeError::MissingAfter { op: op.to_owned() });
        assert_eq!(
            err.to_string(),
            format!("`{op}` event has no `after` image")
        );
    }
    let err = error_of(br#"{"op": "c", "after": [1]}"#, DebeziumConfig::default());
    assert_eq!(
        err.to_string(),
        "`after` must be an object, a JSON string (MongoDB) or null, not an array"
    );
}

#[test]
fn value_that_does_not_fit_the_table() {
    let fixture = record("postgres-create-noschema-zonedtimestamp.json");
    let config = DebeziumConfig {
        column_types: HashMap::from([("created_at".to_owned(), ColumnType::Date)]),
        ..DebeziumConfig::default()
    };
    let err = decode_with(&fixture, config).unwrap_err();
    assert_eq!(
        err.to_string(),
        "after.created_at: \"2011-01-11T16:40:30.123456789+00:00\" cannot be stored as date: not a date (YYYY-MM-DD)"
    );
    assert_eq!(err.reason(), "invalid_value");

    let config = DebeziumConfig {
        column_types: HashMap::from([("id".to_owned(), ColumnType::Int)]),
        ..DebeziumConfig::default()
    };
    let err = error_of(br#"{"op":"c","after":{"id":"abc"}}"#, config.clone());
    assert_eq!(
        err.to_string(),
        "after.id: \"abc\" cannot be stored as int: not a number"
    );
    let err = error_of(br#"{"op":"c","after":{"id":"abc"}, oops}"#, config.clone());
    assert!(
        matches!(err, DecodeError::InvalidJson { .. }),
        "invalid JSON after the bad value is reported as such: {err}"
    );
    let err = error_of(br#"{"op":"c","after":{"id":4294967296}}"#, config);
    assert_eq!(
        err.to_string(),
        "after.id: 4294967296 cannot be stored as int: out of range for int"
    );
}

#[test]
fn value_that_does_not_fit_its_schema() {
    let value = br#"{"schema":{"type":"struct","fields":[{"type":"struct","field":"after","fields":[
        {"type":"bytes","name":"org.apache.kafka.connect.data.Decimal","parameters":{"scale":"2","connect.decimal.precision":"3"},"field":"price"}]},
        {"type":"string","field":"op"}]},
        "payload":{"op":"c","after":{"price":"AYag"}}}"#;
    let err = error_of(value, DebeziumConfig::default());
    // 0x0186a0 = 100000 has 6 digits: too many for decimal(3,2).
    assert_eq!(
        err.to_string(),
        "after.price: \"AYag\" cannot be stored as decimal(3,2): more than 3 digits"
    );
    let bad_schema = br#"{"schema":{"type":"struct","fields":[{"type":"int32"}]},"payload":{"op":"c","after":{}}}"#;
    let err = error_of(bad_schema, DebeziumConfig::default());
    assert!(
        matches!(
            err,
            DecodeError::InvalidSchema {
                part: Part::Value,
                ..
            }
        ),
        "{err}"
    );
}

#[test]
fn mongodb_partial_update() {
    let value = br#"{"op":"u","after":null,"patch":"{\"$v\": 1, \"$set\": {\"a\": 1}}","source":{"connector":"mongodb"}}"#;
    assert_eq!(
        error_of(value, DebeziumConfig::default()),
        DecodeError::PartialUpdate
    );
    let value = br#"{"op":"u","after":null,"updateDescription":{"updatedFields":"{}"},"source":{"connector":"mongodb"}}"#;
    assert_eq!(
        error_of(value, DebeziumConfig::default()),
        DecodeError::PartialUpdate
    );
    // A replacement patch (no operators) is the full document.
    let value = br#"{"op":"u","patch":"{\"_id\": 1, \"a\": 2}","source":{"connector":"mongodb"}}"#;
    let c = one_change(decode_with(&value_record(value), DebeziumConfig::default()));
    assert_eq!(c.after.unwrap().get("a"), Some(&Value::Long(2)));
}

// ------------------------------------------------------------- robustness

fn all_fixtures() -> Vec<(String, RawRecord)> {
    let mut names: Vec<String> = std::fs::read_dir(fixtures_dir())
        .unwrap()
        .map(|e| e.unwrap().file_name().into_string().unwrap())
        .filter(|n| n.ends_with(".json"))
        .collect();
    names.sort();
    assert_eq!(names.len(), 39);
    names.into_iter().map(|n| (n.clone(), record(&n))).collect()
}

/// Configurations that push values through every conversion.
fn configs() -> Vec<DebeziumConfig> {
    let types = |ty: ColumnType| DebeziumConfig {
        column_types: [
            "id",
            "ID",
            "_id",
            "email",
            "first_name",
            "created_at",
            "ts",
            "d",
            "t",
            "after",
            "weight",
            "sal",
            "pt",
            "_date",
            "_time",
            "updated_at",
            "created_by",
            "tags",
            "name",
            "empno",
        ]
        .into_iter()
        .map(|n| (n.to_owned(), ty))
        .collect(),
        ..DebeziumConfig::default()
    };
    let mut configs = vec![DebeziumConfig::default()];
    for ty in [
        ColumnType::Int,
        ColumnType::Float,
        ColumnType::Decimal {
            precision: 5,
            scale: 2,
        },
        ColumnType::Date,
        ColumnType::Time,
        ColumnType::Timestamptz,
        ColumnType::Uuid,
        ColumnType::Binary,
        ColumnType::Boolean,
    ] {
        configs.push(types(ty));
    }
    configs
}

#[test]
fn truncated_fixtures_never_panic() {
    let mut decoder = DebeziumDecoder::new(DebeziumConfig::default());
    for (name, rec) in all_fixtures() {
        let Some(value) = rec.value.clone() else {
            continue;
        };
        let step = (value.len() / 1500).max(1);
        for cut in (0..value.len()).step_by(step) {
            let mut truncated = rec.clone();
            truncated.value = Some(value[..cut].to_vec());
            let result = decoder.decode(&truncated);
            assert!(
                !matches!(result, Ok(Decoded::Changes(_))) || cut > value.len() / 2,
                "{name} cut at {cut} decoded: {result:?}"
            );
        }
        if let Some(key) = rec.key.clone() {
            for cut in 0..key.len() {
                let mut truncated = rec.clone();
                truncated.key = Some(key[..cut].to_vec());
                let _ = decoder.decode(&truncated);
            }
        }
    }
}

/// Rounds per fixture of [`mutated_fixtures_never_panic`]:
/// `$FLOE_FUZZ_ROUNDS`, else 400.
fn fuzz_rounds() -> usize {
    std::env::var("FLOE_FUZZ_ROUNDS")
        .ok()
        .and_then(|r| r.parse().ok())
        .unwrap_or(400)
}

#[test]
fn mutated_fixtures_never_panic() {
    const BYTES: &[u8] = b"{}[]\",:\\0123456789.-+eEtrufalsn \"$x\xff\xc3";
    let mut rng = Lcg(std::env::var("FLOE_FUZZ_SEED")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(0x5eed));
    let configs = configs();
    let mut decoders: Vec<DebeziumDecoder> =
        configs.into_iter().map(DebeziumDecoder::new).collect();
    let mut outcomes = [0usize; 3];
    for (_, rec) in all_fixtures() {
        for round in 0..fuzz_rounds() {
            let mut mutated = rec.clone();
            let target = if round % 5 == 4 && mutated.key.is_some() {
                mutated.key.as_mut()
            } else {
                mutated.value.as_mut()
            };
            if let Some(bytes) = target
                && !bytes.is_empty()
            {
                for _ in 0..1 + rng.next_u64() % 3 {
                    let at = (rng.next_u64() as usize) % bytes.len();
                    match rng.next_u64() % 3 {
                        0 => bytes[at] = BYTES[(rng.next_u64() as usize) % BYTES.len()],
                        1 => {
                            bytes.remove(at);
                        }
                        _ => bytes.insert(at, BYTES[(rng.next_u64() as usize) % BYTES.len()]),
                    }
                }
            }
            let decoder = &mut decoders[round % 10];
            match decoder.decode(&mutated) {
                Ok(Decoded::Changes(_)) => outcomes[0] += 1,
                Ok(Decoded::Skipped(_)) => outcomes[1] += 1,
                Err(e) => {
                    assert!(!e.to_string().is_empty());
                    outcomes[2] += 1;
                }
            }
        }
    }
    assert!(outcomes.iter().all(|&n| n > 0), "{outcomes:?}");
}

#[test]
fn every_fixture_decodes_under_every_config_without_panicking() {
    for config in configs() {
        let mut decoder = DebeziumDecoder::new(config);
        for (_, rec) in all_fixtures() {
            let _ = decoder.decode(&rec);
        }
    }
}

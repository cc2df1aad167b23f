//! A table created and written first by PyIceberg (two appends, two deletes,
//! an upsert), then continued by `floe run` from schemaless Debezium
//! messages (`schemas.enable=false`): updates of PyIceberg's rows, an update
//! of a row PyIceberg deleted (an insert), deletes, new rows, values that
//! only the table's types make sense of (decimals as numbers or text,
//! timestamps as ISO 8601 text or epoch integers) and one poison record.
//! PyIceberg and DuckDB must both read the oracle, the DLQ must hold exactly
//! the poison record and a rerun must change nothing.

mod iceberg_common;
mod pipeline_common;

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use iceberg_common::{TestCatalog, decimal2};
use pipeline_common::{dead_letters, run_to_end, sorted, write_config};
use serde_json::{Value as Json, json};

const TOPIC: &str = "dbserver1.shop.items";
const TABLE: &str = "shop.items";

/// 2024-01-01T00:00:00Z in microseconds: PyIceberg's rows' `updated_at` is
/// this plus `id` hours and `id` microseconds.
const START_US: i64 = 1_704_067_200_000_000;
/// 2024-05-01T10:00:00Z in microseconds.
const MAY_1_10H_US: i64 = 1_714_557_600_000_000;

const REGIONS: [&str; 3] = ["eu", "us", "apac"];

/// PyIceberg creates `shop.items` and writes it: ids 1..=30 ("py"), 31..=50
/// ("py2"), deletes `id < 5` and `45 <= id < 48` (copy-on-write rewrites:
/// PyIceberg 0.12 writes no delete files), upserts 10..=14 and 51, 52
/// ("py-upsert").
const PYTHON_WRITES: &str = r#"
import pyarrow as pa
from datetime import datetime, timezone, timedelta
from decimal import Decimal
from pyiceberg.schema import Schema
from pyiceberg.types import NestedField, LongType, StringType, TimestamptzType, DecimalType
from pyiceberg.expressions import LessThan, And, GreaterThanOrEqual

catalog.create_namespace("shop")
schema = Schema(
    NestedField(1, "id", LongType(), required=True),
    NestedField(2, "name", StringType(), required=False),
    NestedField(3, "price", DecimalType(10, 2), required=False),
    NestedField(4, "updated_at", TimestamptzType(), required=False),
    NestedField(5, "region", StringType(), required=False),
    identifier_field_ids=[1],
)
table = catalog.create_table("shop.items", schema, properties={"format-version": "2"})
arrow_schema = pa.schema([
    pa.field("id", pa.int64(), nullable=False),
    pa.field("name", pa.string()),
    pa.field("price", pa.decimal128(10, 2)),
    pa.field("updated_at", pa.timestamp("us", tz="UTC")),
    pa.field("region", pa.string()),
])
start = datetime(2024, 1, 1, tzinfo=timezone.utc)
regions = ["eu", "us", "apac"]
def rows(ids, tag):
    return pa.Table.from_pylist([{
        "id": i, "name": f"{tag}-{i}", "price": Decimal(i * 125) / 100,
        "updated_at": start + timedelta(hours=i, microseconds=i),
        "region": regions[i % 3],
    } for i in ids], schema=arrow_schema)
table.append(rows(range(1, 31), "py"))
table.append(rows(range(31, 51), "py2"))
table.delete(LessThan("id", 5))
table.delete(And(GreaterThanOrEqual("id", 45), LessThan("id", 48)))
result = table.upsert(rows(list(range(10, 15)) + [51, 52], "py-upsert"))
print(result.rows_updated, result.rows_inserted)
"#;

/// A row PyIceberg wrote, as read_table.py prints it.
fn py_row(id: i64, tag: &str) -> Json {
    json!({
        "id": id,
        "name": format!("{tag}-{id}"),
        "price": decimal2(id as i128 * 125),
        "updated_at": START_US + id * 3_600_000_000 + id,
        "region": REGIONS[(id % 3) as usize],
    })
}

/// The same row as a schemaless Debezium image: the decimal as text, the
/// timestamp as epoch microseconds.
fn py_image(id: i64, tag: &str) -> Json {
    let row = py_row(id, tag);
    json!({
        "id": id,
        "name": row["name"],
        "price": row["price"],
        "updated_at": row["updated_at"],
        "region": row["region"],
    })
}

/// The table PyIceberg leaves.
fn pyiceberg_oracle() -> BTreeMap<i64, Json> {
    let mut oracle = BTreeMap::new();
    for id in (5..=44).chain(48..=50) {
        oracle.insert(id, py_row(id, if id <= 30 { "py" } else { "py2" }));
    }
    for id in (10..=14).chain([51, 52]) {
        oracle.insert(id, py_row(id, "py-upsert"));
    }
    oracle
}

fn line(key: Option<i64>, value: Json) -> String {
    json!({"key": key.map(|id| json!({"id": id})), "value": value}).to_string()
}

fn envelope(op: &str, before: Option<Json>, after: Option<Json>) -> Json {
    json!({"op": op, "before": before, "after": after, "source": {"ts_ms": 1_714_557_600_000i64}})
}

/// The events floe applies, the table they leave (from PyIceberg's), and
/// the offset of the poison record.
fn events() -> (Vec<String>, BTreeMap<i64, Json>, i64) {
    let mut oracle = pyiceberg_oracle();
    let mut lines = Vec::new();

    // 0: an update of a row PyIceberg upserted; price as text, time as ISO 8601 UTC.
    lines.push(line(
        Some(10),
        envelope(
            "u",
            Some(py_image(10, "py-upsert")),
            Some(
                json!({"id": 10, "name": "floe-10", "price": "13.75", "updated_at": "2024-05-01T10:00:00Z", "region": "us"}),
            ),
        ),
    ));
    oracle.insert(
        10,
        json!({"id": 10, "name": "floe-10", "price": "13.75", "updated_at": MAY_1_10H_US, "region": "us"}),
    );

    // 1: an update of a row PyIceberg deleted: an insert. Price as a JSON
    // number, time with an offset (converted to UTC).
    lines.push(line(
        Some(3),
        envelope(
            "u",
            Some(py_image(3, "py")),
            Some(
                json!({"id": 3, "name": "floe-3", "price": 3.5, "updated_at": "2024-05-01T12:30:00.123456+02:00", "region": "apac"}),
            ),
        ),
    ));
    oracle.insert(
        3,
        json!({"id": 3, "name": "floe-3", "price": "3.50", "updated_at": 1_714_559_400_123_456i64, "region": "apac"}),
    );

    // 2: a delete of a row PyIceberg appended.
    lines.push(line(
        Some(20),
        envelope("d", Some(py_image(20, "py")), None),
    ));
    oracle.remove(&20);

    // 3: a new row; time as epoch milliseconds.
    lines.push(line(
        Some(100),
        envelope(
            "c",
            None,
            Some(
                json!({"id": 100, "name": "floe-100", "price": 99.99, "updated_at": 1_714_557_600_000i64, "region": "eu"}),
            ),
        ),
    ));
    oracle.insert(
        100,
        json!({"id": 100, "name": "floe-100", "price": "99.99", "updated_at": MAY_1_10H_US, "region": "eu"}),
    );

    // 4: poison: a price that is not a number.
    let poison = lines.len() as i64;
    lines.push(line(
        Some(21),
        envelope(
            "u",
            Some(py_image(21, "py")),
            Some(
                json!({"id": 21, "name": "poison", "price": "not a number", "updated_at": "2024-05-01T10:00:00Z", "region": "us"}),
            ),
        ),
    ));

    // 5: a snapshot read of a new row.
    lines.push(line(
        Some(101),
        envelope(
            "r",
            None,
            Some(
                json!({"id": 101, "name": "floe-101", "price": "0.10", "updated_at": "2024-05-01T10:00:00Z", "region": "apac"}),
            ),
        ),
    ));
    oracle.insert(
        101,
        json!({"id": 101, "name": "floe-101", "price": "0.10", "updated_at": MAY_1_10H_US, "region": "apac"}),
    );

    // 6: a delete of a row PyIceberg's second delete removed: nothing to do.
    lines.push(line(
        Some(46),
        envelope("d", Some(py_image(46, "py2")), None),
    ));

    // 7: an update of a row PyIceberg's upsert inserted: new region, name NULL, negative price.
    lines.push(line(
        Some(51),
        envelope(
            "u",
            Some(py_image(51, "py-upsert")),
            Some(
                json!({"id": 51, "name": null, "price": "-5.25", "updated_at": "2024-05-01T10:00:00Z", "region": "eu"}),
            ),
        ),
    ));
    oracle.insert(
        51,
        json!({"id": 51, "name": null, "price": "-5.25", "updated_at": MAY_1_10H_US, "region": "eu"}),
    );

    // 8, 9: a delete and its tombstone.
    lines.push(line(
        Some(30),
        envelope("d", Some(py_image(30, "py")), None),
    ));
    oracle.remove(&30);
    lines.push(line(Some(30), Json::Null));

    // 10: an update of the row floe inserted at 3 (another commit window).
    lines.push(line(
        Some(100),
        envelope(
            "u",
            Some(
                json!({"id": 100, "name": "floe-100", "price": 99.99, "updated_at": 1_714_557_600_000i64, "region": "eu"}),
            ),
            Some(
                json!({"id": 100, "name": "floe-100-v2", "price": "100", "updated_at": "2024-05-01T10:00:00.5Z", "region": "us"}),
            ),
        ),
    ));
    oracle.insert(
        100,
        json!({"id": 100, "name": "floe-100-v2", "price": "100.00", "updated_at": MAY_1_10H_US + 500_000, "region": "us"}),
    );

    // 11: a new row, price an integral number.
    lines.push(line(
        Some(102),
        envelope(
            "c",
            None,
            Some(
                json!({"id": 102, "name": "floe-102", "price": 7, "updated_at": "2024-05-01T10:00:00Z", "region": "us"}),
            ),
        ),
    ));
    oracle.insert(
        102,
        json!({"id": 102, "name": "floe-102", "price": "7.00", "updated_at": MAY_1_10H_US, "region": "us"}),
    );

    // 12: a delete with neither image (REPLICA IDENTITY DEFAULT): the Kafka key names the row.
    lines.push(line(Some(12), envelope("d", None, None)));
    oracle.remove(&12);

    (lines, oracle, poison)
}

fn config(dir: &Path, catalog: &TestCatalog) -> PathBuf {
    // No `types`: the existing table's schema types the schemaless values.
    write_config(dir, catalog, TOPIC, TABLE, 4, "create = false")
}

fn assert_rows(read: &Json, oracle: &BTreeMap<i64, Json>, context: &str) {
    let expected: Vec<Json> = oracle.values().cloned().collect();
    for reader in ["pyiceberg", "duckdb"] {
        let got = sorted(&read[reader]);
        if got != expected {
            let got_ids: Vec<_> = got.iter().map(|r| r["id"].clone()).collect();
            let want_ids: Vec<_> = expected.iter().map(|r| r["id"].clone()).collect();
            let differing: Vec<_> = got
                .iter()
                .zip(&expected)
                .filter(|(a, b)| a != b)
                .take(3)
                .collect();
            panic!(
                "{context}: {reader} rows differ from the oracle\n got ids {got_ids:?}\nwant ids {want_ids:?}\n first differing (got, want): {differing:#?}"
            );
        }
    }
}

#[test]
fn floe_continues_a_table_pyiceberg_wrote_from_schemaless_messages() {
    let dir = tempfile::tempdir().unwrap();
    let catalog = TestCatalog::new(dir.path());

    // PyIceberg creates and writes the table.
    let printed = catalog.python(PYTHON_WRITES);
    assert_eq!(
        printed.trim(),
        "5 2",
        "PyIceberg's upsert: rows updated, inserted"
    );
    let before = catalog.read(TABLE);
    assert_rows(&before, &pyiceberg_oracle(), "as PyIceberg left it");
    let py_snapshots = before["snapshots"].as_i64().unwrap();
    assert_eq!(
        py_snapshots, 7,
        "2 appends, 2 deletes, the upsert's delete + append"
    );

    // floe continues it from a file of schemaless Debezium events.
    let (lines, oracle, poison) = events();
    std::fs::write(dir.path().join("events.jsonl"), lines.join("\n") + "\n").unwrap();
    let config = config(dir.path(), &catalog);
    let stderr = run_to_end(&config);
    println!("floe run: {stderr}");

    let read = catalog.read(TABLE);
    assert_rows(&read, &oracle, "after floe run");
    for file in read["files"].as_array().expect("files") {
        assert_ne!(file["content"], 2, "an equality delete file: {file}");
    }
    assert!(
        read["files"]
            .as_array()
            .unwrap()
            .iter()
            .any(|f| f["content"] == 1),
        "floe's updates and deletes of PyIceberg's rows are position deletes: {}",
        read["files"]
    );
    let letters = dead_letters(dir.path());
    assert_eq!(
        letters.iter().map(|l| l.0).collect::<Vec<_>>(),
        vec![poison],
        "the DLQ holds exactly the poison record: {letters:?}"
    );
    let (_, stage, reason) = &letters[0];
    assert!(
        stage == "decode" || stage == "write",
        "stage {stage}: {reason}"
    );
    assert!(
        reason.contains("price"),
        "the reason names the column: {reason}"
    );
    let offsets: Json =
        serde_json::from_str(read["summary"]["floe.offsets"].as_str().unwrap()).unwrap();
    assert_eq!(
        offsets,
        json!({ (TOPIC): {"0": lines.len()} }),
        "the snapshot records the next offset"
    );
    let snapshots = read["snapshots"].as_i64().unwrap();
    assert!(
        snapshots > py_snapshots,
        "floe committed snapshots: {snapshots}"
    );

    // A rerun on the same file changes nothing.
    run_to_end(&config);
    let again = catalog.read(TABLE);
    assert_rows(&again, &oracle, "after a rerun");
    assert_eq!(
        again["snapshots"], snapshots,
        "a rerun on the same file commits no snapshot"
    );
    assert_eq!(
        dead_letters(dir.path()),
        letters,
        "a rerun adds no dead letter"
    );
}

//! A table created and written by PyIceberg (appends, a delete, an upsert),
//! then continued by floe: the key index honours PyIceberg's deletes and the
//! final contents equal the oracle. Also: floe's catalog database is the one
//! PyIceberg's SqlCatalog opens (both directions).

mod iceberg_common;

use std::collections::BTreeMap;

use floe::change::Op;
use floe::commit::Offsets;
use floe::commit::catalog::{NamespaceIdent, parse_table_ident};
use floe::table::{TableOptions, TableWriter};
use iceberg_common::*;

fn item(id: i64, name: &str) -> Item {
    Item {
        id,
        name: Some(name.into()),
        region: if id % 2 == 0 {
            "eu".into()
        } else {
            "us".into()
        },
        ts: 1_700_000_000_000_000 + id,
        amount: Some(id as i128 * 100 + 5),
        qty: Some(id as i32),
    }
}

const PYTHON_WRITES: &str = r#"
import pyarrow as pa
from datetime import datetime, timezone, timedelta
from decimal import Decimal
from pyiceberg.schema import Schema
from pyiceberg.types import NestedField, LongType, StringType, TimestamptzType, DecimalType, IntegerType
from pyiceberg.expressions import LessThan

catalog.create_namespace("shop")
schema = Schema(
    NestedField(1, "id", LongType(), required=True),
    NestedField(2, "name", StringType(), required=False),
    NestedField(3, "region", StringType(), required=False),
    NestedField(4, "ts", TimestamptzType(), required=False),
    NestedField(5, "amount", DecimalType(10, 2), required=False),
    NestedField(6, "qty", IntegerType(), required=False),
    identifier_field_ids=[1],
)
table = catalog.create_table("shop.items", schema, properties={"format-version": "2"})
arrow_schema = pa.schema([
    pa.field("id", pa.int64(), nullable=False),
    pa.field("name", pa.string()),
    pa.field("region", pa.string()),
    pa.field("ts", pa.timestamp("us", tz="UTC")),
    pa.field("amount", pa.decimal128(10, 2)),
    pa.field("qty", pa.int32()),
])
epoch = datetime(1970, 1, 1, tzinfo=timezone.utc)
def rows(ids, name):
    return pa.Table.from_pylist([{
        "id": i, "name": name, "region": "eu" if i % 2 == 0 else "us",
        "ts": epoch + timedelta(microseconds=1_700_000_000_000_000 + i),
        "amount": Decimal(i * 100 + 5) / 100, "qty": i,
    } for i in ids], schema=arrow_schema)
table.append(rows(range(1, 21), "py"))
table.append(rows(range(21, 26), "py2"))
table.delete(LessThan("id", 5))
result = table.upsert(rows(list(range(8, 13)) + [30, 31, 32], "py-upsert"))
print(result.rows_updated, result.rows_inserted)
table.append(rows([40, 41, 42], "py3"))
"#;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn floe_continues_a_table_pyiceberg_wrote() {
    let dir = tempfile::tempdir().unwrap();
    let catalog = TestCatalog::new(dir.path());
    let table = "shop.items";
    // PyIceberg creates the catalog database, the namespace and the table.
    let printed = catalog.python(PYTHON_WRITES);
    assert_eq!(
        printed.trim(),
        "5 3",
        "PyIceberg's upsert: rows updated, inserted"
    );
    let mut oracle: BTreeMap<i64, Item> = BTreeMap::new();
    for id in 5..=20 {
        oracle.insert(id, item(id, "py"));
    }
    for id in 21..=25 {
        oracle.insert(id, item(id, "py2"));
    }
    for id in (8..=12).chain(30..=32) {
        oracle.insert(id, item(id, "py-upsert"));
    }
    for id in 40..=42 {
        oracle.insert(id, item(id, "py3"));
    }

    let ident = parse_table_ident(table).unwrap();
    let sql = catalog.open().await;
    assert!(
        sql.namespace_exists(&NamespaceIdent::new("shop".into()))
            .await
            .unwrap()
    );
    let mut writer = TableWriter::open(sql, ident.clone(), TableOptions::new("p"))
        .await
        .unwrap();
    assert_eq!(writer.key_columns(), ["id".to_string()]);
    assert_eq!(
        writer.index_len(),
        oracle.len(),
        "index honours PyIceberg's deletes and upsert"
    );
    assert_eq!(writer.rebuild_stats().duplicates, 0);
    assert!(writer.offsets().get("t", 0).is_none());

    let changes = vec![
        change(
            Op::Update,
            table,
            None,
            Some(item(10, "floe").image()),
            "t",
            0,
        ),
        change(
            Op::Update,
            table,
            None,
            Some(item(40, "floe").image()),
            "t",
            1,
        ),
        change(Op::Delete, table, Some(key_image(5)), None, "t", 2),
        change(Op::Delete, table, Some(key_image(30)), None, "t", 3),
        change(Op::Delete, table, Some(key_image(2)), None, "t", 4),
        change(
            Op::Insert,
            table,
            None,
            Some(item(50, "floe").image()),
            "t",
            5,
        ),
        change(
            Op::Read,
            table,
            None,
            Some(item(6, "floe-snapshot").image()),
            "t",
            6,
        ),
        change(
            Op::Update,
            table,
            None,
            Some(item(3, "floe-new").image()),
            "t",
            7,
        ),
    ];
    assert!(writer.apply(changes).is_empty());
    let report = writer
        .commit(&Offsets::new(), &BTreeMap::new())
        .await
        .unwrap()
        .unwrap();
    // 2 was deleted by PyIceberg: a delete of an unknown key; 3 likewise, so its update inserts.
    assert_eq!(
        (
            report.inserted,
            report.updated,
            report.deleted,
            report.missing_deletes
        ),
        (2, 3, 2, 1),
        "{report:?}"
    );
    oracle.insert(10, item(10, "floe"));
    oracle.insert(40, item(40, "floe"));
    oracle.remove(&5);
    oracle.remove(&30);
    oracle.insert(50, item(50, "floe"));
    oracle.insert(6, item(6, "floe-snapshot"));
    oracle.insert(3, item(3, "floe-new"));
    let read = catalog.read(table);
    assert_table_equals(&read, &oracle, "floe after PyIceberg");
    assert_eq!(read["summary"]["operation"], "overwrite");

    // PyIceberg appends again; a reopened floe writer indexes everything.
    catalog.python(
        "t = catalog.load_table('shop.items')\nimport pyarrow as pa\nprint(len(t.scan().to_arrow()))",
    );
    let writer = TableWriter::open(catalog.open().await, ident, TableOptions::new("p"))
        .await
        .unwrap();
    assert_eq!(writer.index_len(), oracle.len());
    assert_eq!(writer.offsets().get("t", 0), Some(8));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn pyiceberg_lists_and_loads_floe_tables() {
    let dir = tempfile::tempdir().unwrap();
    let catalog = TestCatalog::new(dir.path());
    let mut options = TableOptions::new("p");
    options.create = true;
    let ident = parse_table_ident("db.one").unwrap();
    let mut writer = TableWriter::open(catalog.open().await, ident, options)
        .await
        .unwrap();
    assert!(
        writer
            .apply(vec![change(
                Op::Insert,
                "db.one",
                None,
                Some(item(1, "x").image()),
                "t",
                0
            )])
            .is_empty()
    );
    writer
        .commit(&Offsets::new(), &BTreeMap::new())
        .await
        .unwrap()
        .unwrap();
    let out = catalog.python(
        "print(catalog.list_namespaces())\nprint(catalog.list_tables('db'))\nt = catalog.load_table('db.one')\nprint(t.schema().identifier_field_ids, t.format_version, len(t.scan().to_arrow()))",
    );
    assert_eq!(out, "[('db',)]\n[('db', 'one')]\n[1] 2 1\n", "{out}");
}

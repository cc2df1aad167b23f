//! Shared pieces of the Iceberg tests: a catalog in a temp dir, changes of a
//! small `items` table, an oracle (key → row) and the Python readers.

#![allow(dead_code)]

use std::collections::BTreeMap;

use floe::change::{Change, ColumnType, Field, Image, Op, Position, Value};
#[allow(unused_imports)] // Each test binary uses some of them.
pub use floe_tests::reader::{TestCatalog, python};
use serde_json::{Value as Json, json};

/// One row of the test table `items`.
#[derive(Debug, Clone, PartialEq)]
pub struct Item {
    pub id: i64,
    pub name: Option<String>,
    pub region: String,
    /// Microseconds since the epoch.
    pub ts: i64,
    /// Unscaled, scale 2.
    pub amount: Option<i128>,
    pub qty: Option<i32>,
}

impl Item {
    /// The row's image.
    pub fn image(&self) -> Image {
        Image::from_fields([
            field("id", ColumnType::Long, Some(Value::Long(self.id))),
            field(
                "name",
                ColumnType::String,
                self.name.clone().map(Value::String),
            ),
            field(
                "region",
                ColumnType::String,
                Some(Value::String(self.region.clone())),
            ),
            field(
                "ts",
                ColumnType::Timestamptz,
                Some(Value::Timestamptz(self.ts)),
            ),
            field(
                "amount",
                ColumnType::Decimal {
                    precision: 10,
                    scale: 2,
                },
                self.amount.map(Value::Decimal),
            ),
            field("qty", ColumnType::Int, self.qty.map(Value::Int)),
        ])
    }

    /// The row as read_table.py prints it.
    pub fn json(&self) -> Json {
        json!({
            "id": self.id,
            "name": self.name,
            "region": self.region,
            "ts": self.ts,
            "amount": self.amount.map(decimal2),
            "qty": self.qty,
        })
    }
}

/// A scale-2 decimal as Python's `str(Decimal)` writes it.
pub fn decimal2(unscaled: i128) -> String {
    let sign = if unscaled < 0 { "-" } else { "" };
    let abs = unscaled.unsigned_abs();
    format!("{sign}{}.{:02}", abs / 100, abs % 100)
}

/// A field.
pub fn field(name: &str, ty: ColumnType, value: Option<Value>) -> Field {
    Field {
        name: name.into(),
        ty,
        value,
    }
}

/// A change of table `table` at `offset` of partition 0 of topic `topic`.
pub fn change(
    op: Op,
    table: &str,
    before: Option<Image>,
    after: Option<Image>,
    topic: &str,
    offset: i64,
) -> Change {
    Change {
        op,
        table: table.into(),
        key: vec!["id".into()],
        before,
        after,
        position: Position::new(topic, 0, offset),
        event_time: None,
    }
}

/// The image of a delete of key `id`.
pub fn key_image(id: i64) -> Image {
    Image::from_fields([field("id", ColumnType::Long, Some(Value::Long(id)))])
}

/// Rows of a read_table.py reader, sorted by id, with only `columns`.
pub fn sorted_rows(rows: &Json, columns: &[&str]) -> Vec<Json> {
    let mut rows: Vec<Json> = rows
        .as_array()
        .expect("rows array")
        .iter()
        .map(|r| {
            Json::Object(
                columns
                    .iter()
                    .map(|c| (c.to_string(), r.get(*c).cloned().unwrap_or(Json::Null)))
                    .collect(),
            )
        })
        .collect();
    rows.sort_by_key(|r| r["id"].as_i64());
    rows
}

/// The oracle's rows, sorted by id.
pub fn oracle_rows(oracle: &BTreeMap<i64, Item>) -> Vec<Json> {
    oracle.values().map(Item::json).collect()
}

/// Asserts that both readers see exactly the oracle and no file is an
/// equality delete file.
pub fn assert_table_equals(read: &Json, oracle: &BTreeMap<i64, Item>, context: &str) {
    let columns = ["id", "name", "region", "ts", "amount", "qty"];
    let want = oracle_rows(oracle);
    for reader in ["pyiceberg", "duckdb"] {
        let got = sorted_rows(&read[reader], &columns);
        if got != want {
            let got_ids: Vec<_> = got.iter().map(|r| r["id"].clone()).collect();
            let want_ids: Vec<_> = want.iter().map(|r| r["id"].clone()).collect();
            panic!(
                "{context}: {reader} rows differ from the oracle\n got ids {got_ids:?}\nwant ids {want_ids:?}\n first differing: {:?}",
                got.iter().zip(&want).find(|(a, b)| a != b)
            );
        }
    }
    for file in read["files"].as_array().expect("files") {
        assert_ne!(file["content"], 2, "{context}: equality delete file {file}");
    }
}

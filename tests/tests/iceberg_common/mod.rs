//! Shared pieces of the Iceberg tests: a catalog in a temp dir, changes of a
//! small `items` table, an oracle (key → row) and the Python readers.

#![allow(dead_code)]

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::Once;

use floe::change::{Change, ColumnType, Field, Image, Op, Position, Value};
use floe::commit::{CatalogConfig, SqlCatalog};
use serde_json::{Value as Json, json};

/// The repository root.
pub fn repo() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("..")
}

/// `<repo>/.venv/bin/python`, set up (once per test binary) by
/// scripts/setup-python.sh.
pub fn python() -> PathBuf {
    static SETUP: Once = Once::new();
    SETUP.call_once(|| {
        let status = Command::new("bash")
            .arg(repo().join("scripts/setup-python.sh"))
            .status()
            .expect("running scripts/setup-python.sh");
        assert!(status.success(), "scripts/setup-python.sh failed");
    });
    repo().join(".venv/bin/python")
}

/// A catalog in `dir`: SQLite file `catalog.db`, warehouse `warehouse/`.
pub struct TestCatalog {
    /// The config floe opens.
    pub config: CatalogConfig,
}

impl TestCatalog {
    /// The catalog of a temp dir.
    pub fn new(dir: &Path) -> Self {
        TestCatalog {
            config: CatalogConfig {
                name: "floe_test".into(),
                uri: format!("sqlite://{}/catalog.db", dir.display()),
                warehouse: format!("{}/warehouse", dir.display()),
            },
        }
    }

    /// Opens it.
    pub async fn open(&self) -> SqlCatalog {
        SqlCatalog::connect(&self.config)
            .await
            .expect("catalog opens")
    }

    /// The SQLAlchemy URI PyIceberg opens the same file with.
    pub fn python_uri(&self) -> String {
        self.config.uri.replacen("sqlite://", "sqlite:///", 1)
    }

    /// Reads `table` with PyIceberg and DuckDB (tests/python/read_table.py).
    pub fn read(&self, table: &str) -> Json {
        let output = Command::new(python())
            .arg(repo().join("tests/python/read_table.py"))
            .args([
                &self.python_uri(),
                &self.config.name,
                &self.config.warehouse,
                table,
            ])
            .output()
            .expect("running read_table.py");
        assert!(
            output.status.success(),
            "read_table.py failed:\n{}",
            String::from_utf8_lossy(&output.stderr)
        );
        serde_json::from_slice(&output.stdout).expect("read_table.py prints JSON")
    }

    /// Runs a Python snippet with `catalog` (a PyIceberg SqlCatalog of this
    /// catalog) in scope; returns its stdout.
    pub fn python(&self, code: &str) -> String {
        let prelude = format!(
            "from pyiceberg.catalog.sql import SqlCatalog\ncatalog = SqlCatalog({:?}, uri={:?}, warehouse={:?})\n",
            self.config.name,
            self.python_uri(),
            self.config.warehouse
        );
        let output = Command::new(python())
            .args(["-c", &format!("{prelude}{code}")])
            .output()
            .expect("running python");
        assert!(
            output.status.success(),
            "python failed:\n{}",
            String::from_utf8_lossy(&output.stderr)
        );
        String::from_utf8_lossy(&output.stdout).into_owned()
    }
}

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

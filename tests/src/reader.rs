//! Reading what floe wrote as a user would: a test catalog (SQLite file and
//! warehouse in a temp dir) read with PyIceberg and DuckDB
//! (tests/python/read_table.py), Python snippets against it, the
//! dead-letter queue read with pyarrow, and the assertions on those reads.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::Once;

use floe::commit::{CatalogConfig, SqlCatalog};
use serde_json::{Value as Json, json};

use crate::workspace_root;

/// `<repo>/.venv/bin/python`, set up (once per test binary) by
/// scripts/setup-python.sh.
pub fn python() -> PathBuf {
    static SETUP: Once = Once::new();
    SETUP.call_once(|| {
        let status = Command::new("bash")
            .arg(workspace_root().join("scripts/setup-python.sh"))
            .status()
            .expect("running scripts/setup-python.sh");
        assert!(status.success(), "scripts/setup-python.sh failed");
    });
    workspace_root().join(".venv/bin/python")
}

/// A catalog whose tables PyIceberg and DuckDB read (tests/python/read_table.py's JSON).
pub trait ReadTable {
    /// Reads `table` with PyIceberg and DuckDB.
    fn read_table(&self, table: &str) -> Json;
}

impl ReadTable for TestCatalog {
    fn read_table(&self, table: &str) -> Json {
        self.read(table)
    }
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
            .arg(workspace_root().join("tests/python/read_table.py"))
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

/// (offset, stage, reason) of every dead letter under `<dir>/dlq`, by offset,
/// read with pyarrow as a user would.
pub fn dead_letters(dir: &Path) -> Vec<(i64, String, String)> {
    serde_json::from_value(dlq_columns(dir, &["offset", "stage", "_dlq_reason"])).unwrap()
}

/// The given columns of every dead letter under `<dir>/dlq`, one tuple per
/// letter, sorted, duplicates kept; read with pyarrow as a user would.
pub fn dlq_columns(dir: &Path, columns: &[&str]) -> Json {
    let picked: Vec<String> = columns.iter().map(|c| format!("t[{c:?}]")).collect();
    let code = format!(
        "import glob, json, pyarrow.parquet as pq\nfiles = glob.glob({:?} + '/**/*.parquet', recursive=True)\nout = []\nfor f in files:\n    t = pq.read_table(f).to_pydict()\n    out += list(zip({}))\nprint(json.dumps(sorted(out)))",
        dir.join("dlq").display().to_string(),
        picked.join(", ")
    );
    let output = Command::new(python()).args(["-c", &code]).output().unwrap();
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    serde_json::from_slice(&output.stdout).unwrap()
}

/// Rows sorted by `id`.
pub fn sorted(rows: &Json) -> Vec<Json> {
    let mut rows = rows.as_array().expect("rows").clone();
    rows.sort_by_key(|r| r["id"].as_i64());
    rows
}

/// Reads `table` (tests/python/read_table.py), asserts that PyIceberg and
/// DuckDB both see `oracle` (id → row), and returns what was read.
pub fn read_oracle(catalog: &impl ReadTable, table: &str, oracle: &BTreeMap<i64, Json>) -> Json {
    let read = catalog.read_table(table);
    let expected: Vec<Json> = oracle.values().cloned().collect();
    assert_rows(&read, &expected, "");
    read
}

/// Reads `table` with PyIceberg and DuckDB as a user would, asserts that
/// both return `expected` (rows sorted by `id`) and that the current
/// snapshot's `floe.offsets` is `next` for partition 0 of `topic`; returns
/// the read (tests/python/read_table.py's JSON).
pub fn assert_reads(
    catalog: &impl ReadTable,
    table: &str,
    topic: &str,
    expected: &[Json],
    next: usize,
    context: &str,
) -> Json {
    let read = catalog.read_table(table);
    assert_rows(&read, expected, context);
    let offsets: Json =
        serde_json::from_str(read["summary"]["floe.offsets"].as_str().unwrap()).unwrap();
    assert_eq!(
        offsets,
        json!({ (topic): {"0": next} }),
        "{context}: the snapshot records the next offset"
    );
    read
}

/// Asserts that PyIceberg and DuckDB both read `expected` (sorted by `id`).
fn assert_rows(read: &Json, expected: &[Json], context: &str) {
    assert_eq!(
        sorted(&read["pyiceberg"]),
        expected,
        "{context}: PyIceberg sees the oracle"
    );
    assert_eq!(
        sorted(&read["duckdb"]),
        expected,
        "{context}: DuckDB sees the oracle"
    );
}

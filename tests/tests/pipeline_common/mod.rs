//! What the `floe run` tests share: a pipeline configuration over a test
//! catalog, running the binary, and reading the dead-letter queue.

#![allow(dead_code)]

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use floe_tests::floe_bin;
use serde_json::{Value as Json, json};

use crate::iceberg_common::{TestCatalog, python};

/// Writes `<dir>/pipeline.toml`: a file source `events.jsonl` standing for
/// `topic`, one table `table` keyed by `id`, commits every `max_records`,
/// the DLQ in `<dir>/dlq`; `table_extra` adds keys to the `[[tables]]` entry.
pub fn write_config(
    dir: &Path,
    catalog: &TestCatalog,
    topic: &str,
    table: &str,
    max_records: usize,
    table_extra: &str,
) -> PathBuf {
    let config = format!(
        r#"pipeline = "test-cdc"
[catalog]
kind = "sql"
uri = "{uri}"
warehouse = "{warehouse}"
name = "{name}"
[source]
kind = "file"
path = "events.jsonl"
topic = "{topic}"
[commit]
interval_ms = 600000
max_records = {max_records}
[dlq]
path = "dlq"
[[tables]]
topics = ["{topic}"]
table = "{table}"
key = ["id"]
{table_extra}
"#,
        uri = catalog.config.uri,
        warehouse = catalog.config.warehouse,
        name = catalog.config.name,
    );
    let path = dir.join("pipeline.toml");
    std::fs::write(&path, config).unwrap();
    path
}

/// Writes the lines of `<dir>/events.jsonl`.
pub fn write_events(dir: &Path, lines: &[String]) {
    std::fs::write(dir.join("events.jsonl"), lines.join("\n") + "\n").unwrap();
}

/// `floe run --config <config>`, quiet but for warnings, stderr captured.
pub fn floe_run(config: &Path) -> Command {
    let mut command = Command::new(floe_bin());
    command
        .args(["run", "--config"])
        .arg(config)
        .env("FLOE_LOG", "warn")
        .stdout(Stdio::null())
        .stderr(Stdio::piped());
    command
}

/// Runs `floe run` to the end of its file, asserting it succeeds; returns its stderr.
pub fn run_to_end(config: &Path) -> String {
    let output = floe_run(config).output().unwrap();
    let stderr = String::from_utf8_lossy(&output.stderr).into_owned();
    assert!(output.status.success(), "floe run failed: {stderr}");
    stderr
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
pub fn read_oracle(catalog: &TestCatalog, table: &str, oracle: &BTreeMap<i64, Json>) -> Json {
    let read = catalog.read(table);
    let expected: Vec<Json> = oracle.values().cloned().collect();
    assert_rows(&read, &expected, "");
    read
}

/// Reads `table` with PyIceberg and DuckDB as a user would, asserts that
/// both return `expected` (rows sorted by `id`) and that the current
/// snapshot's `floe.offsets` is `next` for partition 0 of `topic`; returns
/// the read (tests/python/read_table.py's JSON).
pub fn assert_reads(
    catalog: &TestCatalog,
    table: &str,
    topic: &str,
    expected: &[Json],
    next: usize,
    context: &str,
) -> Json {
    let read = catalog.read(table);
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

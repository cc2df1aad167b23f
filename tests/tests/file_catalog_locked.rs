//! A SQLite catalog another process holds locked (as Spark's JDBC catalog
//! does for tens of seconds) is waited out: Python's `sqlite3` takes an
//! exclusive lock on the catalog file for 5 s, once while `floe run` (file
//! source) is committing window after window and once before it starts. Each
//! run must exit 0 with the table equal to the oracle (PyIceberg and DuckDB),
//! having logged a warning for its retries.

mod iceberg_common;
mod pipeline_common;

use std::collections::BTreeMap;
use std::io::{BufRead, BufReader};
use std::path::Path;
use std::process::{Child, Command, Stdio};

use iceberg_common::{TestCatalog, python};
use pipeline_common::{floe_run, read_oracle, write_config, write_events};
use serde_json::{Value as Json, json};

const TOPIC: &str = "dbserver1.shop.stock";
const TABLE: &str = "shop.stock";

/// Waits until the catalog has a row for the table (when `wait_for_table`),
/// then holds an exclusive lock on the file for `seconds`; prints `locked`
/// once it holds it.
const LOCKER: &str = r#"
import sqlite3, sys, time
path, wait_for_table, seconds = sys.argv[1], sys.argv[2] == "1", float(sys.argv[3])
con = sqlite3.connect(path, timeout=60, isolation_level=None)
while wait_for_table:
    try:
        if con.execute("SELECT count(*) FROM iceberg_tables").fetchone()[0] > 0:
            break
    except sqlite3.OperationalError:
        pass
    time.sleep(0.005)
con.execute("BEGIN EXCLUSIVE")
print("locked", flush=True)
time.sleep(seconds)
con.execute("COMMIT")
"#;

/// `count` events over 300 keys: inserts, then updates; and the table they leave.
fn events(count: usize) -> (Vec<String>, BTreeMap<i64, Json>) {
    let mut live: BTreeMap<i64, Json> = BTreeMap::new();
    let mut lines = Vec::new();
    for i in 0..count {
        let id = (i % 300) as i64 + 1;
        let region = ["eu", "us"][id as usize % 2];
        let after = json!({"id": id, "qty": i as i64, "region": region});
        let before = live.insert(id, after.clone());
        let op = if before.is_some() { "u" } else { "c" };
        let value = json!({"op": op, "before": before, "after": after, "source": {"ts_ms": 1_700_000_000_000i64}});
        lines.push(json!({"key": {"id": id}, "value": value}).to_string());
    }
    (lines, live)
}

/// Starts the locker on the catalog file of `dir`; returns once it holds the
/// lock when it does not wait for the table.
fn lock(dir: &Path, wait_for_table: bool, seconds: u32) -> Child {
    let mut locker = Command::new(python())
        .args(["-c", LOCKER])
        .arg(dir.join("catalog.db"))
        .arg(if wait_for_table { "1" } else { "0" })
        .arg(seconds.to_string())
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    if !wait_for_table {
        let mut line = String::new();
        BufReader::new(locker.stdout.as_mut().unwrap())
            .read_line(&mut line)
            .unwrap();
        assert_eq!(line.trim(), "locked");
    }
    locker
}

/// Runs `floe run` to its end; asserts it exits 0 after retrying a locked
/// catalog with warnings, and that the table is the oracle.
fn run_through_the_lock(config: &Path, catalog: &TestCatalog, oracle: &BTreeMap<i64, Json>) {
    let output = floe_run(config).output().unwrap();
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(output.status.success(), "floe run failed: {stderr}");
    let warnings: Vec<&str> = stderr
        .lines()
        .filter(|l| l.contains("WARN") && l.contains("database is locked"))
        .collect();
    assert!(
        !warnings.is_empty() && warnings.iter().all(|l| l.contains("retrying")),
        "a warning for each retry: {stderr}"
    );
    read_oracle(catalog, TABLE, oracle);
}

#[test]
fn a_catalog_locked_by_another_process_is_retried_until_it_is_free() {
    let dir = tempfile::tempdir().unwrap();
    let catalog = TestCatalog::new(dir.path());
    let config = write_config(
        dir.path(),
        &catalog,
        TOPIC,
        TABLE,
        25,
        "partition_by = [\"region\"]\ncreate = true",
    );

    // Locked for 5 s once the first window is committed, while the next
    // ones commit (6,000 records, a commit every 25).
    let (lines, oracle) = events(6000);
    write_events(dir.path(), &lines);
    let mut locker = lock(dir.path(), true, 5);
    run_through_the_lock(&config, &catalog, &oracle);
    assert!(locker.wait().unwrap().success());

    // Locked for 5 s before `floe run` opens the catalog and loads the table.
    let (lines, oracle) = events(6500);
    write_events(dir.path(), &lines);
    let mut locker = lock(dir.path(), false, 5);
    run_through_the_lock(&config, &catalog, &oracle);
    assert!(locker.wait().unwrap().success());
}

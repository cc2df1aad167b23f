//! What the maintenance and compaction tests share: the CDC stream of
//! `shop.items` with its oracle, reading the table against it, the files on
//! disk against those its metadata reaches, `floe table` commands, runs
//! killed with SIGKILL, and Spark's tools.

#![allow(dead_code)]

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;

use floe_tests::cdc::Lcg;
use serde_json::{Value as Json, json};

use crate::iceberg_common::TestCatalog;
use crate::pipeline_common;
use crate::pipeline_common::assert_reads;

pub const TOPIC: &str = "dbserver1.shop.items";
pub const TABLE: &str = "shop.items";

/// Inserts, updates and deletes of ids 1..=60, a truncate every 700 lines
/// (so that whole manifests fall out of use); after each line, the table an
/// uninterrupted run produces.
pub fn generate(count: usize) -> (Vec<String>, Vec<BTreeMap<i64, Json>>) {
    generate_truncating(count, 700)
}

/// As [`generate`], with a truncate every `every` lines.
pub fn generate_truncating(count: usize, every: usize) -> (Vec<String>, Vec<BTreeMap<i64, Json>>) {
    let mut rng = Lcg(0x9e37_79b9_7f4a_7c15);
    let mut next = move |n: u64| rng.below(n);
    let mut live: BTreeMap<i64, Json> = BTreeMap::new();
    let (mut lines, mut oracle) = (Vec::new(), Vec::new());
    for i in 0..count {
        let id = next(60) as i64 + 1;
        let source = json!({"ts_ms": 1_700_000_000_000i64});
        let (key, value) = if i % every == every - 1 {
            live.clear();
            (
                Json::Null,
                json!({"op": "t", "before": null, "after": null, "source": source}),
            )
        } else if next(5) == 0 {
            let before = live.remove(&id).unwrap_or(json!({"id": id}));
            (
                json!({"id": id}),
                json!({"op": "d", "before": before, "after": null, "source": source}),
            )
        } else {
            let after =
                json!({"id": id, "name": format!("item-{id}-{i}"), "qty": next(1000) as i64});
            let before = live.insert(id, after.clone());
            let op = if before.is_some() { "u" } else { "c" };
            (
                json!({"id": id}),
                json!({"op": op, "before": before, "after": after, "source": source}),
            )
        };
        lines.push(json!({"key": key, "value": value}).to_string());
        oracle.push(live.clone());
    }
    (lines, oracle)
}

/// Every file under the table's folder, and every file its metadata
/// reaches (the current metadata file, the metadata log, and each retained
/// snapshot's manifest list, manifests and data and delete files), read by
/// PyIceberg.
pub fn files_on_disk_and_reachable(
    catalog: &TestCatalog,
    dir: &Path,
) -> (BTreeSet<String>, BTreeSet<String>) {
    let code = format!(
        r#"import json
t = catalog.load_table({TABLE:?})
out = {{t.metadata_location}} | {{e.metadata_file for e in t.metadata.metadata_log}}
for s in t.metadata.snapshots:
    out.add(s.manifest_list)
    for m in s.manifests(t.io):
        out.add(m.manifest_path)
        for e in m.fetch_manifest_entry(t.io, discard_deleted=False):
            out.add(e.data_file.file_path)
print(json.dumps(sorted(p.removeprefix("file://") for p in out)))"#
    );
    let reachable: BTreeSet<String> = serde_json::from_str(&catalog.python(&code)).unwrap();
    let mut on_disk = BTreeSet::new();
    let mut stack = vec![dir.join("warehouse/shop/items")];
    while let Some(folder) = stack.pop() {
        for entry in std::fs::read_dir(&folder).unwrap() {
            let path = entry.unwrap().path();
            if path.is_dir() {
                stack.push(path);
            } else {
                on_disk.insert(path.display().to_string());
            }
        }
    }
    (on_disk, reachable)
}

/// Reads the table with PyIceberg and DuckDB and compares both with the
/// oracle after `upto` lines; checks the snapshot's offsets.
pub fn check(
    catalog: &TestCatalog,
    oracle: &[BTreeMap<i64, Json>],
    upto: usize,
    context: &str,
) -> Json {
    let expected: Vec<Json> = oracle[upto - 1].values().cloned().collect();
    assert_reads(catalog, TABLE, TOPIC, &expected, upto, context)
}

/// `floe table expire --config <config>`: its stdout, asserting it succeeds.
pub fn table_expire(config: &Path) -> String {
    floe_table("expire", config)
}

/// `floe table <command> --config <config>`: its stdout, asserting it succeeds.
pub fn floe_table(command: &str, config: &Path) -> String {
    let output = std::process::Command::new(floe_tests::floe_bin())
        .args(["table", command, "--config"])
        .arg(config)
        .env("FLOE_LOG", "warn")
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        output.status.success(),
        "floe table {command} failed: {stderr}"
    );
    String::from_utf8_lossy(&output.stdout).into_owned()
}

/// Whether the table exists and has a snapshot (PyIceberg).
pub fn has_snapshot(catalog: &TestCatalog) -> bool {
    let code = format!(
        "print(catalog.table_exists({TABLE:?}) and catalog.load_table({TABLE:?}).current_snapshot() is not None)"
    );
    catalog.python(&code).trim() == "True"
}

/// Starts `floe run` and SIGKILLs it after `after`, unless it ended first.
pub fn run_and_kill(config: &Path, after: std::time::Duration) -> bool {
    let mut child = pipeline_common::floe_run(config).spawn().unwrap();
    let started = std::time::Instant::now();
    while started.elapsed() < after {
        if child.try_wait().unwrap().is_some() {
            return false;
        }
        std::thread::sleep(std::time::Duration::from_millis(2));
    }
    child.kill().unwrap(); // SIGKILL on Unix
    child.wait().unwrap();
    true
}

/// Spark's tools: the folder `../shared/tools/spark/setup.sh` installed
/// (`$FLOE_SPARK`, else `~/.cache/floe-spark`) and the one with `read.py`
/// (`$FLOE_SPARK_TOOLS`, else `../shared/tools/spark` beside the workspace);
/// `None` when either is missing.
pub fn spark_tools() -> Option<(std::path::PathBuf, std::path::PathBuf)> {
    let installed = std::env::var_os("FLOE_SPARK")
        .map(std::path::PathBuf::from)
        .or_else(|| std::env::var_os("HOME").map(|h| Path::new(&h).join(".cache/floe-spark")))?;
    let tools = std::env::var_os("FLOE_SPARK_TOOLS")
        .map(std::path::PathBuf::from)
        .unwrap_or_else(|| floe_tests::workspace_root().join("../shared/tools/spark"));
    let python = installed.join("venv/bin/python");
    let read = tools.join("read.py");
    (python.is_file() && read.is_file()).then_some((python, read))
}

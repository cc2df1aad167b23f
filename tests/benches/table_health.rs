//! "A day in minutes": many small commits into one partitioned table
//! (70 % updates) through `floe run` (file source, small `max_records`),
//! once with floe's maintenance (its defaults, but compaction every second
//! instead of every minute: a day in minutes) and once without any. Prints, per run: commit latency p50/p99
//! over the first and the last 1,000 commits (from floe's `committed …
//! took=` log lines), the current `metadata.json` bytes, the metadata
//! folder's bytes, data and delete files, PyIceberg and DuckDB scan time
//! against the same table compacted (`floe table compact` + `expire`), and
//! ingest events/s. Asserts nothing about speed.
//!
//! `cargo bench -p floe-tests --bench table_health` after `cargo build
//! --release -p floe`; `FLOE_BENCH_COMMITS` sets the commits (default
//! 3,000; the issue's target is 20,000), `FLOE_BENCH_RECORDS` the records
//! per commit (default 20), `FLOE_BENCH_ONLY` = `on` or `off` one run.

use std::fmt::Write as _;
use std::path::Path;
use std::process::Command;
use std::time::{Duration, Instant};

use floe::commit::catalog::CatalogConfig;
use floe_tests::cdc::Lcg;
use floe_tests::config::PipelineToml;
use floe_tests::floe_bin;
use floe_tests::reader::python;

const TOPIC: &str = "dbserver1.shop.items";
const TABLE: &str = "shop.items";

/// `count` Debezium events: 70 % updates of existing keys.
fn events(count: usize) -> String {
    let mut rng = Lcg(7);
    let mut keys = 0u64;
    let mut out = String::new();
    let regions = ["eu", "us", "apac", "latam"];
    for i in 0..count {
        let update = keys > 0 && rng.below(10) < 7;
        let id = if update {
            rng.below(keys) + 1
        } else {
            keys += 1;
            keys
        };
        let op = if update { "u" } else { "c" };
        let _ = writeln!(
            out,
            r#"{{"key":{{"id":{id}}},"value":{{"op":"{op}","before":null,"after":{{"id":{id},"name":"item {id} {i}","region":"{}","qty":{}}},"source":{{"ts_ms":1700000000000}}}}}}"#,
            regions[(id % 4) as usize],
            rng.below(1000)
        );
    }
    out
}

/// Commit durations in ms from floe's `committed … took=` lines.
fn commit_ms(log: &str) -> Vec<f64> {
    log.lines()
        .filter(|l| l.contains(" committed table="))
        .filter_map(|l| {
            let took = l.split("took=").nth(1)?.split_whitespace().next()?;
            let (number, scale) = if let Some(v) = took.strip_suffix("ms") {
                (v, 1.0)
            } else if let Some(v) = took.strip_suffix("µs") {
                (v, 0.001)
            } else if let Some(v) = took.strip_suffix("ns") {
                (v, 0.000_001)
            } else {
                (took.strip_suffix('s')?, 1000.0)
            };
            Some(number.parse::<f64>().ok()? * scale)
        })
        .collect()
}

fn percentile(values: &[f64], p: f64) -> f64 {
    let mut sorted = values.to_vec();
    sorted.sort_by(f64::total_cmp);
    if sorted.is_empty() {
        return f64::NAN;
    }
    sorted[((sorted.len() - 1) as f64 * p).round() as usize]
}

fn folder_bytes(dir: &Path) -> u64 {
    std::fs::read_dir(dir)
        .map(|entries| {
            entries
                .filter_map(Result::ok)
                .map(|e| {
                    let path = e.path();
                    if path.is_dir() {
                        folder_bytes(&path)
                    } else {
                        e.metadata().map(|m| m.len()).unwrap_or(0)
                    }
                })
                .sum()
        })
        .unwrap_or(0)
}

/// PyIceberg and DuckDB: metadata bytes, live data and delete files, and
/// the best of three scan times of each (seconds), as JSON.
fn inspect(catalog: &CatalogConfig) -> serde_json::Value {
    let code = format!(
        r#"import json, os, time, duckdb
from pyiceberg.catalog.sql import SqlCatalog
catalog = SqlCatalog({name:?}, uri={uri:?}, warehouse={warehouse:?})
t = catalog.load_table({TABLE:?})
s = t.current_snapshot()
data = deletes = 0
for m in s.manifests(t.io):
    for e in m.fetch_manifest_entry(t.io):
        if e.data_file.content.value == 0: data += 1
        else: deletes += 1
def best(f):
    out = []
    for _ in range(3):
        start = time.perf_counter(); rows = f(); out.append(time.perf_counter() - start)
    return min(out), rows
py, rows = best(lambda: t.scan().to_arrow().num_rows)
con = duckdb.connect()
con.execute("SET autoinstall_known_extensions = false")
con.execute("SET autoload_known_extensions = false")
con.execute("SET enable_progress_bar = false")
for ext in ("avro", "iceberg"):
    module = __import__(f"duckdb_extension_{{ext}}")
    con.execute("LOAD '" + os.path.join(os.path.dirname(module.__file__), "extensions", "v" + duckdb.__version__, ext + ".duckdb_extension") + "'")
dd, _ = best(lambda: con.execute("SELECT count(*) FROM iceberg_scan(?)", [t.metadata_location]).fetchone()[0])
print(json.dumps({{"metadata_bytes": os.path.getsize(t.metadata_location.removeprefix("file://")), "data": data, "deletes": deletes, "rows": rows, "pyiceberg": py, "duckdb": dd}}))"#,
        name = catalog.name,
        // SQLAlchemy's absolute path: four slashes.
        uri = format!("sqlite:///{}", catalog.uri.trim_start_matches("sqlite://")),
        warehouse = catalog.warehouse,
    );
    let output = Command::new(python()).args(["-c", &code]).output().unwrap();
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    let stdout = String::from_utf8_lossy(&output.stdout);
    serde_json::from_str(stdout.lines().last().unwrap_or_default())
        .unwrap_or_else(|e| panic!("{e}: {stdout}"))
}

fn floe(args: &[&str], config: &Path, log: &str) -> (String, Duration) {
    let started = Instant::now();
    let output = Command::new(floe_bin())
        .args(args)
        .arg("--config")
        .arg(config)
        .env("FLOE_LOG", log)
        .output()
        .unwrap();
    let took = started.elapsed();
    let stderr = String::from_utf8_lossy(&output.stderr).into_owned();
    assert!(output.status.success(), "floe {args:?} failed: {stderr}");
    (stderr, took)
}

fn run(label: &str, maintenance: &str, lines: &str, records: usize) {
    let dir = tempfile::tempdir().unwrap();
    let catalog = CatalogConfig {
        name: "floe".into(),
        uri: format!("sqlite://{}/catalog.db", dir.path().display()),
        warehouse: format!("{}/warehouse", dir.path().display()),
    };
    std::fs::write(dir.path().join("events.jsonl"), lines).unwrap();
    let config = PipelineToml::file("bench", TOPIC, TABLE, records)
        .catalog(&catalog)
        .commit(60_000, records)
        .table_keys(&format!(
            "partition_by = [\"region\"]\ncreate = true\n{maintenance}"
        ))
        .write(dir.path());
    let (log, took) = floe(&["run"], &config, "info");
    let events = lines.lines().count();
    let commits = commit_ms(&log);
    let n = commits.len().min(1000);
    let (first, last) = (&commits[..n], &commits[commits.len() - n..]);
    let table_dir = dir.path().join("warehouse/shop/items");
    let before = inspect(&catalog);
    let metadata_folder = folder_bytes(&table_dir.join("metadata"));
    // The same rows compacted: every partition rewritten whole.
    let compact_config = dir.path().join("compact.toml");
    std::fs::write(
        &compact_config,
        std::fs::read_to_string(&config).unwrap().replace(
            "[tables.maintenance]",
            "[tables.maintenance]\ncompact_min_input_files = 2\ncompact_max_bytes = 100000000000\ncompact_max_files = 10000000",
        ),
    )
    .unwrap();
    floe(&["table", "compact"], &compact_config, "warn");
    let after = inspect(&catalog);
    println!(
        "table_health {label}: {events} events, {} commits in {:.1} s: {:.0} events/s",
        commits.len(),
        took.as_secs_f64(),
        events as f64 / took.as_secs_f64()
    );
    println!(
        "  commit ms p50/p99: first {n} {:.1}/{:.1}, last {n} {:.1}/{:.1}",
        percentile(first, 0.5),
        percentile(first, 0.99),
        percentile(last, 0.5),
        percentile(last, 0.99)
    );
    println!(
        "  metadata.json {} bytes, metadata folder {} bytes, {} data files, {} delete files ({} rows)",
        before["metadata_bytes"],
        metadata_folder,
        before["data"],
        before["deletes"],
        before["rows"]
    );
    println!(
        "  scan s PyIceberg {:.3} vs compacted {:.3} ({:.2}x); DuckDB {:.3} vs compacted {:.3} ({:.2}x); compacted: {} data, {} delete files",
        before["pyiceberg"].as_f64().unwrap(),
        after["pyiceberg"].as_f64().unwrap(),
        before["pyiceberg"].as_f64().unwrap() / after["pyiceberg"].as_f64().unwrap(),
        before["duckdb"].as_f64().unwrap(),
        after["duckdb"].as_f64().unwrap(),
        before["duckdb"].as_f64().unwrap() / after["duckdb"].as_f64().unwrap(),
        after["data"],
        after["deletes"]
    );
}

fn main() {
    let commits: usize = std::env::var("FLOE_BENCH_COMMITS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(3_000);
    let records: usize = std::env::var("FLOE_BENCH_RECORDS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(20);
    let lines = events(commits * records);
    let only = std::env::var("FLOE_BENCH_ONLY").unwrap_or_default();
    // A day in minutes: compaction once a second stands for once a minute.
    if only != "off" {
        run(
            "maintenance on (floe's defaults, compaction every second)",
            "[tables.maintenance]\ncompact_interval_ms = 1000",
            &lines,
            records,
        );
    }
    if only == "on" {
        return;
    }
    run(
        "maintenance off",
        r#"properties = { "write.metadata.delete-after-commit.enabled" = "false", "write.metadata.previous-versions-max" = "100000", "commit.manifest-merge.enabled" = "false" }
[tables.maintenance]
compact = false
expire_interval_ms = 100000000000
orphans_interval_ms = 100000000000"#,
        &lines,
        records,
    );
}

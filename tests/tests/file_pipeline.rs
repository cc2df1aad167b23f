//! `floe run` over a file of Debezium events, as a user runs it: randomized
//! inserts, updates, deletes, primary-key changes, partition moves,
//! truncates, redelivered ranges and poison records; the process killed with
//! SIGKILL at random moments and restarted; the file rerun and then
//! extended. The table, read by PyIceberg and by DuckDB, must equal an
//! oracle; the DLQ must hold each poison record exactly once.

mod iceberg_common;
mod pipeline_common;

use std::collections::BTreeMap;
use std::path::Path;
use std::thread;
use std::time::{Duration, Instant};

use iceberg_common::TestCatalog;
use pipeline_common::{
    assert_reads, dead_letters, floe_run, run_to_end, sorted, write_config, write_events,
};
use serde_json::{Value as Json, json};

const TOPIC: &str = "dbserver1.shop.accounts";
const TABLE: &str = "shop.accounts";

/// A tiny deterministic generator (no dependency needed for test data).
struct Lcg(u64);

impl Lcg {
    fn next(&mut self) -> u64 {
        self.0 = self
            .0
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        self.0 >> 33
    }
    fn below(&mut self, n: u64) -> u64 {
        self.next() % n
    }
}

/// A CDC stream: the file's lines, and after each line the table an
/// uninterrupted run must produce, and the offsets of poison lines.
struct Stream {
    lines: Vec<String>,
    oracle: Vec<BTreeMap<i64, Json>>,
    poison: Vec<i64>,
}

fn row(rng: &mut Lcg, id: i64) -> Json {
    let regions = ["eu", "us", "apac"];
    json!({
        "id": id,
        "name": format!("account-{id}-{}", rng.below(1000)),
        "amount": rng.below(1_000_000) as i64 - 500_000,
        "region": regions[rng.below(3) as usize],
    })
}

fn event(op: &str, before: Option<&Json>, after: Option<&Json>, key: Option<i64>) -> String {
    let value = json!({"op": op, "before": before, "after": after, "source": {"ts_ms": 1_700_000_000_000i64}});
    let key = key.map(|id| json!({"id": id}));
    json!({"key": key, "value": value}).to_string()
}

fn generate(seed: u64, count: usize) -> Stream {
    let mut rng = Lcg(seed);
    let mut live: BTreeMap<i64, Json> = BTreeMap::new();
    let mut stream = Stream {
        lines: Vec::new(),
        oracle: Vec::new(),
        poison: Vec::new(),
    };
    let mut next_id = 1i64;
    let push = |stream: &mut Stream, line: String, live: &BTreeMap<i64, Json>, poison: bool| {
        if poison {
            stream.poison.push(stream.lines.len() as i64);
        }
        stream.lines.push(line);
        stream.oracle.push(live.clone());
    };
    while stream.lines.len() < count {
        let pick = rng.below(1000);
        let some_live = |rng: &mut Lcg, live: &BTreeMap<i64, Json>| {
            live.keys()
                .nth(rng.below(live.len() as u64) as usize)
                .copied()
        };
        match pick {
            0..=299 => {
                let id = next_id;
                next_id += 1;
                let after = row(&mut rng, id);
                live.insert(id, after.clone());
                let op = if pick < 250 { "c" } else { "r" };
                push(
                    &mut stream,
                    event(op, None, Some(&after), Some(id)),
                    &live,
                    false,
                );
            }
            300..=699 if !live.is_empty() => {
                let id = some_live(&mut rng, &live).unwrap();
                let before = live[&id].clone();
                let after = row(&mut rng, id); // a new region is a partition move
                live.insert(id, after.clone());
                push(
                    &mut stream,
                    event("u", Some(&before), Some(&after), Some(id)),
                    &live,
                    false,
                );
            }
            700..=819 if !live.is_empty() => {
                let id = some_live(&mut rng, &live).unwrap();
                let before = live.remove(&id).unwrap();
                push(
                    &mut stream,
                    event("d", Some(&before), None, Some(id)),
                    &live,
                    false,
                );
            }
            820..=869 if !live.is_empty() => {
                // A primary-key change: Debezium sends a delete of the old key and a create of the new one.
                let old = some_live(&mut rng, &live).unwrap();
                let before = live.remove(&old).unwrap();
                push(
                    &mut stream,
                    event("d", Some(&before), None, Some(old)),
                    &live,
                    false,
                );
                let id = next_id;
                next_id += 1;
                let mut after = before.clone();
                after["id"] = json!(id);
                live.insert(id, after.clone());
                push(
                    &mut stream,
                    event("c", None, Some(&after), Some(id)),
                    &live,
                    false,
                );
            }
            870..=873 => {
                live.clear();
                push(&mut stream, event("t", None, None, None), &live, false);
            }
            874..=919 => {
                let poison =
                    match rng.below(4) {
                        0 => "{\"key\": {\"id\": 1}, \"value\": {\"op\": \"c\", \"after\": "
                            .to_string(),
                        1 => json!({"key": {"id": 1}, "value": {"after": {"id": 1}}}).to_string(),
                        2 => json!({"key": {"id": 1}, "value": {"op": "c", "before": null}})
                            .to_string(),
                        _ => json!({"key": {"id": 1}, "value": {"op": "x", "after": {"id": 1}}})
                            .to_string(),
                    };
                push(&mut stream, poison, &live, true);
            }
            920..=959 if stream.lines.len() > 10 => {
                // A redelivered range: the last few records again, in order.
                let from = stream.lines.len() - 1 - rng.below(5) as usize;
                let replay: Vec<(String, bool)> = (from..stream.lines.len())
                    .map(|i| (stream.lines[i].clone(), stream.poison.contains(&(i as i64))))
                    .collect();
                for (line, poison) in replay {
                    apply_to_oracle(&line, &mut live);
                    push(&mut stream, line, &live, poison);
                }
            }
            960..=999 => {
                // A tombstone after a delete: counted, not written.
                push(
                    &mut stream,
                    json!({"key": {"id": 1}, "value": null}).to_string(),
                    &live,
                    false,
                );
            }
            _ => {}
        }
    }
    stream.lines.truncate(count);
    stream.oracle.truncate(count);
    stream.poison.retain(|&p| (p as usize) < count);
    stream
}

/// Applies a redelivered line to the oracle, as a sequential reader would.
fn apply_to_oracle(line: &str, live: &mut BTreeMap<i64, Json>) {
    let Ok(doc) = serde_json::from_str::<Json>(line) else {
        return;
    };
    let value = &doc["value"];
    match value["op"].as_str() {
        Some("c" | "r" | "u") if value["after"].is_object() => {
            live.insert(
                value["after"]["id"].as_i64().unwrap(),
                value["after"].clone(),
            );
        }
        Some("d") => {
            live.remove(&value["before"]["id"].as_i64().unwrap());
        }
        Some("t") => live.clear(),
        _ => {}
    }
}

/// The offsets in the dead-letter queue.
fn dlq_offsets(dir: &Path) -> Vec<i64> {
    dead_letters(dir)
        .into_iter()
        .map(|(offset, _, _)| offset)
        .collect()
}

/// The configuration of these tests: `accounts` partitioned by region, created by floe.
fn config(dir: &Path, catalog: &TestCatalog, max_records: usize) -> std::path::PathBuf {
    write_config(
        dir,
        catalog,
        TOPIC,
        TABLE,
        max_records,
        "partition_by = [\"region\"]\ncreate = true",
    )
}

/// Starts `floe run` and kills it with SIGKILL after `after`, if it is still running.
fn run_and_kill(config: &Path, after: Duration) -> bool {
    let mut child = floe_run(config).spawn().unwrap();
    let started = Instant::now();
    while started.elapsed() < after {
        if child.try_wait().unwrap().is_some() {
            return false;
        }
        thread::sleep(Duration::from_millis(2));
    }
    child.kill().unwrap(); // SIGKILL on Unix
    child.wait().unwrap();
    true
}

fn check(catalog: &TestCatalog, dir: &Path, stream: &Stream, upto: usize, context: &str) -> Json {
    let expected: Vec<Json> = stream.oracle[upto - 1].values().cloned().collect();
    let read = assert_reads(catalog, TABLE, TOPIC, &expected, upto, context);
    let equality_deletes = read["files"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|f| f["content"] == 2)
        .count();
    assert_eq!(equality_deletes, 0, "{context}: no equality delete files");
    let poison: Vec<i64> = stream
        .poison
        .iter()
        .copied()
        .filter(|&p| (p as usize) < upto)
        .collect();
    assert_eq!(
        dlq_offsets(dir),
        poison,
        "{context}: the DLQ holds each poison record once"
    );
    read
}

#[test]
fn a_file_is_applied_exactly_once_across_kill_9_reruns_and_growth() {
    let dir = tempfile::tempdir().unwrap();
    let catalog = TestCatalog::new(dir.path());
    let stream = generate(0x5eed, 3000);
    assert!(
        stream.poison.len() > 20,
        "the stream has poison records: {}",
        stream.poison.len()
    );
    let config = config(dir.path(), &catalog, 150);

    // The first 2,000 records, with the process killed at random moments.
    write_events(dir.path(), &stream.lines[..2000]);
    let mut rng = Lcg(7);
    let mut kills = 0;
    for _ in 0..12 {
        if run_and_kill(&config, Duration::from_millis(20 + rng.below(400))) {
            kills += 1;
        }
    }
    let summary = run_to_end(&config);
    println!("killed {kills} times; last run: {summary}");
    let read = check(&catalog, dir.path(), &stream, 2000, "after kills");
    let snapshots = read["snapshots"].clone();

    // Rerunning the same file changes nothing.
    run_to_end(&config);
    let again = check(&catalog, dir.path(), &stream, 2000, "rerun");
    assert_eq!(
        again["snapshots"], snapshots,
        "a rerun on the same file commits no snapshot"
    );

    // A longer file resumes where the table stopped, through more kills.
    write_events(dir.path(), &stream.lines);
    for _ in 0..6 {
        run_and_kill(&config, Duration::from_millis(20 + rng.below(300)));
    }
    run_to_end(&config);
    check(&catalog, dir.path(), &stream, 3000, "after growth");
}

#[test]
fn configuration_errors_exit_2_with_one_message_and_write_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let catalog = TestCatalog::new(dir.path());
    let good = std::fs::read_to_string(config(dir.path(), &catalog, 100)).unwrap();
    write_events(dir.path(), &generate(1, 50).lines);
    let cases = [
        (
            good.replace("max_records", "max_recordz"),
            "unknown field `max_recordz`",
        ),
        (
            good.replace("pipeline = \"test-cdc\"\n", ""),
            "missing field `pipeline`",
        ),
        (
            good.replace("topics = [", "topic_pattern = \"(\"\ntopics = ["),
            "topic_pattern",
        ),
        (
            good.replace(&catalog.config.uri, "postgres://floe@127.0.0.1:1/nothing"),
            "catalog postgres://",
        ),
        (
            good.replace("path = \"events.jsonl\"", "path = \"missing.jsonl\""),
            "missing.jsonl",
        ),
        (
            good.replace("create = true", "create = true\nnumeric_time = \"secs\""),
            "unknown time unit `secs`: expected \"auto\", \"millis\", \"micros\" or \"nanos\"",
        ),
    ];
    for (text, wanted) in cases {
        let config = dir.path().join("bad.toml");
        std::fs::write(&config, &text).unwrap();
        let output = floe_run(&config).output().unwrap();
        let stderr = String::from_utf8_lossy(&output.stderr);
        assert_eq!(output.status.code(), Some(2), "{wanted}: {stderr}");
        assert!(stderr.contains(wanted), "wanted `{wanted}` in: {stderr}");
        assert_eq!(stderr.trim().lines().count(), 1, "one message: {stderr}");
        assert!(
            !dir.path().join("dlq").exists(),
            "{wanted}: nothing written"
        );
        assert!(
            !dir.path().join("warehouse").join("shop").exists(),
            "{wanted}: no table created"
        );
    }
}

#[test]
fn plugins_in_the_chain_mask_columns_and_send_trapped_records_to_the_dlq() {
    let dir = tempfile::tempdir().unwrap();
    let catalog = TestCatalog::new(dir.path());
    let plugins = dir.path().join("plugins");
    std::fs::create_dir_all(&plugins).unwrap();
    std::fs::copy(floe_tests::plugin_path("mask"), plugins.join("mask.wasm")).unwrap();
    std::fs::copy(
        floe_tests::test_guest_path("trap"),
        plugins.join("trap.wasm"),
    )
    .unwrap();
    let mut lines = Vec::new();
    let mut rng = Lcg(3);
    let mut expected = BTreeMap::new();
    for id in 1..=40i64 {
        let after = row(&mut rng, id);
        lines.push(event("c", None, Some(&after), Some(id)));
        if id % 10 != 7 {
            expected.insert(id, after);
        }
    }
    write_events(dir.path(), &lines);
    let config = config(dir.path(), &catalog, 1000);
    let text = std::fs::read_to_string(&config).unwrap().replace(
        "create = true\n",
        "create = true\ntransforms = [\n  { plugin = \"mask\", config = { columns = \"name\", salt = \"s3cret\" } },\n  { plugin = \"trap\", config = { trap_on = \"7,17,27,37\" } },\n]\n",
    ) + &format!(
        "[plugins]\ndir = \"plugins\"\nhot_reload = false\ncache_dir = {:?}\n",
        floe_tests::workspace_root().join("target/floe-test-cache").display().to_string()
    );
    std::fs::write(&config, text).unwrap();
    run_to_end(&config);

    let read = catalog.read(TABLE);
    let rows = sorted(&read["pyiceberg"]);
    assert_eq!(rows.len(), expected.len());
    for (row, original) in rows.iter().zip(expected.values()) {
        assert_eq!(row["id"], original["id"]);
        assert_eq!(
            row["amount"], original["amount"],
            "unmasked columns as they were"
        );
        let name = row["name"].as_str().unwrap();
        assert_ne!(name, original["name"].as_str().unwrap());
        assert_eq!(name.len(), 64, "a SHA-256 hex digest: {name}");
    }
    assert_eq!(
        dlq_offsets(dir.path()),
        vec![6, 16, 26, 36],
        "ids 7, 17, 27, 37 (offsets 6, 16, 26, 36) trapped"
    );
    let plugins: Json =
        serde_json::from_str(read["summary"]["floe.plugins"].as_str().unwrap()).unwrap();
    assert_eq!(
        plugins["mask"].as_str().map(str::len),
        Some(64),
        "the snapshot names the mask version: {plugins}"
    );
    assert!(plugins.get("trap").is_some(), "{plugins}");
}

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

use floe_tests::cdc::{CdcStream, Event, Lcg, Mix, account, envelope, generate};
use iceberg_common::TestCatalog;
use pipeline_common::{
    assert_reads, dead_letters, floe_run, run_to_end, sorted, write_config, write_events,
};
use serde_json::{Value as Json, json};

const TOPIC: &str = "dbserver1.shop.accounts";
const TABLE: &str = "shop.accounts";

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

fn check(
    catalog: &TestCatalog,
    dir: &Path,
    stream: &CdcStream,
    upto: usize,
    context: &str,
) -> Json {
    let expected: Vec<Json> = stream.oracle_after(upto).values().cloned().collect();
    let read = assert_reads(catalog, TABLE, TOPIC, &expected, upto, context);
    let equality_deletes = read["files"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|f| f["content"] == 2)
        .count();
    assert_eq!(equality_deletes, 0, "{context}: no equality delete files");
    let poison: Vec<i64> = stream.poison_below(upto);
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
    let stream = generate(0x5eed, 3000, Mix::file());
    let lines = stream.lines();
    assert!(
        stream.poison.len() > 20,
        "the stream has poison records: {}",
        stream.poison.len()
    );
    let config = config(dir.path(), &catalog, 150);

    // The first 2,000 records, with the process killed at random moments.
    write_events(dir.path(), &lines[..2000]);
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
    write_events(dir.path(), &lines);
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
    write_events(dir.path(), &generate(1, 50, Mix::file()).lines());
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
        let after = account(&mut rng, id);
        let event = Event {
            partition: 0,
            offset: id - 1,
            key: Some(json!({ "id": id }).to_string()),
            value: Some(envelope("c", None, Some(&after))),
        };
        lines.push(event.line());
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

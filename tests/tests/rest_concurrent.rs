//! Other writers on the same REST table while floe commits. PyIceberg's
//! RestCatalog appends rows (ids floe never writes) between and during
//! floe's commits: each of floe's commits that loses the race gets a 409,
//! reloads and goes on; at the end the table holds floe's oracle and every
//! row PyIceberg appended, read by PyIceberg and DuckDB. Two floe processes
//! of one pipeline on the same file: every window lands once.

mod iceberg_common;
mod pipeline_common;

use std::collections::BTreeMap;

use floe_tests::cdc::{Mix, generate};
use floe_tests::config::PipelineToml;
use floe_tests::seaweed::Seaweed;
use pipeline_common::{assert_reads, floe_run, read_oracle, write_events};
use serde_json::{Value as Json, json};

const TOPIC: &str = "dbserver1.shop.accounts";
const TABLE: &str = "shop.accounts";

#[test]
fn a_concurrent_pyiceberg_append_is_kept_and_floe_applies_every_window_once() {
    let Some(server) = Seaweed::start() else {
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    // A topic's mix (no truncates: they would remove PyIceberg's rows too).
    let stream = generate(0xc0c0, 3000, Mix::kafka(1));
    write_events(dir.path(), &stream.lines()[..200]);
    let config = PipelineToml::file("test-cdc", TOPIC, TABLE, 20)
        .catalog_toml(&server.catalog_toml(&server.catalog_uri()))
        .table_keys("create = true")
        .write(dir.path());
    // The table exists (created by floe from the first 200 events).
    let first = floe_run(&config).output().unwrap();
    assert!(
        first.status.success(),
        "{}",
        String::from_utf8_lossy(&first.stderr)
    );

    write_events(dir.path(), &stream.lines());
    let child = floe_run(&config).env("FLOE_LOG", "info").spawn().unwrap();
    let appended = server.python(&format!(
        r#"import time, pyarrow as pa
t = catalog.load_table({TABLE:?})
ids = []
for i in range(8):
    for attempt in range(50):
        try:
            t = catalog.load_table({TABLE:?})
            t.append(pa.Table.from_pylist([{{"id": 1_000_000 + i}}], schema=t.schema().as_arrow()))
            ids.append(1_000_000 + i)
            break
        except Exception as e:
            if "CommitFailed" not in type(e).__name__:
                raise
    time.sleep(0.05)
print(len(ids))"#
    ));
    let output = child.wait_with_output().unwrap();
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(output.status.success(), "floe run failed: {stderr}");
    assert_eq!(appended.trim(), "8", "PyIceberg appended 8 rows");

    let mut expected: BTreeMap<i64, Json> = stream.oracle.clone();
    let columns: Vec<String> = expected
        .values()
        .next()
        .and_then(Json::as_object)
        .map(|row| row.keys().cloned().collect())
        .unwrap();
    for i in 0..8 {
        let id = 1_000_000 + i;
        let mut row = serde_json::Map::new();
        for column in &columns {
            row.insert(column.clone(), Json::Null);
        }
        row.insert("id".into(), json!(id));
        expected.insert(id, Json::Object(row));
    }
    let read = read_oracle(&server, TABLE, &expected);
    let conflicts = stderr.matches("commit conflict; reloading").count();
    println!(
        "floe's commit conflicts with PyIceberg: {conflicts}; snapshots: {}",
        read["snapshots"]
    );
}

#[test]
fn two_floe_writers_on_one_rest_table_apply_every_window_once() {
    let Some(server) = Seaweed::start() else {
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    let stream = generate(0xd0d0, 1500, Mix::file());
    write_events(dir.path(), &stream.lines());
    let config = PipelineToml::file("test-cdc", TOPIC, TABLE, 50)
        .catalog_toml(&server.catalog_toml(&server.catalog_uri()))
        .table_keys("create = true")
        .write(dir.path());
    let first = floe_run(&config).env("FLOE_LOG", "info").spawn().unwrap();
    let second = floe_run(&config).env("FLOE_LOG", "info").spawn().unwrap();
    let mut conflicts = 0;
    for child in [first, second] {
        let output = child.wait_with_output().unwrap();
        let stderr = String::from_utf8_lossy(&output.stderr);
        assert!(output.status.success(), "floe run failed: {stderr}");
        conflicts += stderr.matches("commit conflict; reloading").count();
    }
    let expected: Vec<Json> = stream.oracle_after(1500).values().cloned().collect();
    let read = assert_reads(&server, TABLE, TOPIC, &expected, 1500, "two writers");
    println!(
        "conflicts between the two processes: {conflicts}; snapshots: {}",
        read["snapshots"]
    );
}

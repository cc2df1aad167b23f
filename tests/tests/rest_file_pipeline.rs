//! `floe run` over a file of Debezium events into a REST catalog on S3
//! (SeaweedFS's `weed mini`: its Iceberg REST catalog and S3 server), as
//! `file_pipeline.rs` does on SQLite and a local folder: randomized inserts,
//! updates, deletes, primary-key changes, partition moves, truncates and
//! poison records; the process killed with SIGKILL at random moments and
//! restarted; the file rerun and extended. PyIceberg's RestCatalog and
//! DuckDB (iceberg_scan on S3) must read the oracle. And a bad
//! configuration — wrong URI, credential, warehouse, S3 key, unset
//! variable — stops floe with one message and exit code 2, having written
//! nothing. (A wrong region is not among them: SeaweedFS accepts any.)

mod iceberg_common;
mod pipeline_common;

use std::path::{Path, PathBuf};
use std::thread;
use std::time::{Duration, Instant};

use floe_tests::cdc::{CdcStream, Lcg, Mix, generate};
use floe_tests::config::PipelineToml;
use floe_tests::seaweed::Seaweed;
use pipeline_common::{assert_reads, dead_letters, floe_run, run_to_end, write_events};
use serde_json::Value as Json;

const TOPIC: &str = "dbserver1.shop.accounts";
const TABLE: &str = "shop.accounts";

/// `accounts` partitioned by region, created by floe, in the server's REST catalog.
fn config(dir: &Path, catalog: &str, max_records: usize) -> PathBuf {
    PipelineToml::file("test-cdc", TOPIC, TABLE, max_records)
        .catalog_toml(catalog)
        .table_keys("partition_by = [\"region\"]\ncreate = true")
        .write(dir)
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

fn check(server: &Seaweed, dir: &Path, stream: &CdcStream, upto: usize, context: &str) -> Json {
    let expected: Vec<Json> = stream.oracle_after(upto).values().cloned().collect();
    let read = assert_reads(server, TABLE, TOPIC, &expected, upto, context);
    assert!(
        read["metadata_location"]
            .as_str()
            .unwrap()
            .starts_with("s3://iceberg-tables/"),
        "{context}: the table is on S3: {}",
        read["metadata_location"]
    );
    let equality_deletes = read["files"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|f| f["content"] == 2)
        .count();
    assert_eq!(equality_deletes, 0, "{context}: no equality delete files");
    let dlq: Vec<i64> = dead_letters(dir).into_iter().map(|(o, _, _)| o).collect();
    assert_eq!(
        dlq,
        stream.poison_below(upto),
        "{context}: the DLQ holds each poison record once"
    );
    read
}

#[test]
fn a_file_is_applied_exactly_once_through_rest_and_s3_across_kill_9_reruns_and_growth() {
    let Some(server) = Seaweed::start() else {
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    let stream = generate(0x5eed, 2000, Mix::file());
    let lines = stream.lines();
    let config = config(dir.path(), &server.catalog_toml(&server.catalog_uri()), 40);

    write_events(dir.path(), &lines[..1400]);
    let mut rng = Lcg(7);
    let mut kills = 0;
    for _ in 0..10 {
        if run_and_kill(&config, Duration::from_millis(100 + rng.below(600))) {
            kills += 1;
        }
    }
    let summary = run_to_end(&config);
    println!("killed {kills} times; last run: {summary}");
    assert!(kills >= 3, "floe was killed mid-run: {kills} times");
    let read = check(&server, dir.path(), &stream, 1400, "after kills");
    let snapshots = read["snapshots"].clone();

    run_to_end(&config);
    let again = check(&server, dir.path(), &stream, 1400, "rerun");
    assert_eq!(again["snapshots"], snapshots, "a rerun commits no snapshot");

    write_events(dir.path(), &lines);
    for _ in 0..4 {
        run_and_kill(&config, Duration::from_millis(100 + rng.below(400)));
    }
    run_to_end(&config);
    check(&server, dir.path(), &stream, 2000, "after growth");
}

#[test]
fn a_bad_rest_or_s3_configuration_exits_2_with_one_message_and_writes_nothing() {
    let Some(server) = Seaweed::start() else {
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    let good = server.catalog_toml(&server.catalog_uri());
    let nobody = format!("http://127.0.0.1:{}", floe_tests::free_port());
    write_events(dir.path(), &generate(1, 50, Mix::file()).lines());
    let cases = [
        (
            good.replace(&server.catalog_uri(), &nobody),
            "reading the configuration of",
        ),
        (
            good.replace(
                "credential = \"floetest:floetestsecret\"",
                "credential = \"floetest:wrong\"",
            ),
            "getting an OAuth2 token",
        ),
        (
            good.replace("s3://iceberg-tables", "s3://no-such-bucket"),
            "listing the namespaces of warehouse s3://no-such-bucket",
        ),
        (
            good.replace(
                "\"s3.secret-access-key\" = \"floetestsecret\"",
                "\"s3.secret-access-key\" = \"wrong\"",
            ),
            "the storage of warehouse",
        ),
        (
            good.replace(
                "credential = \"floetest:floetestsecret\"",
                "credential = \"${FLOE_TEST_UNSET_SECRET}\"",
            ),
            "catalog.credential: the environment variable FLOE_TEST_UNSET_SECRET is not set",
        ),
    ];
    for (section, wanted) in cases {
        let config = config(dir.path(), &section, 100);
        let output = floe_run(&config).output().unwrap();
        let stderr = String::from_utf8_lossy(&output.stderr);
        assert_eq!(output.status.code(), Some(2), "{wanted}: {stderr}");
        assert!(stderr.contains(wanted), "wanted `{wanted}` in: {stderr}");
        assert_eq!(stderr.trim().lines().count(), 1, "one message: {stderr}");
        assert!(
            !stderr.contains("floetestsecret"),
            "no secret in the message: {stderr}"
        );
        assert!(
            !dir.path().join("dlq").exists(),
            "{wanted}: nothing written"
        );
    }
    let namespaces = server.python("print([n for n in catalog.list_namespaces()])");
    assert_eq!(namespaces.trim(), "[]", "no namespace was created");
}

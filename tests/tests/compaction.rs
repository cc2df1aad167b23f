//! Compaction through `floe table compact` and inside `floe run`: the
//! table keeps the rows of the oracle (PyIceberg, DuckDB) and its
//! `floe.offsets`, ends with the files a compacted copy has, survives
//! SIGKILL at any point, and stays right while another process compacts
//! the table under a running pipeline.

mod iceberg_common;
mod maintenance_common;
mod pipeline_common;

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;
use std::time::Duration;

use iceberg_common::TestCatalog;
use maintenance_common::{
    TABLE, TOPIC, check, files_on_disk_and_reachable, floe_table, generate_truncating,
    has_snapshot, run_and_kill, table_expire,
};
use pipeline_common::{floe_run, run_to_end, write_config, write_events};
use serde_json::Value as Json;

/// Data and position delete files of the current snapshot, and the data
/// files per partition, as read by PyIceberg.
fn live_files(read: &Json) -> (usize, usize, BTreeMap<String, usize>) {
    let (mut data, mut deletes) = (0, 0);
    let mut partitions = BTreeMap::new();
    for file in read["files"].as_array().unwrap() {
        match file["content"].as_u64().unwrap() {
            0 => {
                data += 1;
                *partitions.entry(file["partition"].to_string()).or_default() += 1;
            }
            _ => deletes += 1,
        }
    }
    (data, deletes, partitions)
}

/// A partitioned table of 60 keys, updated and deleted, 10 records a commit.
fn partitioned_config(dir: &Path, catalog: &TestCatalog, maintenance: &str) -> std::path::PathBuf {
    write_config(
        dir,
        catalog,
        TOPIC,
        TABLE,
        10,
        &format!(
            "partition_by = [\"bucket(4, id)\"]\ncreate = true\n[tables.maintenance]\n{maintenance}"
        ),
    )
}

#[test]
fn floe_table_compact_leaves_the_files_of_a_compacted_copy_and_the_offsets() {
    let dir = tempfile::tempdir().unwrap();
    let catalog = TestCatalog::new(dir.path());
    let (lines, oracle) = generate_truncating(2000, usize::MAX);
    let config = partitioned_config(dir.path(), &catalog, "compact = false");
    write_events(dir.path(), &lines[..1500]);
    run_to_end(&config);
    let before = check(&catalog, &oracle, 1500, "before compaction");
    let (data_before, deletes_before, _) = live_files(&before);
    assert!(
        data_before > 100 && deletes_before > 100,
        "150 commits leave many small files: {data_before} data, {deletes_before} deletes"
    );

    let said = floe_table("compact", &config);
    assert!(said.contains("compacted"), "{said}");
    let after = check(&catalog, &oracle, 1500, "after compaction");
    assert_eq!(after["summary"]["operation"], "replace");
    assert_eq!(
        after["summary"]["floe.offsets"], before["summary"]["floe.offsets"],
        "the offsets are carried forward unchanged"
    );
    assert_eq!(
        after["summary"]["floe.plugins"],
        before["summary"]["floe.plugins"]
    );
    // A compacted copy of these rows: one data file per partition (they
    // are far below the target size), no delete file.
    let (data, deletes, partitions) = live_files(&after);
    assert_eq!(deletes, 0, "every delete file went with its data file");
    assert!(
        partitions.values().all(|&n| n == 1) && (1..=4).contains(&partitions.len()),
        "one data file per partition: {partitions:?}"
    );
    assert_eq!(data, partitions.len());
    let manifests = catalog.python(&format!(
        r#"t = catalog.load_table({TABLE:?})
s = t.current_snapshot()
print(len(s.manifests(t.io)) == int(s.summary["manifests-created"]) + int(s.summary["manifests-kept"]) and int(s.summary["manifests-replaced"]) > 0)"#
    ));
    assert_eq!(
        manifests.trim(),
        "True",
        "the summary counts the snapshot's manifests as the Java library does"
    );

    // Nothing is due again; a restart rebuilds its index from the compacted
    // table and goes on from its offsets.
    let said = floe_table("compact", &config);
    assert!(said.contains("nothing to compact"), "{said}");
    write_events(dir.path(), &lines);
    run_to_end(&config);
    check(&catalog, &oracle, 2000, "after a restart on a longer file");
}

#[test]
fn the_pipeline_compacts_between_commits_and_keeps_the_oracle() {
    let dir = tempfile::tempdir().unwrap();
    let catalog = TestCatalog::new(dir.path());
    let (lines, oracle) = generate_truncating(3000, 1100);
    // Compaction after every commit once a partition has 3 small files:
    // every update of a rewritten row goes through the remapped index.
    let config = write_config(
        dir.path(),
        &catalog,
        TOPIC,
        TABLE,
        5,
        r#"partition_by = ["bucket(4, id)"]
create = true
properties = { "floe.expire.max-snapshots" = "10", "floe.expire.interval-ms" = "0", "floe.orphans.min-age-ms" = "0" }
[tables.maintenance]
compact_interval_ms = 0
compact_min_input_files = 3"#,
    );
    write_events(dir.path(), &lines[..2000]);
    let stderr = run_to_end(&config);
    assert!(
        !stderr.contains("rebuilding"),
        "the index was remapped, never rebuilt: {stderr}"
    );
    let read = check(&catalog, &oracle, 2000, "first run");
    let (data, deletes, _) = live_files(&read);
    assert!(
        data <= 4 * 4 && deletes <= 4 * 4,
        "400 commits leave few files: {data} data, {deletes} deletes"
    );
    write_events(dir.path(), &lines);
    run_to_end(&config);
    check(
        &catalog,
        &oracle,
        3000,
        "after a restart, across a truncate",
    );
    table_expire(&config);
    let (on_disk, reachable) = files_on_disk_and_reachable(&catalog, dir.path());
    assert_eq!(
        on_disk, reachable,
        "after a sweep, the files of rewritten and expired snapshots are gone"
    );
}

/// Starts `floe table compact` and SIGKILLs it after `after`, unless it
/// ended first.
fn compact_and_kill(config: &Path, after: Duration) -> bool {
    let mut child = std::process::Command::new(floe_tests::floe_bin())
        .args(["table", "compact", "--config"])
        .arg(config)
        .env("FLOE_LOG", "warn")
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .spawn()
        .unwrap();
    let started = std::time::Instant::now();
    while started.elapsed() < after {
        if child.try_wait().unwrap().is_some() {
            return false;
        }
        std::thread::sleep(Duration::from_millis(1));
    }
    child.kill().unwrap(); // SIGKILL on Unix
    child.wait().unwrap();
    true
}

#[test]
fn kill_9_during_compaction_leaves_the_oracle_and_no_stray_file() {
    let dir = tempfile::tempdir().unwrap();
    let catalog = TestCatalog::new(dir.path());
    let (lines, oracle) = generate_truncating(2400, 900);
    // Every commit compacts (two small files are enough) and expires: a
    // kill lands inside a compaction or an expiry most of the time.
    let config = write_config(
        dir.path(),
        &catalog,
        TOPIC,
        TABLE,
        5,
        r#"partition_by = ["bucket(2, id)"]
create = true
properties = { "write.metadata.previous-versions-max" = "3", "floe.expire.max-snapshots" = "5", "floe.expire.interval-ms" = "0", "floe.orphans.min-age-ms" = "0", "floe.orphans.interval-ms" = "0" }
[tables.maintenance]
compact_interval_ms = 0
compact_min_input_files = 2"#,
    );
    write_events(dir.path(), &lines);
    let mut seed = 0x9e37_79b9_7f4a_7c15u64;
    let (mut kills, mut compactions_killed) = (0, 0);
    for round in 0..30 {
        seed ^= seed << 13;
        seed ^= seed >> 7;
        seed ^= seed << 17;
        let killed = if round % 3 == 2 && has_snapshot(&catalog) {
            let killed = compact_and_kill(&config, Duration::from_millis(5 + seed % 120));
            compactions_killed += usize::from(killed);
            killed
        } else {
            run_and_kill(&config, Duration::from_millis(40 + seed % 400))
        };
        kills += usize::from(killed);
        // Whatever the kill interrupted, readers see the rows of the offset
        // the current snapshot names, and no file is missing.
        if has_snapshot(&catalog) {
            let read = catalog.read(TABLE);
            let offsets: Json =
                serde_json::from_str(read["summary"]["floe.offsets"].as_str().unwrap()).unwrap();
            let next = offsets[TOPIC]["0"].as_u64().unwrap() as usize;
            let expected: Vec<Json> = oracle[next - 1].values().cloned().collect();
            assert_eq!(
                pipeline_common::sorted(&read["pyiceberg"]),
                expected,
                "round {round}: PyIceberg at offset {next}"
            );
            assert_eq!(
                pipeline_common::sorted(&read["duckdb"]),
                expected,
                "round {round}: DuckDB at offset {next}"
            );
        }
    }
    assert!(kills >= 20, "the runs were killed {kills} times");
    eprintln!("{kills} kills, {compactions_killed} of `floe table compact`");
    run_to_end(&config);
    let read = check(&catalog, &oracle, 2400, "after the kills");
    let replaced = catalog.python(&format!(
        "t = catalog.load_table({TABLE:?})\nprint(sum(1 for s in t.metadata.snapshots if s.summary.operation.value == 'replace'))"
    ));
    assert!(
        replaced.trim().parse::<usize>().unwrap() > 0 || read["summary"]["operation"] == "replace",
        "compactions committed"
    );
    let said = table_expire(&config);
    assert!(said.contains("orphan files deleted"), "{said}");
    let (on_disk, reachable) = files_on_disk_and_reachable(&catalog, dir.path());
    assert_eq!(
        on_disk, reachable,
        "after a sweep, every file is reachable and every reachable file is there"
    );
}

#[test]
fn another_process_compacting_under_a_running_pipeline_loses_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let catalog = TestCatalog::new(dir.path());
    // Updates to the same 60 keys, 5 records a commit.
    let (lines, oracle) = generate_truncating(4000, usize::MAX);
    let config = write_config(
        dir.path(),
        &catalog,
        TOPIC,
        TABLE,
        5,
        "partition_by = [\"bucket(2, id)\"]\ncreate = true\n[tables.maintenance]\ncompact = false",
    );
    // The second process's configuration: the same table, compacted as
    // soon as a partition has two small files.
    let compactor = dir.path().join("compact.toml");
    std::fs::write(
        &compactor,
        std::fs::read_to_string(&config)
            .unwrap()
            .replace("compact = false", "compact_min_input_files = 2"),
    )
    .unwrap();
    write_events(dir.path(), &lines[..100]);
    run_to_end(&config);
    write_events(dir.path(), &lines);
    let pipeline = floe_run(&config).spawn().unwrap();
    let mut compactions = 0;
    let mut attempts = 0;
    let mut pipeline = pipeline;
    while pipeline.try_wait().unwrap().is_none() {
        let output = std::process::Command::new(floe_tests::floe_bin())
            .args(["table", "compact", "--config"])
            .arg(&compactor)
            .env("FLOE_LOG", "warn")
            .output()
            .unwrap();
        attempts += 1;
        let stdout = String::from_utf8_lossy(&output.stdout);
        if output.status.success() && stdout.contains(" compacted ") {
            compactions += 1;
        }
    }
    let output = pipeline.wait_with_output().unwrap();
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(output.status.success(), "floe run failed: {stderr}");
    eprintln!("{compactions} of {attempts} compactions committed while the pipeline ran");
    assert!(
        compactions > 0,
        "some compaction landed while the pipeline ran"
    );
    // Whether the pipeline lost a swap to a compaction and planned again
    // depends on when the compaction landed (after its last commit, no).
    eprintln!(
        "the pipeline re-planned after a lost swap: {}",
        stderr.contains("commit conflict")
    );
    let read = check(&catalog, &oracle, 4000, "after concurrent compactions");
    // No key twice (nothing applied twice), none missing (nothing lost).
    let ids: BTreeSet<i64> = read["pyiceberg"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["id"].as_i64().unwrap())
        .collect();
    assert_eq!(ids.len(), read["pyiceberg"].as_array().unwrap().len());
}

//! Table maintenance through `floe run`: hundreds of commits with small
//! limits leave a table with few metadata files and snapshots, no file that
//! no retained snapshot reaches, the rows of an oracle (PyIceberg, DuckDB),
//! and offsets a restart resumes from; an expiry that committed but never
//! deleted its files leaves a table that still reads right; orphan files
//! are deleted by `floe table expire` and by the pipeline once older than
//! their margin, and no other file is.

mod iceberg_common;
mod maintenance_common;
mod pipeline_common;

use std::collections::BTreeSet;
use std::path::Path;

use floe::commit::catalog::parse_table_ident;
use floe::maintain::MaintenancePolicy;
use floe::maintain::expire::{commit_expiry, now_ms, snapshots_to_expire};
use iceberg_common::TestCatalog;
use maintenance_common::{
    TABLE, TOPIC, check, files_on_disk_and_reachable, floe_table, generate, generate_truncating,
    has_snapshot, run_and_kill, spark_tools, table_expire,
};
use pipeline_common::{run_to_end, write_config, write_events};
use serde_json::Value as Json;

fn metadata_files(dir: &Path) -> usize {
    std::fs::read_dir(dir.join("warehouse/shop/items/metadata"))
        .unwrap()
        .filter(|e| {
            e.as_ref()
                .unwrap()
                .file_name()
                .to_string_lossy()
                .ends_with(".metadata.json")
        })
        .count()
}

#[test]
fn hundreds_of_commits_keep_few_files_and_the_rows_of_the_oracle() {
    let dir = tempfile::tempdir().unwrap();
    let catalog = TestCatalog::new(dir.path());
    let (lines, oracle) = generate(3000);
    let config = write_config(
        dir.path(),
        &catalog,
        TOPIC,
        TABLE,
        10,
        r#"create = true
properties = { "write.metadata.previous-versions-max" = "5", "floe.expire.max-snapshots" = "10", "floe.expire.interval-ms" = "0" }"#,
    );
    write_events(dir.path(), &lines[..2000]);
    run_to_end(&config);
    for (upto, context) in [
        (2000, "first run"),
        (3000, "after a restart on a longer file"),
    ] {
        if upto == 3000 {
            write_events(dir.path(), &lines);
            run_to_end(&config);
        }
        let read = check(&catalog, &oracle, upto, context);
        assert_eq!(read["snapshots"], 10, "{context}: the count limit holds");
        assert!(
            metadata_files(dir.path()) <= 6,
            "{context}: at most previous-versions-max + 1 metadata files, found {}",
            metadata_files(dir.path())
        );
        let (on_disk, reachable) = files_on_disk_and_reachable(&catalog, dir.path());
        let orphans: Vec<_> = on_disk.difference(&reachable).collect();
        let missing: Vec<_> = reachable.difference(&on_disk).collect();
        assert!(
            orphans.is_empty(),
            "{context}: files no retained snapshot reaches: {orphans:?}"
        );
        assert!(
            missing.is_empty(),
            "{context}: files reached but deleted: {missing:?}"
        );
    }
    // A rerun on the same file commits nothing and changes nothing.
    run_to_end(&config);
    check(&catalog, &oracle, 3000, "rerun");
}

/// Commits an expiry of every snapshot but the current one, and deletes
/// nothing: what a crash right after expiry's commit leaves. Returns how
/// many snapshots expired and how many the table had.
fn commit_expiry_alone(catalog: &TestCatalog) -> (usize, usize) {
    let runtime = tokio::runtime::Runtime::new().unwrap();
    runtime.block_on(async {
        let sql = catalog.open().await;
        let table = sql
            .load_table(&parse_table_ident(TABLE).unwrap())
            .await
            .unwrap();
        let policy = MaintenancePolicy {
            max_snapshot_age_ms: 0,
            ..MaintenancePolicy::from_properties(table.metadata.properties())
        };
        let ids = snapshots_to_expire(&table.metadata, &policy, "test-cdc", now_ms());
        commit_expiry(&sql.into(), &table, &ids).await.unwrap();
        (ids.len(), table.metadata.snapshots().len())
    })
}

#[test]
fn an_expiry_whose_deletions_never_ran_leaves_a_readable_table() {
    let dir = tempfile::tempdir().unwrap();
    let catalog = TestCatalog::new(dir.path());
    let (lines, oracle) = generate(1600);
    // floe's defaults: nothing is an hour old, fewer than 500 snapshots.
    let config = write_config(dir.path(), &catalog, TOPIC, TABLE, 10, "create = true");
    write_events(dir.path(), &lines[..1000]);
    run_to_end(&config);
    let before = check(&catalog, &oracle, 1000, "before expiry");
    assert!(
        before["snapshots"].as_u64().unwrap() >= 100,
        "nothing expired by default: {}",
        before["snapshots"]
    );
    let (files_before, _) = files_on_disk_and_reachable(&catalog, dir.path());

    // The expiry's commit alone: what a crash right after it leaves.
    let (expired, had) = commit_expiry_alone(&catalog);
    assert_eq!(expired + 1, had, "all but the current one");
    let (files_after, reachable) = files_on_disk_and_reachable(&catalog, dir.path());
    let deleted: Vec<_> = files_before.difference(&files_after).collect();
    assert!(
        deleted.len() <= 1 && deleted.iter().all(|f| f.ends_with(".metadata.json")),
        "only the metadata file that fell off the log was deleted: {deleted:?}"
    );
    assert!(
        reachable.len() < files_after.len(),
        "the expired snapshots' files are orphans now"
    );
    let after = check(
        &catalog,
        &oracle,
        1000,
        "expiry committed, files not deleted",
    );
    assert_eq!(after["snapshots"], 1);

    // floe goes on from the right offsets, across the truncate at line 1399.
    write_events(dir.path(), &lines);
    run_to_end(&config);
    check(&catalog, &oracle, 1600, "after the restart");
}

/// Sets the modification time of every file under `folder` to `ago` ago.
fn age_files(folder: &Path, ago: std::time::Duration) {
    for entry in std::fs::read_dir(folder).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() {
            age_files(&path, ago);
        } else {
            let file = std::fs::File::options().write(true).open(&path).unwrap();
            file.set_modified(std::time::SystemTime::now() - ago)
                .unwrap();
        }
    }
}

#[test]
fn orphans_of_lost_commits_are_deleted_once_older_than_the_margin() {
    let dir = tempfile::tempdir().unwrap();
    let catalog = TestCatalog::new(dir.path());
    let (lines, oracle) = generate(1600);
    let config = write_config(
        dir.path(),
        &catalog,
        TOPIC,
        TABLE,
        10,
        r#"create = true
properties = { "floe.orphans.min-age-ms" = "3600000" }"#,
    );
    write_events(dir.path(), &lines[..1000]);
    run_to_end(&config);
    // Orphans as a crash leaves them: an expiry committed whose deletions
    // never ran, and a data file of a commit that never landed.
    commit_expiry_alone(&catalog);
    let table_dir = dir.path().join("warehouse/shop/items");
    let lost = table_dir.join("data/00000-lost-commit.parquet");
    std::fs::write(&lost, b"PAR1 a file no commit landed").unwrap();
    let (on_disk, reachable) = files_on_disk_and_reachable(&catalog, dir.path());
    let orphans: BTreeSet<String> = on_disk.difference(&reachable).cloned().collect();
    assert!(
        orphans.len() > 10 && orphans.contains(&lost.display().to_string()),
        "the lost commit's file and the expired snapshots' files are orphans: {}",
        orphans.len()
    );

    // Younger than the margin: kept, they may be a commit in flight.
    let said = table_expire(&config);
    assert!(said.contains(", 0 orphan files deleted"), "{said}");
    let (still, _) = files_on_disk_and_reachable(&catalog, dir.path());
    assert_eq!(still, on_disk, "nothing younger than the margin is deleted");

    // Two hours later: exactly the orphans go, every reachable file stays.
    age_files(&table_dir, std::time::Duration::from_secs(7200));
    let said = table_expire(&config);
    assert!(
        said.contains(&format!(", {} orphan files deleted", orphans.len())),
        "{said}"
    );
    let (on_disk, reachable) = files_on_disk_and_reachable(&catalog, dir.path());
    assert_eq!(
        on_disk, reachable,
        "no orphan left, no reachable file deleted"
    );
    check(&catalog, &oracle, 1000, "after the orphans were deleted");

    // The pipeline sweeps too: an old orphan is gone after its next run.
    std::fs::write(&lost, b"PAR1 another lost commit").unwrap();
    age_files(&table_dir, std::time::Duration::from_secs(7200));
    write_events(dir.path(), &lines);
    run_to_end(&config);
    assert!(!lost.exists(), "the pipeline deleted the old orphan");
    let (on_disk, reachable) = files_on_disk_and_reachable(&catalog, dir.path());
    assert!(
        on_disk.is_superset(&reachable),
        "no reachable file deleted: {:?}",
        reachable.difference(&on_disk).collect::<Vec<_>>()
    );
    check(&catalog, &oracle, 1600, "after the pipeline's sweep");
}

/// The current snapshot's manifests, read by PyIceberg: `(count, entries
/// with status EXISTING, its summary's manifests-created + manifests-kept,
/// manifests-replaced over the retained snapshots)`.
fn current_manifests(catalog: &TestCatalog) -> (u64, u64, u64, u64) {
    let code = format!(
        r#"import json
t = catalog.load_table({TABLE:?})
s = t.current_snapshot()
ms = s.manifests(t.io)
existing = sum(1 for m in ms for e in m.fetch_manifest_entry(t.io, discard_deleted=False) if e.status.name == "EXISTING")
summed = int(s.summary["manifests-created"]) + int(s.summary["manifests-kept"])
replaced = sum(int(x.summary["manifests-replaced"]) for x in t.metadata.snapshots)
print(json.dumps([len(ms), existing, summed, replaced]))"#
    );
    serde_json::from_str(&catalog.python(&code)).unwrap()
}

#[test]
fn hundreds_of_commits_keep_the_manifests_of_a_snapshot_bounded() {
    let dir = tempfile::tempdir().unwrap();
    let catalog = TestCatalog::new(dir.path());
    // No truncate: every manifest stays in use.
    let (lines, oracle) = generate_truncating(2400, usize::MAX);
    // floe's defaults: a group is merged once its newest bin holds 100
    // manifests; each commit adds a data and a delete manifest.
    let config = write_config(dir.path(), &catalog, TOPIC, TABLE, 5, "create = true");
    write_events(dir.path(), &lines[..1600]);
    run_to_end(&config);
    let read = check(&catalog, &oracle, 1600, "first run");
    assert!(
        read["snapshots"].as_u64().unwrap() >= 300,
        "{}",
        read["snapshots"]
    );
    let (manifests, existing, summed, _) = current_manifests(&catalog);
    assert!(
        manifests <= 2 * 100 + 2,
        "over 300 commits, at most a bin of 100 per group: {manifests} manifests"
    );
    assert!(
        existing > 0,
        "merged manifests carry their entries as EXISTING"
    );
    assert_eq!(
        summed, manifests,
        "the summary's manifests-created + manifests-kept count the snapshot's manifests"
    );
    // A restart rebuilds the key index from merged manifests and goes on.
    write_events(dir.path(), &lines);
    run_to_end(&config);
    check(&catalog, &oracle, 2400, "after a restart");
    let (manifests, _, _, replaced) = current_manifests(&catalog);
    assert!(manifests <= 2 * 100 + 2, "{manifests} manifests");
    assert!(
        replaced > 0,
        "some commit merged manifests (manifests-replaced)"
    );
}

#[test]
fn kill_9_during_expiry_merging_and_orphan_sweeps_leaves_the_oracle_and_no_stray_file() {
    let dir = tempfile::tempdir().unwrap();
    let catalog = TestCatalog::new(dir.path());
    let (lines, oracle) = generate(2400);
    // Every commit trims metadata, expires, merges and sweeps: a kill lands
    // inside one of them most of the time.
    let config = write_config(
        dir.path(),
        &catalog,
        TOPIC,
        TABLE,
        5,
        r#"create = true
properties = { "write.metadata.previous-versions-max" = "3", "floe.expire.max-snapshots" = "5", "floe.expire.interval-ms" = "0", "commit.manifest.min-count-to-merge" = "4", "floe.orphans.min-age-ms" = "0", "floe.orphans.interval-ms" = "0" }"#,
    );
    write_events(dir.path(), &lines);
    let mut seed = 0x2545_f491_4f6c_dd1du64;
    let mut kills = 0;
    for round in 0..24 {
        seed ^= seed << 13;
        seed ^= seed >> 7;
        seed ^= seed << 17;
        if run_and_kill(&config, std::time::Duration::from_millis(40 + seed % 400)) {
            kills += 1;
        }
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
    run_to_end(&config);
    check(&catalog, &oracle, 2400, "after the kills");
    let said = table_expire(&config);
    assert!(said.contains("orphan files deleted"), "{said}");
    let (on_disk, reachable) = files_on_disk_and_reachable(&catalog, dir.path());
    assert_eq!(
        on_disk, reachable,
        "after a sweep, every file is reachable and every reachable file is there"
    );
}

#[test]
fn spark_reads_a_compacted_merged_and_expired_table_as_pyiceberg_does() {
    let Some((python, read)) = spark_tools() else {
        assert!(
            std::env::var("FLOE_TEST_SPARK").as_deref() != Ok("1"),
            "FLOE_TEST_SPARK=1 but Spark's tools are missing (bash ../shared/tools/spark/setup.sh)"
        );
        eprintln!(
            "SKIPPED spark_reads_a_compacted_merged_and_expired_table_as_pyiceberg_does: Spark is not installed (bash ../shared/tools/spark/setup.sh)"
        );
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    let catalog = TestCatalog::new(dir.path());
    let (lines, oracle) = generate_truncating(1500, usize::MAX);
    let config = write_config(
        dir.path(),
        &catalog,
        TOPIC,
        TABLE,
        5,
        r#"create = true
properties = { "commit.manifest.min-count-to-merge" = "10", "floe.expire.max-snapshots" = "10", "floe.expire.interval-ms" = "0", "write.metadata.previous-versions-max" = "5" }
[tables.maintenance]
compact = false"#,
    );
    write_events(dir.path(), &lines);
    run_to_end(&config);
    // Compacted on demand, then expired: Spark reads a replace snapshot
    // whose rewritten manifests carry DELETED and EXISTING entries.
    let before = check(&catalog, &oracle, 1500, "before compaction");
    let said = floe_table("compact", &config);
    assert!(said.contains("compacted"), "{said}");
    let said = table_expire(&config);
    assert!(said.contains("snapshots expired"), "{said}");
    let read_back = check(&catalog, &oracle, 1500, "PyIceberg and DuckDB");
    assert_eq!(
        read_back["snapshots"], 10,
        "expired down to the count limit"
    );
    assert_eq!(read_back["summary"]["operation"], "replace");
    assert_eq!(
        read_back["summary"]["floe.offsets"], before["summary"]["floe.offsets"],
        "compaction carries the offsets forward"
    );
    let (_, _, _, replaced) = current_manifests(&catalog);
    assert!(replaced > 0, "the retained snapshots include merges");

    let metadata = catalog.python(&format!(
        "print(catalog.load_table({TABLE:?}).metadata_location)"
    ));
    let dump = dir.path().join("spark.jsonl");
    let output = std::process::Command::new(&python)
        .arg(&read)
        .arg(metadata.trim())
        .args(["--key", "id", "--dump"])
        .arg(&dump)
        .output()
        .unwrap();
    assert!(
        output.status.success(),
        "Spark failed to read the table:\n{}",
        String::from_utf8_lossy(&output.stderr)
    );
    let rows: Vec<Json> = std::fs::read_to_string(&dump)
        .unwrap()
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    let expected: Vec<Json> = oracle[1499].values().cloned().collect();
    assert_eq!(
        pipeline_common::sorted(&Json::Array(rows)),
        expected,
        "Spark reads the oracle"
    );
}

//! Table maintenance through `floe run`: hundreds of commits with small
//! limits leave a table with few metadata files and snapshots, no file that
//! no retained snapshot reaches, the rows of an oracle (PyIceberg, DuckDB),
//! and offsets a restart resumes from; an expiry that committed but never
//! deleted its files leaves a table that still reads right.

mod iceberg_common;
mod pipeline_common;

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;

use floe::commit::catalog::parse_table_ident;
use floe::maintain::MaintenancePolicy;
use floe::maintain::expire::{commit_expiry, now_ms, snapshots_to_expire};
use floe_tests::cdc::Lcg;
use iceberg_common::TestCatalog;
use pipeline_common::{assert_reads, run_to_end, write_config, write_events};
use serde_json::{Value as Json, json};

const TOPIC: &str = "dbserver1.shop.items";
const TABLE: &str = "shop.items";

/// Inserts, updates and deletes of ids 1..=60, a truncate every 700 lines
/// (so that whole manifests fall out of use); after each line, the table an
/// uninterrupted run produces.
fn generate(count: usize) -> (Vec<String>, Vec<BTreeMap<i64, Json>>) {
    let mut rng = Lcg(0x9e37_79b9_7f4a_7c15);
    let mut next = move |n: u64| rng.below(n);
    let mut live: BTreeMap<i64, Json> = BTreeMap::new();
    let (mut lines, mut oracle) = (Vec::new(), Vec::new());
    for i in 0..count {
        let id = next(60) as i64 + 1;
        let source = json!({"ts_ms": 1_700_000_000_000i64});
        let (key, value) = if i % 700 == 699 {
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
fn files_on_disk_and_reachable(
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
fn check(
    catalog: &TestCatalog,
    oracle: &[BTreeMap<i64, Json>],
    upto: usize,
    context: &str,
) -> Json {
    let expected: Vec<Json> = oracle[upto - 1].values().cloned().collect();
    assert_reads(catalog, TABLE, TOPIC, &expected, upto, context)
}

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
        assert_eq!(
            ids.len() + 1,
            table.metadata.snapshots().len(),
            "all but the current one"
        );
        commit_expiry(&sql, &table, &ids).await.unwrap();
    });
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

//! Position deletes scoped to one data file each (the Java library's
//! `write.delete.granularity = file`): `floe run` writes a partition in
//! several windows (several data files), then updates, deletes and moves rows
//! of all of them in one window and again in the next. Every delete file,
//! read from the manifests by PyIceberg, must name exactly one data file: its
//! `file_path` lower and upper bounds both that file's path, its rows all
//! that path, the file live in the snapshot and in the same partition. The
//! table, read by PyIceberg and DuckDB, must equal the oracle.

mod iceberg_common;
mod pipeline_common;

use std::collections::{BTreeMap, BTreeSet};

use iceberg_common::TestCatalog;
use pipeline_common::{read_oracle, run_to_end, write_config, write_events};
use serde_json::{Value as Json, json};

const TOPIC: &str = "dbserver1.shop.orders";
const TABLE: &str = "shop.orders";
/// Records per commit window: each window of inserts writes one data file
/// per partition.
const WINDOW: usize = 20;

fn row(id: i64, version: u32, region: &str) -> Json {
    json!({"id": id, "name": format!("order-{id}-v{version}"), "region": region})
}

fn event(op: &str, before: Option<&Json>, after: Option<&Json>, id: i64) -> String {
    let value = json!({"op": op, "before": before, "after": after, "source": {"ts_ms": 1_700_000_000_000i64}});
    json!({"key": {"id": id}, "value": value}).to_string()
}

/// Appends an insert or update of `after` to `lines` and applies it to `live`.
fn upsert(lines: &mut Vec<String>, live: &mut BTreeMap<i64, Json>, after: Json) {
    let id = after["id"].as_i64().unwrap();
    let before = live.insert(id, after.clone());
    let op = if before.is_some() { "u" } else { "c" };
    lines.push(event(op, before.as_ref(), Some(&after), id));
}

/// The events and the table they leave.
fn events() -> (Vec<String>, BTreeMap<i64, Json>) {
    let mut live: BTreeMap<i64, Json> = BTreeMap::new();
    let mut lines = Vec::new();
    // Five windows of inserts: ids 1..=100, three in four in "eu", so "eu"
    // has five data files (ids 1-20, 21-40, …) and "us" five more.
    for id in 1..=100 {
        let region = if id % 4 == 0 { "us" } else { "eu" };
        upsert(&mut lines, &mut live, row(id, 0, region));
    }
    // One window touching every one of those files: updates of two rows of
    // each "eu" file, two deletes, a move from "eu" to "us", updates of two
    // "us" rows, and new rows.
    for id in [3, 7, 23, 27, 43, 47, 63, 67, 83, 87, 4, 24] {
        let region = live[&id]["region"].as_str().unwrap().to_string();
        upsert(&mut lines, &mut live, row(id, 1, &region));
    }
    for id in [41, 61] {
        let before = live.remove(&id).unwrap();
        lines.push(event("d", Some(&before), None, id));
    }
    upsert(&mut lines, &mut live, row(5, 1, "us"));
    for id in 101..=105 {
        upsert(&mut lines, &mut live, row(id, 0, "eu"));
    }
    assert_eq!(lines.len(), 6 * WINDOW, "six full windows");
    // A last window: a row the previous window rewrote, and an old one.
    upsert(&mut lines, &mut live, row(3, 2, "eu"));
    upsert(&mut lines, &mut live, row(9, 1, "eu"));
    (lines, live)
}

#[test]
fn each_delete_file_names_exactly_one_data_file_in_its_bounds() {
    let dir = tempfile::tempdir().unwrap();
    let catalog = TestCatalog::new(dir.path());
    let (lines, oracle) = events();
    write_events(dir.path(), &lines);
    let config = write_config(
        dir.path(),
        &catalog,
        TOPIC,
        TABLE,
        WINDOW,
        "partition_by = [\"region\"]\ncreate = true",
    );
    run_to_end(&config);

    let read = read_oracle(&catalog, TABLE, &oracle);

    let files = read["files"].as_array().unwrap();
    let data: BTreeMap<&str, &Json> = files
        .iter()
        .filter(|f| f["content"] == 0)
        .map(|f| (f["path"].as_str().unwrap(), &f["partition"]))
        .collect();
    let deletes: Vec<&Json> = files.iter().filter(|f| f["content"] == 1).collect();
    assert_eq!(
        files.len(),
        data.len() + deletes.len(),
        "no equality deletes: {files:?}"
    );
    let mut targets = Vec::new();
    for delete in &deletes {
        let [lower, upper] = [0, 1].map(|i| delete["file_path_bounds"][i].as_str());
        let target = lower.unwrap_or_else(|| panic!("a file_path lower bound: {delete}"));
        assert_eq!(upper, Some(target), "file_path bounds are equal: {delete}");
        assert_eq!(
            delete["targets"],
            json!([target]),
            "its rows all delete from that file: {delete}"
        );
        let partition = data
            .get(target)
            .unwrap_or_else(|| panic!("it names a live data file: {delete}"));
        assert_eq!(
            &delete["partition"], *partition,
            "it lives in its data file's partition: {delete}"
        );
        if !delete["referenced_data_file"].is_null() {
            assert_eq!(delete["referenced_data_file"], target, "{delete}");
        }
        targets.push(target);
    }
    // The sixth window wrote one delete file for each of the five "eu" and
    // two "us" data files it touched, the seventh one for each of two.
    assert_eq!(
        deletes.len(),
        9,
        "one delete file per data file per commit: {deletes:?}"
    );
    let eu_targets: BTreeSet<&str> = targets
        .iter()
        .copied()
        .filter(|t| data[t] == &json!(["eu"]))
        .collect();
    assert_eq!(
        eu_targets.len(),
        6,
        "the five first \"eu\" files and the sixth window's: {eu_targets:?}"
    );
}

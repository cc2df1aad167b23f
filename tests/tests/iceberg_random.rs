//! Randomized inserts, updates, deletes, primary-key changes, partition moves
//! and truncates over many commits, reopening the writer (index rebuilt from
//! the table) before every commit: PyIceberg and DuckDB read exactly the
//! oracle, and no equality delete file is ever written.

mod iceberg_common;

use std::collections::{BTreeMap, BTreeSet};

use floe::change::Op;
use floe::commit::Offsets;
use floe::commit::catalog::parse_table_ident;
use floe::table::{TableOptions, TableWriter};
use iceberg_common::*;

struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }
    fn below(&mut self, n: u64) -> u64 {
        self.next() % n
    }
}

const REGIONS: [&str; 3] = ["eu", "us", "ap"];
const DAY: i64 = 86_400_000_000;

fn random_item(rng: &mut Rng, id: i64) -> Item {
    Item {
        id,
        name: (rng.below(5) != 0).then(|| format!("name-{}", rng.below(1000))),
        region: REGIONS[rng.below(3) as usize].to_string(),
        ts: 1_700_000_000_000_000 + rng.below(3) as i64 * DAY + rng.below(1000) as i64,
        amount: (rng.below(4) != 0).then(|| rng.below(100_000) as i128 - 50_000),
        qty: (rng.below(3) != 0).then(|| rng.below(100) as i32),
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn random_changes_over_many_commits_match_the_oracle() {
    let dir = tempfile::tempdir().unwrap();
    let catalog = TestCatalog::new(dir.path());
    let table = "shop.items";
    let ident = parse_table_ident(table).unwrap();
    let mut options = TableOptions::new("pipeline-1");
    options.create = true;
    options.partition = vec!["region".into(), "day(ts)".into()];
    let plugins = BTreeMap::from([("mask".to_string(), "ab12".to_string())]);

    let mut rng = Rng(0x9e37_79b9_7f4a_7c15);
    let mut oracle: BTreeMap<i64, Item> = BTreeMap::new();
    let mut offset = 0i64;
    let commits = 12;
    let mut truncates = 0;
    let mut pk_changes = 0;
    let mut moves = 0;
    for commit in 0..commits {
        let mut writer = TableWriter::open(catalog.open().await, ident.clone(), options.clone())
            .await
            .unwrap();
        if commit > 0 {
            assert_eq!(
                writer.offsets().get("items", 0),
                Some(offset),
                "commit {commit}"
            );
            assert_eq!(
                writer.index_len(),
                oracle.len(),
                "index rebuilt at commit {commit}"
            );
        }
        let mut changes = Vec::new();
        if commit == 6 && truncates == 0 {
            changes.push(change(Op::Truncate, table, None, None, "items", offset));
            offset += 1;
            oracle.clear();
            truncates += 1;
        }
        let batch = 40 + rng.below(160);
        for _ in 0..batch {
            let roll = rng.below(1000);
            let live: Vec<i64> = oracle.keys().copied().collect();
            let existing = |rng: &mut Rng| {
                live.get(rng.below(live.len().max(1) as u64) as usize)
                    .copied()
            };
            if roll < 3 && commit > 2 {
                changes.push(change(Op::Truncate, table, None, None, "items", offset));
                oracle.clear();
                truncates += 1;
            } else if roll < 400 {
                let id = 1 + rng.below(80) as i64;
                let item = random_item(&mut rng, id);
                let op = if rng.below(4) == 0 {
                    Op::Read
                } else {
                    Op::Insert
                };
                changes.push(change(op, table, None, Some(item.image()), "items", offset));
                oracle.insert(id, item);
            } else if roll < 650 {
                let Some(id) = existing(&mut rng) else {
                    continue;
                };
                let mut item = oracle[&id].clone();
                if rng.below(3) == 0 {
                    let region = REGIONS[rng.below(3) as usize].to_string();
                    if region != item.region {
                        moves += 1;
                    }
                    item.region = region;
                }
                item.qty = Some(rng.below(1000) as i32);
                item.name = Some(format!("upd-{}", rng.below(1000)));
                let before = oracle[&id].image();
                changes.push(change(
                    Op::Update,
                    table,
                    Some(before),
                    Some(item.image()),
                    "items",
                    offset,
                ));
                oracle.insert(id, item);
            } else if roll < 850 {
                // Deletes, some of unknown keys.
                let id = if rng.below(4) == 0 {
                    1000 + rng.below(50) as i64
                } else {
                    existing(&mut rng).unwrap_or(1)
                };
                changes.push(change(
                    Op::Delete,
                    table,
                    Some(key_image(id)),
                    None,
                    "items",
                    offset,
                ));
                oracle.remove(&id);
            } else if roll < 950 {
                // Primary-key change: delete(old) + insert(new).
                let Some(old) = existing(&mut rng) else {
                    continue;
                };
                let new = 100 + rng.below(80) as i64;
                let mut item = oracle[&old].clone();
                item.id = new;
                changes.push(change(
                    Op::Delete,
                    table,
                    Some(oracle[&old].image()),
                    None,
                    "items",
                    offset,
                ));
                offset += 1;
                changes.push(change(
                    Op::Insert,
                    table,
                    None,
                    Some(item.image()),
                    "items",
                    offset,
                ));
                oracle.remove(&old);
                oracle.insert(new, item);
                pk_changes += 1;
            } else {
                // Primary-key change as one update with before and after keys.
                let Some(old) = existing(&mut rng) else {
                    continue;
                };
                let new = 200 + rng.below(80) as i64;
                let mut item = oracle[&old].clone();
                item.id = new;
                changes.push(change(
                    Op::Update,
                    table,
                    Some(oracle[&old].image()),
                    Some(item.image()),
                    "items",
                    offset,
                ));
                oracle.remove(&old);
                oracle.insert(new, item);
                pk_changes += 1;
            }
            offset += 1;
        }
        let rejected = writer.apply(changes);
        assert!(rejected.is_empty(), "rejected: {rejected:?}");
        let report = writer
            .commit(&Offsets::new(), &plugins)
            .await
            .unwrap()
            .expect("a commit");
        assert!(!report.dropped);
        assert_eq!(
            writer.index_len(),
            oracle.len(),
            "index after commit {commit}"
        );
        if commit == 4 || commit == 8 || commit == commits - 1 {
            let read = catalog.read(table);
            assert_table_equals(&read, &oracle, &format!("after commit {commit}"));
            let summary = &read["summary"];
            assert_eq!(summary["floe.pipeline"], "pipeline-1");
            assert_eq!(
                summary["floe.offsets"],
                format!(r#"{{"items":{{"0":{offset}}}}}"#)
            );
            assert_eq!(summary["floe.plugins"], r#"{"mask":"ab12"}"#);
            let op = summary["operation"].as_str().unwrap();
            assert!(["append", "overwrite", "delete"].contains(&op), "{op}");
            // Data files carry statistics; deletes live in delete manifests.
            let files = read["files"].as_array().unwrap();
            for file in files {
                assert_eq!(file["has_bounds"], true, "{file}");
                assert_eq!(file["has_null_counts"], true, "{file}");
                assert_eq!(
                    file["content"] != 0,
                    file["manifest_content"] == 1,
                    "{file}"
                );
            }
            let live_rows: u64 = files
                .iter()
                .map(|f| {
                    if f["content"] == 0 {
                        f["records"].as_u64().unwrap()
                    } else {
                        0
                    }
                })
                .sum();
            let deletes: u64 = files
                .iter()
                .map(|f| {
                    if f["content"] == 1 {
                        f["records"].as_u64().unwrap()
                    } else {
                        0
                    }
                })
                .sum();
            assert_eq!(
                live_rows - deletes,
                oracle.len() as u64,
                "every row deleted at most once"
            );
            let partitions: BTreeSet<String> =
                files.iter().map(|f| f["partition"].to_string()).collect();
            assert!(
                partitions.len() > 1,
                "partitioned by region and day: {partitions:?}"
            );
        }
    }
    assert!(
        truncates > 0 && pk_changes > 5 && moves > 5,
        "truncates {truncates}, pk changes {pk_changes}, moves {moves}"
    );
}

//! Two writers on one table: the second commit, made from a stale parent,
//! loses the compare-and-swap and recovers as the design says: dropped when
//! the table's offsets moved past its batch (another instance applied it),
//! retried on the new parent otherwise.

mod iceberg_common;

use std::collections::BTreeMap;

use floe::change::{Change, Op};
use floe::commit::Offsets;
use floe::commit::catalog::parse_table_ident;
use floe::table::{TableOptions, TableWriter};
use iceberg_common::*;

fn item(id: i64, name: &str) -> Item {
    Item {
        id,
        name: Some(name.into()),
        region: "eu".into(),
        ts: 1_700_000_000_000_000,
        amount: Some(1234),
        qty: Some(1),
    }
}

fn inserts(
    table: &str,
    topic: &str,
    ids: std::ops::Range<i64>,
    name: &str,
    first_offset: i64,
) -> Vec<Change> {
    ids.enumerate()
        .map(|(i, id)| {
            change(
                Op::Insert,
                table,
                None,
                Some(item(id, name).image()),
                topic,
                first_offset + i as i64,
            )
        })
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn stale_commits_conflict_then_drop_or_retry() {
    let dir = tempfile::tempdir().unwrap();
    let catalog = TestCatalog::new(dir.path());
    let table = "shop.items";
    let ident = parse_table_ident(table).unwrap();
    let mut options = TableOptions::new("p");
    options.create = true;
    let plugins = BTreeMap::new();

    // Create the table with one row so both writers open the same snapshot.
    let mut setup = TableWriter::open(catalog.open().await, ident.clone(), options.clone())
        .await
        .unwrap();
    assert!(setup.apply(inserts(table, "a", 0..1, "seed", 0)).is_empty());
    setup
        .commit(&Offsets::new(), &plugins)
        .await
        .unwrap()
        .unwrap();

    let mut first = TableWriter::open(catalog.open().await, ident.clone(), options.clone())
        .await
        .unwrap();
    let mut second = TableWriter::open(catalog.open().await, ident.clone(), options.clone())
        .await
        .unwrap();
    let mut oracle = BTreeMap::from([(0, item(0, "seed"))]);

    // Both got records 1..5 of topic a (a rebalance): the first commits them.
    assert!(
        first
            .apply(inserts(table, "a", 1..5, "first", 1))
            .is_empty()
    );
    let report = first
        .commit(&Offsets::new(), &plugins)
        .await
        .unwrap()
        .unwrap();
    assert!(!report.dropped && report.conflicts == 0);
    for id in 1..5 {
        oracle.insert(id, item(id, "first"));
    }
    // The second's commit of the same records from the stale parent loses
    // the swap; the table's offsets for topic a moved past its batch: dropped.
    assert!(
        second
            .apply(inserts(table, "a", 1..5, "second", 1))
            .is_empty()
    );
    let report = second
        .commit(&Offsets::new(), &plugins)
        .await
        .unwrap()
        .unwrap();
    assert!(report.dropped, "{report:?}");
    assert_eq!(report.conflicts, 1);
    assert_eq!(report.snapshot_id, None);
    assert_eq!(second.offsets().get("a", 0), Some(5));

    // Now the first commits topic b while the second, stale again, commits
    // topic c: a conflict, offsets not moved for c, so it retries and lands.
    assert!(first.apply(inserts(table, "b", 10..13, "b", 0)).is_empty());
    first
        .commit(&Offsets::new(), &plugins)
        .await
        .unwrap()
        .unwrap();
    for id in 10..13 {
        oracle.insert(id, item(id, "b"));
    }
    // An update of a row the first wrote: must delete that row, found only
    // in the rebuilt index.
    let mut changes = inserts(table, "c", 20..22, "c", 0);
    changes.push(change(
        Op::Update,
        table,
        None,
        Some(item(10, "c-updated").image()),
        "c",
        2,
    ));
    changes.push(change(Op::Delete, table, Some(key_image(1)), None, "c", 3));
    assert!(second.apply(changes).is_empty());
    let report = second
        .commit(&Offsets::new(), &plugins)
        .await
        .unwrap()
        .unwrap();
    assert!(!report.dropped && report.conflicts == 1, "{report:?}");
    assert_eq!(
        (report.inserted, report.updated, report.deleted),
        (2, 1, 1),
        "{report:?}"
    );
    for id in 20..22 {
        oracle.insert(id, item(id, "c"));
    }
    oracle.insert(10, item(10, "c-updated"));
    oracle.remove(&1);

    let read = catalog.read(table);
    assert_table_equals(&read, &oracle, "after the conflicts");
    assert_eq!(
        read["summary"]["floe.offsets"],
        r#"{"a":{"0":5},"b":{"0":3},"c":{"0":4}}"#
    );
    // A fresh writer resumes from the cumulative offsets.
    let resumed = TableWriter::open(catalog.open().await, ident, options)
        .await
        .unwrap();
    assert_eq!(resumed.offsets().get("a", 0), Some(5));
    assert_eq!(resumed.offsets().get("b", 0), Some(3));
    assert_eq!(resumed.index_len(), oracle.len());
}

//! Throughput of the table writer (ignored by default; run with
//! `cargo test --release -p floe-tests --test iceberg_bench -- --ignored --nocapture`).
//! FLOE_BENCH_KEYS sets the table size (default 1,000,000).

mod iceberg_common;

use std::collections::BTreeMap;
use std::time::Instant;

use floe::change::Op;
use floe::commit::Offsets;
use floe::commit::catalog::parse_table_ident;
use floe::table::{TableOptions, TableWriter};
use iceberg_common::*;

fn item(id: i64, name: &str) -> Item {
    Item {
        id,
        name: Some(format!("{name}-{id}")),
        region: ["eu", "us", "ap"][(id % 3) as usize].into(),
        ts: 1_700_000_000_000_000 + id,
        amount: Some(id as i128),
        qty: Some((id % 1000) as i32),
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore]
async fn writer_throughput() {
    let keys: i64 = std::env::var("FLOE_BENCH_KEYS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(1_000_000);
    let dir = tempfile::tempdir().unwrap();
    let catalog = TestCatalog::new(dir.path());
    let table = "bench.items";
    let ident = parse_table_ident(table).unwrap();
    let mut options = TableOptions::new("bench");
    options.create = true;
    let plugins = BTreeMap::new();

    let mut writer = TableWriter::open(catalog.open().await, ident.clone(), options.clone())
        .await
        .unwrap();
    let changes: Vec<_> = (0..keys)
        .map(|id| {
            change(
                Op::Insert,
                table,
                None,
                Some(item(id, "a").image()),
                "t",
                id,
            )
        })
        .collect();
    let started = Instant::now();
    assert!(writer.apply(changes).is_empty());
    let applied = started.elapsed().as_secs_f64();
    writer
        .commit(&Offsets::new(), &plugins)
        .await
        .unwrap()
        .unwrap();
    let total = started.elapsed().as_secs_f64();
    println!(
        "insert {keys} keys: apply {:.0}/s, apply+commit {:.0} events/s ({total:.2}s)",
        keys as f64 / applied,
        keys as f64 / total
    );

    let started = Instant::now();
    let mut writer = TableWriter::open(catalog.open().await, ident.clone(), options.clone())
        .await
        .unwrap();
    let rebuild = started.elapsed().as_secs_f64();
    assert_eq!(writer.index_len() as i64, keys);
    println!(
        "rebuild {keys} keys: open {rebuild:.2}s, index rebuild {:.2}s = {:.0} keys/s (index {:.1} bytes/key)",
        writer.rebuild_stats().seconds,
        keys as f64 / writer.rebuild_stats().seconds,
        writer.index_memory_bytes() as f64 / keys as f64
    );

    let updates = keys / 4;
    let changes: Vec<_> = (0..updates)
        .map(|i| {
            let id = (i * 7919) % keys;
            change(
                Op::Update,
                table,
                None,
                Some(item(id, "u").image()),
                "t",
                keys + i,
            )
        })
        .collect();
    let started = Instant::now();
    assert!(writer.apply(changes).is_empty());
    let report = writer
        .commit(&Offsets::new(), &plugins)
        .await
        .unwrap()
        .unwrap();
    let total = started.elapsed().as_secs_f64();
    println!(
        "update {updates} events ({} keys): {:.0} events/s end to end ({total:.2}s)",
        report.updated,
        updates as f64 / total
    );
    let started = Instant::now();
    let writer = TableWriter::open(catalog.open().await, ident, options)
        .await
        .unwrap();
    let rebuild = started.elapsed().as_secs_f64();
    println!(
        "rebuild with position deletes: {rebuild:.2}s = {:.0} keys/s",
        writer.index_len() as f64 / rebuild
    );
}

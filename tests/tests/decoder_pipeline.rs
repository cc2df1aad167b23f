//! The Canal (in Rust and in JavaScript) and DMS decoder plugins end to end
//! through `floe run` on a file source: a randomized workload of inserts, updates (some changing
//! the key), deletes, non-row messages and poison records over a small key
//! space, rendered in each format; the process killed with SIGKILL at
//! random moments and restarted; then the table, read by PyIceberg and
//! DuckDB, must equal the oracle and the DLQ must hold each poison record once.

mod decoder_common;
mod iceberg_common;
mod pipeline_common;

use std::path::Path;
use std::time::{Duration, Instant};

use decoder_common::{Change, Lcg, Row, row, workload};
use iceberg_common::TestCatalog;
use pipeline_common::{
    assert_reads, dead_letters, floe_run, run_to_end, write_config, write_events,
};
use serde_json::{Value as Json, json};

const TABLE: &str = "shop.items";

fn line(value: Json) -> String {
    json!({"key": null, "value": value}).to_string()
}

/// MySQL `datetime` text of epoch seconds.
fn datetime(seconds: i64) -> String {
    let (days, secs) = (seconds.div_euclid(86_400), seconds.rem_euclid(86_400));
    let (y, m, d) = floe_guest::parse::civil_from_days(days);
    format!(
        "{y:04}-{m:02}-{d:02} {:02}:{:02}:{:02}",
        secs / 3600,
        secs / 60 % 60,
        secs % 60
    )
}

fn decimal2(cents: i64) -> String {
    iceberg_common::decimal2(i128::from(cents))
}

/// Canal: several changes of one kind share a message; a DDL message now
/// and then; poison messages (a value that is not an int).
fn canal_lines(changes: &[Change], rng: &mut Lcg) -> (Vec<String>, Vec<i64>) {
    let image = |r: &Row| json!({"id": r.id.to_string(), "name": r.name, "amount": decimal2(r.cents), "updated_at": datetime(r.seconds)});
    let message = |kind: &str, data: Vec<Json>, old: Option<Vec<Json>>| {
        line(json!({
            "data": data, "old": old, "database": "shop", "table": "items", "type": kind,
            "isDdl": false, "es": 1_700_000_000_000i64, "ts": 1_700_000_000_100i64, "id": 1, "sql": "",
            "pkNames": ["id"],
            "mysqlType": {"id": "int(11)", "name": "varchar(64)", "amount": "decimal(10,2)", "updated_at": "datetime"},
            "sqlType": {"id": 4, "name": 12, "amount": 3, "updated_at": 93},
        }))
    };
    let (mut lines, mut poison) = (Vec::new(), Vec::new());
    let mut i = 0;
    while i < changes.len() {
        match rng.below(25) {
            0 => lines.push(line(
                json!({"data": null, "database": "shop", "table": "items", "type": "ALTER",
                "isDdl": true, "sql": "ALTER TABLE items ADD INDEX (name)", "es": 1, "ts": 1}),
            )),
            1 => {
                poison.push(lines.len() as i64);
                let mut bad = image(&row(rng, 1));
                bad["id"] = json!("not a number");
                lines.push(message("INSERT", vec![bad], None));
            }
            _ => {}
        }
        let same = |c: &Change| std::mem::discriminant(c) == std::mem::discriminant(&changes[i]);
        let n =
            (1 + rng.below(3) as usize).min(changes[i..].iter().take_while(|c| same(c)).count());
        let group = &changes[i..i + n];
        i += n;
        lines.push(match &group[0] {
            Change::Insert(_) => message(
                "INSERT",
                group
                    .iter()
                    .map(|c| match c {
                        Change::Insert(r) => image(r),
                        _ => unreachable!(),
                    })
                    .collect(),
                None,
            ),
            Change::Delete(_) => message(
                "DELETE",
                group
                    .iter()
                    .map(|c| match c {
                        Change::Delete(r) => image(r),
                        _ => unreachable!(),
                    })
                    .collect(),
                None,
            ),
            Change::Update(..) => {
                let (mut data, mut old) = (Vec::new(), Vec::new());
                for c in group {
                    let Change::Update(before, after) = c else {
                        unreachable!()
                    };
                    let (b, a) = (image(before), image(after));
                    // `old` holds only the changed columns' previous values.
                    let changed: serde_json::Map<String, Json> = b
                        .as_object()
                        .unwrap()
                        .iter()
                        .filter(|(k, v)| a[k.as_str()] != **v)
                        .map(|(k, v)| (k.clone(), v.clone()))
                        .collect();
                    data.push(a);
                    old.push(Json::Object(changed));
                }
                message("UPDATE", data, Some(old))
            }
        });
    }
    (lines, poison)
}

fn canal_oracle(r: &Row) -> Json {
    json!({"id": r.id, "name": r.name, "amount": decimal2(r.cents), "updated_at": r.seconds * 1_000_000})
}

/// DMS: first rows as full-load records or inserts, updates with a
/// `pk-only` before image, control records now and then, poison records (an
/// unknown operation).
fn dms_lines(changes: &[Change], rng: &mut Lcg) -> (Vec<String>, Vec<i64>) {
    let image = |r: &Row| json!({"id": r.id, "name": r.name, "qty": r.cents, "price": r.cents as f64 * 0.25, "active": r.cents % 2 == 0});
    let record = |op: &str, data: Json, before: Option<Json>| {
        let mut value = json!({"data": data, "metadata": {
            "timestamp": "2024-05-01T10:00:00.000000Z", "record-type": "data", "operation": op,
            "partition-key-type": "primary-key", "schema-name": "shop", "table-name": "items"}});
        if let Some(before) = before {
            value["before-image"] = before;
        }
        line(value)
    };
    let (mut lines, mut poison) = (Vec::new(), Vec::new());
    for change in changes {
        match rng.below(25) {
            0 => lines.push(line(json!({"control": {"table-def": {}}, "metadata": {
                "record-type": "control", "operation": "create-table", "schema-name": "shop", "table-name": "items"}}))),
            1 => {
                poison.push(lines.len() as i64);
                lines.push(record("merge", image(&row(rng, 1)), None));
            }
            _ => {}
        }
        lines.push(match change {
            Change::Insert(r) if rng.below(2) == 0 => record("load", image(r), None),
            Change::Insert(r) => record("insert", image(r), None),
            Change::Update(before, after) => {
                record("update", image(after), Some(json!({"id": before.id})))
            }
            Change::Delete(r) => record("delete", image(r), None),
        });
    }
    (lines, poison)
}

fn dms_oracle(r: &Row) -> Json {
    json!({"id": r.id, "name": r.name, "qty": r.cents, "price": r.cents as f64 * 0.25, "active": r.cents % 2 == 0})
}

/// Starts `floe run` and kills it with SIGKILL after `after`, if it is still running.
fn run_and_kill(config: &Path, after: Duration) -> bool {
    let mut child = floe_run(config).spawn().unwrap();
    let started = Instant::now();
    while started.elapsed() < after {
        if child.try_wait().unwrap().is_some() {
            return false;
        }
        std::thread::sleep(Duration::from_millis(2));
    }
    child.kill().unwrap(); // SIGKILL on Unix
    child.wait().unwrap();
    true
}

/// Runs `lines` through `floe run` with decoder `plugin`, killing it now
/// and then, and checks the table against `oracle` and the DLQ against `poison`.
fn run_with_kills(plugin: &str, topic: &str, lines: &[String], oracle: Vec<Json>, poison: &[i64]) {
    let dir = tempfile::tempdir().unwrap();
    let catalog = TestCatalog::new(dir.path());
    let plugins = dir.path().join("plugins");
    std::fs::create_dir(&plugins).unwrap();
    std::fs::copy(
        floe_tests::plugin_path(plugin),
        plugins.join(format!("{plugin}.wasm")),
    )
    .unwrap();
    let cache = floe_tests::workspace_root().join("target/floe-test-cache");
    let extra = format!(
        "create = true\ndecoder = {{ plugin = \"{plugin}\" }}\n[plugins]\ndir = \"{}\"\ncache_dir = \"{}\"\n",
        plugins.display(),
        cache.display()
    );
    let config = write_config(dir.path(), &catalog, topic, TABLE, 40, &extra);
    write_events(dir.path(), lines);
    let mut rng = Lcg(99);
    let mut kills = 0;
    for _ in 0..10 {
        if run_and_kill(&config, Duration::from_millis(20 + rng.below(300))) {
            kills += 1;
        }
    }
    let stderr = run_to_end(&config);
    println!(
        "{plugin}: {} lines, killed {kills} times; last run: {stderr}",
        lines.len()
    );
    assert!(
        kills >= 3,
        "{plugin}: floe run was killed mid-file only {kills} times"
    );
    assert_reads(&catalog, TABLE, topic, &oracle, lines.len(), plugin);
    let letters = dead_letters(dir.path());
    assert_eq!(
        letters.iter().map(|l| l.0).collect::<Vec<_>>(),
        poison,
        "{plugin}: the DLQ holds each poison record once: {letters:?}"
    );
    assert!(
        letters.iter().all(|(_, stage, _)| stage == "decode"),
        "{letters:?}"
    );
}

#[test]
fn canal_through_floe_run_with_kills_equals_the_oracle() {
    let (changes, live) = workload(0xca4a1, 3000, 100);
    let (lines, poison) = canal_lines(&changes, &mut Lcg(5));
    assert!(
        poison.len() > 5 && lines.len() < changes.len(),
        "poison and multi-row messages"
    );
    run_with_kills(
        "canal",
        "canal",
        &lines,
        live.values().map(canal_oracle).collect(),
        &poison,
    );
}

#[test]
fn dms_through_floe_run_with_kills_equals_the_oracle() {
    let (changes, live) = workload(0xd35, 3000, 100);
    let (lines, poison) = dms_lines(&changes, &mut Lcg(6));
    assert!(poison.len() > 5, "poison records");
    run_with_kills(
        "dms",
        "dms",
        &lines,
        live.values().map(dms_oracle).collect(),
        &poison,
    );
}

#[test]
fn canal_in_javascript_through_floe_run_with_kills_equals_the_oracle() {
    let (changes, live) = workload(0xca4a2, 2000, 80);
    let (lines, poison) = canal_lines(&changes, &mut Lcg(7));
    assert!(poison.len() > 3, "poison records");
    run_with_kills(
        "canal-js",
        "canal",
        &lines,
        live.values().map(canal_oracle).collect(),
        &poison,
    );
}

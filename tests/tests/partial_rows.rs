//! Partial rows end to end: `floe run` over a file of Debezium events where
//! about 30 % of the updates leave columns unchanged and unsent, as
//! PostgreSQL (the TOAST placeholder, in text and in base64 for a binary
//! column) and YugabyteDB (`{"value": …, "set": false}`, and columns left
//! out under replica identity CHANGE) send them. The process is killed with
//! SIGKILL at random moments and restarted, so partial rows are filled from
//! the commit window and from the table's data files alike. PyIceberg and
//! DuckDB must read exactly what an oracle applying the full rows holds, and
//! the partial updates of keys that have no row (never inserted, or just
//! deleted) must be in the DLQ with that reason while the run goes on.

mod iceberg_common;
mod pipeline_common;

use std::collections::BTreeMap;
use std::path::Path;
use std::thread;
use std::time::{Duration, Instant};

use base64::Engine;
use floe_tests::cdc::Lcg;
use iceberg_common::TestCatalog;
use pipeline_common::{
    dead_letters, floe_run, read_oracle, run_to_end, write_config, write_events,
};
use serde_json::{Map, Value as Json, json};
use sha2::{Digest, Sha256};

const TOPIC: &str = "dbserver1.public.documents";
const TABLE: &str = "public.documents";
const PLACEHOLDER: &str = "__debezium_unavailable_value";
const PLACEHOLDER_BASE64: &str = "X19kZWJleml1bV91bmF2YWlsYWJsZV92YWx1ZQ==";
/// The columns besides `id`, and which of them PostgreSQL may TOAST.
const COLUMNS: [&str; 5] = ["name", "region", "amount", "doc", "blob"];
const TOASTABLE: [&str; 2] = ["doc", "blob"];

/// A row of `documents`.
#[derive(Debug, Clone, PartialEq)]
struct Row {
    id: i64,
    name: String,
    region: String,
    amount: Option<i64>,
    doc: String,
    blob: Vec<u8>,
}

impl Row {
    fn new(rng: &mut Lcg, id: i64) -> Row {
        let mut row = Row {
            id,
            name: String::new(),
            region: String::new(),
            amount: None,
            doc: String::new(),
            blob: Vec::new(),
        };
        for column in COLUMNS {
            row.change(rng, column);
        }
        row
    }

    /// Gives `column` a new value.
    fn change(&mut self, rng: &mut Lcg, column: &str) {
        let n = rng.below(1_000_000);
        match column {
            "name" => self.name = format!("doc-{}-{n}", self.id),
            "region" => self.region = ["eu", "us", "apac"][rng.below(3) as usize].to_string(),
            "amount" => self.amount = Some(n as i64 - 500_000),
            // A long text, as a TOASTed column would be.
            "doc" => self.doc = format!("{n}:").repeat(40 + rng.below(40) as usize),
            _ => self.blob = (0..8 + rng.below(24)).map(|i| (n + i) as u8).collect(),
        }
    }

    /// A column's value as Debezium's schemaless JSON writes it.
    fn json(&self, column: &str) -> Json {
        match column {
            "id" => json!(self.id),
            "name" => json!(self.name),
            "region" => json!(self.region),
            "amount" => json!(self.amount),
            "doc" => json!(self.doc),
            _ => json!(base64::engine::general_purpose::STANDARD.encode(&self.blob)),
        }
    }

    /// The row as Debezium sends it in full.
    fn image(&self) -> Json {
        let mut image = Map::new();
        for column in ["id"].into_iter().chain(COLUMNS) {
            image.insert(column.into(), self.json(column));
        }
        Json::Object(image)
    }

    /// The row as the readers return it (binary as hex).
    fn read(&self) -> Json {
        let hex: String = self.blob.iter().map(|b| format!("{b:02x}")).collect();
        json!({"id": self.id, "name": self.name, "region": self.region,
               "amount": self.amount, "doc": self.doc, "blob": hex})
    }
}

fn envelope(op: &str, before: Option<Json>, after: Option<Json>) -> String {
    let value = json!({"op": op, "before": before, "after": after,
                       "source": {"connector": "postgresql", "ts_ms": 1_700_000_000_000i64}});
    format!(
        "{{\"key\":{},\"value\":{value}}}",
        json!({"id": before.as_ref().or(after.as_ref()).unwrap()["id"]})
    )
}

/// A PostgreSQL update that left the `unchanged` columns (TOASTed) out:
/// the placeholder, in base64 for the binary column.
fn toast_update(row: &Row, unchanged: &[&str]) -> String {
    let mut after = row.image();
    for column in unchanged {
        after[*column] = json!(if *column == "blob" {
            PLACEHOLDER_BASE64
        } else {
            PLACEHOLDER
        });
    }
    envelope("u", None, Some(after))
}

/// A YugabyteDB update: every column wrapped; the `unchanged` ones sent
/// with `set: false` or, under replica identity CHANGE, not at all.
fn yugabyte_update(rng: &mut Lcg, row: &Row, unchanged: &[&str]) -> String {
    let mut after = Map::new();
    let left_out = rng.below(2) == 0;
    for column in ["id"].into_iter().chain(COLUMNS) {
        if unchanged.contains(&column) {
            if !left_out {
                after.insert(column.into(), json!({"value": null, "set": false}));
            }
        } else {
            after.insert(
                column.into(),
                json!({"value": row.json(column), "set": true}),
            );
        }
    }
    let value = json!({"op": "u", "before": null, "after": after,
                       "source": {"connector": "yugabytedb", "ts_ms": 1_700_000_000_000i64}});
    format!(
        "{{\"key\":{},\"value\":{value}}}",
        json!({"id": {"value": row.id}})
    )
}

/// The workload: its lines, the table it makes, and the offsets of the
/// partial updates that have no row to fill them from.
struct Workload {
    lines: Vec<String>,
    oracle: BTreeMap<i64, Row>,
    dead: Vec<i64>,
    updates: usize,
    partial: usize,
}

fn generate(seed: u64, count: usize) -> Workload {
    let mut rng = Lcg(seed);
    let mut w = Workload {
        lines: Vec::with_capacity(count),
        oracle: BTreeMap::new(),
        dead: Vec::new(),
        updates: 0,
        partial: 0,
    };
    let mut next_id = 1i64;
    while w.lines.len() < count {
        let live: Vec<i64> = w.oracle.keys().copied().collect();
        let pick = rng.below(100);
        if pick < 25 || live.is_empty() {
            let row = Row::new(&mut rng, next_id);
            next_id += 1;
            w.lines.push(envelope("c", None, Some(row.image())));
            w.oracle.insert(row.id, row);
        } else if pick < 85 {
            let id = live[rng.below(live.len() as u64) as usize];
            let mut row = w.oracle[&id].clone();
            w.updates += 1;
            if rng.below(100) < 30 {
                w.partial += 1;
                // The unchanged columns keep their values; the others may change.
                let toast = rng.below(2) == 0;
                let candidates: &[&str] = if toast { &TOASTABLE } else { &COLUMNS };
                let mut unchanged: Vec<&str> = candidates
                    .iter()
                    .copied()
                    .filter(|_| rng.below(2) == 0)
                    .collect();
                if unchanged.is_empty() {
                    unchanged.push(candidates[rng.below(candidates.len() as u64) as usize]);
                }
                for column in COLUMNS.iter().filter(|c| !unchanged.contains(c)) {
                    if rng.below(2) == 0 {
                        row.change(&mut rng, column);
                    }
                }
                if !toast && !unchanged.contains(&"amount") && rng.below(5) == 0 {
                    row.amount = None; // set to NULL, explicitly
                }
                let line = if toast {
                    toast_update(&row, &unchanged)
                } else {
                    yugabyte_update(&mut rng, &row, &unchanged)
                };
                w.lines.push(line);
            } else {
                for column in COLUMNS {
                    if rng.below(2) == 0 {
                        row.change(&mut rng, column);
                    }
                }
                w.lines.push(envelope("u", None, Some(row.image())));
            }
            w.oracle.insert(id, row);
        } else if pick < 97 {
            let id = live[rng.below(live.len() as u64) as usize];
            let row = w.oracle.remove(&id).unwrap();
            w.lines.push(envelope("d", Some(row.image()), None));
            if rng.below(4) == 0 {
                // A partial update of the key just deleted: nothing to fill from.
                w.dead.push(w.lines.len() as i64);
                w.lines.push(toast_update(&row, &["doc"]));
            }
        } else {
            // A partial update of a key that never had a row.
            let id = 1_000_000 + rng.below(1000) as i64;
            let row = Row::new(&mut rng, id);
            w.dead.push(w.lines.len() as i64);
            let line = if rng.below(2) == 0 {
                toast_update(&row, &["blob"])
            } else {
                yugabyte_update(&mut rng, &row, &["doc", "name"])
            };
            w.lines.push(line);
        }
    }
    // Dead letters past the end were cut off with their lines.
    w.lines.truncate(count);
    w.dead.retain(|&o| (o as usize) < count);
    w
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
    child.kill().unwrap();
    child.wait().unwrap();
    true
}

/// Writes the workload's file and the pipeline (commits every 100 records,
/// `extra` appended to the configuration), runs `floe run` killed `kills`
/// times at random moments, then to the end; returns the last run's stderr.
fn run_workload(
    dir: &Path,
    catalog: &TestCatalog,
    workload: &Workload,
    extra: &str,
    kills: usize,
) -> String {
    let config = write_config(
        dir,
        catalog,
        TOPIC,
        TABLE,
        100,
        "partition_by = [\"region\"]\ncreate = true\ntypes = { blob = \"binary\" }",
    );
    let text = std::fs::read_to_string(&config).unwrap() + extra;
    std::fs::write(&config, text).unwrap();
    write_events(dir, &workload.lines);
    let mut rng = Lcg(11);
    let mut killed = 0;
    for _ in 0..kills {
        if run_and_kill(&config, Duration::from_millis(30 + rng.below(500))) {
            killed += 1;
        }
    }
    let summary = run_to_end(&config);
    println!("killed {killed} times; last run: {summary}");
    summary
}

/// Asserts that the DLQ holds exactly the workload's partial updates of
/// keys without a row, once each, with the reason.
fn assert_dead_letters(dir: &Path, workload: &Workload) {
    let letters = dead_letters(dir);
    let offsets: Vec<i64> = letters.iter().map(|(o, _, _)| *o).collect();
    assert_eq!(
        offsets, workload.dead,
        "each partial row without a row, once"
    );
    for (offset, stage, reason) in &letters {
        assert_eq!(stage, "write", "offset {offset}");
        assert!(
            reason.contains("partial row of a key with no row"),
            "offset {offset}: {reason}"
        );
    }
}

#[test]
fn partial_rows_are_filled_across_kills_and_unknown_keys_go_to_the_dlq() {
    let dir = tempfile::tempdir().unwrap();
    let catalog = TestCatalog::new(dir.path());
    let workload = generate(0x70a57, 3000);
    let share = workload.partial as f64 / workload.updates as f64;
    println!(
        "{} updates, {} partial ({:.0} %), {} partial updates of keys without a row",
        workload.updates,
        workload.partial,
        share * 100.0,
        workload.dead.len()
    );
    assert!((0.25..0.35).contains(&share), "about 30 % partial: {share}");
    assert!(workload.dead.len() >= 10, "{}", workload.dead.len());
    run_workload(dir.path(), &catalog, &workload, "", 10);

    let oracle: BTreeMap<i64, Json> = workload
        .oracle
        .iter()
        .map(|(id, row)| (*id, row.read()))
        .collect();
    let read = read_oracle(&catalog, TABLE, &oracle);
    let text = read.to_string();
    assert!(!text.contains(PLACEHOLDER), "no placeholder in the table");
    assert!(
        !text.contains(
            &PLACEHOLDER
                .bytes()
                .map(|b| format!("{b:02x}"))
                .collect::<String>()
        ),
        "no placeholder bytes in the binary column"
    );
    assert_dead_letters(dir.path(), &workload);
}

#[test]
fn a_transform_plugin_sees_partial_rows_without_their_unchanged_columns() {
    // `mask` hashes `name`; a partial row whose `name` is unchanged reaches
    // it without one, and is filled after the chain from the (hashed) row.
    let dir = tempfile::tempdir().unwrap();
    let catalog = TestCatalog::new(dir.path());
    let plugins = dir.path().join("plugins");
    std::fs::create_dir_all(&plugins).unwrap();
    std::fs::copy(floe_tests::plugin_path("mask"), plugins.join("mask.wasm")).unwrap();
    let workload = generate(0x3a5c, 1200);
    let extra = format!(
        "transforms = [{{ plugin = \"mask\", config = {{ columns = \"name\", salt = \"s3cret\" }} }}]\n\
         [plugins]\ndir = \"plugins\"\nhot_reload = false\ncache_dir = {:?}\n",
        floe_tests::workspace_root()
            .join("target/floe-test-cache")
            .display()
            .to_string()
    );
    run_workload(dir.path(), &catalog, &workload, &extra, 3);
    let oracle: BTreeMap<i64, Json> = workload
        .oracle
        .iter()
        .map(|(id, row)| {
            let mut read = row.read();
            let hash = Sha256::digest(format!("s3cret{}", row.name).as_bytes());
            read["name"] = json!(hash.iter().map(|b| format!("{b:02x}")).collect::<String>());
            (*id, read)
        })
        .collect();
    read_oracle(&catalog, TABLE, &oracle);
    assert_dead_letters(dir.path(), &workload);
}

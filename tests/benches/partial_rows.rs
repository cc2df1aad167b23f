//! Partial-row updates against full-row updates, end to end through the
//! `floe` binary over a file source: the same Debezium events (schemaless,
//! ~1 KB rows, 70 % updates of earlier keys, commits every 100,000
//! records), once with every update a full row and once with 30 % of the
//! updates partial: half PostgreSQL's TOAST placeholder for the long
//! `notes` column, half YugabyteDB's wrapped columns with `notes` and
//! `email` sent as `set: false`. Each partial row is filled from the commit
//! window or from the table's data files. Prints events/s and CPU time per
//! event (user + system of the `floe` process, from `/usr/bin/time`) of each
//! run, the medians and their ratio. Asserts nothing about speed.
//!
//! `cargo bench -p floe-tests --bench partial_rows` after
//! `cargo build --release -p floe`; `FLOE_BENCH_EVENTS` sets the count
//! (default 500,000), `FLOE_BENCH_RUNS` the runs of each (default 3),
//! `FLOE_BENCH_MAX_RECORDS` the commit window (default 100,000).

use std::fmt::Write as _;
use std::io::{BufWriter, Write};
use std::path::Path;
use std::process::Command;
use std::time::Instant;

use floe_tests::cdc::Lcg;
use floe_tests::config::PipelineToml;
use floe_tests::floe_bin;

const PLACEHOLDER: &str = "__debezium_unavailable_value";

/// One row's columns as JSON values: name, email, region, balance, notes.
fn columns(rng: &mut Lcg, id: u64) -> [(&'static str, String); 5] {
    let regions = ["eu", "us", "apac", "latam"];
    let notes: String = (0..14)
        .map(|i| format!("note {id}-{i} lorem ipsum dolor sit amet "))
        .collect();
    [
        ("name", format!("\"Account {id} {}\"", rng.below(1000))),
        ("email", format!("\"owner{id}@example.org\"")),
        ("region", format!("\"{}\"", regions[rng.below(4) as usize])),
        ("balance", rng.below(10_000_000).to_string()),
        ("notes", format!("\"{}\"", &notes[..notes.len().min(700)])),
    ]
}

/// Writes `events` records, 70 % updates of earlier keys, `partial` of the
/// updates partial; returns how many were.
fn generate(path: &Path, events: u64, partial: f64) -> u64 {
    let mut file = BufWriter::new(std::fs::File::create(path).unwrap());
    let mut rng = Lcg(42);
    let mut keys = 0u64;
    let mut partials = 0;
    let mut line = String::new();
    for _ in 0..events {
        line.clear();
        let update = keys > 0 && rng.below(10) < 7;
        let id = if update {
            1 + rng.below(keys)
        } else {
            keys += 1;
            keys
        };
        let columns = columns(&mut rng, id);
        let kind = if update && (rng.below(1000) as f64) < partial * 1000.0 {
            partials += 1;
            1 + rng.below(2)
        } else {
            0
        };
        let _ = write!(
            line,
            r#"{{"key":{{"id":{id}}},"value":{{"op":"{}","before":null,"after":{{"#,
            if update { "u" } else { "c" }
        );
        match kind {
            0 | 1 => {
                let _ = write!(line, r#""id":{id}"#);
                for (name, value) in &columns {
                    if kind == 1 && *name == "notes" {
                        let _ = write!(line, r#","{name}":"{PLACEHOLDER}""#);
                    } else {
                        let _ = write!(line, r#","{name}":{value}"#);
                    }
                }
            }
            _ => {
                let _ = write!(line, r#""id":{{"value":{id},"set":true}}"#);
                for (name, value) in &columns {
                    if matches!(*name, "notes" | "email") {
                        let _ = write!(line, r#","{name}":{{"value":null,"set":false}}"#);
                    } else {
                        let _ = write!(line, r#","{name}":{{"value":{value},"set":true}}"#);
                    }
                }
            }
        }
        line.push_str(r#"},"source":{"ts_ms":1700000000000}}}"#);
        line.push('\n');
        file.write_all(line.as_bytes()).unwrap();
    }
    file.flush().unwrap();
    partials
}

/// Runs `floe run` on `dir`'s pipeline; (events/s, µs CPU per event).
fn run(dir: &Path, events: u64) -> (f64, f64) {
    let _ = std::fs::remove_dir_all(dir.join("warehouse"));
    let _ = std::fs::remove_file(dir.join("catalog.db"));
    let config = dir.join("pipeline.toml");
    let started = Instant::now();
    let output = Command::new("/usr/bin/time")
        .args(["-f", "%M %U %S"])
        .arg(floe_bin())
        .args(["run", "--config"])
        .arg(&config)
        .env("FLOE_LOG", "warn")
        .output()
        .expect("run floe under /usr/bin/time (apt-get install time)");
    let seconds = started.elapsed().as_secs_f64();
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(output.status.success(), "floe run failed: {stderr}");
    let measured: Vec<f64> = stderr
        .lines()
        .last()
        .map(|l| {
            l.split_whitespace()
                .filter_map(|v| v.parse().ok())
                .collect()
        })
        .unwrap_or_default();
    let cpu = match measured.as_slice() {
        [_, user, system] => user + system,
        _ => f64::NAN,
    };
    (events as f64 / seconds, cpu / events as f64 * 1e6)
}

fn median(mut values: Vec<f64>) -> f64 {
    values.sort_by(f64::total_cmp);
    values[values.len() / 2]
}

fn main() {
    let env = |name: &str, default: u64| {
        std::env::var(name)
            .ok()
            .and_then(|s| s.parse().ok())
            .unwrap_or(default)
    };
    let events = env("FLOE_BENCH_EVENTS", 500_000);
    let runs = env("FLOE_BENCH_RUNS", 3);
    let window = env("FLOE_BENCH_MAX_RECORDS", 100_000) as usize;
    let root = floe_tests::workspace_root().join("target/bench-partial-rows");
    println!(
        "partial-row updates, file source → Iceberg, {events} schemaless events, 70 % updates (floe run, release build)"
    );
    let mut dirs = Vec::new();
    for (label, partial) in [("full rows", 0.0), ("30 % partial", 0.3)] {
        let dir = root.join(if partial > 0.0 { "partial" } else { "full" });
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap();
        let partials = generate(&dir.join("events.jsonl"), events, partial);
        PipelineToml::file("bench", "dbserver1.shop.accounts", "shop.accounts", window)
            .catalog_at("sqlite://catalog.db", "warehouse")
            .without_dlq()
            .table_keys("create = true\n")
            .write(&dir);
        println!("  {label}: {partials} partial updates");
        dirs.push((label, dir, Vec::new(), Vec::new()));
    }
    // Alternating runs: this shared machine's neighbours come and go.
    for _ in 0..runs {
        for (label, dir, rates, cpus) in &mut dirs {
            let (rate, cpu) = run(dir, events);
            println!("  {label:<14} {rate:>9.0} events/s  {cpu:>5.2} µs CPU/event");
            rates.push(rate);
            cpus.push(cpu);
        }
    }
    let medians: Vec<(f64, f64)> = dirs
        .iter()
        .map(|(_, _, rates, cpus)| (median(rates.clone()), median(cpus.clone())))
        .collect();
    for ((label, ..), (rate, cpu)) in dirs.iter().zip(&medians) {
        println!("  median {label:<14} {rate:>9.0} events/s  {cpu:>5.2} µs CPU/event");
    }
    println!(
        "  30 % partial runs at {:.0} % of full rows' events/s ({:.2}× the CPU per event)",
        medians[1].0 / medians[0].0 * 100.0,
        medians[1].1 / medians[0].1
    );
    for (_, dir, ..) in &dirs {
        let _ = std::fs::remove_dir_all(dir);
    }
}

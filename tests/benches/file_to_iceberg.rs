//! File source → Iceberg, end to end through the `floe` binary: Debezium
//! events of ~1 KB, 70 % updates, schemaless and with schema blocks.
//! Prints events/s, MB/s, CPU time per event (user + system of the `floe`
//! process, from `/usr/bin/time`), peak RSS, the key index's
//! bytes per key and its rebuild speed. Asserts nothing about speed.
//! A third row runs the schemaless events into a REST catalog on S3
//! (SeaweedFS's `weed mini`, when installed: `tests/src/seaweed.rs`).
//!
//! `cargo bench -p floe-tests --bench file_to_iceberg` after
//! `cargo build --release -p floe`; `FLOE_BENCH_EVENTS` sets the count
//! (default 1,000,000).

use std::fmt::Write as _;
use std::io::{BufWriter, Write};
use std::path::Path;
use std::process::Command;
use std::time::Instant;

use floe::commit::catalog::{self, CatalogConfig, SqlCatalog};
use floe::table::{TableOptions, TableWriter};
use floe_tests::cdc::Lcg;
use floe_tests::config::PipelineToml;
use floe_tests::floe_bin;

const SCHEMA: &str = r#"{"type":"struct","name":"dbserver1.shop.accounts.Envelope","optional":false,"fields":[{"type":"struct","name":"dbserver1.shop.accounts.Value","optional":true,"field":"before","fields":[{"type":"int64","optional":false,"field":"id"},{"type":"string","optional":true,"field":"name"},{"type":"string","optional":true,"field":"email"},{"type":"string","optional":true,"field":"region"},{"type":"bytes","optional":true,"field":"balance","name":"org.apache.kafka.connect.data.Decimal","version":1,"parameters":{"scale":"2","connect.decimal.precision":"12"}},{"type":"int64","optional":true,"field":"updated_at","name":"io.debezium.time.MicroTimestamp","version":1},{"type":"boolean","optional":true,"field":"active"},{"type":"string","optional":true,"field":"notes"}]},{"type":"struct","name":"dbserver1.shop.accounts.Value","optional":true,"field":"after","fields":[{"type":"int64","optional":false,"field":"id"},{"type":"string","optional":true,"field":"name"},{"type":"string","optional":true,"field":"email"},{"type":"string","optional":true,"field":"region"},{"type":"bytes","optional":true,"field":"balance","name":"org.apache.kafka.connect.data.Decimal","version":1,"parameters":{"scale":"2","connect.decimal.precision":"12"}},{"type":"int64","optional":true,"field":"updated_at","name":"io.debezium.time.MicroTimestamp","version":1},{"type":"boolean","optional":true,"field":"active"},{"type":"string","optional":true,"field":"notes"}]},{"type":"struct","name":"io.debezium.connector.mysql.Source","optional":false,"field":"source","fields":[{"type":"int64","optional":false,"field":"ts_ms"}]},{"type":"string","optional":false,"field":"op"}]}"#;

fn row(out: &mut String, rng: &mut Lcg, id: u64, schema: bool) {
    let regions = ["eu", "us", "apac", "latam"];
    let cents = rng.below(10_000_000);
    let balance = if schema {
        // Decimal as base64 big-endian two's complement bytes.
        let bytes = (cents as i64).to_be_bytes();
        let first = bytes.iter().position(|&b| b != 0).unwrap_or(7).min(7);
        let mut text = String::new();
        base64_into(
            &bytes[first.saturating_sub(usize::from(bytes[first] & 0x80 != 0))..],
            &mut text,
        );
        format!("\"{text}\"")
    } else {
        format!("\"{}.{:02}\"", cents / 100, cents % 100)
    };
    let notes: String = (0..14)
        .map(|i| format!("note {id}-{i} lorem ipsum dolor sit amet "))
        .collect();
    let _ = write!(
        out,
        r#"{{"id":{id},"name":"Account {id} {}","email":"owner{id}@example.org","region":"{}","balance":{balance},"updated_at":{},"active":{},"notes":"{}"}}"#,
        rng.below(1000),
        regions[rng.below(4) as usize],
        1_700_000_000_000_000u64 + rng.below(1_000_000_000),
        rng.below(2) == 1,
        &notes[..notes.len().min(700)]
    );
}

fn base64_into(bytes: &[u8], out: &mut String) {
    const TABLE: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    for chunk in bytes.chunks(3) {
        let n = chunk
            .iter()
            .enumerate()
            .fold(0u32, |acc, (i, &b)| acc | u32::from(b) << (16 - 8 * i));
        for i in 0..4 {
            out.push(if i <= chunk.len() {
                TABLE[(n >> (18 - 6 * i)) as usize & 63] as char
            } else {
                '='
            });
        }
    }
}

/// Writes `events` records, 70 % updates of existing keys, and returns the file's size.
fn generate(path: &Path, events: u64, schema: bool) -> u64 {
    let mut file = BufWriter::new(std::fs::File::create(path).unwrap());
    let mut rng = Lcg(42);
    let mut keys = 0u64;
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
        let _ = write!(line, r#"{{"key":{{"id":{id}}},"value":"#);
        if schema {
            let _ = write!(line, r#"{{"schema":{SCHEMA},"payload":"#);
        }
        let _ = write!(
            line,
            r#"{{"op":"{}","before":null,"after":"#,
            if update { "u" } else { "c" }
        );
        row(&mut line, &mut rng, id, schema);
        line.push_str(r#","source":{"ts_ms":1700000000000}}"#);
        if schema {
            line.push('}');
        }
        line.push_str("}\n");
        file.write_all(line.as_bytes()).unwrap();
    }
    file.flush().unwrap();
    std::fs::metadata(path).unwrap().len()
}

fn main() {
    let events: u64 = std::env::var("FLOE_BENCH_EVENTS")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(1_000_000);
    let root = floe_tests::workspace_root().join("target/bench-file-to-iceberg");
    println!(
        "file source → Iceberg, {events} Debezium events, 70 % updates (floe run, release build)"
    );
    let seaweed = floe_tests::seaweed::Seaweed::start();
    let mut variants = vec![
        ("schemaless", false, None),
        ("with schema blocks", true, None),
    ];
    if let Some(server) = &seaweed {
        variants.push((
            "REST + S3 schemaless",
            false,
            Some(server.catalog_toml(&server.catalog_uri())),
        ));
    }
    for (label, schema, rest) in variants {
        let dir = root.join(match (schema, &rest) {
            (_, Some(_)) => "rest",
            (true, None) => "schema",
            (false, None) => "schemaless",
        });
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap();
        let events_file = dir.join("events.jsonl");
        let bytes = generate(&events_file, events, schema);
        let types = if schema {
            ""
        } else {
            "types = { balance = \"decimal(12,2)\", updated_at = \"timestamp\" }\n"
        };
        let mut toml =
            PipelineToml::file("bench", "dbserver1.shop.accounts", "shop.accounts", 100_000)
                .catalog_at("sqlite://catalog.db", "warehouse")
                .without_dlq()
                .table_keys(&format!("create = true\n{types}"));
        if let Some(section) = &rest {
            toml = toml.catalog_toml(section);
        }
        let config = toml.write(&dir);
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
        let (peak_kib, cpu_seconds) = match measured.as_slice() {
            [peak, user, system] => (*peak as u64, user + system),
            _ => (0, f64::NAN),
        };
        println!(
            "  {label:<20} {:>9.0} events/s  {:>6.1} MB/s  {:>5.2} µs CPU/event  peak RSS {:>5} MiB  ({:.1} s, {:.2} GB)",
            events as f64 / seconds,
            bytes as f64 / seconds / 1e6,
            cpu_seconds / events as f64 * 1e6,
            peak_kib / 1024,
            seconds,
            bytes as f64 / 1e9
        );
        if rest.is_some() {
            let _ = std::fs::remove_file(&events_file);
            continue;
        }
        // The key index, rebuilt from the table as a restart would; five
        // times, as this shared machine slows single runs down.
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .unwrap();
        runtime.block_on(async {
            let catalog = SqlCatalog::connect(&CatalogConfig {
                name: "floe".into(),
                uri: format!("sqlite://{}", dir.join("catalog.db").display()),
                warehouse: dir.join("warehouse").display().to_string(),
            })
            .await
            .unwrap();
            let ident = catalog::parse_table_ident("shop.accounts").unwrap();
            let mut rates = Vec::new();
            let mut last = None;
            for _ in 0..5 {
                let writer = TableWriter::open(
                    catalog.clone(),
                    ident.clone(),
                    TableOptions::new("bench".to_string()),
                )
                .await
                .unwrap();
                let stats = writer.rebuild_stats();
                rates.push(stats.keys as f64 / stats.seconds.max(1e-9) / 1e6);
                last = Some(writer);
            }
            let writer = last.expect("five rebuilds");
            let stats = writer.rebuild_stats();
            rates.sort_by(f64::total_cmp);
            println!(
                "  {:<20} index: {} keys, {:.1} bytes/key; rebuilt from {} data and {} delete files at {:.2} M keys/s (median of 5; {:.2} to {:.2})",
                "",
                writer.index_len(),
                writer.index_memory_bytes() as f64 / writer.index_len().max(1) as f64,
                stats.data_files,
                stats.delete_files,
                rates[2],
                rates[0],
                rates[4],
            );
        });
        let _ = std::fs::remove_file(&events_file);
    }
}

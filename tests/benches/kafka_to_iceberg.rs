//! Broker → Iceberg through the `floe` binary: schemaless Debezium events of
//! ~1 KB over 8 partitions, 70 % updates, in librdkafka's mock cluster (a
//! Kafka-protocol broker on a real port, in this process).
//!
//! The mock cluster keeps only 5 MiB per partition, so the producer runs at
//! most 40,000 events ahead of what floe has read (its `/metrics`); floe is
//! the bottleneck, as it would be against a real broker holding a backlog.
//!
//! Prints, for no transform, the Rust `mask` plugin and the Python one:
//! events/s (from the commits' own timestamps, so the group join is not
//! counted) and peak RSS; then p50/p99 from produce to visible in a
//! snapshot at `interval_ms = 1000` with a steady producer. Asserts nothing
//! about speed.
//!
//! `cargo bench -p floe-tests --bench kafka_to_iceberg` after
//! `cargo build --release -p floe` and `bash scripts/build-plugins.sh`
//! (and build-python-plugins.sh); `FLOE_BENCH_EVENTS` sets the count
//! (default 1,000,000), `FLOE_BENCH_ONLY` the variants to run (a
//! comma-separated list of name prefixes), `FLOE_BENCH_SECONDS` the longest a variant may run
//! (default 120; a slower variant is measured over what it committed).

use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use floe::commit::catalog::{CatalogConfig, SqlCatalog, parse_table_ident};
use floe::commit::offsets::Offsets;
use floe_tests::cdc::Lcg;
use floe_tests::config::PipelineToml;
use floe_tests::{floe_bin, free_port, http_get, workspace_root};
use rdkafka::ClientConfig;
use rdkafka::mocking::MockCluster;
use rdkafka::producer::{BaseRecord, DefaultProducerContext, Producer, ThreadedProducer};

const TOPIC: &str = "bench.shop.accounts";
const LATENCY_TOPIC: &str = "bench.shop.latency";
const PARTITIONS: i32 = 8;

fn row(rng: &mut Lcg, id: u64) -> String {
    let regions = ["eu", "us", "apac", "latam"];
    let notes: String = (0..14)
        .map(|i| format!("note {id}-{i} lorem ipsum dolor sit amet "))
        .collect();
    format!(
        r#"{{"id":{id},"name":"Account {id} {}","email":"owner{id}@example.org","region":"{}","balance":{},"active":{},"notes":"{}"}}"#,
        rng.below(1000),
        regions[rng.below(4) as usize],
        rng.below(10_000_000),
        rng.below(2) == 1,
        &notes[..notes.len().min(700)]
    )
}

/// The `n`-th event: 30 % inserts of new keys, 70 % updates of known ones.
fn event(rng: &mut Lcg, n: u64, keys: &mut u64) -> (i32, String, String) {
    let (op, id) = if *keys < 1000 || rng.below(10) < 3 {
        *keys += 1;
        ("c", *keys)
    } else {
        ("u", 1 + rng.below(*keys))
    };
    let after = row(rng, id);
    let value = format!(r#"{{"op":"{op}","after":{after},"source":{{"ts_ms":{n}}}}}"#);
    (
        (id % PARTITIONS as u64) as i32,
        format!(r#"{{"id":{id}}}"#),
        value,
    )
}

fn producer(servers: &str) -> ThreadedProducer<DefaultProducerContext> {
    ClientConfig::new()
        .set("bootstrap.servers", servers)
        .set("linger.ms", "20")
        .set("batch.size", "1000000")
        .set("queue.buffering.max.messages", "1000000")
        .create()
        .expect("producer")
}

fn send(
    producer: &ThreadedProducer<DefaultProducerContext>,
    topic: &str,
    partition: i32,
    key: &str,
    value: &str,
) {
    let mut record = BaseRecord::to(topic)
        .partition(partition)
        .key(key)
        .payload(value);
    loop {
        match producer.send(record) {
            Ok(()) => return,
            Err((_, back)) => {
                std::thread::sleep(Duration::from_millis(1));
                record = back;
            }
        }
    }
}

fn config(
    dir: &Path,
    servers: &str,
    topic: &str,
    pipeline: &str,
    transforms: &str,
) -> std::path::PathBuf {
    // The mock cluster answers a fetch with no new data only when
    // fetch.wait.max.ms (default 500) runs out, where a real broker answers as
    // soon as a record arrives (fetch.min.bytes = 1); at the default, the
    // producer's pacing and these waits, not floe, set the rate.
    let source = "[source.properties]\n\"fetch.wait.max.ms\" = \"10\"";
    let table = format!(
        r#"create = true
types = {{ id = "long", name = "string", email = "string", region = "string", balance = "long", active = "boolean", notes = "string" }}
{transforms}
[plugins]
dir = "{plugins}"
hot_reload = false
cache_dir = "{cache}""#,
        plugins = workspace_root().join("target/plugins").display(),
        cache = workspace_root().join("target/floe-test-cache").display(),
    );
    PipelineToml::kafka(pipeline, servers, source, topic, "shop.accounts")
        .catalog_at("sqlite://catalog.db", "warehouse")
        .commit(1000, 100_000)
        .table_keys(&table)
        .write(dir)
}

/// (commit time in ms, records covered) of every snapshot, oldest first.
fn snapshots(dir: &Path, pipeline: &str) -> Vec<(i64, i64)> {
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
        let Ok(table) = catalog
            .load_table(&parse_table_ident("shop.accounts").unwrap())
            .await
        else {
            return Vec::new();
        };
        let mut out: Vec<(i64, i64)> = table
            .metadata
            .snapshots()
            .filter_map(|s| {
                let offsets = s.summary().additional_properties.get("floe.offsets")?;
                let offsets = Offsets::from_json(offsets)?;
                let _ = pipeline;
                Some((s.timestamp_ms(), offsets.iter().map(|(_, _, o)| o).sum()))
            })
            .collect();
        out.sort();
        out
    })
}

fn peak_rss_mib(child: &Child) -> f64 {
    let status =
        std::fs::read_to_string(format!("/proc/{}/status", child.id())).unwrap_or_default();
    status
        .lines()
        .find(|l| l.starts_with("VmHWM:"))
        .and_then(|l| l.split_whitespace().nth(1))
        .and_then(|kb| kb.parse::<f64>().ok())
        .map_or(f64::NAN, |kb| kb / 1024.0)
}

/// The CPU time (user + system) in a `/proc/.../stat` file, in seconds.
fn stat_seconds(path: &str) -> f64 {
    let stat = std::fs::read_to_string(path).unwrap_or_default();
    // Fields after the command name (which is in parentheses): utime is the
    // 12th and stime the 13th of them, in clock ticks of 1/100 s on Linux.
    let fields: Vec<&str> = stat
        .rsplit_once(')')
        .map(|(_, rest)| rest.split_whitespace().collect())
        .unwrap_or_default();
    let ticks = |i: usize| {
        fields
            .get(i)
            .and_then(|v| v.parse::<f64>().ok())
            .unwrap_or(f64::NAN)
    };
    (ticks(11) + ticks(12)) / 100.0
}

/// The CPU time the process has used so far, in seconds: in all, and in
/// its threads named `floe` (poll, apply, commit) and `floe-decode`
/// (decoding and the plugins).
fn cpu_seconds(child: &Child) -> (f64, f64, f64) {
    let pid = child.id();
    let total = stat_seconds(&format!("/proc/{pid}/stat"));
    let (mut main, mut decode) = (0.0, 0.0);
    if let Ok(tasks) = std::fs::read_dir(format!("/proc/{pid}/task")) {
        for task in tasks.flatten() {
            let dir = task.path();
            let comm = std::fs::read_to_string(dir.join("comm")).unwrap_or_default();
            let seconds = stat_seconds(&dir.join("stat").display().to_string());
            match comm.trim() {
                "floe" => main += seconds,
                "floe-decode" => decode += seconds,
                _ => {}
            }
        }
    }
    (total, main, decode)
}

fn start(config: &Path) -> Child {
    Command::new(floe_bin())
        .args(["run", "--config"])
        .arg(config)
        .env("FLOE_LOG", "warn")
        .stdout(Stdio::null())
        .spawn()
        .unwrap()
}

fn terminate(mut child: Child) {
    let _ = Command::new("kill")
        .args(["-TERM", &child.id().to_string()])
        .status();
    let _ = child.wait();
}

fn main() {
    let events: u64 = std::env::var("FLOE_BENCH_EVENTS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(1_000_000);
    let limit = Duration::from_secs(
        std::env::var("FLOE_BENCH_SECONDS")
            .ok()
            .and_then(|v| v.parse().ok())
            .unwrap_or(120),
    );
    let cluster = MockCluster::new(1).unwrap();
    cluster.create_topic(LATENCY_TOPIC, PARTITIONS, 1).unwrap();
    let servers = cluster.bootstrap_servers();

    let producer = producer(&servers);
    let variants = [
        ("no transform", String::new()),
        ("Rust mask", "[[tables.transforms]]\nplugin = \"mask\"\nconfig = { columns = \"email\", salt = \"s\" }".to_string()),
        ("Python mask", "[[tables.transforms]]\nplugin = \"mask-py\"\nmemory_mib = 256\nconfig = { columns = \"email\", salt = \"s\" }".to_string()),
    ];
    let runs: usize = std::env::var("FLOE_BENCH_RUNS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(1);
    // Per variant: events/s and CPU µs per event of each run.
    let mut results: Vec<Vec<(f64, f64)>> = vec![Vec::new(); variants.len()];
    for run in 0..runs {
        for (i, (name, transforms)) in variants.iter().enumerate() {
            let wanted = std::env::var("FLOE_BENCH_ONLY").map_or(true, |only| {
                only.split(',')
                    .any(|prefix| name.starts_with(prefix.trim()))
            });
            if !wanted {
                continue;
            }
            if !plugin_path_exists(name) {
                println!("{name:>13}: skipped (plugin not built)");
                continue;
            }
            let dir = tempfile::tempdir().unwrap();
            let pipeline = format!("bench-{run}-{i}");
            let topic = format!("{TOPIC}.{run}.{i}");
            cluster.create_topic(&topic, PARTITIONS, 1).unwrap();
            let port = free_port();
            let config = config(
                dir.path(),
                &servers,
                &topic,
                &pipeline,
                &format!("{transforms}\n[metrics]\nlisten = \"127.0.0.1:{port}\""),
            );
            let child = start(&config);
            let begun = Instant::now();
            let mut rss = 0.0_f64;
            // The mock cluster keeps 5 MiB per partition: produce no further
            // ahead of what floe has read than it can hold.
            let mut rng = Lcg(42);
            let mut keys = 0;
            let mut bytes = 0;
            let mut n = 0;
            while n < events && begun.elapsed() < limit {
                if n >= records_in(port) + AHEAD {
                    std::thread::sleep(Duration::from_millis(5));
                    continue;
                }
                for _ in 0..1000.min(events - n) {
                    let (partition, key, value) = event(&mut rng, n, &mut keys);
                    bytes += value.len();
                    send(&producer, &topic, partition, &key, &value);
                    n += 1;
                }
                rss = rss.max(peak_rss_mib(&child));
            }
            producer.flush(Duration::from_secs(60)).unwrap();
            if i == 0 && run == 0 {
                println!(
                    "events: {events} of {:.0} B on average ({keys} keys, 70 % updates), {PARTITIONS} partitions",
                    bytes as f64 / n.max(1) as f64
                );
            }
            loop {
                std::thread::sleep(Duration::from_millis(500));
                rss = rss.max(peak_rss_mib(&child));
                let done = snapshots(dir.path(), &pipeline)
                    .last()
                    .is_some_and(|s| s.1 as u64 >= n);
                if done || begun.elapsed() > limit {
                    break;
                }
            }
            let (cpu, cpu_main, cpu_decode) = cpu_seconds(&child);
            terminate(child);
            let snaps = snapshots(dir.path(), &pipeline);
            let (Some(first), Some(last)) = (snaps.first(), snaps.last()) else {
                println!("{name:>13}: nothing committed within {limit:?}");
                continue;
            };
            let seconds = (last.0 - first.0) as f64 / 1000.0;
            let rate = (last.1 - first.1) as f64 / seconds.max(0.001);
            let per_event = |seconds: f64| seconds * 1e6 / last.1.max(1) as f64;
            let cpu_per_event = per_event(cpu);
            results[i].push((rate, cpu_per_event));
            println!(
                "{name:>13}: {rate:>9.0} events/s over {} events in {} snapshots ({seconds:.1} s between the first and last commit); floe used {cpu_per_event:.1} µs of CPU per event ({:.1} applying and committing, {:.1} decoding and in plugins); peak RSS {rss:.0} MiB{}",
                last.1,
                snaps.len(),
                per_event(cpu_main),
                per_event(cpu_decode),
                if (last.1 as u64) < events {
                    " (stopped at the time limit)"
                } else {
                    ""
                }
            );
        }
    }
    if runs > 1 {
        let median = |mut v: Vec<f64>| {
            v.sort_by(f64::total_cmp);
            v[v.len() / 2]
        };
        let medians: Vec<Option<(f64, f64)>> = results
            .iter()
            .map(|runs| {
                (!runs.is_empty()).then(|| {
                    (
                        median(runs.iter().map(|r| r.0).collect()),
                        median(runs.iter().map(|r| r.1).collect()),
                    )
                })
            })
            .collect();
        for (i, (name, _)) in variants.iter().enumerate() {
            let Some((rate, cpu)) = medians[i] else {
                continue;
            };
            let cost = match (i, medians[0]) {
                (1.., Some((base_rate, base_cpu))) => format!(
                    "; costs {:.0} % of the events/s without a transform, {:.0} % more CPU per event",
                    (1.0 - rate / base_rate) * 100.0,
                    (cpu / base_cpu - 1.0) * 100.0
                ),
                _ => String::new(),
            };
            println!(
                "{name:>13}: median of {} runs {rate:>9.0} events/s, {cpu:.1} µs of CPU per event{cost}",
                results[i].len(),
            );
        }
    }

    // Produce → visible: a steady producer, commits every second.
    let dir = tempfile::tempdir().unwrap();
    let config = config(dir.path(), &servers, LATENCY_TOPIC, "bench-latency", "");
    let child = start(&config);
    std::thread::sleep(Duration::from_secs(5)); // the group join
    let rate_per_s = 20_000_u64;
    let seconds = 20;
    let mut produced_at: Vec<i64> = Vec::new(); // per record in production order: ms
    let mut per_partition: Vec<Vec<i64>> = vec![Vec::new(); PARTITIONS as usize];
    let mut rng = Lcg(7);
    let mut keys = 0;
    let tick = Duration::from_millis(50);
    let per_tick = rate_per_s * tick.as_millis() as u64 / 1000;
    let begun = Instant::now();
    for t in 0..(seconds * 1000 / tick.as_millis() as u64) {
        for _ in 0..per_tick {
            let n = produced_at.len() as u64;
            let (partition, key, value) = event(&mut rng, n, &mut keys);
            send(&producer, LATENCY_TOPIC, partition, &key, &value);
            let now = SystemTime::now()
                .duration_since(UNIX_EPOCH)
                .unwrap()
                .as_millis() as i64;
            produced_at.push(now);
            per_partition[partition as usize].push(now);
        }
        let next = tick * (t as u32 + 1);
        std::thread::sleep(next.saturating_sub(begun.elapsed()));
    }
    producer.flush(Duration::from_secs(30)).unwrap();
    let total = produced_at.len() as i64;
    let waited = Instant::now();
    while snapshots(dir.path(), "bench-latency")
        .last()
        .is_none_or(|s| s.1 < total)
        && waited.elapsed() < Duration::from_secs(60)
    {
        std::thread::sleep(Duration::from_millis(200));
    }
    terminate(child);
    // Per partition, the snapshot that first covers each record.
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    let table = runtime.block_on(async {
        let catalog = SqlCatalog::connect(&CatalogConfig {
            name: "floe".into(),
            uri: format!("sqlite://{}", dir.path().join("catalog.db").display()),
            warehouse: dir.path().join("warehouse").display().to_string(),
        })
        .await
        .unwrap();
        catalog
            .load_table(&parse_table_ident("shop.accounts").unwrap())
            .await
            .unwrap()
    });
    let mut snaps: Vec<(i64, Offsets)> = table
        .metadata
        .snapshots()
        .filter_map(|s| {
            let text = s.summary().additional_properties.get("floe.offsets")?;
            Some((s.timestamp_ms(), Offsets::from_json(text)?))
        })
        .collect();
    snaps.sort_by_key(|s| s.0);
    let mut latencies: Vec<i64> = Vec::new();
    for (p, times) in per_partition.iter().enumerate() {
        let mut s = 0;
        for (offset, produced) in times.iter().enumerate() {
            while s < snaps.len()
                && snaps[s].1.get(LATENCY_TOPIC, p as i32).unwrap_or(0) <= offset as i64
            {
                s += 1;
            }
            if s < snaps.len() {
                latencies.push(snaps[s].0 - produced);
            }
        }
    }
    latencies.sort();
    let pct = |q: f64| {
        latencies
            .get(((latencies.len() as f64 - 1.0) * q) as usize)
            .copied()
            .unwrap_or(-1)
    };
    println!(
        "produce → visible at {rate_per_s} events/s, interval_ms = 1000: p50 {} ms, p99 {} ms, max {} ms ({} of {total} records visible)",
        pct(0.5),
        pct(0.99),
        latencies.last().copied().unwrap_or(-1),
        latencies.len()
    );
}

/// How far the producer may run ahead of what floe has read.
/// 5,000 events of ~750 B per partition: 3.6 MiB, inside the mock
/// cluster's 5 MiB, and enough to keep floe busy through a commit (while it
/// commits, floe reads nothing and the producer waits for it).
const AHEAD: u64 = 40_000;

/// `floe_records_in_total` from the metrics endpoint (0 until it answers).
fn records_in(port: u16) -> u64 {
    let Ok(text) = http_get(port, "/metrics") else {
        return 0;
    };
    text.lines()
        .filter(|l| l.starts_with("floe_records_in_total"))
        .filter_map(|l| l.rsplit(' ').next()?.parse::<u64>().ok())
        .sum()
}

fn plugin_path_exists(variant: &str) -> bool {
    let name = match variant {
        "Rust mask" => "mask",
        "Python mask" => "mask-py",
        _ => return true,
    };
    workspace_root()
        .join(format!("target/plugins/{name}.wasm"))
        .is_file()
}

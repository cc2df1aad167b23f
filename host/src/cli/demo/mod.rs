//! `floe demo`: the whole pipeline on embedded parts.
//!
//! An in-process Kafka-protocol broker (librdkafka's mock cluster, on a real
//! port), Debezium change events produced to it, `floe`'s streaming pipeline
//! with the example plugins (filter, mask, route) writing a SQLite catalog
//! and a local warehouse, and at the end each table's rows read back.

mod events;
mod show;

use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::time::{Duration, Instant};

use anyhow::{Context, bail};
use clap::Args;
use floe::commit::catalog::{CatalogConfig, SqlCatalog, parse_table_ident};
use floe::commit::offsets::table_offsets;
use floe::config::PipelineConfig;
use floe::metrics::Metrics;
use floe::pipeline::{Pipeline, StopSignal};
use rdkafka::ClientConfig;
use rdkafka::mocking::MockCluster;
use rdkafka::producer::{BaseRecord, DefaultProducerContext, Producer, ThreadedProducer};
use std::sync::Arc;

use events::{CUSTOMERS, ORDERS, PARTITIONS};

/// How long the demo may take once built before it gives up.
const DEADLINE: Duration = Duration::from_secs(90);

#[derive(Debug, Args)]
pub struct DemoArgs {
    /// Where the catalog, warehouse, DLQ and pipeline.toml go (emptied first).
    #[arg(long, default_value = "floe-demo")]
    dir: PathBuf,
    /// The folder with mask.wasm, filter.wasm and route.wasm (default: the
    /// `plugins` folder beside the binary's, i.e. `target/plugins`).
    #[arg(long)]
    plugins: Option<PathBuf>,
    /// How many change events to produce.
    #[arg(long, default_value_t = 6000)]
    events: usize,
}

/// The demo's tables, in the order they are shown.
const TABLES: [&str; 3] = [
    "inventory.customers",
    "inventory.customers_apac",
    "inventory.orders",
];

pub fn run(args: DemoArgs) -> anyhow::Result<ExitCode> {
    let plugins = plugin_dir(args.plugins)?;
    if args.dir.exists() {
        std::fs::remove_dir_all(&args.dir)
            .with_context(|| format!("emptying {}", args.dir.display()))?;
    }
    std::fs::create_dir_all(&args.dir)
        .with_context(|| format!("creating {}", args.dir.display()))?;
    let dir = std::fs::canonicalize(&args.dir)?;

    println!("floe demo: starting an in-process Kafka broker (librdkafka's mock cluster)");
    let cluster = MockCluster::new(1).context("starting the mock Kafka cluster")?;
    for topic in [CUSTOMERS, ORDERS] {
        cluster
            .create_topic(topic, PARTITIONS, 1)
            .with_context(|| format!("creating topic {topic}"))?;
    }
    let brokers = cluster.bootstrap_servers();
    let config_path = dir.join("pipeline.toml");
    std::fs::write(&config_path, pipeline_toml(&brokers, &plugins))?;
    let config = PipelineConfig::load(&config_path).map_err(anyhow::Error::msg)?;
    println!(
        "  broker       {brokers}\n  pipeline     {}",
        config_path.display()
    );

    let metrics = Arc::new(Metrics::new());
    let stop = StopSignal::new();
    let pipeline_thread = {
        let (metrics, stop) = (metrics.clone(), stop.clone());
        std::thread::spawn(move || {
            Pipeline::open_with_metrics(config, metrics).and_then(|p| p.run(&stop))
        })
    };

    let events = events::generate(args.events);
    let mut produced = [[0_i64; PARTITIONS as usize]; 2];
    for event in &events {
        let topic = usize::from(event.topic == ORDERS);
        produced[topic][event.partition as usize] += 1;
    }
    println!(
        "  producing    {} Debezium change events to {CUSTOMERS} and {ORDERS} ({PARTITIONS} partitions each)\n",
        events.len()
    );
    let producer: ThreadedProducer<DefaultProducerContext> = ClientConfig::new()
        .set("bootstrap.servers", &brokers)
        .set("linger.ms", "5")
        .create()
        .context("creating the demo's producer")?;

    let started = Instant::now();
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()?;
    let catalog = runtime.block_on(SqlCatalog::connect(&CatalogConfig {
        name: "floe".into(),
        uri: format!("sqlite://{}", dir.join("catalog.db").display()),
        warehouse: dir.join("warehouse").display().to_string(),
    }))?;
    // Produce in slices over a few seconds, so commits happen while events
    // still arrive.
    let slices = 8;
    let per_slice = events.len().div_ceil(slices);
    let mut sent = 0;
    // On a terminal the progress line is rewritten in place; elsewhere (a
    // pipe, a CI log) a line is printed whenever it changes.
    let terminal = std::io::IsTerminal::is_terminal(&std::io::stdout());
    let mut last_line = String::new();
    loop {
        if sent < events.len() {
            for event in &events[sent..(sent + per_slice).min(events.len())] {
                let record = BaseRecord::to(event.topic)
                    .partition(event.partition)
                    .key(&event.key)
                    .payload(&event.value);
                producer
                    .send(record)
                    .map_err(|(e, _)| e)
                    .context("producing")?;
            }
            sent = (sent + per_slice).min(events.len());
            producer.flush(Duration::from_secs(10))?;
        }
        std::thread::sleep(Duration::from_millis(400));
        let totals = metrics.totals();
        let line = format!(
            "  produced {sent:>6} · read {:>6} · committed {:>6} changes in {:>3} snapshots · {} to the DLQ",
            totals.records_in, totals.records_out, totals.snapshots, totals.dead_letters
        );
        if terminal {
            use std::io::Write;
            print!("\r{line}   ");
            std::io::stdout().flush().ok();
        } else if line != last_line {
            println!("{line}");
        }
        last_line = line;
        if pipeline_thread.is_finished() {
            break;
        }
        if sent == events.len() && runtime.block_on(caught_up(&catalog, &produced)) {
            break;
        }
        if started.elapsed() > DEADLINE {
            stop.stop();
            bail!("the pipeline did not catch up within {DEADLINE:?}");
        }
    }
    if terminal {
        println!();
    }
    drop(producer);
    stop.stop();
    let summary = pipeline_thread
        .join()
        .map_err(|_| anyhow::anyhow!("the pipeline thread panicked"))??;
    println!(
        "\nfloe demo: {} records read, {} to the dead-letter queue, {} snapshots, in {:.1} s\n",
        summary.records,
        summary.dead_letters,
        summary.snapshots,
        started.elapsed().as_secs_f64()
    );
    for name in TABLES {
        let ident = parse_table_ident(name).expect("a valid name");
        let loaded = runtime.block_on(catalog.load_table(&ident))?;
        let rows = runtime.block_on(show::read(&catalog, &loaded))?;
        println!("{name}: {} rows", rows.rows.len());
        show::print(&rows, 5);
        println!();
    }
    let metadata = runtime
        .block_on(catalog.load_table(&parse_table_ident(TABLES[0]).expect("valid")))?
        .metadata_location;
    println!(
        "The warehouse is {}; the catalog {}.",
        dir.join("warehouse").display(),
        dir.join("catalog.db").display()
    );
    println!(
        "Dead letters (with their reason) are in {}.",
        dir.join("dlq").display()
    );
    println!("Read a table with DuckDB:");
    println!(
        "    duckdb -c \"INSTALL iceberg; LOAD iceberg; SELECT * FROM iceberg_scan('{metadata}') LIMIT 10\""
    );
    println!("or with PyIceberg:");
    println!(
        "    python -c \"from pyiceberg.catalog.sql import SqlCatalog; print(SqlCatalog('floe', uri='sqlite:///{}', warehouse='file://{}').load_table('{}').scan().to_arrow())\"",
        dir.join("catalog.db").display(),
        dir.join("warehouse").display(),
        TABLES[0]
    );
    drop(cluster);
    Ok(ExitCode::SUCCESS)
}

/// Whether every table's snapshot covers every produced record.
async fn caught_up(catalog: &SqlCatalog, produced: &[[i64; PARTITIONS as usize]; 2]) -> bool {
    let wanted: [(&str, &[&str]); 3] = [
        ("inventory.customers", &[CUSTOMERS]),
        ("inventory.customers_apac", &[CUSTOMERS]),
        ("inventory.orders", &[ORDERS]),
    ];
    for (table, topics) in wanted {
        let Ok(loaded) = catalog
            .load_table(&parse_table_ident(table).expect("valid"))
            .await
        else {
            return false;
        };
        let offsets = table_offsets(&loaded.metadata, "floe-demo");
        for topic in topics {
            let counts = &produced[usize::from(*topic == ORDERS)];
            for (partition, count) in counts.iter().enumerate() {
                if *count > 0 && offsets.get(topic, partition as i32) != Some(*count) {
                    return false;
                }
            }
        }
    }
    true
}

fn plugin_dir(given: Option<PathBuf>) -> anyhow::Result<PathBuf> {
    let dir = match given {
        Some(dir) => dir,
        None => {
            let exe = std::env::current_exe()?;
            // target/release/floe → target/plugins
            exe.parent()
                .and_then(Path::parent)
                .map(|target| target.join("plugins"))
                .filter(|d| d.is_dir())
                .unwrap_or_else(|| PathBuf::from("target/plugins"))
        }
    };
    for plugin in ["filter", "mask", "route"] {
        let file = dir.join(format!("{plugin}.wasm"));
        if !file.is_file() {
            bail!(
                "{} is missing: build the example plugins first (bash scripts/build-plugins.sh), or pass --plugins DIR",
                file.display()
            );
        }
    }
    Ok(std::fs::canonicalize(dir)?)
}

fn pipeline_toml(brokers: &str, plugins: &Path) -> String {
    format!(
        r#"# Written by `floe demo`: run it again with `floe run --config pipeline.toml`
# against a real broker by changing `brokers`.
pipeline = "floe-demo"

[catalog]
kind = "sql"
uri = "sqlite://catalog.db"
warehouse = "warehouse"

[source]
kind = "kafka"
brokers = "{brokers}"

[commit]
interval_ms = 1000

[dlq]
path = "dlq"

[plugins]
dir = "{plugins}"

[[tables]]
topics = ["{CUSTOMERS}"]
table = "inventory.customers"
key = ["id"]
create = true
partition_by = ["region"]
types = {{ id = "long", first_name = "string", last_name = "string", email = "string", region = "string" }}

# Test accounts never reach the lake.
[[tables.transforms]]
plugin = "filter"
config = {{ drop_if = "first_name == 'test'" }}

# E-mail addresses are salted SHA-256 hashes from here on.
[[tables.transforms]]
plugin = "mask"
config = {{ columns = "email", salt = "demo-salt" }}

# APAC customers live in their own table.
[[tables.transforms]]
plugin = "route"
config = {{ column = "region", routes = "apac:inventory.customers_apac" }}

# Fed only by the route above.
[[tables]]
table = "inventory.customers_apac"
key = ["id"]
create = true

[[tables]]
topics = ["{ORDERS}"]
table = "inventory.orders"
key = ["id"]
create = true
partition_by = ["month(order_date)"]
types = {{ id = "long", order_date = "date", purchaser = "long", quantity = "int", product = "string" }}
"#,
        plugins = plugins.display()
    )
}

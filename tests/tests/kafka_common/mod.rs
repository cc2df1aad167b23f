//! What the Kafka tests share: a Kafka-protocol broker (librdkafka's mock
//! cluster on a real port, in the test process), randomized CDC events
//! spread over partitions by key with their oracle, `floe run` processes to
//! start, kill and stop, and the offsets of tables and of the group.

#![allow(dead_code)]

use std::path::{Path, PathBuf};
use std::process::{Child, Command, ExitStatus, Stdio};
use std::time::{Duration, Instant};

use floe::commit::catalog::{SqlCatalog, parse_table_ident};
use floe::commit::offsets::table_offsets;
use floe_tests::config::PipelineToml;
use floe_tests::floe_bin;
use rdkafka::consumer::{BaseConsumer, Consumer};
use rdkafka::mocking::MockCluster;
use rdkafka::producer::{BaseRecord, DefaultProducerContext, Producer, ThreadedProducer};
use rdkafka::{ClientConfig, Offset, TopicPartitionList};

use crate::iceberg_common::TestCatalog;

#[allow(unused_imports)] // Each test binary uses some of them.
pub use floe_tests::cdc::{CdcStream, Event, Lcg, Mix};

/// `count` events keyed by `id` over `partitions` partitions (a topic's
/// [`Mix`]) and the table they make.
pub fn generate(seed: u64, count: usize, partitions: i32) -> CdcStream {
    floe_tests::cdc::generate(seed, count, Mix::kafka(partitions))
}

/// The pipeline id (and consumer group) of the Kafka tests.
pub const PIPELINE: &str = "kafka-cdc";

/// A Kafka-protocol broker in the test process.
pub struct Broker {
    /// The mock cluster (dropping it stops the brokers).
    pub cluster: MockCluster<'static, DefaultProducerContext>,
    /// `host:port,…` of its brokers.
    pub servers: String,
}

impl Broker {
    /// Starts `brokers` brokers with `topic` of `partitions` partitions.
    pub fn start(brokers: i32, topic: &str, partitions: i32) -> Self {
        let cluster = MockCluster::new(brokers).expect("mock cluster");
        cluster.create_topic(topic, partitions, 1).expect("topic");
        let servers = cluster.bootstrap_servers();
        Broker { cluster, servers }
    }

    /// An idempotent producer (no duplicates, order kept per partition).
    pub fn producer(&self) -> ThreadedProducer<DefaultProducerContext> {
        producer(&self.servers, Batching::Lingered)
    }
}

/// A standalone Kafka-protocol broker: `tansu` (a Kafka-compatible broker
/// written in Rust) with in-memory storage, as its own process on a free
/// port. `cargo install tansu --features dynostore` builds one.
pub struct Tansu {
    child: Child,
    /// `host:port` of the broker.
    pub servers: String,
    /// Where its log goes.
    pub log: PathBuf,
}

impl Tansu {
    /// The `tansu` binary: `$FLOE_TANSU`, else `tansu` on the `PATH`.
    pub fn binary() -> Option<PathBuf> {
        if let Some(path) = std::env::var_os("FLOE_TANSU") {
            return Some(PathBuf::from(path));
        }
        std::env::var_os("PATH").and_then(|paths| {
            std::env::split_paths(&paths)
                .map(|dir| dir.join("tansu"))
                .find(|candidate| candidate.is_file())
        })
    }

    /// Whether a test must fail rather than skip without the binary
    /// (`FLOE_TEST_TANSU=1`, set by `scripts/test.sh` once it installed one).
    pub fn required() -> bool {
        std::env::var("FLOE_TEST_TANSU").is_ok_and(|v| v == "1")
    }

    /// As [`Tansu::start`], saying the test skipped when no binary is
    /// installed; fails then instead if [`Tansu::required`].
    pub fn start_or_skip(dir: &Path, topic: &str, partitions: i32) -> Option<Tansu> {
        let broker = Self::start(dir, topic, partitions);
        if broker.is_none() {
            assert!(
                !Self::required(),
                "FLOE_TEST_TANSU=1 but no tansu binary ($FLOE_TANSU or tansu on the PATH)"
            );
            println!(
                "skipped: no standalone broker installed (cargo install tansu --features dynostore)"
            );
        }
        broker
    }

    /// Starts the broker (logging into `dir`) and creates `topic` with
    /// `partitions` partitions; `None` when no binary is installed.
    pub fn start(dir: &Path, topic: &str, partitions: i32) -> Option<Tansu> {
        let binary = Self::binary()?;
        let port = floe_tests::free_port();
        let url = format!("tcp://127.0.0.1:{port}");
        let log = dir.join("tansu.log");
        let child = Command::new(&binary)
            .args([
                "broker",
                "--listener-url",
                &url,
                "--advertised-listener-url",
                &url,
            ])
            .args(["--storage-engine", "memory://tansu/"])
            .stdout(Stdio::null())
            .stderr(std::fs::File::create(&log).unwrap())
            .spawn()
            .unwrap_or_else(|e| panic!("starting {}: {e}", binary.display()));
        let broker = Tansu {
            child,
            servers: format!("127.0.0.1:{port}"),
            log,
        };
        let started = Instant::now();
        while std::net::TcpStream::connect(("127.0.0.1", port)).is_err() {
            assert!(
                started.elapsed() < Duration::from_secs(30),
                "tansu did not listen within 30 s: {}",
                std::fs::read_to_string(&broker.log).unwrap_or_default()
            );
            std::thread::sleep(Duration::from_millis(100));
        }
        create_topic(&broker.servers, topic, partitions);
        Some(broker)
    }
}

impl Drop for Tansu {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Creates `topic` with `partitions` partitions through the Kafka admin API.
pub fn create_topic(servers: &str, topic: &str, partitions: i32) {
    use rdkafka::admin::{AdminClient, AdminOptions, NewTopic, TopicReplication};
    use rdkafka::client::DefaultClientContext;
    let admin: AdminClient<DefaultClientContext> = ClientConfig::new()
        .set("bootstrap.servers", servers)
        .create()
        .expect("admin client");
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    let results = runtime
        .block_on(admin.create_topics(
            &[NewTopic::new(topic, partitions, TopicReplication::Fixed(1))],
            &AdminOptions::new().operation_timeout(Some(Duration::from_secs(30))),
        ))
        .expect("create topics");
    for result in results {
        result.unwrap_or_else(|(name, error)| panic!("creating topic {name}: {error}"));
    }
}

/// How a producer groups records into the batches a broker stores.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Batching {
    /// librdkafka's own batching: what a real producer does.
    Lingered,
    /// One record per batch, so that every offset starts a batch. tansu 0.6
    /// answers a fetch that starts inside a batch with the batches after it
    /// (its dynostore keeps the batches whose base offset is at or past the
    /// fetch offset), which loses the rest of that batch for any consumer
    /// positioned mid-batch, as floe is after every restart.
    OneRecordPerBatch,
}

/// An idempotent producer for `servers`.
pub fn producer(servers: &str, batching: Batching) -> ThreadedProducer<DefaultProducerContext> {
    let mut config = ClientConfig::new();
    config
        .set("bootstrap.servers", servers)
        .set("enable.idempotence", "true")
        .set("linger.ms", "5");
    if batching == Batching::OneRecordPerBatch {
        config.set("batch.num.messages", "1");
    }
    config.create().expect("producer")
}

/// Produces `events` to `topic` and waits until the broker has them all.
pub fn produce(producer: &ThreadedProducer<DefaultProducerContext>, topic: &str, events: &[Event]) {
    for event in events {
        let mut record: BaseRecord<'_, str, str> = BaseRecord::to(topic).partition(event.partition);
        if let Some(key) = &event.key {
            record = record.key(key.as_str());
        }
        if let Some(value) = &event.value {
            record = record.payload(value.as_str());
        }
        let mut pending = record;
        loop {
            match producer.send(pending) {
                Ok(()) => break,
                Err((_, back)) => {
                    std::thread::sleep(Duration::from_millis(10));
                    pending = back;
                }
            }
        }
    }
    producer.flush(Duration::from_secs(60)).expect("flush");
}

/// The `[source.properties]` of most Kafka tests: a short group session, so
/// that a killed process's partitions move on quickly.
pub const SHORT_SESSION: &str = r#"[source.properties]
"session.timeout.ms" = "3000"
"heartbeat.interval.ms" = "300"
"#;

/// Writes `<dir>/pipeline.toml`: a Kafka source on `servers` with a short
/// group session ([`SHORT_SESSION`]), one table `table` keyed by `id` and
/// partitioned by region, created by floe; `extra` is appended (more
/// sections or keys of the table).
pub fn write_config(
    dir: &Path,
    catalog: &TestCatalog,
    servers: &str,
    topic: &str,
    table: &str,
    extra: &str,
) -> PathBuf {
    write_config_with_source(dir, catalog, servers, topic, table, SHORT_SESSION, extra)
}

/// As [`write_config`], with `source` (more keys of `[source]`, and its
/// subtables) instead of the short session: `""` keeps floe's defaults.
pub fn write_config_with_source(
    dir: &Path,
    catalog: &TestCatalog,
    servers: &str,
    topic: &str,
    table: &str,
    source: &str,
    extra: &str,
) -> PathBuf {
    PipelineToml::kafka(PIPELINE, servers, source, topic, table)
        .catalog(&catalog.config)
        .table_keys(&format!(
            "partition_by = [\"region\"]\ncreate = true\n{extra}"
        ))
        .write(dir)
}

/// A running `floe run`.
pub struct Floe {
    child: Child,
    log: PathBuf,
}

impl Floe {
    /// Starts `floe run --config <config>`, its log in `<config dir>/floe-<n>.log`.
    pub fn start(config: &Path, n: usize) -> Self {
        Self::start_with(config, n, &[])
    }

    /// As [`Floe::start`], with more arguments of `floe run`.
    pub fn start_with(config: &Path, n: usize, args: &[&str]) -> Self {
        let log = config.parent().unwrap().join(format!("floe-{n}.log"));
        let child = Command::new(floe_bin())
            .args(["run", "--config"])
            .arg(config)
            .args(args)
            .env("FLOE_LOG", "info")
            .stdout(Stdio::null())
            .stderr(std::fs::File::create(&log).unwrap())
            .spawn()
            .expect("floe starts");
        Floe { child, log }
    }

    /// Whether it is still running.
    pub fn running(&mut self) -> bool {
        self.child.try_wait().unwrap().is_none()
    }

    /// Waits for it to exit by itself (at most `within`).
    pub fn wait(mut self, within: Duration) -> ExitStatus {
        let started = Instant::now();
        loop {
            if let Some(status) = self.child.try_wait().unwrap() {
                return status;
            }
            assert!(
                started.elapsed() < within,
                "floe did not exit within {within:?}; log: {}",
                self.log_text()
            );
            std::thread::sleep(Duration::from_millis(50));
        }
    }

    /// SIGKILL.
    pub fn kill(mut self) {
        self.child.kill().unwrap();
        self.child.wait().unwrap();
    }

    /// SIGTERM once it has subscribed, then waits for it to exit (at most `within`).
    pub fn terminate(self, within: Duration) -> ExitStatus {
        let started = Instant::now();
        while !self.log_text().contains("subscribed") && started.elapsed() < within {
            std::thread::sleep(Duration::from_millis(50));
        }
        let status = Command::new("kill")
            .args(["-TERM", &self.child.id().to_string()])
            .status()
            .unwrap();
        assert!(status.success());
        self.wait(within)
    }

    /// What it logged so far.
    pub fn log_text(&self) -> String {
        std::fs::read_to_string(&self.log).unwrap_or_default()
    }
}

impl Drop for Floe {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// The next offset per partition `table`'s latest snapshot records for `topic`.
pub fn table_offsets_of(
    catalog: &TestCatalog,
    table: &str,
    topic: &str,
    partitions: i32,
) -> Vec<Option<i64>> {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    runtime.block_on(async {
        let sql = SqlCatalog::connect(&catalog.config).await.unwrap();
        let Ok(loaded) = sql.load_table(&parse_table_ident(table).unwrap()).await else {
            return vec![None; partitions as usize];
        };
        let offsets = table_offsets(&loaded.metadata, PIPELINE);
        (0..partitions).map(|p| offsets.get(topic, p)).collect()
    })
}

/// Waits until `table`'s snapshot covers `ends` on every partition.
pub fn wait_caught_up(
    catalog: &TestCatalog,
    table: &str,
    topic: &str,
    ends: &[i64],
    within: Duration,
) {
    let started = Instant::now();
    let wanted: Vec<Option<i64>> = ends.iter().map(|&e| Some(e)).collect();
    loop {
        let now = table_offsets_of(catalog, table, topic, ends.len() as i32);
        if now == wanted {
            return;
        }
        assert!(
            started.elapsed() < within,
            "the table did not catch up within {within:?}: at {now:?}, wanted {wanted:?}"
        );
        std::thread::sleep(Duration::from_millis(200));
    }
}

/// The group's committed offsets per partition (`None`: none committed).
pub fn group_offsets(servers: &str, group: &str, topic: &str, partitions: i32) -> Vec<Option<i64>> {
    let consumer: BaseConsumer = ClientConfig::new()
        .set("bootstrap.servers", servers)
        .set("group.id", group)
        .create()
        .unwrap();
    let mut tpl = TopicPartitionList::new();
    for p in 0..partitions {
        tpl.add_partition(topic, p);
    }
    let committed = consumer
        .committed_offsets(tpl, Duration::from_secs(10))
        .unwrap();
    (0..partitions)
        .map(
            |p| match committed.find_partition(topic, p).unwrap().offset() {
                Offset::Offset(o) => Some(o),
                _ => None,
            },
        )
        .collect()
}

/// (partition, offset) of every dead letter under `<dir>/dlq`, sorted, read
/// with pyarrow as a user would (duplicates kept).
pub fn dead_letter_positions(dir: &Path) -> Vec<(i32, i64)> {
    serde_json::from_value(floe_tests::reader::dlq_columns(
        dir,
        &["partition", "offset"],
    ))
    .unwrap()
}

/// Produces `events` to `topic` in slices of 200 from another thread,
/// pausing `pause` between slices.
pub fn produce_in_slices(
    servers: &str,
    topic: &'static str,
    events: Vec<Event>,
    pause: Duration,
    batching: Batching,
) -> std::thread::JoinHandle<()> {
    let servers = servers.to_string();
    std::thread::spawn(move || {
        let producer = producer(&servers, batching);
        for slice in events.chunks(200) {
            produce(&producer, topic, slice);
            std::thread::sleep(pause);
        }
    })
}

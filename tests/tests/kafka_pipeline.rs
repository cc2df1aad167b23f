//! `floe run` against a Kafka-protocol broker over TCP (librdkafka's mock
//! cluster in the test process), as a user runs it: a producer writes
//! randomized CDC events to a 3-partition topic while floe is killed with
//! SIGKILL at random moments and restarted; then brokers fail; then two
//! processes share the partitions; then the kills again on a standalone
//! broker (`tansu`, when installed). Each time the table, read by
//! PyIceberg, must equal the oracle, the DLQ must hold each poison record
//! once, and the group's offsets must never be ahead of the table's.

mod iceberg_common;
mod kafka_common;
mod pipeline_common;

use std::time::Duration;

use iceberg_common::TestCatalog;
use kafka_common::{
    Batching, Broker, CdcStream, Floe, Lcg, PIPELINE, Tansu, dead_letter_positions, generate,
    group_offsets, produce, produce_in_slices, table_offsets_of, wait_caught_up, write_config,
};
use serde_json::Value as Json;

const TOPIC: &str = "dbserver1.shop.accounts";
const TABLE: &str = "shop.accounts";
const PARTITIONS: i32 = 3;

/// The checks every test ends with (`servers`: the broker's).
fn check(
    catalog: &TestCatalog,
    dir: &std::path::Path,
    servers: &str,
    stream: &CdcStream,
    context: &str,
) {
    // These topics are never compacted, transactional or trimmed: every
    // offset exists, so floe must never have been handed a gap (checked
    // first: a gap explains any difference below).
    for log in floe_logs(dir) {
        assert!(
            !log.contains("not delivered"),
            "{context}: the broker skipped offsets: {}",
            log.lines()
                .find(|l| l.contains("not delivered"))
                .unwrap_or_default()
        );
    }
    let read = catalog.read(TABLE);
    let mut rows: Vec<Json> = read["pyiceberg"].as_array().unwrap().clone();
    rows.sort_by_key(|r| r["id"].as_i64());
    let expected: Vec<Json> = stream.oracle.values().cloned().collect();
    assert_eq!(rows.len(), expected.len(), "{context}: row count");
    assert_eq!(rows, expected, "{context}: PyIceberg sees the oracle");
    let equality_deletes = read["files"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|f| f["content"] == 2)
        .count();
    assert_eq!(equality_deletes, 0, "{context}: no equality deletes");
    let poison: Vec<(i32, i64)> = stream.poison.iter().copied().collect();
    assert_eq!(
        dead_letter_positions(dir),
        poison,
        "{context}: the DLQ holds each poison record once"
    );
    let table = table_offsets_of(catalog, TABLE, TOPIC, PARTITIONS);
    let group = group_offsets(servers, PIPELINE, TOPIC, PARTITIONS);
    for p in 0..PARTITIONS as usize {
        if let Some(committed) = group[p] {
            assert!(
                Some(committed) <= table[p],
                "{context}: the group's offset {committed} of partition {p} is ahead of the table's {:?}",
                table[p]
            );
        }
    }
}

/// What every `floe run` of the test logged (`floe-<n>.log` in `dir`).
fn floe_logs(dir: &std::path::Path) -> Vec<String> {
    std::fs::read_dir(dir)
        .unwrap()
        .flatten()
        .filter(|e| {
            let name = e.file_name();
            let name = name.to_string_lossy();
            name.starts_with("floe-") && name.ends_with(".log")
        })
        .map(|e| std::fs::read_to_string(e.path()).unwrap())
        .collect()
}

/// Produces `stream` to `servers` (batched as `batching` says) while `floe
/// run` is killed with SIGKILL `kills` times at random moments and
/// restarted; then one last run catches up, stops on SIGTERM, and the
/// checks run.
fn sigkills_while_producing(
    dir: &std::path::Path,
    servers: &str,
    stream: &CdcStream,
    kills: usize,
    batching: Batching,
) {
    let catalog = TestCatalog::new(dir);
    let config = write_config(dir, &catalog, servers, TOPIC, TABLE, "");
    // The producer writes in slices while floe is killed and restarted.
    let producing = produce_in_slices(
        servers,
        TOPIC,
        stream.events.clone(),
        Duration::from_millis(250),
        batching,
    );
    let mut rng = Lcg(11);
    for n in 0..kills {
        let before: i64 = table_offsets_of(&catalog, TABLE, TOPIC, PARTITIONS)
            .iter()
            .flatten()
            .sum();
        let mut floe = Floe::start(&config, n);
        if n % 4 == 3 {
            // Every fourth run lives until it has committed (the group join
            // takes seconds on a loaded machine), then dies mid-stream.
            let started = std::time::Instant::now();
            while table_offsets_of(&catalog, TABLE, TOPIC, PARTITIONS)
                .iter()
                .flatten()
                .sum::<i64>()
                <= before
                && started.elapsed() < Duration::from_secs(30)
            {
                std::thread::sleep(Duration::from_millis(100));
            }
            std::thread::sleep(Duration::from_millis(rng.below(500)));
        } else {
            std::thread::sleep(Duration::from_millis(200 + rng.below(3500)));
        }
        assert!(floe.running(), "floe exited by itself: {}", floe.log_text());
        floe.kill();
    }
    producing.join().unwrap();
    let reached = table_offsets_of(&catalog, TABLE, TOPIC, PARTITIONS);
    println!(
        "after {kills} kills the table is at {reached:?} of {:?}",
        stream.ends
    );
    assert!(
        reached.iter().flatten().sum::<i64>() > 0,
        "the killed processes committed windows between kills"
    );

    let floe = Floe::start(&config, 99);
    wait_caught_up(
        &catalog,
        TABLE,
        TOPIC,
        &stream.ends,
        Duration::from_secs(120),
    );
    let status = floe.terminate(Duration::from_secs(30));
    assert!(status.success(), "SIGTERM ends floe with exit 0: {status}");
    check(
        &catalog,
        dir,
        servers,
        stream,
        &format!("after {kills} kills"),
    );
}

#[test]
fn kafka_to_iceberg_exactly_once_across_20_sigkills() {
    let dir = tempfile::tempdir().unwrap();
    let broker = Broker::start(1, TOPIC, PARTITIONS);
    let stream = generate(0xcafe, 6000, PARTITIONS);
    assert!(
        stream.poison.len() > 100,
        "poison records: {}",
        stream.poison.len()
    );
    sigkills_while_producing(dir.path(), &broker.servers, &stream, 20, Batching::Lingered);
}

#[test]
fn broker_faults_lose_and_duplicate_nothing_and_floe_stays_up() {
    use rdkafka::types::{RDKafkaApiKey, RDKafkaRespErr};
    let dir = tempfile::tempdir().unwrap();
    let catalog = TestCatalog::new(dir.path());
    let broker = Broker::start(3, TOPIC, PARTITIONS);
    let stream = generate(0xfa17, 3000, PARTITIONS);
    let config = write_config(dir.path(), &catalog, &broker.servers, TOPIC, TABLE, "");
    let mut floe = Floe::start(&config, 0);
    let producer = broker.producer();
    let (first, second) = stream.events.split_at(1500);
    produce(&producer, TOPIC, first);
    std::thread::sleep(Duration::from_secs(4));

    // Fetches and offset commits fail; then a broker goes down and comes back.
    broker.cluster.request_errors(
        RDKafkaApiKey::Fetch,
        &[
            RDKafkaRespErr::RD_KAFKA_RESP_ERR_NOT_LEADER_FOR_PARTITION,
            RDKafkaRespErr::RD_KAFKA_RESP_ERR_REQUEST_TIMED_OUT,
            RDKafkaRespErr::RD_KAFKA_RESP_ERR_NOT_LEADER_FOR_PARTITION,
            RDKafkaRespErr::RD_KAFKA_RESP_ERR_BROKER_NOT_AVAILABLE,
        ],
    );
    broker.cluster.request_errors(
        RDKafkaApiKey::OffsetCommit,
        &[
            RDKafkaRespErr::RD_KAFKA_RESP_ERR_COORDINATOR_NOT_AVAILABLE,
            RDKafkaRespErr::RD_KAFKA_RESP_ERR_REQUEST_TIMED_OUT,
        ],
    );
    broker.cluster.broker_down(2).unwrap();
    std::thread::sleep(Duration::from_secs(3));
    assert!(
        floe.running(),
        "a broker outage does not end floe: {}",
        floe.log_text()
    );
    broker.cluster.broker_up(2).unwrap();
    produce(&producer, TOPIC, second);

    wait_caught_up(
        &catalog,
        TABLE,
        TOPIC,
        &stream.ends,
        Duration::from_secs(120),
    );
    assert!(floe.running(), "floe stayed up: {}", floe.log_text());
    let status = floe.terminate(Duration::from_secs(30));
    assert!(status.success(), "{status}");
    check(
        &catalog,
        dir.path(),
        &broker.servers,
        &stream,
        "after broker faults",
    );
}

#[test]
fn two_processes_share_the_partitions_and_one_takes_over_from_the_other() {
    let dir = tempfile::tempdir().unwrap();
    let catalog = TestCatalog::new(dir.path());
    let broker = Broker::start(1, TOPIC, PARTITIONS);
    let stream = generate(0x2b2b, 4000, PARTITIONS);
    let config = write_config(dir.path(), &catalog, &broker.servers, TOPIC, TABLE, "");
    // Two processes of one pipeline on one host: each its own instance name.
    let first = Floe::start_with(&config, 0, &["--instance", "a"]);
    let mut second = Floe::start_with(&config, 1, &["--instance", "b"]);

    let producing = produce_in_slices(
        &broker.servers,
        TOPIC,
        stream.events.clone(),
        Duration::from_millis(300),
        Batching::Lingered,
    );
    std::thread::sleep(Duration::from_secs(7));
    let shared = first.log_text();
    first.kill();
    producing.join().unwrap();

    wait_caught_up(
        &catalog,
        TABLE,
        TOPIC,
        &stream.ends,
        Duration::from_secs(120),
    );
    assert!(second.running(), "{}", second.log_text());
    let log = second.log_text();
    let status = second.terminate(Duration::from_secs(30));
    assert!(status.success(), "{status}");
    assert!(
        shared.contains("committed") && log.contains("committed"),
        "both processes committed windows"
    );
    assert!(
        log.matches("rebalance").count() >= 3,
        "the survivor took the other's partitions over in a rebalance: {log}"
    );
    check(
        &catalog,
        dir.path(),
        &broker.servers,
        &stream,
        "after a takeover",
    );
}

#[test]
fn kafka_to_iceberg_exactly_once_across_sigkills_on_a_standalone_broker() {
    let dir = tempfile::tempdir().unwrap();
    let Some(broker) = Tansu::start_or_skip(dir.path(), TOPIC, PARTITIONS) else {
        return;
    };
    let stream = generate(0xbeef, 3000, PARTITIONS);
    // tansu 0.6 loses the rest of a batch to a fetch that starts inside it
    // (see `Batching`); one record per batch keeps this test about floe.
    sigkills_while_producing(
        dir.path(),
        &broker.servers,
        &stream,
        8,
        Batching::OneRecordPerBatch,
    );
}

#[test]
fn records_lost_to_retention_while_floe_was_away_are_reported_where_the_table_stopped() {
    let dir = tempfile::tempdir().unwrap();
    let catalog = TestCatalog::new(dir.path());
    let broker = Broker::start(1, TOPIC, 1);
    // Each half is about 8 MiB of events: more than the 5 MiB a mock
    // partition keeps, so the broker trims its oldest records.
    let stream = generate(0x2e7e, 80_000, 1);
    let port = floe_tests::free_port();
    let extra = format!("[metrics]\nlisten = \"127.0.0.1:{port}\"\n");
    let config = write_config(dir.path(), &catalog, &broker.servers, TOPIC, TABLE, &extra);
    let (first, rest) = stream.events.split_at(40_000);
    let producer = broker.producer();
    let skipped = |n: i64| {
        format!(r#"floe_source_offsets_skipped_total{{topic="{TOPIC}",partition="0"}} {n}"#)
    };

    // A new table reads from wherever the trimmed log starts, and that is
    // no loss: nothing is reported.
    produce(&producer, TOPIC, first);
    let (low, first_end) = watermarks(&broker.servers, TOPIC, 0);
    assert!(low > 0, "the broker trimmed the first half");
    let floe = Floe::start(&config, 0);
    wait_caught_up(
        &catalog,
        TABLE,
        TOPIC,
        &[first_end],
        Duration::from_secs(120),
    );
    let metrics = floe_tests::http_get(port, "/metrics").unwrap();
    let log = floe.log_text();
    assert!(floe.terminate(Duration::from_secs(30)).success());
    assert!(
        !metrics.contains("floe_source_offsets_skipped_total{"),
        "{metrics}"
    );
    assert!(!log.contains("not delivered"), "{log}");

    // While floe is away the broker trims records the table has not read.
    produce(&producer, TOPIC, rest);
    let (low, end) = watermarks(&broker.servers, TOPIC, 0);
    assert_eq!(end, stream.ends[0]);
    assert!(
        low > first_end,
        "the broker trimmed past the table: log starts at {low}"
    );
    let floe = Floe::start(&config, 1);
    wait_caught_up(&catalog, TABLE, TOPIC, &[end], Duration::from_secs(120));
    let metrics = floe_tests::http_get(port, "/metrics").unwrap();
    let log = floe.log_text();
    assert!(floe.terminate(Duration::from_secs(30)).success());
    assert!(
        log.contains(&format!(
            "offsets {first_end}..={} were not delivered",
            low - 1
        )),
        "the lost range is reported where the table stopped: {log}"
    );
    assert!(metrics.contains(&skipped(low - first_end)), "{metrics}");
}

/// The low and high watermarks of a partition.
fn watermarks(servers: &str, topic: &str, partition: i32) -> (i64, i64) {
    use rdkafka::consumer::{BaseConsumer, Consumer};
    let consumer: BaseConsumer = rdkafka::ClientConfig::new()
        .set("bootstrap.servers", servers)
        .create()
        .unwrap();
    consumer
        .fetch_watermarks(topic, partition, Duration::from_secs(10))
        .unwrap()
}

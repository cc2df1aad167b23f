//! `floe run` killed with SIGKILL and started again at once, as a supervisor
//! restarts it, with floe's own consumer-group settings (the pipeline sets
//! none): the time from the restart to the first record the new process
//! reads, on librdkafka's mock cluster and on a standalone broker (`tansu`,
//! when installed), printed and held under 10 s. And a process that another
//! one with the same instance name fenced out of the group stops with a
//! message saying so, instead of retrying forever; and a broker that refuses
//! floe's short default session gets a longer one.

mod iceberg_common;
mod kafka_common;
mod pipeline_common;

use std::path::Path;
use std::time::{Duration, Instant};

use iceberg_common::TestCatalog;
use kafka_common::{
    Batching, Broker, Event, Floe, Tansu, generate, produce, producer, wait_caught_up,
    write_config, write_config_with_source,
};

const TOPIC: &str = "dbserver1.shop.accounts";
const TABLE: &str = "shop.accounts";
const PARTITIONS: i32 = 3;
/// Restarts measured per broker.
const RESTARTS: usize = 3;
/// The longest a restarted process may take to read again.
const WITHIN: Duration = Duration::from_secs(10);

/// The next offset of each partition once `events`, the first events of a
/// stream, are produced to an empty topic.
fn ends_of(events: &[Event]) -> Vec<i64> {
    let mut ends = vec![0; PARTITIONS as usize];
    for event in events {
        ends[event.partition as usize] = event.offset + 1;
    }
    ends
}

/// Waits until the table covers `ends`.
fn caught_up(catalog: &TestCatalog, ends: &[i64]) {
    wait_caught_up(catalog, TABLE, TOPIC, ends, Duration::from_secs(60));
}

/// The records the process serving `/metrics` on `port` has read
/// (`floe_records_in_total`), once it answers.
fn records_read(port: u16) -> Option<u64> {
    let text = floe_tests::http_get(port, "/metrics").ok()?;
    Some(
        text.lines()
            .filter(|line| line.starts_with("floe_records_in_total{"))
            .filter_map(|line| line.rsplit(' ').next()?.parse::<u64>().ok())
            .sum(),
    )
}

/// Runs a pipeline on `servers` with floe's default group settings until it
/// has committed, then `RESTARTS` times kills it with SIGKILL, starts it
/// again at once and produces more records; prints how long each new
/// process took to read its first record, and asserts it was under
/// [`WITHIN`].
fn restart_quickly(dir: &Path, broker: &str, servers: &str, batching: Batching) {
    let catalog = TestCatalog::new(dir);
    let port = floe_tests::free_port();
    let metrics = format!("[metrics]\nlisten = \"127.0.0.1:{port}\"\n");
    let config = write_config_with_source(dir, &catalog, servers, TOPIC, TABLE, "", &metrics);
    let stream = generate(0x5eed, 2000, PARTITIONS);
    let size = stream.events.len().div_ceil(RESTARTS + 1);
    let slices: Vec<&[Event]> = stream.events.chunks(size).collect();
    let producer = producer(servers, batching);
    produce(&producer, TOPIC, slices[0]);
    let mut produced = slices[0].len();
    let mut floe = Floe::start(&config, 0);
    caught_up(&catalog, &ends_of(&stream.events[..produced]));
    let mut times = Vec::new();
    for (n, slice) in slices.iter().enumerate().skip(1) {
        floe.kill();
        let restarted = Instant::now();
        floe = Floe::start(&config, n);
        // Records to read, whatever the killed process had committed.
        produce(&producer, TOPIC, slice);
        produced += slice.len();
        let took = loop {
            if records_read(port).is_some_and(|records| records > 0) {
                break restarted.elapsed();
            }
            assert!(
                floe.running() && restarted.elapsed() < Duration::from_secs(300),
                "{broker}: restart {n} read nothing in {:?}: {}",
                restarted.elapsed(),
                floe.log_text()
            );
            std::thread::sleep(Duration::from_millis(50));
        };
        times.push(format!("{:.1} s", took.as_secs_f64()));
        println!(
            "{broker}: restart {n} after SIGKILL read its first record {:.1} s after it started",
            took.as_secs_f64()
        );
        assert!(
            took < WITHIN,
            "{broker}: restart {n} took {took:?} to read again, wanted under {WITHIN:?}"
        );
        caught_up(&catalog, &ends_of(&stream.events[..produced]));
    }
    println!(
        "{broker}: restarted after SIGKILL, reading again after {}",
        times.join(", ")
    );
    assert!(floe.terminate(Duration::from_secs(30)).success());
}

#[test]
fn a_restart_after_sigkill_reads_again_within_10_s_on_the_mock_cluster() {
    let dir = tempfile::tempdir().unwrap();
    let broker = Broker::start(1, TOPIC, PARTITIONS);
    restart_quickly(
        dir.path(),
        "mock cluster",
        &broker.servers,
        Batching::Lingered,
    );
}

#[test]
fn a_restart_after_sigkill_reads_again_within_10_s_on_a_standalone_broker() {
    let dir = tempfile::tempdir().unwrap();
    let Some(broker) = Tansu::start_or_skip(dir.path(), TOPIC, PARTITIONS) else {
        return;
    };
    // One record per batch: see `Batching::OneRecordPerBatch`.
    restart_quickly(
        dir.path(),
        "tansu",
        &broker.servers,
        Batching::OneRecordPerBatch,
    );
}

#[test]
fn a_process_fenced_out_by_another_with_its_instance_name_stops_and_says_so() {
    use rdkafka::types::{RDKafkaApiKey, RDKafkaRespErr};
    let dir = tempfile::tempdir().unwrap();
    let catalog = TestCatalog::new(dir.path());
    let broker = Broker::start(1, TOPIC, PARTITIONS);
    let config = write_config(dir.path(), &catalog, &broker.servers, TOPIC, TABLE, "");
    let stream = generate(0xfe7c, 300, PARTITIONS);
    produce(&broker.producer(), TOPIC, &stream.events);
    let floe = Floe::start_with(&config, 0, &["--instance", "blue"]);
    caught_up(&catalog, &stream.ends);
    // What a broker answers the member that a second `--instance blue`
    // replaced (the mock cluster ignores instance ids, so it is told to).
    broker.cluster.request_errors(
        RDKafkaApiKey::Heartbeat,
        &[RDKafkaRespErr::RD_KAFKA_RESP_ERR_FENCED_INSTANCE_ID],
    );
    let status = floe.wait(Duration::from_secs(30));
    let log = std::fs::read_to_string(dir.path().join("floe-0.log")).unwrap();
    assert_eq!(status.code(), Some(1), "{log}");
    let why = "floe: another process joined consumer group `kafka-cdc` as `kafka-cdc-blue`";
    let message = log.lines().find(|line| line.starts_with(why));
    assert!(
        message.is_some_and(|m| m.contains("--instance NAME")),
        "floe says why it stopped: {log}"
    );
}

#[test]
fn a_broker_refusing_the_session_timeout_gets_a_longer_one_unless_the_pipeline_set_it() {
    use rdkafka::types::{RDKafkaApiKey, RDKafkaRespErr};
    let dir = tempfile::tempdir().unwrap();
    let catalog = TestCatalog::new(dir.path());
    let broker = Broker::start(1, TOPIC, PARTITIONS);
    let stream = generate(0x5e55, 300, PARTITIONS);
    produce(&broker.producer(), TOPIC, &stream.events);
    // What Apache Kafka answers a join with a session below its
    // `group.min.session.timeout.ms` (6000 by default).
    let refuse_next_join = || {
        broker.cluster.request_errors(
            RDKafkaApiKey::JoinGroup,
            &[RDKafkaRespErr::RD_KAFKA_RESP_ERR_INVALID_SESSION_TIMEOUT],
        )
    };

    refuse_next_join();
    let config =
        write_config_with_source(dir.path(), &catalog, &broker.servers, TOPIC, TABLE, "", "");
    let floe = Floe::start(&config, 0);
    caught_up(&catalog, &stream.ends);
    let log = floe.log_text();
    assert!(floe.terminate(Duration::from_secs(30)).success());
    assert!(
        log.contains(
            "the broker refuses session.timeout.ms = 3000 (below its \
             group.min.session.timeout.ms): joining again with 6000"
        ),
        "{log}"
    );

    // A timeout the pipeline sets is its own: floe stops and says so.
    refuse_next_join();
    let config = write_config(dir.path(), &catalog, &broker.servers, TOPIC, TABLE, "");
    let status = Floe::start(&config, 1).wait(Duration::from_secs(30));
    let log = std::fs::read_to_string(dir.path().join("floe-1.log")).unwrap();
    assert_eq!(status.code(), Some(1), "{log}");
    assert!(
        log.lines()
            .any(|line| line.starts_with("floe: the brokers refuse session.timeout.ms = 3000:")),
        "floe says why it stopped: {log}"
    );
}

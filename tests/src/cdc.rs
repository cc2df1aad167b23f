//! Randomized Debezium change events keyed by `id`, spread over source
//! partitions by key, and the table they make (the oracle): the input of
//! the `floe run` tests, over a file source or a Kafka topic.

use std::collections::{BTreeMap, BTreeSet};

use serde_json::{Value as Json, json};

/// A tiny deterministic generator (no dependency needed for test data).
#[derive(Debug, Clone)]
pub struct Lcg(pub u64);

impl Lcg {
    /// The next number.
    pub fn next_u64(&mut self) -> u64 {
        self.0 = self
            .0
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        self.0 >> 33
    }

    /// A number below `n`.
    pub fn below(&mut self, n: u64) -> u64 {
        self.next_u64() % n
    }
}

/// One source record of a CDC stream.
#[derive(Debug, Clone)]
pub struct Event {
    /// The partition (the key's).
    pub partition: i32,
    /// Its offset there (records are produced in order to an empty topic).
    pub offset: i64,
    /// The key (JSON).
    pub key: Option<String>,
    /// The value; `None` for a tombstone. Poison may not be JSON.
    pub value: Option<String>,
}

impl Event {
    /// The record as a line of a file source: `{"key":…,"value":…}`.
    pub fn line(&self) -> String {
        format!(
            "{{\"key\":{},\"value\":{}}}",
            self.key.as_deref().unwrap_or("null"),
            self.value.as_deref().unwrap_or("null")
        )
    }
}

/// Which changes a stream mixes in besides creates, snapshot reads,
/// updates (moving rows between the table's region partitions), deletes,
/// primary-key changes (a delete and a create) and poison records.
#[derive(Debug, Clone, Copy)]
pub struct Mix {
    /// Source partitions; a key's records go to partition `id % partitions`.
    pub partitions: i32,
    /// A file source's stream: truncates, redelivered ranges of the last
    /// few records, lone tombstones, four kinds of poison (of key 1), the
    /// oracle after every record, and exactly the records asked for.
    /// Otherwise a topic's: a tombstone after half the deletes, three kinds
    /// of poison, and the last change may overshoot the count.
    pub file: bool,
}

impl Mix {
    /// The stream of a file source (one partition).
    pub fn file() -> Self {
        Mix {
            partitions: 1,
            file: true,
        }
    }

    /// The stream of a topic of `partitions` partitions.
    pub fn kafka(partitions: i32) -> Self {
        Mix {
            partitions,
            file: false,
        }
    }
}

/// Randomized change events over partitions, and the table they make.
#[derive(Debug, Clone)]
pub struct CdcStream {
    /// The records, in production order.
    pub events: Vec<Event>,
    /// Rows by id after every event.
    pub oracle: BTreeMap<i64, Json>,
    /// The oracle after each event (a file stream's only).
    pub history: Vec<BTreeMap<i64, Json>>,
    /// (partition, offset) of the records no decoder can read.
    pub poison: BTreeSet<(i32, i64)>,
    /// The next offset of each partition after every event.
    pub ends: Vec<i64>,
}

impl CdcStream {
    /// The file source's lines.
    pub fn lines(&self) -> Vec<String> {
        self.events.iter().map(Event::line).collect()
    }

    /// The rows after the first `n` events (a file stream's).
    pub fn oracle_after(&self, n: usize) -> &BTreeMap<i64, Json> {
        &self.history[n - 1]
    }

    /// The offsets of the poison records among the first `n` events of
    /// partition 0, in order.
    pub fn poison_below(&self, n: usize) -> Vec<i64> {
        self.poison
            .iter()
            .filter(|&&(p, o)| p == 0 && (o as usize) < n)
            .map(|&(_, o)| o)
            .collect()
    }

    /// Appends a record of key `id` (its partition's).
    fn push(&mut self, mix: Mix, id: i64, key: Option<Json>, value: Option<String>, poison: bool) {
        let partition = (id % i64::from(mix.partitions)) as i32;
        self.push_to(mix, partition, key, value, poison);
    }

    /// Appends a record to `partition`.
    fn push_to(
        &mut self,
        mix: Mix,
        partition: i32,
        key: Option<Json>,
        value: Option<String>,
        poison: bool,
    ) {
        let offset = self.ends[partition as usize];
        self.ends[partition as usize] += 1;
        if poison {
            self.poison.insert((partition, offset));
        }
        self.events.push(Event {
            partition,
            offset,
            key: key.map(|k| k.to_string()),
            value,
        });
        if mix.file {
            self.history.push(self.oracle.clone());
        }
    }
}

/// A generated account row.
pub fn account(rng: &mut Lcg, id: i64) -> Json {
    let regions = ["eu", "us", "apac"];
    json!({
        "id": id,
        "name": format!("account-{id}-{}", rng.below(1000)),
        "amount": rng.below(1_000_000) as i64 - 500_000,
        "region": regions[rng.below(3) as usize],
    })
}

/// A Debezium envelope (the record's value).
pub fn envelope(op: &str, before: Option<&Json>, after: Option<&Json>) -> String {
    json!({"op": op, "before": before, "after": after, "source": {"ts_ms": 1_700_000_000_000i64}})
        .to_string()
}

/// The key of `id`.
fn key(id: i64) -> Option<Json> {
    Some(json!({ "id": id }))
}

/// `count` events from `seed`, as `mix` says.
pub fn generate(seed: u64, count: usize, mix: Mix) -> CdcStream {
    let mut rng = Lcg(seed);
    let mut stream = CdcStream {
        events: Vec::with_capacity(count),
        oracle: BTreeMap::new(),
        history: Vec::new(),
        poison: BTreeSet::new(),
        ends: vec![0; mix.partitions as usize],
    };
    let mut next_id = 1_i64;
    while stream.events.len() < count {
        let pick = rng.below(1000);
        let live = stream.oracle.len() as u64;
        let some_live = |rng: &mut Lcg, oracle: &BTreeMap<i64, Json>| {
            *oracle
                .keys()
                .nth(rng.below(oracle.len() as u64) as usize)
                .unwrap()
        };
        match pick {
            0..=299 => {
                let id = next_id;
                next_id += 1;
                let after = account(&mut rng, id);
                stream.oracle.insert(id, after.clone());
                let op = if pick < 250 { "c" } else { "r" };
                let value = envelope(op, None, Some(&after));
                stream.push(mix, id, key(id), Some(value), false);
            }
            300..=699 if live > 0 => {
                let id = some_live(&mut rng, &stream.oracle);
                let before = stream.oracle[&id].clone();
                let after = account(&mut rng, id); // a new region is a partition move
                stream.oracle.insert(id, after.clone());
                let value = envelope("u", Some(&before), Some(&after));
                stream.push(mix, id, key(id), Some(value), false);
            }
            700..=819 if live > 0 => {
                let id = some_live(&mut rng, &stream.oracle);
                let before = stream.oracle.remove(&id).unwrap();
                let value = envelope("d", Some(&before), None);
                stream.push(mix, id, key(id), Some(value), false);
                if !mix.file && rng.below(2) == 0 {
                    stream.push(mix, id, key(id), None, false); // the tombstone that follows a delete
                }
            }
            820..=869 if live > 0 => {
                // A primary-key change: Debezium sends a delete of the old key and a create of the new one.
                let old = some_live(&mut rng, &stream.oracle);
                let before = stream.oracle.remove(&old).unwrap();
                let value = envelope("d", Some(&before), None);
                stream.push(mix, old, key(old), Some(value), false);
                let id = next_id;
                next_id += 1;
                let mut after = before.clone();
                after["id"] = json!(id);
                stream.oracle.insert(id, after.clone());
                let value = envelope("c", None, Some(&after));
                stream.push(mix, id, key(id), Some(value), false);
            }
            _ if mix.file => file_extra(&mut rng, &mut stream, mix, pick),
            870..=909 => {
                let id = rng.below(1000) as i64;
                let value = match rng.below(3) {
                    0 => poison(0, id),
                    1 => poison(1, id),
                    _ => poison(3, id),
                };
                stream.push(mix, id, key(id), Some(value), true);
            }
            _ => {}
        }
    }
    if mix.file {
        stream.events.truncate(count);
        stream.history.truncate(count);
        stream.poison.retain(|&(_, o)| (o as usize) < count);
        stream.ends = vec![count as i64];
    }
    stream
}

/// A poison value of kind `kind`: cut-off JSON, no `op`, a create without
/// an after image, an unknown `op`.
fn poison(kind: u64, id: i64) -> String {
    match kind {
        0 => "{\"op\": \"c\", \"after\": ".to_string(),
        1 => json!({"after": {"id": id}}).to_string(),
        2 => json!({"op": "c", "before": null}).to_string(),
        _ => json!({"op": "x", "after": {"id": id}}).to_string(),
    }
}

/// What a file stream mixes in beyond the common changes (picks 870–999).
fn file_extra(rng: &mut Lcg, stream: &mut CdcStream, mix: Mix, pick: u64) {
    match pick {
        870..=873 => {
            stream.oracle.clear();
            stream.push(mix, 0, None, Some(envelope("t", None, None)), false);
        }
        874..=919 => {
            let value = poison(rng.below(4), 1);
            stream.push(mix, 1, key(1), Some(value), true);
        }
        920..=959 if stream.events.len() > 10 => {
            // A redelivered range: the last few records again, in order.
            let from = stream.events.len() - 1 - rng.below(5) as usize;
            let replay: Vec<(Event, bool)> = stream.events[from..]
                .iter()
                .map(|e| (e.clone(), stream.poison.contains(&(e.partition, e.offset))))
                .collect();
            for (event, poison) in replay {
                apply_to_oracle(event.value.as_deref(), &mut stream.oracle);
                let key = event
                    .key
                    .as_deref()
                    .map(|k| serde_json::from_str(k).unwrap());
                stream.push_to(mix, event.partition, key, event.value, poison);
            }
        }
        960..=999 => {
            // A tombstone after a delete: counted, not written.
            stream.push(mix, 1, key(1), None, false);
        }
        _ => {}
    }
}

/// Applies a redelivered value to the oracle, as a sequential reader would.
fn apply_to_oracle(value: Option<&str>, live: &mut BTreeMap<i64, Json>) {
    let Some(Ok(value)) = value.map(serde_json::from_str::<Json>) else {
        return;
    };
    match value["op"].as_str() {
        Some("c" | "r" | "u") if value["after"].is_object() => {
            live.insert(
                value["after"]["id"].as_i64().unwrap(),
                value["after"].clone(),
            );
        }
        Some("d") => {
            live.remove(&value["before"]["id"].as_i64().unwrap());
        }
        Some("t") => live.clear(),
        _ => {}
    }
}

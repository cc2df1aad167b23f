//! Randomized CDC events over partitions, keyed by `id`, and the table
//! they make (the oracle).

use std::collections::{BTreeMap, BTreeSet};

use serde_json::{Value as Json, json};

/// One Kafka record of a CDC stream.
#[derive(Debug, Clone)]
pub struct Event {
    /// The partition (the key's).
    pub partition: i32,
    /// Its offset there (records are produced in order to an empty topic).
    pub offset: i64,
    /// The key (JSON).
    pub key: Option<String>,
    /// The value; `None` for a tombstone.
    pub value: Option<String>,
}

/// Randomized change events over partitions, and the table they make.
pub struct CdcStream {
    /// The records, in production order.
    pub events: Vec<Event>,
    /// Rows by id after every event.
    pub oracle: BTreeMap<i64, Json>,
    /// (partition, offset) of the records no decoder can read.
    pub poison: BTreeSet<(i32, i64)>,
    /// The next offset of each partition after every event.
    pub ends: Vec<i64>,
}

/// A tiny deterministic generator.
pub struct Lcg(pub u64);

impl Lcg {
    /// The next number.
    pub fn next(&mut self) -> u64 {
        self.0 = self
            .0
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        self.0 >> 33
    }
    /// A number below `n`.
    pub fn below(&mut self, n: u64) -> u64 {
        self.next() % n
    }
}

fn row(rng: &mut Lcg, id: i64) -> Json {
    let regions = ["eu", "us", "apac"];
    json!({
        "id": id,
        "name": format!("account-{id}-{}", rng.below(1000)),
        "amount": rng.below(1_000_000) as i64 - 500_000,
        "region": regions[rng.below(3) as usize],
    })
}

fn envelope(op: &str, before: Option<&Json>, after: Option<&Json>) -> String {
    json!({"op": op, "before": before, "after": after, "source": {"ts_ms": 1_700_000_000_000i64}})
        .to_string()
}

/// `count` events keyed by `id` over `partitions` partitions: creates,
/// snapshot reads, updates (moving rows between the table's region
/// partitions), deletes, primary-key changes (a delete and a create),
/// tombstones and poison records.
pub fn generate(seed: u64, count: usize, partitions: i32) -> CdcStream {
    let mut rng = Lcg(seed);
    let mut stream = CdcStream {
        events: Vec::with_capacity(count),
        oracle: BTreeMap::new(),
        poison: BTreeSet::new(),
        ends: vec![0; partitions as usize],
    };
    let mut next_id = 1_i64;
    let partition_of = |id: i64| (id % i64::from(partitions)) as i32;
    let push = |stream: &mut CdcStream, id: i64, value: Option<String>, poison: bool| {
        let partition = partition_of(id);
        let offset = stream.ends[partition as usize];
        stream.ends[partition as usize] += 1;
        if poison {
            stream.poison.insert((partition, offset));
        }
        stream.events.push(Event {
            partition,
            offset,
            key: Some(json!({"id": id}).to_string()),
            value,
        });
    };
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
                let after = row(&mut rng, id);
                stream.oracle.insert(id, after.clone());
                let op = if pick < 250 { "c" } else { "r" };
                push(
                    &mut stream,
                    id,
                    Some(envelope(op, None, Some(&after))),
                    false,
                );
            }
            300..=699 if live > 0 => {
                let id = some_live(&mut rng, &stream.oracle);
                let before = stream.oracle[&id].clone();
                let after = row(&mut rng, id);
                stream.oracle.insert(id, after.clone());
                push(
                    &mut stream,
                    id,
                    Some(envelope("u", Some(&before), Some(&after))),
                    false,
                );
            }
            700..=819 if live > 0 => {
                let id = some_live(&mut rng, &stream.oracle);
                let before = stream.oracle.remove(&id).unwrap();
                push(
                    &mut stream,
                    id,
                    Some(envelope("d", Some(&before), None)),
                    false,
                );
                if rng.below(2) == 0 {
                    push(&mut stream, id, None, false); // the tombstone that follows a delete
                }
            }
            820..=869 if live > 0 => {
                let old = some_live(&mut rng, &stream.oracle);
                let before = stream.oracle.remove(&old).unwrap();
                push(
                    &mut stream,
                    old,
                    Some(envelope("d", Some(&before), None)),
                    false,
                );
                let id = next_id;
                next_id += 1;
                let mut after = before.clone();
                after["id"] = json!(id);
                stream.oracle.insert(id, after.clone());
                push(
                    &mut stream,
                    id,
                    Some(envelope("c", None, Some(&after))),
                    false,
                );
            }
            870..=909 => {
                let id = rng.below(1000) as i64;
                let poison = match rng.below(3) {
                    0 => "{\"op\": \"c\", \"after\": ".to_string(),
                    1 => json!({"after": {"id": id}}).to_string(),
                    _ => json!({"op": "x", "after": {"id": id}}).to_string(),
                };
                push(&mut stream, id, Some(poison), true);
            }
            _ => {}
        }
    }
    stream
}

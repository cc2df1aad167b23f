//! What the decoder plugins' end-to-end tests share: a randomized workload
//! of row changes over a small key space, with the rows it leaves.

#![allow(dead_code)]

pub mod dts;

use std::collections::BTreeMap;

pub use floe_tests::cdc::Lcg;

/// A row of `shop.items`.
#[derive(Clone, Debug)]
pub struct Row {
    /// The key.
    pub id: i64,
    /// A name, sometimes null.
    pub name: Option<String>,
    /// Hundredths (Canal's `decimal(10,2)`; DMS's `qty`).
    pub cents: i64,
    /// Seconds since the epoch.
    pub seconds: i64,
}

/// One change of the workload.
pub enum Change {
    /// A new row.
    Insert(Row),
    /// A row before and after (the id may differ).
    Update(Row, Row),
    /// A removed row.
    Delete(Row),
}

/// A random row with key `id`.
pub fn row(rng: &mut Lcg, id: i64) -> Row {
    Row {
        id,
        name: (rng.below(10) != 0).then(|| format!("item-{id}-{}", rng.below(1000))),
        cents: rng.below(2_000_000) as i64 - 1_000_000,
        seconds: 1_700_000_000 + rng.below(100_000_000) as i64,
    }
}

/// `n` changes over ids 1..=`keys`, a tenth of the updates moving the row to
/// a free id, and the rows they leave.
pub fn workload(seed: u64, n: usize, keys: i64) -> (Vec<Change>, BTreeMap<i64, Row>) {
    let mut rng = Lcg(seed);
    let mut live: BTreeMap<i64, Row> = BTreeMap::new();
    let mut changes = Vec::new();
    while changes.len() < n {
        let id = 1 + rng.below(keys as u64) as i64;
        let Some(old) = live.get(&id).cloned() else {
            let new = row(&mut rng, id);
            live.insert(id, new.clone());
            changes.push(Change::Insert(new));
            continue;
        };
        if rng.below(10) < 3 {
            live.remove(&id);
            changes.push(Change::Delete(old));
            continue;
        }
        let mut new = row(&mut rng, id);
        let free = 1 + rng.below(keys as u64) as i64;
        if rng.below(10) == 0 && !live.contains_key(&free) {
            new.id = free;
            live.remove(&id);
        }
        live.insert(new.id, new.clone());
        changes.push(Change::Update(old, new));
    }
    (changes, live)
}

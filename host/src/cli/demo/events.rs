//! The demo's change events: Debezium envelopes (`schemas.enable=false`) as
//! a MySQL connector writes them, for a `customers` and an `orders` table,
//! plus one record no decoder can read.

use rand::rngs::StdRng;
use rand::{RngExt, SeedableRng};
use serde_json::{Value, json};

/// The customers topic.
pub const CUSTOMERS: &str = "dbserver1.inventory.customers";
/// The orders topic.
pub const ORDERS: &str = "dbserver1.inventory.orders";
/// Partitions per topic.
pub const PARTITIONS: i32 = 3;

/// One Kafka record to produce.
pub struct Event {
    /// The topic.
    pub topic: &'static str,
    /// The partition (by key, as Kafka's default partitioner would).
    pub partition: i32,
    /// The record key (JSON).
    pub key: String,
    /// The record value (a Debezium envelope, or something broken).
    pub value: String,
}

const REGIONS: [&str; 3] = ["eu", "us", "apac"];
const FIRST: [&str; 8] = [
    "Sally", "George", "Edward", "Anne", "Ravi", "Mei", "Lars", "Ines",
];
const LAST: [&str; 8] = [
    "Thomas",
    "Bailey",
    "Walker",
    "Kretchmar",
    "Patel",
    "Chen",
    "Berg",
    "Costa",
];
const PRODUCTS: [&str; 5] = ["scooter", "car battery", "hammer", "rocks", "spare tire"];

struct Customer {
    id: i64,
    row: Value,
}

fn envelope(
    table: &str,
    op: &str,
    before: Option<&Value>,
    after: Option<&Value>,
    ts_ms: i64,
) -> String {
    json!({
        "before": before,
        "after": after,
        "source": {
            "version": "3.0.0.Final", "connector": "mysql", "name": "dbserver1",
            "ts_ms": ts_ms, "snapshot": "false", "db": "inventory", "table": table,
            "server_id": 223344, "file": "mysql-bin.000003", "pos": 0, "row": 0
        },
        "op": op,
        "ts_ms": ts_ms,
    })
    .to_string()
}

fn customer_row(rng: &mut StdRng, id: i64, name: Option<(&str, &str)>) -> Value {
    let (first, last) =
        name.unwrap_or((FIRST[rng.random_range(0..8)], LAST[rng.random_range(0..8)]));
    json!({
        "id": id,
        "first_name": first,
        "last_name": last,
        "email": format!("{}.{}{}@example.com", first.to_lowercase(), last.to_lowercase(), id),
        "region": REGIONS[rng.random_range(0..3)],
    })
}

/// About `count` events: customers created, updated (email, region) and
/// deleted; test customers a filter drops; orders; one broken record.
pub fn generate(count: usize) -> Vec<Event> {
    let mut rng = StdRng::seed_from_u64(7);
    let mut events = Vec::with_capacity(count);
    let mut customers: Vec<Customer> = Vec::new();
    let mut ts = 1_700_000_000_000_i64;
    let key_of = |id: i64| json!({ "id": id }).to_string();
    let partition_of = |id: i64| (id % i64::from(PARTITIONS)) as i32;
    let mut next_customer = 1001_i64;
    let mut next_order = 10001_i64;
    while events.len() < count {
        ts += 7;
        let roll = rng.random_range(0..100);
        if customers.len() < 50 || roll < 25 {
            let id = next_customer;
            next_customer += 1;
            let test = rng.random_range(0..40) == 0;
            let row = customer_row(&mut rng, id, test.then_some(("test", "account")));
            events.push(Event {
                topic: CUSTOMERS,
                partition: partition_of(id),
                key: key_of(id),
                value: envelope("customers", "c", None, Some(&row), ts),
            });
            customers.push(Customer { id, row });
        } else if roll < 65 {
            let at = rng.random_range(0..customers.len());
            let before = customers[at].row.clone();
            let mut after = before.clone();
            // The region never changes: it routes the customer to a table.
            if rng.random_range(0..2) == 0 {
                after["last_name"] = json!(LAST[rng.random_range(0..8)]);
            } else {
                after["email"] = json!(format!("new{}@example.org", rng.random_range(0..10_000)));
            }
            let id = customers[at].id;
            events.push(Event {
                topic: CUSTOMERS,
                partition: partition_of(id),
                key: key_of(id),
                value: envelope("customers", "u", Some(&before), Some(&after), ts),
            });
            customers[at].row = after;
        } else if roll < 72 {
            let at = rng.random_range(0..customers.len());
            let gone = customers.swap_remove(at);
            events.push(Event {
                topic: CUSTOMERS,
                partition: partition_of(gone.id),
                key: key_of(gone.id),
                value: envelope("customers", "d", Some(&gone.row), None, ts),
            });
        } else {
            let id = next_order;
            next_order += 1;
            let customer = customers[rng.random_range(0..customers.len())].id;
            let row = json!({
                "id": id,
                "order_date": 19_700 + rng.random_range(0..90),
                "purchaser": customer,
                "quantity": rng.random_range(1..5),
                "product": PRODUCTS[rng.random_range(0..5)],
            });
            events.push(Event {
                topic: ORDERS,
                partition: partition_of(id),
                key: key_of(id),
                value: envelope("orders", "c", None, Some(&row), ts),
            });
        }
        if events.len() == count / 2 {
            events.push(Event {
                topic: CUSTOMERS,
                partition: 0,
                key: key_of(999),
                value: "{\"op\": \"c\", \"after\": {\"id\": 999, truncated".into(),
            });
        }
    }
    events
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn events_are_debezium_envelopes_keyed_by_id_with_one_broken() {
        let events = generate(500);
        assert!(events.len() >= 500);
        let broken = events
            .iter()
            .filter(|e| serde_json::from_str::<Value>(&e.value).is_err())
            .count();
        assert_eq!(broken, 1);
        for event in events
            .iter()
            .filter(|e| serde_json::from_str::<Value>(&e.value).is_ok())
        {
            let value: Value = serde_json::from_str(&event.value).unwrap();
            let op = value["op"].as_str().unwrap();
            assert!(["c", "u", "d"].contains(&op));
            let image = if op == "d" {
                &value["before"]
            } else {
                &value["after"]
            };
            let key: Value = serde_json::from_str(&event.key).unwrap();
            assert_eq!(image["id"], key["id"]);
        }
        assert!(events.iter().any(|e| e.topic == ORDERS));
    }
}

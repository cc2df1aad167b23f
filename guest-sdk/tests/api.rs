//! The per-change and per-record APIs, run natively through the same columnar
//! path the host uses.

use floe_guest::testing::{self, OwnedChange, OwnedImage, TestOutcome, TestRecord};
use floe_guest::{
    Change, ChangeBuilder, ColumnType, Config, Decimal, Decoder, Error, Op, Outcome, OwnedValue,
    Record, Transformer, Value,
};

fn batch() -> testing::Batch {
    let mut b = ChangeBuilder::new();
    {
        let mut c = b.change(Op::Insert, "shop.orders");
        c.key_columns(["id"]).event_time(Some(1_000));
        c.after()
            .set("id", 1i64)
            .set("email", "a@x.io")
            .set(
                "total",
                Decimal {
                    unscaled: 1999,
                    precision: 10,
                    scale: 2,
                },
            )
            .set_null("note", ColumnType::String);
    }
    {
        let mut c = b.change(Op::Update, "shop.orders");
        c.before().set("id", 2i64).set("email", "old@x.io");
        c.after().set("id", 2i64).set("email", "new@x.io");
    }
    {
        let mut c = b.change(Op::Delete, "shop.orders");
        c.before().set("id", 3i64).set("email", "gone@x.io");
    }
    b.change(Op::Truncate, "shop.orders");
    b.finish()
}

/// Configurable behaviour, to exercise every outcome.
struct Script;

impl Transformer for Script {
    fn init(_: &Config) -> Result<Self, Error> {
        Ok(Script)
    }

    fn transform(&mut self, change: &mut Change<'_>) -> Outcome {
        assert_eq!(change.table(), "shop.orders");
        match change.index() {
            0 => {
                // Read without modifying: kept as is.
                let after = change.after().unwrap();
                assert_eq!(after.get("id"), Some(Value::Long(1)));
                assert_eq!(after.get("note"), Some(Value::Null));
                assert_eq!(after.get("missing"), None);
                assert_eq!(
                    after.column_type("total"),
                    Some(ColumnType::Decimal {
                        precision: 10,
                        scale: 2
                    })
                );
                assert_eq!(after.len(), 4);
                assert_eq!(change.key_columns(), ["id".to_string()]);
                assert_eq!(change.event_time(), Some(1_000));
                assert!(change.before().is_none());
                assert!(!change.remove_column("missing"));
                assert!(!change.is_modified());
                Outcome::Keep
            }
            1 => {
                // Modify both images and route: becomes a replacement for the new table.
                let original = change.original_after().unwrap().get("email").unwrap();
                change.before_mut().unwrap().set("email", "***");
                let mut after = change.after_mut().unwrap();
                after.set("email", "***");
                after.set("email_len", original.as_str().unwrap().len() as i32);
                assert_eq!(after.get("email"), Some(Value::String("***")));
                assert!(change.rename_column("id", "order_id"));
                assert_eq!(change.key_columns(), ["order_id".to_string()]);
                assert_eq!(original, Value::String("new@x.io"));
                Outcome::Route("archive.orders".into())
            }
            2 => Outcome::Reject(format!(
                "no deletes: {}",
                change.image().unwrap().get("id").unwrap()
            )),
            _ => Outcome::Drop,
        }
    }
}

#[test]
fn outcomes_and_replacements() {
    let out = testing::transform(&mut Script, &batch());
    assert_eq!(out.len(), 4);
    assert_eq!(out[0], TestOutcome::Keep);
    let TestOutcome::Replace(c) = &out[1] else {
        panic!("{:?}", out[1])
    };
    assert_eq!(
        *c,
        OwnedChange {
            op: Op::Update,
            table: "archive.orders".into(),
            key_columns: vec!["order_id".into()],
            event_time: None,
            before: Some(OwnedImage {
                fields: vec![
                    ("order_id".into(), ColumnType::Long, OwnedValue::Long(2)),
                    ("email".into(), ColumnType::String, "***".into()),
                ]
            }),
            after: Some(OwnedImage {
                fields: vec![
                    ("order_id".into(), ColumnType::Long, OwnedValue::Long(2)),
                    ("email".into(), ColumnType::String, "***".into()),
                    ("email_len".into(), ColumnType::Int, OwnedValue::Int(8)),
                ]
            }),
        }
    );
    assert_eq!(out[2], TestOutcome::Reject("no deletes: 3".into()));
    assert_eq!(out[3], TestOutcome::Drop);
}

/// Changes a column's type in some rows only.
struct Retype;

impl Transformer for Retype {
    fn init(_: &Config) -> Result<Self, Error> {
        Ok(Retype)
    }

    fn transform(&mut self, change: &mut Change<'_>) -> Outcome {
        let Some(mut image) = change.image_mut_preferred() else {
            return Outcome::Keep;
        };
        let Some(id) = image.get("id").and_then(|v| v.as_i64()) else {
            return Outcome::Keep;
        };
        if id % 2 == 0 {
            image.set("id", id.to_string());
        } else {
            assert!(image.set_typed("id", ColumnType::Long, "x").is_err());
            image
                .set_typed("id", ColumnType::Long, OwnedValue::Null)
                .unwrap();
            assert!(image.remove("email"));
            assert!(!image.remove("email"));
        }
        Outcome::Keep
    }
}

#[test]
fn replaced_batch_has_one_column_per_name_and_type() {
    let out = testing::transform(&mut Retype, &batch());
    let changes: Vec<&OwnedChange> = out
        .iter()
        .filter_map(|o| match o {
            TestOutcome::Replace(c) => Some(c),
            _ => None,
        })
        .collect();
    assert_eq!(changes.len(), 3);
    let row0 = changes[0].after.as_ref().unwrap();
    assert_eq!(row0.get("id"), Some(&OwnedValue::Null));
    assert_eq!(row0.column_type("id"), Some(ColumnType::Long));
    assert_eq!(row0.names(), vec!["id", "total", "note"]);
    let row1 = changes[1].after.as_ref().unwrap();
    assert_eq!(row1.get("id"), Some(&"2".into()));
    assert_eq!(row1.column_type("id"), Some(ColumnType::String));
    // The update's before image was not touched: copied as it came.
    assert_eq!(
        changes[1].before.as_ref().unwrap().get("id"),
        Some(&OwnedValue::Long(2))
    );
    // The delete's before image was edited, and it still has no after image.
    assert!(changes[2].after.is_none());
    assert_eq!(
        changes[2].before.as_ref().unwrap().get("id"),
        Some(&OwnedValue::Null)
    );
    assert_eq!(out[3], TestOutcome::Keep);
}

struct Images;

impl Transformer for Images {
    fn init(_: &Config) -> Result<Self, Error> {
        Ok(Images)
    }

    fn transform(&mut self, change: &mut Change<'_>) -> Outcome {
        match change.op() {
            Op::Delete => {
                // Soft delete: an update with the old row and a flag.
                let fields: Vec<_> = change
                    .before()
                    .unwrap()
                    .iter()
                    .map(|f| (f.name.to_owned(), f.value.to_owned_value()))
                    .collect();
                change.set_op(Op::Update);
                let mut after = change.insert_after();
                for (name, value) in fields {
                    after.set(&name, value);
                }
                after.set("deleted", true);
                Outcome::Keep
            }
            Op::Update => {
                change.remove_before();
                change.after_mut().unwrap().retain(|f| f.name != "email");
                Outcome::Keep
            }
            _ => Outcome::Keep,
        }
    }
}

#[test]
fn images_can_be_created_and_removed() {
    let out = testing::transform(&mut Images, &batch());
    let TestOutcome::Replace(update) = &out[1] else {
        panic!()
    };
    assert!(update.before.is_none());
    assert_eq!(update.after.as_ref().unwrap().names(), vec!["id"]);
    let TestOutcome::Replace(delete) = &out[2] else {
        panic!()
    };
    assert_eq!(delete.op, Op::Update);
    let after = delete.after.as_ref().unwrap();
    assert_eq!(after.names(), vec!["id", "email", "deleted"]);
    assert_eq!(after.get("deleted"), Some(&OwnedValue::Boolean(true)));
}

/// Decodes `table|id|name` lines; `!` rejects after writing, `-` writes nothing.
struct Lines;

impl Decoder for Lines {
    fn init(config: &Config) -> Result<Self, Error> {
        if config.get("fail").is_some() {
            return Err("told to fail".into());
        }
        Ok(Lines)
    }

    fn decode(&mut self, record: &Record<'_>, out: &mut ChangeBuilder) -> Result<(), Error> {
        let Some(value) = record.value() else {
            return Ok(());
        };
        let text = std::str::from_utf8(value).map_err(Error::new)?;
        for line in text.lines() {
            if line == "-" {
                continue;
            }
            let parts: Vec<&str> = line.split('|').collect();
            let mut c = out.change(Op::Insert, parts[0]);
            c.key_columns(["id"]);
            c.event_time(record.timestamp().map(|ms| ms * 1000));
            let id: i64 = parts[1]
                .parse()
                .map_err(|e| Error::new(format!("bad id: {e}")))?;
            let mut after = c.after();
            after.set("id", id).set("name", parts[2]);
            if let Some(src) = record.header("source") {
                after.set("source", std::str::from_utf8(src).unwrap());
            }
            after
                .set("topic", record.topic())
                .set("offset", record.offset());
        }
        Ok(())
    }
}

#[test]
fn decoder_builds_changes_and_rolls_back_rejected_records() {
    assert_eq!(
        Lines::init(&Config::from_pairs([("fail", "1")])).err(),
        Some(Error::new("told to fail"))
    );
    let mut headers = TestRecord::new("in", "a|1|ann\nb|2|bob");
    headers.headers = vec![
        (b"x".to_vec(), None),
        (b"source".to_vec(), Some(b"crm".to_vec())),
    ];
    headers.timestamp = Some(5);
    headers.offset = 10;
    let records = vec![
        headers,
        TestRecord::new("in", "a|3|cy\na|oops|dan"),
        TestRecord {
            value: None,
            ..TestRecord::new("in", "")
        },
        TestRecord::new("in2", "-"),
        TestRecord::new("in2", "a|4|eve"),
    ];
    let out = testing::decode(&mut Lines, &records);
    assert_eq!(
        out.rejected,
        vec![(1, "bad id: invalid digit found in string".to_string())]
    );
    let rows: Vec<u32> = out.changes.iter().map(|c| c.0).collect();
    assert_eq!(rows, vec![0, 0, 4]);
    let first = &out.changes[0].1;
    assert_eq!(first.table, "a");
    assert_eq!(first.key_columns, vec!["id".to_string()]);
    assert_eq!(first.event_time, Some(5000));
    let after = first.after.as_ref().unwrap();
    assert_eq!(after.get("source"), Some(&"crm".into()));
    assert_eq!(after.get("offset"), Some(&OwnedValue::Long(10)));
    assert_eq!(out.changes[1].1.table, "b");
    let last = out.changes[2].1.after.as_ref().unwrap();
    assert_eq!(last.get("name"), Some(&"eve".into()));
    assert_eq!(last.get("source"), None);
    assert_eq!(last.get("topic"), Some(&"in2".into()));
}

#[test]
fn config_helpers() {
    let c = Config::from_pairs([("rename", "a:b, c : d"), ("bad", "a:b,c"), ("n", "x")]);
    assert_eq!(
        c.pairs("rename", ':').unwrap(),
        vec![("a", "b"), ("c", "d")]
    );
    assert_eq!(
        c.pairs("bad", ':').unwrap_err().to_string(),
        "config key `bad`: expected `left:right`, got `c`"
    );
    assert_eq!(
        c.parse::<i64>("n").unwrap_err().to_string(),
        "config key `n`: invalid value `x`: invalid digit found in string"
    );
    assert_eq!(c.parse::<i64>("unset").unwrap(), None);
    assert_eq!(
        c.require("unset").unwrap_err().to_string(),
        "missing required config key `unset`"
    );
    assert_eq!("Delete".parse::<Op>().unwrap(), Op::Delete);
}

#[test]
fn encoding_of_values_is_the_wit_one() {
    let mut buf = Vec::new();
    Value::Int(-2).encode_into(&mut buf);
    Value::Decimal(Decimal {
        unscaled: -1,
        precision: 5,
        scale: 1,
    })
    .encode_into(&mut buf);
    Value::String("é").encode_into(&mut buf);
    let mut expected = (-2i32).to_le_bytes().to_vec();
    expected.extend([0xff; 16]);
    expected.extend("é".as_bytes());
    assert_eq!(buf, expected);
}

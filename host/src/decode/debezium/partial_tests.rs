//! Partial rows as the decoder reads them: PostgreSQL's TOAST placeholder
//! in each form and YugabyteDB's column wrappers, on the fixtures of
//! `tests/fixtures/partial/` (taken from the two projects' docs; the
//! README there says which).

use std::collections::HashMap;

use super::*;
use crate::change::{Change, ChangeBatch, Image, Op, Value};

macro_rules! fixture {
    ($name:literal) => {
        include_str!(concat!("../../../../tests/fixtures/partial/", $name))
    };
}

fn record(key: Option<&str>, value: &str) -> RawRecord {
    RawRecord {
        topic: "t".into(),
        partition: 0,
        offset: 3,
        timestamp: None,
        key: key.map(|k| k.as_bytes().to_vec()),
        value: Some(value.as_bytes().to_vec()),
        headers: Vec::new(),
    }
}

fn decode_with(config: DebeziumConfig, key: Option<&str>, value: &str) -> Change {
    match DebeziumDecoder::new(config).decode(&record(key, value)) {
        Ok(Decoded::Changes(mut changes)) => changes.remove(0),
        other => panic!("{other:?}"),
    }
}

fn decode(value: &str) -> Change {
    decode_with(DebeziumConfig::default(), None, value)
}

fn names(image: &Image) -> Vec<&str> {
    image.fields().iter().map(|f| &*f.name).collect()
}

fn unchanged(image: &Image) -> Vec<&str> {
    image.unchanged().iter().map(|n| &**n).collect()
}

#[test]
fn the_toast_placeholder_is_an_unchanged_column_not_a_value() {
    let change = decode(fixture!("postgres-toast-update-withschema.json"));
    assert_eq!(change.op, Op::Update);
    let after = change.after.as_ref().unwrap();
    assert_eq!(names(after), ["id", "first_name", "last_name"]);
    assert_eq!(unchanged(after), ["email"]);
    assert!(!after.absent_unchanged(), "only the placeholder's column");
    assert_eq!(
        after.get("first_name"),
        Some(&Value::String("Anne Marie".into()))
    );
}

#[test]
fn a_binary_column_placeholder_in_base64_and_in_hex() {
    let binary = || DebeziumConfig {
        column_types: HashMap::from([("image".to_string(), ColumnType::Binary)]),
        ..DebeziumConfig::default()
    };
    for (fixture, config) in [
        (
            fixture!("postgres-toast-update-noschema-bytea.json"),
            binary(),
        ),
        // Undeclared, the column's type is unknown: the forms still count.
        (
            fixture!("postgres-toast-update-noschema-bytea.json"),
            DebeziumConfig::default(),
        ),
        (
            fixture!("postgres-toast-update-noschema-hex.json"),
            binary(),
        ),
    ] {
        let change = decode_with(config, None, fixture);
        let after = change.after.as_ref().unwrap();
        assert!(unchanged(after).contains(&"image"), "{after:?}");
        assert!(after.field("image").is_none());
        assert_eq!(after.get("id"), Some(&Value::Long(106)));
    }
    let change = decode_with(
        binary(),
        None,
        fixture!("postgres-toast-update-noschema-bytea.json"),
    );
    assert_eq!(
        unchanged(change.after.as_ref().unwrap()),
        ["description", "image"]
    );
    // The encoded forms are no placeholder in a column that cannot hold one.
    let dated = DebeziumConfig {
        column_types: HashMap::from([("image".to_string(), ColumnType::Long)]),
        ..DebeziumConfig::default()
    };
    let error = DebeziumDecoder::new(dated)
        .decode(&record(
            None,
            fixture!("postgres-toast-update-noschema-hex.json"),
        ))
        .unwrap_err();
    assert!(error.to_string().contains("after.image"), "{error}");
}

#[test]
fn yugabyte_grpc_values_are_unwrapped_with_and_without_schema_blocks() {
    let create = decode(fixture!("yugabyte-grpc-create-withschema.json"));
    assert_eq!(create.op, Op::Insert);
    let after = create.after.as_ref().unwrap();
    assert_eq!(after.get("id"), Some(&Value::Int(1)), "typed by the schema");
    assert_eq!(
        after.get("email"),
        Some(&Value::String("vaibhav@example.com".into()))
    );
    assert!(!after.is_partial(), "an insert is a whole row");

    let update = decode(fixture!("yugabyte-grpc-update-noschema.json"));
    let after = update.after.as_ref().unwrap();
    assert_eq!(names(after), ["id", "name", "email"]);
    assert_eq!(after.get("id"), Some(&Value::Long(1)));
    assert!(
        after.absent_unchanged(),
        "a YugabyteDB update: unsent columns unchanged"
    );
    assert!(unchanged(after).is_empty());

    let delete = decode(fixture!("yugabyte-grpc-delete-noschema.json"));
    assert_eq!(delete.op, Op::Delete);
    let before = delete.before.as_ref().unwrap();
    // Bare nulls are columns YugabyteDB did not send.
    assert_eq!(names(before), ["id"]);
    assert!(!before.is_partial());
}

#[test]
fn yugabyte_set_false_is_unchanged_and_set_true_null_is_null() {
    let with_schema = decode(fixture!("yugabyte-change-update-withschema.json"));
    let after = with_schema.after.as_ref().unwrap();
    assert_eq!(names(after), ["id", "aura"]);
    assert_eq!(
        after.field("id").unwrap().ty,
        ColumnType::Int,
        "the `value` field's type"
    );
    assert_eq!(after.get("aura"), Some(&Value::Int(9999)));
    assert_eq!(unchanged(after), ["name"]);
    assert!(after.absent_unchanged());

    let schemaless = decode(fixture!("yugabyte-change-update-noschema.json"));
    let after = schemaless.after.as_ref().unwrap();
    let aura = after.field("aura").unwrap();
    assert_eq!(aura.value, None, "set to NULL");
    assert_eq!(unchanged(after), ["name"]);
}

#[test]
fn a_wrapped_key_identifies_a_delete_without_images() {
    let value = r#"{"before":null,"after":null,"source":{"connector":"yugabytedb"},"op":"d"}"#;
    let change = decode_with(
        DebeziumConfig::default(),
        Some(fixture!("yugabyte-change-key-withschema.json")),
        value,
    );
    assert_eq!(change.key, ["id"]);
    let before = change.before.as_ref().unwrap();
    assert_eq!(before.get("id"), Some(&Value::Int(1)));
    assert!(!before.is_partial());
}

#[test]
fn a_wrapped_image_with_a_plain_column_is_an_error() {
    let value = r#"{"before":null,"after":{"id":{"value":1},"name":"x"},"op":"u"}"#;
    let error = DebeziumDecoder::new(DebeziumConfig::default())
        .decode(&record(None, value))
        .unwrap_err();
    assert!(error.to_string().contains("YugabyteDB"), "{error}");
}

#[test]
fn unchanged_columns_travel_in_the_batch_and_back() {
    let change = decode(fixture!("yugabyte-change-update-noschema.json"));
    let batch = ChangeBatch::from(vec![change.clone()]);
    let marked = batch.unchanged(0).expect("a partial row");
    assert_eq!(&*marked.names[0], "name");
    assert!(marked.absent);
    assert!(batch.after(0).unwrap().cell("name").is_none(), "not a cell");
    assert_eq!(batch.to_change(0), change);
    let copied = batch.select([0]);
    assert_eq!(copied.unchanged(0), Some(marked));
}

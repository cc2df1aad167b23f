//! Every example plugin through the host, on changes derived from the
//! Debezium fixtures and on generated customer rows, asserting the values a
//! user would look at.

use floe::change::{Change, ColumnType, Op, Position, Value};
use floe::plugin::{DecodeStage, RejectedChange, StageSettings, TransformStage};
use floe::source::RawRecord;
use floe_tests::{customer_changes, fixture_change, id_of, plugin_path, registry_with};
use sha2::{Digest, Sha256};

fn settings(config: &[(&str, &str)]) -> StageSettings {
    StageSettings {
        config: config
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect(),
        ..Default::default()
    }
}

/// What a transform stage made of some changes, with the changes owned.
struct Ran {
    changes: Vec<Change>,
    rejected: Vec<RejectedChange>,
    dropped: usize,
}

fn run(plugin: &str, config: &[(&str, &str)], changes: Vec<Change>) -> Ran {
    let (_dir, registry) = registry_with(&[(plugin, plugin_path(plugin))]);
    let mut stage = TransformStage::new(registry, plugin, settings(config)).expect("stage");
    let output = stage.apply(changes);
    Ran {
        changes: output.changes.to_changes(),
        rejected: output.rejected,
        dropped: output.dropped,
    }
}

fn text<'a>(change: &'a Change, image: &str, column: &str) -> Option<&'a str> {
    let image = if image == "before" {
        change.before.as_ref()
    } else {
        change.after.as_ref()
    };
    match image?.get(column)? {
        Value::String(s) => Some(s.as_str()),
        other => panic!("{column} is not a string: {other:?}"),
    }
}

fn salted_sha256(salt: &str, value: &[u8]) -> String {
    let mut hasher = Sha256::new();
    hasher.update(salt.as_bytes());
    hasher.update(value);
    hex::encode(hasher.finalize())
}

fn fixture_changes() -> Vec<Change> {
    vec![
        fixture_change(
            "mysql-update-noschema.json",
            "inventory.customers",
            &["id"],
            0,
        ),
        fixture_change(
            "sqlserver-update-noschema.json",
            "inventory.customers",
            &["id"],
            1,
        ),
        fixture_change(
            "mysql-create-withschema.json",
            "inventory.customers",
            &["id"],
            2,
        ),
        fixture_change(
            "postgres-update-noschema.json",
            "inventory.customers",
            &["id"],
            3,
        ),
    ]
}

#[test]
fn mask_hashes_the_configured_columns_in_both_images() {
    for plugin in ["mask", "mask-py", "mask-js"] {
        let output = run(
            plugin,
            &[("columns", "email,last_name"), ("salt", "s3cret")],
            fixture_changes(),
        );
        assert!(
            output.rejected.is_empty(),
            "{plugin}: {:?}",
            output.rejected
        );
        assert_eq!(output.changes.len(), 4);
        let mysql = &output.changes[0];
        assert_eq!(
            text(mysql, "after", "email"),
            Some(salted_sha256("s3cret", b"annek@noanswer.org").as_str()),
            "{plugin}"
        );
        assert_eq!(
            text(mysql, "before", "email"),
            Some(salted_sha256("s3cret", b"annek@noanswer.org").as_str()),
            "{plugin}"
        );
        assert_eq!(
            text(mysql, "after", "last_name"),
            Some(salted_sha256("s3cret", b"Kretchmar").as_str()),
            "{plugin}"
        );
        assert_eq!(
            text(mysql, "after", "first_name"),
            Some("Anne Marie"),
            "{plugin}: other columns untouched"
        );
        assert_eq!(
            mysql.after.as_ref().unwrap().get("id"),
            Some(&Value::Long(1004))
        );
        let sqlserver = &output.changes[1];
        assert_eq!(
            text(sqlserver, "after", "email"),
            Some(salted_sha256("s3cret", b"noreply@example.org").as_str())
        );
        assert_eq!(
            text(sqlserver, "before", "email"),
            Some(salted_sha256("s3cret", b"john.doe@example.org").as_str())
        );
        // PostgreSQL's default replica identity sends only the key before: nothing to mask there.
        let postgres = &output.changes[3];
        assert_eq!(postgres.before.as_ref().unwrap().get("email"), None);
        assert_eq!(postgres.op, Op::Update);
        assert_eq!(
            postgres.position,
            Position::new("dbserver1.inventory.customers", 0, 3)
        );
    }
}

#[test]
fn mask_hashes_non_string_columns_from_their_encoded_bytes_and_redacts() {
    let changes = customer_changes(1..=3);
    let output = run(
        "mask",
        &[("columns", "id,balance,phone"), ("salt", "pepper")],
        changes.clone(),
    );
    let after = output.changes[0].after.as_ref().unwrap();
    let field = after.field("id").unwrap();
    assert_eq!(
        field.ty,
        ColumnType::String,
        "a hashed column becomes a string"
    );
    assert_eq!(
        field.value,
        Some(Value::String(salted_sha256("pepper", &1i64.to_le_bytes())))
    );
    assert_eq!(
        after.get("balance"),
        Some(&Value::String(salted_sha256(
            "pepper",
            &(137i128 - 20_000).to_le_bytes()
        )))
    );

    let redacted = run(
        "mask",
        &[("columns", "email,score"), ("mode", "redact")],
        changes,
    );
    let after = redacted.changes[0].after.as_ref().unwrap();
    assert_eq!(after.get("email"), Some(&Value::String("***".into())));
    let score = after.field("score").unwrap();
    assert_eq!(
        (score.ty, &score.value),
        (ColumnType::Double, &None),
        "non-string columns are nulled, type kept"
    );
}

#[test]
fn mask_in_python_and_javascript_matches_mask_in_rust_on_every_type() {
    let config = [
        ("columns", "id,email,phone,balance,created_at,active,score"),
        ("salt", "s"),
    ];
    let redact = [
        ("columns", "email,balance,active"),
        ("mode", "redact"),
        ("replacement", "<hidden>"),
    ];
    let rust = run("mask", &config, customer_changes(1..=120));
    let rust_redacted = run("mask", &redact, customer_changes(1..=40));
    assert_eq!(rust.changes.len(), 120);
    for twin in ["mask-py", "mask-js"] {
        let hashed = run(twin, &config, customer_changes(1..=120));
        assert_eq!(rust.changes, hashed.changes, "{twin}");
        let redacted = run(twin, &redact, customer_changes(1..=40));
        assert_eq!(rust_redacted.changes, redacted.changes, "{twin}");
    }
}

#[test]
fn mask_refuses_a_config_without_columns_or_salt() {
    for plugin in ["mask", "mask-py", "mask-js"] {
        let (_dir, registry) = registry_with(&[(plugin, plugin_path(plugin))]);
        let error = TransformStage::new(registry.clone(), plugin, settings(&[("salt", "x")]))
            .err()
            .expect("no columns");
        assert!(
            error.to_string().contains("refused its configuration"),
            "{plugin}: {error}"
        );
        assert!(
            TransformStage::new(registry, plugin, settings(&[("columns", "email")])).is_err(),
            "{plugin}: hash needs a salt"
        );
    }
}

#[test]
fn filter_drops_by_op_and_predicate() {
    let changes = customer_changes(1..=30);
    let output = run(
        "filter",
        &[
            ("drop_ops", "delete"),
            ("drop_if", "region == 'eu' and balance < 0"),
        ],
        changes.clone(),
    );
    let expected: Vec<i64> = changes
        .iter()
        .filter(|c| c.op != Op::Delete)
        .filter(|c| {
            let after = c.after.as_ref().unwrap();
            let eu = after.get("region") == Some(&Value::String("eu".into()));
            let negative = matches!(after.get("balance"), Some(Value::Decimal(v)) if *v < 0);
            !(eu && negative)
        })
        .map(id_of)
        .collect();
    assert!(
        expected.len() < 25 && expected.len() > 10,
        "the predicate should bite: {}",
        expected.len()
    );
    assert_eq!(
        output.changes.iter().map(id_of).collect::<Vec<_>>(),
        expected
    );
    assert_eq!(output.dropped, 30 - expected.len());
    assert_eq!(
        output.changes,
        changes
            .into_iter()
            .filter(|c| expected.contains(&id_of(c)))
            .collect::<Vec<_>>(),
        "kept as they were"
    );

    let nulls = run(
        "filter",
        &[("drop_if", "phone is null")],
        customer_changes(1..=10),
    );
    assert!(
        nulls
            .changes
            .iter()
            .all(|c| c.row_image().unwrap().get("phone").is_some())
    );
    assert_eq!(nulls.dropped, 2, "ids 5 and 10 have no phone");
}

#[test]
fn filter_refuses_a_bad_predicate() {
    let (_dir, registry) = registry_with(&[("filter", plugin_path("filter"))]);
    let error = TransformStage::new(
        registry,
        "filter",
        settings(&[("drop_if", "balance <<< 3")]),
    )
    .err()
    .expect("bad predicate");
    assert!(
        error.to_string().contains("refused its configuration"),
        "{error}"
    );
}

#[test]
fn reshape_renames_drops_casts_and_adds() {
    let config = [
        ("rename", "first_name:given_name"),
        ("drop", "last_name,phone"),
        ("cast", "id:string,score:float"),
        ("add", "source=mysql"),
    ];
    let output = run("reshape", &config, fixture_changes());
    assert!(output.rejected.is_empty(), "{:?}", output.rejected);
    let after = output.changes[0].after.as_ref().unwrap();
    assert_eq!(
        after.get("given_name"),
        Some(&Value::String("Anne Marie".into()))
    );
    assert!(after.field("first_name").is_none() && after.field("last_name").is_none());
    assert_eq!(after.field("id").unwrap().ty, ColumnType::String);
    assert_eq!(after.get("id"), Some(&Value::String("1004".into())));
    assert_eq!(after.get("source"), Some(&Value::String("mysql".into())));
    let before = output.changes[0].before.as_ref().unwrap();
    assert_eq!(
        before.get("given_name"),
        Some(&Value::String("Anne".into())),
        "the before image is reshaped too"
    );

    let scores = run(
        "reshape",
        &[("cast", "score:float")],
        customer_changes(7..=8),
    );
    let score = scores.changes[1]
        .after
        .as_ref()
        .unwrap()
        .field("score")
        .unwrap();
    assert_eq!(score.ty, ColumnType::Float);
    assert_eq!(score.value, Some(Value::Float((8.0f64 / 7.0) as f32)));
}

#[test]
fn reshape_rejects_a_value_it_cannot_cast() {
    let output = run(
        "reshape",
        &[("cast", "email:long")],
        customer_changes(1..=2),
    );
    assert!(output.changes.is_empty());
    assert_eq!(output.rejected.len(), 2);
    assert!(
        output.rejected[0].reason.contains("email"),
        "{}",
        output.rejected[0].reason
    );
}

#[test]
fn route_sends_each_change_to_the_table_of_its_region() {
    let config = [
        ("column", "region"),
        ("routes", "eu:sales.customers_eu,us:sales.customers_us"),
        ("default", "sales.customers_rest"),
    ];
    let changes = customer_changes(1..=12);
    let output = run("route", &config, changes.clone());
    assert_eq!(output.changes.len(), 12);
    for (input, routed) in changes.iter().zip(&output.changes) {
        let region = match input.row_image().unwrap().get("region") {
            Some(Value::String(r)) => r.clone(),
            other => panic!("{other:?}"),
        };
        let expected = match region.as_str() {
            "eu" => "sales.customers_eu",
            "us" => "sales.customers_us",
            _ => "sales.customers_rest",
        };
        assert_eq!(routed.table, expected, "id {}", id_of(input));
        assert_eq!(
            Change {
                table: input.table.clone(),
                ..routed.clone()
            },
            *input,
            "only the table changes"
        );
    }
}

fn maxwell_record(offset: i64, value: &str) -> RawRecord {
    RawRecord {
        topic: "maxwell".into(),
        partition: 2,
        offset,
        timestamp: Some(1_477_053_217_000),
        key: None,
        value: Some(value.as_bytes().to_vec()),
        headers: Vec::new(),
    }
}

#[test]
fn maxwell_decoder_turns_maxwell_json_into_changes_in_wasm() {
    let (_dir, registry) = registry_with(&[("maxwell", plugin_path("maxwell"))]);
    let mut stage = DecodeStage::new(registry, "maxwell", StageSettings::default()).expect("stage");
    let records = vec![
        maxwell_record(
            10,
            r#"{"database":"shop","table":"orders","type":"insert","ts":1477053217,"xid":23396,"commit":true,"data":{"id":111,"daemon":"Stanislaw Lem","price":9.5},"primary_key_columns":["id"]}"#,
        ),
        maxwell_record(
            11,
            r#"{"database":"shop","table":"orders","type":"update","ts":1477053218,"data":{"id":111,"daemon":"Stanisław Lem","price":9.5},"old":{"daemon":"Stanislaw Lem"},"primary_key_columns":["id"]}"#,
        ),
        maxwell_record(
            12,
            r#"{"database":"shop","table":"orders","type":"delete","ts":1477053219,"data":{"id":111,"daemon":"Stanisław Lem","price":9.5},"primary_key_columns":["id"]}"#,
        ),
        maxwell_record(
            13,
            r#"{"type":"table-create","database":"shop","table":"orders","def":{},"sql":"CREATE TABLE orders (id int)"}"#,
        ),
        maxwell_record(
            14,
            r#"{"database":"shop","table":"orders","type":"bootstrap-insert","ts":1477053220,"data":{"id":112,"daemon":null,"price":1}}"#,
        ),
        maxwell_record(15, r#"{"database":"shop", "table": "#),
        maxwell_record(
            16,
            r#"{"database":"shop","table":"orders","type":"upsert","data":{"id":1}}"#,
        ),
    ];
    let output = stage.apply(&records);
    let decoded = output.changes.to_changes();
    let ops: Vec<(i64, Op)> = decoded.iter().map(|c| (c.position.offset, c.op)).collect();
    assert_eq!(
        ops,
        vec![
            (10, Op::Insert),
            (11, Op::Update),
            (12, Op::Delete),
            (14, Op::Read)
        ]
    );
    let rejected: Vec<usize> = output.rejected.iter().map(|r| r.index).collect();
    assert_eq!(
        rejected,
        vec![5, 6],
        "bad JSON and an unknown type are rejected; the DDL yields nothing"
    );

    let insert = &decoded[0];
    assert_eq!(insert.table, "shop.orders");
    assert_eq!(insert.key, vec!["id".to_string()]);
    assert_eq!(insert.event_time, Some(1_477_053_217_000_000));
    assert_eq!(insert.position, Position::new("maxwell", 2, 10));
    let after = insert.after.as_ref().unwrap();
    assert_eq!(after.get("id"), Some(&Value::Long(111)));
    assert_eq!(after.get("price"), Some(&Value::Double(9.5)));
    let update = &decoded[1];
    assert_eq!(
        update.before.as_ref().unwrap().get("daemon"),
        Some(&Value::String("Stanislaw Lem".into())),
        "before = data overlaid with old"
    );
    assert_eq!(
        update.after.as_ref().unwrap().get("daemon"),
        Some(&Value::String("Stanisław Lem".into()))
    );
    let delete = &decoded[2];
    assert!(delete.after.is_none());
    assert_eq!(
        delete.before.as_ref().unwrap().get("id"),
        Some(&Value::Long(111))
    );
    let read = &decoded[3];
    assert_eq!(
        read.after.as_ref().unwrap().field("daemon").unwrap().value,
        None
    );
}

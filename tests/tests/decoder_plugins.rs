//! The Canal, DMS and DTS decoder plugins through the host on their fixtures
//! (`plugins/<name>/fixtures/`, after the formats' documentation), asserting
//! the values a user would look at.

use floe::change::{Change, ColumnType, Op, Position, Value};
use floe::plugin::{DecodeOutput, DecodeStage, StageSettings};
use floe::source::RawRecord;
use floe_tests::{plugin_path, registry_with, workspace_root};

/// The text of `plugins/<plugin>/fixtures/<file>`.
fn fixture(plugin: &str, file: &str) -> String {
    let path = workspace_root()
        .join("plugins")
        .join(plugin)
        .join("fixtures")
        .join(file);
    std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

fn record(topic: &str, offset: i64, value: &[u8]) -> RawRecord {
    RawRecord {
        topic: topic.into(),
        partition: 0,
        offset,
        timestamp: Some(1_600_000_000_000),
        key: None,
        value: Some(value.to_vec()),
        headers: Vec::new(),
    }
}

/// Runs `plugin` (with `config`) over `values`, one record each from offset 0.
fn decode<V: AsRef<[u8]>>(plugin: &str, config: &[(&str, &str)], values: &[V]) -> DecodeOutput {
    let (_dir, registry) = registry_with(&[(plugin, plugin_path(plugin))]);
    let settings = StageSettings {
        config: config
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect(),
        ..Default::default()
    };
    let mut stage = DecodeStage::new(registry, plugin, settings).expect("stage");
    let records: Vec<RawRecord> = values
        .iter()
        .enumerate()
        .map(|(i, v)| record(plugin, i as i64, v.as_ref()))
        .collect();
    stage.apply(&records)
}

fn value<'c>(change: &'c Change, image: &str, column: &str) -> Option<&'c Value> {
    let image = if image == "before" {
        &change.before
    } else {
        &change.after
    };
    image.as_ref()?.get(column)
}

#[test]
fn canal_decodes_its_fixtures_in_wasm() {
    // `canal` is Rust; `canal-js` is the same decoder written with the JavaScript SDK.
    for plugin in ["canal", "canal-js"] {
        canal_fixtures(plugin);
    }
}

fn canal_fixtures(plugin: &str) {
    let values = vec![
        fixture("canal", "products-insert-two-rows.json"),
        fixture("canal", "ddl-create-database.json"),
        fixture("canal", "products-update.json"),
        fixture("canal", "products-delete.json"),
        fixture("canal", "wiki-update.json"),
        r#"{"data":[{"g":"POINT(0 0)"}],"database":"s","table":"t","type":"INSERT","mysqlType":{"g":"geometry"}}"#.into(),
        "{\"data\": [".into(),
    ];
    let output = decode(plugin, &[], &values);
    let rejected: Vec<(usize, &str)> = output
        .rejected
        .iter()
        .map(|r| (r.index, r.reason.as_str()))
        .collect();
    assert_eq!(rejected.len(), 2, "{plugin}: {rejected:?}");
    assert_eq!(rejected[0].0, 5);
    assert!(
        rejected[0]
            .1
            .ends_with("row 0: column `g`: unknown MySQL type `geometry`"),
        "{plugin}: {}",
        rejected[0].1
    );
    assert_eq!(rejected[1].0, 6);
    assert!(
        rejected[1].1.contains("invalid JSON"),
        "{plugin}: {}",
        rejected[1].1
    );

    let changes = output.changes.to_changes();
    let ops: Vec<(i64, Op)> = changes.iter().map(|c| (c.position.offset, c.op)).collect();
    assert_eq!(
        ops,
        vec![
            (0, Op::Insert),
            (0, Op::Insert),
            (2, Op::Update),
            (3, Op::Delete),
            (4, Op::Update)
        ],
        "{plugin}: two rows of one message are two changes; the DDL yields nothing"
    );
    let second = &changes[1];
    assert_eq!(second.table, "inventory.products");
    assert_eq!(second.key, vec!["id".to_string()]);
    assert_eq!(second.position, Position::new(plugin, 0, 0));
    assert_eq!(second.event_time, Some(1_589_373_515_000_000));
    assert_eq!(value(second, "after", "id"), Some(&Value::Int(102)));
    assert_eq!(
        value(second, "after", "name"),
        Some(&Value::String("car battery".into()))
    );
    assert_eq!(value(second, "after", "weight"), Some(&Value::Float(8.1)));
    let update = &changes[2];
    assert_eq!(value(update, "before", "weight"), Some(&Value::Float(5.15)));
    assert_eq!(value(update, "after", "weight"), Some(&Value::Float(5.18)));
    assert_eq!(
        value(update, "before", "description"),
        Some(&Value::String("Big 2-wheel scooter".into())),
        "before = data overlaid with old"
    );
    assert!(changes[3].after.is_none());
    assert_eq!(value(&changes[3], "before", "id"), Some(&Value::Int(111)));
    let wiki = &changes[4];
    assert_eq!(wiki.table, "canal_manager.canal_user");
    assert_eq!(value(wiki, "after", "id"), Some(&Value::Long(13)));
    assert_eq!(
        value(wiki, "before", "name"),
        Some(&Value::String("Canal Manager".into()))
    );
    assert_eq!(
        value(wiki, "after", "creation_date"),
        Some(&Value::Timestamp(1_535_729_597_000_000))
    );
    let avatar = wiki.after.as_ref().unwrap().field("avatar").unwrap();
    assert_eq!((avatar.ty, &avatar.value), (ColumnType::String, &None));
}

/// Each change with its images' fields ordered by name: `canal` (serde_json
/// without `preserve_order`) writes a row's columns sorted, `canal-js` in the
/// message's order.
fn by_name(mut changes: Vec<Change>) -> Vec<Change> {
    for change in &mut changes {
        for image in [&mut change.before, &mut change.after]
            .into_iter()
            .flatten()
        {
            let mut fields = image.fields().to_vec();
            fields.sort_by(|a, b| a.name.cmp(&b.name));
            *image = fields.into_iter().collect();
        }
    }
    changes
}

#[test]
fn canal_in_javascript_matches_canal_in_rust() {
    let mut values: Vec<String> = [
        "products-insert-two-rows.json",
        "ddl-create-database.json",
        "products-update.json",
        "products-delete.json",
        "wiki-update.json",
    ]
    .iter()
    .map(|f| fixture("canal", f))
    .collect();
    // Every type of the decoder, NULLs, a binary column and an unsigned bigint.
    values.push(r#"{"data":[{"id":"7","b":"1","t":"1","i":"-5","u":"4294967295","big":"18446744073709551615","d":"12.345","f":"1.5","x":"2.25","dt":"2024-02-29","tm":"12:34:56","ts":"2024-01-31 10:00:00.5","s":"h\u00e9","bin":"a\u00ff","n":null}],"old":null,"database":"db","table":"all_types","type":"INSERT","es":1700000000000,"pkNames":["id"],"mysqlType":{"id":"bigint(20)","b":"bool","t":"tinyint(1)","i":"int(11)","u":"int(10) unsigned","big":"bigint(20) unsigned","d":"decimal(10,2)","f":"float","x":"double","dt":"date","tm":"time","ts":"datetime(6)","s":"varchar(10)","bin":"varbinary(4)","n":"varchar(3)"}}"#.into());
    let rust = decode("canal", &[], &values);
    let js = decode("canal-js", &[], &values);
    assert!(rust.rejected.is_empty(), "{:?}", rust.rejected);
    assert!(js.rejected.is_empty(), "{:?}", js.rejected);
    let (rust, js) = (rust.changes.to_changes(), js.changes.to_changes());
    assert_eq!(rust.len(), 6);
    let strip = |changes: Vec<Change>| {
        by_name(changes)
            .into_iter()
            .map(|mut c| {
                c.position.topic = "".into();
                c
            })
            .collect::<Vec<_>>()
    };
    assert_eq!(strip(rust), strip(js));
}

#[test]
fn dms_decodes_its_fixtures_in_wasm() {
    let values = vec![
        fixture("dms", "control-create-table.json"),
        fixture("dms", "load.json"),
        fixture("dms", "insert.json"),
        fixture("dms", "update-before-image.json"),
        fixture("dms", "delete.json"),
        r#"{"data":{"id":1},"metadata":{"record-type":"data","operation":"merge","schema-name":"s","table-name":"t"}}"#.into(),
        "not json".into(),
    ];
    let output = decode("dms", &[], &values);
    let rejected: Vec<(usize, &str)> = output
        .rejected
        .iter()
        .map(|r| (r.index, r.reason.as_str()))
        .collect();
    assert_eq!(rejected.len(), 2, "{rejected:?}");
    assert_eq!(rejected[0].0, 5);
    assert!(
        rejected[0].1.ends_with("unknown DMS operation `merge`"),
        "{}",
        rejected[0].1
    );
    assert_eq!(rejected[1].0, 6);

    let changes = output.changes.to_changes();
    let ops: Vec<(i64, Op, &str)> = changes
        .iter()
        .map(|c| (c.position.offset, c.op, c.table.as_str()))
        .collect();
    assert_eq!(
        ops,
        vec![
            (1, Op::Read, "DMS_SAMPLE.LOCATIONS"),
            (2, Op::Insert, "sbtest.sbtest_x"),
            (3, Op::Update, "sbtest.sbtest_x"),
            (4, Op::Delete, "sbtest.sbtest_x"),
        ],
        "the control record yields nothing"
    );
    let load = &changes[0];
    assert_eq!(
        value(load, "after", "STATE"),
        Some(&Value::String("NJ".into()))
    );
    assert_eq!(value(load, "after", "ACTIVE"), Some(&Value::Boolean(true)));
    assert_eq!(value(load, "after", "RATING"), Some(&Value::Double(4.5)));
    let insert = &changes[1];
    assert_eq!(insert.event_time, Some(1_572_562_439_721_201));
    assert_eq!(
        value(insert, "after", "id"),
        Some(&Value::Long(100_000_161))
    );
    assert_eq!(value(insert, "after", "k"), Some(&Value::Long(1869)));
    let update = &changes[2];
    assert_eq!(
        value(update, "before", "id"),
        Some(&Value::Long(100_000_161))
    );
    assert_eq!(
        value(update, "after", "pad"),
        Some(&Value::String("updated".into()))
    );
    assert!(changes[3].after.is_none());

    // The before image under the name the task configured.
    let renamed =
        vec![fixture("dms", "update-before-image.json").replace("\"before-image\"", "\"BI\"")];
    let output = decode("dms", &[("before_image_field", "BI")], &renamed);
    let changes = output.changes.to_changes();
    assert_eq!(
        value(&changes[0], "before", "id"),
        Some(&Value::Long(100_000_161))
    );
}

#[test]
fn dts_decodes_its_avro_fixtures_in_wasm() {
    let avro = |file: &str| {
        let path = workspace_root().join("plugins/dts/fixtures").join(file);
        std::fs::read(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
    };
    let mut truncated = avro("update.avro");
    truncated.truncate(100);
    // A Record whose first string claims 100 MB: refused before allocating.
    let huge_claim = vec![0x00, 0x02, 0x02, 0x80, 0x84, 0xaf, 0x5f];
    let values = vec![
        avro("begin.avro"),
        avro("insert.avro"),
        avro("update.avro"),
        avro("ddl.avro"),
        avro("delete.avro"),
        avro("init.avro"),
        truncated,
        huge_claim,
    ];
    let output = decode("dts", &[], &values);
    assert_eq!(output.failures, 0, "no trap, no memory exhaustion");
    let rejected: Vec<(usize, &str)> = output
        .rejected
        .iter()
        .map(|r| (r.index, r.reason.as_str()))
        .collect();
    assert_eq!(rejected.len(), 2, "{rejected:?}");
    assert_eq!((rejected[0].0, rejected[1].0), (6, 7));
    assert!(
        rejected[0].1.contains("not a DTS Avro Record"),
        "{}",
        rejected[0].1
    );
    assert!(
        rejected[1].1.contains("262144"),
        "the cap: {}",
        rejected[1].1
    );

    let changes = output.changes.to_changes();
    let ops: Vec<(i64, Op)> = changes.iter().map(|c| (c.position.offset, c.op)).collect();
    assert_eq!(
        ops,
        vec![
            (1, Op::Insert),
            (2, Op::Update),
            (4, Op::Delete),
            (5, Op::Read)
        ],
        "BEGIN and DDL yield nothing"
    );
    let insert = &changes[0];
    assert_eq!(insert.table, "dts_test.orders");
    assert_eq!(insert.event_time, Some(1_600_000_000_000_000));
    assert_eq!(value(insert, "after", "id"), Some(&Value::Long(1001)));
    assert_eq!(
        value(insert, "after", "buyer"),
        Some(&Value::String("Zhang San".into()))
    );
    let amount = insert.after.as_ref().unwrap().field("amount").unwrap();
    assert_eq!(
        (amount.ty, &amount.value),
        (
            ColumnType::Decimal {
                precision: 10,
                scale: 2
            },
            &Some(Value::Decimal(9990))
        )
    );
    assert_eq!(
        value(insert, "after", "placed_at"),
        Some(&Value::Timestamp(1_600_000_000_123_456))
    );
    assert_eq!(value(insert, "after", "due"), Some(&Value::Date(18_536)));
    let paid = insert.after.as_ref().unwrap().field("paid_at").unwrap();
    assert_eq!((paid.ty, &paid.value), (ColumnType::Timestamptz, &None));
    assert_eq!(
        value(insert, "after", "note"),
        Some(&Value::Binary(vec![0, 159, 255]))
    );
    let update = &changes[1];
    assert_eq!(
        value(update, "before", "amount"),
        Some(&Value::Decimal(9990))
    );
    assert_eq!(
        value(update, "after", "amount"),
        Some(&Value::Decimal(8990))
    );
    assert_eq!(
        value(update, "after", "paid_at"),
        Some(&Value::Timestamptz(1_600_000_000_500_000))
    );
    assert!(changes[2].after.is_none());
    assert_eq!(
        value(&changes[3], "after", "amount"),
        Some(&Value::Decimal(-5))
    );
}

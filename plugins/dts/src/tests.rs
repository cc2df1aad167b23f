//! The decoder's pure logic on the fixtures (Avro written here from the
//! schema) and on bad records.

use super::*;
use apache_avro::{from_avro_datum, to_avro_datum};
use floe_guest::testing::{self, TestRecord};
use floe_guest::{ColumnType, Decimal, OwnedValue};

const OPERATIONS: [&str; 17] = [
    "INSERT",
    "UPDATE",
    "DELETE",
    "DDL",
    "BEGIN",
    "COMMIT",
    "ROLLBACK",
    "ABORT",
    "HEARTBEAT",
    "CHECKPOINT",
    "COMMAND",
    "FILL",
    "FINISH",
    "CONTROL",
    "RDB",
    "NOOP",
    "INIT",
];

fn rec(fields: Vec<(&str, Avro)>) -> Avro {
    Avro::Record(fields.into_iter().map(|(n, v)| (n.to_owned(), v)).collect())
}

fn value(branch: u32, fields: Vec<(&str, Avro)>) -> Avro {
    Avro::Union(branch, Box::new(rec(fields)))
}

fn integer(v: &str) -> Avro {
    value(
        1,
        vec![
            ("precision", Avro::Int(11)),
            ("value", Avro::String(v.into())),
        ],
    )
}

fn character(v: &str) -> Avro {
    value(
        2,
        vec![
            ("charset", Avro::String("utf8mb4".into())),
            ("value", Avro::Bytes(v.into())),
        ],
    )
}

fn decimal(v: &str, p: i32, s: i32) -> Avro {
    value(
        3,
        vec![
            ("value", Avro::String(v.into())),
            ("precision", Avro::Int(p)),
            ("scale", Avro::Int(s)),
        ],
    )
}

fn datetime(parts: [Option<i32>; 7]) -> Avro {
    let names = ["year", "month", "day", "hour", "minute", "second", "millis"];
    let fields = names
        .iter()
        .zip(parts)
        .map(|(n, p)| {
            (
                *n,
                p.map_or(Avro::Union(0, Box::new(Avro::Null)), |i| {
                    Avro::Union(1, Box::new(Avro::Int(i)))
                }),
            )
        })
        .collect();
    value(6, fields)
}

/// One DTS Record from MySQL, Avro-encoded with `schema/Record.avsc`.
fn record(
    op: &str,
    object: &str,
    fields: &[(&str, i32)],
    before: Option<Vec<Avro>>,
    after: Option<Vec<Avro>>,
) -> Vec<u8> {
    let schema = Schema::parse_str(SCHEMA).unwrap();
    let op_index = OPERATIONS.iter().position(|o| *o == op).unwrap() as u32;
    let field_list = Avro::Union(
        2,
        Box::new(Avro::Array(
            fields
                .iter()
                .map(|(n, c)| {
                    rec(vec![
                        ("name", Avro::String((*n).into())),
                        ("dataTypeNumber", Avro::Int(*c)),
                    ])
                })
                .collect(),
        )),
    );
    let image = |i: Option<Vec<Avro>>| {
        i.map_or(Avro::Union(0, Box::new(Avro::Null)), |v| {
            Avro::Union(2, Box::new(Avro::Array(v)))
        })
    };
    let value = rec(vec![
        ("version", Avro::Int(0)),
        ("id", Avro::Long(1)),
        ("sourceTimestamp", Avro::Long(1_600_000_000)),
        (
            "sourcePosition",
            Avro::String("1234@mysql-bin.000001".into()),
        ),
        ("safeSourcePosition", Avro::String(String::new())),
        ("sourceTxid", Avro::String("0".into())),
        (
            "source",
            rec(vec![
                ("sourceType", Avro::Enum(0, "MySQL".into())),
                ("version", Avro::String("8.0.32".into())),
            ]),
        ),
        ("operation", Avro::Enum(op_index, op.into())),
        (
            "objectName",
            Avro::Union(1, Box::new(Avro::String(object.into()))),
        ),
        ("processTimestamps", Avro::Union(0, Box::new(Avro::Null))),
        ("tags", Avro::Map(Default::default())),
        ("fields", field_list),
        ("beforeImages", image(before)),
        ("afterImages", image(after)),
        ("bornTimestamp", Avro::Long(1_600_000_000_000)),
    ]);
    to_avro_datum(&schema, value).unwrap()
}

/// The columns of the fixtures' `dts_test.orders`: MySQL type numbers
/// (LONGLONG, VAR_STRING, NEWDECIMAL, DATETIME2, DATE, TIMESTAMP2, BLOB).
const ORDERS: [(&str, i32); 7] = [
    ("id", 8),
    ("buyer", 253),
    ("amount", 246),
    ("placed_at", 18),
    ("due", 10),
    ("paid_at", 17),
    ("note", 252),
];

fn order(id: &str, buyer: &str, amount: &str, paid: bool) -> Vec<Avro> {
    vec![
        integer(id),
        character(buyer),
        decimal(amount, 10, 2),
        datetime([
            Some(2020),
            Some(9),
            Some(13),
            Some(12),
            Some(26),
            Some(40),
            Some(123_456),
        ]),
        datetime([Some(2020), Some(10), Some(1), None, None, None, None]),
        if paid {
            value(
                5,
                vec![
                    ("timestamp", Avro::Long(1_600_000_000)),
                    ("millis", Avro::Int(500_000)),
                ],
            )
        } else {
            Avro::Union(12, Box::new(Avro::Enum(0, "NULL".into())))
        },
        value(
            10,
            vec![
                ("type", Avro::String("BLOB".into())),
                ("value", Avro::Bytes(vec![0, 159, 255])),
            ],
        ),
    ]
}

/// The fixtures: (file name, Avro bytes).
fn examples() -> Vec<(&'static str, Vec<u8>)> {
    let o = "dts_test.orders";
    vec![
        (
            "insert.avro",
            record(
                "INSERT",
                o,
                &ORDERS,
                None,
                Some(order("1001", "Zhang San", "99.90", false)),
            ),
        ),
        (
            "update.avro",
            record(
                "UPDATE",
                o,
                &ORDERS,
                Some(order("1001", "Zhang San", "99.90", false)),
                Some(order("1001", "Zhang San", "89.90", true)),
            ),
        ),
        (
            "delete.avro",
            record(
                "DELETE",
                o,
                &ORDERS,
                Some(order("1001", "Zhang San", "89.90", true)),
                None,
            ),
        ),
        (
            "init.avro",
            record(
                "INIT",
                o,
                &ORDERS,
                None,
                Some(order("7", "Li Si", "-0.05", true)),
            ),
        ),
        ("begin.avro", record("BEGIN", "", &[], None, None)),
        ("ddl.avro", record("DDL", o, &[], None, None)),
    ]
}

#[test]
fn the_fixtures_are_the_schema_s_encoding_of_the_examples() {
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures");
    for (name, bytes) in examples() {
        let path = dir.join(name);
        if std::env::var_os("FLOE_WRITE_FIXTURES").is_some() {
            std::fs::write(&path, &bytes).unwrap();
        }
        let stored = std::fs::read(&path).unwrap_or_else(|e| {
            panic!("{}: {e} (FLOE_WRITE_FIXTURES=1 writes it)", path.display())
        });
        assert_eq!(
            stored, bytes,
            "{name} is stale: FLOE_WRITE_FIXTURES=1 rewrites it"
        );
    }
}

fn decode(values: Vec<Vec<u8>>) -> testing::TestDecoded {
    let mut dts = Dts::init(&Config::from_pairs([("table", "{database}.{table}")])).unwrap();
    let records: Vec<TestRecord> = values
        .into_iter()
        .map(|v| TestRecord::new("dts", v))
        .collect();
    testing::decode(&mut dts, &records)
}

#[test]
fn changes_and_typed_values() {
    let out = decode(examples().into_iter().map(|(_, b)| b).collect());
    assert!(out.rejected.is_empty(), "{:?}", out.rejected);
    let ops: Vec<(u32, Op)> = out.changes.iter().map(|(i, c)| (*i, c.op)).collect();
    assert_eq!(
        ops,
        vec![
            (0, Op::Insert),
            (1, Op::Update),
            (2, Op::Delete),
            (3, Op::Read)
        ]
    );
    let insert = &out.changes[0].1;
    assert_eq!(insert.table, "dts_test.orders");
    assert_eq!(insert.event_time, Some(1_600_000_000_000_000));
    let after = insert.after.as_ref().unwrap();
    assert_eq!(after.get("id"), Some(&OwnedValue::Long(1001)));
    assert_eq!(after.get("buyer"), Some(&"Zhang San".into()));
    assert_eq!(
        after.get("amount"),
        Some(&OwnedValue::Decimal(Decimal {
            unscaled: 9990,
            precision: 10,
            scale: 2
        }))
    );
    assert_eq!(
        after.get("placed_at"),
        Some(&OwnedValue::Timestamp(1_600_000_000_123_456))
    );
    assert_eq!(after.get("due"), Some(&OwnedValue::Date(18_536)));
    assert_eq!(after.get("paid_at"), Some(&OwnedValue::Null));
    assert_eq!(after.column_type("paid_at"), Some(ColumnType::Timestamptz));
    assert_eq!(
        after.get("note"),
        Some(&OwnedValue::Binary(vec![0, 159, 255]))
    );
    let update = &out.changes[1].1;
    assert_eq!(
        update.before.as_ref().unwrap().get("amount"),
        Some(&OwnedValue::Decimal(Decimal {
            unscaled: 9990,
            precision: 10,
            scale: 2
        }))
    );
    assert_eq!(
        update.after.as_ref().unwrap().get("paid_at"),
        Some(&OwnedValue::Timestamptz(1_600_000_000_500_000))
    );
    assert!(out.changes[2].1.after.is_none());
}

#[test]
fn times_years_and_zones() {
    let fields = [("t", 19), ("y", 13), ("z", 17)];
    let zoned = |zone: &str| {
        Avro::Union(
            7,
            Box::new(rec(vec![
                (
                    "value",
                    rec(
                        ["year", "month", "day", "hour", "minute", "second", "millis"]
                            .iter()
                            .zip([2020, 1, 1, 8, 0, 0, 0])
                            .map(|(n, v)| (*n, Avro::Union(1, Box::new(Avro::Int(v)))))
                            .collect(),
                    ),
                ),
                ("timezone", Avro::String(zone.into())),
            ])),
        )
    };
    let row = |zone| {
        vec![
            datetime([None, None, None, Some(23), Some(59), Some(59), Some(1)]),
            datetime([Some(2024), None, None, None, None, None, None]),
            zoned(zone),
        ]
    };
    let out = decode(vec![
        record("INSERT", "d.t", &fields, None, Some(row("+08:00"))),
        record("INSERT", "d.t", &fields, None, Some(row("Asia/Shanghai"))),
    ]);
    let after = out.changes[0].1.after.as_ref().unwrap();
    assert_eq!(after.get("t"), Some(&OwnedValue::Time(86_399_000_001)));
    assert_eq!(after.get("y"), Some(&OwnedValue::Long(2024)));
    assert_eq!(
        after.get("z"),
        Some(&OwnedValue::Timestamptz(1_577_836_800_000_000))
    );
    assert_eq!(
        out.rejected,
        vec![(
            1,
            "column `z`: time zone `Asia/Shanghai` is not a UTC offset".to_string()
        )]
    );
}

#[test]
fn bad_records_are_rejected_with_a_reason() {
    let geometry = value(
        9,
        vec![
            ("type", Avro::String("POINT".into())),
            ("value", Avro::String("POINT(0 0)".into())),
        ],
    );
    let mut trailing = record(
        "INSERT",
        "d.t",
        &[("id", 8)],
        None,
        Some(vec![integer("1")]),
    );
    trailing.push(0);
    let out = decode(vec![
        b"not avro at all".to_vec(),
        Vec::new(),
        record("INSERT", "d.t", &[("g", 255)], None, Some(vec![geometry])),
        record(
            "INSERT",
            "d.t",
            &[("id", 8)],
            None,
            Some(vec![integer("18446744073709551615")]),
        ),
        record(
            "UPDATE",
            "d.t",
            &[("id", 8)],
            None,
            Some(vec![integer("1")]),
        ),
        record(
            "INSERT",
            "d.t",
            &[("id", 8), ("x", 8)],
            None,
            Some(vec![integer("1")]),
        ),
        record(
            "INSERT",
            "d.t",
            &[("d", 12)],
            None,
            Some(vec![datetime([
                Some(0),
                Some(0),
                Some(0),
                Some(0),
                Some(0),
                Some(0),
                Some(0),
            ])]),
        ),
        trailing,
        record(
            "INSERT",
            "d.t",
            &[("id", 8)],
            None,
            Some(vec![integer("1")]),
        ),
    ]);
    let reasons: Vec<(u32, &str)> = out.rejected.iter().map(|(i, r)| (*i, r.as_str())).collect();
    assert!(
        reasons[0].1.starts_with("not a DTS Avro Record: "),
        "{}",
        reasons[0].1
    );
    assert!(
        reasons[1].1.starts_with("not a DTS Avro Record: "),
        "{}",
        reasons[1].1
    );
    assert_eq!(
        reasons[2..].to_vec(),
        vec![
            (2, "column `g`: geometry values are not supported"),
            (
                3,
                "column `id`: Integer `18446744073709551615` does not fit a long"
            ),
            (4, "a Update record needs its beforeImages"),
            (5, "`afterImages` has 1 values for 2 fields"),
            (
                6,
                "column `d`: DateTime `0000-00-00T00:00:00.000000` is not a valid time"
            ),
            (7, "not a DTS Avro Record: 1 bytes after the record"),
        ]
    );
    assert_eq!(out.changes.len(), 1);
    assert_eq!(out.changes[0].0, 8);
}

#[test]
fn a_length_beyond_the_cap_is_a_rejection_not_an_allocation() {
    // version 0, id 1, sourceTimestamp 1, then sourcePosition claiming 100 MB.
    let mut huge_string = vec![0x00, 0x02, 0x02];
    let mut n = 200_000_000u64; // zigzag(100_000_000)
    while n >= 0x80 {
        huge_string.push((n as u8) | 0x80);
        n >>= 7;
    }
    huge_string.push(n as u8);
    let out = decode(vec![huge_string]);
    assert_eq!(out.rejected.len(), 1);
    assert!(
        out.rejected[0].1.contains(&MAX_VALUE_BYTES.to_string()),
        "{}",
        out.rejected[0].1
    );
}

#[test]
fn records_of_the_older_schema_without_born_timestamp_decode_too() {
    let [full, older] = schemas().unwrap();
    let current = from_avro_datum(&full, &mut examples()[0].1.as_slice(), None).unwrap();
    let Avro::Record(mut fields) = current else {
        unreachable!()
    };
    assert_eq!(fields.pop().map(|f| f.0).as_deref(), Some(BORN_TIMESTAMP));
    let legacy = to_avro_datum(&older, Avro::Record(fields)).unwrap();
    let out = decode(vec![legacy, examples()[0].1.clone()]);
    assert!(out.rejected.is_empty(), "{:?}", out.rejected);
    assert_eq!(out.changes.len(), 2);
    assert_eq!(out.changes[0].1, out.changes[1].1);
}

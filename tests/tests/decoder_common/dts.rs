//! DTS Records (Avro) as Alibaba Cloud DTS writes them, for the `dts`
//! decoder's end-to-end test and the decoder benchmark.

use apache_avro::types::Value as Avro;
use apache_avro::{Schema, to_avro_datum};

/// The Record schema the plugin decodes with.
pub fn schema() -> Schema {
    let path = floe_tests::workspace_root().join("plugins/dts/schema/Record.avsc");
    Schema::parse_str(&std::fs::read_to_string(path).unwrap()).unwrap()
}

/// Branch `branch` of a union.
pub fn union(branch: u32, value: Avro) -> Avro {
    Avro::Union(branch, Box::new(value))
}

/// A record of `fields`.
pub fn rec(fields: Vec<(&str, Avro)>) -> Avro {
    Avro::Record(fields.into_iter().map(|(n, v)| (n.to_owned(), v)).collect())
}

/// One Record: `operation` (its index in the schema's enum and its name) on
/// table `object` (`db.table`), with `fields` (name, DTS type number) and
/// the images as the schema's unions (`None`: a null image).
pub fn record(
    schema: &Schema,
    operation: (u32, &str),
    object: &str,
    fields: &[(String, i32)],
    before: Option<Avro>,
    after: Option<Avro>,
) -> Vec<u8> {
    let fields = fields
        .iter()
        .map(|(name, code)| {
            rec(vec![
                ("name", Avro::String(name.clone())),
                ("dataTypeNumber", Avro::Int(*code)),
            ])
        })
        .collect();
    let none = || union(0, Avro::Null);
    let value = rec(vec![
        ("version", Avro::Int(0)),
        ("id", Avro::Long(1)),
        ("sourceTimestamp", Avro::Long(1_700_000_000)),
        ("sourcePosition", Avro::String("4@mysql-bin.000001".into())),
        ("safeSourcePosition", Avro::String(String::new())),
        ("sourceTxid", Avro::String("0".into())),
        (
            "source",
            rec(vec![
                ("sourceType", Avro::Enum(0, "MySQL".into())),
                ("version", Avro::String("8.0".into())),
            ]),
        ),
        ("operation", Avro::Enum(operation.0, operation.1.into())),
        ("objectName", union(1, Avro::String(object.into()))),
        ("processTimestamps", none()),
        ("tags", Avro::Map(Default::default())),
        ("fields", union(2, Avro::Array(fields))),
        ("beforeImages", before.unwrap_or_else(none)),
        ("afterImages", after.unwrap_or_else(none)),
        ("bornTimestamp", Avro::Long(0)),
    ]);
    to_avro_datum(schema, value).expect("a DTS Record")
}

//! Partition specs from configuration strings, and partition values of rows.
//!
//! A spec is a list of fields, each `column` (identity), `year(column)`,
//! `month(column)`, `day(column)`, `hour(column)`, `bucket(N, column)`,
//! `truncate(W, column)`, `identity(column)` or `void(column)`. Partition
//! fields are named as Java and PyIceberg name them: the column for identity,
//! else `<column>_year`, `_month`, `_day`, `_hour`, `_bucket`, `_trunc`, `_null`.

use iceberg::spec::{
    Datum, Literal, PartitionSpec, PrimitiveType, Schema, Struct, Transform, Type,
    UnboundPartitionSpec,
};
use iceberg::transform::{BoxedTransformFunction, create_transform_function};

use crate::change::{ImageRef, Value};

/// A partition field string that floe cannot read, or a column it names
/// that the schema lacks.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("partition field `{field}`: {reason}")]
pub struct PartitionSpecError {
    /// The field as configured.
    pub field: String,
    /// What is wrong.
    pub reason: String,
}

/// One parsed partition field: transform and source column.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PartitionFieldDef {
    /// The transform.
    pub transform: Transform,
    /// The source column name.
    pub column: String,
}

impl PartitionFieldDef {
    /// The partition field's name.
    pub fn name(&self) -> String {
        let suffix = match self.transform {
            Transform::Identity => return self.column.clone(),
            Transform::Year => "year",
            Transform::Month => "month",
            Transform::Day => "day",
            Transform::Hour => "hour",
            Transform::Bucket(_) => "bucket",
            Transform::Truncate(_) => "trunc",
            Transform::Void => "null",
            Transform::Unknown => "unknown",
        };
        format!("{}_{suffix}", self.column)
    }
}

/// Parses one partition field string.
pub fn parse_partition_field(text: &str) -> Result<PartitionFieldDef, PartitionSpecError> {
    let err = |reason: &str| PartitionSpecError {
        field: text.to_string(),
        reason: reason.to_string(),
    };
    let compact: String = text.chars().filter(|c| !c.is_whitespace()).collect();
    let Some(open) = compact.find('(') else {
        if compact.is_empty() || !compact.chars().all(|c| c.is_alphanumeric() || c == '_') {
            return Err(err("expected a column name or transform(column)"));
        }
        return Ok(PartitionFieldDef {
            transform: Transform::Identity,
            column: compact,
        });
    };
    let inner = compact[open + 1..]
        .strip_suffix(')')
        .ok_or_else(|| err("missing `)`"))?;
    let name = compact[..open].to_ascii_lowercase();
    let (transform, column) = match name.as_str() {
        "identity" => (Transform::Identity, inner),
        "year" | "years" => (Transform::Year, inner),
        "month" | "months" => (Transform::Month, inner),
        "day" | "days" => (Transform::Day, inner),
        "hour" | "hours" => (Transform::Hour, inner),
        "void" => (Transform::Void, inner),
        "bucket" | "truncate" => {
            let (n, column) = inner
                .split_once(',')
                .ok_or_else(|| err("expected (N, column)"))?;
            let n: u32 = n
                .parse()
                .ok()
                .filter(|n| *n > 0)
                .ok_or_else(|| err("N must be a positive integer"))?;
            let t = if name == "bucket" {
                Transform::Bucket(n)
            } else {
                Transform::Truncate(n)
            };
            (t, column)
        }
        _ => {
            return Err(err(
                "unknown transform (identity, year, month, day, hour, bucket, truncate, void)",
            ));
        }
    };
    if column.is_empty() {
        return Err(err("missing column"));
    }
    Ok(PartitionFieldDef {
        transform,
        column: column.to_string(),
    })
}

/// The unbound partition spec of `fields` for `schema`.
pub fn partition_spec(
    fields: &[String],
    schema: &Schema,
) -> Result<UnboundPartitionSpec, PartitionSpecError> {
    let mut builder = UnboundPartitionSpec::builder();
    for text in fields {
        let def = parse_partition_field(text)?;
        let source = schema
            .field_by_name(&def.column)
            .ok_or_else(|| PartitionSpecError {
                field: text.clone(),
                reason: format!("no column `{}` in the table", def.column),
            })?;
        if let Type::Primitive(ty) = source.field_type.as_ref()
            && def
                .transform
                .result_type(&Type::Primitive(ty.clone()))
                .is_err()
        {
            return Err(PartitionSpecError {
                field: text.clone(),
                reason: format!("cannot apply {} to a {ty} column", def.transform),
            });
        }
        builder = builder
            .add_partition_field(source.id, def.name(), def.transform)
            .map_err(|e| PartitionSpecError {
                field: text.clone(),
                reason: e.message().to_string(),
            })?;
    }
    Ok(builder.build())
}

/// The Iceberg datum of a value written into a column of type `ty`.
pub fn datum(value: &Value, ty: &PrimitiveType) -> Option<Datum> {
    Some(match (value, ty) {
        (Value::Boolean(b), _) => Datum::bool(*b),
        (Value::Int(v), PrimitiveType::Long) => Datum::long(*v),
        (Value::Int(v), _) => Datum::int(*v),
        (Value::Long(v), _) => Datum::long(*v),
        (Value::Float(v), PrimitiveType::Double) => Datum::double(*v),
        (Value::Float(v), _) => Datum::float(*v),
        (Value::Double(v), _) => Datum::double(*v),
        (Value::Decimal(v), PrimitiveType::Decimal { .. }) => {
            Datum::try_from_bytes(&v.to_be_bytes(), ty.clone()).ok()?
        }
        (Value::Date(v), _) => Datum::date(*v),
        (Value::Time(v), _) => Datum::time_micros(*v).ok()?,
        (Value::Timestamp(v), _) => Datum::timestamp_micros(*v),
        (Value::Timestamptz(v), _) => Datum::timestamptz_micros(*v),
        (Value::String(s), _) => Datum::string(s),
        (Value::Uuid(u), _) => Datum::uuid(uuid::Uuid::from_bytes(*u)),
        (Value::Binary(b), _) => Datum::binary(b.iter().copied()),
        _ => return None,
    })
}

/// Computes rows' partition tuples for one bound spec.
pub struct Partitioner {
    fields: Vec<(String, PrimitiveType, BoxedTransformFunction)>,
}

impl Partitioner {
    /// The partitioner of `spec` over `schema`.
    pub fn new(spec: &PartitionSpec, schema: &Schema) -> Result<Partitioner, iceberg::Error> {
        let mut fields = Vec::with_capacity(spec.fields().len());
        for field in spec.fields() {
            let source = schema.field_by_id(field.source_id).ok_or_else(|| {
                iceberg::Error::new(
                    iceberg::ErrorKind::DataInvalid,
                    format!("partition source column {} not in schema", field.source_id),
                )
            })?;
            let Type::Primitive(ty) = source.field_type.as_ref() else {
                return Err(iceberg::Error::new(
                    iceberg::ErrorKind::FeatureUnsupported,
                    "nested partition source",
                ));
            };
            fields.push((
                source.name.clone(),
                ty.clone(),
                create_transform_function(&field.transform)?,
            ));
        }
        Ok(Partitioner { fields })
    }

    /// Whether the spec has no fields.
    pub fn is_unpartitioned(&self) -> bool {
        self.fields.is_empty()
    }

    /// The partition tuple of a row.
    pub fn partition(&self, row: &ImageRef<'_>) -> Result<Struct, iceberg::Error> {
        let mut values = Vec::with_capacity(self.fields.len());
        for (column, ty, transform) in &self.fields {
            let value = match row.get(column).and_then(|v| datum(&v, ty)) {
                Some(d) => transform.transform_literal(&d)?.map(Literal::from),
                None => None,
            };
            values.push(value);
        }
        Ok(Struct::from_iter(values))
    }
}

#[cfg(test)]
mod tests {
    use iceberg::spec::{NestedField, PrimitiveType};

    use super::*;
    use crate::change::{ColumnType, Field, Image};

    fn schema() -> Schema {
        Schema::builder()
            .with_fields(vec![
                NestedField::required(1, "id", Type::Primitive(PrimitiveType::Long)).into(),
                NestedField::optional(2, "name", Type::Primitive(PrimitiveType::String)).into(),
                NestedField::optional(3, "ts", Type::Primitive(PrimitiveType::Timestamptz)).into(),
                NestedField::optional(4, "region", Type::Primitive(PrimitiveType::String)).into(),
            ])
            .build()
            .unwrap()
    }

    #[test]
    fn parses_every_transform() {
        let cases = [
            ("region", Transform::Identity, "region"),
            ("year(ts)", Transform::Year, "ts_year"),
            ("month(ts)", Transform::Month, "ts_month"),
            ("day( ts )", Transform::Day, "ts_day"),
            ("hour(ts)", Transform::Hour, "ts_hour"),
            ("bucket(16, id)", Transform::Bucket(16), "id_bucket"),
            ("truncate(4,name)", Transform::Truncate(4), "name_trunc"),
        ];
        for (text, transform, name) in cases {
            let def = parse_partition_field(text).unwrap();
            assert_eq!(def.transform, transform, "{text}");
            assert_eq!(def.name(), name);
        }
        for bad in [
            "",
            "bucket(id)",
            "bucket(0, id)",
            "frob(id)",
            "day(ts",
            "a-b",
        ] {
            assert!(parse_partition_field(bad).is_err(), "{bad}");
        }
        assert!(partition_spec(&["nope".into()], &schema()).is_err());
        assert!(partition_spec(&["year(name)".into()], &schema()).is_err());
    }

    #[test]
    fn computes_partition_tuples() {
        let schema = schema();
        let spec = partition_spec(
            &[
                "region".into(),
                "day(ts)".into(),
                "bucket(16, id)".into(),
                "truncate(2, name)".into(),
            ],
            &schema,
        )
        .unwrap()
        .bind(schema.clone())
        .unwrap();
        let p = Partitioner::new(&spec, &schema).unwrap();
        let row: Image = [
            ("id", ColumnType::Long, Some(Value::Long(34))),
            (
                "name",
                ColumnType::String,
                Some(Value::String("iceberg".into())),
            ),
            (
                "ts",
                ColumnType::Timestamptz,
                Some(Value::Timestamptz(86_400_000_000 * 3 + 5)),
            ),
            ("region", ColumnType::String, None),
        ]
        .into_iter()
        .map(|(n, ty, value)| Field {
            name: n.into(),
            ty,
            value,
        })
        .collect();
        let batch = crate::change::ChangeBatch::from(vec![crate::change::Change {
            op: crate::change::Op::Insert,
            table: "t".into(),
            key: Vec::new(),
            before: None,
            after: Some(row),
            position: crate::change::Position::new("t", 0, 0),
            event_time: None,
        }]);
        let tuple = p.partition(&batch.after(0).unwrap()).unwrap();
        let values: Vec<Option<Literal>> = tuple.iter().map(|v| v.cloned()).collect();
        assert_eq!(values[0], None);
        assert_eq!(values[1], Some(Literal::date(3)));
        // Iceberg's reference: bucket(16) of long 34 is 3.
        assert_eq!(values[2], Some(Literal::int(3)));
        assert_eq!(values[3], Some(Literal::string("ic")));
    }
}

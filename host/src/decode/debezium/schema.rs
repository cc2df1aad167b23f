//! Kafka Connect schemas (the `schema` half of a `schemas.enable=true`
//! message) turned into column types and converters, once per distinct
//! schema text.

use std::collections::HashMap;
use std::sync::Arc;

use serde::Deserialize;

use crate::change::ColumnType;

use super::logical::Conv;
use super::numeric_time::TimeUnit;
use super::partial;
use super::raw::FastMap;

/// The column types the target table declares, by column name.
pub(crate) type TypeMap = FastMap<Box<str>, ColumnType>;

/// A Connect schema as JsonConverter writes it. Only what decoding needs is
/// read; `items`, `keys`, `values`, `doc`, `default`, `version` are ignored.
#[derive(Debug, Deserialize)]
struct ConnectSchema {
    #[serde(rename = "type")]
    ty: Option<String>,
    #[serde(default)]
    fields: Option<Vec<ConnectSchema>>,
    #[serde(default)]
    field: Option<String>,
    #[serde(default)]
    name: Option<String>,
    #[serde(default)]
    parameters: Option<HashMap<String, serde_json::Value>>,
}

impl ConnectSchema {
    fn parameter(&self, name: &str) -> Option<String> {
        match self.parameters.as_ref()?.get(name)? {
            serde_json::Value::String(s) => Some(s.clone()),
            serde_json::Value::Number(n) => Some(n.to_string()),
            _ => None,
        }
    }
}

/// One column of a row schema.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Column {
    /// The column name.
    pub name: Box<str>,
    /// How its JSON values convert.
    pub conv: Conv,
    /// The Iceberg type of its values (`conv.column_type()`).
    pub ty: ColumnType,
    /// Its values are YugabyteDB wrappers (`{"value": v, "set": b}`): the
    /// schema's struct of `value` and `set`, unwrapped to `value`'s.
    pub wrapped: bool,
}

/// The columns of a struct schema, with a by-name index.
#[derive(Debug, Default)]
pub(crate) struct RowSchema {
    columns: Vec<Column>,
    index: FastMap<Box<str>, usize>,
}

impl RowSchema {
    /// The column named `name`. `hint` is where it is expected (payloads
    /// list fields in schema order), which spares the hash lookup.
    #[inline]
    pub(crate) fn lookup(&self, name: &str, hint: usize) -> Option<&Column> {
        match self.columns.get(hint) {
            Some(column) if &*column.name == name => Some(column),
            _ => self.index.get(name).map(|&i| &self.columns[i]),
        }
    }

    /// The number of columns.
    pub(crate) fn len(&self) -> usize {
        self.columns.len()
    }

    /// The columns in schema order.
    pub(crate) fn columns(&self) -> &[Column] {
        &self.columns
    }

    fn from_fields(fields: &[ConnectSchema], types: &TypeMap) -> Result<RowSchema, String> {
        let mut row = RowSchema::default();
        for field in fields {
            let name = field
                .field
                .as_deref()
                .ok_or("a struct field has no `field` name")?;
            // A YugabyteDB column: a struct of `value` (and `set`).
            let inner = field
                .fields
                .as_deref()
                .filter(|fields| {
                    field.ty.as_deref() == Some("struct")
                        && partial::is_wrapper_schema(fields.iter().map(|f| f.field.as_deref()))
                })
                .and_then(|fields| fields.iter().find(|f| f.field.as_deref() == Some("value")));
            let conv = conv_for(inner.unwrap_or(field), types.get(name).copied())
                .map_err(|e| format!("field `{name}`: {e}"))?;
            let column = Column {
                name: name.into(),
                conv,
                ty: conv.column_type(),
                wrapped: inner.is_some(),
            };
            match row.index.get(name) {
                Some(&i) => row.columns[i] = column,
                None => {
                    row.index.insert(name.into(), row.columns.len());
                    row.columns.push(column);
                }
            }
        }
        Ok(row)
    }
}

/// A decoded value or key schema.
#[derive(Debug, Default)]
pub(crate) struct ParsedSchema {
    /// The top-level struct's fields: the row of a flattened message or a key.
    pub top: RowSchema,
    /// The `before` struct of an envelope.
    pub before: Option<RowSchema>,
    /// The `after` struct of an envelope.
    pub after: Option<RowSchema>,
}

impl ParsedSchema {
    /// Reads schema JSON text; `types` is the target table's declared types
    /// (they choose the scale of VariableScaleDecimal columns).
    pub(crate) fn parse(text: &str, types: &TypeMap) -> Result<ParsedSchema, String> {
        let schema: ConnectSchema = serde_json::from_str(text).map_err(|e| e.to_string())?;
        let Some(fields) = &schema.fields else {
            // A schema of a primitive value: no columns.
            return Ok(ParsedSchema::default());
        };
        let top = RowSchema::from_fields(fields, types)?;
        let nested = |name: &str| -> Result<Option<RowSchema>, String> {
            fields
                .iter()
                .rev()
                .find(|f| f.field.as_deref() == Some(name) && f.ty.as_deref() == Some("struct"))
                .map(|f| {
                    RowSchema::from_fields(f.fields.as_deref().unwrap_or_default(), types)
                        .map_err(|e| format!("`{name}`: {e}"))
                })
                .transpose()
        };
        Ok(ParsedSchema {
            before: nested("before")?,
            after: nested("after")?,
            top,
        })
    }
}

/// The converter for one field: by Debezium/Connect logical name first,
/// then by Connect type.
fn conv_for(field: &ConnectSchema, declared: Option<ColumnType>) -> Result<Conv, String> {
    let ty = field.ty.as_deref().ok_or("no `type`")?;
    if let Some(name) = field.name.as_deref()
        && let Some(conv) = logical_conv(name, field, declared)?
    {
        return Ok(conv);
    }
    Ok(Conv::Plain(match ty {
        "int8" | "int16" | "int32" => ColumnType::Int,
        "int64" => ColumnType::Long,
        "float" | "float32" => ColumnType::Float,
        "double" | "float64" => ColumnType::Double,
        "boolean" => ColumnType::Boolean,
        "string" => ColumnType::String,
        "bytes" => ColumnType::Binary,
        // struct, array, map (and anything newer): the JSON text.
        _ => ColumnType::String,
    }))
}

fn logical_conv(
    name: &str,
    field: &ConnectSchema,
    declared: Option<ColumnType>,
) -> Result<Option<Conv>, String> {
    let plain = |ty| Ok(Some(Conv::Plain(ty)));
    match name {
        "org.apache.kafka.connect.data.Decimal" => {
            let source_scale: i32 = match field.parameter("scale") {
                Some(s) => s.parse().map_err(|_| format!("bad decimal scale `{s}`"))?,
                None => 0,
            };
            let declared_precision: i64 = match field.parameter("connect.decimal.precision") {
                Some(p) => p
                    .parse()
                    .map_err(|_| format!("bad decimal precision `{p}`"))?,
                None => 38,
            };
            // Iceberg: 0 <= scale <= precision <= 38. A negative source scale
            // (Oracle) adds integer digits; wider decimals are capped at 38
            // digits and values that do not fit go to the DLQ.
            let scale = i64::from(source_scale).clamp(0, 38);
            let precision = declared_precision
                .saturating_add(scale - i64::from(source_scale))
                .clamp(scale.max(1), 38);
            Ok(Some(Conv::Decimal {
                precision: precision as u8,
                scale: scale as u8,
                source_scale,
            }))
        }
        "io.debezium.data.VariableScaleDecimal" => {
            Ok(Some(Conv::VariableScaleDecimal(match declared {
                Some(ColumnType::Decimal { precision, scale }) => Some((precision, scale)),
                _ => None,
            })))
        }
        "io.debezium.time.Date"
        | "org.apache.kafka.connect.data.Date"
        | "io.debezium.time.IsoDate" => plain(ColumnType::Date),
        "io.debezium.time.Timestamp" | "org.apache.kafka.connect.data.Timestamp" => {
            Ok(Some(Conv::Timestamp(TimeUnit::Millis)))
        }
        "io.debezium.time.MicroTimestamp" => Ok(Some(Conv::Timestamp(TimeUnit::Micros))),
        "io.debezium.time.NanoTimestamp" => Ok(Some(Conv::Timestamp(TimeUnit::Nanos))),
        "io.debezium.time.IsoTimestamp" => plain(ColumnType::Timestamp),
        "io.debezium.time.ZonedTimestamp" => plain(ColumnType::Timestamptz),
        "io.debezium.time.Time" | "org.apache.kafka.connect.data.Time" => {
            Ok(Some(Conv::Time(TimeUnit::Millis)))
        }
        "io.debezium.time.MicroTime" => Ok(Some(Conv::Time(TimeUnit::Micros))),
        "io.debezium.time.NanoTime" => Ok(Some(Conv::Time(TimeUnit::Nanos))),
        "io.debezium.time.IsoTime" => plain(ColumnType::Time),
        // Iceberg has no time with zone: keep Debezium's text ("10:15:30Z").
        "io.debezium.time.ZonedTime" | "io.debezium.time.Interval" => plain(ColumnType::String),
        "io.debezium.time.MicroDuration" => plain(ColumnType::Long),
        "io.debezium.time.Year" => plain(ColumnType::Int),
        "io.debezium.data.Json"
        | "io.debezium.data.Enum"
        | "io.debezium.data.EnumSet"
        | "io.debezium.data.Xml"
        | "io.debezium.data.Ltree" => plain(ColumnType::String),
        "io.debezium.data.Uuid" => plain(ColumnType::Uuid),
        "io.debezium.data.Bits" => plain(ColumnType::Binary),
        // io.debezium.data.geometry.* and other structs: by type (JSON text).
        _ => Ok(None),
    }
}

/// Parsed schemas by their exact JSON text, so a schema is decoded once,
/// not once per message. Bounded: when full it is cleared and refills with
/// the schemas still in use.
#[derive(Debug)]
pub(crate) struct SchemaCache {
    map: FastMap<Arc<str>, Arc<ParsedSchema>>,
    capacity: usize,
    parsed: u64,
    /// The last key schema seen, for the key's prefix fast path.
    pub(crate) recent_key: Option<(Arc<str>, Arc<ParsedSchema>)>,
}

impl SchemaCache {
    /// A cache of at most `capacity` schemas.
    pub(crate) fn new(capacity: usize) -> Self {
        SchemaCache {
            map: FastMap::default(),
            capacity: capacity.max(1),
            parsed: 0,
            recent_key: None,
        }
    }

    /// The parsed schema of `text`, parsing it on first sight. Returns the
    /// cached text too (shared, for the decoder's fast path).
    pub(crate) fn get_or_parse(
        &mut self,
        text: &str,
        types: &TypeMap,
    ) -> Result<(Arc<str>, Arc<ParsedSchema>), String> {
        if let Some((key, parsed)) = self.map.get_key_value(text) {
            return Ok((key.clone(), parsed.clone()));
        }
        let parsed = Arc::new(ParsedSchema::parse(text, types)?);
        self.parsed += 1;
        if self.map.len() >= self.capacity {
            tracing::info!(
                capacity = self.capacity,
                "Debezium schema cache full; clearing it"
            );
            self.map.clear();
        }
        tracing::debug!(
            bytes = text.len(),
            distinct = self.map.len() + 1,
            "decoded a new Connect schema"
        );
        let key: Arc<str> = Arc::from(text);
        self.map.insert(key.clone(), parsed.clone());
        Ok((key, parsed))
    }

    /// How many schemas were parsed (cache misses) since the start.
    pub(crate) fn parsed(&self) -> u64 {
        self.parsed
    }

    /// How many schemas the cache holds.
    #[cfg(test)]
    pub(crate) fn len(&self) -> usize {
        self.map.len()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn conv(field: &str, declared: Option<ColumnType>) -> Conv {
        let schema: ConnectSchema = serde_json::from_str(field).unwrap();
        conv_for(&schema, declared).unwrap()
    }

    #[test]
    fn connect_types_map_to_iceberg_types() {
        for (ty, expected) in [
            ("int8", ColumnType::Int),
            ("int16", ColumnType::Int),
            ("int32", ColumnType::Int),
            ("int64", ColumnType::Long),
            ("float", ColumnType::Float),
            ("float32", ColumnType::Float),
            ("double", ColumnType::Double),
            ("float64", ColumnType::Double),
            ("boolean", ColumnType::Boolean),
            ("string", ColumnType::String),
            ("bytes", ColumnType::Binary),
            ("struct", ColumnType::String),
            ("array", ColumnType::String),
            ("map", ColumnType::String),
        ] {
            let c = conv(&format!(r#"{{"type":"{ty}","field":"x"}}"#), None);
            assert_eq!(c.column_type(), expected, "{ty}");
        }
    }

    #[test]
    fn logical_types_map_to_iceberg_types() {
        for (ty, name, expected) in [
            ("int32", "io.debezium.time.Date", ColumnType::Date),
            (
                "int32",
                "org.apache.kafka.connect.data.Date",
                ColumnType::Date,
            ),
            ("int64", "io.debezium.time.Timestamp", ColumnType::Timestamp),
            (
                "int64",
                "io.debezium.time.MicroTimestamp",
                ColumnType::Timestamp,
            ),
            (
                "int64",
                "io.debezium.time.NanoTimestamp",
                ColumnType::Timestamp,
            ),
            (
                "int64",
                "org.apache.kafka.connect.data.Timestamp",
                ColumnType::Timestamp,
            ),
            (
                "string",
                "io.debezium.time.ZonedTimestamp",
                ColumnType::Timestamptz,
            ),
            ("int32", "io.debezium.time.Time", ColumnType::Time),
            ("int64", "io.debezium.time.MicroTime", ColumnType::Time),
            ("int64", "io.debezium.time.NanoTime", ColumnType::Time),
            (
                "int32",
                "org.apache.kafka.connect.data.Time",
                ColumnType::Time,
            ),
            ("string", "io.debezium.data.Json", ColumnType::String),
            ("string", "io.debezium.data.Enum", ColumnType::String),
            ("string", "io.debezium.data.EnumSet", ColumnType::String),
            ("string", "io.debezium.data.Xml", ColumnType::String),
            ("string", "io.debezium.data.Uuid", ColumnType::Uuid),
            ("int32", "io.debezium.time.Year", ColumnType::Int),
            ("bytes", "io.debezium.data.Bits", ColumnType::Binary),
            (
                "struct",
                "io.debezium.data.VariableScaleDecimal",
                ColumnType::Double,
            ),
            (
                "struct",
                "io.debezium.data.geometry.Point",
                ColumnType::String,
            ),
            ("int64", "some.unknown.Logical", ColumnType::Long),
        ] {
            let c = conv(
                &format!(r#"{{"type":"{ty}","name":"{name}","field":"x"}}"#),
                None,
            );
            assert_eq!(c.column_type(), expected, "{name}");
        }
        let vsd = conv(
            r#"{"type":"struct","name":"io.debezium.data.VariableScaleDecimal","field":"x"}"#,
            Some(ColumnType::Decimal {
                precision: 12,
                scale: 2,
            }),
        );
        assert_eq!(
            vsd.column_type(),
            ColumnType::Decimal {
                precision: 12,
                scale: 2
            }
        );
    }

    #[test]
    fn decimal_parameters() {
        let d = |params: &str| {
            conv(
                &format!(
                    r#"{{"type":"bytes","name":"org.apache.kafka.connect.data.Decimal","parameters":{params},"field":"x"}}"#
                ),
                None,
            )
        };
        assert_eq!(
            d(r#"{"scale":"4","connect.decimal.precision":"19"}"#),
            Conv::Decimal {
                precision: 19,
                scale: 4,
                source_scale: 4
            }
        );
        assert_eq!(
            d(r#"{"scale":"0"}"#).column_type(),
            ColumnType::Decimal {
                precision: 38,
                scale: 0
            },
            "no precision: 38"
        );
        assert_eq!(
            d(r#"{"scale":"3","connect.decimal.precision":"40"}"#).column_type(),
            ColumnType::Decimal {
                precision: 38,
                scale: 3
            },
            "capped at 38"
        );
        assert_eq!(
            d(r#"{"scale":"-2","connect.decimal.precision":"5"}"#),
            Conv::Decimal {
                precision: 7,
                scale: 0,
                source_scale: -2
            }
        );
        assert_eq!(
            d(r#"{"scale":"-2147483648","connect.decimal.precision":"9223372036854775807"}"#)
                .column_type(),
            ColumnType::Decimal {
                precision: 38,
                scale: 0
            },
            "extreme parameters neither overflow nor panic"
        );
        let bad: ConnectSchema = serde_json::from_str(
            r#"{"type":"bytes","name":"org.apache.kafka.connect.data.Decimal","parameters":{"scale":"x"}}"#,
        )
        .unwrap();
        assert!(conv_for(&bad, None).is_err());
    }

    #[test]
    fn envelope_schema_and_cache() {
        let text = r#"{"type":"struct","fields":[
            {"type":"struct","fields":[{"type":"int32","field":"id"}],"field":"before"},
            {"type":"struct","fields":[{"type":"int32","field":"id"},{"type":"string","field":"name"}],"field":"after"},
            {"type":"string","field":"op"}]}"#;
        let mut cache = SchemaCache::new(2);
        let (_, parsed) = cache.get_or_parse(text, &TypeMap::default()).unwrap();
        let after = parsed.after.as_ref().unwrap();
        assert_eq!(after.columns().len(), 2);
        assert_eq!(after.lookup("name", 0).unwrap().ty, ColumnType::String);
        assert_eq!(after.lookup("name", 1).unwrap().ty, ColumnType::String);
        assert!(after.lookup("nope", 0).is_none());
        assert_eq!(parsed.top.lookup("op", 2).unwrap().ty, ColumnType::String);
        cache.get_or_parse(text, &TypeMap::default()).unwrap();
        assert_eq!(cache.parsed(), 1, "second lookup is a hit");
        cache
            .get_or_parse(r#"{"type":"string"}"#, &TypeMap::default())
            .unwrap();
        cache
            .get_or_parse(r#"{"type":"int32"}"#, &TypeMap::default())
            .unwrap();
        assert_eq!(cache.len(), 1, "cleared when full");
        assert!(
            cache
                .get_or_parse(r#"{"fields":[{"field":"a"}]}"#, &TypeMap::default())
                .is_err()
        );
        assert!(cache.get_or_parse("{", &TypeMap::default()).is_err());
    }
}

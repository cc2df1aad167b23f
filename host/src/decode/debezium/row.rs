//! Row images from JSON objects: each member converted by its column's
//! schema, else by the table's declared type, else by inference.

use std::borrow::Cow;

use serde_json::value::RawValue;

use crate::change::{ColumnType, Field, Image, Value};
use crate::decode::DecodeError;

use super::logical::{self, NumericTime};
use super::raw::{self, EntriesError, NameSet, Token};
use super::schema::{RowSchema, TypeMap};

/// What converting values needs besides the value: the table's declared
/// types and the unit of schemaless numeric times.
pub(crate) struct Context<'c> {
    /// Declared column types of the target table.
    pub types: &'c TypeMap,
    /// How numbers become times without a schema.
    pub numeric: NumericTime,
}

impl Context<'_> {
    /// The type and value of column `name` holding `token`, without a schema.
    pub(crate) fn schemaless(
        &self,
        image: &'static str,
        name: &str,
        token: &Token,
    ) -> Result<(ColumnType, Option<Value>), DecodeError> {
        let declared = if self.types.is_empty() {
            None
        } else {
            self.types.get(name).copied()
        };
        let ty = declared.unwrap_or_else(|| logical::infer(token));
        if *token == Token::Null {
            return Ok((ty, None));
        }
        let value = logical::to_type(ty, token, self.numeric)
            .map_err(|reason| invalid_value(image, name, token, ty, reason))?;
        Ok((ty, Some(value)))
    }
}

/// The error for a value its column cannot hold.
pub(crate) fn invalid_value(
    image: &'static str,
    column: &str,
    token: &Token,
    ty: ColumnType,
    reason: String,
) -> DecodeError {
    let mut value = token.to_json_text();
    if value.len() > 120 {
        let mut end = 117;
        while !value.is_char_boundary(end) {
            end -= 1;
        }
        value.truncate(end);
        value.push_str("...");
    }
    DecodeError::InvalidValue {
        image,
        column: column.to_owned(),
        value,
        ty,
        reason,
    }
}

/// Splits the object `raw` (the `before` or `after` member, named by
/// `image`) into its entries.
pub(crate) fn object_entries<'a>(
    image: &'static str,
    raw: &'a RawValue,
) -> Result<raw::Entries<'a>, DecodeError> {
    raw::entries(raw.get()).map_err(|e| DecodeError::InvalidEnvelope {
        field: image.to_owned(),
        message: match e {
            EntriesError::NotAnObject(kind) => {
                format!("must be an object, a JSON string (MongoDB) or null, not {kind}")
            }
            EntriesError::Syntax(message) => message,
        },
    })
}

/// The image of an object's entries. With `schema`, members it names are
/// converted by it; other members by `ctx`. Members whose name starts with
/// `__` are dropped when `drop_meta` is set (ExtractNewRecordState fields).
pub(crate) fn image_from_entries(
    image: &'static str,
    entries: &[(Cow<'_, str>, &RawValue)],
    schema: Option<&RowSchema>,
    ctx: &Context,
    drop_meta: bool,
) -> Result<Image, DecodeError> {
    let mut fields: Vec<Field> = Vec::with_capacity(entries.len());
    let mut seen = NameSet::default();
    for (position, (name, raw)) in entries.iter().enumerate() {
        if drop_meta && name.starts_with("__") {
            continue;
        }
        let token = Token::from_raw(raw);
        let (ty, value) = match schema.and_then(|s| s.lookup(name, position)) {
            Some(column) => {
                let value =
                    match token {
                        Token::Null => None,
                        _ => Some(column.conv.convert(&token, ctx.numeric).map_err(|reason| {
                            invalid_value(image, name, &token, column.ty, reason)
                        })?),
                    };
                (column.ty, value)
            }
            None => ctx.schemaless(image, name, &token)?,
        };
        push_field(&mut fields, &mut seen, name.as_ref(), ty, value);
    }
    Ok(Image::from_distinct(fields))
}

/// Appends a field; a repeated name replaces the earlier field in place (the
/// last value wins, as in `serde_json::Value`).
pub(crate) fn push_field(
    fields: &mut Vec<Field>,
    seen: &mut NameSet,
    name: &str,
    ty: ColumnType,
    value: Option<Value>,
) {
    if seen.insert(name) {
        if let Some(field) = fields.iter_mut().find(|f| f.name == name) {
            field.ty = ty;
            field.value = value;
            return;
        }
    }
    fields.push(Field {
        name: name.to_owned(),
        ty,
        value,
    });
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::decode::debezium::schema::ParsedSchema;

    #[test]
    fn schema_then_table_then_inference() {
        let schema = ParsedSchema::parse(
            r#"{"type":"struct","fields":[{"type":"int64","name":"io.debezium.time.Timestamp","field":"ts"}]}"#,
            &TypeMap::default(),
        )
        .unwrap();
        let mut types = TypeMap::default();
        types.insert("d".into(), ColumnType::Date);
        let ctx = Context {
            types: &types,
            numeric: NumericTime::Auto,
        };
        let text = r#"{"ts": 1000, "d": "2024-01-01", "n": 5, "x": null, "n": 6, "__op": "c"}"#;
        let entries = raw::entries(text).unwrap();
        let image = image_from_entries("after", &entries, Some(&schema.top), &ctx, true).unwrap();
        let names: Vec<&str> = image.fields().iter().map(|f| f.name.as_str()).collect();
        assert_eq!(names, ["ts", "d", "n", "x"]);
        assert_eq!(image.get("ts"), Some(&Value::Timestamp(1_000_000)));
        assert_eq!(image.get("d"), Some(&Value::Date(19_723)));
        assert_eq!(image.get("n"), Some(&Value::Long(6)), "last repeat wins");
        assert_eq!(image.field("x").unwrap().ty, ColumnType::String);
        assert_eq!(image.get("x"), None);

        let bad = raw::entries(r#"{"d": "01/02/2024"}"#).unwrap();
        let err = image_from_entries("after", &bad, None, &ctx, false).unwrap_err();
        assert_eq!(
            err.to_string(),
            "after.d: \"01/02/2024\" cannot be stored as date: not a date (YYYY-MM-DD)"
        );
    }
}

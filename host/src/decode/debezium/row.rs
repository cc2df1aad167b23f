//! Row images from JSON objects: each member converted by its column's
//! schema, else by the table's declared type, else by inference.
//!
//! Images are built while serde_json reads the object ([`ImageSeed`]), so
//! the bytes of a row are scanned once; [`image_from_entries`] builds one
//! from an object already split into entries.

use std::borrow::Cow;
use std::cell::{Cell, RefCell};
use std::fmt;
use std::sync::Arc;

use serde::de::{self, DeserializeSeed, IgnoredAny, MapAccess, SeqAccess, Visitor};
use serde_json::value::RawValue;

use crate::change::{ColumnType, Field, Image, Value};
use crate::decode::DecodeError;

use super::logical;
use super::numeric_time::{ColumnUnits, TimeUnits};
use super::partial;
#[cfg(test)]
use super::raw;
use super::raw::{NameSet, Text, Token};
use super::schema::{RowSchema, TypeMap};

/// What converting values needs besides the value: the table's declared
/// types and the units of integer times.
pub(crate) struct Context<'c> {
    /// Declared column types of the target table.
    pub types: &'c TypeMap,
    /// How integers become times when no schema names their unit.
    pub times: &'c TimeUnits,
    /// The width of the last schemaless image, to size the next one.
    pub width: Option<&'c Cell<usize>>,
    /// The column names of earlier rows, to share rather than allocate.
    pub names: Option<&'c NameCache>,
}

/// Column names already made, by position in the image. Rows of a table
/// repeat their names in the same order, so each row's fields share one
/// allocation per name instead of making their own.
#[derive(Debug, Default)]
pub(crate) struct NameCache(RefCell<Vec<Arc<str>>>);

impl NameCache {
    /// The name `name` of the member at `position`: the one made for an
    /// earlier row if that row had the same name there.
    #[inline]
    pub(crate) fn name(&self, position: usize, name: &str) -> Arc<str> {
        let mut names = self.0.borrow_mut();
        if let Some(known) = names.get(position)
            && **known == *name
        {
            return known.clone();
        }
        let made: Arc<str> = Arc::from(name);
        if position < names.len() {
            names[position] = made.clone();
        } else if position == names.len() {
            names.push(made.clone());
        }
        made
    }
}

impl Context<'_> {
    /// Whether `token` is a NULL in a column the table does not declare:
    /// such a column is left out of the image rather than typed. A NULL
    /// fits any column, and a column's type is only known from a value: an
    /// undeclared column first seen as NULL must not make the table create
    /// it (or the decoder type it) as a string.
    #[inline]
    pub(crate) fn is_undeclared_null(&self, name: &str, token: &Token) -> bool {
        *token == Token::Null && (self.types.is_empty() || !self.types.contains_key(name))
    }

    /// The units of integer times in column `name`.
    #[inline]
    pub(crate) fn units<'n>(&'n self, name: &'n str) -> ColumnUnits<'n> {
        self.times.column(name)
    }

    /// The type and value of column `name` holding `token`, without a schema.
    #[inline]
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
        let Some(ty) = declared else {
            return Ok(inferred(token));
        };
        if *token == Token::Null {
            return Ok((ty, None));
        }
        let value = logical::to_type(ty, token, self.units(name))
            .map_err(|reason| invalid_value(image, name, token, ty, reason))?;
        Ok((ty, Some(value)))
    }
}

/// The inferred type and value of an undeclared column: integer → long,
/// other number → double, string → string, boolean → boolean, null →
/// string (images leave such a NULL out; see
/// [`Context::is_undeclared_null`]), object or array → string holding the JSON.
fn inferred(token: &Token) -> (ColumnType, Option<Value>) {
    match token {
        Token::Null => (ColumnType::String, None),
        Token::Bool(b) => (ColumnType::Boolean, Some(Value::Boolean(*b))),
        Token::Number(text) => match text.parse::<i64>() {
            Ok(v) => (ColumnType::Long, Some(Value::Long(v))),
            // serde_json validated the number, so it parses as a double
            // (possibly infinite when out of range).
            Err(_) => (
                ColumnType::Double,
                Some(Value::Double(text.parse().unwrap_or(f64::NAN))),
            ),
        },
        Token::String(s) | Token::Nested(s) => {
            (ColumnType::String, Some(Value::String(s.to_string())))
        }
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

/// Collects the fields of one image.
struct Builder<'s, 'c> {
    image: &'static str,
    rows: Option<&'s RowSchema>,
    ctx: &'s Context<'c>,
    drop_meta: bool,
    fields: Vec<Field>,
    seen: NameSet,
    /// Columns the source left unchanged.
    unchanged: Vec<Arc<str>>,
    /// Whether the image's columns are YugabyteDB wrappers: decided by its
    /// first column (its schema, else its value), required of the others.
    wrapped: Option<bool>,
}

impl<'s, 'c> Builder<'s, 'c> {
    fn new(
        image: &'static str,
        rows: Option<&'s RowSchema>,
        ctx: &'s Context<'c>,
        drop_meta: bool,
        capacity: usize,
    ) -> Self {
        Builder {
            image,
            rows,
            ctx,
            drop_meta,
            fields: Vec::with_capacity(capacity),
            seen: NameSet::default(),
            unchanged: Vec::new(),
            wrapped: None,
        }
    }

    /// Converts and adds member `name` at `position` in the object.
    #[inline]
    fn add(&mut self, position: usize, name: &str, raw: &RawValue) -> Result<(), DecodeError> {
        if self.drop_meta && name.starts_with("__") {
            return Ok(());
        }
        let column = self.rows.and_then(|s| s.lookup(name, position));
        if self.wrapped.is_none() {
            // The schema says so (a struct of `value` and `set`), else the
            // first value that is not a bare null (YugabyteDB's docs show
            // wrapped values under schemas of the plain types).
            if column.is_some_and(|c| c.wrapped) {
                self.wrapped = Some(true);
            } else if raw.get() != "null" {
                self.wrapped = Some(partial::unwrap(raw).is_some());
            }
        }
        let raw = if self.wrapped == Some(true) {
            match partial::unwrap(raw) {
                // A bare null is a column YugabyteDB did not send: absent
                // (unchanged in an update, see `finish`; NULL otherwise).
                None if raw.get() == "null" => return Ok(()),
                Some((_, false)) => {
                    self.mark_unchanged(position, name);
                    return Ok(());
                }
                Some((value, true)) => value,
                None => {
                    return Err(invalid_value(
                        self.image,
                        name,
                        &Token::from_raw(raw),
                        column.map_or(ColumnType::String, |c| c.ty),
                        "not a YugabyteDB column ({\"value\": …, \"set\": …}) like the image's other columns"
                            .to_owned(),
                    ));
                }
            }
        } else {
            raw
        };
        let token = Token::from_raw(raw);
        let declared = || {
            column
                .map(|c| c.ty)
                .or_else(|| self.ctx.types.get(name).copied())
        };
        if matches!(token, Token::String(_)) && partial::is_placeholder(&token, declared()) {
            self.mark_unchanged(position, name);
            return Ok(());
        }
        let (ty, value) = match column {
            Some(column) => {
                let value = match token {
                    Token::Null => None,
                    _ => Some(column.conv.convert(&token, self.ctx.units(name)).map_err(
                        |reason| invalid_value(self.image, name, &token, column.ty, reason),
                    )?),
                };
                (column.ty, value)
            }
            // In a YugabyteDB image a column left out is unchanged: an
            // explicit NULL must stay in (a NULL fits any column's type).
            None if self.wrapped != Some(true) && self.ctx.is_undeclared_null(name, &token) => {
                return Ok(());
            }
            None => self.ctx.schemaless(self.image, name, &token)?,
        };
        let name = match self.ctx.names {
            Some(names) => names.name(position, name),
            None => Arc::from(name),
        };
        push_field(&mut self.fields, &mut self.seen, name, ty, value);
        Ok(())
    }

    /// Notes column `name` (at `position`) as unchanged.
    fn mark_unchanged(&mut self, position: usize, name: &str) {
        let name = match self.ctx.names {
            Some(names) => names.name(position, name),
            None => Arc::from(name),
        };
        // A name repeated with a value keeps the value (see `finish`).
        self.unchanged.push(name);
    }

    fn finish(self) -> Image {
        let mut image = Image::from_distinct_fields(self.fields);
        for name in self.unchanged {
            if image.field(&name).is_none() {
                image.mark_unchanged(name);
            }
        }
        // YugabyteDB sends only the changed columns of an update under
        // replica identity CHANGE: what a wrapped image lacks is unchanged
        // (the envelope keeps this for updates' after images only).
        image.set_absent_unchanged(self.wrapped == Some(true));
        image
    }
}

/// The message for an image member of the wrong kind.
pub(crate) fn not_an_image(kind: &str) -> String {
    format!("must be an object, a JSON string (MongoDB) or null, not {kind}")
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
    let mut builder = Builder::new(image, schema, ctx, drop_meta, entries.len());
    for (position, (name, raw)) in entries.iter().enumerate() {
        builder.add(position, name, raw)?;
    }
    Ok(builder.finish())
}

/// Appends a field; a repeated name replaces the earlier field in place (the
/// last value wins, as in `serde_json::Value`).
#[inline]
pub(crate) fn push_field(
    fields: &mut Vec<Field>,
    seen: &mut NameSet,
    name: Arc<str>,
    ty: ColumnType,
    value: Option<Value>,
) {
    if let Some(at) = seen.position(fields, &name) {
        let field = &mut fields[at];
        field.ty = ty;
        field.value = value;
        return;
    }
    fields.push(Field { name, ty, value });
}

/// An envelope's `before`, `after` or `patch` member as read in one pass.
#[derive(Debug, Default)]
pub(crate) enum Slot<'a> {
    /// The member is not there.
    #[default]
    Absent,
    /// JSON `null`.
    Null,
    /// An object, converted.
    Image(Image),
    /// A string: a MongoDB document in Extended JSON, unescaped.
    Document(Cow<'a, str>),
    /// Anything else; names what it is.
    Invalid(&'static str),
}

impl Slot<'_> {
    /// Whether the member is present (even if null).
    pub(crate) fn is_present(&self) -> bool {
        !matches!(self, Slot::Absent)
    }
}

/// Reads an image member while serde_json parses it. A conversion error is
/// left in `error` (serde only carries its own errors).
pub(crate) struct ImageSeed<'s, 'c> {
    /// `before` or `after`, for errors.
    pub image: &'static str,
    /// The struct schema of the member, with a schema block.
    pub rows: Option<&'s RowSchema>,
    /// Declared types and time units.
    pub ctx: &'s Context<'c>,
    /// Where a conversion error goes.
    pub error: &'s mut Option<DecodeError>,
}

impl<'de, 's, 'c> DeserializeSeed<'de> for ImageSeed<'s, 'c> {
    type Value = Slot<'de>;

    fn deserialize<D: de::Deserializer<'de>>(
        self,
        deserializer: D,
    ) -> Result<Self::Value, D::Error> {
        deserializer.deserialize_any(self)
    }
}

impl<'de, 's, 'c> Visitor<'de> for ImageSeed<'s, 'c> {
    type Value = Slot<'de>;

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("a row image")
    }

    fn visit_unit<E: de::Error>(self) -> Result<Self::Value, E> {
        Ok(Slot::Null)
    }

    fn visit_none<E: de::Error>(self) -> Result<Self::Value, E> {
        Ok(Slot::Null)
    }

    fn visit_borrowed_str<E: de::Error>(self, v: &'de str) -> Result<Self::Value, E> {
        Ok(Slot::Document(Cow::Borrowed(v)))
    }

    fn visit_str<E: de::Error>(self, v: &str) -> Result<Self::Value, E> {
        Ok(Slot::Document(Cow::Owned(v.to_owned())))
    }

    fn visit_string<E: de::Error>(self, v: String) -> Result<Self::Value, E> {
        Ok(Slot::Document(Cow::Owned(v)))
    }

    fn visit_bool<E: de::Error>(self, _: bool) -> Result<Self::Value, E> {
        Ok(Slot::Invalid("a boolean"))
    }

    fn visit_i64<E: de::Error>(self, _: i64) -> Result<Self::Value, E> {
        Ok(Slot::Invalid("a number"))
    }

    fn visit_u64<E: de::Error>(self, _: u64) -> Result<Self::Value, E> {
        Ok(Slot::Invalid("a number"))
    }

    fn visit_f64<E: de::Error>(self, _: f64) -> Result<Self::Value, E> {
        Ok(Slot::Invalid("a number"))
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Self::Value, A::Error> {
        while seq.next_element::<IgnoredAny>()?.is_some() {}
        Ok(Slot::Invalid("an array"))
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Self::Value, A::Error> {
        let capacity = match self.rows {
            Some(rows) => rows.len(),
            None => self.ctx.width.map_or(16, Cell::get),
        };
        let mut builder = Builder::new(self.image, self.rows, self.ctx, false, capacity);
        let mut position = 0;
        while let Some(Text(name)) = map.next_key::<Text<'de>>()? {
            let raw: &'de RawValue = map.next_value()?;
            if let Err(e) = builder.add(position, &name, raw) {
                *self.error = Some(e);
                return Err(de::Error::custom("conversion failed"));
            }
            position += 1;
        }
        if let Some(width) = self.ctx.width {
            width.set(builder.fields.len().clamp(4, 256));
        }
        Ok(Slot::Image(builder.finish()))
    }
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
            times: &TimeUnits::default(),
            width: None,
            names: None,
        };
        let text =
            r#"{"ts": 1000, "d": "2024-01-01", "n": 5, "x": null, "n": 6, "f": 1.5, "__op": "c"}"#;
        let entries = raw::entries(text).unwrap();
        let image = image_from_entries("after", &entries, Some(&schema.top), &ctx, true).unwrap();
        let names: Vec<&str> = image.fields().iter().map(|f| &*f.name).collect();
        // `x` is NULL and undeclared: left out until a value types it.
        assert_eq!(names, ["ts", "d", "n", "f"]);
        assert_eq!(image.get("ts"), Some(&Value::Timestamp(1_000_000)));
        assert_eq!(image.get("d"), Some(&Value::Date(19_723)));
        assert_eq!(image.get("n"), Some(&Value::Long(6)), "last repeat wins");
        assert!(image.field("x").is_none());
        assert_eq!(image.get("f"), Some(&Value::Double(1.5)));

        let bad = raw::entries(r#"{"d": "01/02/2024"}"#).unwrap();
        let err = image_from_entries("after", &bad, None, &ctx, false).unwrap_err();
        assert_eq!(
            err.to_string(),
            "after.d: \"01/02/2024\" cannot be stored as date: not a date (YYYY-MM-DD)"
        );
    }

    #[test]
    fn inference() {
        let infer = |t: Token| inferred(&t);
        assert_eq!(
            infer(Token::Number("1".into())),
            (ColumnType::Long, Some(Value::Long(1)))
        );
        assert_eq!(
            infer(Token::Number("1.0".into())),
            (ColumnType::Double, Some(Value::Double(1.0)))
        );
        assert_eq!(
            infer(Token::Number("18446744073709551615".into())),
            (
                ColumnType::Double,
                Some(Value::Double(18_446_744_073_709_551_615.0))
            )
        );
        assert_eq!(
            infer(Token::String("x".into())),
            (ColumnType::String, Some(Value::String("x".into())))
        );
        assert_eq!(infer(Token::Null), (ColumnType::String, None));
        assert_eq!(
            infer(Token::Bool(false)),
            (ColumnType::Boolean, Some(Value::Boolean(false)))
        );
        assert_eq!(
            infer(Token::Nested("[]".into())),
            (ColumnType::String, Some(Value::String("[]".into())))
        );
    }

    #[test]
    fn image_seed_reads_each_kind() {
        let types = TypeMap::default();
        let ctx = Context {
            types: &types,
            times: &TimeUnits::default(),
            width: None,
            names: None,
        };
        let read = |text: &str| {
            let mut error = None;
            let mut de = serde_json::Deserializer::from_str(text);
            let slot = ImageSeed {
                image: "after",
                rows: None,
                ctx: &ctx,
                error: &mut error,
            }
            .deserialize(&mut de)
            .map(|s| format!("{s:?}"));
            (slot, error)
        };
        assert_eq!(read("null").0.unwrap(), "Null");
        assert_eq!(
            read(r#""{\"a\":1}""#).0.unwrap(),
            r#"Document("{\"a\":1}")"#
        );
        assert_eq!(read("[1, [2]]").0.unwrap(), r#"Invalid("an array")"#);
        assert!(read(r#"{"a": 1, "a": 2}"#).0.unwrap().contains("Long(2)"));
        let mut types = TypeMap::default();
        types.insert("a".into(), ColumnType::Int);
        let ctx = Context {
            types: &types,
            times: &TimeUnits::default(),
            width: None,
            names: None,
        };
        let mut error = None;
        let mut de = serde_json::Deserializer::from_str(r#"{"a": "x"}"#);
        let result = ImageSeed {
            image: "after",
            rows: None,
            ctx: &ctx,
            error: &mut error,
        }
        .deserialize(&mut de);
        assert!(result.is_err());
        assert_eq!(
            error.unwrap().to_string(),
            "after.a: \"x\" cannot be stored as int: not a number"
        );
    }
}

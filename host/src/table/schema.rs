//! Iceberg schemas from change images: the type mapping, the schema of a new
//! table, and schema evolution.
//!
//! Evolution adds new columns as optional and widens int → long,
//! float → double and decimal(P,S) → decimal(P',S) with P' > P. A value of
//! a narrower type than its column (an int into a long column) is widened
//! when written. Anything else is a [`SchemaMismatch`] for that change.

use std::collections::HashMap;
use std::sync::Arc;

use iceberg::spec::{NestedField, NestedFieldRef, PrimitiveType, Schema, Type};

use crate::change::{ColumnType, Image, ImageRef};

/// The Iceberg primitive type of a change's column type.
pub fn iceberg_type(ty: ColumnType) -> PrimitiveType {
    match ty {
        ColumnType::Boolean => PrimitiveType::Boolean,
        ColumnType::Int => PrimitiveType::Int,
        ColumnType::Long => PrimitiveType::Long,
        ColumnType::Float => PrimitiveType::Float,
        ColumnType::Double => PrimitiveType::Double,
        ColumnType::Decimal { precision, scale } => PrimitiveType::Decimal {
            precision: precision.into(),
            scale: scale.into(),
        },
        ColumnType::Date => PrimitiveType::Date,
        ColumnType::Time => PrimitiveType::Time,
        ColumnType::Timestamp => PrimitiveType::Timestamp,
        ColumnType::Timestamptz => PrimitiveType::Timestamptz,
        ColumnType::String => PrimitiveType::String,
        ColumnType::Uuid => PrimitiveType::Uuid,
        ColumnType::Binary => PrimitiveType::Binary,
    }
}

/// The change column type of an Iceberg type; `None` for types floe does not
/// write (nested, fixed, nanosecond timestamps).
pub fn column_type(ty: &Type) -> Option<ColumnType> {
    let Type::Primitive(p) = ty else { return None };
    Some(match p {
        PrimitiveType::Boolean => ColumnType::Boolean,
        PrimitiveType::Int => ColumnType::Int,
        PrimitiveType::Long => ColumnType::Long,
        PrimitiveType::Float => ColumnType::Float,
        PrimitiveType::Double => ColumnType::Double,
        PrimitiveType::Decimal { precision, scale } => ColumnType::Decimal {
            precision: u8::try_from(*precision).ok()?,
            scale: u8::try_from(*scale).ok()?,
        },
        PrimitiveType::Date => ColumnType::Date,
        PrimitiveType::Time => ColumnType::Time,
        PrimitiveType::Timestamp => ColumnType::Timestamp,
        PrimitiveType::Timestamptz => ColumnType::Timestamptz,
        PrimitiveType::String => ColumnType::String,
        PrimitiveType::Uuid => ColumnType::Uuid,
        PrimitiveType::Binary => ColumnType::Binary,
        _ => return None,
    })
}

/// Why a change's image does not fit the table's schema.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum SchemaMismatch {
    /// A column's type cannot be written into the table's column.
    #[error("column `{column}` is {found} but the table has {table} (not a widening floe applies)")]
    Type {
        /// The column.
        column: String,
        /// The table's type.
        table: String,
        /// The change's type.
        found: ColumnType,
    },
    /// A required column is missing or NULL.
    #[error("column `{0}` is required but missing or NULL")]
    Required(String),
    /// The change has a column the table lacks and evolution is off.
    #[error("column `{0}` is not in the table (schema evolution is off)")]
    Unknown(String),
    /// A key column cannot be an identifier field.
    #[error("key column `{column}` has type {ty}, which cannot be an identifier field")]
    KeyType {
        /// The column.
        column: String,
        /// Its type.
        ty: ColumnType,
    },
    /// The image lacks a key column.
    #[error("key column `{0}` is missing or NULL")]
    MissingKey(String),
    /// The change would add more columns than the table's limit allows.
    #[error(
        "the change adds {adds} columns to the table, over the limit `max_new_columns` = {limit} \
         new columns per commit ({left} left in this one); the table was not changed \
         (raise `max_new_columns` for this table to take it)"
    )]
    TooManyNewColumns {
        /// The columns the change would add.
        adds: usize,
        /// The table's `max_new_columns`.
        limit: usize,
        /// New columns the window could still take.
        left: usize,
    },
}

/// Whether `found` values can be written into a `table` column without a schema change.
fn fits_as_is(table: ColumnType, found: ColumnType) -> bool {
    use ColumnType as T;
    table == found
        || matches!((table, found), (T::Long, T::Int) | (T::Double, T::Float))
        || matches!((table, found), (T::Decimal { precision: p, scale: s }, T::Decimal { precision: q, scale: t }) if s == t && q <= p)
}

/// The type the table column must widen to so `found` fits, if allowed.
fn widened(table: ColumnType, found: ColumnType) -> Option<ColumnType> {
    use ColumnType as T;
    match (table, found) {
        (T::Int, T::Long) => Some(T::Long),
        (T::Float, T::Double) => Some(T::Double),
        (
            T::Decimal {
                precision: p,
                scale: s,
            },
            T::Decimal {
                precision: q,
                scale: t,
            },
        ) if s == t && q > p => Some(found),
        _ => None,
    }
}

/// The schema of a new table from its first change's image: columns in image
/// order with ids from 1, key columns required and identifier fields, the
/// others optional.
pub fn new_table_schema(image: &Image, key: &[String]) -> Result<Schema, SchemaMismatch> {
    let mut fields: Vec<NestedFieldRef> = Vec::with_capacity(image.len());
    for column in key {
        let field = image
            .field(column)
            .ok_or_else(|| SchemaMismatch::MissingKey(column.clone()))?;
        if matches!(field.ty, ColumnType::Float | ColumnType::Double) {
            return Err(SchemaMismatch::KeyType {
                column: column.clone(),
                ty: field.ty,
            });
        }
    }
    for (i, field) in image.fields().iter().enumerate() {
        let id = i as i32 + 1;
        let ty = Type::Primitive(iceberg_type(field.ty));
        let nested = if key.iter().any(|k| **k == *field.name) {
            NestedField::required(id, &field.name, ty)
        } else {
            NestedField::optional(id, &field.name, ty)
        };
        fields.push(Arc::new(nested));
    }
    // Identifier ids in key order.
    let ids: Vec<i32> = key
        .iter()
        .filter_map(|k| image.fields().iter().position(|f| *f.name == **k))
        .map(|i| i as i32 + 1)
        .collect();
    Schema::builder()
        .with_fields(fields)
        .with_identifier_field_ids(ids)
        .build()
        .map_err(|e| SchemaMismatch::Unknown(e.to_string()))
}

/// The schema a table's writer validates changes against, evolving as
/// changes need.
#[derive(Debug, Clone)]
pub struct SchemaState {
    schema: Arc<Schema>,
    last_column_id: i32,
    evolved: bool,
}

impl SchemaState {
    /// The state of a table's current schema; `last_column_id` is the
    /// table's (new columns get ids above it).
    pub fn new(schema: Arc<Schema>, last_column_id: i32) -> Self {
        let last_column_id = last_column_id.max(schema.highest_field_id());
        SchemaState {
            schema,
            last_column_id,
            evolved: false,
        }
    }

    /// The schema as evolved so far.
    pub fn schema(&self) -> &Arc<Schema> {
        &self.schema
    }

    /// Whether the schema changed since [`SchemaState::new`].
    pub fn evolved(&self) -> bool {
        self.evolved
    }

    /// The names of the columns every row must have a value in.
    pub fn required(&self) -> impl Iterator<Item = &str> {
        self.schema
            .as_struct()
            .fields()
            .iter()
            .filter(|f| f.required)
            .map(|f| f.name.as_str())
    }

    /// Checks the columns of a batch (name, type, and whether any of its
    /// cells holds a value) against the schema: per column, why the table
    /// cannot take its values (`None` when it can), and the changes the
    /// schema needs where `evolve` allows them (new columns, widenings), at
    /// most one per name. A column of only NULLs fits any column, whatever
    /// its type, and is not added when the table lacks it: a NULL says
    /// nothing of a column's type.
    pub fn plan_columns<'a>(
        &self,
        columns: impl IntoIterator<Item = (&'a str, ColumnType, bool)>,
        evolve: bool,
    ) -> (Vec<Option<SchemaMismatch>>, Vec<ColumnChange>) {
        let mut changes: Vec<ColumnChange> = Vec::new();
        let mut planned: HashMap<&'a str, usize> = HashMap::new();
        let verdicts = columns
            .into_iter()
            .map(|(name, ty, valued)| {
                if !valued {
                    return None;
                }
                let current = match planned.get(name) {
                    Some(&at) => Some((changes[at].id, changes[at].ty)),
                    None => match self.schema.field_by_name(name) {
                        Some(field) => match column_type(&field.field_type) {
                            Some(table_ty) => Some((Some(field.id), table_ty)),
                            None => {
                                return Some(SchemaMismatch::Type {
                                    column: name.to_string(),
                                    table: field.field_type.to_string(),
                                    found: ty,
                                });
                            }
                        },
                        None => None,
                    },
                };
                let Some((id, table_ty)) = current else {
                    if !evolve {
                        return Some(SchemaMismatch::Unknown(name.to_string()));
                    }
                    planned.insert(name, changes.len());
                    changes.push(ColumnChange {
                        name: name.to_string(),
                        id: None,
                        ty,
                    });
                    return None;
                };
                if fits_as_is(table_ty, ty) {
                    return None;
                }
                match widened(table_ty, ty) {
                    Some(wide) if evolve => {
                        match planned.get(name) {
                            Some(&at) => changes[at].ty = wide,
                            None => {
                                planned.insert(name, changes.len());
                                changes.push(ColumnChange {
                                    name: name.to_string(),
                                    id,
                                    ty: wide,
                                });
                            }
                        }
                        None
                    }
                    _ => Some(SchemaMismatch::Type {
                        column: name.to_string(),
                        table: table_ty.to_string(),
                        found: ty,
                    }),
                }
            })
            .collect();
        (verdicts, changes)
    }

    /// Makes the planned changes (see [`SchemaState::plan_columns`]) in one
    /// new schema, however many there are: new columns are optional, with
    /// ids above the table's last.
    pub fn evolve(&mut self, changes: &[ColumnChange]) -> Result<(), SchemaMismatch> {
        if changes.is_empty() {
            return Ok(());
        }
        let widen: HashMap<i32, ColumnType> =
            changes.iter().filter_map(|c| Some((c.id?, c.ty))).collect();
        let mut fields: Vec<NestedFieldRef> = self
            .schema
            .as_struct()
            .fields()
            .iter()
            .map(|f| match widen.get(&f.id) {
                Some(&wide) => {
                    let mut f = (**f).clone();
                    f.field_type = Box::new(Type::Primitive(iceberg_type(wide)));
                    Arc::new(f)
                }
                None => f.clone(),
            })
            .collect();
        let mut last_column_id = self.last_column_id;
        for added in changes.iter().filter(|c| c.id.is_none()) {
            last_column_id += 1;
            fields.push(Arc::new(NestedField::optional(
                last_column_id,
                &added.name,
                Type::Primitive(iceberg_type(added.ty)),
            )));
        }
        let schema = Schema::builder()
            .with_schema_id(self.schema.schema_id())
            .with_fields(fields)
            .with_identifier_field_ids(self.schema.identifier_field_ids())
            .build()
            .map_err(|e| SchemaMismatch::Unknown(e.to_string()))?;
        self.last_column_id = last_column_id;
        self.schema = Arc::new(schema);
        self.evolved = true;
        Ok(())
    }

    /// Checks `image` against the schema, evolving it where `evolve`
    /// allows. Required columns must be present and non-NULL unless
    /// `partial` (a delete's image needs only the key).
    pub fn admit(
        &mut self,
        image: &ImageRef<'_>,
        evolve: bool,
        partial: bool,
    ) -> Result<(), SchemaMismatch> {
        let (verdicts, changes) = self.plan_columns(
            image.cells().map(|c| (c.name, c.ty, c.bytes.is_some())),
            evolve,
        );
        if let Some(refusal) = verdicts.into_iter().flatten().next() {
            return Err(refusal);
        }
        self.evolve(&changes)?;
        if !partial
            && let Some(missing) = self
                .required()
                .find(|name| image.cell(name).is_none_or(|c| c.bytes.is_none()))
        {
            return Err(SchemaMismatch::Required(missing.to_string()));
        }
        Ok(())
    }
}

/// A change a column needs of the schema: widening the column `id`, or
/// adding a column (`id` is `None`).
#[derive(Debug, Clone, PartialEq)]
pub struct ColumnChange {
    /// The column.
    pub name: String,
    /// The column's id when it exists (a widening).
    pub id: Option<i32>,
    /// Its type after the change.
    pub ty: ColumnType,
}

impl ColumnChange {
    /// Whether the change adds a column.
    pub fn adds(&self) -> bool {
        self.id.is_none()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::change::{Change, ChangeBatch, Field, Op, Position, Value};

    fn image(fields: &[(&str, ColumnType, Option<Value>)]) -> Image {
        fields
            .iter()
            .map(|(n, t, v)| Field {
                name: (*n).into(),
                ty: *t,
                value: v.clone(),
            })
            .collect()
    }

    /// `image` as the after image of a one-change batch.
    fn batch_of(image: &Image) -> ChangeBatch {
        ChangeBatch::from(vec![Change {
            op: Op::Insert,
            table: "t".into(),
            key: Vec::new(),
            before: None,
            after: Some(image.clone()),
            position: Position::new("t", 0, 0),
            event_time: None,
        }])
    }

    fn admit(
        state: &mut SchemaState,
        image: &Image,
        evolve: bool,
        partial: bool,
    ) -> Result<(), SchemaMismatch> {
        state.admit(&batch_of(image).after(0).unwrap(), evolve, partial)
    }

    #[test]
    fn new_schema_marks_key_required() {
        let img = image(&[
            ("id", ColumnType::Long, Some(Value::Long(1))),
            ("name", ColumnType::String, None),
        ]);
        let schema = new_table_schema(&img, &["id".into()]).unwrap();
        assert!(schema.field_by_name("id").unwrap().required);
        assert!(!schema.field_by_name("name").unwrap().required);
        assert_eq!(schema.identifier_field_ids().collect::<Vec<_>>(), vec![1]);
        let bad = image(&[("f", ColumnType::Double, Some(Value::Double(1.0)))]);
        assert!(new_table_schema(&bad, &["f".into()]).is_err());
        assert!(new_table_schema(&img, &["nope".into()]).is_err());
    }

    #[test]
    fn evolution_adds_and_widens() {
        let img = image(&[
            ("id", ColumnType::Long, Some(Value::Long(1))),
            ("n", ColumnType::Int, Some(Value::Int(1))),
            (
                "d",
                ColumnType::Decimal {
                    precision: 5,
                    scale: 2,
                },
                None,
            ),
        ]);
        let schema = new_table_schema(&img, &["id".into()]).unwrap();
        let mut state = SchemaState::new(Arc::new(schema), 3);
        admit(&mut state, &img, false, false).unwrap();
        assert!(!state.evolved());
        let wider = image(&[
            ("id", ColumnType::Long, Some(Value::Long(1))),
            ("n", ColumnType::Long, Some(Value::Long(1))),
            (
                "d",
                ColumnType::Decimal {
                    precision: 9,
                    scale: 2,
                },
                Some(Value::Decimal(1)),
            ),
            ("extra", ColumnType::String, Some(Value::String("e".into()))),
        ]);
        assert!(admit(&mut state, &wider, false, false).is_err());
        admit(&mut state, &wider, true, false).unwrap();
        let s = state.schema();
        assert_eq!(
            *s.field_by_name("n").unwrap().field_type,
            Type::Primitive(PrimitiveType::Long)
        );
        assert_eq!(s.field_by_name("extra").unwrap().id, 4);
        assert!(!s.field_by_name("extra").unwrap().required);
        // Narrower values fit without change; other changes are mismatches.
        admit(&mut state, &img, true, false).unwrap();
        let other = image(&[("id", ColumnType::String, Some(Value::String("x".into())))]);
        assert!(matches!(
            admit(&mut state, &other, true, false),
            Err(SchemaMismatch::Type { .. })
        ));
        let scale = image(&[
            ("id", ColumnType::Long, Some(Value::Long(1))),
            (
                "d",
                ColumnType::Decimal {
                    precision: 12,
                    scale: 3,
                },
                Some(Value::Decimal(1)),
            ),
        ]);
        assert!(admit(&mut state, &scale, true, false).is_err());
        // NULLs fit any column and add none, whatever their type.
        let nulls = image(&[
            ("id", ColumnType::Long, Some(Value::Long(1))),
            ("n", ColumnType::String, None),
            ("unseen", ColumnType::String, None),
        ]);
        admit(&mut state, &nulls, true, false).unwrap();
        assert!(state.schema().field_by_name("unseen").is_none());
        let missing = image(&[("n", ColumnType::Long, Some(Value::Long(1)))]);
        assert!(matches!(
            admit(&mut state, &missing, true, false),
            Err(SchemaMismatch::Required(_))
        ));
        admit(&mut state, &missing, true, true).unwrap();
    }
}

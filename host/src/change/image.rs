//! A row image: named, typed columns.

use std::sync::Arc;

use super::{ColumnType, Value};

/// One column of a row image. A `None` value is SQL NULL.
#[derive(Debug, Clone, PartialEq)]
pub struct Field {
    /// The column name, shared: rows of a table hold the same few names, so
    /// a decoder hands each row a clone of one allocation.
    pub name: Arc<str>,
    /// The column's Iceberg type.
    pub ty: ColumnType,
    /// The value, or `None` for NULL.
    pub value: Option<Value>,
}

/// The columns of a row as the source saw it, in source order.
///
/// A partial row (PostgreSQL's TOAST placeholder, YugabyteDB's `set: false`
/// or a CHANGE-identity update) also names the columns the source left
/// unchanged and did not send: they are not among the fields, and the table
/// writer fills them from the row's current state.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Image {
    fields: Vec<Field>,
    /// Columns the source left unchanged (not among `fields`).
    unchanged: Vec<Arc<str>>,
    /// Every column not among `fields` is unchanged (YugabyteDB's
    /// CHANGE replica identity sends only the changed columns).
    absent_unchanged: bool,
}

impl Image {
    /// An image with no columns.
    pub fn new() -> Self {
        Image::default()
    }

    /// An image of the given fields; a later field replaces an earlier one of the same name.
    pub fn from_fields(fields: impl IntoIterator<Item = Field>) -> Self {
        let mut image = Image::new();
        for field in fields {
            image.set(field.name, field.ty, field.value);
        }
        image
    }

    /// An image of fields whose names the caller knows to be distinct
    /// (checked in debug builds): skips the per-field search of [`Image::set`].
    pub fn from_distinct_fields(fields: Vec<Field>) -> Self {
        debug_assert!(
            fields
                .iter()
                .enumerate()
                .all(|(i, f)| fields[..i].iter().all(|g| g.name != f.name)),
            "field names are not distinct"
        );
        Image {
            fields,
            ..Image::default()
        }
    }

    /// The columns in order.
    pub fn fields(&self) -> &[Field] {
        &self.fields
    }

    /// The columns in order, by value.
    pub fn into_fields(self) -> Vec<Field> {
        self.fields
    }

    /// The number of columns.
    pub fn len(&self) -> usize {
        self.fields.len()
    }

    /// Whether the image has no columns.
    pub fn is_empty(&self) -> bool {
        self.fields.is_empty()
    }

    /// The column named `name`.
    pub fn field(&self, name: &str) -> Option<&Field> {
        self.fields.iter().find(|f| *f.name == *name)
    }

    /// The value of column `name`: `None` when the column is absent or NULL.
    pub fn get(&self, name: &str) -> Option<&Value> {
        self.field(name).and_then(|f| f.value.as_ref())
    }

    /// Sets column `name`, replacing its type and value if it exists, else appending it.
    pub fn set(
        &mut self,
        name: impl AsRef<str> + Into<Arc<str>>,
        ty: ColumnType,
        value: Option<Value>,
    ) {
        match self.fields.iter_mut().find(|f| *f.name == *name.as_ref()) {
            Some(field) => {
                field.ty = ty;
                field.value = value;
            }
            None => self.fields.push(Field {
                name: name.into(),
                ty,
                value,
            }),
        }
    }

    /// The columns the source left unchanged (see [`Image`]).
    pub fn unchanged(&self) -> &[Arc<str>] {
        &self.unchanged
    }

    /// Notes that the source left column `name` unchanged; it must not be
    /// among the fields.
    pub fn mark_unchanged(&mut self, name: impl Into<Arc<str>>) {
        let name = name.into();
        if !self.unchanged.contains(&name) {
            self.unchanged.push(name);
        }
    }

    /// Whether every column not among the fields is unchanged.
    pub fn absent_unchanged(&self) -> bool {
        self.absent_unchanged
    }

    /// Says whether every column not among the fields is unchanged.
    pub fn set_absent_unchanged(&mut self, absent: bool) {
        self.absent_unchanged = absent;
    }

    /// Whether the image is a partial row: some columns unchanged.
    pub fn is_partial(&self) -> bool {
        self.absent_unchanged || !self.unchanged.is_empty()
    }

    /// Forgets which columns were unchanged (the image is taken as the
    /// whole row).
    pub fn clear_unchanged(&mut self) {
        self.unchanged.clear();
        self.absent_unchanged = false;
    }

    /// Removes column `name`, returning it.
    pub fn remove(&mut self, name: &str) -> Option<Field> {
        let index = self.fields.iter().position(|f| *f.name == *name)?;
        Some(self.fields.remove(index))
    }
}

impl FromIterator<Field> for Image {
    fn from_iter<I: IntoIterator<Item = Field>>(iter: I) -> Self {
        Image::from_fields(iter)
    }
}

//! A transformer's replacement changes, read back against the changes they
//! replace.
//!
//! A plugin that edits a column or two of each change (a mask, a cast)
//! returns each change whole. Decoding every cell again would allocate a name
//! and a value per column per row; instead, a cell whose name, type and bytes
//! equal the replaced change's takes that change's field, and only edited
//! cells are decoded.

use std::sync::Arc;

use crate::change::{Change, ColumnType, Field, Image, Value};

use super::bindings as wit;
use super::columnar::{cell, check_images, check_lists, distinct_names, invalid_cell, op_from_wit};

/// Decodes `batch`, whose row `k` replaces `originals[rows[k]]`. Cells equal
/// to the original's move out of it, so the replaced changes are left
/// hollow. A malformed batch is an error before anything is moved.
pub(super) fn decode_replacements(
    batch: wit::ChangeBatch,
    originals: &mut [Change],
    rows: &[usize],
) -> Result<Vec<Change>, String> {
    let types = validate(&batch, rows.len())?;
    let wit::ChangeBatch {
        ops,
        tables,
        table_keys,
        table_index,
        event_time,
        before,
        after,
    } = batch;
    let mut before_side = Side::new(&before, types.before);
    let mut after_side = Side::new(&after, types.after);
    let mut replacements = Vec::with_capacity(rows.len());
    for (k, &row) in rows.iter().enumerate() {
        let original = &mut originals[row];
        let table = table_index[k] as usize;
        let name = &tables[table];
        let key = &table_keys[table];
        replacements.push(Change {
            op: op_from_wit(ops[k]),
            table: if name.is_empty() || *name == original.table {
                std::mem::take(&mut original.table)
            } else {
                name.clone()
            },
            key: if key.is_empty() || *key == original.key {
                std::mem::take(&mut original.key)
            } else {
                key.clone()
            },
            before: before_side.image(&before, k, original.before.take()),
            after: after_side.image(&after, k, original.after.take()),
            position: original.position.clone(),
            event_time: event_time[k],
        });
    }
    Ok(replacements)
}

/// The column types of both sides of a batch, once it is known to be well formed.
struct Types {
    before: Vec<ColumnType>,
    after: Vec<ColumnType>,
}

/// Checks everything that decoding relies on, so that it cannot fail halfway.
fn validate(batch: &wit::ChangeBatch, rows: usize) -> Result<Types, String> {
    if batch.ops.len() != rows {
        return Err(format!(
            "{} replacements for {rows} replace outcomes",
            batch.ops.len()
        ));
    }
    check_lists(batch)?;
    if let Some((row, table)) = batch
        .table_index
        .iter()
        .enumerate()
        .find(|(_, t)| **t as usize >= batch.tables.len())
    {
        return Err(format!(
            "row {row} names table {table} of {}",
            batch.tables.len()
        ));
    }
    Ok(Types {
        before: validate_images(&batch.before, rows).map_err(|e| format!("before images: {e}"))?,
        after: validate_images(&batch.after, rows).map_err(|e| format!("after images: {e}"))?,
    })
}

/// Checks `images` as [`check_images`] does, and that every cell's bytes
/// are a valid value of its column's type.
fn validate_images(images: &wit::Images, rows: usize) -> Result<Vec<ColumnType>, String> {
    let types = check_images(images, rows)?;
    for (column, &ty) in images.columns.iter().zip(&types) {
        for row in 0..rows {
            if column.presence[row] == wit::Presence::Value
                && !Value::is_encoding(ty, cell(column, row))
            {
                return Err(invalid_cell(column, row, ty));
            }
        }
    }
    Ok(types)
}

/// One side (before or after) of a validated batch, decoded row by row.
struct Side {
    types: Vec<ColumnType>,
    /// Each column's name, made once for all the rows that need it.
    names: Vec<Arc<str>>,
    /// For each column, the ordinal of the original field it matched last:
    /// rows of one table share a layout, so this usually skips the search.
    hints: Vec<usize>,
    /// Whether the batch names a column twice (with different types).
    distinct: bool,
}

impl Side {
    fn new(images: &wit::Images, types: Vec<ColumnType>) -> Side {
        Side {
            names: images
                .columns
                .iter()
                .map(|c| Arc::from(c.name.as_str()))
                .collect(),
            hints: (0..types.len()).collect(),
            types,
            distinct: distinct_names(&images.columns),
        }
    }

    /// Row `row`'s image, taking unchanged fields from `original`.
    fn image(
        &mut self,
        images: &wit::Images,
        row: usize,
        original: Option<Image>,
    ) -> Option<Image> {
        if !images.present[row] {
            return None;
        }
        let mut original = original.map(Image::into_fields).unwrap_or_default();
        let mut fields = Vec::with_capacity(images.columns.len());
        for (c, column) in images.columns.iter().enumerate() {
            let ty = self.types[c];
            let bytes = match column.presence[row] {
                wit::Presence::Absent => continue,
                wit::Presence::Null => None,
                wit::Presence::Value => Some(cell(column, row)),
            };
            let hint = self.hints[c];
            let found = match original.get(hint) {
                Some(field) if *field.name == *column.name => Some(hint),
                _ => original
                    .iter()
                    .position(|field| *field.name == *column.name),
            };
            let reused = found.and_then(|at| {
                self.hints[c] = at;
                let field = &mut original[at];
                let same = field.ty == ty
                    && match (&field.value, bytes) {
                        (None, None) => true,
                        (Some(value), Some(bytes)) => value.encodes_as(bytes),
                        _ => false,
                    };
                same.then(|| Field {
                    name: field.name.clone(),
                    ty,
                    value: field.value.take(),
                })
            });
            fields.push(reused.unwrap_or_else(|| Field {
                name: self.names[c].clone(),
                ty,
                value: bytes.map(|b| Value::decode(ty, b).expect("validated")),
            }));
        }
        Some(if self.distinct {
            Image::from_distinct_fields(fields)
        } else {
            Image::from_fields(fields)
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::change::{Op, Position};
    use crate::plugin::columnar::encode_changes;

    fn customer(id: i64, email: &str) -> Image {
        Image::from_fields([
            Field {
                name: "id".into(),
                ty: ColumnType::Long,
                value: Some(Value::Long(id)),
            },
            Field {
                name: "email".into(),
                ty: ColumnType::String,
                value: Some(Value::String(email.into())),
            },
            Field {
                name: "note".into(),
                ty: ColumnType::String,
                value: None,
            },
        ])
    }

    fn change(id: i64, email: &str) -> Change {
        Change {
            op: Op::Update,
            table: "inventory.customers".into(),
            key: vec!["id".into()],
            before: Some(customer(id, "old@example.org")),
            after: Some(customer(id, email)),
            position: Position::new("t", 0, id),
            event_time: Some(id),
        }
    }

    #[test]
    fn replacements_equal_a_full_decode() {
        let originals = vec![change(1, "a@example.org"), change(2, "b@example.org")];
        let mut edited = originals.clone();
        edited[0].after.as_mut().unwrap().set(
            "email",
            ColumnType::String,
            Some(Value::String("***".into())),
        );
        edited[1].before = None;
        edited[1].table = "archive.customers".into();
        edited[1]
            .after
            .as_mut()
            .unwrap()
            .set("email", ColumnType::String, None);
        let mut hollow = originals.clone();
        let decoded = decode_replacements(encode_changes(&edited), &mut hollow, &[0, 1]).unwrap();
        assert_eq!(decoded, edited);
    }

    #[test]
    fn malformed_replacements_leave_the_originals_whole() {
        let originals = vec![change(1, "a@example.org")];
        let mut batch = encode_changes(&originals);
        batch.after.columns[1].data[0] = 0xff;
        let mut kept = originals.clone();
        let error = decode_replacements(batch.clone(), &mut kept, &[0]).unwrap_err();
        assert!(error.contains("not a valid string"), "{error}");
        assert_eq!(kept, originals);
        batch.table_index = vec![3];
        assert!(decode_replacements(batch, &mut kept, &[0]).is_err());
        assert_eq!(kept, originals);
    }
}

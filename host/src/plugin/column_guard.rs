//! Refuses, as it is decoded, a change that would add more columns to its
//! table than the table's `max_new_columns` allows, before it joins a
//! batch.
//!
//! The table writer enforces the limit exactly, per commit window (see
//! [`crate::table::TableOptions::max_new_columns`]). This guard exists for
//! the batch's sake: a batch holds one column per distinct name for every
//! row, so one change with 20,000 columns would make every row of its batch
//! 20,000 cells wide before the writer could refuse it. A change no wider
//! than the limit is passed without a look; a wider one is checked against
//! the columns the table has and those of the wide changes passed before
//! it, and refused when more than twice the limit of its columns are new
//! to them. Twice, because the guard runs ahead of the writers and does not
//! note narrow changes: the columns it has not heard of yet are at most a
//! window's worth, so it never refuses what the writer would take.

use std::collections::HashSet;

use crate::change::Change;
use crate::table::schema::SchemaMismatch;

/// The column names one table's decoder has seen, and its limit.
#[derive(Debug)]
pub struct ColumnGuard {
    limit: usize,
    known: HashSet<String>,
}

impl ColumnGuard {
    /// A guard for a table that may gain `limit` columns per commit.
    pub fn new(limit: usize) -> Self {
        ColumnGuard {
            limit,
            known: HashSet::new(),
        }
    }

    /// Takes note of columns the table has.
    pub fn learn<'a>(&mut self, columns: impl IntoIterator<Item = &'a String>) {
        self.known.extend(columns.into_iter().cloned());
    }

    /// Why `change` cannot join a batch, if more than twice the limit of its
    /// columns are new to the table; otherwise its columns are noted.
    pub fn check(&mut self, change: &Change) -> Result<(), SchemaMismatch> {
        let images = [&change.before, &change.after];
        let widest = images
            .iter()
            .flat_map(|i| i.as_ref())
            .map(|i| i.len())
            .max();
        if widest.is_none_or(|w| w <= self.limit) {
            return Ok(());
        }
        let names = || {
            images
                .iter()
                .flat_map(|i| i.as_ref())
                .flat_map(|i| i.fields())
                .map(|f| &*f.name)
        };
        let new: HashSet<&str> = names().filter(|n| !self.known.contains(*n)).collect();
        if new.len() > 2 * self.limit {
            return Err(SchemaMismatch::TooManyNewColumns {
                adds: new.len(),
                limit: self.limit,
                left: self.limit,
            });
        }
        self.known.extend(new.into_iter().map(str::to_string));
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::change::{ColumnType, Field, Image, Op, Position, Value};

    fn change(columns: impl Iterator<Item = String>) -> Change {
        let fields: Vec<Field> = columns
            .map(|name| Field {
                name: name.into(),
                ty: ColumnType::Long,
                value: Some(Value::Long(1)),
            })
            .collect();
        Change {
            op: Op::Insert,
            table: "t.t".into(),
            key: Vec::new(),
            before: None,
            after: Some(Image::from_fields(fields)),
            position: Position::new("t", 0, 0),
            event_time: None,
        }
    }

    #[test]
    fn a_change_over_the_limit_of_unknown_columns_is_refused() {
        let mut guard = ColumnGuard::new(3);
        let table: Vec<String> = (0..10).map(|i| format!("c{i}")).collect();
        guard.learn(&table);
        // As wide as the table: nothing new.
        assert!(
            guard
                .check(&change((0..10).map(|i| format!("c{i}"))))
                .is_ok()
        );
        // Six new columns pass, and are known from then on.
        assert!(
            guard
                .check(&change((0..16).map(|i| format!("c{i}"))))
                .is_ok()
        );
        assert!(
            guard
                .check(&change((0..22).map(|i| format!("c{i}"))))
                .is_ok()
        );
        // Seven more than anything seen: refused, naming the limit.
        let refused = guard
            .check(&change((0..29).map(|i| format!("c{i}"))))
            .unwrap_err();
        assert!(
            refused.to_string().contains("`max_new_columns` = 3"),
            "{refused}"
        );
        // Narrow changes are not looked at.
        assert!(
            guard
                .check(&change((100..103).map(|i| format!("x{i}"))))
                .is_ok()
        );
    }
}

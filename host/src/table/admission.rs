//! Admitting a batch's columns to a table's schema: what the schema must
//! change for them, within the table's limit of new columns per commit, and
//! which columns (and so which changes) the table refuses.
//!
//! A batch is admitted once per side (before, after images), column by
//! column, so the cost grows with the batch's columns, not with its rows
//! times its columns; the schema changes it needs are made at once.

use std::collections::{BTreeMap, HashMap, HashSet};

use super::schema::{ColumnChange, SchemaMismatch, SchemaState};
use crate::change::ImageColumns;

/// What admitting one side (before or after) of a batch's images learnt:
/// the columns the table refuses, and where the required columns are.
#[derive(Debug, Default)]
pub(super) struct SideColumns {
    /// Columns the table cannot take, with why: a row with a value in one
    /// of them is refused.
    pub refused: Vec<(usize, SchemaMismatch)>,
    /// Each required column's name and its columns in the batch.
    pub required: Vec<(String, Vec<usize>)>,
}

impl SideColumns {
    /// Why row `row` cannot be written, if one of its values is in a
    /// refused column (a NULL fits any column).
    pub fn refusal(&self, images: ImageColumns<'_>, row: usize) -> Option<&SchemaMismatch> {
        self.refused
            .iter()
            .find(|(c, _)| has_value(images, &[*c], row))
            .map(|(_, why)| why)
    }

    /// The first required column row `row` has no value in.
    pub fn missing_required(&self, images: ImageColumns<'_>, row: usize) -> Option<&str> {
        self.required
            .iter()
            .find(|(_, columns)| !has_value(images, columns, row))
            .map(|(name, _)| name.as_str())
    }
}

/// The new columns a commit window may still add to a table.
#[derive(Debug, Clone, Copy)]
pub(super) struct ColumnBudget {
    /// The table's `max_new_columns`.
    pub limit: usize,
    /// Columns this window added so far.
    pub added: usize,
}

impl ColumnBudget {
    fn left(&self) -> usize {
        self.limit.saturating_sub(self.added)
    }
}

/// Admits the columns of one side of a batch: evolves `state` as they need
/// where `evolve` allows, adding at most what `budget` has left. When the
/// batch would add more, each new column is charged to the first row with a
/// value in it, and rows take their columns in order while they fit; the
/// columns of the rows that do not fit are refused (with a reason naming
/// the limit) and the table does not get them.
pub(super) fn admit_side(
    state: &mut SchemaState,
    images: ImageColumns<'_>,
    evolve: bool,
    budget: &mut ColumnBudget,
) -> SideColumns {
    // Per column, the first row with a value in it (`None`: only NULLs).
    let first_value: Vec<Option<usize>> = (0..images.width())
        .map(|c| (0..images.len()).find(|&row| has_value(images, &[c], row)))
        .collect();
    let (verdicts, mut changes) = state.plan_columns(
        images
            .columns()
            .zip(&first_value)
            .map(|(column, first)| (column.name(), column.ty(), first.is_some())),
        evolve,
    );
    let mut refused: Vec<(usize, SchemaMismatch)> = verdicts
        .into_iter()
        .enumerate()
        .filter_map(|(c, refusal)| refusal.map(|why| (c, why)))
        .collect();
    let adds = changes.iter().filter(|c| c.adds()).count();
    if adds > budget.left() {
        let over = over_budget(images, &first_value, &changes, *budget);
        for c in 0..images.width() {
            if let Some(why) = over.get(images.column(c).name()) {
                refused.push((c, why.clone()));
            }
        }
        changes.retain(|change| !over.contains_key(change.name.as_str()));
    }
    if let Err(why) = state.evolve(&changes) {
        // The schema builder refused the new schema: refuse its columns.
        let names: HashSet<&str> = changes.iter().map(|c| c.name.as_str()).collect();
        for c in 0..images.width() {
            if names.contains(images.column(c).name()) {
                refused.push((c, why.clone()));
            }
        }
    } else {
        budget.added += changes.iter().filter(|c| c.adds()).count();
    }
    let required = state
        .required()
        .map(|name| (name.to_string(), columns_named(images, name)))
        .collect();
    SideColumns { refused, required }
}

/// The new columns that do not fit `budget`, each with the refusal of the
/// row it is charged to (the first row with a value in it).
fn over_budget(
    images: ImageColumns<'_>,
    first_value: &[Option<usize>],
    changes: &[ColumnChange],
    budget: ColumnBudget,
) -> HashMap<String, SchemaMismatch> {
    let new: HashSet<&str> = changes
        .iter()
        .filter(|c| c.adds())
        .map(|c| c.name.as_str())
        .collect();
    // The first row with a value in each new column (a name may have
    // several columns, one per type).
    let mut first: HashMap<&str, usize> = HashMap::new();
    for (column, row) in images.columns().zip(first_value) {
        let Some(&row) = row.as_ref().filter(|_| new.contains(column.name())) else {
            continue;
        };
        let at = first.entry(column.name()).or_insert(row);
        *at = (*at).min(row);
    }
    let mut by_row: BTreeMap<usize, Vec<&str>> = BTreeMap::new();
    for (name, row) in first {
        by_row.entry(row).or_default().push(name);
    }
    let mut taken = 0;
    let mut over = HashMap::new();
    for names in by_row.into_values() {
        if taken + names.len() <= budget.left() {
            taken += names.len();
            continue;
        }
        let why = SchemaMismatch::TooManyNewColumns {
            adds: names.len(),
            limit: budget.limit,
            left: budget.left() - taken,
        };
        for name in names {
            over.insert(name.to_string(), why.clone());
        }
    }
    over
}

/// The columns of `images` named `name`.
pub(super) fn columns_named(images: ImageColumns<'_>, name: &str) -> Vec<usize> {
    (0..images.width())
        .filter(|&c| images.column(c).name() == name)
        .collect()
}

/// Whether row `row` has a value (not NULL) in one of `columns`.
fn has_value(images: ImageColumns<'_>, columns: &[usize], row: usize) -> bool {
    columns
        .iter()
        .any(|&c| matches!(images.column(c).cell(row), Some(Some(_))))
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use super::*;
    use crate::change::{
        Change, ChangeBatch, ColumnType, Field, Image, Op, Position, Value, Which,
    };
    use crate::table::schema::new_table_schema;

    fn change(offset: i64, fields: &[(&str, ColumnType, Option<Value>)]) -> Change {
        let image: Image = fields
            .iter()
            .map(|(name, ty, value)| Field {
                name: (*name).into(),
                ty: *ty,
                value: value.clone(),
            })
            .collect();
        Change {
            op: Op::Insert,
            table: "t.t".into(),
            key: vec!["id".into()],
            before: None,
            after: Some(image),
            position: Position::new("t", 0, offset),
            event_time: None,
        }
    }

    fn id(v: i64) -> (&'static str, ColumnType, Option<Value>) {
        ("id", ColumnType::Long, Some(Value::Long(v)))
    }

    fn long(name: &'static str) -> (&'static str, ColumnType, Option<Value>) {
        (name, ColumnType::Long, Some(Value::Long(7)))
    }

    /// A table of `id` (the key) and `active` (boolean).
    fn table() -> SchemaState {
        let first = change(
            0,
            &[
                id(0),
                ("active", ColumnType::Boolean, Some(Value::Boolean(true))),
            ],
        );
        let schema = new_table_schema(first.after.as_ref().unwrap(), &["id".into()]).unwrap();
        let last = schema.highest_field_id();
        SchemaState::new(Arc::new(schema), last)
    }

    fn names(state: &SchemaState) -> Vec<String> {
        let fields = state.schema().as_struct().fields();
        fields.iter().map(|f| f.name.clone()).collect()
    }

    #[test]
    fn nulls_fit_any_column_and_add_none() {
        let mut state = table();
        let batch = ChangeBatch::from(vec![change(
            1,
            &[
                id(1),
                // A NULL typed as a string, in a boolean column.
                ("active", ColumnType::String, None),
                // A NULL in a column the table lacks.
                ("note", ColumnType::String, None),
            ],
        )]);
        let mut budget = ColumnBudget {
            limit: 200,
            added: 0,
        };
        let side = admit_side(&mut state, batch.images(Which::After), true, &mut budget);
        assert!(side.refusal(batch.images(Which::After), 0).is_none());
        assert_eq!(names(&state), ["id", "active"]);
        assert_eq!(budget.added, 0);
        // A value of the wrong type is still refused.
        let batch = ChangeBatch::from(vec![change(
            2,
            &[
                id(2),
                (
                    "active",
                    ColumnType::String,
                    Some(Value::String("yes".into())),
                ),
            ],
        )]);
        let side = admit_side(&mut state, batch.images(Which::After), true, &mut budget);
        assert!(matches!(
            side.refusal(batch.images(Which::After), 0),
            Some(SchemaMismatch::Type { .. })
        ));
    }

    #[test]
    fn new_columns_over_the_budget_are_refused_with_the_rows_that_bring_them() {
        let mut state = table();
        let batch = ChangeBatch::from(vec![
            change(1, &[id(1), long("a"), long("b")]),
            change(2, &[id(2), long("c"), long("d")]),
            change(3, &[id(3), long("a"), long("e")]),
        ]);
        let images = batch.images(Which::After);
        let mut budget = ColumnBudget { limit: 4, added: 1 };
        let side = admit_side(&mut state, images, true, &mut budget);
        assert!(side.refusal(images, 0).is_none());
        assert_eq!(
            side.refusal(images, 1),
            Some(&SchemaMismatch::TooManyNewColumns {
                adds: 2,
                limit: 4,
                left: 1
            })
        );
        assert!(side.refusal(images, 2).is_none());
        assert_eq!(names(&state), ["id", "active", "a", "b", "e"]);
        assert_eq!(budget.added, 4);
    }
}

//! How a table is written: the options of a [`super::TableWriter`].

use std::collections::HashMap;

/// How a table is written.
#[derive(Debug, Clone)]
pub struct TableOptions {
    /// The pipeline id, written as `floe.pipeline`; offsets are per pipeline.
    pub pipeline: String,
    /// Create the table (and its namespace) from the first change's schema
    /// when it does not exist.
    pub create: bool,
    /// Evolve the schema: add new columns (optional), widen int → long,
    /// float → double, decimal precision.
    pub evolve: bool,
    /// Partition fields of a created table (see [`super::partition`]).
    pub partition: Vec<String>,
    /// Key columns when the table has no identifier fields and changes name none.
    pub key: Vec<String>,
    /// Table properties of a created table; by default floe's maintenance
    /// properties ([`crate::maintain::created_table_properties`]).
    pub properties: HashMap<String, String>,
    /// Commit attempts before giving up on compare-and-swap conflicts.
    pub max_attempts: usize,
    /// How many columns schema evolution may add to the table in one commit
    /// window; a change that would add more goes to the dead-letter queue
    /// and the table is left as it was. Creating a table is not limited.
    pub max_new_columns: usize,
}

/// The default of [`TableOptions::max_new_columns`].
pub const DEFAULT_MAX_NEW_COLUMNS: usize = 200;

impl TableOptions {
    /// Options for `pipeline`: no creation, evolution on, five attempts,
    /// floe's maintenance properties for a created table.
    pub fn new(pipeline: impl Into<String>) -> Self {
        TableOptions {
            pipeline: pipeline.into(),
            create: false,
            evolve: true,
            partition: Vec::new(),
            key: Vec::new(),
            properties: crate::maintain::created_table_properties(),
            max_attempts: 5,
            max_new_columns: DEFAULT_MAX_NEW_COLUMNS,
        }
    }
}

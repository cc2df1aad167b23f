//! Errors of table writers: per change (to the DLQ) and per commit.

use super::partition::PartitionSpecError;
use super::rebuild::RebuildError;
use super::schema::SchemaMismatch;
use crate::change::{Change, Op};
use crate::commit::{CatalogError, CommitError};

/// Why one change cannot be applied; the caller sends it to the DLQ.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum ChangeError {
    /// The change does not fit the table's schema.
    #[error(transparent)]
    Schema(#[from] SchemaMismatch),
    /// Neither the table nor the change nor the configuration names key columns.
    #[error("no key columns: the table has no identifier fields and the change names none")]
    NoKey,
    /// The change lacks the image its op needs.
    #[error("{0} change without the row image it needs")]
    NoImage(Op),
    /// The change is for a table that does not exist and is not created.
    #[error("table does not exist and `create` is off")]
    NoTable,
    /// A partial row (columns the source left unchanged and did not send)
    /// of a key that has no row to take them from: not written with holes.
    #[error(
        "partial row of a key with no row in the table or the commit window: its unchanged \
         columns ({0}) have no value to keep, so it is not written"
    )]
    NoRowToFill(String),
    /// A partial row's live row could not be read to fill it.
    #[error("partial row not written: {0}")]
    FillRead(String),
}

/// A change that was not applied, with the reason.
#[derive(Debug, Clone, PartialEq)]
pub struct Rejected {
    /// The change, as given.
    pub change: Change,
    /// Why.
    pub error: ChangeError,
}

/// A table writer's failure (the batch is not committed).
#[derive(Debug, thiserror::Error)]
pub enum TableError {
    /// The catalog failed.
    #[error(transparent)]
    Catalog(#[from] CatalogError),
    /// The commit failed.
    #[error(transparent)]
    Commit(#[from] CommitError),
    /// The key index could not be built.
    #[error(transparent)]
    Rebuild(#[from] RebuildError),
    /// Writing a data or delete file failed.
    #[error("table {table}: writing {path}: {source}")]
    Write {
        /// The table.
        table: String,
        /// The file.
        path: String,
        /// The iceberg crate's error.
        #[source]
        source: iceberg::Error,
    },
    /// The configured partition spec is invalid.
    #[error("table {table}: {source}")]
    Partition {
        /// The table.
        table: String,
        /// What is wrong.
        #[source]
        source: PartitionSpecError,
    },
    /// The table's schema cannot take the buffered changes any more (it was
    /// changed by someone else since they were applied).
    #[error("table {table}: {source}")]
    Schema {
        /// The table.
        table: String,
        /// The mismatch.
        #[source]
        source: SchemaMismatch,
    },
    /// The table's key columns are unknown.
    #[error("table {table}: no key columns (no identifier fields, none configured)")]
    NoKey {
        /// The table.
        table: String,
    },
    /// Commits kept losing the compare-and-swap.
    #[error("table {table}: commit lost the compare-and-swap {attempts} times")]
    TooManyConflicts {
        /// The table.
        table: String,
        /// Attempts made.
        attempts: usize,
    },
}

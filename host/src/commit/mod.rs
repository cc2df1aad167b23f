//! Commits: row-delta snapshots (data files plus position delete files),
//! the SQL catalog they are swapped into, and the source offsets they carry.
//!
//! A commit is laid out as the Iceberg v2 spec asks (see [`row_delta`]): one
//! data manifest and one delete manifest (content = deletes) per partition
//! spec touched, a manifest list with those first and the parent's manifests
//! after them (merged when due, [`merge`]), a snapshot whose summary carries the spec's counters and
//! floe's own keys ([`offsets::SUMMARY_PIPELINE`], [`offsets::SUMMARY_OFFSETS`],
//! [`offsets::SUMMARY_PLUGINS`]), a new metadata file, and the catalog's
//! compare-and-swap.

pub(crate) mod attempt;
pub mod catalog;
pub(crate) mod index_upkeep;
pub mod manifest_list;
pub mod merge;
pub mod offsets;
pub mod row_delta;

pub use catalog::{Catalog, CatalogConfig, CatalogError, LoadedTable, SqlCatalog};
pub use offsets::Offsets;
pub use row_delta::{RowDelta, commit_row_delta};

/// Table property `key` of `properties` as a `T`; `default` when it is
/// absent or does not parse (surrounding white space is ignored). The one
/// reading of the commit and maintenance policies' properties.
pub fn table_property<T: std::str::FromStr>(
    properties: &std::collections::HashMap<String, String>,
    key: &str,
    default: T,
) -> T {
    properties
        .get(key)
        .and_then(|v| v.trim().parse().ok())
        .unwrap_or(default)
}

/// A commit that failed.
#[derive(Debug, thiserror::Error)]
pub enum CommitError {
    /// The catalog refused or failed (including a lost compare-and-swap:
    /// see [`CommitError::is_conflict`]).
    #[error(transparent)]
    Catalog(#[from] CatalogError),
    /// Writing a manifest or manifest list, or building metadata, failed.
    #[error("table {table}: {context}: {source}")]
    Iceberg {
        /// The table, `namespace.name`.
        table: String,
        /// What floe was doing, naming the file.
        context: String,
        /// The iceberg crate's error.
        #[source]
        source: iceberg::Error,
    },
    /// The table is in a form floe cannot commit to.
    #[error("table {table}: {reason}")]
    Unsupported {
        /// The table, `namespace.name`.
        table: String,
        /// Why.
        reason: String,
    },
}

impl CommitError {
    /// Whether the commit lost the compare-and-swap (reload and retry).
    pub fn is_conflict(&self) -> bool {
        matches!(self, CommitError::Catalog(e) if e.is_commit_conflict())
    }

    /// Whether the commit may have landed although it failed (its files
    /// must be kept); see [`CatalogError::is_commit_state_unknown`].
    pub fn is_commit_state_unknown(&self) -> bool {
        matches!(self, CommitError::Catalog(e) if e.is_commit_state_unknown())
    }
}

//! Errors of the SQL catalog.

/// What went wrong talking to the catalog or its metadata files.
#[derive(Debug, thiserror::Error)]
pub enum CatalogError {
    /// The catalog URI names no supported database.
    #[error("catalog uri `{0}`: expected sqlite:<path> or postgres://…")]
    InvalidUri(String),
    /// A SQL statement failed.
    #[error("catalog {catalog}: {context}: {source}")]
    Sql {
        /// The catalog name.
        catalog: String,
        /// What floe was doing.
        context: String,
        /// The database error.
        #[source]
        source: sqlx::Error,
    },
    /// Reading, writing or building table metadata failed.
    #[error("{context}: {source}")]
    Iceberg {
        /// What floe was doing, naming the table or file.
        context: String,
        /// The iceberg crate's error.
        #[source]
        source: iceberg::Error,
    },
    /// The namespace does not exist.
    #[error("catalog {catalog}: no such namespace `{namespace}`")]
    NoSuchNamespace {
        /// The catalog name.
        catalog: String,
        /// The namespace, dot-separated.
        namespace: String,
    },
    /// The namespace exists already.
    #[error("catalog {catalog}: namespace `{namespace}` already exists")]
    NamespaceAlreadyExists {
        /// The catalog name.
        catalog: String,
        /// The namespace, dot-separated.
        namespace: String,
    },
    /// The table does not exist.
    #[error("catalog {catalog}: no such table `{table}`")]
    NoSuchTable {
        /// The catalog name.
        catalog: String,
        /// The table, `namespace.name`.
        table: String,
    },
    /// The table exists already.
    #[error("catalog {catalog}: table `{table}` already exists")]
    TableAlreadyExists {
        /// The catalog name.
        catalog: String,
        /// The table, `namespace.name`.
        table: String,
    },
    /// The compare-and-swap on the table's metadata location failed: someone
    /// else committed since the table was loaded.
    #[error(
        "catalog {catalog}: commit conflict on `{table}`: its metadata is no longer `{expected}`"
    )]
    CommitConflict {
        /// The catalog name.
        catalog: String,
        /// The table, `namespace.name`.
        table: String,
        /// The metadata location the commit was based on.
        expected: String,
    },
}

impl CatalogError {
    /// Whether this is a lost compare-and-swap (retry after reloading).
    pub fn is_commit_conflict(&self) -> bool {
        matches!(self, CatalogError::CommitConflict { .. })
    }

    /// Whether this is a failure that passes and did not take effect: the
    /// catalog database busy or locked by another process (SQLite), a
    /// serialization failure, deadlock or refused connection (PostgreSQL).
    /// Catalog statements are retried with backoff while they fail so, for
    /// up to two minutes, each retry logged as a warning.
    pub fn is_transient(&self) -> bool {
        matches!(self, CatalogError::Sql { source, .. } if super::db::is_transient(source))
    }

    pub(crate) fn iceberg(context: impl Into<String>, source: iceberg::Error) -> Self {
        CatalogError::Iceberg {
            context: context.into(),
            source,
        }
    }
}

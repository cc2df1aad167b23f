//! Errors of the catalogs (SQL and REST) and of their storage.

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
    /// The object storage under the warehouse did not answer as configured
    /// (endpoint, region, credentials).
    #[error(
        "catalog {catalog}: the storage of warehouse `{warehouse}` refused or did not answer: {source}"
    )]
    Storage {
        /// The catalog name.
        catalog: String,
        /// The warehouse.
        warehouse: String,
        /// The storage's error.
        #[source]
        source: Box<iceberg::Error>,
    },
    /// The REST catalog answered with an error status.
    #[error("catalog {catalog}: {context}: HTTP {status}: {message}")]
    Rest {
        /// The catalog name.
        catalog: String,
        /// What floe was doing.
        context: String,
        /// The HTTP status.
        status: u16,
        /// The server's message (its error type and text), or the body.
        message: String,
    },
    /// The REST catalog could not be reached, or the exchange broke off.
    #[error("catalog {catalog}: {context}: {source}")]
    Http {
        /// The catalog name.
        catalog: String,
        /// What floe was doing.
        context: String,
        /// The HTTP client's error.
        #[source]
        source: reqwest::Error,
    },
    /// The REST catalog answered something that is not the protocol's.
    #[error("catalog {catalog}: {context}: unexpected answer: {message}")]
    Protocol {
        /// The catalog name.
        catalog: String,
        /// What floe was doing.
        context: String,
        /// What was wrong with it.
        message: String,
    },
    /// A commit whose outcome stayed unknown: the catalog did not answer it,
    /// and reloading the table could not tell whether it landed. Its files
    /// are kept (they may be live).
    #[error("catalog {catalog}: commit of `{table}`: the outcome is unknown: {reason}")]
    CommitStateUnknown {
        /// The catalog name.
        catalog: String,
        /// The table, `namespace.name`.
        table: String,
        /// The last error.
        reason: String,
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
    ///
    /// For a REST catalog: the server unreachable or the exchange broken
    /// off, HTTP 429 and 5xx.
    pub fn is_transient(&self) -> bool {
        match self {
            CatalogError::Sql { source, .. } => super::db::is_transient(source),
            CatalogError::Http { .. } | CatalogError::CommitStateUnknown { .. } => true,
            CatalogError::Rest { status, .. } => *status == 429 || *status >= 500,
            _ => false,
        }
    }

    /// Whether the outcome of a commit that failed so is unknown: it may
    /// have landed, so its files must be kept.
    pub fn is_commit_state_unknown(&self) -> bool {
        matches!(self, CatalogError::CommitStateUnknown { .. })
    }

    pub(crate) fn iceberg(context: impl Into<String>, source: iceberg::Error) -> Self {
        CatalogError::Iceberg {
            context: context.into(),
            source,
        }
    }
}

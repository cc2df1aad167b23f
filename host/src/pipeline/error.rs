//! Why a pipeline cannot start or go on, by kind: the run loop retries what
//! may pass ([`PipelineError::is_transient`]) and stops on the rest, and
//! `floe run` turns the kind into its exit code.

use crate::commit::{CatalogError, CommitError};
use crate::dlq::{DlqError, DlqTopicError};
use crate::plugin::PluginError;
use crate::source::SourceError;
use crate::table::TableError;

/// Why a pipeline cannot start or go on.
#[derive(Debug, thiserror::Error)]
pub enum PipelineError {
    /// The configuration asks for what the pipeline cannot do.
    #[error("{0}")]
    Config(String),
    /// A thread or runtime of the pipeline could not be started.
    #[error("starting {what}: {source}")]
    Start {
        /// What was being started.
        what: &'static str,
        /// The operating system's error.
        #[source]
        source: std::io::Error,
    },
    /// The catalog could not be reached at start-up.
    #[error("catalog {uri}: {source}")]
    Catalog {
        /// The catalog's URI.
        uri: String,
        /// Why.
        #[source]
        source: Box<CatalogError>,
    },
    /// The plugin engine or directory could not be set up.
    #[error(transparent)]
    Plugins(#[from] PluginError),
    /// A table's plugin could not be loaded or configured.
    #[error("table {table}: {source}")]
    Plugin {
        /// The table, `namespace.name`.
        table: String,
        /// Why.
        #[source]
        source: PluginError,
    },
    /// A table could not be opened at start-up.
    #[error("table {table}: {source}")]
    OpenTable {
        /// The table, `namespace.name`.
        table: String,
        /// Why.
        #[source]
        source: Box<TableError>,
    },
    /// The source could not be opened or connected at start-up.
    #[error(transparent)]
    Connect(SourceError),
    /// The DLQ topic's producer could not be created at start-up.
    #[error(transparent)]
    ConnectDlq(DlqTopicError),
    /// Reading or positioning the source failed.
    #[error(transparent)]
    Source(#[from] SourceError),
    /// A table's commit failed; its window is kept for the next attempt.
    #[error("committing {table}: {source}")]
    Commit {
        /// The table, `namespace.name`.
        table: String,
        /// Why.
        #[source]
        source: Box<TableError>,
    },
    /// A table could not be reloaded from the catalog.
    #[error("reloading {table}: {source}")]
    Reload {
        /// The table, `namespace.name`.
        table: String,
        /// Why.
        #[source]
        source: Box<TableError>,
    },
    /// The window's dead letters could not be written to their files.
    #[error(transparent)]
    DlqFile(#[from] DlqError),
    /// The window's dead letters could not be produced to the DLQ topic.
    #[error(transparent)]
    DlqTopic(#[from] DlqTopicError),
    /// The decoding thread stopped (it panicked).
    #[error("the decoding thread stopped unexpectedly")]
    StagingStopped,
    /// A transient failure outlasted the attempts allowed while stopping (or
    /// reading a file, which has no one to wait for).
    #[error(
        "{source} (gave up after {attempts} attempts; the window is not committed \
         and is read again on restart)"
    )]
    GaveUp {
        /// Attempts made.
        attempts: u32,
        /// The last failure.
        #[source]
        source: Box<PipelineError>,
    },
}

impl PipelineError {
    /// Whether this happened before anything was written (the configuration,
    /// the catalog, a plugin, a table or the source at start-up): `floe run`
    /// exits 2 for these, 1 for a run that failed.
    pub fn is_setup(&self) -> bool {
        matches!(
            self,
            PipelineError::Config(_)
                | PipelineError::Start { .. }
                | PipelineError::Catalog { .. }
                | PipelineError::Plugins(_)
                | PipelineError::Plugin { .. }
                | PipelineError::OpenTable { .. }
                | PipelineError::Connect(_)
                | PipelineError::ConnectDlq(_)
        )
    }

    /// The exit code of `floe run` that stops with this error.
    pub fn exit_code(&self) -> u8 {
        if self.is_setup() { 2 } else { 1 }
    }

    /// Whether trying again may succeed: a catalog or broker that does not
    /// answer, a lost race, a full disk. Not: what the configuration or the
    /// table's form rules out (an unsupported table format, a table dropped
    /// or without key columns, a consumer fenced out of its group), which
    /// stops the pipeline with its message instead of retrying forever.
    pub fn is_transient(&self) -> bool {
        match self {
            PipelineError::Source(e) => e.is_transient(),
            PipelineError::Commit { source, .. } | PipelineError::Reload { source, .. } => {
                table_error_is_transient(source)
            }
            PipelineError::DlqFile(_) | PipelineError::DlqTopic(_) => true,
            // Start-up failures, a stopped decoding thread, and retries
            // already given up on.
            _ => false,
        }
    }
}

/// Whether a table's commit or reload may succeed when tried again.
fn table_error_is_transient(error: &TableError) -> bool {
    match error {
        TableError::Catalog(e) => catalog_error_is_transient(e),
        TableError::Commit(e) => commit_error_is_transient(e),
        TableError::Write { source, .. } => iceberg_error_is_transient(source),
        TableError::Rebuild(_) | TableError::TooManyConflicts { .. } => true,
        TableError::Partition { .. } | TableError::Schema { .. } | TableError::NoKey { .. } => {
            false
        }
    }
}

fn commit_error_is_transient(error: &CommitError) -> bool {
    match error {
        CommitError::Catalog(e) => catalog_error_is_transient(e),
        CommitError::Iceberg { source, .. } => iceberg_error_is_transient(source),
        CommitError::Unsupported { .. } => false,
    }
}

fn catalog_error_is_transient(error: &CatalogError) -> bool {
    match error {
        CatalogError::Sql { .. } | CatalogError::CommitConflict { .. } => true,
        CatalogError::Iceberg { source, .. } => iceberg_error_is_transient(source),
        CatalogError::Http { .. }
        | CatalogError::Rest { .. }
        | CatalogError::CommitStateUnknown { .. } => error.is_transient(),
        CatalogError::Storage { source, .. } => iceberg_error_is_transient(source),
        CatalogError::Protocol { .. } => false,
        CatalogError::InvalidUri(_)
        | CatalogError::NoSuchNamespace { .. }
        | CatalogError::NamespaceAlreadyExists { .. }
        | CatalogError::NoSuchTable { .. }
        | CatalogError::TableAlreadyExists { .. } => false,
    }
}

/// File and metadata I/O may pass (a full disk, an object store that does
/// not answer); a table in a form the iceberg crate does not support does not.
fn iceberg_error_is_transient(error: &iceberg::Error) -> bool {
    !matches!(error.kind(), iceberg::ErrorKind::FeatureUnsupported)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn commit(source: TableError) -> PipelineError {
        PipelineError::Commit {
            table: "inventory.customers".into(),
            source: Box::new(source),
        }
    }

    #[test]
    fn a_table_in_an_unsupported_form_is_not_retried() {
        let unsupported = commit(TableError::Commit(CommitError::Unsupported {
            table: "inventory.customers".into(),
            reason: "format version 3".into(),
        }));
        assert!(!unsupported.is_transient());
        assert_eq!(unsupported.exit_code(), 1);
        let dropped = commit(TableError::Catalog(CatalogError::NoSuchTable {
            catalog: "floe".into(),
            table: "inventory.customers".into(),
        }));
        assert!(!dropped.is_transient());
    }

    #[test]
    fn a_lost_race_or_a_busy_catalog_is_retried() {
        let conflicts = commit(TableError::TooManyConflicts {
            table: "inventory.customers".into(),
            attempts: 10,
        });
        assert!(conflicts.is_transient());
        let io = commit(TableError::Write {
            table: "inventory.customers".into(),
            path: "data/x.parquet".into(),
            source: iceberg::Error::new(iceberg::ErrorKind::Unexpected, "no space left on device"),
        });
        assert!(io.is_transient());
    }

    #[test]
    fn start_up_failures_exit_2() {
        let error = PipelineError::Config("no [[tables]] entry takes topic `x`".into());
        assert!(error.is_setup());
        assert_eq!(error.exit_code(), 2);
        assert!(!error.is_transient());
    }
}

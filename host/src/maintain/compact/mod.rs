//! Compaction that knows the key index: small data files, and files with a
//! high share of deleted rows, are rewritten per partition into files near
//! `write.target-file-size-bytes`; the position deletes that applied only
//! to them disappear with them. One action per file:
//!
//! - [`plan`]: which files, per partition, within the cycle's budget
//!   ([`policy`]);
//! - [`rewrite`]: their live rows (data minus position deletes), streamed
//!   in record batches into new files, and where each row went
//!   ([`RowMoves`], for [`crate::table::KeyIndex::remap`]);
//! - [`commit`]: a `replace` snapshot carrying `floe.offsets` and
//!   `floe.plugins` forward unchanged, swapped in with compare-and-swap.
//!
//! A lost compare-and-swap removes what the attempt wrote, reloads the
//! table and plans again against it. A table with equality deletes
//! (written by another engine) is not compacted: rewritten rows would take
//! a newer sequence number and escape the equality deletes that applied to
//! them; it is logged.
//!
//! A crash at any point leaves the table as the catalog points at it: the
//! files written before the swap are orphans (swept after their margin),
//! the swap itself is atomic, and the old files stay on storage until
//! expiry removes the snapshots that reach them.

pub mod commit;
pub mod plan;
pub mod policy;
pub mod rewrite;

use std::time::{Duration, Instant};

use tracing::{info, warn};

use crate::commit::{Catalog, CatalogError, CommitError, LoadedTable};
use crate::table::index::RowMoves;
pub use policy::CompactPolicy;

#[cfg(test)]
mod tests;

/// Why a compaction failed.
#[derive(Debug, thiserror::Error)]
pub enum CompactError {
    /// Reading the snapshot or committing failed.
    #[error(transparent)]
    Commit(#[from] CommitError),
    /// Reloading the table after a conflict failed.
    #[error(transparent)]
    Catalog(#[from] CatalogError),
    /// Reading or writing a data file failed.
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
    /// A delete file could not be read.
    #[error("table {table}: reading {path}: {message}")]
    Read {
        /// The table.
        table: String,
        /// The file.
        path: String,
        /// What failed.
        message: String,
    },
    /// Filtering a batch failed.
    #[error("table {table}: rewriting {path}: {source}")]
    Arrow {
        /// The table.
        table: String,
        /// The data file.
        path: String,
        /// Arrow's error.
        #[source]
        source: arrow_schema::ArrowError,
    },
    /// The table holds something compaction does not handle.
    #[error("table {table}: {reason}")]
    Unsupported {
        /// The table.
        table: String,
        /// Why.
        reason: String,
    },
    /// Every attempt lost the compare-and-swap to another writer.
    #[error(
        "table {table}: compaction lost the compare-and-swap {attempts} times; tried again later"
    )]
    TooManyConflicts {
        /// The table.
        table: String,
        /// Attempts made.
        attempts: usize,
    },
}

/// What a compaction did.
#[derive(Debug)]
pub struct Compacted {
    /// The table as committed.
    pub table: LoadedTable,
    /// The snapshot it compacted (the new snapshot's parent).
    pub parent: Option<i64>,
    /// Data files rewritten (removed).
    pub data_files_removed: usize,
    /// Delete files removed with them.
    pub delete_files_removed: usize,
    /// Data files written.
    pub data_files_added: usize,
    /// Rows read, and live rows written.
    pub rows_read: u64,
    /// Live rows written.
    pub rows_written: u64,
    /// Bytes of data files read.
    pub bytes_read: u64,
    /// Where the rows went (for the key index).
    pub moves: RowMoves,
    /// Lost compare-and-swaps before it committed.
    pub conflicts: usize,
    /// How long it took.
    pub took: Duration,
}

/// Compacts `table` under `policy` now: `None` when nothing is due (or the
/// table cannot be compacted, logged). On a lost compare-and-swap the
/// table is reloaded and planned again, at most `max_attempts` times.
pub async fn compact(
    catalog: &Catalog,
    table: &LoadedTable,
    policy: &CompactPolicy,
    max_attempts: usize,
) -> Result<Option<Compacted>, CompactError> {
    let started = Instant::now();
    let name = table.name();
    let file_io = catalog.file_io();
    let mut base = table.clone();
    let mut conflicts = 0;
    loop {
        let snapshot = plan::read_snapshot(file_io, &name, &base.metadata).await?;
        if snapshot.equality_deletes > 0 {
            warn!(table = %name, equality_delete_files = snapshot.equality_deletes,
                "the table has equality deletes (another writer's); it is not compacted");
            return Ok(None);
        }
        let groups = plan::pick(&snapshot, policy);
        if groups.is_empty() {
            return Ok(None);
        }
        let mut rewritten = rewrite::Rewritten::default();
        let written = rewrite::rewrite(
            file_io,
            &name,
            &base.metadata,
            &snapshot,
            &groups,
            policy,
            &mut rewritten,
        )
        .await;
        let committed = match written {
            Ok(()) => commit::commit_replace(catalog, &base, &snapshot, &rewritten)
                .await
                .map_err(CompactError::from),
            Err(err) => Err(err),
        };
        match committed {
            Ok(committed) => {
                let done = Compacted {
                    parent: base.metadata.current_snapshot_id(),
                    table: committed,
                    data_files_removed: rewritten.removed_data.len(),
                    delete_files_removed: rewritten.removed_deletes.len(),
                    data_files_added: rewritten.added.len(),
                    rows_read: rewritten.rows_read,
                    rows_written: rewritten.rows_written,
                    bytes_read: rewritten.bytes_read,
                    moves: rewritten.moves,
                    conflicts,
                    took: started.elapsed(),
                };
                info!(
                    table = %name,
                    partitions = groups.len(),
                    data_files_removed = done.data_files_removed,
                    delete_files_removed = done.delete_files_removed,
                    data_files_added = done.data_files_added,
                    rows_read = done.rows_read,
                    rows_written = done.rows_written,
                    bytes_read = done.bytes_read,
                    seconds = done.took.as_secs_f64(),
                    "table compacted"
                );
                return Ok(Some(done));
            }
            Err(err) => {
                super::delete_files(file_io, &name, rewritten.written).await;
                let conflict = matches!(&err, CompactError::Commit(e) if e.is_conflict());
                if !conflict {
                    return Err(err);
                }
                conflicts += 1;
                if conflicts >= max_attempts {
                    return Err(CompactError::TooManyConflicts {
                        table: name,
                        attempts: conflicts,
                    });
                }
                warn!(table = %name, attempt = conflicts, "another writer committed first; compaction planned again");
                base = catalog.load_table(&base.ident).await?;
            }
        }
    }
}

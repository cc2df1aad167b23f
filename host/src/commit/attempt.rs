//! The compare-and-swap loop of a commit: the writer prepares an attempt
//! (its files written), the attempt is swapped into the catalog, and on a
//! lost swap its files are removed, the writer catches up with the table
//! and tries again — until it commits, finds its window committed by
//! another instance, or runs out of attempts. Writing is the writer's
//! ([`crate::table::plan`]), committing is [`commit_row_delta`]'s.

use tracing::warn;

use super::row_delta::commit_row_delta;
use super::{Catalog, CommitError, LoadedTable, RowDelta};

/// One attempt: the row delta, the table it is based on, the files written
/// for it (removed again if it fails).
#[derive(Debug)]
pub struct Attempt {
    /// The table as the writer last saw it (the swap's expected value).
    pub base: LoadedTable,
    /// The commit.
    pub delta: RowDelta,
    /// The files written for it.
    pub files: Vec<String>,
}

/// What the writer has ready for the next turn of the loop.
pub enum Prepared<W> {
    /// Nothing to commit.
    Nothing,
    /// Another writer won a race the writer has caught up with already
    /// (such as creating the table): a conflict, try again.
    Lost,
    /// An attempt, and what the writer keeps of it until it is committed.
    Attempt(Box<Attempt>, W),
}

/// After a lost swap, whether the writer's window is still to be committed.
pub enum CaughtUp {
    /// Yes: try again on the table as reloaded.
    Retry,
    /// No: the table's offsets moved past the window (another instance
    /// committed it); the window was dropped.
    Dropped,
}

/// How the loop ended.
pub enum Outcome<W> {
    /// Nothing to commit.
    Nothing,
    /// Committed: the table after the commit.
    Committed {
        /// The table as committed.
        table: LoadedTable,
        /// What the writer kept of the attempt that committed.
        kept: W,
        /// Lost swaps before it.
        conflicts: usize,
    },
    /// The window was dropped after `conflicts` lost swaps.
    Dropped {
        /// Lost swaps.
        conflicts: usize,
    },
    /// Every one of `attempts` swaps was lost.
    GaveUp {
        /// Attempts made.
        attempts: usize,
    },
}

/// A writer committing by compare-and-swap.
pub trait Committer {
    /// What the writer keeps of an attempt until it is committed.
    type Kept;
    /// The writer's error; catalog and commit errors convert into it.
    type Error: From<CommitError>;

    /// The table's name, `namespace.name`, for the log.
    fn name(&self) -> &str;

    /// The catalog the table is in.
    fn catalog(&self) -> &Catalog;

    /// Prepares the next attempt: makes sure the table exists and writes
    /// the window's files.
    async fn prepare(&mut self) -> Result<Prepared<Self::Kept>, Self::Error>;

    /// After a lost swap: reloads the table and decides whether the window
    /// is still to be committed.
    async fn catch_up(&mut self) -> Result<CaughtUp, Self::Error>;
}

/// Commits `committer`'s window, retrying lost swaps: at most
/// `max_attempts` of them.
pub async fn commit_with_retries<C: Committer>(
    committer: &mut C,
    max_attempts: usize,
) -> Result<Outcome<C::Kept>, C::Error> {
    let mut conflicts = 0;
    loop {
        let (attempt, kept) = match committer.prepare().await? {
            Prepared::Nothing => return Ok(Outcome::Nothing),
            Prepared::Lost => {
                conflicts += 1;
                continue;
            }
            Prepared::Attempt(attempt, kept) => (*attempt, kept),
        };
        let Attempt { base, delta, files } = attempt;
        match commit_row_delta(committer.catalog(), &base, delta).await {
            Ok(table) => {
                return Ok(Outcome::Committed {
                    table,
                    kept,
                    conflicts,
                });
            }
            Err(err) if err.is_conflict() => {
                conflicts += 1;
                remove(committer.catalog(), &files).await;
                warn!(table = %committer.name(), attempt = conflicts, "commit conflict; reloading");
                if let CaughtUp::Dropped = committer.catch_up().await? {
                    return Ok(Outcome::Dropped { conflicts });
                }
                if conflicts >= max_attempts {
                    return Ok(Outcome::GaveUp {
                        attempts: conflicts,
                    });
                }
            }
            Err(err) => {
                // A commit whose outcome is unknown may be live: keep its files.
                if !err.is_commit_state_unknown() {
                    remove(committer.catalog(), &files).await;
                }
                return Err(err.into());
            }
        }
    }
}

/// Removes the files of a failed attempt (best effort: an orphan file is
/// harmless).
async fn remove(catalog: &Catalog, files: &[String]) {
    for path in files {
        let _ = catalog.file_io().delete(path).await;
    }
}

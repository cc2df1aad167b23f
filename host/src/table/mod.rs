//! Table writers: the per-table buffer, the key index, and the data and
//! position delete files of each commit.
//!
//! A [`TableWriter`] collapses a commit window's changes per primary key (the
//! last state wins). At commit, for each touched key the [`KeyIndex`] tells
//! where its live row is: that row gets a position delete; a key whose final
//! state is a row is appended to the new data file of its partition and the
//! index records the new position. The index is rebuilt from the table at
//! start-up (see [`rebuild`]). Files: [`files`]; the commit itself:
//! [`crate::commit::row_delta`].

pub(crate) mod admission;
pub mod columns;
pub mod error;
pub mod files;
pub mod index;
pub mod key;
pub mod partition;
pub mod rebuild;
pub mod schema;
pub mod status;
pub mod writer;

pub use error::{ChangeError, Rejected, TableError};
pub use index::{KeyIndex, RowLocation};
pub use rebuild::RebuildStats;
pub use writer::{CommitReport, DEFAULT_MAX_NEW_COLUMNS, TableIdent, TableOptions, TableWriter};

#[cfg(test)]
mod tests;

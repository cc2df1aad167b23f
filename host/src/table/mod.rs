//! Table writers: the per-table buffer, the key index, and the data and
//! position delete files of each commit.
//!
//! A [`TableWriter`] ([`writer`]) collapses a commit window's changes per
//! primary key, the last state wins ([`window`], admitted to the schema by
//! [`admission`]). At commit, for each touched key the [`KeyIndex`] tells
//! where its live row is: that row gets a position delete; a key whose final
//! state is a row is appended to the new data file of its partition
//! ([`plan`], files: [`files`]) and the index records the new position. The
//! index is rebuilt from the table at start-up (see [`rebuild`]). The commit
//! itself: [`crate::commit::attempt`] (compare-and-swap and retries) and
//! [`crate::commit::row_delta`].

pub(crate) mod admission;
pub mod columns;
pub mod error;
pub mod files;
pub mod fill;
pub mod index;
pub mod key;
pub mod live_rows;
pub mod options;
pub mod partition;
pub(crate) mod plan;
pub mod rebuild;
pub mod schema;
pub mod status;
pub(crate) mod window;
pub mod writer;

pub use error::{ChangeError, Rejected, TableError};
pub use fill::Filled;
pub use index::{KeyIndex, RowLocation};
pub use options::{DEFAULT_MAX_NEW_COLUMNS, TableOptions};
pub use rebuild::RebuildStats;
pub use writer::{CommitReport, TableIdent, TableWriter};

#[cfg(test)]
mod fill_tests;
#[cfg(test)]
mod tests;

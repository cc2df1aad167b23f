//! The dead-letter queue: records floe could not apply, with their position
//! and the reason, in Parquet files a user can query.
//!
//! Files are laid out per table, topic and partition, and named by the
//! first offset of the commit window that rejected them:
//! `<dlq>/<table>/<topic>/<partition>-<first offset>.parquet`. A window
//! replayed after a crash starts at the same offset (the table's committed
//! one), so it rewrites the same file instead of adding a second. Files are
//! written before the snapshot that covers their offsets, atomically (a
//! temporary file renamed into place).
//!
//! Columns: `topic`, `partition`, `offset`, `timestamp`, `key` (binary),
//! `value` (binary), `headers` (list of name/value), `table`, `stage`
//! (`decode`, `transform` or `write`), `_dlq_reason`.
//!
//! With `[dlq] topic`, [`DlqTopic`] also produces each letter to Kafka.
//! [`read_dead_letters`] reads them back (`floe dlq list`, `floe dlq show`).

mod reader;
mod topic;
mod writer;

pub use reader::{StoredLetter, read_dead_letters};
pub use topic::{DlqTopic, DlqTopicError};
pub use writer::{DeadLetter, DlqError, DlqFileError, DlqStage, DlqWriter};

//! Where records come from: Kafka partitions, or a file standing for one.
//!
//! Both are a [`Source`]: the pipeline's one run loop polls it, tells it
//! where each partition starts (from the tables' offsets, never from the
//! source's own idea), and hands it the group's advisory offsets after a
//! commit.

mod file;
mod kafka;
mod record;

use std::time::Duration;

pub use file::{FileReader, FileSource, FileSourceError};
pub use kafka::{KafkaSource, KafkaSourceConfig, KafkaSourceError, TopicPartition};
pub use record::{Header, RawRecord};

/// A source of records, in offset order per partition.
///
/// ```
/// use std::time::Duration;
/// use floe::source::{FileSource, Source};
///
/// # fn main() -> Result<(), Box<dyn std::error::Error>> {
/// let dir = tempfile::tempdir()?;
/// let path = dir.path().join("events.jsonl");
/// std::fs::write(&path, "{\"key\": null, \"value\": {\"op\": \"c\"}}\n")?;
/// let mut source = FileSource::open(&path, "inventory.customers", 100)?;
/// source.reposition(&[("inventory.customers".into(), 0, None)])?;
/// let polled = source.poll(100, Duration::from_millis(100))?;
/// assert_eq!(polled.records.len(), 1);
/// assert!(source.poll(100, Duration::ZERO)?.finished);
/// # Ok(())
/// # }
/// ```
pub trait Source {
    /// Reads up to `max` records, waiting at most `wait` for the first.
    /// Stops early at a rebalance ([`Polled::rebalances`]): the pipeline
    /// must then drop its window and [`Source::reposition`].
    fn poll(&mut self, max: usize, wait: Duration) -> Result<Polled, SourceError>;

    /// The partitions this process reads now.
    fn assignment(&self) -> Vec<(String, i32)>;

    /// Starts each partition at the given next offset (`None`: from the
    /// beginning). Records read before are never returned again.
    fn reposition(&mut self, starts: &[(String, i32, Option<i64>)]) -> Result<(), SourceError>;

    /// Records the next offset per partition after a commit, for lag tools
    /// (advisory: floe's own offsets live in the tables' snapshots).
    fn commit_group(&mut self, offsets: &[(String, i32, i64)]);

    /// Lets the partitions go (a consumer group rebalances them to the
    /// other members at once).
    fn close(&mut self);
}

/// What one [`Source::poll`] returns.
#[derive(Debug, Default)]
pub struct Polled {
    /// Records, in offset order per partition.
    pub records: Vec<RawRecord>,
    /// Rebalances that happened; when not empty the pipeline must drop its
    /// window and reposition before polling again.
    pub rebalances: Vec<Rebalance>,
    /// The source has nothing more, ever (the end of a file).
    pub finished: bool,
}

/// A change of the partitions a consumer-group member reads.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Rebalance {
    /// These partitions are now ours.
    Assigned(Vec<(String, i32)>),
    /// These partitions are no longer ours.
    Revoked(Vec<(String, i32)>),
}

/// A source could not be read or positioned.
#[derive(Debug, thiserror::Error)]
pub enum SourceError {
    /// The Kafka consumer failed.
    #[error(transparent)]
    Kafka(#[from] KafkaSourceError),
    /// The file could not be read.
    #[error(transparent)]
    File(#[from] FileSourceError),
    /// The reading thread could not be started.
    #[error("starting the reading thread: {0}")]
    Thread(#[source] std::io::Error),
}

impl SourceError {
    /// Whether the failure may pass: reading again can succeed. A consumer
    /// fenced out of its group, a refused session timeout or a consumer
    /// librdkafka stopped for good cannot.
    pub fn is_transient(&self) -> bool {
        match self {
            SourceError::Kafka(e) => e.is_transient(),
            SourceError::File(_) | SourceError::Thread(_) => false,
        }
    }
}

//! Where records come from: Kafka partitions, or a file standing for one.

mod file;
mod record;

pub use file::{FileSource, FileSourceError};
pub use record::{Header, RawRecord};

//! Where records come from: Kafka partitions, or a file standing for one.

mod record;

pub use record::{Header, RawRecord};

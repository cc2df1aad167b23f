//! floe streams database change events (Debezium envelopes on Kafka) into
//! Apache Iceberg tables, with per-table logic in sandboxed WebAssembly
//! plugins.
//!
//! The crate follows the data: [`source`] (raw records), [`change`] (the
//! change model), [`plugin`] (the WebAssembly host that decodes and
//! transforms).

pub mod change;
pub mod commit;
pub mod config;
pub mod dlq;
pub mod plugin;
pub mod source;
pub mod table;

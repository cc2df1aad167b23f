//! floe streams database change events (Debezium envelopes on Kafka) into
//! Apache Iceberg tables, with per-table logic in sandboxed WebAssembly
//! plugins.
//!
//! The crate follows the data: [`source`] (raw records), [`decode`] (native
//! decoders: Debezium JSON into changes), [`change`] (the change model),
//! [`plugin`] (the WebAssembly host that decodes and transforms).

pub mod change;
pub mod decode;
pub mod plugin;
pub mod source;

//! floe streams database change events (Debezium envelopes on Kafka) into
//! Apache Iceberg tables, with per-table logic in sandboxed WebAssembly
//! plugins.
//!
//! The crate follows the data: [`source`] (raw records: Kafka, files),
//! [`decode`] (native decoders: Debezium JSON into changes), [`change`] (the
//! change model), [`plugin`] (the WebAssembly host that decodes and
//! transforms), [`table`] (per-table buffer, key index, data and delete
//! files), [`commit`] (row-delta snapshots, the SQL catalog, offsets),
//! [`maintain`] (metadata file cleanup, snapshot expiry), [`dlq`] (the
//! dead-letter queue); [`config`] is the pipeline's TOML.

pub mod change;
pub mod commit;
pub mod config;
pub mod decode;
pub mod dlq;
pub mod maintain;
pub mod metrics;
pub mod pipeline;
pub mod plugin;
pub mod source;
pub mod table;

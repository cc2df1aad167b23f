//! The WebAssembly plugin host.
//!
//! Plugins are components following the `floe:plugin` WIT contract (`wit/`):
//! a **decoder** turns raw Kafka records into changes, a **transformer**
//! maps, filters, routes or rejects changes. This module runs them:
//!
//! - [`PluginEngine`]: one wasmtime engine per process, with the host imports
//!   and an on-disk cache of compiled components ([`ArtifactCache`]).
//! - [`PluginRegistry`]: the plugins of a directory and the version of each
//!   that serves; [`HotReload`] rescans it when files change.
//! - [`TransformStage`] and [`DecodeStage`]: run batches through one plugin
//!   in a sandbox ([`Limits`], [`Grants`]), containing traps, timeouts and
//!   memory exhaustion so that only the guilty records are rejected.
//! - [`Chain`]: a table's decoder (native or plugin) and transforms as one
//!   object, with named outputs: its own changes, routed ones, rejections.
//!
//! ```no_run
//! use floe::plugin::{PluginEngine, PluginRegistry, StageSettings, TransformStage};
//!
//! # fn main() -> Result<(), Box<dyn std::error::Error>> {
//! let engine = PluginEngine::new(PluginEngine::default_cache_dir())?;
//! let registry = PluginRegistry::open(engine, "target/plugins")?;
//! let mut settings = StageSettings::default();
//! settings.config.insert("columns".into(), "email".into());
//! settings.config.insert("salt".into(), "s3cret".into());
//! let mut mask = TransformStage::new(registry, "mask", settings)?;
//! let output = mask.apply(Vec::new());
//! println!("{} changes out, by {}", output.changes.len(), output.plugin);
//! # Ok(())
//! # }
//! ```

pub mod bindings;
mod cache;
mod chain;
mod column_guard;
pub mod contract;
mod convert;
mod counters;
mod decoder;
mod engine;
mod error;
mod instance;
mod records;
mod registry;
mod reload;
mod sandbox;
mod stage;
mod transformer;
mod version;

pub use cache::{ArtifactCache, CacheOutcome};
pub use chain::{Chain, ChainDecoder, ChainOutput, Rejection, TypesMailbox};
pub use column_guard::ColumnGuard;
pub use convert::{batch_from_wit, batch_to_wit};
pub use counters::PluginCounters;
pub use decoder::{DecodeOutput, DecodeStage, RejectedRecord};
pub use engine::{EPOCH_TICK, PluginEngine};
pub use error::PluginError;
pub use instance::{CallFailure, Instance};
pub use registry::{PluginRegistry, ReloadEvent};
pub use reload::HotReload;
pub use sandbox::{Grants, HostState, Limits};
pub use stage::StageSettings;
pub use transformer::{RejectedChange, TransformOutput, TransformStage};
pub use version::{PluginId, PluginVersion};

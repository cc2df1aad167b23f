//! The pipeline configuration: one TOML file per pipeline.
//!
//! ```toml
//! pipeline = "orders-cdc"
//!
//! [catalog]
//! kind = "sql"
//! uri = "sqlite://warehouse/catalog.db"   # or postgres://user:pass@host/db
//! warehouse = "warehouse"
//! name = "floe"
//!
//! [source]
//! kind = "file"
//! path = "events.jsonl"
//! topic = "dbserver1.inventory.customers"
//!
//! [commit]
//! interval_ms = 1000
//! max_records = 100000
//!
//! [dlq]
//! path = "dlq"
//!
//! [[tables]]
//! topics = ["dbserver1.inventory.customers"]   # or topic_pattern = "dbserver1\\.inventory\\..*"
//! table = "inventory.customers"
//! key = ["id"]
//! partition_by = ["region", "day(created_at)", "bucket(16, id)"]
//! create = true
//! ```
//!
//! Every key is checked: an unknown key, a missing field, a bad pattern or
//! type is a [`ConfigError`] that names the file and what is wrong.

use std::path::{Path, PathBuf};

use serde::Deserialize;

mod catalog;
mod env;
mod maintenance;
mod run;
mod source;
mod tables;
mod validate;

pub use catalog::{CatalogConfig, CatalogKind, is_secret_property};
pub use maintenance::MaintenanceConfig;
pub use run::{CommitConfig, DlqConfig, MetricsConfig, PluginsConfig};
pub use source::SourceConfig;
pub use tables::{GrantsConfig, PluginStep, TableConfig, TopicRouter};

/// A configuration file that cannot be used.
#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    /// The file could not be read.
    #[error("{path}: {source}")]
    Read {
        /// The configuration file.
        path: PathBuf,
        /// Why.
        source: std::io::Error,
    },
    /// The file is not valid TOML for a pipeline (unknown key, missing field, wrong type).
    #[error("{path}: {message}")]
    Parse {
        /// The configuration file.
        path: PathBuf,
        /// TOML's message, with line and column.
        message: String,
    },
    /// The values do not make a pipeline (bad pattern, no tables, …).
    #[error("{path}: {message}")]
    Invalid {
        /// The configuration file.
        path: PathBuf,
        /// What is wrong, naming the key.
        message: String,
    },
}

/// A whole pipeline: where changes come from and which tables they go to.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PipelineConfig {
    /// The pipeline id, recorded in every snapshot floe commits
    /// (`floe.pipeline`) and used as the Kafka consumer group by default.
    pub pipeline: String,
    /// The Iceberg catalog.
    pub catalog: CatalogConfig,
    /// Where records come from.
    pub source: SourceConfig,
    /// When to commit.
    #[serde(default)]
    pub commit: CommitConfig,
    /// Where rejected records go.
    #[serde(default)]
    pub dlq: DlqConfig,
    /// The WebAssembly plugins.
    #[serde(default)]
    pub plugins: PluginsConfig,
    /// The Prometheus endpoint, if any.
    #[serde(default)]
    pub metrics: Option<MetricsConfig>,
    /// Which topics feed which tables.
    pub tables: Vec<TableConfig>,
}

impl PipelineConfig {
    /// Reads and checks a configuration file. Relative paths in it are taken
    /// relative to the file's folder.
    pub fn load(path: &Path) -> Result<Self, ConfigError> {
        let text = std::fs::read_to_string(path).map_err(|source| ConfigError::Read {
            path: path.to_path_buf(),
            source,
        })?;
        let mut config = Self::parse(&text).map_err(|message| ConfigError::Parse {
            path: path.to_path_buf(),
            message,
        })?;
        config
            .expand_env()
            .and_then(|()| config.validate())
            .map_err(|message| ConfigError::Invalid {
                path: path.to_path_buf(),
                // One line: some messages (regex errors) draw a caret under the pattern.
                message: message.split_whitespace().collect::<Vec<_>>().join(" "),
            })?;
        let folder = path
            .parent()
            .filter(|p| !p.as_os_str().is_empty())
            .unwrap_or(Path::new("."));
        let folder = std::fs::canonicalize(folder).map_err(|source| ConfigError::Read {
            path: path.to_path_buf(),
            source,
        })?;
        config.resolve_paths(&folder);
        Ok(config)
    }

    /// Parses configuration text (without checking the values).
    pub fn parse(text: &str) -> Result<Self, String> {
        toml::from_str(text).map_err(|e| e.to_string().trim_end().replace('\n', " "))
    }

    fn resolve_paths(&mut self, base: &Path) {
        let resolve = |p: &mut PathBuf| {
            if p.is_relative() {
                *p = base.join(&*p);
            }
        };
        if let SourceConfig::File { path, .. } = &mut self.source {
            resolve(path);
        }
        resolve(&mut self.dlq.path);
        if let Some(dir) = &mut self.plugins.dir {
            resolve(dir);
        }
        if let Some(dir) = &mut self.plugins.cache_dir {
            resolve(dir);
        }
        if !self.catalog.warehouse.contains("://")
            && Path::new(&self.catalog.warehouse).is_relative()
        {
            self.catalog.warehouse = base
                .join(&self.catalog.warehouse)
                .to_string_lossy()
                .into_owned();
        }
        if let Some(db) = self.catalog.uri.strip_prefix("sqlite://")
            && !db.starts_with('/')
            && !db.starts_with(':')
        {
            self.catalog.uri = format!("sqlite://{}", base.join(db).display());
        }
    }
}

#[cfg(test)]
mod tests;

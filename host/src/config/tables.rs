//! `[[tables]]`: each table, the topics that feed it, its plugin steps,
//! and the topic → tables router.

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::time::Duration;

use regex::Regex;
use serde::Deserialize;

use super::PipelineConfig;
use crate::change::ColumnType;
use crate::decode::NumericTime;

/// One table and the topics that feed it.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TableConfig {
    /// Topics by name.
    #[serde(default)]
    pub topics: Vec<String>,
    /// Topics by pattern: a regular expression that must match the whole name.
    pub topic_pattern: Option<String>,
    /// The table, `namespace.name` (namespaces may nest: `a.b.name`).
    pub table: String,
    /// The primary key columns; else the Kafka key's fields, else the table's identifier fields.
    pub key: Option<Vec<String>>,
    /// The partition spec: `column`, `year(c)`, `month(c)`, `day(c)`, `hour(c)`,
    /// `bucket(N, c)`, `truncate(W, c)`.
    #[serde(default)]
    pub partition_by: Vec<String>,
    /// Create the table from the first change's schema if it does not exist.
    #[serde(default)]
    pub create: bool,
    /// Column types for messages without a schema block (`schemas.enable=false`):
    /// column → Iceberg type. They add to the existing table's types (and win
    /// where both name a column); for a table `create` makes, they are the types.
    #[serde(default)]
    pub types: BTreeMap<String, String>,
    /// Table properties of a table `create` makes, over floe's defaults
    /// (`write.metadata.previous-versions-max = 20`,
    /// `write.metadata.delete-after-commit.enabled = true`); the maintenance
    /// properties are documented in [`crate::maintain`].
    #[serde(default)]
    pub properties: BTreeMap<String, String>,
    /// `[tables.maintenance]`: compaction, expiry and orphan settings, under
    /// the table's own properties (see [`super::MaintenanceConfig`]).
    #[serde(default)]
    pub maintenance: super::MaintenanceConfig,
    /// How many columns schema evolution may add to the table in one commit
    /// window (default [`crate::table::DEFAULT_MAX_NEW_COLUMNS`]); a change
    /// that would add more goes to the dead-letter queue and the table is
    /// left as it was. Creating a table is not limited.
    pub max_new_columns: Option<usize>,
    /// The unit of integer timestamps and times of day in messages without
    /// a schema block: `auto` (the default: timestamps by magnitude, times
    /// in microseconds), `millis`, `micros` or `nanos`.
    #[serde(default)]
    pub numeric_time: NumericTime,
    /// Per column, what `numeric_time` says for the rest of the table.
    #[serde(default)]
    pub numeric_time_columns: BTreeMap<String, NumericTime>,
    /// The decoder: `debezium` (native, the default) or a decoder plugin's name.
    #[serde(default)]
    pub decoder: Option<PluginStep>,
    /// Transformer plugins, applied in order.
    #[serde(default)]
    pub transforms: Vec<PluginStep>,
}

/// A plugin used by a table, with its own configuration and limits.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PluginStep {
    /// The plugin's name (its file name without `.wasm`).
    pub plugin: String,
    /// The plugin's configuration: key → value (numbers and booleans are passed as text).
    #[serde(default)]
    pub config: BTreeMap<String, toml::Value>,
    /// Memory cap per instance, in MiB (default 64).
    pub memory_mib: Option<usize>,
    /// Deadline per batch, in milliseconds (default 2000).
    pub deadline_ms: Option<u64>,
    /// Capabilities beyond the sandbox's defaults.
    #[serde(default)]
    pub grants: GrantsConfig,
}

/// Capabilities granted to a plugin.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct GrantsConfig {
    /// Real wall and monotonic clocks.
    #[serde(default)]
    pub clocks: bool,
    /// Real randomness.
    #[serde(default)]
    pub random: bool,
    /// Environment variables passed through.
    #[serde(default)]
    pub env: Vec<String>,
    /// Folders the plugin may read.
    #[serde(default)]
    pub read_dirs: Vec<PathBuf>,
    /// Outgoing network connections.
    #[serde(default)]
    pub network: bool,
}

impl PluginStep {
    /// The plugin's configuration as text key/values.
    pub fn config_strings(&self) -> BTreeMap<String, String> {
        self.config
            .iter()
            .map(|(k, v)| {
                let text = match v {
                    toml::Value::String(s) => s.clone(),
                    other => other.to_string(),
                };
                (k.clone(), text)
            })
            .collect()
    }

    /// The sandbox settings of this step.
    pub fn stage_settings(&self) -> crate::plugin::StageSettings {
        let defaults = crate::plugin::Limits::default();
        crate::plugin::StageSettings {
            config: self.config_strings(),
            limits: crate::plugin::Limits {
                memory_bytes: self.memory_mib.map_or(defaults.memory_bytes, |m| m << 20),
                deadline: self
                    .deadline_ms
                    .map_or(defaults.deadline, Duration::from_millis),
            },
            grants: crate::plugin::Grants {
                clocks: self.grants.clocks,
                random: self.grants.random,
                env: self.grants.env.clone(),
                read_dirs: self.grants.read_dirs.clone(),
                network: self.grants.network,
            },
        }
    }
}

impl TableConfig {
    /// A table with neither `topics` nor `topic_pattern` takes only the
    /// changes other tables' transforms route to it.
    pub fn is_route_only(&self) -> bool {
        self.topics.is_empty() && self.topic_pattern.is_none()
    }

    /// The table's namespace and name.
    pub fn identifier(&self) -> (Vec<String>, String) {
        let mut parts: Vec<String> = self.table.split('.').map(str::to_string).collect();
        let name = parts.pop().unwrap_or_default();
        (parts, name)
    }

    /// The configured column types, parsed (validated at load).
    pub fn column_types(&self) -> BTreeMap<String, ColumnType> {
        self.types
            .iter()
            .filter_map(|(k, v)| Some((k.clone(), v.parse().ok()?)))
            .collect()
    }
}

/// Which tables a topic feeds, from the `[[tables]]` list.
#[derive(Debug, Clone)]
pub struct TopicRouter {
    routes: Vec<(Vec<String>, Option<Regex>)>,
}

impl TopicRouter {
    /// The indexes into `[[tables]]` of the tables `topic` feeds.
    pub fn tables_for(&self, topic: &str) -> Vec<usize> {
        self.routes
            .iter()
            .enumerate()
            .filter(|(_, (names, pattern))| {
                names.iter().any(|n| n == topic)
                    || pattern.as_ref().is_some_and(|p| p.is_match(topic))
            })
            .map(|(i, _)| i)
            .collect()
    }

    /// The patterns, for subscribing to topics that do not exist yet.
    pub fn patterns(&self) -> impl Iterator<Item = &Regex> {
        self.routes.iter().filter_map(|(_, p)| p.as_ref())
    }
}

impl PipelineConfig {
    /// The topic → tables router.
    pub fn router(&self) -> TopicRouter {
        TopicRouter {
            routes: self
                .tables
                .iter()
                .map(|t| {
                    let pattern = t
                        .topic_pattern
                        .as_ref()
                        .and_then(|p| Regex::new(&format!("^(?:{p})$")).ok());
                    (t.topics.clone(), pattern)
                })
                .collect(),
        }
    }
}

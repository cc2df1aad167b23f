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

use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::time::Duration;

use regex::Regex;
use serde::Deserialize;

use crate::change::ColumnType;
use crate::decode::NumericTime;

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

/// The kind of Iceberg catalog.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum CatalogKind {
    /// A SQL catalog (SQLite or PostgreSQL), compatible with the JDBC catalog.
    Sql,
}

/// The Iceberg catalog.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CatalogConfig {
    /// The catalog kind.
    pub kind: CatalogKind,
    /// `sqlite://path/to/catalog.db` or `postgres://user:password@host:port/db`.
    pub uri: String,
    /// The folder (or URI) under which tables' data and metadata live.
    pub warehouse: String,
    /// The catalog name (the JDBC catalog's `catalog_name`).
    #[serde(default = "default_catalog_name")]
    pub name: String,
}

fn default_catalog_name() -> String {
    "floe".into()
}

/// Where records come from.
#[derive(Debug, Clone, Deserialize)]
#[serde(tag = "kind", rename_all = "lowercase", deny_unknown_fields)]
pub enum SourceConfig {
    /// A file of Kafka records, one per line: `{"key": …, "value": …}`. Line
    /// `n` (from 0) is offset `n` of partition 0 of `topic`.
    File {
        /// The file.
        path: PathBuf,
        /// The topic the file stands for.
        topic: String,
    },
    /// Kafka topics, read in a consumer group.
    Kafka {
        /// `host:port,…`
        brokers: String,
        /// The consumer group; the pipeline id when absent.
        group: Option<String>,
        /// This process's name among the pipeline's processes (default: the
        /// host name; `floe run --instance` overrides it). The group member
        /// is static, `group.instance.id = "<pipeline>-<instance>"`, so a
        /// restarted process takes its partitions back without waiting for
        /// its predecessor's session to time out.
        instance: Option<String>,
        /// Passed through to librdkafka (TLS, SASL, …).
        #[serde(default)]
        properties: BTreeMap<String, String>,
    },
}

/// When to commit.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CommitConfig {
    /// Commit at least this often, in milliseconds.
    #[serde(default = "default_interval_ms")]
    pub interval_ms: u64,
    /// Commit when this many records are buffered.
    #[serde(default = "default_max_records")]
    pub max_records: usize,
}

fn default_interval_ms() -> u64 {
    1000
}

fn default_max_records() -> usize {
    100_000
}

impl Default for CommitConfig {
    fn default() -> Self {
        CommitConfig {
            interval_ms: default_interval_ms(),
            max_records: default_max_records(),
        }
    }
}

impl CommitConfig {
    /// The commit interval.
    pub fn interval(&self) -> Duration {
        Duration::from_millis(self.interval_ms)
    }
}

/// Where rejected records go.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DlqConfig {
    /// The folder of the Parquet DLQ files.
    #[serde(default = "default_dlq_path")]
    pub path: PathBuf,
    /// Also produce rejected records to this Kafka topic.
    pub topic: Option<String>,
}

fn default_dlq_path() -> PathBuf {
    PathBuf::from("dlq")
}

impl Default for DlqConfig {
    fn default() -> Self {
        DlqConfig {
            path: default_dlq_path(),
            topic: None,
        }
    }
}

/// The WebAssembly plugins.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PluginsConfig {
    /// The plugin directory: `<name>.wasm` is plugin `<name>`.
    pub dir: Option<PathBuf>,
    /// Watch the directory and swap in new versions between batches.
    #[serde(default = "default_true")]
    pub hot_reload: bool,
    /// Where compiled components are cached (default: `~/.cache/floe`).
    pub cache_dir: Option<PathBuf>,
}

fn default_true() -> bool {
    true
}

impl Default for PluginsConfig {
    fn default() -> Self {
        PluginsConfig {
            dir: None,
            hot_reload: true,
            cache_dir: None,
        }
    }
}

/// The Prometheus endpoint.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct MetricsConfig {
    /// The address to serve `/metrics` and `/health` on.
    pub listen: SocketAddr,
}

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
        config.validate().map_err(|message| ConfigError::Invalid {
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

    /// Checks what TOML's types cannot: names, patterns, types, the partition spec.
    pub fn validate(&self) -> Result<(), String> {
        if self.pipeline.trim().is_empty() {
            return Err("`pipeline` must name the pipeline".into());
        }
        if self.tables.is_empty() {
            return Err(
                "no `[[tables]]`: name at least one table and the topics that feed it".into(),
            );
        }
        let uri = &self.catalog.uri;
        if !(uri.starts_with("sqlite:")
            || uri.starts_with("postgres://")
            || uri.starts_with("postgresql://"))
        {
            return Err(format!(
                "catalog.uri `{uri}` must start with sqlite:// or postgres://"
            ));
        }
        if self.tables.iter().all(TableConfig::is_route_only) {
            return Err("no `[[tables]]` entry names `topics` or `topic_pattern`".into());
        }
        self.group_instance_id()?;
        if self.dlq.topic.is_some() && !matches!(self.source, SourceConfig::Kafka { .. }) {
            return Err("`[dlq] topic` needs `[source] kind = \"kafka\"`".into());
        }
        if self.commit.interval_ms == 0 || self.commit.max_records == 0 {
            return Err("commit.interval_ms and commit.max_records must be positive".into());
        }
        for (i, table) in self.tables.iter().enumerate() {
            let at = format!("tables[{i}] (`{}`)", table.table);
            let (namespace, name) = table.identifier();
            if namespace.is_empty() || name.is_empty() || namespace.iter().any(String::is_empty) {
                return Err(format!("{at}: `table` must be `namespace.name`"));
            }
            if table.is_route_only() && !self.tables.iter().any(|t| !t.transforms.is_empty()) {
                return Err(format!(
                    "{at}: give `topics` or `topic_pattern` (a table without them takes only \
                     changes routed by another table's transforms, and no table has any)"
                ));
            }
            if let Some(pattern) = &table.topic_pattern {
                Regex::new(&format!("^(?:{pattern})$"))
                    .map_err(|e| format!("{at}: topic_pattern: {e}"))?;
            }
            if let Some(key) = &table.key
                && (key.is_empty() || key.iter().any(|k| k.trim().is_empty()))
            {
                return Err(format!("{at}: `key` must list column names"));
            }
            for (column, ty) in &table.types {
                ty.parse::<ColumnType>()
                    .map_err(|e| format!("{at}: types.{column}: {e}"))?;
            }
            for column in table.numeric_time_columns.keys() {
                if let Some(Ok(ty)) = table.types.get(column).map(|t| t.parse::<ColumnType>())
                    && !matches!(
                        ty,
                        ColumnType::Timestamp | ColumnType::Timestamptz | ColumnType::Time
                    )
                {
                    return Err(format!(
                        "{at}: numeric_time_columns.{column}: `types` makes it {ty}; a unit \
                         applies to timestamp, timestamptz and time columns only"
                    ));
                }
            }
            for step in table.decoder.iter().chain(&table.transforms) {
                if step.plugin.trim().is_empty() {
                    return Err(format!("{at}: a plugin step must name its `plugin`"));
                }
                if step.memory_mib == Some(0) || step.deadline_ms == Some(0) {
                    return Err(format!(
                        "{at}: plugin `{}`: memory_mib and deadline_ms must be positive",
                        step.plugin
                    ));
                }
            }
            let plugin_decoder = table
                .decoder
                .as_ref()
                .is_some_and(|d| d.plugin != "debezium");
            if plugin_decoder
                && (table.numeric_time != NumericTime::Auto
                    || !table.numeric_time_columns.is_empty())
            {
                return Err(format!(
                    "{at}: numeric_time and numeric_time_columns set the native Debezium \
                     decoder's units, and this table has a decoder plugin"
                ));
            }
            let uses_plugins = plugin_decoder || !table.transforms.is_empty();
            if uses_plugins && self.plugins.dir.is_none() {
                return Err(format!("{at}: uses plugins but `[plugins] dir` is not set"));
            }
        }
        Ok(())
    }

    /// Names this process among the pipeline's processes (`floe run
    /// --instance`), over `[source] instance`; checked as
    /// [`PipelineConfig::group_instance_id`] checks it. A file source has no
    /// instances: the name changes nothing there.
    pub fn set_instance(&mut self, name: &str) -> Result<(), String> {
        if let SourceConfig::Kafka { instance, .. } = &mut self.source {
            *instance = Some(name.to_string());
        }
        self.group_instance_id().map(|_| ())
    }

    /// The static consumer-group member id of a Kafka source
    /// (`group.instance.id`): the one `[source.properties]` sets, else
    /// `<pipeline>-<instance>`, the instance being `[source] instance` or
    /// the host name. `None` for a file source.
    pub fn group_instance_id(&self) -> Result<Option<String>, String> {
        let SourceConfig::Kafka {
            instance,
            properties,
            ..
        } = &self.source
        else {
            return Ok(None);
        };
        if let Some(id) = properties.get("group.instance.id") {
            return Ok(Some(id.clone()));
        }
        let instance = match instance {
            Some(name) => name.clone(),
            None => whoami::fallible::hostname().map_err(|e| {
                format!("reading the host name for `[source] instance`: {e}; set it")
            })?,
        };
        let id = format!("{}-{instance}", self.pipeline);
        let legal = |c: char| c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '-');
        if instance.is_empty() || id.len() > 249 || !id.chars().all(legal) {
            return Err(format!(
                "the consumer group member id `{id}` (`<pipeline>-<instance>`, the instance \
                 being `[source] instance`, `floe run --instance` or the host name) must be at \
                 most 249 letters, digits, `.`, `_` or `-`: choose another instance name, or \
                 set \"group.instance.id\" in `[source.properties]`"
            ));
        }
        Ok(Some(id))
    }

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
mod tests {
    use super::*;
    use crate::decode::TimeUnit;

    const EXAMPLE: &str = r#"
pipeline = "orders-cdc"
[catalog]
kind = "sql"
uri = "sqlite://warehouse/catalog.db"
warehouse = "warehouse"
[source]
kind = "file"
path = "events.jsonl"
topic = "dbserver1.inventory.customers"
[commit]
interval_ms = 1000
max_records = 100000
[dlq]
path = "dlq"
[[tables]]
topics = ["dbserver1.inventory.customers"]
table = "inventory.customers"
key = ["id"]
partition_by = ["region", "day(created_at)", "bucket(16, id)"]
create = true
[[tables]]
topic_pattern = "dbserver1\\.inventory\\.order.*"
table = "inventory.orders"
"#;

    #[test]
    fn the_documented_example_loads_and_routes() {
        let config = PipelineConfig::parse(EXAMPLE).unwrap();
        config.validate().unwrap();
        assert_eq!(config.catalog.name, "floe");
        assert_eq!(
            config.tables[0].identifier(),
            (vec!["inventory".to_string()], "customers".to_string())
        );
        let router = config.router();
        assert_eq!(router.tables_for("dbserver1.inventory.customers"), vec![0]);
        assert_eq!(router.tables_for("dbserver1.inventory.orders"), vec![1]);
        assert_eq!(router.tables_for("dbserver1.inventory.orders_v2"), vec![1]);
        assert!(
            router.tables_for("xdbserver1.inventory.orders").is_empty(),
            "patterns match whole names"
        );
    }

    #[test]
    fn relative_paths_are_taken_from_the_config_folder() {
        let dir = std::env::temp_dir().join(format!("floe-config-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let file = dir.join("pipeline.toml");
        std::fs::write(&file, EXAMPLE).unwrap();
        let config = PipelineConfig::load(&file).unwrap();
        assert_eq!(
            config.catalog.uri,
            format!("sqlite://{}", dir.join("warehouse/catalog.db").display())
        );
        assert_eq!(config.dlq.path, dir.join("dlq"));
        std::fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn mistakes_are_named() {
        let cases = [
            (
                EXAMPLE.replace("interval_ms", "intervall_ms"),
                "unknown field `intervall_ms`",
            ),
            (
                EXAMPLE.replace("pipeline = \"orders-cdc\"", ""),
                "missing field `pipeline`",
            ),
            (EXAMPLE.replace("order.*", "order(.*"), "topic_pattern"),
            (
                EXAMPLE.replace("table = \"inventory.orders\"", "table = \"orders\""),
                "namespace.name",
            ),
            (EXAMPLE.replace("sqlite://", "mysql://"), "catalog.uri"),
            (
                EXAMPLE.replace("kind = \"file\"", "kind = \"ftp\""),
                "unknown variant `ftp`",
            ),
            (
                EXAMPLE.replace(
                    "create = true",
                    "create = true\ntypes = { id = \"varchar\" }",
                ),
                "types.id",
            ),
            (
                EXAMPLE.replace(
                    "create = true",
                    "create = true\ntransforms = [{ plugin = \"mask\" }]",
                ),
                "[plugins] dir",
            ),
            (
                EXAMPLE.replace("create = true", "create = true\nnumeric_time = \"secs\""),
                "unknown time unit `secs`: expected \"auto\", \"millis\", \"micros\" or \"nanos\"",
            ),
            (
                EXAMPLE.replace(
                    "create = true",
                    "create = true\nnumeric_time_columns = { created_at = \"ms\" }",
                ),
                "unknown time unit `ms`",
            ),
            (
                EXAMPLE.replace(
                    "create = true",
                    "create = true\ntypes = { born = \"date\" }\nnumeric_time_columns = { born = \"millis\" }",
                ),
                "numeric_time_columns.born: `types` makes it date",
            ),
        ];
        for (text, wanted) in cases {
            let error = match PipelineConfig::parse(&text) {
                Err(message) => message,
                Ok(config) => config.validate().unwrap_err(),
            };
            assert!(error.contains(wanted), "wanted `{wanted}` in `{error}`");
        }
    }

    #[test]
    fn a_kafka_member_is_static_and_named_after_the_pipeline_and_the_instance() {
        let kafka = EXAMPLE.replace(
            "kind = \"file\"\npath = \"events.jsonl\"\ntopic = \"dbserver1.inventory.customers\"",
            "kind = \"kafka\"\nbrokers = \"localhost:9092\"",
        );
        let id = |text: &str| {
            let config = PipelineConfig::parse(text).unwrap();
            config.validate().and(config.group_instance_id())
        };
        let host = whoami::fallible::hostname().unwrap();
        assert_eq!(id(&kafka), Ok(Some(format!("orders-cdc-{host}"))));
        let named = kafka.replace("brokers =", "instance = \"worker-2\"\nbrokers =");
        assert_eq!(id(&named), Ok(Some("orders-cdc-worker-2".into())));
        let mut config = PipelineConfig::parse(&named).unwrap();
        config.set_instance("worker-3").unwrap();
        assert_eq!(
            config.group_instance_id(),
            Ok(Some("orders-cdc-worker-3".into())),
            "`floe run --instance` wins over `[source] instance`"
        );
        let own = named.replace(
            "[commit]",
            "[source.properties]\n\"group.instance.id\" = \"mine\"\n[commit]",
        );
        assert_eq!(id(&own), Ok(Some("mine".into())), "an explicit id wins");
        let error = config.set_instance("worker 3").unwrap_err();
        assert!(error.contains("`orders-cdc-worker 3`"), "{error}");
        let error = id(&named.replace("worker-2", "")).unwrap_err();
        assert!(error.contains("choose another instance name"), "{error}");
        assert_eq!(id(EXAMPLE), Ok(None), "a file source has no group");
    }

    #[test]
    fn plugin_steps_become_stage_settings() {
        let text = EXAMPLE.replace(
            "create = true",
            "create = true\ntransforms = [{ plugin = \"mask\", config = { columns = \"email\", rounds = 3 }, memory_mib = 16, grants = { clocks = true } }]",
        ) + "[plugins]\ndir = \"plugins\"\n";
        let config = PipelineConfig::parse(&text).unwrap();
        config.validate().unwrap();
        let settings = config.tables[0].transforms[0].stage_settings();
        assert_eq!(settings.config.get("rounds").map(String::as_str), Some("3"));
        assert_eq!(settings.limits.memory_bytes, 16 << 20);
        assert!(settings.grants.clocks && !settings.grants.network);
    }

    #[test]
    fn numeric_time_per_table_and_column() {
        let config = PipelineConfig::parse(EXAMPLE).unwrap();
        assert_eq!(
            config.tables[0].numeric_time,
            NumericTime::Auto,
            "the default"
        );
        assert!(config.tables[0].numeric_time_columns.is_empty());
        let text = EXAMPLE.replace(
            "create = true",
            "create = true\nnumeric_time = \"millis\"\ntypes = { created_at = \"timestamp\" }\nnumeric_time_columns = { created_at = \"micros\", opens = \"nanos\" }",
        );
        let config = PipelineConfig::parse(&text).unwrap();
        config.validate().unwrap();
        let table = &config.tables[0];
        assert_eq!(table.numeric_time, NumericTime::Fixed(TimeUnit::Millis));
        assert_eq!(
            table.numeric_time_columns.get("created_at"),
            Some(&NumericTime::Fixed(TimeUnit::Micros))
        );
        assert_eq!(
            table.numeric_time_columns.get("opens"),
            Some(&NumericTime::Fixed(TimeUnit::Nanos))
        );
    }
}

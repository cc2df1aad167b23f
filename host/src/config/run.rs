//! How the pipeline runs: `[commit]` (when it commits), `[dlq]` (where
//! rejected records go), `[plugins]` and `[metrics]`.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::time::Duration;

use serde::Deserialize;

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

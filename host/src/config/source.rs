//! `[source]`: where records come from, and the Kafka source's consumer-group member id.

use std::collections::BTreeMap;
use std::path::PathBuf;

use serde::Deserialize;

use super::PipelineConfig;

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

impl PipelineConfig {
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
}

//! Checking a pipeline's values beyond what TOML's types check.

use regex::Regex;

use super::{CatalogKind, PipelineConfig, SourceConfig, TableConfig};
use crate::change::ColumnType;
use crate::decode::NumericTime;

impl PipelineConfig {
    /// `[catalog]`: a URI of its kind, one way to authenticate, a warehouse.
    fn validate_catalog(&self) -> Result<(), String> {
        let catalog = &self.catalog;
        let uri = crate::commit::catalog::redact(&catalog.uri);
        match catalog.kind {
            CatalogKind::Sql => {
                if !(uri.starts_with("sqlite:")
                    || uri.starts_with("postgres://")
                    || uri.starts_with("postgresql://"))
                {
                    return Err(format!(
                        "catalog.uri `{uri}` must start with sqlite:// or postgres://"
                    ));
                }
                if catalog.credential.is_some() || catalog.token.is_some() {
                    return Err(
                        "catalog.credential and catalog.token are for `kind = \"rest\"`".into(),
                    );
                }
            }
            CatalogKind::Rest => {
                if !(uri.starts_with("http://") || uri.starts_with("https://")) {
                    return Err(format!(
                        "catalog.uri `{uri}` must start with http:// or https:// for a REST catalog"
                    ));
                }
                if catalog.credential.is_some() && catalog.token.is_some() {
                    return Err("give catalog.credential or catalog.token, not both".into());
                }
                if let Some(credential) = &catalog.credential
                    && credential
                        .split_once(':')
                        .is_none_or(|(id, _)| id.is_empty())
                {
                    return Err("catalog.credential must be `client-id:client-secret`".into());
                }
            }
        }
        if catalog.warehouse.trim().is_empty() {
            return Err("catalog.warehouse must name a folder or a URI".into());
        }
        Ok(())
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
        self.validate_catalog()?;
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
}

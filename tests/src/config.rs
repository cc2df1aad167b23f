//! The `pipeline.toml` of a test: one builder for the file-source and the
//! Kafka tests (and the benchmarks).

use std::path::{Path, PathBuf};

use floe::commit::CatalogConfig;

/// A pipeline configuration with one `[[tables]]` entry keyed by `id`:
///
/// ```text
/// pipeline = "<pipeline>"
/// [catalog]            kind = "sql", the catalog's uri, warehouse and name
/// [source]             <source>
/// [commit]             interval_ms, max_records
/// [dlq]                path = "dlq" (unless without_dlq)
/// [[tables]]           topics = [<topic>], table, key = ["id"], <table keys>
/// <more>
/// ```
#[derive(Debug, Clone)]
pub struct PipelineToml {
    pipeline: String,
    uri: String,
    warehouse: String,
    catalog_name: Option<String>,
    catalog_section: Option<String>,
    source: String,
    interval_ms: u64,
    max_records: usize,
    dlq: bool,
    topic: String,
    table: String,
    table_keys: String,
}

impl PipelineToml {
    /// A file source `events.jsonl` standing for `topic`, into `table`;
    /// commits every 600 s or `max_records`. Set the catalog with
    /// [`PipelineToml::catalog`] or [`PipelineToml::catalog_at`].
    pub fn file(pipeline: &str, topic: &str, table: &str, max_records: usize) -> Self {
        PipelineToml {
            pipeline: pipeline.into(),
            uri: String::new(),
            warehouse: String::new(),
            catalog_name: None,
            catalog_section: None,
            source: format!("kind = \"file\"\npath = \"events.jsonl\"\ntopic = \"{topic}\""),
            interval_ms: 600_000,
            max_records,
            dlq: true,
            topic: topic.into(),
            table: table.into(),
            table_keys: String::new(),
        }
    }

    /// A Kafka source on `servers`, `source` adding keys (and subtables) to
    /// `[source]`, into `table`; commits every 300 ms or 2,000 records. Set
    /// the catalog as for [`PipelineToml::file`].
    pub fn kafka(pipeline: &str, servers: &str, source: &str, topic: &str, table: &str) -> Self {
        PipelineToml {
            pipeline: pipeline.into(),
            uri: String::new(),
            warehouse: String::new(),
            catalog_name: None,
            catalog_section: None,
            source: format!("kind = \"kafka\"\nbrokers = \"{servers}\"\n{source}"),
            interval_ms: 300,
            max_records: 2000,
            dlq: true,
            topic: topic.into(),
            table: table.into(),
            table_keys: String::new(),
        }
    }

    /// The catalog `catalog` (its uri, warehouse and name).
    pub fn catalog(mut self, catalog: &CatalogConfig) -> Self {
        self.uri = catalog.uri.clone();
        self.warehouse = catalog.warehouse.clone();
        self.catalog_name = Some(catalog.name.clone());
        self
    }

    /// The catalog at `uri` and `warehouse` under the default catalog name.
    pub fn catalog_at(mut self, uri: &str, warehouse: &str) -> Self {
        self.uri = uri.into();
        self.warehouse = warehouse.into();
        self.catalog_name = None;
        self
    }

    /// `section` as the whole `[catalog]` section (a REST catalog, S3 properties).
    pub fn catalog_toml(mut self, section: &str) -> Self {
        self.catalog_section = Some(section.into());
        self
    }

    /// Commits every `interval_ms` or `max_records`.
    pub fn commit(mut self, interval_ms: u64, max_records: usize) -> Self {
        self.interval_ms = interval_ms;
        self.max_records = max_records;
        self
    }

    /// No `[dlq]` section.
    pub fn without_dlq(mut self) -> Self {
        self.dlq = false;
        self
    }

    /// More lines after the `[[tables]]` entry's `key` (keys of the table,
    /// then any sections after it).
    pub fn table_keys(mut self, lines: &str) -> Self {
        self.table_keys = lines.into();
        self
    }

    /// The TOML text.
    pub fn render(&self) -> String {
        let mut text = format!("pipeline = \"{}\"\n", self.pipeline);
        if let Some(section) = &self.catalog_section {
            text += section;
        } else {
            text += &format!(
                "[catalog]\nkind = \"sql\"\nuri = \"{}\"\nwarehouse = \"{}\"\n",
                self.uri, self.warehouse
            );
            if let Some(name) = &self.catalog_name {
                text += &format!("name = \"{name}\"\n");
            }
        }
        text += &format!(
            "[source]\n{}\n[commit]\ninterval_ms = {}\nmax_records = {}\n",
            self.source, self.interval_ms, self.max_records
        );
        if self.dlq {
            text += "[dlq]\npath = \"dlq\"\n";
        }
        text += &format!(
            "[[tables]]\ntopics = [\"{}\"]\ntable = \"{}\"\nkey = [\"id\"]\n{}\n",
            self.topic, self.table, self.table_keys
        );
        text
    }

    /// Writes `<dir>/pipeline.toml`; returns its path.
    pub fn write(&self, dir: &Path) -> PathBuf {
        let path = dir.join("pipeline.toml");
        std::fs::write(&path, self.render()).unwrap();
        path
    }
}

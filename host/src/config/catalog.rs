//! `[catalog]`: the Iceberg catalog the tables are in.

use serde::Deserialize;

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

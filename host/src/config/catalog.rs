//! `[catalog]`: the Iceberg catalog the tables are in, and the storage
//! their files live on.

use std::collections::BTreeMap;
use std::fmt;

use serde::Deserialize;

/// The kind of Iceberg catalog.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum CatalogKind {
    /// A SQL catalog (SQLite or PostgreSQL), compatible with the JDBC catalog.
    Sql,
    /// An Iceberg REST catalog (Polaris, Lakekeeper, Nessie, Gravitino,
    /// SeaweedFS, S3 Tables, …).
    Rest,
}

/// The Iceberg catalog. Key names follow PyIceberg's and the Java library's.
#[derive(Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CatalogConfig {
    /// The catalog kind.
    pub kind: CatalogKind,
    /// SQL: `sqlite://path/to/catalog.db` or
    /// `postgres://user:password@host:port/db`; REST: the server's
    /// `http(s)://host:port[/path]`.
    pub uri: String,
    /// The folder or URI (`s3://bucket/path`) under which tables' data and
    /// metadata live; for a REST catalog, the warehouse as the server expects it.
    pub warehouse: String,
    /// The catalog name (the JDBC catalog's `catalog_name`).
    #[serde(default = "default_catalog_name")]
    pub name: String,
    /// REST: OAuth2 client credentials, `client-id:client-secret`.
    #[serde(default)]
    pub credential: Option<String>,
    /// REST: a bearer token (instead of `credential`).
    #[serde(default)]
    pub token: Option<String>,
    /// Passed to the catalog client and to FileIO: `s3.endpoint`,
    /// `s3.region`, `s3.access-key-id`, `s3.secret-access-key`,
    /// `s3.path-style-access`, `oauth2-server-uri`, `scope`, …
    #[serde(default)]
    pub properties: BTreeMap<String, String>,
}

impl fmt::Debug for CatalogConfig {
    /// Secrets (the credential, the token, secret properties) are not shown.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let hidden = |v: &Option<String>| v.as_ref().map(|_| "***");
        let properties: BTreeMap<&str, &str> = self
            .properties
            .iter()
            .map(|(k, v)| {
                let shown = if is_secret_property(k) {
                    "***"
                } else {
                    v.as_str()
                };
                (k.as_str(), shown)
            })
            .collect();
        f.debug_struct("CatalogConfig")
            .field("kind", &self.kind)
            .field("uri", &crate::commit::catalog::redact(&self.uri))
            .field("warehouse", &self.warehouse)
            .field("name", &self.name)
            .field("credential", &hidden(&self.credential))
            .field("token", &hidden(&self.token))
            .field("properties", &properties)
            .finish()
    }
}

/// Whether a catalog property holds a secret (never logged or printed).
pub fn is_secret_property(key: &str) -> bool {
    let key = key.to_ascii_lowercase();
    ["secret", "token", "password", "credential", "session"]
        .iter()
        .any(|word| key.contains(word))
}

fn default_catalog_name() -> String {
    "floe".into()
}

//! [`Catalog`]: the one catalog type the commit path, the key-index
//! rebuild, maintenance and the pipeline use, SQL or REST.
//!
//! An enum rather than a trait object: there are two kinds, both known
//! here; callers keep calling plain `async fn`s (no boxed futures, no
//! `async_trait`), and a `match` per method says which implementation runs.
//! Both keep the same compare-and-swap contract: a commit whose base is no
//! longer the table's current metadata is a [`CatalogError::CommitConflict`]
//! and changed nothing.

use std::collections::HashMap;

use iceberg::io::FileIO;
use iceberg::spec::{Schema, TableMetadata, UnboundPartitionSpec};

use super::rest::{RestCatalog, RestConfig};
use super::{
    CatalogConfig, CatalogError, LoadedTable, NamespaceIdent, SqlCatalog, TableIdent, storage,
};
use crate::config::{self, CatalogKind};

/// An Iceberg catalog: SQL (JDBC schema) or REST.
#[derive(Debug, Clone)]
pub enum Catalog {
    /// The SQL catalog.
    Sql(SqlCatalog),
    /// The REST catalog.
    Rest(RestCatalog),
}

impl From<SqlCatalog> for Catalog {
    fn from(catalog: SqlCatalog) -> Self {
        Catalog::Sql(catalog)
    }
}

impl From<RestCatalog> for Catalog {
    fn from(catalog: RestCatalog) -> Self {
        Catalog::Rest(catalog)
    }
}

impl Catalog {
    /// Opens the catalog `[catalog]` describes, with the storage its
    /// properties configure, and checks that both answer: a wrong URI,
    /// credential, warehouse, S3 endpoint or key fails here, before
    /// anything is read or written.
    pub async fn open(config: &config::CatalogConfig) -> Result<Catalog, CatalogError> {
        let properties: HashMap<String, String> = config
            .properties
            .iter()
            .map(|(k, v)| (k.clone(), v.clone()))
            .collect();
        match config.kind {
            CatalogKind::Sql => {
                let file_io = storage::file_io(&config.warehouse, &properties);
                storage::check(&config.name, &file_io, &config.warehouse).await?;
                let sql = SqlCatalog::connect_with_file_io(
                    &CatalogConfig {
                        name: config.name.clone(),
                        uri: config.uri.clone(),
                        warehouse: config.warehouse.clone(),
                    },
                    file_io,
                )
                .await?;
                Ok(Catalog::Sql(sql))
            }
            CatalogKind::Rest => {
                let rest = RestCatalog::connect(RestConfig {
                    name: config.name.clone(),
                    uri: config.uri.clone(),
                    warehouse: config.warehouse.clone(),
                    credential: config.credential.clone(),
                    token: config.token.clone(),
                    properties,
                })
                .await?;
                storage::check(&config.name, rest.file_io(), &config.warehouse).await?;
                Ok(Catalog::Rest(rest))
            }
        }
    }

    /// The catalog name.
    pub fn name(&self) -> &str {
        match self {
            Catalog::Sql(c) => c.name(),
            Catalog::Rest(c) => c.name(),
        }
    }

    /// The storage metadata and data files are read from and written to.
    pub fn file_io(&self) -> &FileIO {
        match self {
            Catalog::Sql(c) => c.file_io(),
            Catalog::Rest(c) => c.file_io(),
        }
    }

    /// The tables of a namespace, by name.
    pub async fn list_tables(
        &self,
        namespace: &NamespaceIdent,
    ) -> Result<Vec<TableIdent>, CatalogError> {
        match self {
            Catalog::Sql(c) => c.list_tables(namespace).await,
            Catalog::Rest(c) => c.list_tables(namespace).await,
        }
    }

    /// Whether the table exists.
    pub async fn table_exists(&self, ident: &TableIdent) -> Result<bool, CatalogError> {
        match self {
            Catalog::Sql(c) => c.table_exists(ident).await,
            Catalog::Rest(c) => c.table_exists(ident).await,
        }
    }

    /// Loads the table's current metadata
    /// ([`CatalogError::NoSuchTable`] when it does not exist).
    pub async fn load_table(&self, ident: &TableIdent) -> Result<LoadedTable, CatalogError> {
        match self {
            Catalog::Sql(c) => c.load_table(ident).await,
            Catalog::Rest(c) => c.load_table(ident).await,
        }
    }

    /// Creates a format-v2 table in an existing namespace.
    pub async fn create_table(
        &self,
        ident: &TableIdent,
        schema: Schema,
        spec: UnboundPartitionSpec,
        properties: HashMap<String, String>,
    ) -> Result<LoadedTable, CatalogError> {
        match self {
            Catalog::Sql(c) => c.create_table(ident, schema, spec, properties).await,
            Catalog::Rest(c) => c.create_table(ident, schema, spec, properties).await,
        }
    }

    /// Makes `metadata` (built by floe on `base`) the table's current
    /// metadata if `base` still is: a lost race is
    /// [`CatalogError::CommitConflict`], an outcome that stayed unknown
    /// [`CatalogError::CommitStateUnknown`].
    pub async fn commit_table(
        &self,
        base: &LoadedTable,
        metadata: TableMetadata,
    ) -> Result<LoadedTable, CatalogError> {
        match self {
            Catalog::Sql(c) => c.commit_table(base, metadata).await,
            Catalog::Rest(c) => c.commit_table(base, metadata).await,
        }
    }

    /// Removes the table from the catalog.
    pub async fn drop_table(&self, ident: &TableIdent) -> Result<(), CatalogError> {
        match self {
            Catalog::Sql(c) => c.drop_table(ident).await,
            Catalog::Rest(c) => c.drop_table(ident).await,
        }
    }

    /// Whether the namespace exists.
    pub async fn namespace_exists(&self, namespace: &NamespaceIdent) -> Result<bool, CatalogError> {
        match self {
            Catalog::Sql(c) => c.namespace_exists(namespace).await,
            Catalog::Rest(c) => c.namespace_exists(namespace).await,
        }
    }

    /// Creates a namespace with the given properties.
    pub async fn create_namespace(
        &self,
        namespace: &NamespaceIdent,
        properties: &HashMap<String, String>,
    ) -> Result<(), CatalogError> {
        match self {
            Catalog::Sql(c) => c.create_namespace(namespace, properties).await,
            Catalog::Rest(c) => c.create_namespace(namespace, properties).await,
        }
    }

    /// Creates the namespace unless it exists (also when another process
    /// creates it at the same time).
    pub async fn ensure_namespace(&self, namespace: &NamespaceIdent) -> Result<(), CatalogError> {
        match self.create_namespace(namespace, &HashMap::new()).await {
            Ok(()) | Err(CatalogError::NamespaceAlreadyExists { .. }) => Ok(()),
            Err(err) if self.namespace_exists(namespace).await.unwrap_or(false) => {
                tracing::debug!(%err, "namespace created concurrently");
                Ok(())
            }
            Err(err) => Err(err),
        }
    }
}

//! The SQL catalog: Iceberg's JDBC catalog schema on SQLite (the default) or
//! PostgreSQL, so that PyIceberg's `SqlCatalog`, Java's `JdbcCatalog` and
//! floe open the same database and see the same tables.
//!
//! Two tables, created when absent with the DDL PyIceberg uses:
//!
//! ```sql
//! CREATE TABLE iceberg_tables (
//!     catalog_name VARCHAR(255) NOT NULL, table_namespace VARCHAR(255) NOT NULL,
//!     table_name VARCHAR(255) NOT NULL, metadata_location VARCHAR(1000),
//!     previous_metadata_location VARCHAR(1000), iceberg_type VARCHAR(5),
//!     PRIMARY KEY (catalog_name, table_namespace, table_name));
//! CREATE TABLE iceberg_namespace_properties (
//!     catalog_name VARCHAR(255) NOT NULL, namespace VARCHAR(255) NOT NULL,
//!     property_key VARCHAR(255) NOT NULL, property_value VARCHAR(1000) NOT NULL,
//!     PRIMARY KEY (catalog_name, namespace, property_key));
//! ```
//!
//! A namespace is its parts joined by `.`; one without properties gets the
//! row `exists = true`, as PyIceberg writes. A catalog created before the
//! `iceberg_type` column (the "v0" schema) is used as it is. A table lives at
//! the namespace's `location` property, else `<warehouse>/<ns parts joined by
//! />/<table>`; its metadata files are `<location>/metadata/NNNNN-<uuid>.metadata.json`.
//!
//! A commit writes the new metadata file, then swaps the row's
//! `metadata_location` with a compare-and-swap (`UPDATE … WHERE
//! metadata_location = <the one loaded>`); no row updated is a
//! [`CatalogError::CommitConflict`].
//!
//! A statement that fails for a passing reason ([`CatalogError::is_transient`]:
//! the SQLite file locked by another process, a PostgreSQL serialization
//! failure, …) did not take effect and is retried with exponential backoff
//! for up to two minutes, each retry logged as a warning.

mod any;
mod db;
mod error;
mod namespace;
pub mod rest;
pub mod storage;

use std::collections::HashMap;
use std::str::FromStr;
use std::sync::Arc;

pub use any::Catalog;
pub use error::CatalogError;
pub use iceberg::{NamespaceIdent, TableIdent};
pub use rest::{RestCatalog, RestConfig};

use iceberg::MetadataLocation;
use iceberg::io::FileIO;
use iceberg::spec::{
    FormatVersion, Schema, SortOrder, TableMetadata, TableMetadataBuilder, TableMetadataRef,
    UnboundPartitionSpec,
};
use tracing::{debug, info, warn};

use db::{Db, sql_error};

/// Where the catalog is and what it is called.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CatalogConfig {
    /// The catalog name (the `catalog_name` column); PyIceberg's is the name
    /// given to `SqlCatalog(name, …)`.
    pub name: String,
    /// `sqlite:<path>` or `postgres://user:password@host:port/database`.
    pub uri: String,
    /// The root under which tables are created: a local path, a `file://`
    /// URL, or `s3://bucket/path` (with a FileIO for it, see
    /// [`SqlCatalog::connect_with_file_io`] and [`storage::file_io`]).
    pub warehouse: String,
}

/// A table as loaded from the catalog: its current metadata and where it is.
#[derive(Debug, Clone)]
pub struct LoadedTable {
    /// The table's name.
    pub ident: TableIdent,
    /// The metadata file the catalog points at (the compare-and-swap's expected value).
    pub metadata_location: String,
    /// The parsed metadata.
    pub metadata: TableMetadataRef,
}

impl LoadedTable {
    /// `namespace.name`, for messages.
    pub fn name(&self) -> String {
        table_name(&self.ident)
    }
}

/// `namespace.name` of a table identifier.
pub fn table_name(ident: &TableIdent) -> String {
    format!("{}.{}", ident.namespace().join("."), ident.name())
}

/// A table identifier from `namespace.name` (the last dot separates the name;
/// the namespace may itself have dots).
pub fn parse_table_ident(name: &str) -> Option<TableIdent> {
    let (namespace, table) = name.rsplit_once('.')?;
    if namespace.is_empty() || table.is_empty() {
        return None;
    }
    let parts: Vec<String> = namespace.split('.').map(str::to_string).collect();
    Some(TableIdent::new(
        NamespaceIdent::from_vec(parts).ok()?,
        table.to_string(),
    ))
}

/// The SQL catalog.
#[derive(Debug, Clone)]
pub struct SqlCatalog {
    name: String,
    warehouse: String,
    db: Db,
    /// Whether `iceberg_tables` has the `iceberg_type` column (PyIceberg's "v1" schema).
    typed: bool,
    file_io: FileIO,
}

const CREATE_TABLES: &str = "CREATE TABLE IF NOT EXISTS iceberg_tables (
    catalog_name VARCHAR(255) NOT NULL,
    table_namespace VARCHAR(255) NOT NULL,
    table_name VARCHAR(255) NOT NULL,
    metadata_location VARCHAR(1000),
    previous_metadata_location VARCHAR(1000),
    iceberg_type VARCHAR(5),
    PRIMARY KEY (catalog_name, table_namespace, table_name))";

const CREATE_NAMESPACE_PROPERTIES: &str =
    "CREATE TABLE IF NOT EXISTS iceberg_namespace_properties (
    catalog_name VARCHAR(255) NOT NULL,
    namespace VARCHAR(255) NOT NULL,
    property_key VARCHAR(255) NOT NULL,
    property_value VARCHAR(1000) NOT NULL,
    PRIMARY KEY (catalog_name, namespace, property_key))";

impl SqlCatalog {
    /// Opens the catalog (creating its two tables when absent) with local
    /// file storage for metadata and data files.
    pub async fn connect(config: &CatalogConfig) -> Result<SqlCatalog, CatalogError> {
        Self::connect_with_file_io(config, FileIO::new_with_fs()).await
    }

    /// Opens the catalog with the given storage for metadata and data files.
    pub async fn connect_with_file_io(
        config: &CatalogConfig,
        file_io: FileIO,
    ) -> Result<SqlCatalog, CatalogError> {
        if !Db::supports(&config.uri) {
            return Err(CatalogError::InvalidUri(config.uri.clone()));
        }
        let name = config.name.clone();
        let db = Db::connect(&name, &config.uri).await.map_err(sql_error(
            &name,
            format!("connecting to {}", redact(&config.uri)),
        ))?;
        for ddl in [CREATE_TABLES, CREATE_NAMESPACE_PROPERTIES] {
            db.execute("creating the catalog tables", ddl, &[]).await?;
        }
        let typed = match db
            .fetch(
                "probing for iceberg_type",
                "SELECT iceberg_type FROM iceberg_tables LIMIT 0",
                &[],
                0,
            )
            .await
        {
            Ok(_) => true,
            Err(err) if err.is_transient() => return Err(err),
            Err(_) => false,
        };
        if !typed {
            warn!(catalog = %name, "iceberg_tables has no iceberg_type column (v0 catalog schema); using it as it is");
        }
        debug!(catalog = %name, uri = %redact(&config.uri), "catalog opened");
        Ok(SqlCatalog {
            name,
            warehouse: config.warehouse.trim_end_matches('/').to_string(),
            db,
            typed,
            file_io,
        })
    }

    /// The catalog name.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// The storage metadata and data files are read from and written to.
    pub fn file_io(&self) -> &FileIO {
        &self.file_io
    }

    fn table_filter(&self) -> &'static str {
        if self.typed {
            " AND (iceberg_type = 'TABLE' OR iceberg_type IS NULL)"
        } else {
            ""
        }
    }

    /// The tables of a namespace, by name.
    pub async fn list_tables(
        &self,
        namespace: &NamespaceIdent,
    ) -> Result<Vec<TableIdent>, CatalogError> {
        let ns = namespace.join(".");
        let sql = format!(
            "SELECT table_name FROM iceberg_tables WHERE catalog_name = ? AND table_namespace = ?{} ORDER BY table_name",
            self.table_filter()
        );
        let rows = self
            .db
            .fetch(
                &format!("listing tables of {ns}"),
                &sql,
                &[&self.name, &ns],
                1,
            )
            .await?;
        Ok(rows
            .into_iter()
            .filter_map(|mut row| row.pop().flatten())
            .map(|name| TableIdent::new(namespace.clone(), name))
            .collect())
    }

    async fn metadata_location(&self, ident: &TableIdent) -> Result<Option<String>, CatalogError> {
        let sql = format!(
            "SELECT metadata_location FROM iceberg_tables WHERE catalog_name = ? AND table_namespace = ? AND table_name = ?{}",
            self.table_filter()
        );
        let ns = ident.namespace().join(".");
        let rows = self
            .db
            .fetch(
                &format!("looking up table {}", table_name(ident)),
                &sql,
                &[&self.name, &ns, ident.name()],
                1,
            )
            .await?;
        Ok(rows
            .into_iter()
            .next()
            .and_then(|mut row| row.pop().flatten()))
    }

    /// Whether the table exists.
    pub async fn table_exists(&self, ident: &TableIdent) -> Result<bool, CatalogError> {
        Ok(self.metadata_location(ident).await?.is_some())
    }

    /// Loads the table's current metadata.
    pub async fn load_table(&self, ident: &TableIdent) -> Result<LoadedTable, CatalogError> {
        let location =
            self.metadata_location(ident)
                .await?
                .ok_or_else(|| CatalogError::NoSuchTable {
                    catalog: self.name.clone(),
                    table: table_name(ident),
                })?;
        let metadata = TableMetadata::read_from(&self.file_io, &location)
            .await
            .map_err(|e| CatalogError::iceberg(format!("reading metadata {location}"), e))?;
        Ok(LoadedTable {
            ident: ident.clone(),
            metadata_location: location,
            metadata: Arc::new(metadata),
        })
    }

    /// Where a new table in `ident`'s namespace goes.
    async fn default_location(&self, ident: &TableIdent) -> Result<String, CatalogError> {
        let properties = self.namespace_properties(ident.namespace()).await?;
        Ok(match properties.get("location") {
            Some(location) => format!("{}/{}", location.trim_end_matches('/'), ident.name()),
            None => format!(
                "{}/{}/{}",
                self.warehouse,
                ident.namespace().join("/"),
                ident.name()
            ),
        })
    }

    /// Creates a format-v2 table. Field ids of `schema` are kept when they
    /// are already sequential from 1 (the iceberg crate reassigns them
    /// otherwise); the spec binds to the schema by source column id.
    pub async fn create_table(
        &self,
        ident: &TableIdent,
        schema: Schema,
        spec: UnboundPartitionSpec,
        properties: HashMap<String, String>,
    ) -> Result<LoadedTable, CatalogError> {
        let name = table_name(ident);
        if !self.namespace_exists(ident.namespace()).await? {
            return Err(CatalogError::NoSuchNamespace {
                catalog: self.name.clone(),
                namespace: ident.namespace().join("."),
            });
        }
        if self.table_exists(ident).await? {
            return Err(CatalogError::TableAlreadyExists {
                catalog: self.name.clone(),
                table: name,
            });
        }
        let location = self.default_location(ident).await?;
        let metadata = TableMetadataBuilder::new(
            schema,
            spec,
            SortOrder::unsorted_order(),
            location.clone(),
            FormatVersion::V2,
            properties,
        )
        .and_then(|builder| builder.build())
        .map_err(|e| CatalogError::iceberg(format!("building metadata of new table {name}"), e))?
        .metadata;
        let metadata_location = MetadataLocation::new_with_metadata(&location, &metadata);
        metadata
            .write_to(&self.file_io, &metadata_location)
            .await
            .map_err(|e| CatalogError::iceberg(format!("writing {metadata_location}"), e))?;
        let metadata_location = metadata_location.to_string();
        let ns = ident.namespace().join(".");
        let context = format!("registering table {name}");
        let inserted = if self.typed {
            self.db
                .execute(
                    &context,
                    "INSERT INTO iceberg_tables (catalog_name, table_namespace, table_name, metadata_location, previous_metadata_location, iceberg_type) VALUES (?, ?, ?, ?, NULL, 'TABLE')",
                    &[&self.name, &ns, ident.name(), &metadata_location],
                )
                .await
        } else {
            self.db
                .execute(
                    &context,
                    "INSERT INTO iceberg_tables (catalog_name, table_namespace, table_name, metadata_location, previous_metadata_location) VALUES (?, ?, ?, ?, NULL)",
                    &[&self.name, &ns, ident.name(), &metadata_location],
                )
                .await
        };
        if let Err(err) = inserted {
            let _ = self.file_io.delete(&metadata_location).await;
            if self.table_exists(ident).await.unwrap_or(false) {
                return Err(CatalogError::TableAlreadyExists {
                    catalog: self.name.clone(),
                    table: name,
                });
            }
            return Err(err);
        }
        info!(catalog = %self.name, table = %name, %metadata_location, "table created");
        Ok(LoadedTable {
            ident: ident.clone(),
            metadata_location,
            metadata: Arc::new(metadata),
        })
    }

    /// Writes `metadata` as the table's next metadata file and swaps the
    /// catalog's pointer to it, if the pointer is still `base`'s. Once the
    /// swap landed, the metadata files that fell off the metadata log are
    /// deleted when the table says so
    /// ([`crate::maintain::metadata_files`]).
    ///
    /// On [`CatalogError::CommitConflict`] the written file is removed again.
    pub async fn commit_table(
        &self,
        base: &LoadedTable,
        metadata: TableMetadata,
    ) -> Result<LoadedTable, CatalogError> {
        let name = base.name();
        let next = match MetadataLocation::from_str(&base.metadata_location) {
            Ok(current) => current.with_next_version().with_new_metadata(&metadata),
            Err(_) => MetadataLocation::new_with_metadata(metadata.location(), &metadata),
        };
        metadata
            .write_to(&self.file_io, &next)
            .await
            .map_err(|e| CatalogError::iceberg(format!("writing {next} of {name}"), e))?;
        let next = next.to_string();
        let ns = base.ident.namespace().join(".");
        let sql = format!(
            "UPDATE iceberg_tables SET metadata_location = ?, previous_metadata_location = ? WHERE catalog_name = ? AND table_namespace = ? AND table_name = ? AND metadata_location = ?{}",
            self.table_filter()
        );
        let updated = self
            .db
            .execute(
                &format!("committing {name}"),
                &sql,
                &[
                    &next,
                    &base.metadata_location,
                    &self.name,
                    &ns,
                    base.ident.name(),
                    &base.metadata_location,
                ],
            )
            .await;
        match updated {
            Ok(1) => {
                debug!(table = %name, metadata_location = %next, "committed");
                crate::maintain::metadata_files::delete_removed_metadata_files(
                    &self.file_io,
                    &name,
                    &base.metadata,
                    &base.metadata_location,
                    &metadata,
                    &next,
                )
                .await;
                Ok(LoadedTable {
                    ident: base.ident.clone(),
                    metadata_location: next,
                    metadata: Arc::new(metadata),
                })
            }
            Ok(_) => {
                let _ = self.file_io.delete(&next).await;
                Err(CatalogError::CommitConflict {
                    catalog: self.name.clone(),
                    table: name,
                    expected: base.metadata_location.clone(),
                })
            }
            // Whether the update happened is unknown: keep the file, it may be live.
            Err(err) => Err(err),
        }
    }

    /// Removes the table from the catalog (its files stay).
    pub async fn drop_table(&self, ident: &TableIdent) -> Result<(), CatalogError> {
        let ns = ident.namespace().join(".");
        let sql = format!(
            "DELETE FROM iceberg_tables WHERE catalog_name = ? AND table_namespace = ? AND table_name = ?{}",
            self.table_filter()
        );
        let deleted = self
            .db
            .execute(
                &format!("dropping table {}", table_name(ident)),
                &sql,
                &[&self.name, &ns, ident.name()],
            )
            .await?;
        if deleted == 0 {
            return Err(CatalogError::NoSuchTable {
                catalog: self.name.clone(),
                table: table_name(ident),
            });
        }
        Ok(())
    }
}

/// The URI without a password, for logs and errors.
pub fn redact(uri: &str) -> String {
    match (uri.find("://"), uri.rfind('@')) {
        (Some(scheme), Some(at)) if at > scheme => {
            let userinfo = &uri[scheme + 3..at];
            match userinfo.split_once(':') {
                Some((user, _)) => format!("{}{user}:***{}", &uri[..scheme + 3], &uri[at..]),
                None => uri.to_string(),
            }
        }
        _ => uri.to_string(),
    }
}

#[cfg(test)]
mod tests;

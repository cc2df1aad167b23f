//! The Iceberg REST catalog: `GET /v1/config` (the server's prefix and
//! property overrides), namespaces, tables (create, load, list, drop) and
//! commits (`POST …/namespaces/{ns}/tables/{table}` with requirements and
//! updates, [`updates`]). The server writes the metadata files; floe writes
//! data, delete and manifest files through FileIO on the tables' storage
//! (S3 and the like, configured by the catalog's `s3.*` properties merged
//! with the server's defaults and overrides).
//!
//! A 409 on a commit is [`CatalogError::CommitConflict`], exactly like the
//! SQL catalog's lost compare-and-swap. A commit whose answer is lost (a
//! 5xx, a timeout, a dropped connection) is resolved by reloading the table
//! before anything else ([`commit`]).

mod client;
mod commit;
pub mod updates;

use std::collections::HashMap;
use std::sync::Arc;

use iceberg::io::FileIO;
use iceberg::spec::{Schema, SortOrder, TableMetadata, UnboundPartitionSpec};
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};
use tracing::{debug, info};

use super::{CatalogError, LoadedTable, NamespaceIdent, TableIdent, storage, table_name};
use client::{Client, Reply, namespace_segment, segment};

/// What a REST catalog needs: where it is, how to authenticate, the
/// warehouse to ask for, and properties for the client and FileIO.
#[derive(Clone)]
pub struct RestConfig {
    /// The catalog name (for messages).
    pub name: String,
    /// `http(s)://host:port[/path]`.
    pub uri: String,
    /// The warehouse, as the server expects it (`s3://bucket`, a name, …).
    pub warehouse: String,
    /// OAuth2 client credentials, `client-id:client-secret`.
    pub credential: Option<String>,
    /// A bearer token.
    pub token: Option<String>,
    /// Client and FileIO properties (`s3.*`, `oauth2-server-uri`, `scope`, `header.*`).
    pub properties: HashMap<String, String>,
}

/// A REST catalog.
#[derive(Debug, Clone)]
pub struct RestCatalog {
    name: String,
    client: Client,
    file_io: FileIO,
}

impl RestCatalog {
    /// Asks the server for its configuration, authenticates, and checks
    /// that the warehouse's namespaces can be listed: a wrong URI, a wrong
    /// credential or a missing warehouse fail here, with the server's message.
    pub async fn connect(config: RestConfig) -> Result<RestCatalog, CatalogError> {
        let name = config.name.clone();
        let client = Client::new(
            &name,
            &config.uri,
            config.credential.as_deref(),
            config.token.as_deref(),
            &config.properties,
        )?;
        let context = format!(
            "reading the configuration of {} for warehouse {}",
            super::redact(&config.uri),
            config.warehouse
        );
        let reply = client
            .send(
                Method::GET,
                &format!("config?warehouse={}", segment(&config.warehouse)),
                None,
                &context,
            )
            .await?;
        if !reply.status.is_success() {
            return Err(reply.into_error(&name, &context));
        }
        let answer = reply.json(&name, &context)?;
        let mut properties = string_map(answer.get("defaults"));
        properties.extend(config.properties.clone());
        properties.extend(string_map(answer.get("overrides")));
        let client = client.with_prefix(
            properties.get("prefix").map(String::as_str),
            answer
                .get("overrides")
                .and_then(|o| o.get("uri"))
                .and_then(Value::as_str),
        );
        client
            .read(
                "namespaces",
                &format!("listing the namespaces of warehouse {}", config.warehouse),
            )
            .await?;
        debug!(catalog = %name, uri = %super::redact(&config.uri), "REST catalog opened");
        Ok(RestCatalog {
            name,
            client,
            file_io: storage::object_store_file_io(&properties),
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

    fn table_path(ident: &TableIdent) -> String {
        format!(
            "namespaces/{}/tables/{}",
            namespace_segment(ident.namespace().as_ref()),
            segment(ident.name())
        )
    }

    /// The tables of a namespace, by name.
    pub async fn list_tables(
        &self,
        namespace: &NamespaceIdent,
    ) -> Result<Vec<TableIdent>, CatalogError> {
        let context = format!("listing tables of {}", namespace.join("."));
        let mut tables = Vec::new();
        let mut page: Option<String> = None;
        loop {
            let mut path = format!(
                "namespaces/{}/tables",
                namespace_segment(namespace.as_ref())
            );
            if let Some(token) = &page {
                path.push_str(&format!("?pageToken={}", segment(token)));
            }
            let answer = self
                .client
                .read(&path, &context)
                .await?
                .json(&self.name, &context)?;
            for id in answer
                .get("identifiers")
                .and_then(Value::as_array)
                .into_iter()
                .flatten()
            {
                if let Some(name) = id.get("name").and_then(Value::as_str) {
                    tables.push(TableIdent::new(namespace.clone(), name.to_string()));
                }
            }
            page = answer
                .get("next-page-token")
                .and_then(Value::as_str)
                .map(str::to_string);
            if page.is_none() {
                break;
            }
        }
        tables.sort_by(|a, b| a.name().cmp(b.name()));
        Ok(tables)
    }

    /// Whether the table exists.
    pub async fn table_exists(&self, ident: &TableIdent) -> Result<bool, CatalogError> {
        match self.load_table(ident).await {
            Ok(_) => Ok(true),
            Err(CatalogError::NoSuchTable { .. }) => Ok(false),
            Err(err) => Err(err),
        }
    }

    /// Loads the table's current metadata.
    pub async fn load_table(&self, ident: &TableIdent) -> Result<LoadedTable, CatalogError> {
        let name = table_name(ident);
        let context = format!("loading table {name}");
        match self.client.read(&Self::table_path(ident), &context).await {
            Ok(reply) => self.loaded(ident, &reply, &context),
            Err(CatalogError::Rest { status: 404, .. }) => Err(CatalogError::NoSuchTable {
                catalog: self.name.clone(),
                table: name,
            }),
            Err(err) => Err(err),
        }
    }

    /// The table of a `LoadTableResult`.
    #[allow(clippy::result_large_err)] // CatalogError, the size of the iceberg crate's error, as the async functions return it
    fn loaded(
        &self,
        ident: &TableIdent,
        reply: &Reply,
        context: &str,
    ) -> Result<LoadedTable, CatalogError> {
        let answer = reply.json(&self.name, context)?;
        let protocol = |message: String| CatalogError::Protocol {
            catalog: self.name.clone(),
            context: context.to_string(),
            message,
        };
        let metadata_location = answer
            .get("metadata-location")
            .and_then(Value::as_str)
            .ok_or_else(|| protocol("no metadata-location".into()))?
            .to_string();
        let metadata: TableMetadata = serde_json::from_value(
            answer
                .get("metadata")
                .cloned()
                .ok_or_else(|| protocol("no metadata".into()))?,
        )
        .map_err(|e| protocol(format!("metadata: {e}")))?;
        Ok(LoadedTable {
            ident: ident.clone(),
            metadata_location,
            metadata: Arc::new(metadata),
        })
    }

    /// Creates a format-v2 table (the server chooses its location).
    pub async fn create_table(
        &self,
        ident: &TableIdent,
        schema: Schema,
        spec: UnboundPartitionSpec,
        mut properties: HashMap<String, String>,
    ) -> Result<LoadedTable, CatalogError> {
        let name = table_name(ident);
        let context = format!("creating table {name}");
        properties.insert("format-version".into(), "2".into());
        let body = json!({
            "name": ident.name(),
            "schema": schema,
            "partition-spec": spec,
            "write-order": SortOrder::unsorted_order(),
            "properties": properties,
            "stage-create": false,
        });
        let path = format!(
            "namespaces/{}/tables",
            namespace_segment(ident.namespace().as_ref())
        );
        let reply = self
            .client
            .send(Method::POST, &path, Some(&body), &context)
            .await?;
        match reply.status {
            status if status.is_success() => {
                let table = self.loaded(ident, &reply, &context)?;
                info!(catalog = %self.name, table = %name, metadata_location = %table.metadata_location, "table created");
                Ok(table)
            }
            StatusCode::CONFLICT => Err(CatalogError::TableAlreadyExists {
                catalog: self.name.clone(),
                table: name,
            }),
            StatusCode::NOT_FOUND => Err(CatalogError::NoSuchNamespace {
                catalog: self.name.clone(),
                namespace: ident.namespace().join("."),
            }),
            _ => Err(reply.into_error(&self.name, &context)),
        }
    }

    /// Removes the table from the catalog (the server decides about its files).
    pub async fn drop_table(&self, ident: &TableIdent) -> Result<(), CatalogError> {
        let name = table_name(ident);
        let context = format!("dropping table {name}");
        let reply = self
            .client
            .send(Method::DELETE, &Self::table_path(ident), None, &context)
            .await?;
        match reply.status {
            status if status.is_success() => Ok(()),
            StatusCode::NOT_FOUND => Err(CatalogError::NoSuchTable {
                catalog: self.name.clone(),
                table: name,
            }),
            _ => Err(reply.into_error(&self.name, &context)),
        }
    }

    /// Whether the namespace exists.
    pub async fn namespace_exists(&self, namespace: &NamespaceIdent) -> Result<bool, CatalogError> {
        let context = format!("looking up namespace {}", namespace.join("."));
        let path = format!("namespaces/{}", namespace_segment(namespace.as_ref()));
        match self.client.read(&path, &context).await {
            Ok(_) => Ok(true),
            Err(CatalogError::Rest { status: 404, .. }) => Ok(false),
            Err(err) => Err(err),
        }
    }

    /// Creates a namespace with the given properties.
    pub async fn create_namespace(
        &self,
        namespace: &NamespaceIdent,
        properties: &HashMap<String, String>,
    ) -> Result<(), CatalogError> {
        let ns = namespace.join(".");
        let context = format!("creating namespace {ns}");
        let body = json!({ "namespace": namespace.as_ref(), "properties": properties });
        let reply = self
            .client
            .send(Method::POST, "namespaces", Some(&body), &context)
            .await?;
        match reply.status {
            status if status.is_success() => {
                info!(catalog = %self.name, namespace = %ns, "namespace created");
                Ok(())
            }
            StatusCode::CONFLICT => Err(CatalogError::NamespaceAlreadyExists {
                catalog: self.name.clone(),
                namespace: ns,
            }),
            _ => Err(reply.into_error(&self.name, &context)),
        }
    }
}

/// A JSON object of strings as a map (other values are skipped).
fn string_map(value: Option<&Value>) -> HashMap<String, String> {
    value
        .and_then(Value::as_object)
        .into_iter()
        .flatten()
        .filter_map(|(k, v)| Some((k.clone(), v.as_str()?.to_string())))
        .collect()
}

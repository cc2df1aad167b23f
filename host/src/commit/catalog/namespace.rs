//! The catalog's namespaces: whether one exists, creating one (also when
//! another process races to), and its properties.

use std::collections::HashMap;

use tracing::{debug, info};

use super::{CatalogError, NamespaceIdent, SqlCatalog};

impl SqlCatalog {
    /// Whether the namespace exists: it has properties, or a table or a
    /// nested namespace lives in it.
    pub async fn namespace_exists(&self, namespace: &NamespaceIdent) -> Result<bool, CatalogError> {
        let ns = namespace.join(".");
        let like = format!(
            "{}.%",
            ns.replace('!', "!!").replace('_', "!_").replace('%', "!%")
        );
        let context = format!("looking up namespace {ns}");
        for sql in [
            "SELECT table_name FROM iceberg_tables WHERE catalog_name = ? AND (table_namespace = ? OR table_namespace LIKE ? ESCAPE '!') LIMIT 1",
            "SELECT property_key FROM iceberg_namespace_properties WHERE catalog_name = ? AND (namespace = ? OR namespace LIKE ? ESCAPE '!') LIMIT 1",
        ] {
            let rows = self
                .db
                .fetch(&context, sql, &[&self.name, &ns, &like], 1)
                .await?;
            if !rows.is_empty() {
                return Ok(true);
            }
        }
        Ok(false)
    }

    /// Creates a namespace with the given properties (`exists = true` when
    /// none, as PyIceberg does).
    pub async fn create_namespace(
        &self,
        namespace: &NamespaceIdent,
        properties: &HashMap<String, String>,
    ) -> Result<(), CatalogError> {
        let ns = namespace.join(".");
        if self.namespace_exists(namespace).await? {
            return Err(CatalogError::NamespaceAlreadyExists {
                catalog: self.name.clone(),
                namespace: ns,
            });
        }
        let minimal = HashMap::from([("exists".to_string(), "true".to_string())]);
        let properties = if properties.is_empty() {
            &minimal
        } else {
            properties
        };
        for (key, value) in properties {
            self.db
                .execute(
                    &format!("creating namespace {ns}"),
                    "INSERT INTO iceberg_namespace_properties (catalog_name, namespace, property_key, property_value) VALUES (?, ?, ?, ?)",
                    &[&self.name, &ns, key, value],
                )
                .await?;
        }
        info!(catalog = %self.name, namespace = %ns, "namespace created");
        Ok(())
    }

    /// Creates the namespace unless it exists (also when another process
    /// creates it at the same time).
    pub async fn ensure_namespace(&self, namespace: &NamespaceIdent) -> Result<(), CatalogError> {
        match self.create_namespace(namespace, &HashMap::new()).await {
            Ok(()) | Err(CatalogError::NamespaceAlreadyExists { .. }) => Ok(()),
            Err(err) if self.namespace_exists(namespace).await.unwrap_or(false) => {
                debug!(%err, "namespace created concurrently");
                Ok(())
            }
            Err(err) => Err(err),
        }
    }

    /// The namespace's properties (empty for a namespace that only has tables).
    pub async fn namespace_properties(
        &self,
        namespace: &NamespaceIdent,
    ) -> Result<HashMap<String, String>, CatalogError> {
        let ns = namespace.join(".");
        let rows = self
            .db
            .fetch(
                &format!("reading namespace {ns}"),
                "SELECT property_key, property_value FROM iceberg_namespace_properties WHERE catalog_name = ? AND namespace = ?",
                &[&self.name, &ns],
                2,
            )
            .await?;
        Ok(rows
            .into_iter()
            .filter_map(|mut row| {
                let value = row.pop()??;
                let key = row.pop()??;
                Some((key, value))
            })
            .collect())
    }
}

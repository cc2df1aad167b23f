use std::collections::HashMap;

use iceberg::spec::{
    NestedField, PrimitiveType, Schema, TableMetadataBuilder, Type, UnboundPartitionSpec,
};

use super::*;

fn schema() -> Schema {
    Schema::builder()
        .with_fields(vec![
            NestedField::required(1, "id", Type::Primitive(PrimitiveType::Long)).into(),
            NestedField::optional(2, "name", Type::Primitive(PrimitiveType::String)).into(),
        ])
        .with_identifier_field_ids([1])
        .build()
        .unwrap()
}

async fn catalog(dir: &std::path::Path) -> SqlCatalog {
    SqlCatalog::connect(&CatalogConfig {
        name: "floe".into(),
        uri: format!("sqlite://{}/catalog.db", dir.display()),
        warehouse: format!("{}/warehouse", dir.display()),
    })
    .await
    .unwrap()
}

#[tokio::test]
async fn namespaces_tables_and_compare_and_swap() {
    let dir = tempfile::tempdir().unwrap();
    let catalog = catalog(dir.path()).await;
    let ns = NamespaceIdent::new("db".into());
    assert!(!catalog.namespace_exists(&ns).await.unwrap());
    catalog.ensure_namespace(&ns).await.unwrap();
    catalog.ensure_namespace(&ns).await.unwrap();
    assert!(catalog.namespace_exists(&ns).await.unwrap());
    assert_eq!(
        catalog.namespace_properties(&ns).await.unwrap(),
        HashMap::from([("exists".to_string(), "true".to_string())])
    );
    assert!(matches!(
        catalog.create_namespace(&ns, &HashMap::new()).await,
        Err(CatalogError::NamespaceAlreadyExists { .. })
    ));

    let ident = parse_table_ident("db.items").unwrap();
    let missing = catalog.load_table(&ident).await.unwrap_err();
    assert!(
        matches!(missing, CatalogError::NoSuchTable { .. }),
        "{missing}"
    );
    let created = catalog
        .create_table(
            &ident,
            schema(),
            UnboundPartitionSpec::builder().build(),
            HashMap::new(),
        )
        .await
        .unwrap();
    let location = &created.metadata_location;
    let prefix = format!(
        "{}/warehouse/db/items/metadata/00000-",
        dir.path().display()
    );
    assert!(location.starts_with(&prefix), "{location}");
    assert!(location.ends_with(".metadata.json"), "{location}");
    assert!(matches!(
        catalog
            .create_table(
                &ident,
                schema(),
                UnboundPartitionSpec::builder().build(),
                HashMap::new()
            )
            .await,
        Err(CatalogError::TableAlreadyExists { .. })
    ));
    assert_eq!(catalog.list_tables(&ns).await.unwrap(), vec![ident.clone()]);

    let loaded = catalog.load_table(&ident).await.unwrap();
    assert_eq!(loaded.metadata_location, created.metadata_location);
    assert_eq!(
        loaded
            .metadata
            .current_schema()
            .identifier_field_ids()
            .collect::<Vec<_>>(),
        vec![1]
    );

    let with_property = |base: &LoadedTable, value: &str| {
        TableMetadataBuilder::new_from_metadata(
            (*base.metadata).clone(),
            Some(base.metadata_location.clone()),
        )
        .set_properties(HashMap::from([("k".to_string(), value.to_string())]))
        .unwrap()
        .build()
        .unwrap()
        .metadata
    };
    let first = catalog
        .commit_table(&loaded, with_property(&loaded, "1"))
        .await
        .unwrap();
    assert!(
        first.metadata_location.contains("/metadata/00001-"),
        "{}",
        first.metadata_location
    );
    // A second commit from the same (now stale) base loses the swap.
    let stale = catalog
        .commit_table(&loaded, with_property(&loaded, "2"))
        .await
        .unwrap_err();
    assert!(stale.is_commit_conflict(), "{stale}");
    let now = catalog.load_table(&ident).await.unwrap();
    assert_eq!(now.metadata_location, first.metadata_location);
    assert_eq!(
        now.metadata.properties().get("k").map(String::as_str),
        Some("1")
    );

    catalog.drop_table(&ident).await.unwrap();
    assert!(!catalog.table_exists(&ident).await.unwrap());
}

#[test]
fn identifiers_and_redaction() {
    let ident = parse_table_ident("a.b.c").unwrap();
    assert_eq!(ident.namespace().join("."), "a.b");
    assert_eq!(ident.name(), "c");
    assert!(parse_table_ident("nodot").is_none());
    assert_eq!(
        redact("postgres://floe:secret@127.0.0.1:5432/cat"),
        "postgres://floe:***@127.0.0.1:5432/cat"
    );
    assert_eq!(redact("sqlite:///x.db"), "sqlite:///x.db");
}

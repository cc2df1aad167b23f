//! Where table files live: the iceberg crate's FileIO on the local disk, or
//! on S3 and S3-compatible stores through `iceberg-storage-opendal`,
//! configured by the catalog's properties (`s3.endpoint`, `s3.region`,
//! `s3.access-key-id`, `s3.secret-access-key`, `s3.session-token`,
//! `s3.path-style-access`, … as PyIceberg and the Java library name them).

use std::collections::HashMap;
use std::sync::Arc;

use iceberg::io::{FileIO, FileIOBuilder};
use iceberg_storage_opendal::OpenDalResolvingStorageFactory;
use tracing::debug;

use super::CatalogError;

/// Whether `location` is on object storage (any `scheme://` but `file://`).
pub fn is_object_store(location: &str) -> bool {
    location.contains("://") && !location.starts_with("file:")
}

/// The FileIO for tables under `warehouse`: the local file system for a
/// path or `file://` URI, else OpenDAL's storage for the location's scheme
/// (`s3://`, `s3a://`, `s3n://`) with `properties`.
pub fn file_io(warehouse: &str, properties: &HashMap<String, String>) -> FileIO {
    if is_object_store(warehouse) {
        object_store_file_io(properties)
    } else {
        FileIO::new_with_fs()
    }
}

/// OpenDAL's storage, resolving each path's scheme (`s3://…`, `file://…`):
/// for a catalog that names its tables' locations itself (REST).
pub fn object_store_file_io(properties: &HashMap<String, String>) -> FileIO {
    FileIOBuilder::new(Arc::new(OpenDalResolvingStorageFactory::new()))
        .with_props(properties.iter())
        .build()
}

/// S3 error codes that say the endpoint, keys or region are wrong, or the
/// bucket is missing, whatever object is asked for.
const MISCONFIGURED: [&str; 7] = [
    "SignatureDoesNotMatch",
    "InvalidAccessKeyId",
    "AuthorizationHeaderMalformed",
    "InvalidToken",
    "ExpiredToken",
    "NoSuchBucket",
    "PermanentRedirect",
];

/// Checks that the storage under `warehouse` answers with the configured
/// endpoint, region and credentials, so that a wrong one stops floe at
/// start-up, before it reads or writes anything: a GET of an object that
/// need not exist. "Not found" and "access denied" to that object are
/// answers of a store that took the request (an Iceberg table bucket may
/// refuse any path but its tables'); a wrong key, region or bucket, and a
/// store that does not answer, are errors. A local warehouse is not checked
/// (it is created on use).
pub async fn check(catalog: &str, file_io: &FileIO, warehouse: &str) -> Result<(), CatalogError> {
    if !is_object_store(warehouse) {
        return Ok(());
    }
    let probe = format!("{}/.floe-storage-check", warehouse.trim_end_matches('/'));
    let read = match file_io.new_input(&probe) {
        Ok(input) => input.read().await.map(|_| ()),
        Err(err) => Err(err),
    };
    let Err(source) = read else {
        return Ok(());
    };
    let text = format!("{source:?}");
    let answered = text.contains("NotFound") || text.contains("PermissionDenied");
    if answered && !MISCONFIGURED.iter().any(|code| text.contains(code)) {
        debug!(catalog, warehouse, "storage answers");
        return Ok(());
    }
    Err(CatalogError::Storage {
        catalog: catalog.to_string(),
        warehouse: warehouse.to_string(),
        source: Box::new(source),
    })
}

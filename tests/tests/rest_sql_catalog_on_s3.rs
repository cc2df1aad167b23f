//! The SQL catalog (SQLite) with its warehouse on S3 (SeaweedFS's plain
//! bucket): `floe run` writes the table's files to `s3://warehouse/…`
//! through `[catalog.properties]`, and PyIceberg's SqlCatalog with the same
//! `s3.*` properties reads the oracle.

mod iceberg_common;
mod pipeline_common;

use floe_tests::cdc::{Mix, generate};
use floe_tests::config::PipelineToml;
use floe_tests::reader::python;
use floe_tests::seaweed::{ACCESS_KEY, SECRET_KEY, Seaweed};
use pipeline_common::{sorted, write_events};
use serde_json::Value as Json;

const TOPIC: &str = "dbserver1.shop.accounts";
const TABLE: &str = "shop.accounts";

#[test]
fn a_sql_catalog_writes_its_tables_to_an_s3_warehouse() {
    let Some(server) = Seaweed::start() else {
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    let stream = generate(0x51, 600, Mix::file());
    write_events(dir.path(), &stream.lines());
    let db = dir.path().join("catalog.db");
    let properties = format!(
        "[catalog.properties]\n\"s3.endpoint\" = \"{}\"\n\"s3.region\" = \"us-east-1\"\n\
         \"s3.access-key-id\" = \"{ACCESS_KEY}\"\n\"s3.secret-access-key\" = \"${{FLOE_TEST_S3_SECRET}}\"\n\
         \"s3.path-style-access\" = \"true\"\n",
        server.s3_endpoint()
    );
    let catalog = format!(
        "[catalog]\nkind = \"sql\"\nuri = \"sqlite://{}\"\nwarehouse = \"s3://warehouse/wh\"\n{properties}",
        db.display()
    );
    let config = PipelineToml::file("test-cdc", TOPIC, TABLE, 100)
        .catalog_toml(&catalog)
        .table_keys("partition_by = [\"region\"]\ncreate = true")
        .write(dir.path());
    let output = pipeline_common::floe_run(&config)
        .env("FLOE_TEST_S3_SECRET", SECRET_KEY)
        .output()
        .unwrap();
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );

    let code = format!(
        r#"import json
from pyiceberg.catalog.sql import SqlCatalog
c = SqlCatalog("floe", uri="sqlite:///{}", warehouse="s3://warehouse/wh", **{{"s3.endpoint": {:?}, "s3.access-key-id": "{ACCESS_KEY}", "s3.secret-access-key": "{SECRET_KEY}", "s3.region": "us-east-1", "s3.path-style-access": "true"}})
t = c.load_table({TABLE:?})
print(json.dumps({{"location": t.metadata_location, "rows": t.scan().to_arrow().to_pylist()}}, default=str))"#,
        db.display(),
        server.s3_endpoint()
    );
    let out = std::process::Command::new(python())
        .args(["-c", &code])
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let read: Json = serde_json::from_slice(&out.stdout).unwrap();
    assert!(
        read["location"]
            .as_str()
            .unwrap()
            .starts_with("s3://warehouse/wh/shop/accounts/metadata/"),
        "the metadata is on S3: {}",
        read["location"]
    );
    let expected: Vec<Json> = stream.oracle_after(600).values().cloned().collect();
    assert_eq!(
        sorted(&read["rows"]),
        expected,
        "PyIceberg reads the oracle from S3"
    );
}

//! Table maintenance on a REST catalog and S3 (SeaweedFS): hundreds of
//! commits with small limits expire snapshots through the REST commit's
//! `remove-snapshots`, merge manifests, and delete on S3 the manifest
//! lists, manifests, data and delete files no retained snapshot reaches;
//! PyIceberg and DuckDB read the oracle.

mod iceberg_common;
mod pipeline_common;

use std::collections::{BTreeMap, BTreeSet};

use floe_tests::cdc::{Mix, generate};
use floe_tests::config::PipelineToml;
use floe_tests::seaweed::Seaweed;
use pipeline_common::{assert_reads, run_to_end, write_events};
use serde_json::Value as Json;

const TOPIC: &str = "dbserver1.shop.items";
const TABLE: &str = "shop.items";

/// Every object under the table's data/ and metadata/ folders on S3 but
/// metadata JSON files (the server writes and keeps those), and every file
/// the retained snapshots reach, read with PyIceberg and pyarrow's S3.
fn objects_and_reachable(server: &Seaweed) -> (BTreeSet<String>, BTreeSet<String>) {
    let code = format!(
        r#"import json
from pyarrow import fs
t = catalog.load_table({TABLE:?})
out = set()
for s in t.metadata.snapshots:
    out.add(s.manifest_list)
    for m in s.manifests(t.io):
        out.add(m.manifest_path)
        for e in m.fetch_manifest_entry(t.io, discard_deleted=False):
            out.add(e.data_file.file_path)
s3 = fs.S3FileSystem(access_key='floetest', secret_key='floetestsecret', endpoint_override={:?}, scheme='http', region='us-east-1', force_virtual_addressing=False)
base = t.location().removeprefix('s3://')
objects = [f.path for f in s3.get_file_info(fs.FileSelector(base, recursive=True)) if f.type == fs.FileType.File]
objects = ['s3://' + p for p in objects if not p.endswith('.metadata.json')]
print(json.dumps([sorted(objects), sorted(out)]))"#,
        server.s3_endpoint().trim_start_matches("http://")
    );
    let (objects, reachable): (BTreeSet<String>, BTreeSet<String>) =
        serde_json::from_str(server.python(&code).trim()).unwrap();
    (objects, reachable)
}

#[test]
fn expiry_and_manifest_merging_work_through_rest_and_delete_on_s3() {
    let Some(server) = Seaweed::start() else {
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    let stream = generate(0xace, 1200, Mix::file());
    write_events(dir.path(), &stream.lines());
    let config = PipelineToml::file("test-cdc", TOPIC, TABLE, 25)
        .catalog_toml(&server.catalog_toml(&server.catalog_uri()))
        .table_keys(
            r#"create = true
properties = { "floe.expire.max-snapshots" = "6", "floe.expire.interval-ms" = "0", "commit.manifest.min-count-to-merge" = "4" }"#,
        )
        .write(dir.path());
    run_to_end(&config);

    let expected: Vec<Json> = stream.oracle_after(1200).values().cloned().collect();
    let read = assert_reads(&server, TABLE, TOPIC, &expected, 1200, "maintained on S3");
    assert_eq!(read["snapshots"], 6, "expiry kept the newest 6 snapshots");
    let history: BTreeMap<String, usize> = serde_json::from_str(
        server
            .python(&format!(
                "import json\nt = catalog.load_table({TABLE:?})\nprint(json.dumps({{'replaced': sum(int(s.summary.additional_properties.get('manifests-replaced', '0')) for s in t.metadata.snapshots), 'manifests': len(t.current_snapshot().manifests(t.io))}}))"
            ))
            .trim(),
    )
    .unwrap();
    assert!(
        history["manifests"] <= 8,
        "merging bounds the manifests: {history:?}"
    );
    let (objects, reachable) = objects_and_reachable(&server);
    let orphans: Vec<_> = objects.difference(&reachable).collect();
    let missing: Vec<_> = reachable.difference(&objects).collect();
    assert!(
        orphans.is_empty(),
        "expired files were deleted on S3; left: {orphans:?}"
    );
    assert!(
        missing.is_empty(),
        "no reachable file was deleted: {missing:?}"
    );
}

"""Reads an Iceberg table of a REST catalog on S3 the way a user would, for
floe's REST tests.

    read_rest_table.py <catalog uri> <s3 endpoint> <access key> <secret key> <namespace.table>

Prints the JSON of read_table.py: PyIceberg's RestCatalog (OAuth2 client
credentials = the S3 keys, s3.* properties) and DuckDB's iceberg_scan() of
the current metadata file on S3 (httpfs with an S3 secret; extensions from
the duckdb-extension-* packages, nothing downloaded).
"""

import json
import os
import sys
from urllib.parse import urlparse

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from read_table import position_delete_details, rows_of, norm  # noqa: E402


def main():
    uri, endpoint, key, secret, ident = sys.argv[1:6]
    from pyiceberg.catalog.rest import RestCatalog

    catalog = RestCatalog(
        "rest",
        uri=uri,
        warehouse="s3://iceberg-tables",
        credential=f"{key}:{secret}",
        **{
            "s3.endpoint": endpoint,
            "s3.access-key-id": key,
            "s3.secret-access-key": secret,
            "s3.region": "us-east-1",
            "s3.path-style-access": "true",
        },
    )
    table = catalog.load_table(ident)
    out = {"pyiceberg": rows_of(table.scan().to_arrow().to_pylist())}
    snapshot = table.current_snapshot()
    files = []
    if snapshot is not None:
        for manifest in snapshot.manifests(table.io):
            for entry in manifest.fetch_manifest_entry(table.io, discard_deleted=True):
                df = entry.data_file
                described = {
                    "content": int(df.content),
                    "path": df.file_path,
                    "records": df.record_count,
                    "spec_id": manifest.partition_spec_id,
                    "manifest_content": int(manifest.content),
                    "partition": [norm(v) for v in df.partition.record_fields()]
                    if hasattr(df.partition, "record_fields")
                    else [norm(v) for v in df.partition],
                }
                if int(df.content) == 1:
                    described.update(position_delete_details(table.io, df))
                files.append(described)
        out["summary"] = dict(snapshot.summary.additional_properties)
        out["summary"]["operation"] = snapshot.summary.operation.value
    out["files"] = files
    out["snapshots"] = len(table.metadata.snapshots)
    out["metadata_location"] = table.metadata_location

    import duckdb

    con = duckdb.connect()
    con.execute("SET autoinstall_known_extensions = false")
    con.execute("SET autoload_known_extensions = false")
    for ext in ("avro", "httpfs", "iceberg"):
        module = __import__(f"duckdb_extension_{ext}")
        path = os.path.join(
            os.path.dirname(module.__file__), "extensions", "v" + duckdb.__version__, ext + ".duckdb_extension"
        )
        con.execute(f"LOAD '{path}'")
    parsed = urlparse(endpoint)
    con.execute(
        "CREATE SECRET s3 (TYPE S3, KEY_ID ?, SECRET ?, ENDPOINT ?, REGION 'us-east-1', URL_STYLE 'path', USE_SSL false)",
        [key, secret, parsed.netloc],
    )
    if snapshot is None:
        out["duckdb"] = []
    else:
        result = con.execute("SELECT * FROM iceberg_scan(?)", [table.metadata_location]).fetch_arrow_table()
        out["duckdb"] = rows_of(result.to_pylist())
    print(json.dumps(out, default=str))


if __name__ == "__main__":
    main()

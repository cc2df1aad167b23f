"""Reads an Iceberg table the way a user would, for floe's tests.

    read_table.py <catalog uri> <catalog name> <warehouse> <namespace.table>

Prints one JSON object:

- "pyiceberg": the rows PyIceberg's SqlCatalog + table.scan() returns;
- "duckdb": the rows DuckDB's iceberg extension returns for iceberg_scan() of
  the current metadata file (extensions loaded from the duckdb-extension-*
  packages, nothing downloaded);
- "files": every live file of the current snapshot (content, path, records,
  spec id, partition), read from the manifests by PyIceberg; a position
  delete file (content 1) also has "file_path_bounds" (the lower and upper
  bounds of its `file_path` column, field 2147483546, as text; null when
  absent), "referenced_data_file" (null when PyIceberg does not read it) and
  "targets" (the distinct `file_path` values of its rows, read with pyarrow);
- "summary": the current snapshot's summary; "snapshots": how many.

Values are normalized for comparison: timestamps and times as microseconds,
dates as days since 1970-01-01, decimals as strings, uuids as strings,
binary as hex.
"""

import datetime
import decimal
import json
import os
import sys
import uuid

EPOCH = datetime.datetime(1970, 1, 1)
EPOCH_TZ = datetime.datetime(1970, 1, 1, tzinfo=datetime.timezone.utc)


def norm(value):
    if isinstance(value, datetime.datetime):
        if value.tzinfo is not None:
            delta = value - EPOCH_TZ
        else:
            delta = value - EPOCH
        return (delta.days * 86400 + delta.seconds) * 1_000_000 + delta.microseconds
    if isinstance(value, datetime.date):
        return (value - EPOCH.date()).days
    if isinstance(value, datetime.time):
        return ((value.hour * 60 + value.minute) * 60 + value.second) * 1_000_000 + value.microsecond
    if isinstance(value, decimal.Decimal):
        return str(value)
    if isinstance(value, uuid.UUID):
        return str(value)
    if isinstance(value, (bytes, bytearray)):
        return bytes(value).hex()
    return value


def rows_of(records):
    return [{k: norm(v) for k, v in r.items()} for r in records]


FILE_PATH_ID = 2147483546


def position_delete_details(io, df):
    """What names a position delete file's data files: its `file_path`
    bounds, its referenced_data_file and the paths its rows hold."""
    import pyarrow.parquet as pq

    def bound(bounds):
        value = (bounds or {}).get(FILE_PATH_ID)
        return None if value is None else bytes(value).decode("utf-8")

    with io.new_input(df.file_path).open() as f:
        paths = pq.read_table(f, columns=["file_path"]).column("file_path").to_pylist()
    return {
        "file_path_bounds": [bound(df.lower_bounds), bound(df.upper_bounds)],
        "referenced_data_file": getattr(df, "referenced_data_file", None),
        "targets": sorted(set(paths)),
    }


def main():
    uri, name, warehouse, ident = sys.argv[1:5]
    from pyiceberg.catalog.sql import SqlCatalog

    catalog = SqlCatalog(name, uri=uri, warehouse=warehouse)
    table = catalog.load_table(ident)
    out = {}
    out["pyiceberg"] = rows_of(table.scan().to_arrow().to_pylist())

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
                    "has_bounds": bool(df.lower_bounds) and bool(df.upper_bounds),
                    "has_null_counts": bool(df.null_value_counts),
                }
                if int(df.content) == 1:
                    described.update(position_delete_details(table.io, df))
                files.append(described)
        out["summary"] = dict(snapshot.summary.additional_properties)
        out["summary"]["operation"] = snapshot.summary.operation.value
    out["files"] = files
    out["snapshots"] = len(table.metadata.snapshots)

    import duckdb

    con = duckdb.connect()
    con.execute("SET autoinstall_known_extensions = false")
    con.execute("SET autoload_known_extensions = false")
    for ext in ("avro", "iceberg"):
        module = __import__(f"duckdb_extension_{ext}")
        path = os.path.join(
            os.path.dirname(module.__file__), "extensions", "v" + duckdb.__version__, ext + ".duckdb_extension"
        )
        con.execute(f"LOAD '{path}'")
    if snapshot is None:
        out["duckdb"] = []
    else:
        # Through Arrow, as for PyIceberg (DuckDB's own Python conversion of
        # timestamptz needs pytz).
        result = con.execute("SELECT * FROM iceberg_scan(?)", [table.metadata_location]).fetch_arrow_table()
        out["duckdb"] = rows_of(result.to_pylist())
    print(json.dumps(out, default=str))


if __name__ == "__main__":
    main()

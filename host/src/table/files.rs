//! Writing data files and position delete files: Parquet with zstd, with
//! the column statistics (sizes, value and null counts, lower and upper
//! bounds) the iceberg crate's Parquet writer collects.

use std::sync::{Arc, LazyLock};

use arrow_array::{ArrayRef, Int64Array, RecordBatch, StringArray};
use arrow_schema::SchemaRef as ArrowSchemaRef;
use iceberg::arrow::schema_to_arrow_schema;
use iceberg::io::FileIO;
use iceberg::spec::{
    DataContentType, DataFile, NestedField, PartitionSpec, PrimitiveType, Schema, SchemaRef,
    Struct, Type,
};
use iceberg::writer::file_writer::{FileWriter, FileWriterBuilder, ParquetWriterBuilder};
use parquet::basic::{Compression, ZstdLevel};
use parquet::file::properties::{WriterProperties, WriterPropertiesBuilder};

use super::index::IndexedFile;

/// Field id of `file_path` in position delete files (reserved by the spec).
pub const DELETE_FILE_PATH_ID: i32 = 2147483546;
/// Field id of `pos` in position delete files (reserved by the spec).
pub const DELETE_POS_ID: i32 = 2147483545;

/// The schema of position delete files.
pub static POSITION_DELETE_SCHEMA: LazyLock<SchemaRef> = LazyLock::new(|| {
    Arc::new(
        Schema::builder()
            .with_fields(vec![
                Arc::new(NestedField::required(
                    DELETE_FILE_PATH_ID,
                    "file_path",
                    Type::Primitive(PrimitiveType::String),
                )),
                Arc::new(NestedField::required(
                    DELETE_POS_ID,
                    "pos",
                    Type::Primitive(PrimitiveType::Long),
                )),
            ])
            .build()
            .expect("the position delete schema is valid"),
    )
});

/// Files of fewer rows are written without dictionary encoding: a
/// dictionary saves little on them, and each column's dictionary encoder
/// costs a fixed 4,096-slot table to set up (1.2 s of a 2,000-column
/// file of 11 rows, page zeroing).
const DICTIONARY_MIN_ROWS: usize = 1_000;

/// How a file of `rows` rows is written: zstd, dictionaries when it has
/// [`DICTIONARY_MIN_ROWS`], floe as its creator.
fn writer_properties(rows: usize) -> WriterPropertiesBuilder {
    WriterProperties::builder()
        .set_compression(Compression::ZSTD(ZstdLevel::default()))
        .set_dictionary_enabled(rows >= DICTIONARY_MIN_ROWS)
        .set_created_by("floe".to_string())
}

/// Writes one batch as a Parquet file at `path` and describes it.
async fn write_parquet(
    file_io: &FileIO,
    path: &str,
    properties: WriterProperties,
    schema: SchemaRef,
    batch: &RecordBatch,
) -> Result<iceberg::spec::DataFileBuilder, iceberg::Error> {
    let output = file_io.new_output(path)?;
    let mut writer = ParquetWriterBuilder::new(properties, schema)
        .build(output)
        .await?;
    writer.write(batch).await?;
    let mut builders = writer.close().await?;
    builders.pop().ok_or_else(|| {
        iceberg::Error::new(
            iceberg::ErrorKind::Unexpected,
            format!("no data file written at {path}"),
        )
    })
}

fn built(
    builder: &mut iceberg::spec::DataFileBuilder,
    path: &str,
) -> Result<DataFile, iceberg::Error> {
    builder.build().map_err(|e| {
        iceberg::Error::new(
            iceberg::ErrorKind::Unexpected,
            format!("describing {path}: {e}"),
        )
    })
}

/// Writes a data file of `batch` (in the table schema `schema`) in partition
/// `partition` of spec `spec_id`.
pub async fn write_data_file(
    file_io: &FileIO,
    path: &str,
    schema: SchemaRef,
    batch: &RecordBatch,
    spec_id: i32,
    partition: Struct,
) -> Result<DataFile, iceberg::Error> {
    let mut builder = write_parquet(
        file_io,
        path,
        writer_properties(batch.num_rows()).build(),
        schema,
        batch,
    )
    .await?;
    builder
        .content(DataContentType::Data)
        .partition(partition)
        .partition_spec_id(spec_id);
    built(&mut builder, path)
}

/// Writes a position delete file of the rows at `positions` (sorted here, as
/// the spec asks) of one data file, `data_file`, in that file's partition: a
/// delete file per data file (the Java library's `write.delete.granularity =
/// file`). Its `file_path` lower and upper bounds are both the data file's
/// path and `referenced_data_file` names it, so that readers attach it to
/// that data file only.
pub async fn write_position_delete_file(
    file_io: &FileIO,
    path: &str,
    data_file: &IndexedFile,
    positions: &mut [u32],
) -> Result<DataFile, iceberg::Error> {
    positions.sort_unstable();
    let target: &str = &data_file.path;
    let paths = StringArray::from_iter_values(positions.iter().map(|_| target));
    let positions = Int64Array::from_iter_values(positions.iter().map(|pos| i64::from(*pos)));
    let arrow: ArrowSchemaRef = Arc::new(schema_to_arrow_schema(&POSITION_DELETE_SCHEMA)?);
    let columns: Vec<ArrayRef> = vec![Arc::new(paths), Arc::new(positions)];
    let batch = RecordBatch::try_new(arrow, columns).map_err(|e| {
        iceberg::Error::new(iceberg::ErrorKind::Unexpected, "building deletes").with_source(e)
    })?;
    let mut builder = write_parquet(
        file_io,
        path,
        // Whole statistics: the `file_path` bounds are how a reader matches
        // the file to its data file, and Parquet's default truncation (64
        // bytes) makes a longer path's bounds inexact, so they are dropped.
        writer_properties(batch.num_rows())
            .set_statistics_truncate_length(None)
            .build(),
        POSITION_DELETE_SCHEMA.clone(),
        &batch,
    )
    .await?;
    builder
        .content(DataContentType::PositionDeletes)
        .partition(data_file.partition.clone())
        .partition_spec_id(data_file.spec_id)
        .referenced_data_file(Some(target.to_string()));
    built(&mut builder, path)
}

/// The directory of a partition under `<table>/data`: `field=value/…`, with
/// characters outside `[A-Za-z0-9._-]` percent-encoded in values.
pub fn partition_dir(spec: &PartitionSpec, schema: &SchemaRef, partition: &Struct) -> String {
    if spec.is_unpartitioned() {
        return String::new();
    }
    spec.partition_to_path(partition, schema.clone())
        .split('/')
        .map(|segment| match segment.split_once('=') {
            Some((name, value)) => format!("{}={}/", escape(name), escape(value)),
            None => format!("{}/", escape(segment)),
        })
        .collect()
}

fn escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for byte in text.bytes() {
        if byte.is_ascii_alphanumeric() || matches!(byte, b'.' | b'_' | b'-') {
            out.push(byte as char);
        } else {
            out.push_str(&format!("%{byte:02X}"));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escapes_partition_values() {
        assert_eq!(escape("a b/c"), "a%20b%2Fc");
        assert_eq!(escape("2024-01-01"), "2024-01-01");
    }

    #[tokio::test]
    async fn a_delete_file_names_its_one_data_file_in_its_bounds() {
        let dir = tempfile::tempdir().unwrap();
        let root = dir.path().display();
        // Longer than Parquet's default statistics truncation (64 bytes).
        let data_path = format!(
            "{root}/warehouse/shop/accounts/data/region=eu/0b8f3e2a-61a4-4a5e-9a55-2d1f2c7f0c11-00003.parquet"
        );
        let data_file = IndexedFile {
            path: Arc::from(data_path.as_str()),
            spec_id: 0,
            partition: Struct::from_iter([Some(iceberg::spec::Literal::string("eu"))]),
        };
        let path = format!("{root}/deletes.parquet");
        let mut positions = vec![7, 2, 40];
        let file =
            write_position_delete_file(&FileIO::new_with_fs(), &path, &data_file, &mut positions)
                .await
                .unwrap();
        let path_bound = Some(&iceberg::spec::Datum::string(&data_path));
        assert_eq!(file.lower_bounds().get(&DELETE_FILE_PATH_ID), path_bound);
        assert_eq!(file.upper_bounds().get(&DELETE_FILE_PATH_ID), path_bound);
        assert_eq!(
            file.lower_bounds().get(&DELETE_POS_ID),
            Some(&iceberg::spec::Datum::long(2))
        );
        assert_eq!(
            file.upper_bounds().get(&DELETE_POS_ID),
            Some(&iceberg::spec::Datum::long(40))
        );
        assert_eq!(file.referenced_data_file(), Some(data_path));
        assert_eq!(file.record_count(), 3);
        assert_eq!(file.partition(), &data_file.partition);
        assert_eq!(file.content_type(), DataContentType::PositionDeletes);
    }
}

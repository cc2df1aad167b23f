//! A table's health as an operator inspects it (`floe table status`): its
//! snapshots, files, manifests and metadata, and where floe stands in it.
//!
//! Everything is read from the table's current metadata, its current
//! snapshot's manifest list and manifests: nothing is written.

use futures::StreamExt;
use iceberg::io::FileIO;
use iceberg::spec::{DataContentType, ManifestStatus};
use serde::Serialize;

use crate::commit::LoadedTable;
use crate::commit::manifest_list::read_manifest_list;
use crate::commit::offsets::{
    SUMMARY_OFFSETS, SUMMARY_PIPELINE, SUMMARY_PLUGINS, latest_floe_snapshot,
};

/// The Iceberg property naming the size data files should be written at.
pub const TARGET_FILE_SIZE: &str = "write.target-file-size-bytes";
/// Its default in the Java library (512 MiB).
pub const DEFAULT_TARGET_FILE_SIZE: u64 = 512 * 1024 * 1024;

/// What `floe table status` shows of one table.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct TableStatus {
    /// `namespace.name`.
    pub table: String,
    /// The current metadata file.
    pub metadata_location: String,
    /// Its size in bytes.
    pub metadata_bytes: u64,
    /// Earlier metadata files the metadata log names.
    pub previous_metadata_files: usize,
    /// Snapshots the table keeps.
    pub snapshots: usize,
    /// The current snapshot, if any.
    pub current_snapshot: Option<i64>,
    /// The schema's columns.
    pub columns: usize,
    /// Manifests of the current snapshot (data and delete).
    pub manifests: usize,
    /// Live data files.
    pub data_files: usize,
    /// Rows in the live data files, before deletes.
    pub data_records: u64,
    /// Bytes of the live data files.
    pub data_bytes: u64,
    /// Data files under 75 % of the target file size, as the Java library's
    /// file rewrite counts them.
    pub small_data_files: usize,
    /// Live position delete files.
    pub position_delete_files: usize,
    /// Positions they delete.
    pub position_deletes: u64,
    /// Live equality delete files (floe writes none; other writers may).
    pub equality_delete_files: usize,
    /// Position deletes over data rows: the share of rows a reader reads
    /// only to drop.
    pub delete_ratio: f64,
    /// The pipeline of the latest floe snapshot, if floe wrote the table.
    pub pipeline: Option<String>,
    /// Its `floe.offsets`: next offset per topic and partition.
    pub offsets: Option<serde_json::Value>,
    /// Its `floe.plugins`: plugin name → sha256.
    pub plugins: Option<serde_json::Value>,
}

/// Why a table's status could not be read.
#[derive(Debug, thiserror::Error)]
#[error("reading {path}: {message}")]
pub struct StatusError {
    /// The file that could not be read.
    pub path: String,
    /// Why.
    pub message: String,
}

/// Reads the status of `table` (loaded as `name`), with the offsets and
/// plugins of `pipeline`'s latest snapshot.
pub async fn table_status(
    file_io: &FileIO,
    name: &str,
    table: &LoadedTable,
    pipeline: &str,
) -> Result<TableStatus, StatusError> {
    let metadata = &table.metadata;
    let fail = |path: &str, e: iceberg::Error| StatusError {
        path: path.to_string(),
        message: e.to_string(),
    };
    let location = table.metadata_location.as_str();
    let metadata_bytes = file_io
        .new_input(location)
        .map_err(|e| fail(location, e))?
        .metadata()
        .await
        .map_err(|e| fail(location, e))?
        .size;
    let mut status = TableStatus {
        table: name.to_string(),
        metadata_location: location.to_string(),
        metadata_bytes,
        previous_metadata_files: metadata.metadata_log().len(),
        snapshots: metadata.snapshots().count(),
        current_snapshot: metadata.current_snapshot_id(),
        columns: metadata.current_schema().as_struct().fields().len(),
        ..TableStatus::default()
    };
    let target = metadata
        .properties()
        .get(TARGET_FILE_SIZE)
        .and_then(|v| v.parse::<u64>().ok())
        .unwrap_or(DEFAULT_TARGET_FILE_SIZE);
    if let Some(snapshot) = metadata.current_snapshot() {
        let list = read_manifest_list(
            file_io,
            name,
            snapshot.manifest_list(),
            metadata.format_version(),
        )
        .await
        .map_err(|e| StatusError {
            path: snapshot.manifest_list().to_string(),
            message: e.to_string(),
        })?;
        status.manifests = list.len();
        let manifests: Vec<_> = futures::stream::iter(list)
            .map(|m| async move { (m.load_manifest(file_io).await, m) })
            .buffered(8)
            .collect()
            .await;
        for (manifest, file) in manifests {
            let manifest = manifest.map_err(|e| fail(&file.manifest_path, e))?;
            for entry in manifest.entries() {
                if entry.status() == ManifestStatus::Deleted {
                    continue;
                }
                let df = entry.data_file();
                match df.content_type() {
                    DataContentType::Data => {
                        status.data_files += 1;
                        status.data_records += df.record_count();
                        status.data_bytes += df.file_size_in_bytes();
                        if df.file_size_in_bytes() < target / 4 * 3 {
                            status.small_data_files += 1;
                        }
                    }
                    DataContentType::PositionDeletes => {
                        status.position_delete_files += 1;
                        status.position_deletes += df.record_count();
                    }
                    DataContentType::EqualityDeletes => status.equality_delete_files += 1,
                }
            }
        }
    }
    if status.data_records > 0 {
        status.delete_ratio = status.position_deletes as f64 / status.data_records as f64;
    }
    let floe = latest_floe_snapshot(metadata, pipeline);
    if let Some(snapshot) = floe {
        let props = &snapshot.summary().additional_properties;
        let json = |key: &str| props.get(key).and_then(|v| serde_json::from_str(v).ok());
        status.pipeline = props.get(SUMMARY_PIPELINE).cloned();
        status.offsets = json(SUMMARY_OFFSETS);
        status.plugins = json(SUMMARY_PLUGINS);
    }
    Ok(status)
}

impl TableStatus {
    /// The status as `key: value` lines, for a terminal.
    pub fn to_text(&self) -> String {
        let show = |v: &Option<serde_json::Value>| {
            v.as_ref().map_or("none".to_string(), |v| v.to_string())
        };
        let current = self
            .current_snapshot
            .map_or("none".to_string(), |s| s.to_string());
        [
            format!("table:          {}", self.table),
            format!(
                "metadata:       {} ({} bytes; {} earlier files in its log)",
                self.metadata_location, self.metadata_bytes, self.previous_metadata_files
            ),
            format!("snapshots:      {} (current {current})", self.snapshots),
            format!("columns:        {}", self.columns),
            format!("manifests:      {}", self.manifests),
            format!(
                "data files:     {} ({} rows, {} bytes; {} small)",
                self.data_files, self.data_records, self.data_bytes, self.small_data_files
            ),
            format!(
                "delete files:   {} position ({} positions), {} equality",
                self.position_delete_files, self.position_deletes, self.equality_delete_files
            ),
            format!("delete ratio:   {:.3}", self.delete_ratio),
            format!(
                "floe.pipeline:  {}",
                self.pipeline.as_deref().unwrap_or("none")
            ),
            format!("floe.offsets:   {}", show(&self.offsets)),
            format!("floe.plugins:   {}", show(&self.plugins)),
        ]
        .join("\n")
    }
}

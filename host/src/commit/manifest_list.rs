//! Reading a snapshot's manifest list: what a commit carries forward, what
//! expiry checks for reachability, what `floe table status` counts.

use iceberg::io::FileIO;
use iceberg::spec::{FormatVersion, ManifestFile, ManifestList};

use super::CommitError;

/// The manifests the manifest list at `path` of `table` names.
pub async fn read_manifest_list(
    file_io: &FileIO,
    table: &str,
    path: &str,
    version: FormatVersion,
) -> Result<Vec<ManifestFile>, CommitError> {
    let failed = |context: String| {
        let table = table.to_string();
        move |source| CommitError::Iceberg {
            table,
            context,
            source,
        }
    };
    let bytes = file_io
        .new_input(path)
        .map_err(failed(format!("opening {path}")))?
        .read()
        .await
        .map_err(failed(format!("reading {path}")))?;
    Ok(ManifestList::parse_with_version(&bytes, version)
        .map_err(failed(format!("parsing {path}")))?
        .consume_entries()
        .into_iter()
        .collect())
}

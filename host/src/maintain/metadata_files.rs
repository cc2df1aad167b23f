//! Deletes the metadata files that fell off the metadata log, as the Java
//! library does after a commit: the files in the previous metadata's
//! `metadata-log` that the new metadata's log no longer lists, when the new
//! metadata says `write.metadata.delete-after-commit.enabled = true`.
//!
//! The log keeps at most `write.metadata.previous-versions-max` entries: the
//! iceberg crate's `TableMetadataBuilder::build` appends the previous
//! metadata file and drops the oldest entries beyond that property (its
//! default, the Java library's, is 100). This runs only after the catalog's
//! compare-and-swap succeeded: a lost or failed commit deletes nothing, so
//! every file a reader of the current metadata may need is still there.
//! A crash between the swap and the deletion leaves those files behind,
//! unreferenced (orphans), never a broken table.

use std::collections::HashSet;

use iceberg::io::FileIO;
use iceberg::spec::TableMetadata;

use super::{DELETE_AFTER_COMMIT, delete_files};

/// The metadata files of `base`'s log that `committed` (the metadata that
/// replaced it) no longer lists, when `committed` enables deleting them;
/// never `committed_location` or `base_location`.
pub fn removed_metadata_files(
    base: &TableMetadata,
    base_location: &str,
    committed: &TableMetadata,
    committed_location: &str,
) -> Vec<String> {
    let enabled = committed
        .properties()
        .get(DELETE_AFTER_COMMIT)
        .is_some_and(|v| v.trim().eq_ignore_ascii_case("true"));
    if !enabled {
        return Vec::new();
    }
    let kept: HashSet<&str> = committed
        .metadata_log()
        .iter()
        .map(|entry| entry.metadata_file.as_str())
        .chain([committed_location, base_location])
        .collect();
    base.metadata_log()
        .iter()
        .map(|entry| entry.metadata_file.as_str())
        .filter(|file| !kept.contains(file))
        .map(str::to_string)
        .collect()
}

/// Deletes [`removed_metadata_files`] after a commit landed; returns how
/// many were deleted. A file that cannot be deleted is logged and left (an
/// orphan): the commit stands either way.
pub async fn delete_removed_metadata_files(
    file_io: &FileIO,
    table: &str,
    base: &TableMetadata,
    base_location: &str,
    committed: &TableMetadata,
    committed_location: &str,
) -> usize {
    let files = removed_metadata_files(base, base_location, committed, committed_location);
    if files.is_empty() {
        return 0;
    }
    delete_files(file_io, table, files).await
}

#[cfg(test)]
mod tests {
    use std::collections::HashMap;

    use iceberg::spec::{
        FormatVersion, NestedField, PrimitiveType, Schema, SortOrder, TableMetadataBuilder, Type,
        UnboundPartitionSpec,
    };

    use super::*;
    use crate::maintain::PREVIOUS_VERSIONS_MAX;

    fn table(properties: &[(&str, &str)]) -> TableMetadata {
        let schema = Schema::builder()
            .with_fields(vec![
                NestedField::required(1, "id", Type::Primitive(PrimitiveType::Long)).into(),
            ])
            .build()
            .unwrap();
        TableMetadataBuilder::new(
            schema,
            UnboundPartitionSpec::builder().build(),
            SortOrder::unsorted_order(),
            "/t".into(),
            FormatVersion::V2,
            properties
                .iter()
                .map(|(k, v)| (k.to_string(), v.to_string()))
                .collect::<HashMap<_, _>>(),
        )
        .unwrap()
        .build()
        .unwrap()
        .metadata
    }

    /// Commits `n` metadata changes as floe does (the previous file into the
    /// log) and returns each (metadata, location).
    fn history(first: TableMetadata, n: usize) -> Vec<(TableMetadata, String)> {
        let mut out = vec![(first, "/t/metadata/00000.metadata.json".to_string())];
        for i in 1..=n {
            let (prev, loc) = out.last().unwrap().clone();
            let next = TableMetadataBuilder::new_from_metadata(prev, Some(loc))
                .build()
                .unwrap()
                .metadata;
            out.push((next, format!("/t/metadata/{i:05}.metadata.json")));
        }
        out
    }

    #[test]
    fn the_builder_trims_the_log_and_the_fallen_files_are_named() {
        let commits = history(
            table(&[(PREVIOUS_VERSIONS_MAX, "3"), (DELETE_AFTER_COMMIT, "true")]),
            6,
        );
        let (last, _) = commits.last().unwrap();
        let logged: Vec<&str> = last
            .metadata_log()
            .iter()
            .map(|e| e.metadata_file.as_str())
            .collect();
        assert_eq!(
            logged,
            [
                "/t/metadata/00003.metadata.json",
                "/t/metadata/00004.metadata.json",
                "/t/metadata/00005.metadata.json"
            ]
        );
        let mut removed = Vec::new();
        for pair in commits.windows(2) {
            let ((base, base_loc), (next, next_loc)) = (&pair[0], &pair[1]);
            removed.extend(removed_metadata_files(base, base_loc, next, next_loc));
        }
        assert_eq!(
            removed,
            [
                "/t/metadata/00000.metadata.json",
                "/t/metadata/00001.metadata.json",
                "/t/metadata/00002.metadata.json"
            ],
            "every file that fell off the log, once, and none still logged or current"
        );
    }

    #[test]
    fn nothing_is_deleted_unless_enabled() {
        for props in [vec![], vec![(DELETE_AFTER_COMMIT, "false")]] {
            let mut props = props;
            props.push((PREVIOUS_VERSIONS_MAX, "1"));
            let commits = history(table(&props), 4);
            for pair in commits.windows(2) {
                let ((base, base_loc), (next, next_loc)) = (&pair[0], &pair[1]);
                assert!(removed_metadata_files(base, base_loc, next, next_loc).is_empty());
            }
        }
    }
}

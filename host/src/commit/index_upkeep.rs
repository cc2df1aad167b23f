//! The key index's upkeep after a commit: what a committed window removed
//! from the table and where the rows it added are.

use crate::table::index::{IndexedFile, KeyIndex, RowLocation};
use crate::table::key::IndexKey;

/// The changes a commit makes to the key index, applied once the commit is
/// in the catalog.
#[derive(Debug, Default)]
pub struct IndexChanges {
    /// The table was truncated first: every key is gone.
    pub truncated: bool,
    /// Keys whose old row is gone.
    pub removed: Vec<IndexKey>,
    /// New data files, in `added`'s numbering.
    pub new_files: Vec<IndexedFile>,
    /// Key → (new file number, position).
    pub added: Vec<(IndexKey, u32, u32)>,
}

impl IndexChanges {
    /// Applies the changes of a committed window to `index`.
    pub fn apply_to(self, index: &mut KeyIndex) {
        if self.truncated {
            index.clear();
        }
        for key in &self.removed {
            index.remove(key);
        }
        let ids: Vec<u32> = self
            .new_files
            .into_iter()
            .map(|f| index.intern(f))
            .collect();
        for (key, file_no, pos) in self.added {
            index.insert(
                key,
                RowLocation {
                    file: ids[file_no as usize],
                    pos,
                },
            );
        }
    }
}

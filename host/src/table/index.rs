//! The key index: primary key → the data file and row position of the live row.
//!
//! Entries are an [`IndexKey`] (16 bytes) and a [`RowLocation`] (a file id
//! interned as `u32` and a row position as `u32`: 24 bytes per entry in a
//! hash table kept at most 7/8 full, so 28–56 bytes per key depending on
//! where the table is in its growth cycle). Files are interned once with
//! their spec and partition, which the delete file of each one's deletes takes.

use std::collections::HashMap;
use std::sync::Arc;

use iceberg::spec::Struct;

use super::key::{IndexKey, KeyHashBuilder};

/// Where a live row is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RowLocation {
    /// The interned data file.
    pub file: u32,
    /// The row's position in the file.
    pub pos: u32,
}

/// A data file the index points into.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IndexedFile {
    /// The file's location.
    pub path: Arc<str>,
    /// The partition spec it was written with.
    pub spec_id: i32,
    /// Its partition tuple.
    pub partition: Struct,
}

/// Primary key → live row.
#[derive(Debug, Default)]
pub struct KeyIndex {
    rows: HashMap<IndexKey, RowLocation, KeyHashBuilder>,
    files: Vec<IndexedFile>,
    file_ids: HashMap<Arc<str>, u32>,
}

impl KeyIndex {
    /// An empty index.
    pub fn new() -> Self {
        KeyIndex::default()
    }

    /// An empty index with room for `keys` keys.
    pub fn with_capacity(keys: usize) -> Self {
        KeyIndex {
            rows: HashMap::with_capacity_and_hasher(keys, KeyHashBuilder::default()),
            ..KeyIndex::default()
        }
    }

    /// The number of live keys.
    pub fn len(&self) -> usize {
        self.rows.len()
    }

    /// Whether no key is live.
    pub fn is_empty(&self) -> bool {
        self.rows.is_empty()
    }

    /// Interns a data file, returning its id.
    pub fn intern(&mut self, file: IndexedFile) -> u32 {
        if let Some(id) = self.file_ids.get(&file.path) {
            return *id;
        }
        let id = self.files.len() as u32;
        self.file_ids.insert(file.path.clone(), id);
        self.files.push(file);
        id
    }

    /// The file of an id from [`KeyIndex::intern`].
    pub fn file(&self, id: u32) -> &IndexedFile {
        &self.files[id as usize]
    }

    /// Where `key`'s live row is.
    pub fn get(&self, key: &IndexKey) -> Option<RowLocation> {
        self.rows.get(key).copied()
    }

    /// Points `key` at a row, returning where it was.
    pub fn insert(&mut self, key: IndexKey, location: RowLocation) -> Option<RowLocation> {
        self.rows.insert(key, location)
    }

    /// Forgets `key`, returning where its row was.
    pub fn remove(&mut self, key: &IndexKey) -> Option<RowLocation> {
        self.rows.remove(key)
    }

    /// Forgets every key and file (after a truncate).
    pub fn clear(&mut self) {
        self.rows.clear();
        self.files.clear();
        self.file_ids.clear();
    }

    /// Gives back the room no key uses (after a rebuild sized for more).
    pub fn shrink_to_fit(&mut self) {
        self.rows.shrink_to_fit();
    }

    /// Approximate memory held by the index, in bytes: the hash table's
    /// buckets (an entry and a control byte each), and the files.
    pub fn memory_bytes(&self) -> usize {
        let entry = std::mem::size_of::<(IndexKey, RowLocation)>() + 1;
        // hashbrown keeps its load at most 7/8 of a power-of-two bucket count.
        let buckets = match self.rows.capacity() {
            0 => 0,
            cap if cap < 8 => (cap + 1).next_power_of_two(),
            cap => (cap * 8 / 7).next_power_of_two(),
        };
        buckets * entry
            + self.files.capacity() * std::mem::size_of::<IndexedFile>()
            + self
                .files
                .iter()
                .map(|f| f.path.len() * 2 + 48)
                .sum::<usize>()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn interns_files_and_tracks_rows() {
        let mut index = KeyIndex::new();
        let file = IndexedFile {
            path: "a.parquet".into(),
            spec_id: 0,
            partition: Struct::empty(),
        };
        let a = index.intern(file.clone());
        assert_eq!(index.intern(file), a);
        let key = IndexKey([1, 2]);
        assert_eq!(index.insert(key, RowLocation { file: a, pos: 3 }), None);
        assert_eq!(index.get(&key), Some(RowLocation { file: a, pos: 3 }));
        assert_eq!(index.len(), 1);
        assert_eq!(&*index.file(a).path, "a.parquet");
        assert!(std::mem::size_of::<(IndexKey, RowLocation)>() <= 24);
        index.clear();
        assert!(index.is_empty());
    }
}

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

/// Where a rewrite (compaction) moved the rows of the files it replaced:
/// the live rows of the old files, in order, became rows `0..` of the
/// new files, one after the other.
#[derive(Debug, Clone, Default)]
pub struct RowMoves {
    /// The new data files, in order.
    pub files: Vec<IndexedFile>,
    /// Rows of each new file.
    pub rows: Vec<u32>,
    /// Old file path → for each of its positions, the row's ordinal among
    /// all the new files' rows, or [`RowMoves::GONE`] for a deleted row.
    pub old: HashMap<Arc<str>, Vec<u32>>,
}

impl RowMoves {
    /// The ordinal of a row the rewrite dropped (it was deleted).
    pub const GONE: u32 = u32::MAX;

    /// The new file (index into [`RowMoves::files`]) and position of the
    /// row with `ordinal`.
    pub fn locate(&self, ordinal: u32) -> (usize, u32) {
        let mut left = ordinal;
        for (file, rows) in self.rows.iter().enumerate() {
            if left < *rows {
                return (file, left);
            }
            left -= rows;
        }
        (self.rows.len().saturating_sub(1), left)
    }
}

/// What [`KeyIndex::remap`] did.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Remapped {
    /// Keys pointed at their row's new place.
    pub moved: usize,
    /// Keys that pointed at a row the rewrite found deleted (forgotten).
    pub lost: usize,
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

    /// Every live key and where its row is: (key, data file path, position).
    pub fn entries(&self) -> impl Iterator<Item = (IndexKey, &str, u32)> + '_ {
        self.rows
            .iter()
            .map(|(key, at)| (*key, &*self.files[at.file as usize].path, at.pos))
    }

    /// Points the keys whose rows a rewrite moved (compaction) at their new
    /// file and position, and forgets the files no key points into any
    /// more. Returns how many keys moved, and how many pointed at a row the
    /// rewrite dropped as deleted (none when the index matched the table
    /// the rewrite read; such keys are forgotten).
    pub fn remap(&mut self, moves: &RowMoves) -> Remapped {
        let moved: Vec<Option<&Vec<u32>>> =
            self.files.iter().map(|f| moves.old.get(&f.path)).collect();
        let new_ids: Vec<u32> = moves.files.iter().map(|f| self.intern(f.clone())).collect();
        let mut done = Remapped::default();
        self.rows.retain(|_, at| {
            let Some(Some(ordinals)) = moved.get(at.file as usize) else {
                return true;
            };
            match ordinals.get(at.pos as usize).copied() {
                Some(ordinal) if ordinal != RowMoves::GONE => {
                    let (file, pos) = moves.locate(ordinal);
                    *at = RowLocation {
                        file: new_ids[file],
                        pos,
                    };
                    done.moved += 1;
                    true
                }
                _ => {
                    done.lost += 1;
                    false
                }
            }
        });
        self.forget_unused_files();
        done
    }

    /// Renumbers the interned files, keeping only those a key points into.
    fn forget_unused_files(&mut self) {
        let mut used = vec![u32::MAX; self.files.len()];
        let mut files = Vec::new();
        for at in self.rows.values_mut() {
            let slot = &mut used[at.file as usize];
            if *slot == u32::MAX {
                *slot = files.len() as u32;
                files.push(self.files[at.file as usize].clone());
            }
            at.file = *slot;
        }
        self.file_ids = files
            .iter()
            .enumerate()
            .map(|(id, f): (usize, &IndexedFile)| (f.path.clone(), id as u32))
            .collect();
        self.files = files;
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

    #[test]
    fn remap_moves_rows_of_rewritten_files_and_forgets_them() {
        let file = |path: &str| IndexedFile {
            path: path.into(),
            spec_id: 0,
            partition: Struct::empty(),
        };
        let mut index = KeyIndex::new();
        let (a, b, kept) = (
            index.intern(file("a")),
            index.intern(file("b")),
            index.intern(file("kept")),
        );
        let at = |file, pos| RowLocation { file, pos };
        index.insert(IndexKey([1, 0]), at(a, 1));
        index.insert(IndexKey([2, 0]), at(b, 0));
        index.insert(IndexKey([3, 0]), at(b, 2));
        index.insert(IndexKey([4, 0]), at(kept, 5));
        // a: rows 0 (deleted) and 1; b: rows 0, 1 (deleted), 2 → new files
        // x (2 rows) and y (1 row).
        let moves = RowMoves {
            files: vec![file("x"), file("y")],
            rows: vec![2, 1],
            old: HashMap::from([
                (Arc::from("a"), vec![RowMoves::GONE, 0]),
                (Arc::from("b"), vec![1, RowMoves::GONE, 2]),
            ]),
        };
        let done = index.remap(&moves);
        assert_eq!(done, Remapped { moved: 3, lost: 0 });
        let mut entries: Vec<_> = index
            .entries()
            .map(|(k, path, pos)| (k.0[0], path.to_string(), pos))
            .collect();
        entries.sort();
        assert_eq!(
            entries,
            vec![
                (1, "x".into(), 0),
                (2, "x".into(), 1),
                (3, "y".into(), 0),
                (4, "kept".into(), 5)
            ]
        );
        assert_eq!(index.files.len(), 3, "a and b are forgotten");
    }
}

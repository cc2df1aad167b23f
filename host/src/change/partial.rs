//! Partial rows in a batch: which changes' after images leave columns
//! unchanged, and which.
//!
//! A source that does not send unchanged columns (PostgreSQL's TOAST
//! placeholder, YugabyteDB's `set: false` or CHANGE replica identity) makes a
//! partial row. The unchanged cells are not in the batch's columns (they read
//! as absent, so a plugin sees the row without them); this side list says
//! which they are, so the table writer can fill them from the row's current
//! state ([`crate::table::TableWriter::fill`]) before it buffers the row.
//! The list is sparse: a batch of full rows carries an empty one. It is the
//! host's, not the plugin contract's: the WIT types are unchanged.

use std::sync::Arc;

use super::Image;

/// Which columns of one change's after image the source left unchanged.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Unchanged {
    /// The columns named unchanged.
    pub names: Box<[Arc<str>]>,
    /// Every column the image lacks is unchanged as well.
    pub absent: bool,
}

impl Unchanged {
    /// What `image` says is unchanged; `None` for a full row.
    pub fn of(image: &Image) -> Option<Unchanged> {
        image.is_partial().then(|| Unchanged {
            names: image.unchanged().into(),
            absent: image.absent_unchanged(),
        })
    }

    /// Marks these columns unchanged in `image`.
    pub fn mark(&self, image: &mut Image) {
        for name in &self.names {
            image.mark_unchanged(name.clone());
        }
        image.set_absent_unchanged(self.absent);
    }
}

/// The partial rows of a batch, by row, ascending.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct PartialRows(Vec<(u32, Unchanged)>);

impl PartialRows {
    /// Whether no row is partial.
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// How many rows are partial.
    pub fn len(&self) -> usize {
        self.0.len()
    }

    /// What row `row` leaves unchanged; `None` for a full row.
    pub fn get(&self, row: usize) -> Option<&Unchanged> {
        let row = row as u32;
        self.0
            .binary_search_by_key(&row, |(r, _)| *r)
            .ok()
            .map(|i| &self.0[i].1)
    }

    /// Notes row `row` as partial; rows are pushed in ascending order (a
    /// repeated row replaces its entry).
    pub fn push(&mut self, row: usize, unchanged: Unchanged) {
        let row = row as u32;
        match self.0.last_mut() {
            Some((last, entry)) if *last == row => *entry = unchanged,
            _ => {
                debug_assert!(self.0.last().is_none_or(|(last, _)| *last < row));
                self.0.push((row, unchanged));
            }
        }
    }

    /// The partial rows, ascending.
    pub fn iter(&self) -> impl Iterator<Item = (usize, &Unchanged)> {
        self.0.iter().map(|(row, u)| (*row as usize, u))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rows_are_found_by_number() {
        let mut rows = PartialRows::default();
        assert!(rows.is_empty());
        let a = Unchanged {
            names: vec![Arc::from("doc")].into(),
            absent: false,
        };
        rows.push(2, a.clone());
        rows.push(5, Unchanged::default());
        assert_eq!(rows.get(2), Some(&a));
        assert_eq!(rows.get(3), None);
        assert_eq!(rows.len(), 2);
        let mut image = Image::new();
        a.mark(&mut image);
        assert_eq!(Unchanged::of(&image), Some(a));
        assert_eq!(Unchanged::of(&Image::new()), None);
    }
}

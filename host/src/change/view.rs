//! Reading a [`ChangeBatch`](super::ChangeBatch)'s images in place: its
//! columns, each row's image and its cells.

use floe_contract::cell::presence;
use floe_contract::columnar;

use super::{ColumnType, Field, Image, Value};

/// One column of a batch's images, with its type already checked.
#[derive(Debug, Clone, Copy)]
pub struct Column<'a> {
    pub(super) wire: &'a columnar::Column,
    pub(super) ty: ColumnType,
}

impl<'a> Column<'a> {
    /// The column's name.
    pub fn name(&self) -> &'a str {
        &self.wire.name
    }

    /// The column's type.
    pub fn ty(&self) -> ColumnType {
        self.ty
    }

    /// Row `row`'s cell: `None` when absent, `Some(None)` for NULL,
    /// `Some(Some(bytes))` for a value.
    #[inline]
    pub fn cell(&self, row: usize) -> Option<Option<&'a [u8]>> {
        let wire = self.wire;
        match wire.presence[row] {
            presence::VALUE => Some(Some(
                &wire.data[wire.offsets[row] as usize..wire.offsets[row + 1] as usize],
            )),
            presence::NULL => Some(None),
            _ => None,
        }
    }

    /// Whether row `row` has a cell (NULL or a value) in this column.
    #[inline]
    pub fn has(&self, row: usize) -> bool {
        self.wire.presence[row] != presence::ABSENT
    }
}

/// One image (before or after) of every change of a batch, column by column:
/// a view of the contract's `images` record, checked.
#[derive(Debug, Clone, Copy)]
pub struct ImageColumns<'a> {
    pub(super) wire: &'a columnar::Images,
    /// The type of each column.
    pub(super) types: &'a [ColumnType],
}

impl<'a> ImageColumns<'a> {
    /// The number of columns.
    pub fn width(&self) -> usize {
        self.types.len()
    }

    /// Column `index`.
    pub fn column(&self, index: usize) -> Column<'a> {
        Column {
            wire: &self.wire.columns[index],
            ty: self.types[index],
        }
    }

    /// The columns, in order.
    pub fn columns(&self) -> impl Iterator<Item = Column<'a>> + use<'a> {
        self.wire
            .columns
            .iter()
            .zip(self.types)
            .map(|(wire, &ty)| Column { wire, ty })
    }

    /// Whether row `row` has this image.
    pub fn is_present(&self, row: usize) -> bool {
        self.wire.present[row] != 0
    }

    /// Row `row`'s image, `None` when it has none.
    pub fn row(&self, row: usize) -> Option<ImageRef<'a>> {
        self.is_present(row)
            .then_some(ImageRef { images: *self, row })
    }

    /// The number of rows.
    pub fn len(&self) -> usize {
        self.wire.present.len()
    }

    /// Whether there are no rows.
    pub fn is_empty(&self) -> bool {
        self.wire.present.is_empty()
    }
}

/// One image (before or after) of every change of a batch, owned: what a
/// table writer keeps of a batch until it commits.
#[derive(Debug, Clone, PartialEq)]
pub struct Images {
    pub(super) wire: columnar::Images,
    pub(super) types: Vec<ColumnType>,
}

impl Images {
    /// The images, to read.
    pub fn view(&self) -> ImageColumns<'_> {
        ImageColumns {
            wire: &self.wire,
            types: &self.types,
        }
    }
}

/// One cell of an image: its column's name and type, and its bytes (`None`
/// for NULL) in the contract's encoding.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Cell<'a> {
    /// The column name.
    pub name: &'a str,
    /// The column type.
    pub ty: ColumnType,
    /// The value's bytes, `None` for NULL.
    pub bytes: Option<&'a [u8]>,
}

impl Cell<'_> {
    /// The value, `None` for NULL.
    pub fn value(&self) -> Option<Value> {
        // Cells of a batch are valid by construction.
        self.bytes.and_then(|b| Value::decode(self.ty, b))
    }
}

/// A row's image, read in place.
#[derive(Debug, Clone, Copy)]
pub struct ImageRef<'a> {
    images: ImageColumns<'a>,
    row: usize,
}

impl<'a> ImageRef<'a> {
    /// The row this is the image of.
    pub fn row(&self) -> usize {
        self.row
    }

    /// The image's cells, in column order.
    pub fn cells(&self) -> impl Iterator<Item = Cell<'a>> + use<'a> {
        let row = self.row;
        self.images.columns().filter_map(move |c| {
            c.cell(row).map(|bytes| Cell {
                name: c.name(),
                ty: c.ty(),
                bytes,
            })
        })
    }

    /// The cell of column `name`, `None` when the image lacks it.
    pub fn cell(&self, name: &str) -> Option<Cell<'a>> {
        let row = self.row;
        self.images
            .columns()
            .filter(|c| c.name() == name)
            .find_map(|c| {
                c.cell(row).map(|bytes| Cell {
                    name: c.name(),
                    ty: c.ty(),
                    bytes,
                })
            })
    }

    /// The value of column `name`: `None` when the column is absent or NULL.
    pub fn get(&self, name: &str) -> Option<Value> {
        self.cell(name).and_then(|c| c.value())
    }

    /// The number of columns the image has.
    pub fn len(&self) -> usize {
        self.images.columns().filter(|c| c.has(self.row)).count()
    }

    /// Whether the image has no columns.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// The image as an owned [`Image`].
    pub fn to_image(&self) -> Image {
        Image::from_distinct_fields(
            self.cells()
                .map(|c| Field {
                    name: c.name.into(),
                    ty: c.ty,
                    value: c.value(),
                })
                .collect(),
        )
    }
}

//! Glue used by the export macros. Not part of the public API.

use std::cell::RefCell;

use crate::Error;
use crate::config::Config;
use crate::decode::{self, Decoder};
use crate::transform::{self, Transformer};
use crate::wit;

/// The plugin instance's state: one value of the plugin type, set by `init`.
///
/// A component instance runs on one thread and is never re-entered, so a
/// `RefCell` in a `static` is enough.
pub struct StateCell<T>(RefCell<Option<T>>);

// SAFETY: WebAssembly components are single-threaded, and the cell is only
// touched from the exported functions, which the host never calls concurrently
// on one instance.
unsafe impl<T> Sync for StateCell<T> {}

impl<T> StateCell<T> {
    /// An empty cell.
    #[allow(clippy::new_without_default)]
    pub const fn new() -> StateCell<T> {
        StateCell(RefCell::new(None))
    }

    fn with<R>(&self, what: &str, f: impl FnOnce(&mut T) -> R) -> R {
        let mut state = self.0.borrow_mut();
        match state.as_mut() {
            Some(state) => f(state),
            None => panic!("floe-guest: `{what}` called before a successful `init`"),
        }
    }
}

/// Runs a plugin's `init` and stores the result.
pub fn init<T>(
    cell: &StateCell<T>,
    config: &Config,
    init: fn(&Config) -> Result<T, Error>,
) -> Result<(), String> {
    *cell.0.borrow_mut() = None;
    let state = init(config).map_err(String::from)?;
    *cell.0.borrow_mut() = Some(state);
    Ok(())
}

/// Turns the WIT config list into a [`Config`].
pub fn config(pairs: Vec<(String, String)>) -> Config {
    Config::from(pairs)
}

/// The body of the exported `transform`.
pub fn transform<T: Transformer>(cell: &StateCell<T>, batch: wit::ChangeBatch) -> wit::Transformed {
    cell.with("transform", |plugin| {
        transform::transform_batch(plugin, &batch)
    })
}

/// The body of the exported `decode`.
pub fn decode<D: Decoder>(cell: &StateCell<D>, records: wit::RecordBatch) -> wit::Decoded {
    cell.with("decode", |plugin| decode::decode_batch(plugin, &records))
}

//! Test guest `future-version`: a transformer built against `floe:plugin@0.2.0`,
//! a contract version this host does not know (a copy of the WIT in `wit/`
//! with only the version changed). It keeps every change, if ever run. Built
//! with wit-bindgen directly, not the SDK, which is pinned to 0.1.0.

wit_bindgen::generate!({
    world: "transformer",
    path: "wit",
});

use exports::floe::plugin::{lifecycle, transform};
use floe::plugin::types::{ChangeBatch, Images};

struct FutureVersion;

impl lifecycle::Guest for FutureVersion {
    fn init(_config: Vec<(String, String)>) -> Result<(), String> {
        Ok(())
    }
}

fn empty_batch() -> ChangeBatch {
    let images = || Images {
        present: Vec::new(),
        columns: Vec::new(),
    };
    ChangeBatch {
        ops: Vec::new(),
        tables: Vec::new(),
        table_keys: Vec::new(),
        table_index: Vec::new(),
        event_time: Vec::new(),
        event_time_known: Vec::new(),
        before: images(),
        after: images(),
    }
}

impl transform::Guest for FutureVersion {
    fn transform(changes: ChangeBatch) -> transform::Transformed {
        transform::Transformed {
            outcomes: vec![transform::Outcome::Keep as u8; changes.ops.len()],
            replaced: empty_batch(),
            routes: Vec::new(),
            rejected: Vec::new(),
        }
    }
}

export!(FutureVersion);

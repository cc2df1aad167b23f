//! Test guest `forbidden-import`: a transformer whose world also imports
//! `acme:secrets/vault`, an interface floe does not offer, and calls it. The
//! host must refuse to load it (an unsatisfied import), naming the import.

wit_bindgen::generate!({
    world: "forbidden-transformer",
    path: "wit",
    generate_all,
});

use acme::secrets::vault;
use exports::floe::plugin::{lifecycle, transform};
use floe::plugin::types::{ChangeBatch, Images, Rejection};

struct Forbidden;

impl lifecycle::Guest for Forbidden {
    fn init(_config: Vec<(String, String)>) -> Result<(), String> {
        Ok(())
    }
}

impl transform::Guest for Forbidden {
    fn transform(changes: ChangeBatch) -> transform::Transformed {
        let secret = vault::get("db-password");
        let n = changes.ops.len();
        let images = || Images {
            present: Vec::new(),
            columns: Vec::new(),
        };
        transform::Transformed {
            outcomes: vec![transform::Outcome::Reject as u8; n],
            replaced: ChangeBatch {
                ops: Vec::new(),
                tables: Vec::new(),
                table_keys: Vec::new(),
                table_index: Vec::new(),
                event_time: Vec::new(),
                event_time_known: Vec::new(),
                before: images(),
                after: images(),
            },
            routes: Vec::new(),
            rejected: (0..n as u32)
                .map(|row| Rejection {
                    row,
                    reason: format!("ALLOWED: read a {}-byte secret", secret.len()),
                })
                .collect(),
        }
    }
}

export!(Forbidden);

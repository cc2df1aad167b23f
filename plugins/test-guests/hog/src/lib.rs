//! Test guest `hog`: on the change whose after column `id` equals config
//! `hog_on` (every change when unset), allocates 1 MiB blocks, touching every
//! page, until the instance's memory cap stops it; keeps the others.

use std::sync::Mutex;

use floe_guest::{Change, Config, Error, Outcome, Transformer};

static HOARD: Mutex<Vec<Vec<u8>>> = Mutex::new(Vec::new());

/// The memory-hogging transformer.
pub struct Hog {
    hog_on: Option<i64>,
}

impl Transformer for Hog {
    fn init(config: &Config) -> Result<Self, Error> {
        Ok(Hog {
            hog_on: config.parse("hog_on")?,
        })
    }

    fn transform(&mut self, change: &mut Change<'_>) -> Outcome {
        let id = change
            .after()
            .and_then(|a| a.get("id"))
            .and_then(|v| v.as_i64());
        if self.hog_on.is_none() || id == self.hog_on {
            let mut hoard = HOARD.lock().unwrap();
            loop {
                hoard.push(vec![0xA5; 1 << 20]);
            }
        }
        Outcome::Keep
    }
}

floe_guest::export_transformer!(Hog);

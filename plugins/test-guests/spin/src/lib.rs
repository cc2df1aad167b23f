//! Test guest `spin`: loops forever on the change whose after column `id`
//! equals config `spin_on` (on every change when unset); keeps the others.
//! The host's epoch deadline must stop it.

use floe_guest::{Change, Config, Error, Outcome, Transformer};

/// The spinning transformer.
pub struct Spin {
    spin_on: Option<i64>,
}

impl Transformer for Spin {
    fn init(config: &Config) -> Result<Self, Error> {
        Ok(Spin {
            spin_on: config.parse("spin_on")?,
        })
    }

    fn transform(&mut self, change: &mut Change<'_>) -> Outcome {
        let id = change
            .after()
            .and_then(|a| a.get("id"))
            .and_then(|v| v.as_i64());
        if self.spin_on.is_none() || id == self.spin_on {
            let mut n: u64 = 0;
            loop {
                n = std::hint::black_box(n.wrapping_add(1));
            }
        }
        Outcome::Keep
    }
}

floe_guest::export_transformer!(Spin);

//! Test guest `trap`: panics (a wasm trap) with `poisoned record id=<id>` on
//! the changes whose after column `id` is in config `trap_on` (a comma list);
//! keeps the others.

use floe_guest::{Change, Config, Error, Outcome, Transformer};

/// The trapping transformer.
pub struct Trap {
    trap_on: Vec<i64>,
}

impl Transformer for Trap {
    fn init(config: &Config) -> Result<Self, Error> {
        let trap_on = config
            .list("trap_on")
            .into_iter()
            .map(|id| {
                id.parse()
                    .map_err(|e| Error::new(format!("config key `trap_on`: `{id}`: {e}")))
            })
            .collect::<Result<_, _>>()?;
        Ok(Trap { trap_on })
    }

    fn transform(&mut self, change: &mut Change<'_>) -> Outcome {
        let image = change.image();
        if let Some(id) = image.and_then(|a| a.get("id")).and_then(|v| v.as_i64())
            && self.trap_on.contains(&id)
        {
            panic!("poisoned record id={id}");
        }
        Outcome::Keep
    }
}

floe_guest::export_transformer!(Trap);

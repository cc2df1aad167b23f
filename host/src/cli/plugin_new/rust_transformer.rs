//! `{{name}}`: a floe transformer. As generated, it upper-cases the string
//! column named by the config key `column` (default `name`) in the after
//! image of every change. Replace `transform` with your own logic.

use floe_guest::{Change, Config, Error, Outcome, Transformer};

/// The plugin: its configuration, read once by `init`.
pub struct Plugin {
    column: String,
}

impl Transformer for Plugin {
    /// Reads the configuration; an `Err` refuses it (floe reports the message).
    fn init(config: &Config) -> Result<Self, Error> {
        let column = config.get_or("column", "name").trim().to_owned();
        if column.is_empty() {
            return Err(Error::new("config key `column` is empty"));
        }
        Ok(Plugin { column })
    }

    /// What becomes of one change: `Outcome::Keep` (with any modifications),
    /// `Drop`, `Route(table)` or `Reject(reason)`.
    fn transform(&mut self, change: &mut Change<'_>) -> Outcome {
        let upper = change
            .original_after()
            .and_then(|after| after.get(&self.column))
            .and_then(|value| value.as_str().map(str::to_uppercase));
        if let (Some(upper), Some(mut after)) = (upper, change.after_mut()) {
            after.set(&self.column, upper);
        }
        Outcome::Keep
    }
}

floe_guest::export_transformer!(Plugin);

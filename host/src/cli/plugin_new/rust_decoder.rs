//! `{{name}}`: a floe decoder. As generated, it reads each record value as a
//! JSON object such as `{"id": 1, "name": "alice"}` and makes an insert of
//! it into the table named by the config key `table` (default
//! `demo.people`), keyed by `id`; `{"id": 1, "deleted": true}` is a delete.
//! Replace `decode` with your format.

use floe_guest::{ChangeBuilder, Config, Decoder, Error, Op, Record};
use serde_json::Value as Json;

/// The plugin: its configuration, read once by `init`.
pub struct Plugin {
    table: String,
}

impl Decoder for Plugin {
    /// Reads the configuration; an `Err` refuses it (floe reports the message).
    fn init(config: &Config) -> Result<Self, Error> {
        Ok(Plugin {
            table: config.get_or("table", "demo.people").trim().to_owned(),
        })
    }

    /// The changes of one record; an `Err` sends the record to the
    /// dead-letter queue with its message.
    fn decode(&mut self, record: &Record<'_>, out: &mut ChangeBuilder) -> Result<(), Error> {
        let Some(bytes) = record.value() else {
            return Ok(()); // a tombstone carries no change
        };
        let Json::Object(row) = serde_json::from_slice::<Json>(bytes)
            .map_err(|e| Error::new(format!("invalid JSON: {e}")))?
        else {
            return Err(Error::new("a record value must be a JSON object"));
        };
        let id = row
            .get("id")
            .and_then(Json::as_i64)
            .ok_or_else(|| Error::new("missing integer field `id`"))?;
        if row.get("deleted").and_then(Json::as_bool) == Some(true) {
            let mut change = out.change(Op::Delete, &self.table);
            change.key_columns(["id"]);
            change.before().set("id", id);
            return Ok(());
        }
        let mut change = out.change(Op::Insert, &self.table);
        change.key_columns(["id"]);
        let mut after = change.after();
        after.set("id", id);
        for (name, value) in &row {
            match value {
                Json::String(s) => {
                    after.set(name, s.as_str());
                }
                Json::Null if name != "id" => {
                    after.set_null(name, floe_guest::ColumnType::String);
                }
                _ => {}
            }
        }
        Ok(())
    }
}

floe_guest::export_decoder!(Plugin);

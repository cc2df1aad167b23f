//! `dms`: decodes the JSON that AWS Database Migration Service writes to
//! Kafka and Kinesis targets
//! (<https://docs.aws.amazon.com/dms/latest/userguide/CHAP_Target.Kafka.html>):
//! `data` is the row, `metadata` says what happened to it.

use floe_guest::json::write_json_row;
use floe_guest::{
    ChangeBuilder, Config, Decoder, Error, Op, Record, counter_add, parse::parse_timestamp,
};
use serde_json::{Map, Value as Json};

/// The counter of control records (`record-type: control`: table and column
/// definitions, DDL), which carry no row.
pub const CONTROL_COUNTER: &str = "dms_control_records";

/// The `dms` decoder.
#[derive(Debug)]
pub struct Dms {
    /// The table name template: `{schema}`, `{table}` and `{topic}` are replaced.
    template: String,
    /// The top-level field holding the before image (`BeforeImageSettings.FieldName`).
    before_image_field: String,
}

impl Dms {
    /// Reads `table` (default `{schema}.{table}`) and `before_image_field`
    /// (default `before-image`, the name AWS's documentation uses).
    pub fn from_config(config: &Config) -> Result<Dms, Error> {
        let template = config.get_or("table", "{schema}.{table}").trim().to_owned();
        if template.is_empty() {
            return Err(Error::new(
                "config key `table`: the table template is empty",
            ));
        }
        let before_image_field = config.get_or("before_image_field", "before-image").trim();
        if before_image_field.is_empty() {
            return Err(Error::new("config key `before_image_field` is empty"));
        }
        Ok(Dms {
            template,
            before_image_field: before_image_field.to_owned(),
        })
    }

    /// Decodes one DMS record (the JSON bytes of a record value).
    pub fn decode_json(
        &self,
        bytes: &[u8],
        topic: &str,
        out: &mut ChangeBuilder,
    ) -> Result<(), Error> {
        let msg: Json =
            serde_json::from_slice(bytes).map_err(|e| Error::new(format!("invalid JSON: {e}")))?;
        let Json::Object(msg) = msg else {
            return Err(Error::new("a DMS record is a JSON object"));
        };
        let metadata = object(&msg, "metadata")?
            .ok_or_else(|| Error::new("missing object field `metadata`"))?;
        match text(metadata, "record-type")? {
            "data" => {}
            "control" => {
                counter_add(CONTROL_COUNTER, 1);
                return Ok(());
            }
            other => return Err(Error::new(format!("unknown DMS record-type `{other}`"))),
        }
        let operation = text(metadata, "operation")?;
        let op = match operation {
            // A full load writes each existing row once: an upsert.
            "load" => Op::Read,
            "insert" => Op::Insert,
            "update" => Op::Update,
            "delete" => Op::Delete,
            other => return Err(Error::new(format!("unknown DMS operation `{other}`"))),
        };
        let table = self
            .template
            .replace("{schema}", text(metadata, "schema-name")?)
            .replace("{table}", text(metadata, "table-name")?)
            .replace("{topic}", topic);
        let data = object(&msg, "data")?
            .ok_or_else(|| Error::new(format!("a `{operation}` record needs an object `data`")))?;
        let before_image = object(&msg, &self.before_image_field)?;
        let event_time = match metadata.get("timestamp") {
            None | Some(Json::Null) => None,
            Some(ts) => Some(
                ts.as_str()
                    .and_then(parse_timestamp)
                    .map(|(micros, _)| micros)
                    .ok_or_else(|| {
                        Error::new(format!(
                            "metadata `timestamp` is not an ISO 8601 time: {ts}"
                        ))
                    })?,
            ),
        };

        let mut change = out.change(op, &table);
        change.event_time(event_time);
        match op {
            Op::Update => {
                // The before image holds the key columns (ColumnFilter
                // `pk-only`) or more: the row before is the row after with
                // those values in place. Without one, the after image's key
                // names the row.
                if let Some(old) = before_image {
                    let mut before = change.before();
                    write_json_row(&mut before, data)?;
                    write_json_row(&mut before, old)?;
                }
                write_json_row(&mut change.after(), data)?;
            }
            Op::Delete => write_json_row(&mut change.before(), data)?,
            _ => write_json_row(&mut change.after(), data)?,
        }
        Ok(())
    }
}

/// The string field `field`.
fn text<'m>(map: &'m Map<String, Json>, field: &str) -> Result<&'m str, Error> {
    map.get(field)
        .and_then(Json::as_str)
        .ok_or_else(|| Error::new(format!("missing string field `{field}`")))
}

/// The object field `field`; `None` when absent or null.
fn object<'m>(
    map: &'m Map<String, Json>,
    field: &str,
) -> Result<Option<&'m Map<String, Json>>, Error> {
    match map.get(field) {
        None | Some(Json::Null) => Ok(None),
        Some(Json::Object(o)) => Ok(Some(o)),
        Some(_) => Err(Error::new(format!("field `{field}` must be an object"))),
    }
}

impl Decoder for Dms {
    fn init(config: &Config) -> Result<Self, Error> {
        Dms::from_config(config)
    }

    fn decode(&mut self, record: &Record<'_>, out: &mut ChangeBuilder) -> Result<(), Error> {
        match record.value() {
            // A tombstone carries no change.
            None => Ok(()),
            Some(bytes) => self.decode_json(bytes, record.topic(), out),
        }
    }
}

floe_guest::export_decoder!(Dms);

#[cfg(test)]
mod tests;

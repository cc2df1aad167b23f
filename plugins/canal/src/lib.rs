//! `canal`: decodes Alibaba Canal's flat JSON messages
//! (<https://github.com/alibaba/canal>, `canal.mq.flatMessage = true`) into
//! changes: one change per row of `data`, in order, typed from `mysqlType`.

mod types;

use floe_guest::{ChangeBuilder, Config, Decoder, Error, ImageWriter, Op, Record, counter_add};
use serde_json::{Map, Value as Json};

use types::Kind;

/// The counter of DDL messages (`isDdl: true`), which carry no row.
pub const DDL_COUNTER: &str = "canal_ddl_messages";
/// The counter of messages of any other non-row `type` (e.g. `QUERY`, `GTID`).
pub const SKIPPED_COUNTER: &str = "canal_skipped_messages";

/// The `canal` decoder.
#[derive(Debug)]
pub struct Canal {
    /// The table name template: `{database}`, `{table}` and `{topic}` are replaced.
    template: String,
}

impl Canal {
    /// Reads `table` (default `{database}.{table}`).
    pub fn from_config(config: &Config) -> Result<Canal, Error> {
        let template = config
            .get_or("table", "{database}.{table}")
            .trim()
            .to_owned();
        if template.is_empty() {
            return Err(Error::new(
                "config key `table`: the table template is empty",
            ));
        }
        Ok(Canal { template })
    }

    /// Decodes one flat message (the JSON bytes of a record value).
    pub fn decode_json(
        &self,
        bytes: &[u8],
        topic: &str,
        out: &mut ChangeBuilder,
    ) -> Result<(), Error> {
        let msg: Json =
            serde_json::from_slice(bytes).map_err(|e| Error::new(format!("invalid JSON: {e}")))?;
        let Json::Object(msg) = msg else {
            return Err(Error::new("a Canal flat message is a JSON object"));
        };
        if msg.get("isDdl").and_then(Json::as_bool) == Some(true) {
            counter_add(DDL_COUNTER, 1);
            return Ok(());
        }
        let kind = text(&msg, "type")?;
        let op = match kind {
            "INSERT" => Op::Insert,
            "UPDATE" => Op::Update,
            "DELETE" => Op::Delete,
            _ => {
                counter_add(SKIPPED_COUNTER, 1);
                return Ok(());
            }
        };
        let table = self
            .template
            .replace("{database}", text(&msg, "database")?)
            .replace("{table}", text(&msg, "table")?)
            .replace("{topic}", topic);
        let data = row_objects(&msg, "data")?
            .ok_or_else(|| Error::new(format!("a `{kind}` message needs an array `data`")))?;
        let old = row_objects(&msg, "old")?;
        if op == Op::Update
            && let Some(old) = &old
            && old.len() != data.len()
        {
            return Err(Error::new(format!(
                "`old` has {} rows and `data` {}",
                old.len(),
                data.len()
            )));
        }
        let columns = Columns::of(&msg)?;
        let event_time =
            match msg.get("es") {
                None | Some(Json::Null) => None,
                Some(es) => Some(es.as_i64().and_then(|ms| ms.checked_mul(1000)).ok_or_else(
                    || Error::new(format!("field `es` must be epoch milliseconds, got {es}")),
                )?),
            };
        let keys: Vec<&str> = match msg.get("pkNames") {
            Some(Json::Array(keys)) => keys.iter().filter_map(Json::as_str).collect(),
            _ => Vec::new(),
        };

        for (i, row) in data.iter().enumerate() {
            let mut change = out.change(op, &table);
            change.event_time(event_time);
            if !keys.is_empty() {
                change.key_columns(&keys);
            }
            let at = |e: Error| e.context(format_args!("row {i}"));
            match op {
                Op::Update => {
                    let mut before = change.before();
                    columns.write(&mut before, row).map_err(at)?;
                    if let Some(old) = &old {
                        columns.write(&mut before, old[i]).map_err(at)?;
                    }
                    columns.write(&mut change.after(), row).map_err(at)?;
                }
                Op::Delete => columns.write(&mut change.before(), row).map_err(at)?,
                _ => columns.write(&mut change.after(), row).map_err(at)?,
            }
        }
        Ok(())
    }
}

/// The string field `field` of a message.
fn text<'m>(msg: &'m Map<String, Json>, field: &str) -> Result<&'m str, Error> {
    msg.get(field)
        .and_then(Json::as_str)
        .ok_or_else(|| Error::new(format!("missing string field `{field}`")))
}

/// The array of row objects `field` (`data` or `old`); `None` when absent or null.
fn row_objects<'m>(
    msg: &'m Map<String, Json>,
    field: &str,
) -> Result<Option<Vec<&'m Map<String, Json>>>, Error> {
    match msg.get(field) {
        None | Some(Json::Null) => Ok(None),
        Some(Json::Array(items)) => items
            .iter()
            .map(|item| {
                item.as_object()
                    .ok_or_else(|| Error::new(format!("`{field}` must be an array of objects")))
            })
            .collect::<Result<Vec<_>, _>>()
            .map(Some),
        Some(_) => Err(Error::new(format!("`{field}` must be an array of objects"))),
    }
}

/// A message's column types: `mysqlType`, and `sqlType` for columns it lacks.
struct Columns<'m> {
    mysql: Option<&'m Map<String, Json>>,
    sql: Option<&'m Map<String, Json>>,
}

impl<'m> Columns<'m> {
    fn of(msg: &'m Map<String, Json>) -> Result<Columns<'m>, Error> {
        let object = |field: &str| match msg.get(field) {
            None | Some(Json::Null) => Ok(None),
            Some(Json::Object(map)) => Ok(Some(map)),
            Some(_) => Err(Error::new(format!("`{field}` must be an object"))),
        };
        Ok(Columns {
            mysql: object("mysqlType")?,
            sql: object("sqlType")?,
        })
    }

    fn kind(&self, name: &str) -> Result<Kind, Error> {
        if let Some(declared) = self.mysql.and_then(|m| m.get(name)).and_then(Json::as_str) {
            return types::from_mysql(declared);
        }
        match self.sql.and_then(|m| m.get(name)).and_then(Json::as_i64) {
            Some(code) => types::from_sql_type(code),
            None => Err(Error::new("no mysqlType or sqlType for the column")),
        }
    }

    /// Writes one row's columns, typed.
    fn write(&self, image: &mut ImageWriter<'_>, row: &Map<String, Json>) -> Result<(), Error> {
        for (name, value) in row {
            let at = |e: Error| e.context(format_args!("column `{name}`"));
            let kind = self.kind(name).map_err(at)?;
            let typed = match value {
                Json::Null => {
                    image.set_null(name, kind.column_type());
                    continue;
                }
                Json::String(s) => kind.parse(s),
                Json::Number(_) | Json::Bool(_) => kind.parse(&value.to_string()),
                Json::Array(_) | Json::Object(_) => Err(Error::new(
                    "a value must be text, a number, a boolean or null",
                )),
            }
            .map_err(at)?;
            image.set(name, &typed);
        }
        Ok(())
    }
}

impl Decoder for Canal {
    fn init(config: &Config) -> Result<Self, Error> {
        Canal::from_config(config)
    }

    fn decode(&mut self, record: &Record<'_>, out: &mut ChangeBuilder) -> Result<(), Error> {
        match record.value() {
            // A tombstone carries no change.
            None => Ok(()),
            Some(bytes) => self.decode_json(bytes, record.topic(), out),
        }
    }
}

floe_guest::export_decoder!(Canal);

#[cfg(test)]
mod tests;

//! `maxwell`: decodes Maxwell's daemon JSON (<https://maxwells-daemon.io/dataformat/>)
//! into changes.

use floe_guest::json::write_json_row;
use floe_guest::{ChangeBuilder, Config, Decoder, Error, Op, Record};
use serde_json::Value as Json;

/// The `maxwell` decoder.
#[derive(Debug)]
pub struct Maxwell {
    /// The table name template: `{database}`, `{table}` and `{topic}` are replaced.
    template: String,
}

impl Maxwell {
    /// Reads `table` (default `{database}.{table}`).
    pub fn from_config(config: &Config) -> Result<Maxwell, Error> {
        let template = config
            .get_or("table", "{database}.{table}")
            .trim()
            .to_owned();
        if template.is_empty() {
            return Err(Error::new(
                "config key `table`: the table template is empty",
            ));
        }
        Ok(Maxwell { template })
    }

    fn table_name(&self, database: &str, table: &str, topic: &str) -> String {
        self.template
            .replace("{database}", database)
            .replace("{table}", table)
            .replace("{topic}", topic)
    }

    /// Decodes one Maxwell message (the JSON bytes of a record value).
    pub fn decode_json(
        &self,
        bytes: &[u8],
        topic: &str,
        out: &mut ChangeBuilder,
    ) -> Result<(), Error> {
        let msg: Json =
            serde_json::from_slice(bytes).map_err(|e| Error::new(format!("invalid JSON: {e}")))?;
        let Json::Object(msg) = msg else {
            return Err(Error::new("a Maxwell message is a JSON object"));
        };
        let kind = msg
            .get("type")
            .and_then(Json::as_str)
            .ok_or_else(|| Error::new("missing string field `type`"))?;
        let op = match kind {
            "insert" => Op::Insert,
            "bootstrap-insert" => Op::Read,
            "update" => Op::Update,
            "delete" => Op::Delete,
            // Bootstrap markers, DDL (`table-create`, `database-alter`, … with `sql`)
            // and heartbeats carry no row change.
            "bootstrap-start" | "bootstrap-complete" | "heartbeat" => return Ok(()),
            _ if msg.contains_key("sql") => return Ok(()),
            other if other.starts_with("table-") || other.starts_with("database-") => return Ok(()),
            other => {
                return Err(Error::new(format!(
                    "unknown Maxwell message type `{other}`"
                )));
            }
        };
        let text = |field: &str| {
            msg.get(field)
                .and_then(Json::as_str)
                .ok_or_else(|| Error::new(format!("missing string field `{field}`")))
        };
        let table = self.table_name(text("database")?, text("table")?, topic);
        let data = match msg.get("data") {
            Some(Json::Object(data)) => data,
            _ => {
                return Err(Error::new(format!(
                    "a `{kind}` message needs an object `data`"
                )));
            }
        };
        let old = match msg.get("old") {
            None | Some(Json::Null) => None,
            Some(Json::Object(old)) => Some(old),
            Some(_) => return Err(Error::new("field `old` must be an object")),
        };
        let event_time = match msg.get("ts") {
            None | Some(Json::Null) => None,
            Some(ts) => Some(
                ts.as_i64()
                    .and_then(|s| s.checked_mul(1_000_000))
                    .ok_or_else(|| {
                        Error::new(format!("field `ts` must be whole seconds, got {ts}"))
                    })?,
            ),
        };
        let keys: Vec<&str> = match msg.get("primary_key_columns") {
            Some(Json::Array(keys)) => keys.iter().filter_map(Json::as_str).collect(),
            _ => Vec::new(),
        };

        let mut change = out.change(op, &table);
        change.event_time(event_time);
        if !keys.is_empty() {
            change.key_columns(&keys);
        }
        match op {
            Op::Update => {
                let mut before = change.before();
                write_json_row(&mut before, data)?;
                if let Some(old) = old {
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

impl Decoder for Maxwell {
    fn init(config: &Config) -> Result<Self, Error> {
        Maxwell::from_config(config)
    }

    fn decode(&mut self, record: &Record<'_>, out: &mut ChangeBuilder) -> Result<(), Error> {
        match record.value() {
            // A tombstone carries no change.
            None => Ok(()),
            Some(bytes) => self.decode_json(bytes, record.topic(), out),
        }
    }
}

floe_guest::export_decoder!(Maxwell);

#[cfg(test)]
mod tests {
    use super::*;
    use floe_guest::ColumnType;
    use floe_guest::OwnedValue;
    use floe_guest::testing::{self, TestRecord};

    fn decode(config: &[(&str, &str)], values: &[&str]) -> testing::TestDecoded {
        let mut m = Maxwell::init(&Config::from_pairs(config.iter().copied())).unwrap();
        let records: Vec<TestRecord> = values
            .iter()
            .map(|v| TestRecord::new("maxwell", *v))
            .collect();
        testing::decode(&mut m, &records)
    }

    #[test]
    fn insert_update_delete() {
        let out = decode(
            &[],
            &[
                r#"{"database":"shop","table":"orders","type":"insert","ts":1477053217,"xid":23396,"commit":true,"data":{"id":1,"amount":9.5,"note":null,"paid":true,"tags":["a"],"meta":{"k":1}},"primary_key_columns":["id"]}"#,
                r#"{"database":"shop","table":"orders","type":"update","ts":1477053218,"data":{"id":1,"status":"paid","amount":9.5},"old":{"status":"new"}}"#,
                r#"{"database":"shop","table":"orders","type":"delete","ts":1477053219,"data":{"id":1,"status":"paid"}}"#,
                r#"{"database":"shop","table":"orders","type":"bootstrap-insert","ts":1477053220,"data":{"id":2}}"#,
            ],
        );
        assert!(out.rejected.is_empty(), "{:?}", out.rejected);
        assert_eq!(
            out.changes.iter().map(|c| c.0).collect::<Vec<_>>(),
            vec![0, 1, 2, 3]
        );
        let insert = &out.changes[0].1;
        assert_eq!(insert.op, Op::Insert);
        assert_eq!(insert.table, "shop.orders");
        assert_eq!(insert.key_columns, vec!["id".to_string()]);
        assert_eq!(insert.event_time, Some(1_477_053_217_000_000));
        assert!(insert.before.is_none());
        let after = insert.after.as_ref().unwrap();
        assert_eq!(after.get("id"), Some(&OwnedValue::Long(1)));
        assert_eq!(after.get("amount"), Some(&OwnedValue::Double(9.5)));
        assert_eq!(after.get("note"), Some(&OwnedValue::Null));
        assert_eq!(after.column_type("note"), Some(ColumnType::String));
        assert_eq!(after.get("paid"), Some(&OwnedValue::Boolean(true)));
        assert_eq!(after.get("tags"), Some(&r#"["a"]"#.into()));
        assert_eq!(after.get("meta"), Some(&r#"{"k":1}"#.into()));

        let update = &out.changes[1].1;
        assert_eq!(update.op, Op::Update);
        assert!(
            update.key_columns.contains(&"id".to_string()),
            "keys stay for the table in the batch"
        );
        assert_eq!(
            update.before.as_ref().unwrap().get("status"),
            Some(&"new".into())
        );
        assert_eq!(
            update.before.as_ref().unwrap().get("amount"),
            Some(&OwnedValue::Double(9.5))
        );
        assert_eq!(
            update.after.as_ref().unwrap().get("status"),
            Some(&"paid".into())
        );

        let delete = &out.changes[2].1;
        assert_eq!(delete.op, Op::Delete);
        assert!(delete.after.is_none());
        assert_eq!(
            delete.before.as_ref().unwrap().get("id"),
            Some(&OwnedValue::Long(1))
        );

        assert_eq!(out.changes[3].1.op, Op::Read);
    }

    #[test]
    fn markers_and_ddl_yield_nothing() {
        let out = decode(
            &[("table", "raw_{database}_{table}")],
            &[
                r#"{"database":"shop","table":"orders","type":"bootstrap-start","ts":1,"data":{}}"#,
                r#"{"database":"shop","table":"orders","type":"bootstrap-complete","ts":1,"data":{}}"#,
                r#"{"type":"table-create","database":"shop","table":"t","sql":"CREATE TABLE t (id int)","def":{}}"#,
                r#"{"type":"database-create","database":"shop","sql":"CREATE DATABASE shop"}"#,
                r#"{"database":"shop","table":"orders","type":"insert","ts":1,"data":{"id":1}}"#,
            ],
        );
        assert!(out.rejected.is_empty(), "{:?}", out.rejected);
        assert_eq!(out.changes.len(), 1);
        assert_eq!(out.changes[0].0, 4);
        assert_eq!(out.changes[0].1.table, "raw_shop_orders");
    }

    #[test]
    fn bad_records_are_rejected_with_a_reason() {
        let out = decode(
            &[],
            &[
                "{not json",
                r#"{"database":"shop","table":"orders","type":"upsert","data":{}}"#,
                r#"{"database":"shop","type":"insert","data":{"id":1}}"#,
                r#"{"database":"shop","table":"orders","type":"insert"}"#,
                r#"{"database":"shop","table":"orders","type":"insert","data":{"id":18446744073709551615}}"#,
                r#"[1,2]"#,
                r#"{"database":"shop","table":"orders","type":"insert","data":{"id":3}}"#,
            ],
        );
        let reasons: Vec<(u32, &str)> =
            out.rejected.iter().map(|(i, r)| (*i, r.as_str())).collect();
        assert_eq!(reasons[0].0, 0);
        assert!(
            reasons[0].1.starts_with("invalid JSON: "),
            "{}",
            reasons[0].1
        );
        assert_eq!(
            reasons[1..].to_vec(),
            vec![
                (1, "unknown Maxwell message type `upsert`"),
                (2, "missing string field `table`"),
                (3, "a `insert` message needs an object `data`"),
                (
                    4,
                    "column `id`: integer 18446744073709551615 does not fit a long"
                ),
                (5, "a Maxwell message is a JSON object"),
            ]
        );
        assert_eq!(out.changes.len(), 1);
        assert_eq!(out.changes[0].0, 6);
        assert_eq!(out.changes[0].1.after.as_ref().unwrap().fields.len(), 1);
    }
}

//! `dts`: decodes Alibaba Cloud DTS's Avro `Record`
//! (`com.alibaba.dts.formats.avro.Record`, `schema/Record.avsc`) into
//! changes: one per `INSERT`, `UPDATE`, `DELETE` or `INIT` record, its
//! columns typed from the value unions of `beforeImages`/`afterImages`.

mod values;

use apache_avro::headers::HeaderBuilder;
use apache_avro::types::Value as Avro;
use apache_avro::{GenericSingleObjectReader, Schema};
use floe_guest::{ChangeBuilder, Config, Decoder, Error, ImageWriter, Op, Record, counter_add};

use values::Fields;

/// DTS's Record schema, written down from the DTS subscription SDK.
pub const SCHEMA: &str = include_str!("../schema/Record.avsc");
/// The default of `max_value_bytes`: the longest string or byte value, and
/// the most items an array may claim, in one Record.
pub const MAX_VALUE_BYTES: usize = 256 * 1024;
/// The counter of DDL records, which carry no row.
pub const DDL_COUNTER: &str = "dts_ddl_records";
/// The counter of the other records without a row (`BEGIN`, `COMMIT`,
/// `HEARTBEAT`, …).
pub const SKIPPED_COUNTER: &str = "dts_skipped_records";

/// The `dts` decoder.
pub struct Dts {
    /// The table name template: `{object}` (`objectName`), `{database}` (up
    /// to its first dot), `{table}` (after it) and `{topic}` are replaced.
    template: String,
    /// Readers of the Record schema, its names resolved once (a bare
    /// `from_avro_datum` resolves them again for every record): the
    /// schema as published, then without its last field [`BORN_TIMESTAMP`],
    /// which older SDK versions' Records lack.
    readers: [GenericSingleObjectReader; 2],
    /// The reader that decoded the last Record, tried first.
    last: usize,
}

impl std::fmt::Debug for Dts {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Dts")
            .field("template", &self.template)
            .finish_non_exhaustive()
    }
}

/// The Record's last field, added in later versions of the SDK's schema.
pub const BORN_TIMESTAMP: &str = "bornTimestamp";

/// The Record schema as published, and without [`BORN_TIMESTAMP`].
pub fn schemas() -> Result<[Schema; 2], apache_avro::Error> {
    let full = Schema::parse_str(SCHEMA)?;
    let mut older = full.clone();
    if let Schema::Record(record) = &mut older {
        record.fields.retain(|f| f.name != BORN_TIMESTAMP);
        record.lookup.remove(BORN_TIMESTAMP);
    }
    Ok([full, older])
}

/// DTS writes bare datums: no single-object header to expect.
struct NoHeader;

impl HeaderBuilder for NoHeader {
    fn build_header(&self) -> Vec<u8> {
        Vec::new()
    }
}

impl Dts {
    /// Reads `table` (default `{object}`) and `max_value_bytes` (default
    /// [`MAX_VALUE_BYTES`]) and parses the Record schema.
    pub fn from_config(config: &Config) -> Result<Dts, Error> {
        let template = config.get_or("table", "{object}").trim().to_owned();
        if template.is_empty() {
            return Err(Error::new(
                "config key `table`: the table template is empty",
            ));
        }
        // apache-avro allocates what a length prefix claims (a string's
        // bytes, an array's items) before reading it: its cap, set once for
        // this instance, keeps a corrupt prefix a rejection instead of an
        // allocation beyond the guest's memory limit.
        let max = config.parse_or("max_value_bytes", MAX_VALUE_BYTES)?;
        if max == 0 {
            return Err(Error::new("config key `max_value_bytes` must be positive"));
        }
        apache_avro::util::max_allocation_bytes(max);
        let readers = schemas()
            .and_then(|[full, older]| {
                Ok([
                    GenericSingleObjectReader::new_with_header_builder(full, NoHeader)?,
                    GenericSingleObjectReader::new_with_header_builder(older, NoHeader)?,
                ])
            })
            .map_err(|e| Error::new(format!("the DTS Record schema does not parse: {e}")))?;
        Ok(Dts {
            template,
            readers,
            last: 0,
        })
    }

    /// Decodes one Avro-encoded Record (the bytes of a record value).
    pub fn decode_avro(
        &mut self,
        bytes: &[u8],
        topic: &str,
        out: &mut ChangeBuilder,
    ) -> Result<(), Error> {
        let record = self.read(bytes)?;
        let record = Fields::of(&record, "the Record")?;
        let op = match record.get("operation")? {
            Avro::Enum(_, symbol) => match symbol.as_str() {
                "INSERT" => Op::Insert,
                "UPDATE" => Op::Update,
                "DELETE" => Op::Delete,
                // A full-data snapshot row: an upsert.
                "INIT" => Op::Read,
                "DDL" => {
                    counter_add(DDL_COUNTER, 1);
                    return Ok(());
                }
                _ => {
                    counter_add(SKIPPED_COUNTER, 1);
                    return Ok(());
                }
            },
            _ => return Err(Error::new("field `operation` is not an enum")),
        };
        let object = match record.get("objectName")? {
            Avro::String(s) => s.as_str(),
            _ => return Err(Error::new("a row record needs an `objectName`")),
        };
        let (database, table) = object.split_once('.').unwrap_or(("", object));
        let table = self
            .template
            .replace("{object}", object)
            .replace("{database}", database)
            .replace("{table}", table)
            .replace("{topic}", topic);
        let columns = columns(record.get("fields")?)?;
        let before = image(record.get("beforeImages")?, "beforeImages", columns.len())?;
        let after = image(record.get("afterImages")?, "afterImages", columns.len())?;
        let seconds = match record.get("sourceTimestamp")? {
            Avro::Long(s) => *s,
            _ => return Err(Error::new("field `sourceTimestamp` is not a long")),
        };

        let mut change = out.change(op, &table);
        change.event_time(seconds.checked_mul(1_000_000));
        if matches!(op, Op::Update | Op::Delete) {
            write(
                &mut change.before(),
                &columns,
                need(before, op, "beforeImages")?,
            )?;
        }
        if op != Op::Delete {
            write(
                &mut change.after(),
                &columns,
                need(after, op, "afterImages")?,
            )?;
        }
        Ok(())
    }
}

impl Dts {
    /// The Record `bytes` hold whole, by the schema that reads them without
    /// bytes left over; the error is the first schema's.
    fn read(&mut self, bytes: &[u8]) -> Result<Avro, Error> {
        let mut first = None;
        for i in [self.last, 1 - self.last] {
            let mut rest = bytes;
            let error = match self.readers[i].read_value(&mut rest) {
                Ok(record) if rest.is_empty() => {
                    self.last = i;
                    return Ok(record);
                }
                Ok(_) => format!("{} bytes after the record", rest.len()),
                Err(e) => e.to_string(),
            };
            if i == 0 {
                first = Some(error);
            }
        }
        Err(Error::new(format!(
            "not a DTS Avro Record: {}",
            first.unwrap_or_default()
        )))
    }
}

/// An image the operation needs.
fn need<'a>(image: Option<&'a [Avro]>, op: Op, name: &str) -> Result<&'a [Avro], Error> {
    image.ok_or_else(|| Error::new(format!("a {op:?} record needs its {name}")))
}

/// The `fields` list: each column's name and MySQL type number.
fn columns(fields: &Avro) -> Result<Vec<(&str, i32)>, Error> {
    let Avro::Array(items) = fields else {
        return Err(Error::new("a row record needs `fields` as a list"));
    };
    items
        .iter()
        .map(|item| {
            let f = Fields::of(item, "a field")?;
            let code = match f.get("dataTypeNumber")? {
                Avro::Int(code) => *code,
                _ => return Err(Error::new("`dataTypeNumber` is not an int")),
            };
            Ok((f.text("name")?, code))
        })
        .collect()
}

/// An image (`beforeImages` or `afterImages`), aligned with `fields`.
fn image<'a>(value: &'a Avro, name: &str, width: usize) -> Result<Option<&'a [Avro]>, Error> {
    match value {
        Avro::Null => Ok(None),
        Avro::Array(items) if items.len() == width => Ok(Some(items)),
        Avro::Array(items) => Err(Error::new(format!(
            "`{name}` has {} values for {width} fields",
            items.len()
        ))),
        _ => Err(Error::new(format!("`{name}` as text is not supported"))),
    }
}

/// Writes one image's values as typed columns.
fn write(out: &mut ImageWriter<'_>, columns: &[(&str, i32)], values: &[Avro]) -> Result<(), Error> {
    for (&(name, code), value) in columns.iter().zip(values) {
        match values::typed(value, code).map_err(|e| e.context(format_args!("column `{name}`")))? {
            (ty, None) => out.set_null(name, ty),
            (_, Some(v)) => out.set(name, &v),
        };
    }
    Ok(())
}

impl Decoder for Dts {
    fn init(config: &Config) -> Result<Self, Error> {
        Dts::from_config(config)
    }

    fn decode(&mut self, record: &Record<'_>, out: &mut ChangeBuilder) -> Result<(), Error> {
        match record.value() {
            // A tombstone carries no change.
            None => Ok(()),
            Some(bytes) => self.decode_avro(bytes, record.topic(), out),
        }
    }
}

floe_guest::export_decoder!(Dts);

#[cfg(test)]
mod tests;

//! JSON rows into images, for decoders of formats that carry rows as JSON
//! objects (Maxwell, AWS DMS, …). Behind the `json` feature.

use serde_json::{Map, Value as Json};

use crate::{ColumnType, Error, ImageWriter};

/// Writes the members of a JSON object as columns: an integer → long,
/// another number → double, a string → string, a boolean → boolean, null →
/// a null string, an object or array → its JSON text.
///
/// An integer beyond a long's range is an error naming its column.
pub fn write_json_row(image: &mut ImageWriter<'_>, row: &Map<String, Json>) -> Result<(), Error> {
    for (name, value) in row {
        match value {
            Json::Null => {
                image.set_null(name, ColumnType::String);
            }
            Json::Bool(b) => {
                image.set(name, *b);
            }
            Json::Number(n) => {
                if let Some(i) = n.as_i64() {
                    image.set(name, i);
                } else if n.is_u64() {
                    return Err(Error::new(format!(
                        "column `{name}`: integer {n} does not fit a long"
                    )));
                } else {
                    image.set(name, n.as_f64().unwrap_or(f64::NAN));
                }
            }
            Json::String(s) => {
                image.set(name, s.as_str());
            }
            Json::Array(_) | Json::Object(_) => {
                image.set(name, value.to_string().as_str());
            }
        }
    }
    Ok(())
}

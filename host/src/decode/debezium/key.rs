//! The Kafka record key: where key column names come from when the table
//! configures none, and the row identity of a delete without images.
//!
//! Debezium keys are structs of the primary-key columns, with a schema
//! block (`{"schema":…, "payload":{…}}`) or without one (`{…}`). MongoDB
//! keys are `{"id": "<Extended JSON of _id>"}`; their column is `_id`.

use std::sync::Arc;

use crate::change::Image;
use crate::decode::{DecodeError, Part};

use super::mongodb;
use super::raw::{self, EntriesError, NameSet};
use super::row::{self, Context};
use super::schema::{ParsedSchema, SchemaCache};

/// What the key gives.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct KafkaKey {
    /// The key's field names, as column names.
    pub names: Vec<String>,
    /// The key's fields as an image, when asked for.
    pub image: Option<Image>,
}

/// Decodes a record key. `Ok(None)` for a null key, a JSON `null`, or a key
/// that is not an object (a primitive key names no columns). `mongo` maps
/// the `id` field to `_id`; `want_image` also converts the values.
pub(crate) fn decode(
    bytes: Option<&[u8]>,
    cache: &mut SchemaCache,
    ctx: &Context,
    mongo: bool,
    want_image: bool,
) -> Result<Option<KafkaKey>, DecodeError> {
    let Some(bytes) = bytes else {
        return Ok(None);
    };
    let is_mongo_id = |name: &str| mongo && name == "id";
    let column = |name: &str| {
        if is_mongo_id(name) {
            mongodb::ID.to_owned()
        } else {
            name.to_owned()
        }
    };
    // Fast path for names only: a key whose schema block is the last one
    // seen names the schema's fields (JsonConverter writes every field).
    if !want_image
        && let Some((schema_text, parsed)) = &cache.recent_key
        && let Some(payload) = raw::payload_after_schema(bytes, schema_text)
        && serde_json::from_slice::<serde::de::IgnoredAny>(payload).is_ok()
    {
        let names = parsed
            .top
            .columns()
            .iter()
            .map(|c| column(&c.name))
            .collect();
        return Ok(Some(KafkaKey { names, image: None }));
    }
    let text = std::str::from_utf8(bytes).map_err(|e| DecodeError::InvalidJson {
        part: Part::Key,
        message: e.to_string(),
    })?;
    let top = match raw::entries(text) {
        Ok(top) => top,
        Err(EntriesError::NotAnObject(_)) => return Ok(None),
        Err(EntriesError::Syntax(message)) => {
            return Err(DecodeError::InvalidJson {
                part: Part::Key,
                message,
            });
        }
    };
    let mut schema: Option<Arc<ParsedSchema>> = None;
    let payload_storage;
    let payload: &raw::Entries = match (raw::get(&top, "schema"), raw::get(&top, "payload")) {
        (Some(s), Some(p)) if top.len() == 2 => {
            if !raw::is_null(s) {
                let (schema_text, parsed) =
                    cache.get_or_parse(s.get(), ctx.types).map_err(|message| {
                        DecodeError::InvalidSchema {
                            part: Part::Key,
                            message,
                        }
                    })?;
                cache.recent_key = Some((schema_text, parsed.clone()));
                schema = Some(parsed);
            }
            match raw::entries(p.get()) {
                Ok(entries) => {
                    payload_storage = entries;
                    &payload_storage
                }
                Err(_) => return Ok(None),
            }
        }
        _ => &top,
    };
    let names = payload.iter().map(|(name, _)| column(name)).collect();
    let image = if want_image {
        Some(if mongo {
            let mut fields = Vec::with_capacity(payload.len());
            let mut seen = NameSet::default();
            for (name, raw) in payload {
                let (column, (ty, value)) = if is_mongo_id(name) {
                    (mongodb::ID, mongodb::key_id(raw, ctx)?)
                } else {
                    (
                        name.as_ref(),
                        ctx.schemaless("key", name, &raw::Token::from_raw(raw))?,
                    )
                };
                row::push_field(&mut fields, &mut seen, column.into(), ty, value);
            }
            Image::from_distinct_fields(fields)
        } else {
            row::image_from_entries(
                "key",
                payload,
                schema.as_deref().map(|s| &s.top),
                ctx,
                false,
            )?
        })
    } else {
        None
    };
    Ok(Some(KafkaKey { names, image }))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::change::{ColumnType, Value};
    use crate::decode::debezium::numeric_time::TimeUnits;
    use crate::decode::debezium::schema::TypeMap;

    fn key(text: &str, mongo: bool) -> Result<Option<KafkaKey>, DecodeError> {
        let types = TypeMap::default();
        let ctx = Context {
            types: &types,
            times: &TimeUnits::default(),
            width: None,
            names: None,
        };
        decode(
            Some(text.as_bytes()),
            &mut SchemaCache::new(4),
            &ctx,
            mongo,
            true,
        )
    }

    #[test]
    fn keys_with_and_without_schema() {
        let k = key(
            r#"{"schema":{"type":"struct","fields":[{"type":"int32","optional":false,"field":"id"}]},"payload":{"id":1004}}"#,
            false,
        )
        .unwrap()
        .unwrap();
        assert_eq!(k.names, ["id"]);
        let image = k.image.unwrap();
        assert_eq!(image.get("id"), Some(&Value::Int(1004)));
        assert_eq!(image.field("id").unwrap().ty, ColumnType::Int);

        let k = key(r#"{"a": 1, "b": "x"}"#, false).unwrap().unwrap();
        assert_eq!(k.names, ["a", "b"]);
        assert_eq!(k.image.unwrap().get("a"), Some(&Value::Long(1)));

        assert_eq!(key("\"plain\"", false).unwrap(), None);
        assert_eq!(key("null", false).unwrap(), None);
        assert!(matches!(
            key("{", false),
            Err(DecodeError::InvalidJson {
                part: Part::Key,
                ..
            })
        ));
    }

    #[test]
    fn mongodb_key_ids() {
        let k = key(
            r#"{"id": "{\"$oid\": \"67ab25755c0d5ac87eb8c632\"}"}"#,
            true,
        )
        .unwrap()
        .unwrap();
        assert_eq!(k.names, ["_id"]);
        assert_eq!(
            k.image.unwrap().get("_id"),
            Some(&Value::String("67ab25755c0d5ac87eb8c632".into()))
        );
        let k = key(r#"{"id": "{\"$numberLong\": \"1004\"}"}"#, true)
            .unwrap()
            .unwrap();
        assert_eq!(k.image.unwrap().get("_id"), Some(&Value::Long(1004)));
        let k = key(r#"{"id": "plain-string-id"}"#, true).unwrap().unwrap();
        assert_eq!(
            k.image.unwrap().get("_id"),
            Some(&Value::String("plain-string-id".into()))
        );
    }
}

//! The `source` block of a Debezium envelope: the names of the table the
//! change belongs to and when the database committed it.

use std::borrow::Cow;
use std::fmt;
use std::marker::PhantomData;

use serde::Deserialize;
use serde::de::{self, IgnoredAny, MapAccess, SeqAccess, Visitor};

use super::envelope::{micros_of, qualified};
use super::raw::Text;

/// The envelope's `source` block: what names the table and dates the change.
/// Read leniently: a member of an unexpected type counts as absent.
#[derive(Debug, Default)]
pub(crate) struct Source<'a> {
    connector: Option<Text<'a>>,
    db: Option<Text<'a>>,
    schema: Option<Text<'a>>,
    table: Option<Text<'a>>,
    collection: Option<Text<'a>>,
    ts_ms: Option<i64>,
    ts_us: Option<i64>,
    ts_ns: Option<i64>,
}

impl<'a> Source<'a> {
    /// The connector's name (`mysql`, `postgresql`, `mongodb`, ...).
    pub(crate) fn connector(&self) -> Option<&str> {
        self.connector.as_ref().map(|t| t.0.as_ref())
    }

    /// When the database committed the change, in µs: `ts_us`, else
    /// `ts_ns`, else `ts_ms` of the source block.
    pub(crate) fn event_time(&self) -> Option<i64> {
        micros_of(self.ts_us, self.ts_ns, self.ts_ms)
    }

    /// `schema.table` (PostgreSQL, SQL Server, Oracle), `db.table` (MySQL)
    /// or `db.collection` (MongoDB).
    pub(crate) fn table_name(&self) -> Option<String> {
        let non_empty =
            |t: &Option<Text<'a>>| t.as_ref().map(|t| t.0.clone()).filter(|s| !s.is_empty());
        qualified(
            non_empty(&self.schema).or_else(|| non_empty(&self.db)),
            non_empty(&self.table).or_else(|| non_empty(&self.collection)),
        )
    }
}

impl<'de: 'a, 'a> Deserialize<'de> for Source<'a> {
    fn deserialize<D: de::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct SourceVisitor<'a>(PhantomData<&'a ()>);
        impl<'de: 'a, 'a> Visitor<'de> for SourceVisitor<'a> {
            type Value = Source<'a>;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("a source block")
            }
            fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Self::Value, A::Error> {
                let mut source = Source::default();
                while let Some(Text(name)) = map.next_key::<Text<'de>>()? {
                    let text = match name.as_ref() {
                        "connector" => &mut source.connector,
                        "db" => &mut source.db,
                        "schema" => &mut source.schema,
                        "table" => &mut source.table,
                        "collection" => &mut source.collection,
                        "ts_ms" | "ts_us" | "ts_ns" => {
                            let value = map.next_value::<Loose<i64>>()?.0;
                            match name.as_ref() {
                                "ts_ms" => source.ts_ms = value,
                                "ts_us" => source.ts_us = value,
                                _ => source.ts_ns = value,
                            }
                            continue;
                        }
                        _ => {
                            map.next_value::<IgnoredAny>()?;
                            continue;
                        }
                    };
                    *text = map.next_value::<Loose<Text<'a>>>()?.0;
                }
                Ok(source)
            }
            fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Self::Value, A::Error> {
                while seq.next_element::<IgnoredAny>()?.is_some() {}
                Ok(Source::default())
            }
            fn visit_unit<E: de::Error>(self) -> Result<Self::Value, E> {
                Ok(Source::default())
            }
            fn visit_bool<E: de::Error>(self, _: bool) -> Result<Self::Value, E> {
                Ok(Source::default())
            }
            fn visit_i64<E: de::Error>(self, _: i64) -> Result<Self::Value, E> {
                Ok(Source::default())
            }
            fn visit_u64<E: de::Error>(self, _: u64) -> Result<Self::Value, E> {
                Ok(Source::default())
            }
            fn visit_f64<E: de::Error>(self, _: f64) -> Result<Self::Value, E> {
                Ok(Source::default())
            }
            fn visit_str<E: de::Error>(self, _: &str) -> Result<Self::Value, E> {
                Ok(Source::default())
            }
        }
        deserializer.deserialize_any(SourceVisitor(PhantomData))
    }
}

/// A value of type `T` if the JSON has that type, else `None` (consumed either way).
struct Loose<T>(Option<T>);

impl<'de: 'a, 'a> Deserialize<'de> for Loose<Text<'a>> {
    fn deserialize<D: de::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct V<'a>(PhantomData<&'a ()>);
        impl<'de: 'a, 'a> Visitor<'de> for V<'a> {
            type Value = Loose<Text<'a>>;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("any value")
            }
            fn visit_borrowed_str<E: de::Error>(self, v: &'de str) -> Result<Self::Value, E> {
                Ok(Loose(Some(Text(Cow::Borrowed(v)))))
            }
            fn visit_str<E: de::Error>(self, v: &str) -> Result<Self::Value, E> {
                Ok(Loose(Some(Text(Cow::Owned(v.to_owned())))))
            }
            fn visit_string<E: de::Error>(self, v: String) -> Result<Self::Value, E> {
                Ok(Loose(Some(Text(Cow::Owned(v)))))
            }
            fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Self::Value, A::Error> {
                while map.next_entry::<IgnoredAny, IgnoredAny>()?.is_some() {}
                Ok(Loose(None))
            }
            fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Self::Value, A::Error> {
                while seq.next_element::<IgnoredAny>()?.is_some() {}
                Ok(Loose(None))
            }
            fn visit_unit<E: de::Error>(self) -> Result<Self::Value, E> {
                Ok(Loose(None))
            }
            fn visit_bool<E: de::Error>(self, _: bool) -> Result<Self::Value, E> {
                Ok(Loose(None))
            }
            fn visit_i64<E: de::Error>(self, _: i64) -> Result<Self::Value, E> {
                Ok(Loose(None))
            }
            fn visit_u64<E: de::Error>(self, _: u64) -> Result<Self::Value, E> {
                Ok(Loose(None))
            }
            fn visit_f64<E: de::Error>(self, _: f64) -> Result<Self::Value, E> {
                Ok(Loose(None))
            }
        }
        deserializer.deserialize_any(V(PhantomData))
    }
}

impl<'de> Deserialize<'de> for Loose<i64> {
    fn deserialize<D: de::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct V;
        impl<'de> Visitor<'de> for V {
            type Value = Loose<i64>;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("any value")
            }
            fn visit_i64<E: de::Error>(self, v: i64) -> Result<Self::Value, E> {
                Ok(Loose(Some(v)))
            }
            fn visit_u64<E: de::Error>(self, v: u64) -> Result<Self::Value, E> {
                Ok(Loose(i64::try_from(v).ok()))
            }
            fn visit_f64<E: de::Error>(self, _: f64) -> Result<Self::Value, E> {
                Ok(Loose(None))
            }
            fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Self::Value, A::Error> {
                while map.next_entry::<IgnoredAny, IgnoredAny>()?.is_some() {}
                Ok(Loose(None))
            }
            fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Self::Value, A::Error> {
                while seq.next_element::<IgnoredAny>()?.is_some() {}
                Ok(Loose(None))
            }
            fn visit_unit<E: de::Error>(self) -> Result<Self::Value, E> {
                Ok(Loose(None))
            }
            fn visit_bool<E: de::Error>(self, _: bool) -> Result<Self::Value, E> {
                Ok(Loose(None))
            }
            fn visit_str<E: de::Error>(self, _: &str) -> Result<Self::Value, E> {
                Ok(Loose(None))
            }
        }
        deserializer.deserialize_any(V)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn source(text: &str) -> Source<'_> {
        serde_json::from_str(text).unwrap()
    }

    #[test]
    fn source_blocks() {
        let s = source(
            r#"{"connector":"postgresql","db":"postgres","schema":"public","table":"t","ts_ms":1,"ts_us":1500,"ts_ns":1500999,"snapshot":true,"x":{"y":[1]}}"#,
        );
        assert_eq!(s.connector(), Some("postgresql"));
        assert_eq!(s.event_time(), Some(1500));
        assert_eq!(s.table_name().as_deref(), Some("public.t"));

        let s = source(r#"{"db":"inventory","table":"customers","ts_ns":1465491411815437158}"#);
        assert_eq!(s.event_time(), Some(1_465_491_411_815_437));
        assert_eq!(s.table_name().as_deref(), Some("inventory.customers"));

        let s = source(r#"{"db":"x","schema":"","collection":"c","ts_ms":2}"#);
        assert_eq!(s.event_time(), Some(2000));
        assert_eq!(s.table_name().as_deref(), Some("x.c"));

        let s = source(r#"{"db":5,"table":{"a":1},"ts_ms":"3","ts_us":[1]}"#);
        assert_eq!(s.table_name(), None, "lenient");
        assert_eq!(s.event_time(), None);
        assert_eq!(source(r#"{"ts_ms":1.5}"#).event_time(), None);
        assert_eq!(source("null").table_name(), None);
        assert_eq!(source("[1,{}]").event_time(), None);
    }
}

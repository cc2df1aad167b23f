//! Borrowed access to JSON text: an object's entries as raw values, scalar
//! tokens, compaction of nested values, and a fast hash for text keys.
//!
//! The decoder reads each JSON byte about twice: once when serde_json splits
//! an object into `(name, raw value)` pairs (validating it), once when a raw
//! value is converted to its column's type. Nothing is built as a
//! `serde_json::Value` tree on the common path.

use std::borrow::Cow;
use std::fmt;
use std::hash::{BuildHasherDefault, Hasher};
use std::sync::Arc;

use serde::de::{self, Deserialize, Deserializer, MapAccess, Visitor};
use serde_json::value::RawValue;

use crate::change::Field;

/// The `(name, raw value)` pairs of a JSON object, in document order.
pub(crate) type Entries<'a> = Vec<(Cow<'a, str>, &'a RawValue)>;

/// A JSON string (an object member name, or a value read with serde
/// derive), borrowed from the input unless it has escapes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Text<'a>(pub Cow<'a, str>);

impl<'de: 'a, 'a> Deserialize<'de> for Text<'a> {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct TextVisitor<'a>(std::marker::PhantomData<&'a ()>);
        impl<'de: 'a, 'a> Visitor<'de> for TextVisitor<'a> {
            type Value = Text<'a>;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("a string")
            }
            fn visit_borrowed_str<E: de::Error>(self, v: &'de str) -> Result<Self::Value, E> {
                Ok(Text(Cow::Borrowed(v)))
            }
            fn visit_str<E: de::Error>(self, v: &str) -> Result<Self::Value, E> {
                Ok(Text(Cow::Owned(v.to_owned())))
            }
            fn visit_string<E: de::Error>(self, v: String) -> Result<Self::Value, E> {
                Ok(Text(Cow::Owned(v)))
            }
        }
        deserializer.deserialize_str(TextVisitor(std::marker::PhantomData))
    }
}

/// Deserializes a JSON object into its entries.
struct EntriesOf<'a>(Entries<'a>);

impl<'de> Deserialize<'de> for EntriesOf<'de> {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct EntriesVisitor;
        impl<'de> Visitor<'de> for EntriesVisitor {
            type Value = EntriesOf<'de>;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("a JSON object")
            }
            fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Self::Value, A::Error> {
                let mut entries = Vec::with_capacity(map.size_hint().unwrap_or(16));
                while let Some(Text(name)) = map.next_key::<Text<'de>>()? {
                    let value: &'de RawValue = map.next_value()?;
                    entries.push((name, value));
                }
                Ok(EntriesOf(entries))
            }
        }
        deserializer.deserialize_map(EntriesVisitor)
    }
}

/// Why text could not be split into an object's entries.
#[derive(Debug)]
pub(crate) enum EntriesError {
    /// The text is not valid JSON.
    Syntax(String),
    /// The text is valid JSON but not an object; names what it is.
    NotAnObject(&'static str),
}

/// Splits `text`, which must hold exactly one JSON object, into its entries.
pub(crate) fn entries(text: &str) -> Result<Entries<'_>, EntriesError> {
    match serde_json::from_str::<EntriesOf>(text) {
        Ok(EntriesOf(entries)) => Ok(entries),
        Err(error) if error.classify() == serde_json::error::Category::Data => {
            Err(EntriesError::NotAnObject(kind_of(text)))
        }
        Err(error) => Err(EntriesError::Syntax(error.to_string())),
    }
}

/// The payload bytes of `message` if it is `{"schema":<schema>,"payload":…}`
/// in JsonConverter's compact layout with exactly this schema text; the
/// payload is not checked.
pub(crate) fn payload_after_schema<'m>(message: &'m [u8], schema: &str) -> Option<&'m [u8]> {
    message
        .strip_prefix(b"{\"schema\":")?
        .strip_prefix(schema.as_bytes())?
        .strip_prefix(b",\"payload\":")?
        .trim_ascii_end()
        .strip_suffix(b"}")
}

/// What kind of JSON value `text` starts with, for messages.
pub(crate) fn kind_of(text: &str) -> &'static str {
    match text.trim_start().as_bytes().first() {
        Some(b'{') => "an object",
        Some(b'[') => "an array",
        Some(b'"') => "a string",
        Some(b'n') => "null",
        Some(b't' | b'f') => "a boolean",
        Some(_) => "a number",
        None => "empty",
    }
}

/// The raw value of member `name`; the last one wins when a name repeats
/// (as with `serde_json::Value`).
pub(crate) fn get<'a>(
    entries: &[(Cow<'a, str>, &'a RawValue)],
    name: &str,
) -> Option<&'a RawValue> {
    entries
        .iter()
        .rev()
        .find(|(n, _)| n == name)
        .map(|&(_, v)| v)
}

/// Whether a raw value is JSON `null`.
pub(crate) fn is_null(raw: &RawValue) -> bool {
    raw.get() == "null"
}

/// The string a raw value holds, unescaped; `None` if it is not a string.
pub(crate) fn as_str(raw: &RawValue) -> Option<Cow<'_, str>> {
    match Token::from_raw(raw) {
        Token::String(s) => Some(s),
        _ => None,
    }
}

/// The integer a raw value holds, if it is an integer that fits an `i64`.
pub(crate) fn as_i64(raw: &RawValue) -> Option<i64> {
    raw.get().parse().ok()
}

/// One JSON value, read just far enough to convert it to a column type.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Token<'a> {
    /// `null`.
    Null,
    /// `true` or `false`.
    Bool(bool),
    /// A number, as its exact JSON text (no precision lost yet).
    Number(Cow<'a, str>),
    /// A string, unescaped.
    String(Cow<'a, str>),
    /// An object or array, as compact JSON text.
    Nested(Cow<'a, str>),
}

impl<'a> Token<'a> {
    /// Reads a raw value that serde_json has already validated.
    pub(crate) fn from_raw(raw: &'a RawValue) -> Token<'a> {
        // Raw values never carry surrounding whitespace.
        let text = raw.get();
        match text.as_bytes().first() {
            Some(b'n') => Token::Null,
            Some(b't') => Token::Bool(true),
            Some(b'f') => Token::Bool(false),
            Some(b'"') => {
                let inner = &text[1..text.len() - 1];
                if inner.contains('\\') {
                    // Validated already, so this cannot fail; keep the text if it somehow does.
                    Token::String(
                        serde_json::from_str::<String>(text)
                            .map_or(Cow::Borrowed(inner), Cow::Owned),
                    )
                } else {
                    Token::String(Cow::Borrowed(inner))
                }
            }
            Some(b'{' | b'[') => Token::Nested(compact(text)),
            _ => Token::Number(Cow::Borrowed(text)),
        }
    }

    /// The token as JSON text, for error messages.
    pub(crate) fn to_json_text(&self) -> String {
        match self {
            Token::Null => "null".to_owned(),
            Token::Bool(b) => b.to_string(),
            Token::Number(n) | Token::Nested(n) => n.to_string(),
            Token::String(s) => serde_json::Value::String(s.to_string()).to_string(),
        }
    }
}

/// `text` without whitespace outside strings (borrowed when it has none).
/// Member order and number spelling are kept exactly, unlike a round trip
/// through `serde_json::Value`.
pub(crate) fn compact(text: &str) -> Cow<'_, str> {
    let bytes = text.as_bytes();
    let mut in_string = false;
    let mut escaped = false;
    let mut out: Option<String> = None;
    let mut copied = 0; // bytes of `text` already accounted for in `out`
    for (i, &b) in bytes.iter().enumerate() {
        if in_string {
            if escaped {
                escaped = false;
            } else if b == b'\\' {
                escaped = true;
            } else if b == b'"' {
                in_string = false;
            }
        } else if b == b'"' {
            in_string = true;
        } else if matches!(b, b' ' | b'\n' | b'\r' | b'\t') {
            let out = out.get_or_insert_with(|| String::with_capacity(text.len()));
            out.push_str(&text[copied..i]);
            copied = i + 1;
        }
    }
    match out {
        None => Cow::Borrowed(text),
        Some(mut out) => {
            out.push_str(&text[copied..]);
            Cow::Owned(out)
        }
    }
}

/// A fast, non-cryptographic hasher for text keys (schema texts, column
/// names). Lookups still compare the keys, so a collision costs a compare,
/// never a wrong answer.
#[derive(Default, Clone, Copy)]
pub(crate) struct FastHasher(u64);

const SEED: u64 = 0x51_7c_c1_b7_27_22_0a_95;

impl FastHasher {
    #[inline]
    fn add(&mut self, word: u64) {
        self.0 = (self.0.rotate_left(5) ^ word).wrapping_mul(SEED);
    }
}

impl Hasher for FastHasher {
    #[inline]
    fn write(&mut self, bytes: &[u8]) {
        let mut chunks = bytes.chunks_exact(8);
        for chunk in &mut chunks {
            self.add(u64::from_le_bytes(chunk.try_into().expect("8 bytes")));
        }
        let rest = chunks.remainder();
        if !rest.is_empty() {
            let mut word = [0u8; 8];
            word[..rest.len()].copy_from_slice(rest);
            self.add(u64::from_le_bytes(word));
        }
        self.add(bytes.len() as u64);
    }

    #[inline]
    fn write_u8(&mut self, i: u8) {
        self.add(u64::from(i));
    }

    #[inline]
    fn write_usize(&mut self, i: usize) {
        self.add(i as u64);
    }

    #[inline]
    fn finish(&self) -> u64 {
        // Final avalanche so that the low bits (the bucket index) depend on all input.
        let mut h = self.0;
        h ^= h >> 33;
        h = h.wrapping_mul(0xff51_afd7_ed55_8ccd);
        h ^= h >> 33;
        h
    }
}

/// A `HashMap` with [`FastHasher`].
pub(crate) type FastMap<K, V> = std::collections::HashMap<K, V, BuildHasherDefault<FastHasher>>;

/// Finds an earlier column of the same name in one image, cheaply: a
/// 256-bit filter on a hash of the name's length and end bytes first, and a
/// scan of the earlier names only when the filter says maybe. Past
/// [`NameSet::EXACT_FROM`] names (where the filter fills up and every scan
/// would make a wide image quadratic) an exact index of names takes over.
#[derive(Default)]
pub(crate) struct NameSet {
    filter: [u64; 4],
    exact: Option<FastMap<Arc<str>, usize>>,
}

impl NameSet {
    /// How many names an image has before the exact index takes over.
    const EXACT_FROM: usize = 64;

    /// Records `name`; returns whether it may have been seen before (then
    /// the caller scans).
    #[inline]
    fn insert(&mut self, name: &str) -> bool {
        let bytes = name.as_bytes();
        let (first, last) = match bytes {
            [] => (0, 0),
            [only] => (*only, *only),
            [first, .., last] => (*first, *last),
        };
        let hash = (bytes.len() as u32)
            .wrapping_mul(0x9e37_79b9)
            .wrapping_add(u32::from(first).wrapping_mul(0x85eb_ca6b))
            .wrapping_add(u32::from(last).wrapping_mul(0xc2b2_ae35));
        let bit = (hash >> 24) as usize;
        let (word, mask) = (bit / 64, 1u64 << (bit % 64));
        let seen = self.filter[word] & mask != 0;
        self.filter[word] |= mask;
        seen
    }

    /// The index in `fields` (the image's fields so far, each recorded
    /// here) of the field named `name`; `None` when there is none, and then
    /// `name` is recorded as the next field's.
    #[inline]
    pub(crate) fn position(&mut self, fields: &[Field], name: &Arc<str>) -> Option<usize> {
        if let Some(exact) = &mut self.exact {
            return match exact.get(name) {
                Some(&at) => Some(at),
                None => {
                    exact.insert(name.clone(), fields.len());
                    None
                }
            };
        }
        if fields.len() >= Self::EXACT_FROM {
            let mut exact: FastMap<Arc<str>, usize> = fields
                .iter()
                .enumerate()
                .map(|(at, f)| (f.name.clone(), at))
                .collect();
            exact.insert(name.clone(), fields.len());
            self.exact = Some(exact);
            return fields.iter().position(|f| f.name == *name);
        }
        if self.insert(name) {
            fields.iter().position(|f| f.name == *name)
        } else {
            None
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn entries_keep_order_and_borrow() {
        let text = r#"{"b": 1, "a\u0041": "x", "c": {"d": [1, 2]}}"#;
        let e = entries(text).unwrap();
        let names: Vec<&str> = e.iter().map(|(n, _)| n.as_ref()).collect();
        assert_eq!(names, ["b", "aA", "c"]);
        assert!(matches!(e[0].0, Cow::Borrowed(_)));
        assert_eq!(e[2].1.get(), r#"{"d": [1, 2]}"#);
        assert!(matches!(
            entries("[1]"),
            Err(EntriesError::NotAnObject("an array"))
        ));
        assert!(matches!(entries("{\"a\":"), Err(EntriesError::Syntax(_))));
        assert!(matches!(entries("{} x"), Err(EntriesError::Syntax(_))));
    }

    #[test]
    fn tokens_read_every_kind() {
        let e = entries(
            r#"{"n":null,"t":true,"s":"a\"b","p":"plain","x":-1.5e3,"o":{ "a" : [ 1 , "x y" ] }}"#,
        )
        .unwrap();
        let t: Vec<Token> = e.iter().map(|(_, v)| Token::from_raw(v)).collect();
        assert_eq!(t[0], Token::Null);
        assert_eq!(t[1], Token::Bool(true));
        assert_eq!(t[2], Token::String("a\"b".into()));
        assert!(matches!(&t[3], Token::String(Cow::Borrowed("plain"))));
        assert_eq!(t[4], Token::Number("-1.5e3".into()));
        assert_eq!(t[5], Token::Nested(r#"{"a":[1,"x y"]}"#.into()));
    }

    #[test]
    fn compact_keeps_strings_and_order() {
        assert!(matches!(compact(r#"{"a":1}"#), Cow::Borrowed(_)));
        assert_eq!(
            compact("{ \"z\" : \"a \\\" b\" ,\n \"a\": 1.0 }"),
            "{\"z\":\"a \\\" b\",\"a\":1.0}"
        );
    }

    #[test]
    fn name_set_flags_repeats() {
        let mut set = NameSet::default();
        assert!(!set.insert("id"));
        assert!(set.insert("id"));
    }

    #[test]
    fn name_set_finds_repeats_in_wide_images() {
        let mut set = NameSet::default();
        let mut fields: Vec<Field> = Vec::new();
        for i in 0..1_000 {
            let name: Arc<str> = Arc::from(format!("c{i}"));
            assert_eq!(set.position(&fields, &name), None, "{name} is new");
            fields.push(Field {
                name,
                ty: crate::change::ColumnType::Long,
                value: None,
            });
        }
        for i in [0, 63, 64, 65, 999] {
            let name: Arc<str> = Arc::from(format!("c{i}"));
            assert_eq!(set.position(&fields, &name), Some(i), "c{i} repeats");
        }
    }
}

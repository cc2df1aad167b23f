//! `mask`: replaces the values of chosen columns with a salted SHA-256 hash
//! or a redaction, in the before and after images.

use floe_guest::{Change, ColumnType, Config, Error, Outcome, OwnedValue, Transformer, Value};
use sha2::{Digest, Sha256};

/// How values are masked.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Mode {
    /// Lowercase hex of SHA-256(salt ‖ the value's bytes); the column becomes a `string`.
    Hash {
        /// The salt, as UTF-8 bytes.
        salt: Vec<u8>,
    },
    /// Strings become `replacement`; values of other types become null.
    Redact {
        /// What string values become.
        replacement: String,
    },
}

/// The `mask` transformer.
pub struct Mask {
    columns: Vec<String>,
    mode: Mode,
    /// Reused buffer for a value's bytes.
    buf: Vec<u8>,
}

impl Mask {
    /// Reads `columns`, `mode`, `salt` and `replacement`.
    pub fn from_config(config: &Config) -> Result<Mask, Error> {
        // Each name once: a column listed twice is masked once.
        let mut columns: Vec<String> = Vec::new();
        for column in config.list("columns") {
            if !columns.iter().any(|c| c == column) {
                columns.push(column.to_owned());
            }
        }
        if columns.is_empty() {
            return Err(Error::new(
                "missing required config key `columns` (comma-separated column names)",
            ));
        }
        let mode = match config.get_or("mode", "hash").trim() {
            "hash" => Mode::Hash {
                salt: config
                    .require("salt")
                    .map_err(|e| e.context("mode `hash` needs a salt"))?
                    .as_bytes()
                    .to_vec(),
            },
            "redact" => Mode::Redact {
                replacement: config.get_or("replacement", "***").to_owned(),
            },
            other => {
                return Err(Error::new(format!(
                    "config key `mode`: unknown mode `{other}` (expected `hash` or `redact`)"
                )));
            }
        };
        Ok(Mask {
            columns,
            mode,
            buf: Vec::new(),
        })
    }

    /// What `value` (of type `ty`) becomes, or `None` when it stays as it is.
    pub fn mask_value(
        &mut self,
        ty: ColumnType,
        value: Value<'_>,
    ) -> Option<(ColumnType, OwnedValue)> {
        mask_value(&self.mode, &mut self.buf, ty, value)
    }
}

/// What `value` (of type `ty`) becomes under `mode`, or `None` when it stays
/// as it is (nulls). `buf` is scratch space for the value's bytes.
fn mask_value(
    mode: &Mode,
    buf: &mut Vec<u8>,
    ty: ColumnType,
    value: Value<'_>,
) -> Option<(ColumnType, OwnedValue)> {
    if value.is_null() {
        return None;
    }
    match mode {
        Mode::Hash { salt } => {
            buf.clear();
            value.encode_into(buf);
            Some((ColumnType::String, OwnedValue::String(hash_hex(salt, buf))))
        }
        Mode::Redact { replacement } => Some(if ty == ColumnType::String {
            (ColumnType::String, OwnedValue::String(replacement.clone()))
        } else {
            (ty, OwnedValue::Null)
        }),
    }
}

/// Lowercase hex of SHA-256(salt ‖ bytes).
pub fn hash_hex(salt: &[u8], bytes: &[u8]) -> String {
    const HEX: &[u8; 16] = b"0123456789abcdef";
    let digest = Sha256::new()
        .chain_update(salt)
        .chain_update(bytes)
        .finalize();
    let mut hex = [0u8; 64];
    for (pair, b) in hex.chunks_exact_mut(2).zip(digest) {
        pair[0] = HEX[usize::from(b >> 4)];
        pair[1] = HEX[usize::from(b & 15)];
    }
    std::str::from_utf8(&hex)
        .expect("hex digits are ASCII")
        .to_owned()
}

impl Transformer for Mask {
    fn init(config: &Config) -> Result<Self, Error> {
        Mask::from_config(config)
    }

    fn transform(&mut self, change: &mut Change<'_>) -> Outcome {
        let Mask { columns, mode, buf } = self;
        // Read from the images as they came (borrowed from the batch), write
        // into the change: only a change with something to mask is copied.
        let (before, after) = (change.original_before(), change.original_after());
        for column in columns.iter() {
            let old = before.and_then(|image| image.field(column));
            let new = after.and_then(|image| image.field(column));
            let masked_old = old.and_then(|f| mask_value(mode, buf, f.ty, f.value));
            // An update's images mostly carry the same value: mask it once.
            let masked_new = match (new, old, &masked_old) {
                (Some(n), Some(o), Some(masked)) if n.ty == o.ty && n.value == o.value => {
                    Some(masked.clone())
                }
                (Some(n), ..) => mask_value(mode, buf, n.ty, n.value),
                (None, ..) => None,
            };
            if let Some((ty, value)) = masked_old {
                let mut image = change.before_mut().expect("the change has a before image");
                image
                    .set_typed(column, ty, value)
                    .expect("a value of type ty");
            }
            if let Some((ty, value)) = masked_new {
                let mut image = change.after_mut().expect("the change has an after image");
                image
                    .set_typed(column, ty, value)
                    .expect("a value of type ty");
            }
        }
        Outcome::Keep
    }
}

floe_guest::export_transformer!(Mask);

#[cfg(test)]
mod tests {
    use super::*;
    use floe_guest::testing::{self, TestOutcome};
    use floe_guest::{ChangeBuilder, Decimal, Op};

    fn mask(pairs: &[(&str, &str)]) -> Result<Mask, Error> {
        Mask::init(&Config::from_pairs(pairs.iter().copied()))
    }

    #[test]
    fn config_errors_are_clear() {
        assert_eq!(
            mask(&[("salt", "s")]).err().unwrap().to_string(),
            "missing required config key `columns` (comma-separated column names)"
        );
        assert_eq!(
            mask(&[("columns", "a")]).err().unwrap().to_string(),
            "mode `hash` needs a salt: missing required config key `salt`"
        );
        assert!(mask(&[("columns", "a"), ("mode", "scramble")]).is_err());
        assert!(mask(&[("columns", "a"), ("mode", "redact")]).is_ok());
        let m = mask(&[("columns", "a, b,a,,"), ("salt", "")]).unwrap();
        assert_eq!(m.columns, vec!["a".to_string(), "b".to_string()]);
    }

    #[test]
    fn hash_is_salted_sha256_of_the_column_encoding() {
        // Reference digests from Python's hashlib: the Python helper must agree.
        let mut m = mask(&[("columns", "x"), ("salt", "s3cret")]).unwrap();
        let hash = |m: &mut Mask, ty, v| match m.mask_value(ty, v) {
            Some((ColumnType::String, OwnedValue::String(s))) => s,
            other => panic!("{other:?}"),
        };
        // sha256(b"s3cret" + b"a@b.c")
        assert_eq!(
            hash(&mut m, ColumnType::String, Value::String("a@b.c")),
            "c25c4ac7a71c921caeb6bd75726a3e8d72cd60dc9c9a8f88869822bb4d02b9b9"
        );
        // sha256(b"s3cret" + struct.pack("<q", 5551234))
        assert_eq!(
            hash(&mut m, ColumnType::Long, Value::Long(5551234)),
            "23b54de33d1772c75b4762cec6e4405b99277f9814d8ea34e5e11694583f7f26"
        );
        // sha256(b"s3cret" + (-5).to_bytes(16, "little", signed=True)), decimal(10,2) -0.05
        let d = Decimal {
            unscaled: -5,
            precision: 10,
            scale: 2,
        };
        assert_eq!(
            hash(&mut m, d.column_type(), Value::Decimal(d)),
            "b9706f88bbedfb6f4c788ba619d962c1267156a9d2e1a26956e701ee0c96b212"
        );
        assert_eq!(m.mask_value(ColumnType::Long, Value::Null), None);
    }

    #[test]
    fn known_digest() {
        // SHA-256("abc")
        assert_eq!(
            hash_hex(b"a", b"bc"),
            "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
        );
    }

    fn batch() -> testing::Batch {
        let mut b = ChangeBuilder::new();
        {
            let mut c = b.change(Op::Update, "t");
            c.before()
                .set("id", 1i64)
                .set("email", "old@x.io")
                .set("phone", 5551234i64);
            c.after()
                .set("id", 1i64)
                .set("email", "new@x.io")
                .set_null("phone", ColumnType::Long);
        }
        b.change(Op::Insert, "t").after().set("id", 2i64);
        b.change(Op::Insert, "t")
            .after()
            .set("id", 3i64)
            .set_null("email", ColumnType::String);
        b.finish()
    }

    #[test]
    fn hashes_both_images_and_leaves_null_and_absent_alone() {
        let mut m = mask(&[("columns", "email, phone"), ("salt", "s3cret")]).unwrap();
        let out = testing::transform(&mut m, &batch());
        let TestOutcome::Replace(c) = &out[0] else {
            panic!("{out:?}")
        };
        let before = c.before.as_ref().unwrap();
        assert_eq!(
            before.get("email"),
            Some(&OwnedValue::String(hash_hex(b"s3cret", b"old@x.io")))
        );
        let mut phone = b"s3cret".to_vec();
        phone.extend(5551234i64.to_le_bytes());
        assert_eq!(
            before.get("phone"),
            Some(&OwnedValue::String(hash_hex(b"", &phone)))
        );
        assert_eq!(before.column_type("phone"), Some(ColumnType::String));
        let after = c.after.as_ref().unwrap();
        assert_eq!(
            after.get("email"),
            Some(&OwnedValue::String(hash_hex(b"s3cret", b"new@x.io")))
        );
        assert_eq!(after.get("phone"), Some(&OwnedValue::Null));
        assert_eq!(after.column_type("phone"), Some(ColumnType::Long));
        assert_eq!(after.get("id"), Some(&OwnedValue::Long(1)));
        // Nothing to mask: kept without a copy.
        assert_eq!(out[1], TestOutcome::Keep);
        assert_eq!(out[2], TestOutcome::Keep);
    }

    #[test]
    fn an_unchanged_value_is_masked_alike_in_both_images() {
        let mut m = mask(&[("columns", "email"), ("salt", "s3cret")]).unwrap();
        let mut b = ChangeBuilder::new();
        {
            let mut c = b.change(Op::Update, "t");
            c.before().set("id", 1i64).set("email", "same@x.io");
            c.after().set("id", 1i64).set("email", "same@x.io");
        }
        let out = testing::transform(&mut m, &b.finish());
        let TestOutcome::Replace(c) = &out[0] else {
            panic!("{out:?}")
        };
        let hashed = OwnedValue::String(hash_hex(b"s3cret", b"same@x.io"));
        assert_eq!(c.before.as_ref().unwrap().get("email"), Some(&hashed));
        assert_eq!(c.after.as_ref().unwrap().get("email"), Some(&hashed));
    }

    #[test]
    fn redacts_strings_and_nulls_other_types() {
        let mut m = mask(&[
            ("columns", "email,phone"),
            ("mode", "redact"),
            ("replacement", "<x>"),
        ])
        .unwrap();
        let out = testing::transform(&mut m, &batch());
        let TestOutcome::Replace(c) = &out[0] else {
            panic!("{out:?}")
        };
        let before = c.before.as_ref().unwrap();
        assert_eq!(before.get("email"), Some(&"<x>".into()));
        assert_eq!(before.get("phone"), Some(&OwnedValue::Null));
        assert_eq!(before.column_type("phone"), Some(ColumnType::Long));
        assert_eq!(c.after.as_ref().unwrap().get("email"), Some(&"<x>".into()));
    }
}

//! Primary keys as 16-byte index keys.
//!
//! A key's columns are written in a canonical byte form (integers as 8-byte
//! little-endian whatever their width, so int → long evolution keeps keys
//! equal; decimals as their 16-byte unscaled value; strings and binaries with
//! a length prefix). A form of at most 15 bytes is stored as is, with its
//! length in the last byte: such keys never collide. A longer form is
//! replaced by 120 bits of its XXH3-128 hash, marked by `0xFF` in the last
//! byte: two different long keys share an index key with probability about
//! n²/2¹²¹ (≈ 4·10⁻¹⁹ for a billion keys).

use std::hash::{BuildHasherDefault, Hasher};

use crate::change::{ColumnType, Value};

/// A primary key as the index stores it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct IndexKey(pub [u64; 2]);

/// Appends `value`'s canonical form to `out`.
pub fn encode_value(value: &Value, out: &mut Vec<u8>) {
    match value {
        Value::Boolean(b) => out.push(u8::from(*b) + 1),
        Value::Int(v) => out.extend_from_slice(&i64::from(*v).to_le_bytes()),
        Value::Long(v) => out.extend_from_slice(&v.to_le_bytes()),
        Value::Float(v) => out.extend_from_slice(&f64::from(*v).to_bits().to_le_bytes()),
        Value::Double(v) => out.extend_from_slice(&v.to_bits().to_le_bytes()),
        Value::Decimal(v) => out.extend_from_slice(&v.to_le_bytes()),
        Value::Date(v) => out.extend_from_slice(&v.to_le_bytes()),
        Value::Time(v) | Value::Timestamp(v) | Value::Timestamptz(v) => {
            out.extend_from_slice(&v.to_le_bytes())
        }
        Value::String(s) => encode_bytes(s.as_bytes(), out),
        Value::Uuid(u) => out.extend_from_slice(u),
        Value::Binary(b) => encode_bytes(b, out),
    }
}

/// Appends the canonical form of a cell of type `ty` from its contract
/// encoding (see [`crate::change::ChangeBatch`]): the same bytes as
/// [`encode_value`] of the decoded value.
pub fn encode_cell(ty: ColumnType, bytes: &[u8], out: &mut Vec<u8>) {
    fn array<const N: usize>(bytes: &[u8]) -> [u8; N] {
        // Cells of a batch have their type's width.
        bytes.try_into().unwrap_or([0; N])
    }
    match ty {
        ColumnType::Boolean => out.push(bytes.first().copied().unwrap_or(0) + 1),
        ColumnType::Int => {
            out.extend_from_slice(&i64::from(i32::from_le_bytes(array(bytes))).to_le_bytes())
        }
        ColumnType::Float => out.extend_from_slice(
            &f64::from(f32::from_le_bytes(array(bytes)))
                .to_bits()
                .to_le_bytes(),
        ),
        ColumnType::String | ColumnType::Binary => encode_bytes(bytes, out),
        // Long, double, time, timestamps, decimal, date and uuid are written
        // as their little-endian encoding, which the cell already is.
        _ => out.extend_from_slice(bytes),
    }
}

/// Appends a variable-length value: its length (LEB128), then its bytes.
pub fn encode_bytes(bytes: &[u8], out: &mut Vec<u8>) {
    let mut n = bytes.len();
    loop {
        let byte = (n & 0x7f) as u8;
        n >>= 7;
        if n == 0 {
            out.push(byte);
            break;
        }
        out.push(byte | 0x80);
    }
    out.extend_from_slice(bytes);
}

/// Appends a NULL (only equality deletes compare NULLs; keys are never NULL).
pub fn encode_null(out: &mut Vec<u8>) {
    out.push(0);
}

/// The index key of a canonical form built with the `encode_*` functions.
pub fn index_key(form: &[u8]) -> IndexKey {
    let mut bytes = [0u8; 16];
    if form.len() <= 15 {
        bytes[..form.len()].copy_from_slice(form);
        bytes[15] = form.len() as u8;
    } else {
        let hash = xxhash_rust::xxh3::xxh3_128(form).to_le_bytes();
        bytes[..15].copy_from_slice(&hash[..15]);
        bytes[15] = 0xFF;
    }
    IndexKey([
        u64::from_le_bytes(bytes[..8].try_into().unwrap_or_default()),
        u64::from_le_bytes(bytes[8..].try_into().unwrap_or_default()),
    ])
}

/// The index key of key values, in key-column order.
pub fn key_of<'a>(values: impl IntoIterator<Item = &'a Value>, buf: &mut Vec<u8>) -> IndexKey {
    buf.clear();
    for value in values {
        encode_value(value, buf);
    }
    index_key(buf)
}

/// A hasher for [`IndexKey`]s: a folded multiply of the two words (keys are
/// either short exact forms or already hashes).
#[derive(Default, Clone, Copy)]
pub struct KeyHasher(u64);

impl Hasher for KeyHasher {
    fn finish(&self) -> u64 {
        self.0
    }

    fn write(&mut self, bytes: &[u8]) {
        for chunk in bytes.chunks(8) {
            let mut word = [0u8; 8];
            word[..chunk.len()].copy_from_slice(chunk);
            self.write_u64(u64::from_le_bytes(word));
        }
    }

    fn write_u64(&mut self, word: u64) {
        const K1: u64 = 0x243f_6a88_85a3_08d3;
        const K2: u64 = 0x1319_8a2e_0370_7344;
        let product = u128::from(self.0 ^ word ^ K1) * u128::from(K2 ^ self.0.rotate_left(29));
        self.0 = (product as u64) ^ ((product >> 64) as u64);
    }
}

/// Builds [`KeyHasher`]s.
pub type KeyHashBuilder = BuildHasherDefault<KeyHasher>;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cell_forms_are_value_forms() {
        let values = [
            Value::Boolean(false),
            Value::Int(-7),
            Value::Long(1 << 50),
            Value::Float(-1.5),
            Value::Double(2.25),
            Value::Decimal(-123_456_789_012_345_678_901),
            Value::Date(19_000),
            Value::Time(3_600_000_000),
            Value::Timestamp(1_700_000_000_000_000),
            Value::Timestamptz(-5),
            Value::String("grüße".into()),
            Value::Uuid([3; 16]),
            Value::Binary(vec![0, 1, 255]),
        ];
        let types = [
            ColumnType::Boolean,
            ColumnType::Int,
            ColumnType::Long,
            ColumnType::Float,
            ColumnType::Double,
            ColumnType::Decimal {
                precision: 38,
                scale: 2,
            },
            ColumnType::Date,
            ColumnType::Time,
            ColumnType::Timestamp,
            ColumnType::Timestamptz,
            ColumnType::String,
            ColumnType::Uuid,
            ColumnType::Binary,
        ];
        for (value, ty) in values.iter().zip(types) {
            let mut cell = Vec::new();
            value.encode_into(&mut cell);
            let (mut from_cell, mut from_value) = (Vec::new(), Vec::new());
            encode_cell(ty, &cell, &mut from_cell);
            encode_value(value, &mut from_value);
            assert_eq!(from_cell, from_value, "{ty}");
        }
    }

    #[test]
    fn short_keys_are_exact_and_long_keys_hashed() {
        let mut buf = Vec::new();
        let a = key_of([&Value::Long(42)], &mut buf);
        let b = key_of([&Value::Int(42)], &mut buf);
        assert_eq!(a, b, "int and long keys of one value are one key");
        assert_ne!(a, key_of([&Value::Long(43)], &mut buf));
        assert_eq!(a.0[1] >> 56, 8);
        let s1 = key_of(
            [&Value::String("ab".into()), &Value::String("c".into())],
            &mut buf,
        );
        let s2 = key_of(
            [&Value::String("a".into()), &Value::String("bc".into())],
            &mut buf,
        );
        assert_ne!(s1, s2);
        let long = key_of(
            [&Value::String(
                "a long key of more than fifteen bytes".into(),
            )],
            &mut buf,
        );
        assert_eq!(long.0[1] >> 56, 0xFF);
        assert_eq!(
            long,
            key_of(
                [&Value::String(
                    "a long key of more than fifteen bytes".into()
                )],
                &mut buf
            )
        );
        let uuid = key_of([&Value::Uuid([1; 16])], &mut buf);
        assert_eq!(uuid.0[1] >> 56, 0xFF);
    }
}

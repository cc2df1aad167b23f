//! The kind of a change ([`Op`]): its names and its code in a batch.

use core::fmt;
use core::str::FromStr;

use crate::Error;

/// The kind of a change, as Debezium's `op` says it.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Op {
    /// A new row (`c`).
    Insert,
    /// A changed row (`u`).
    Update,
    /// A removed row (`d`).
    Delete,
    /// A row read by a snapshot (`r`): an upsert.
    Read,
    /// Every row of the table removed (`t`).
    Truncate,
}

impl Op {
    /// Every op, in WIT order.
    pub const ALL: [Op; 5] = [Op::Insert, Op::Update, Op::Delete, Op::Read, Op::Truncate];

    /// The lowercase name of the op: `insert`, `update`, `delete`, `read` or `truncate`.
    pub fn as_str(self) -> &'static str {
        match self {
            Op::Insert => "insert",
            Op::Update => "update",
            Op::Delete => "delete",
            Op::Read => "read",
            Op::Truncate => "truncate",
        }
    }

    /// Parses a name exactly as written by [`Op::as_str`] (what floe's JSON
    /// form of a change and its configuration use); [`FromStr`] is lenient.
    pub fn parse(name: &str) -> Option<Op> {
        Op::ALL.into_iter().find(|op| op.as_str() == name)
    }

    /// The op's code in a batch's `ops` bytes (the contract's `op` ordinal).
    pub fn code(self) -> u8 {
        match self {
            Op::Insert => 0,
            Op::Update => 1,
            Op::Delete => 2,
            Op::Read => 3,
            Op::Truncate => 4,
        }
    }

    /// The op of a code, `None` for a code the contract does not define.
    pub fn from_code(code: u8) -> Option<Op> {
        Op::ALL.get(code as usize).copied()
    }
}

impl fmt::Display for Op {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for Op {
    type Err = Error;

    /// Parses `insert`, `update`, `delete`, `read`, `truncate` (any case) or the
    /// Debezium letters `c`, `u`, `d`, `r`, `t`.
    fn from_str(s: &str) -> Result<Op, Error> {
        match s.trim().to_ascii_lowercase().as_str() {
            "insert" | "c" | "create" => Ok(Op::Insert),
            "update" | "u" => Ok(Op::Update),
            "delete" | "d" => Ok(Op::Delete),
            "read" | "r" | "snapshot" => Ok(Op::Read),
            "truncate" | "t" => Ok(Op::Truncate),
            other => Err(Error::new(format!(
                "unknown op `{other}` (expected insert, update, delete, read or truncate)"
            ))),
        }
    }
}

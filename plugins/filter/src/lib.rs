//! `filter`: drops changes by op, or by a predicate on the row.

use std::cmp::Ordering;

use floe_guest::{Change, ColumnType, Config, Error, Image, Op, Outcome, Transformer, Value};

/// A comparison operator.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Cmp {
    /// `==`
    Eq,
    /// `!=`
    Ne,
    /// `<`
    Lt,
    /// `<=`
    Le,
    /// `>`
    Gt,
    /// `>=`
    Ge,
}

impl Cmp {
    fn holds(self, ord: Ordering) -> bool {
        match self {
            Cmp::Eq => ord == Ordering::Equal,
            Cmp::Ne => ord != Ordering::Equal,
            Cmp::Lt => ord == Ordering::Less,
            Cmp::Le => ord != Ordering::Greater,
            Cmp::Gt => ord == Ordering::Greater,
            Cmp::Ge => ord != Ordering::Less,
        }
    }
}

/// A literal of a predicate.
#[derive(Clone, Debug, PartialEq)]
pub enum Literal {
    /// An integer or decimal number, exact: `unscaled × 10^-scale`.
    Number {
        /// The digits.
        unscaled: i128,
        /// Digits after the point.
        scale: u8,
    },
    /// A `'quoted string'`.
    String(String),
    /// `true` or `false`.
    Bool(bool),
}

/// One clause of a predicate.
#[derive(Clone, Debug, PartialEq)]
pub enum Clause {
    /// `<column> <cmp> <literal>`
    Compare(String, Cmp, Literal),
    /// `<column> is null` (also true when the image lacks the column).
    IsNull(String),
    /// `<column> is not null`
    IsNotNull(String),
}

/// Clauses joined by `and`.
#[derive(Clone, Debug, PartialEq, Default)]
pub struct Predicate {
    /// Every clause must hold.
    pub clauses: Vec<Clause>,
}

#[derive(Clone, Debug, PartialEq)]
enum Token {
    Word(String),
    Op(Cmp),
    Str(String),
}

fn tokenize(s: &str) -> Result<Vec<Token>, String> {
    let mut tokens = Vec::new();
    let mut chars = s.char_indices().peekable();
    while let Some(&(i, c)) = chars.peek() {
        if c.is_whitespace() {
            chars.next();
        } else if c == '\'' {
            chars.next();
            let mut text = String::new();
            loop {
                match chars.next() {
                    Some((_, '\'')) if chars.peek().map(|p| p.1) == Some('\'') => {
                        chars.next();
                        text.push('\'');
                    }
                    Some((_, '\'')) => break,
                    Some((_, ch)) => text.push(ch),
                    None => return Err(format!("unterminated string starting at position {i}")),
                }
            }
            tokens.push(Token::Str(text));
        } else if "=!<>".contains(c) {
            chars.next();
            let next = chars.peek().map(|p| p.1);
            let op = match (c, next) {
                ('=', Some('=')) => Cmp::Eq,
                ('!', Some('=')) => Cmp::Ne,
                ('<', Some('=')) => Cmp::Le,
                ('>', Some('=')) => Cmp::Ge,
                ('<', Some('>')) => Cmp::Ne,
                ('<', _) => Cmp::Lt,
                ('>', _) => Cmp::Gt,
                _ => {
                    return Err(format!(
                        "unknown operator at position {i} (use == != < <= > >=)"
                    ));
                }
            };
            if matches!((c, next), (_, Some('=')) | ('<', Some('>'))) {
                chars.next();
            }
            tokens.push(Token::Op(op));
        } else {
            let mut word = String::new();
            while let Some(&(_, ch)) = chars.peek() {
                if ch.is_whitespace() || "=!<>'".contains(ch) {
                    break;
                }
                word.push(ch);
                chars.next();
            }
            tokens.push(Token::Word(word));
        }
    }
    Ok(tokens)
}

fn parse_number(s: &str) -> Option<Literal> {
    let (neg, digits) = match s.strip_prefix('-') {
        Some(rest) => (true, rest),
        None => (false, s.strip_prefix('+').unwrap_or(s)),
    };
    let (int, frac) = digits.split_once('.').unwrap_or((digits, ""));
    if (int.is_empty() && frac.is_empty())
        || !int.bytes().all(|b| b.is_ascii_digit())
        || !frac.bytes().all(|b| b.is_ascii_digit())
        || frac.len() > 38
    {
        return None;
    }
    let mut unscaled: i128 = 0;
    for b in int.bytes().chain(frac.bytes()) {
        unscaled = unscaled.checked_mul(10)?.checked_add((b - b'0') as i128)?;
    }
    Some(Literal::Number {
        unscaled: if neg { -unscaled } else { unscaled },
        scale: frac.len() as u8,
    })
}

impl Predicate {
    /// Parses `clause and clause …`; see the README for the grammar.
    pub fn parse(s: &str) -> Result<Predicate, String> {
        let tokens = tokenize(s)?;
        let mut clauses = Vec::new();
        let mut rest = tokens.as_slice();
        loop {
            let (clause, after) = match rest {
                [
                    Token::Word(col),
                    Token::Word(is),
                    Token::Word(null),
                    after @ ..,
                ] if is.eq_ignore_ascii_case("is") && null.eq_ignore_ascii_case("null") => {
                    (Clause::IsNull(col.clone()), after)
                }
                [
                    Token::Word(col),
                    Token::Word(is),
                    Token::Word(not),
                    Token::Word(null),
                    after @ ..,
                ] if is.eq_ignore_ascii_case("is")
                    && not.eq_ignore_ascii_case("not")
                    && null.eq_ignore_ascii_case("null") =>
                {
                    (Clause::IsNotNull(col.clone()), after)
                }
                [Token::Word(col), Token::Op(op), lit, after @ ..] => {
                    let lit = match lit {
                        Token::Str(s) => Literal::String(s.clone()),
                        Token::Word(w) if w.eq_ignore_ascii_case("true") => Literal::Bool(true),
                        Token::Word(w) if w.eq_ignore_ascii_case("false") => Literal::Bool(false),
                        Token::Word(w) => parse_number(w).ok_or_else(|| {
                            format!(
                                "bad literal `{w}` after `{col}`: use an integer, a decimal \
                                 number, 'a quoted string', true or false"
                            )
                        })?,
                        Token::Op(_) => {
                            return Err(format!("two operators in a row after `{col}`"));
                        }
                    };
                    (Clause::Compare(col.clone(), *op, lit), after)
                }
                [] => return Err("expected a clause, found nothing".into()),
                _ => {
                    return Err(format!(
                        "expected `<column> <op> <literal>`, `<column> is null` or \
                         `<column> is not null`, at `{}`",
                        describe(rest)
                    ));
                }
            };
            clauses.push(clause);
            match after {
                [] => break,
                [Token::Word(and), more @ ..] if and.eq_ignore_ascii_case("and") => rest = more,
                _ => {
                    return Err(format!(
                        "expected `and` or the end, at `{}`",
                        describe(after)
                    ));
                }
            }
        }
        Ok(Predicate { clauses })
    }

    /// Whether every clause holds on `image`; `false` without an image.
    pub fn matches(&self, image: Option<Image<'_>>) -> bool {
        let Some(image) = image else { return false };
        self.clauses.iter().all(|clause| match clause {
            Clause::IsNull(col) => image.get(col).is_none_or(|v| v.is_null()),
            Clause::IsNotNull(col) => image.get(col).is_some_and(|v| !v.is_null()),
            Clause::Compare(col, cmp, lit) => match image.field(col) {
                Some(f) => compare(f.ty, f.value, lit).is_some_and(|ord| cmp.holds(ord)),
                None => false,
            },
        })
    }
}

fn describe(tokens: &[Token]) -> String {
    tokens
        .iter()
        .take(4)
        .map(|t| match t {
            Token::Word(w) => w.clone(),
            Token::Str(s) => format!("'{s}'"),
            Token::Op(op) => format!("{op:?}"),
        })
        .collect::<Vec<_>>()
        .join(" ")
}

/// An exact number `unscaled × 10^-scale`, or a float.
enum Num {
    Exact(i128, u8),
    Float(f64),
}

fn to_f64(unscaled: i128, scale: u8) -> f64 {
    unscaled as f64 / 10f64.powi(scale as i32)
}

fn cmp_num(a: Num, b: Num) -> Option<Ordering> {
    match (a, b) {
        (Num::Exact(x, sx), Num::Exact(y, sy)) => {
            let s = sx.max(sy);
            let scale = |v: i128, from: u8| v.checked_mul(10i128.checked_pow((s - from) as u32)?);
            match (scale(x, sx), scale(y, sy)) {
                (Some(x), Some(y)) => Some(x.cmp(&y)),
                _ => to_f64(x, sx).partial_cmp(&to_f64(y, sy)),
            }
        }
        (Num::Exact(x, sx), Num::Float(y)) => to_f64(x, sx).partial_cmp(&y),
        (Num::Float(x), Num::Exact(y, sy)) => x.partial_cmp(&to_f64(y, sy)),
        (Num::Float(x), Num::Float(y)) => x.partial_cmp(&y),
    }
}

/// Compares a column value with a literal; `None` when they cannot be
/// compared (null, or types that do not go together).
pub fn compare(ty: ColumnType, value: Value<'_>, lit: &Literal) -> Option<Ordering> {
    let num = match value {
        Value::Int(v) => Some(Num::Exact(v as i128, 0)),
        Value::Long(v) => Some(Num::Exact(v as i128, 0)),
        Value::Decimal(d) => Some(Num::Exact(d.unscaled, d.scale)),
        Value::Float(v) => Some(Num::Float(v as f64)),
        Value::Double(v) => Some(Num::Float(v)),
        _ => None,
    };
    match (lit, value) {
        (_, Value::Null) => None,
        (Literal::Number { unscaled, scale }, _) => cmp_num(num?, Num::Exact(*unscaled, *scale)),
        (Literal::Bool(b), Value::Boolean(v)) => Some(v.cmp(b)),
        (Literal::Bool(_), _) => None,
        (Literal::String(s), Value::String(v)) => Some(v.cmp(s.as_str())),
        (Literal::String(s), _) => {
            // Dates, times, timestamps, uuids, numbers…: the literal in the column's type.
            let parsed = ty.parse_value(s).ok()?;
            let lit = parsed.as_value();
            match (value, lit) {
                (Value::Boolean(a), Value::Boolean(b)) => Some(a.cmp(&b)),
                (Value::Date(a), Value::Date(b)) => Some(a.cmp(&b)),
                (Value::Time(a), Value::Time(b))
                | (Value::Timestamp(a), Value::Timestamp(b))
                | (Value::Timestamptz(a), Value::Timestamptz(b)) => Some(a.cmp(&b)),
                (Value::Uuid(a), Value::Uuid(b)) => Some(a.cmp(&b)),
                (Value::Binary(a), Value::Binary(b)) => Some(a.cmp(b)),
                (Value::Decimal(a), Value::Decimal(b)) => cmp_num(
                    Num::Exact(a.unscaled, a.scale),
                    Num::Exact(b.unscaled, b.scale),
                ),
                (_, _) => {
                    let b = match lit {
                        Value::Int(v) => Num::Exact(v as i128, 0),
                        Value::Long(v) => Num::Exact(v as i128, 0),
                        Value::Float(v) => Num::Float(v as f64),
                        Value::Double(v) => Num::Float(v),
                        _ => return None,
                    };
                    cmp_num(num?, b)
                }
            }
        }
    }
}

/// The `filter` transformer.
#[derive(Debug)]
pub struct Filter {
    drop_ops: Vec<Op>,
    drop_if: Option<Predicate>,
}

impl Filter {
    /// Whether `op` and the row make the change go.
    pub fn drops(&self, op: Op, image: Option<Image<'_>>) -> bool {
        self.drop_ops.contains(&op) || self.drop_if.as_ref().is_some_and(|p| p.matches(image))
    }
}

impl Transformer for Filter {
    fn init(config: &Config) -> Result<Self, Error> {
        let drop_ops = config
            .list("drop_ops")
            .into_iter()
            .map(|op| {
                op.parse::<Op>()
                    .map_err(|e| e.context("config key `drop_ops`"))
            })
            .collect::<Result<Vec<_>, _>>()?;
        let drop_if = match config.get("drop_if").map(str::trim) {
            None | Some("") => None,
            Some(text) => Some(
                Predicate::parse(text)
                    .map_err(|e| Error::new(format!("config key `drop_if`: {e}")))?,
            ),
        };
        if drop_ops.is_empty() && drop_if.is_none() {
            floe_guest::log::warn!(
                "filter: neither `drop_ops` nor `drop_if` is set; every change is kept"
            );
        }
        Ok(Filter { drop_ops, drop_if })
    }

    fn transform(&mut self, change: &mut Change<'_>) -> Outcome {
        let image = if change.op() == Op::Delete {
            change.before()
        } else {
            change.after()
        };
        if self.drops(change.op(), image) {
            Outcome::Drop
        } else {
            Outcome::Keep
        }
    }
}

floe_guest::export_transformer!(Filter);

#[cfg(test)]
mod tests {
    use super::*;
    use floe_guest::testing::{self, TestOutcome};
    use floe_guest::{ChangeBuilder, Decimal, OwnedValue};

    fn filter(pairs: &[(&str, &str)]) -> Result<Filter, Error> {
        Filter::init(&Config::from_pairs(pairs.iter().copied()))
    }

    #[test]
    fn parses_predicates() {
        let p = Predicate::parse("status == 'it''s' and amount>=10.5 AND deleted is not null and x is NULL and ok != true").unwrap();
        assert_eq!(
            p.clauses,
            vec![
                Clause::Compare("status".into(), Cmp::Eq, Literal::String("it's".into())),
                Clause::Compare(
                    "amount".into(),
                    Cmp::Ge,
                    Literal::Number {
                        unscaled: 105,
                        scale: 1
                    }
                ),
                Clause::IsNotNull("deleted".into()),
                Clause::IsNull("x".into()),
                Clause::Compare("ok".into(), Cmp::Ne, Literal::Bool(true)),
            ]
        );
        assert_eq!(
            Predicate::parse("a < -3").unwrap().clauses,
            vec![Clause::Compare(
                "a".into(),
                Cmp::Lt,
                Literal::Number {
                    unscaled: -3,
                    scale: 0
                }
            )]
        );
    }

    #[test]
    fn bad_config_is_refused_clearly() {
        let e = |pairs: &[(&str, &str)]| filter(pairs).unwrap_err().to_string();
        assert_eq!(
            e(&[("drop_ops", "insert,upsert")]),
            "config key `drop_ops`: unknown op `upsert` (expected insert, update, delete, read or truncate)"
        );
        assert_eq!(
            e(&[("drop_if", "a == bob")]),
            "config key `drop_if`: bad literal `bob` after `a`: use an integer, a decimal number, 'a quoted string', true or false"
        );
        assert_eq!(
            e(&[("drop_if", "a == 'x")]),
            "config key `drop_if`: unterminated string starting at position 5"
        );
        assert!(e(&[("drop_if", "a == 1 or b == 2")]).contains("expected `and` or the end"));
        assert!(e(&[("drop_if", "a = 1")]).contains("unknown operator"));
        assert!(e(&[("drop_if", "a is")]).contains("expected `<column> <op> <literal>`"));
        assert!(e(&[("drop_if", "a == 1 and")]).contains("found nothing"));
    }

    #[test]
    fn compares_across_types() {
        let n = |s: &str| parse_number(s).unwrap();
        let d = Decimal {
            unscaled: 1050,
            precision: 10,
            scale: 2,
        };
        assert_eq!(
            compare(d.column_type(), Value::Decimal(d), &n("10.5")),
            Some(Ordering::Equal)
        );
        assert_eq!(
            compare(ColumnType::Long, Value::Long(10), &n("10.5")),
            Some(Ordering::Less)
        );
        assert_eq!(
            compare(ColumnType::Double, Value::Double(10.75), &n("10.5")),
            Some(Ordering::Greater)
        );
        assert_eq!(
            compare(ColumnType::String, Value::String("10"), &n("10")),
            None
        );
        let date = ColumnType::Date.parse_value("2024-01-31").unwrap();
        assert_eq!(
            compare(
                ColumnType::Date,
                date.as_value(),
                &Literal::String("2024-02-01".into())
            ),
            Some(Ordering::Less)
        );
        assert_eq!(
            compare(
                ColumnType::Date,
                date.as_value(),
                &Literal::String("soon".into())
            ),
            None
        );
        assert_eq!(compare(ColumnType::Long, Value::Null, &n("1")), None);
        assert_eq!(
            compare(
                ColumnType::Boolean,
                Value::Boolean(true),
                &Literal::Bool(true)
            ),
            Some(Ordering::Equal)
        );
        let _ = OwnedValue::Null;
    }

    #[test]
    fn drops_by_op_and_predicate() {
        let mut f = filter(&[
            ("drop_ops", "truncate, read"),
            ("drop_if", "status == 'test' and amount > 100"),
        ])
        .unwrap();
        let mut b = ChangeBuilder::new();
        b.change(Op::Insert, "t")
            .after()
            .set("status", "test")
            .set("amount", 150i64);
        b.change(Op::Insert, "t")
            .after()
            .set("status", "test")
            .set("amount", 50i64);
        b.change(Op::Insert, "t")
            .after()
            .set("status", "test")
            .set_null("amount", ColumnType::Long);
        b.change(Op::Insert, "t").after().set("status", "test");
        {
            // Deletes are judged on the before image.
            let mut c = b.change(Op::Delete, "t");
            c.before().set("status", "test").set("amount", 101i64);
        }
        {
            let mut c = b.change(Op::Update, "t");
            c.before().set("status", "test").set("amount", 101i64);
            c.after().set("status", "live").set("amount", 101i64);
        }
        b.change(Op::Truncate, "t");
        b.change(Op::Read, "t").after().set("status", "live");
        let out = testing::transform(&mut f, &b.finish());
        use TestOutcome::{Drop, Keep};
        assert_eq!(out, vec![Drop, Keep, Keep, Keep, Drop, Keep, Drop, Drop]);
    }

    #[test]
    fn is_null_matches_null_and_absent() {
        let mut f = filter(&[("drop_if", "deleted_at is not null")]).unwrap();
        let mut g = filter(&[("drop_if", "email is null")]).unwrap();
        let mut b = ChangeBuilder::new();
        b.change(Op::Insert, "t")
            .after()
            .set("deleted_at", floe_guest::Value::Timestamp(1))
            .set("email", "a");
        b.change(Op::Insert, "t")
            .after()
            .set_null("deleted_at", ColumnType::Timestamp)
            .set_null("email", ColumnType::String);
        b.change(Op::Insert, "t").after().set("id", 1i64);
        let batch = b.finish();
        use TestOutcome::{Drop, Keep};
        assert_eq!(testing::transform(&mut f, &batch), vec![Drop, Keep, Keep]);
        assert_eq!(testing::transform(&mut g, &batch), vec![Keep, Drop, Drop]);
    }
}

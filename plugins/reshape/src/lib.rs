//! `reshape`: renames, drops, casts and adds columns, in that order.

use floe_guest::{Change, ColumnType, Config, Error, ImageMut, Outcome, Transformer};

/// The `reshape` transformer.
#[derive(Debug, Default, PartialEq)]
pub struct Reshape {
    /// `old → new` renames, in order.
    pub rename: Vec<(String, String)>,
    /// Columns to drop.
    pub drop: Vec<String>,
    /// Columns to cast, with their new types.
    pub cast: Vec<(String, ColumnType)>,
    /// Constant string columns to add to the after image.
    pub add: Vec<(String, String)>,
}

/// Splits on commas that are not inside parentheses (`a:decimal(10,2),b:int`).
pub fn split_top_level(s: &str) -> Vec<&str> {
    let mut items = Vec::new();
    let (mut depth, mut start) = (0i32, 0);
    for (i, c) in s.char_indices() {
        match c {
            '(' => depth += 1,
            ')' => depth -= 1,
            ',' if depth == 0 => {
                items.push(s[start..i].trim());
                start = i + 1;
            }
            _ => {}
        }
    }
    items.push(s[start..].trim());
    items.into_iter().filter(|i| !i.is_empty()).collect()
}

impl Reshape {
    /// Reads `rename`, `drop`, `cast` and `add`.
    pub fn from_config(config: &Config) -> Result<Reshape, Error> {
        let rename = config
            .pairs("rename", ':')?
            .into_iter()
            .map(|(a, b)| (a.to_owned(), b.to_owned()))
            .collect();
        let drop = config.list("drop").into_iter().map(String::from).collect();
        let cast = split_top_level(config.get_or("cast", ""))
            .into_iter()
            .map(|item| {
                let (col, ty) = item.split_once(':').ok_or_else(|| {
                    Error::new(format!(
                        "config key `cast`: expected `column:type`, got `{item}`"
                    ))
                })?;
                let ty = ty.parse::<ColumnType>().map_err(|e| {
                    e.context(format!("config key `cast`, column `{}`", col.trim()))
                })?;
                Ok((col.trim().to_owned(), ty))
            })
            .collect::<Result<Vec<_>, Error>>()?;
        let add = config
            .list("add")
            .into_iter()
            .map(|item| match item.split_once('=') {
                Some((name, value)) if !name.trim().is_empty() => {
                    Ok((name.trim().to_owned(), value.trim().to_owned()))
                }
                _ => Err(Error::new(format!(
                    "config key `add`: expected `name=value`, got `{item}`"
                ))),
            })
            .collect::<Result<Vec<_>, Error>>()?;
        Ok(Reshape {
            rename,
            drop,
            cast,
            add,
        })
    }

    fn cast_image(&self, image: &mut ImageMut<'_, '_>) -> Result<(), String> {
        for (column, ty) in &self.cast {
            let Some(current) = image.column_type(column) else {
                continue;
            };
            if current == *ty {
                continue;
            }
            let value = image.get(column).expect("the column is there");
            match value.cast(*ty) {
                Ok(cast) => image.set_typed(column, *ty, cast).map_err(String::from)?,
                Err(e) => return Err(format!("cast of column `{column}` to {ty} failed: {e}")),
            }
        }
        Ok(())
    }
}

impl Transformer for Reshape {
    fn init(config: &Config) -> Result<Self, Error> {
        Reshape::from_config(config)
    }

    fn transform(&mut self, change: &mut Change<'_>) -> Outcome {
        for (from, to) in &self.rename {
            change.rename_column(from, to);
        }
        for column in &self.drop {
            change.remove_column(column);
        }
        if !self.cast.is_empty() {
            let needs_cast = |image: Option<floe_guest::Image<'_>>| {
                image.is_some_and(|image| {
                    self.cast
                        .iter()
                        .any(|(c, ty)| image.column_type(c).is_some_and(|t| t != *ty))
                })
            };
            if needs_cast(change.before())
                && let Err(reason) = self.cast_image(&mut change.before_mut().unwrap())
            {
                return Outcome::Reject(reason);
            }
            if needs_cast(change.after())
                && let Err(reason) = self.cast_image(&mut change.after_mut().unwrap())
            {
                return Outcome::Reject(reason);
            }
        }
        if !self.add.is_empty()
            && let Some(mut after) = change.after_mut()
        {
            for (name, value) in &self.add {
                after.set(name, value.as_str());
            }
        }
        Outcome::Keep
    }
}

floe_guest::export_transformer!(Reshape);

#[cfg(test)]
mod tests {
    use super::*;
    use floe_guest::testing::{self, TestOutcome};
    use floe_guest::{ChangeBuilder, Decimal, Op, OwnedValue, Value};

    fn reshape(pairs: &[(&str, &str)]) -> Result<Reshape, Error> {
        Reshape::init(&Config::from_pairs(pairs.iter().copied()))
    }

    #[test]
    fn parses_config() {
        let r = reshape(&[
            ("rename", "a:b, c:d"),
            ("drop", "x,y"),
            ("cast", "price:decimal(10, 2), qty:int,ts:timestamptz"),
            ("add", "source=mysql, region = eu-west"),
        ])
        .unwrap();
        assert_eq!(
            r.rename,
            vec![("a".into(), "b".into()), ("c".into(), "d".into())]
        );
        assert_eq!(r.drop, vec!["x".to_string(), "y".to_string()]);
        assert_eq!(
            r.cast,
            vec![
                (
                    "price".into(),
                    ColumnType::Decimal {
                        precision: 10,
                        scale: 2
                    }
                ),
                ("qty".into(), ColumnType::Int),
                ("ts".into(), ColumnType::Timestamptz),
            ]
        );
        assert_eq!(
            r.add,
            vec![
                ("source".into(), "mysql".into()),
                ("region".into(), "eu-west".into())
            ]
        );
        let e = |pairs: &[(&str, &str)]| reshape(pairs).unwrap_err().to_string();
        assert!(
            e(&[("cast", "a:varchar")])
                .starts_with("config key `cast`, column `a`: unknown column type `varchar`")
        );
        assert_eq!(
            e(&[("cast", "a")]),
            "config key `cast`: expected `column:type`, got `a`"
        );
        assert_eq!(
            e(&[("rename", "a")]),
            "config key `rename`: expected `left:right`, got `a`"
        );
        assert_eq!(
            e(&[("add", "=x")]),
            "config key `add`: expected `name=value`, got `=x`"
        );
    }

    #[test]
    fn renames_drops_casts_and_adds_in_order() {
        let mut r = reshape(&[
            ("rename", "id:order_id,amount:total"),
            ("drop", "secret"),
            (
                "cast",
                "total:decimal(10,2),order_id:string,created:timestamptz",
            ),
            ("add", "source=shop"),
        ])
        .unwrap();
        let mut b = ChangeBuilder::new();
        {
            let mut c = b.change(Op::Update, "t");
            c.key_columns(["id"]);
            c.before()
                .set("id", 7i64)
                .set("amount", 10.5f64)
                .set("secret", "s");
            c.after()
                .set("id", 7i64)
                .set("amount", 12.25f64)
                .set("secret", "s")
                .set("created", "2024-01-31T10:00:00+01:00");
        }
        b.change(Op::Insert, "t").after().set("amount", "lots");
        b.change(Op::Truncate, "t");
        let out = testing::transform(&mut r, &b.finish());
        let TestOutcome::Replace(c) = &out[0] else {
            panic!("{out:?}")
        };
        assert_eq!(c.key_columns, vec!["order_id".to_string()]);
        let before = c.before.as_ref().unwrap();
        assert_eq!(before.names(), vec!["order_id", "total"]);
        assert_eq!(before.get("order_id"), Some(&"7".into()));
        assert_eq!(
            before.get("total"),
            Some(&OwnedValue::Decimal(Decimal {
                unscaled: 1050,
                precision: 10,
                scale: 2
            }))
        );
        let after = c.after.as_ref().unwrap();
        assert_eq!(
            after.names(),
            vec!["order_id", "total", "created", "source"]
        );
        assert_eq!(
            after.get("created"),
            Some(&OwnedValue::Timestamptz(1_706_691_600_000_000))
        );
        assert_eq!(after.get("source"), Some(&"shop".into()));
        assert_eq!(
            out[1],
            TestOutcome::Reject(
                "cast of column `total` to decimal(10,2) failed: `lots` is not a valid decimal(10,2)".into()
            )
        );
        // The truncate has no row, but the table's key column was renamed.
        let TestOutcome::Replace(t) = &out[2] else {
            panic!("{out:?}")
        };
        assert_eq!(
            (t.op, t.key_columns.clone()),
            (Op::Truncate, vec!["order_id".to_string()])
        );
    }

    #[test]
    fn nulls_take_the_new_type_and_untouched_changes_are_kept() {
        let mut r = reshape(&[("cast", "n:long"), ("rename", "zz:yy")]).unwrap();
        let mut b = ChangeBuilder::new();
        b.change(Op::Insert, "t")
            .after()
            .set_null("n", ColumnType::Int);
        b.change(Op::Insert, "t").after().set("n", 5i64);
        b.change(Op::Insert, "t")
            .after()
            .set("n", Value::Double(2.5));
        let out = testing::transform(&mut r, &b.finish());
        let TestOutcome::Replace(c) = &out[0] else {
            panic!("{out:?}")
        };
        assert_eq!(
            c.after.as_ref().unwrap().column_type("n"),
            Some(ColumnType::Long)
        );
        assert_eq!(out[1], TestOutcome::Keep);
        assert_eq!(
            out[2],
            TestOutcome::Reject(
                "cast of column `n` to long failed: cannot cast double `2.5` to long".into()
            )
        );
    }
}

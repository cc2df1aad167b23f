//! `route`: sends each change to a table chosen by the value of a column.

use std::collections::BTreeMap;
use std::fmt::Write;

use floe_guest::{Change, Config, Error, Outcome, Transformer, Value};

/// The `route` transformer.
#[derive(Debug)]
pub struct Route {
    column: String,
    /// A BTreeMap, not a HashMap: no random seed to import from the host.
    routes: BTreeMap<String, String>,
    default: Option<String>,
    /// Reused buffer for a value's text form.
    text: String,
}

impl Route {
    /// Reads `column`, `routes` and `default`.
    pub fn from_config(config: &Config) -> Result<Route, Error> {
        let column = config.require("column")?.trim().to_owned();
        let mut routes = BTreeMap::new();
        for item in config.list("routes") {
            // The last colon separates: values may hold colons (times), tables do not.
            let Some((value, table)) = item.rsplit_once(':') else {
                return Err(Error::new(format!(
                    "config key `routes`: expected `value:table`, got `{item}`"
                )));
            };
            let table = table.trim();
            if table.is_empty() {
                return Err(Error::new(format!(
                    "config key `routes`: no table in `{item}`"
                )));
            }
            if routes
                .insert(value.trim().to_owned(), table.to_owned())
                .is_some()
            {
                return Err(Error::new(format!(
                    "config key `routes`: value `{}` is routed twice",
                    value.trim()
                )));
            }
        }
        let default = config
            .get("default")
            .map(str::trim)
            .filter(|d| !d.is_empty())
            .map(String::from);
        if routes.is_empty() && default.is_none() {
            return Err(Error::new(
                "config needs `routes` (value:table,…) or `default`",
            ));
        }
        Ok(Route {
            column,
            routes,
            default,
            text: String::new(),
        })
    }

    /// The table for a column value (absent and null use the default).
    pub fn table_for(&mut self, value: Option<Value<'_>>) -> Option<&str> {
        let found = match value {
            None | Some(Value::Null) => None,
            Some(Value::String(s)) => self.routes.get(s),
            Some(v) => {
                self.text.clear();
                let _ = write!(self.text, "{v}");
                self.routes.get(self.text.as_str())
            }
        };
        found.or(self.default.as_ref()).map(String::as_str)
    }
}

impl Transformer for Route {
    fn init(config: &Config) -> Result<Self, Error> {
        Route::from_config(config)
    }

    fn transform(&mut self, change: &mut Change<'_>) -> Outcome {
        let image = if change.op() == floe_guest::Op::Delete {
            change.before()
        } else {
            change.after()
        };
        let value = image.and_then(|image| image.get(&self.column));
        let table = change.table();
        match self.table_for(value) {
            Some(target) if target != table => Outcome::Route(target.to_owned()),
            _ => Outcome::Keep,
        }
    }
}

floe_guest::export_transformer!(Route);

#[cfg(test)]
mod tests {
    use super::*;
    use floe_guest::testing::{self, TestOutcome};
    use floe_guest::{ChangeBuilder, ColumnType, Op};

    fn route(pairs: &[(&str, &str)]) -> Result<Route, Error> {
        Route::init(&Config::from_pairs(pairs.iter().copied()))
    }

    #[test]
    fn config_errors() {
        let e = |pairs: &[(&str, &str)]| route(pairs).unwrap_err().to_string();
        assert_eq!(
            e(&[("routes", "a:b")]),
            "missing required config key `column`"
        );
        assert_eq!(
            e(&[("column", "c")]),
            "config needs `routes` (value:table,…) or `default`"
        );
        assert_eq!(
            e(&[("column", "c"), ("routes", "a")]),
            "config key `routes`: expected `value:table`, got `a`"
        );
        assert_eq!(
            e(&[("column", "c"), ("routes", "a:x,a:y")]),
            "config key `routes`: value `a` is routed twice"
        );
    }

    #[test]
    fn routes_by_text_form() {
        let mut r = route(&[
            ("column", "region"),
            (
                "routes",
                "eu:sales.eu, us:sales.us, 1:sales.one, 12:30:00:sales.noon, true:sales.yes",
            ),
        ])
        .unwrap();
        let mut b = ChangeBuilder::new();
        b.change(Op::Insert, "sales.all")
            .after()
            .set("region", "eu");
        b.change(Op::Insert, "sales.all")
            .after()
            .set("region", 1i32);
        b.change(Op::Insert, "sales.all")
            .after()
            .set("region", floe_guest::Value::Time(45_000_000_000));
        b.change(Op::Insert, "sales.all")
            .after()
            .set("region", true);
        b.change(Op::Insert, "sales.all")
            .after()
            .set("region", "mars");
        b.change(Op::Insert, "sales.all")
            .after()
            .set_null("region", ColumnType::String);
        b.change(Op::Delete, "sales.all")
            .before()
            .set("region", "us");
        b.change(Op::Insert, "sales.eu").after().set("region", "eu");
        let out = testing::transform(&mut r, &b.finish());
        use TestOutcome::{Keep, Route as R};
        assert_eq!(
            out,
            vec![
                R("sales.eu".into()),
                R("sales.one".into()),
                R("sales.noon".into()),
                R("sales.yes".into()),
                Keep,
                Keep,
                R("sales.us".into()),
                Keep,
            ]
        );
    }

    #[test]
    fn default_catches_the_rest() {
        let mut r = route(&[("column", "k"), ("routes", "a:t.a"), ("default", "t.other")]).unwrap();
        let mut b = ChangeBuilder::new();
        b.change(Op::Insert, "t").after().set("k", "a");
        b.change(Op::Insert, "t").after().set("k", "b");
        b.change(Op::Insert, "t").after().set("z", "b");
        b.change(Op::Truncate, "t");
        let out = testing::transform(&mut r, &b.finish());
        use TestOutcome::Route as R;
        assert_eq!(
            out,
            vec![
                R("t.a".into()),
                R("t.other".into()),
                R("t.other".into()),
                R("t.other".into())
            ]
        );
    }
}

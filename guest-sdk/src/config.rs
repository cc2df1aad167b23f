//! A plugin's configuration: the key/values of its table's `config = { … }`.

use std::fmt::Display;
use std::str::FromStr;

use crate::Error;

/// The configuration a plugin receives in `init`: string keys and values, as
/// written in the table's `transforms = [{ plugin = "…", config = { … } }]`.
///
/// ```
/// use floe_guest::Config;
///
/// let config = Config::from_pairs([("columns", "email, phone"), ("limit", "10")]);
/// assert_eq!(config.list("columns"), vec!["email", "phone"]);
/// assert_eq!(config.parse_or("limit", 5u32).unwrap(), 10);
/// assert!(config.require("salt").is_err());
/// ```
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Config {
    pairs: Vec<(String, String)>,
}

impl Config {
    /// A configuration from key/value pairs (a later duplicate key wins).
    pub fn from_pairs<K: Into<String>, V: Into<String>>(
        pairs: impl IntoIterator<Item = (K, V)>,
    ) -> Config {
        Config {
            pairs: pairs
                .into_iter()
                .map(|(k, v)| (k.into(), v.into()))
                .collect(),
        }
    }

    /// The value of `key`, if set.
    pub fn get(&self, key: &str) -> Option<&str> {
        self.pairs
            .iter()
            .rev()
            .find(|(k, _)| k == key)
            .map(|(_, v)| v.as_str())
    }

    /// The value of `key`, or `default` when unset.
    pub fn get_or<'a>(&'a self, key: &str, default: &'a str) -> &'a str {
        self.get(key).unwrap_or(default)
    }

    /// The value of `key`, or an error naming the missing key.
    pub fn require(&self, key: &str) -> Result<&str, Error> {
        self.get(key)
            .ok_or_else(|| Error::new(format!("missing required config key `{key}`")))
    }

    /// The value of `key` parsed with [`FromStr`], `None` when unset, or an
    /// error naming the key and the value.
    pub fn parse<T: FromStr>(&self, key: &str) -> Result<Option<T>, Error>
    where
        T::Err: Display,
    {
        match self.get(key) {
            None => Ok(None),
            Some(v) => {
                v.trim().parse().map(Some).map_err(|e| {
                    Error::new(format!("config key `{key}`: invalid value `{v}`: {e}"))
                })
            }
        }
    }

    /// The value of `key` parsed with [`FromStr`], or `default` when unset.
    pub fn parse_or<T: FromStr>(&self, key: &str, default: T) -> Result<T, Error>
    where
        T::Err: Display,
    {
        Ok(self.parse(key)?.unwrap_or(default))
    }

    /// The value of `key` split on commas, each item trimmed, empty items
    /// skipped; empty when unset.
    pub fn list(&self, key: &str) -> Vec<&str> {
        self.get(key).map(split_list).unwrap_or_default()
    }

    /// The value of `key` as a comma-separated list of `left<sep>right` pairs
    /// (e.g. `old:new,a:b` with `sep = ':'`), each side trimmed; empty when
    /// unset, an error naming the key for an item without `sep` or with an
    /// empty side.
    pub fn pairs(&self, key: &str, sep: char) -> Result<Vec<(&str, &str)>, Error> {
        self.list(key)
            .into_iter()
            .map(|item| match item.split_once(sep) {
                Some((l, r)) if !l.trim().is_empty() && !r.trim().is_empty() => {
                    Ok((l.trim(), r.trim()))
                }
                _ => Err(Error::new(format!(
                    "config key `{key}`: expected `left{sep}right`, got `{item}`"
                ))),
            })
            .collect()
    }

    /// Every key/value pair, in the order given.
    pub fn iter(&self) -> impl Iterator<Item = (&str, &str)> {
        self.pairs.iter().map(|(k, v)| (k.as_str(), v.as_str()))
    }

    /// Whether no key is set.
    pub fn is_empty(&self) -> bool {
        self.pairs.is_empty()
    }
}

/// Splits a comma-separated list, trimming items and skipping empty ones.
pub fn split_list(s: &str) -> Vec<&str> {
    s.split(',')
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .collect()
}

impl From<Vec<(String, String)>> for Config {
    fn from(pairs: Vec<(String, String)>) -> Config {
        Config { pairs }
    }
}

//! `${VAR}` in the catalog's and the Kafka source's values: secrets kept
//! out of the configuration file, read from the environment when it is
//! loaded.

use super::{PipelineConfig, SourceConfig};

impl PipelineConfig {
    /// Replaces every `${NAME}` in `[catalog]` (uri, warehouse, credential,
    /// token, properties) and `[source.properties]` with the environment
    /// variable's value. `$${` is a literal `${`. An unset variable is an
    /// error naming the key and the variable (never the value).
    pub fn expand_env(&mut self) -> Result<(), String> {
        self.expand_env_with(|name| std::env::var(name).ok())
    }

    /// As [`PipelineConfig::expand_env`], with `lookup` as the environment.
    pub fn expand_env_with(
        &mut self,
        lookup: impl Fn(&str) -> Option<String>,
    ) -> Result<(), String> {
        let catalog = &mut self.catalog;
        catalog.uri = expand("catalog.uri", &catalog.uri, &lookup)?;
        catalog.warehouse = expand("catalog.warehouse", &catalog.warehouse, &lookup)?;
        for (key, value) in [
            ("catalog.credential", &mut catalog.credential),
            ("catalog.token", &mut catalog.token),
        ] {
            if let Some(v) = value {
                *v = expand(key, v, &lookup)?;
            }
        }
        for (key, value) in &mut catalog.properties {
            *value = expand(&format!("catalog.properties.\"{key}\""), value, &lookup)?;
        }
        if let SourceConfig::Kafka { properties, .. } = &mut self.source {
            for (key, value) in properties {
                *value = expand(&format!("source.properties.\"{key}\""), value, &lookup)?;
            }
        }
        Ok(())
    }
}

/// `text` with `${NAME}` replaced by `lookup(NAME)`.
fn expand(
    key: &str,
    text: &str,
    lookup: &impl Fn(&str) -> Option<String>,
) -> Result<String, String> {
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(at) = rest.find('$') {
        out.push_str(&rest[..at]);
        let after = &rest[at + 1..];
        if let Some(escaped) = after.strip_prefix("${") {
            out.push_str("${");
            rest = escaped;
        } else if let Some(body) = after.strip_prefix('{') {
            let end = body
                .find('}')
                .ok_or_else(|| format!("{key}: `${{` without a closing `}}`"))?;
            let name = &body[..end];
            if name.is_empty() || !name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_') {
                return Err(format!(
                    "{key}: `${{{name}}}` is not an environment variable name"
                ));
            }
            let value = lookup(name)
                .ok_or_else(|| format!("{key}: the environment variable {name} is not set"))?;
            out.push_str(&value);
            rest = &body[end + 1..];
        } else {
            out.push('$');
            rest = after;
        }
    }
    out.push_str(rest);
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::expand;

    fn env(name: &str) -> Option<String> {
        (name == "SECRET").then(|| "s3cr3t".to_string())
    }

    #[test]
    fn variables_are_replaced_and_escapes_kept() {
        assert_eq!(expand("k", "a${SECRET}b", &env).unwrap(), "as3cr3tb");
        assert_eq!(expand("k", "$${SECRET} $5", &env).unwrap(), "${SECRET} $5");
        assert_eq!(expand("k", "plain", &env).unwrap(), "plain");
    }

    #[test]
    fn an_unset_or_malformed_variable_is_an_error_naming_the_key() {
        let err = expand("catalog.token", "${MISSING}", &env).unwrap_err();
        assert_eq!(
            err,
            "catalog.token: the environment variable MISSING is not set"
        );
        assert!(expand("k", "${OPEN", &env).unwrap_err().contains("closing"));
        assert!(
            expand("k", "${A-B}", &env)
                .unwrap_err()
                .contains("not an environment")
        );
    }
}

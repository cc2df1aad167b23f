//! The catalog database: SQLite or PostgreSQL through sqlx, with text
//! parameters and text results only (every column of the JDBC catalog schema
//! is a string).

use std::str::FromStr;
use std::time::Duration;

use sqlx::Row;
use sqlx::postgres::{PgPool, PgPoolOptions};
use sqlx::sqlite::{SqliteConnectOptions, SqlitePool, SqlitePoolOptions};

use super::CatalogError;

/// A pool of connections to the catalog database.
#[derive(Debug, Clone)]
pub(super) enum Db {
    Sqlite(SqlitePool),
    Postgres(PgPool),
}

impl Db {
    /// Connects to `uri`: `sqlite:<path>` (created when missing; also
    /// `sqlite:///abs/path` and SQLAlchemy's `sqlite:////abs/path`) or
    /// `postgres://` / `postgresql://`.
    pub(super) async fn connect(uri: &str) -> Result<Db, sqlx::Error> {
        if uri.starts_with("sqlite:") {
            let options = SqliteConnectOptions::from_str(uri)?
                .create_if_missing(true)
                // Other processes (PyIceberg, another floe) share the file.
                .busy_timeout(Duration::from_secs(30));
            let pool = SqlitePoolOptions::new()
                .max_connections(4)
                .connect_with(options)
                .await?;
            Ok(Db::Sqlite(pool))
        } else {
            let pool = PgPoolOptions::new().max_connections(4).connect(uri).await?;
            Ok(Db::Postgres(pool))
        }
    }

    /// Whether `uri` names a database this module can open.
    pub(super) fn supports(uri: &str) -> bool {
        uri.starts_with("sqlite:")
            || uri.starts_with("postgres://")
            || uri.starts_with("postgresql://")
    }

    /// Runs a statement with `?` placeholders; returns the rows affected.
    pub(super) async fn execute(&self, sql: &str, args: &[&str]) -> Result<u64, sqlx::Error> {
        match self {
            Db::Sqlite(pool) => {
                let mut query = sqlx::query(sql);
                for arg in args {
                    query = query.bind(*arg);
                }
                Ok(query.execute(pool).await?.rows_affected())
            }
            Db::Postgres(pool) => {
                let sql = dollar_placeholders(sql);
                let mut query = sqlx::query(&sql);
                for arg in args {
                    query = query.bind(*arg);
                }
                Ok(query.execute(pool).await?.rows_affected())
            }
        }
    }

    /// Runs a query with `?` placeholders; returns every row's first
    /// `columns` columns as optional strings.
    pub(super) async fn fetch(
        &self,
        sql: &str,
        args: &[&str],
        columns: usize,
    ) -> Result<Vec<Vec<Option<String>>>, sqlx::Error> {
        match self {
            Db::Sqlite(pool) => {
                let mut query = sqlx::query(sql);
                for arg in args {
                    query = query.bind(*arg);
                }
                let rows = query.fetch_all(pool).await?;
                rows.iter()
                    .map(|row| (0..columns).map(|i| row.try_get(i)).collect())
                    .collect()
            }
            Db::Postgres(pool) => {
                let sql = dollar_placeholders(sql);
                let mut query = sqlx::query(&sql);
                for arg in args {
                    query = query.bind(*arg);
                }
                let rows = query.fetch_all(pool).await?;
                rows.iter()
                    .map(|row| (0..columns).map(|i| row.try_get(i)).collect())
                    .collect()
            }
        }
    }
}

/// PostgreSQL numbers its placeholders: `?` → `$1`, `$2`, … (the catalog's
/// statements have no `?` inside literals).
fn dollar_placeholders(sql: &str) -> String {
    let mut out = String::with_capacity(sql.len() + 8);
    let mut n = 0;
    for c in sql.chars() {
        if c == '?' {
            n += 1;
            out.push('$');
            out.push_str(&n.to_string());
        } else {
            out.push(c);
        }
    }
    out
}

/// Wraps a sqlx error with the catalog name and what floe was doing.
pub(super) fn sql_error(
    catalog: &str,
    context: impl Into<String>,
) -> impl FnOnce(sqlx::Error) -> CatalogError {
    let catalog = catalog.to_string();
    let context = context.into();
    move |source| CatalogError::Sql {
        catalog,
        context,
        source,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn placeholders_are_numbered_for_postgres() {
        assert_eq!(
            dollar_placeholders("UPDATE t SET a = ? WHERE b = ? AND c = ?"),
            "UPDATE t SET a = $1 WHERE b = $2 AND c = $3"
        );
    }
}

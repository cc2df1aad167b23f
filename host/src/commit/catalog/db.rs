//! The catalog database: SQLite or PostgreSQL through sqlx, with text
//! parameters and text results only (every column of the JDBC catalog schema
//! is a string).

use std::future::Future;
use std::str::FromStr;
use std::time::{Duration, Instant};

use backon::{ExponentialBuilder, Retryable};
use sqlx::Row;
use sqlx::postgres::{PgPool, PgPoolOptions};
use sqlx::sqlite::{SqliteConnectOptions, SqliteError, SqlitePool, SqlitePoolOptions};
use tracing::warn;

use super::CatalogError;

/// How long SQLite waits for a lock another connection holds before it
/// answers "database is locked" (then retried, with a warning).
const SQLITE_BUSY_TIMEOUT: Duration = Duration::from_secs(2);
/// How long a statement that failed for a transient reason (see
/// [`is_transient`]) is retried, with exponential backoff, before its error
/// is returned.
const RETRY_FOR: Duration = Duration::from_secs(120);
/// The first wait between attempts; each next one doubles, up to
/// [`MAX_BACKOFF`].
const FIRST_BACKOFF: Duration = Duration::from_millis(250);
/// The longest wait between attempts.
const MAX_BACKOFF: Duration = Duration::from_secs(10);

/// SQLite's primary result codes for a database another connection holds.
const SQLITE_BUSY: i32 = 5;
const SQLITE_LOCKED: i32 = 6;
/// PostgreSQL's SQLSTATEs of a statement that did not take effect and may
/// succeed when tried again: serialization failure, deadlock, lock not
/// available, the server starting or shutting down, too many connections.
const PG_TRANSIENT: [&str; 5] = ["40001", "40P01", "55P03", "57P03", "53300"];

/// A pool of connections to the catalog database.
#[derive(Debug, Clone)]
enum Pool {
    Sqlite(SqlitePool),
    Postgres(PgPool),
}

/// The catalog database: its connections and the catalog's name (for errors
/// and logs). Every statement is retried while it fails for a transient
/// reason, for up to [`RETRY_FOR`].
#[derive(Debug, Clone)]
pub(super) struct Db {
    pool: Pool,
    catalog: String,
}

impl Db {
    /// Connects to `uri`: `sqlite:<path>` (created when missing; also
    /// `sqlite:///abs/path` and SQLAlchemy's `sqlite:////abs/path`) or
    /// `postgres://` / `postgresql://`.
    pub(super) async fn connect(catalog: &str, uri: &str) -> Result<Db, sqlx::Error> {
        let pool = if uri.starts_with("sqlite:") {
            let options = SqliteConnectOptions::from_str(uri)?
                .create_if_missing(true)
                // Other processes (PyIceberg, Spark, another floe) share the
                // file; a lock held longer is retried with a warning.
                .busy_timeout(SQLITE_BUSY_TIMEOUT);
            let pool = SqlitePoolOptions::new()
                .max_connections(4)
                .connect_with(options)
                .await?;
            Pool::Sqlite(pool)
        } else {
            Pool::Postgres(PgPoolOptions::new().max_connections(4).connect(uri).await?)
        };
        Ok(Db {
            pool,
            catalog: catalog.to_string(),
        })
    }

    /// Whether `uri` names a database this module can open.
    pub(super) fn supports(uri: &str) -> bool {
        uri.starts_with("sqlite:")
            || uri.starts_with("postgres://")
            || uri.starts_with("postgresql://")
    }

    /// Runs a statement with `?` placeholders; returns the rows affected.
    /// `context` (what floe is doing) names the failure.
    pub(super) async fn execute(
        &self,
        context: &str,
        sql: &str,
        args: &[&str],
    ) -> Result<u64, CatalogError> {
        self.retrying(context, || self.execute_once(sql, args))
            .await
    }

    /// Runs a query with `?` placeholders; returns every row's first
    /// `columns` columns as optional strings. `context` (what floe is doing)
    /// names the failure.
    pub(super) async fn fetch(
        &self,
        context: &str,
        sql: &str,
        args: &[&str],
        columns: usize,
    ) -> Result<Vec<Vec<Option<String>>>, CatalogError> {
        self.retrying(context, || self.fetch_once(sql, args, columns))
            .await
    }

    /// Runs `statement` until it succeeds, fails for good, or has failed
    /// transiently for [`RETRY_FOR`]; each retry is logged as a warning.
    async fn retrying<T, F, Fut>(&self, context: &str, statement: F) -> Result<T, CatalogError>
    where
        F: FnMut() -> Fut,
        Fut: Future<Output = Result<T, sqlx::Error>>,
    {
        let started = Instant::now();
        let mut statement = statement;
        let attempt = || {
            let run = statement();
            async move { run.await.map_err(sql_error(&self.catalog, context)) }
        };
        attempt
            .retry(
                ExponentialBuilder::new()
                    .with_min_delay(FIRST_BACKOFF)
                    .with_max_delay(MAX_BACKOFF)
                    .without_max_times()
                    .with_jitter(),
            )
            .sleep(tokio::time::sleep)
            .when(|error: &CatalogError| error.is_transient() && started.elapsed() < RETRY_FOR)
            .notify(|error: &CatalogError, wait: Duration| {
                warn!(
                    %error,
                    retry_in = ?wait,
                    retrying_for = ?started.elapsed(),
                    "the catalog database is busy or unavailable; retrying"
                );
            })
            .await
    }

    async fn execute_once(&self, sql: &str, args: &[&str]) -> Result<u64, sqlx::Error> {
        match &self.pool {
            Pool::Sqlite(pool) => {
                let mut query = sqlx::query(sql);
                for arg in args {
                    query = query.bind(*arg);
                }
                Ok(query.execute(pool).await?.rows_affected())
            }
            Pool::Postgres(pool) => {
                let sql = dollar_placeholders(sql);
                let mut query = sqlx::query(&sql);
                for arg in args {
                    query = query.bind(*arg);
                }
                Ok(query.execute(pool).await?.rows_affected())
            }
        }
    }

    async fn fetch_once(
        &self,
        sql: &str,
        args: &[&str],
        columns: usize,
    ) -> Result<Vec<Vec<Option<String>>>, sqlx::Error> {
        match &self.pool {
            Pool::Sqlite(pool) => {
                let mut query = sqlx::query(sql);
                for arg in args {
                    query = query.bind(*arg);
                }
                let rows = query.fetch_all(pool).await?;
                rows.iter()
                    .map(|row| (0..columns).map(|i| row.try_get(i)).collect())
                    .collect()
            }
            Pool::Postgres(pool) => {
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

/// Whether `error` says the statement did not take effect for a reason that
/// passes: SQLite's database busy or locked (another process holds the
/// file), PostgreSQL's serialization failures, deadlocks, lock timeouts and
/// connection refusals of a busy or restarting server, or no pooled
/// connection free in time. A dropped connection is not: the statement may
/// have taken effect.
pub(super) fn is_transient(error: &sqlx::Error) -> bool {
    match error {
        sqlx::Error::PoolTimedOut => true,
        sqlx::Error::Database(db) if db.try_downcast_ref::<SqliteError>().is_some() => db
            .code()
            .and_then(|code| code.parse::<i32>().ok())
            .is_some_and(|code| matches!(code & 0xff, SQLITE_BUSY | SQLITE_LOCKED)),
        sqlx::Error::Database(db) => db
            .code()
            .is_some_and(|code| PG_TRANSIENT.contains(&code.as_ref())),
        _ => false,
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

    #[tokio::test(flavor = "multi_thread")]
    async fn a_database_locked_by_another_connection_is_waited_for() {
        use sqlx::{Connection, SqliteConnection};
        let dir = tempfile::tempdir().unwrap();
        let uri = format!("sqlite://{}/catalog.db", dir.path().display());
        let db = Db::connect("test", &uri).await.unwrap();
        db.execute("creating", "CREATE TABLE t (a TEXT)", &[])
            .await
            .unwrap();
        let mut other = SqliteConnection::connect(&uri).await.unwrap();
        sqlx::query("BEGIN EXCLUSIVE")
            .execute(&mut other)
            .await
            .unwrap();
        let held = Duration::from_secs(3);
        let release = tokio::spawn(async move {
            tokio::time::sleep(held).await;
            sqlx::query("COMMIT").execute(&mut other).await.unwrap();
        });
        let started = Instant::now();
        let inserted = db
            .execute("inserting", "INSERT INTO t VALUES (?)", &["x"])
            .await
            .unwrap();
        assert_eq!(inserted, 1);
        assert!(
            started.elapsed() >= held,
            "waited for the lock: {:?}",
            started.elapsed()
        );
        release.await.unwrap();
        let rows = db
            .fetch("reading", "SELECT a FROM t", &[], 1)
            .await
            .unwrap();
        assert_eq!(rows, vec![vec![Some("x".to_string())]]);
    }

    #[tokio::test]
    async fn a_permanent_error_fails_at_once() {
        let dir = tempfile::tempdir().unwrap();
        let uri = format!("sqlite://{}/catalog.db", dir.path().display());
        let db = Db::connect("test", &uri).await.unwrap();
        let started = Instant::now();
        let error = db
            .fetch("reading", "SELECT a FROM missing", &[], 1)
            .await
            .unwrap_err();
        assert!(!error.is_transient(), "{error}");
        assert!(started.elapsed() < Duration::from_secs(1));
        assert!(
            error.to_string().contains("catalog test: reading: "),
            "{error}"
        );
    }

    #[test]
    fn placeholders_are_numbered_for_postgres() {
        assert_eq!(
            dollar_placeholders("UPDATE t SET a = ? WHERE b = ? AND c = ?"),
            "UPDATE t SET a = $1 WHERE b = $2 AND c = $3"
        );
    }
}

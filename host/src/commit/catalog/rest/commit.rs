//! A REST commit, and what floe does when its outcome is unknown.
//!
//! The commit carries requirements that make it a compare-and-swap
//! ([`super::updates`]): a 409 means another writer moved the table first
//! and nothing of this commit was applied ([`CatalogError::CommitConflict`]).
//!
//! A 5xx, a timeout or a connection dropped after the request was sent may
//! have committed or not. floe never retries that blindly: it reloads the
//! table and looks for its own commit (the snapshots it added are there,
//! those it removed are gone). Found: the commit landed. Not found, and
//! `main` moved to another writer's snapshot: this commit can never land
//! (its `assert-ref-snapshot-id` no longer holds), a conflict. Not found
//! and `main` unchanged: the commit is sent again (still a compare-and-swap,
//! so at most one of the two can apply), and from then on a 409 too is
//! resolved by reloading. While the catalog cannot be reached this goes on
//! for two minutes, then the commit fails as
//! [`CatalogError::CommitStateUnknown`] and its files are kept.

use std::time::{Duration, Instant};

use iceberg::spec::{MAIN_BRANCH, TableMetadata};
use reqwest::{Method, StatusCode};
use serde_json::json;
use tracing::{debug, info, warn};

use super::{RestCatalog, updates};
use crate::commit::catalog::{CatalogError, LoadedTable};

/// How long a commit whose outcome is unknown is resolved before it fails.
const RESOLVE_FOR: Duration = Duration::from_secs(120);

/// What became of one try.
enum Tried {
    Committed(LoadedTable),
    /// The server refused it: another writer moved the table first.
    Conflict,
    /// Not sent (the connection could not be opened): nothing happened.
    NotSent(CatalogError),
    /// Sent, and the answer was lost or a server error: it may have landed.
    Unknown(CatalogError),
}

impl RestCatalog {
    /// Commits `metadata` (built by floe on `base`) as the table's next
    /// metadata, if `base` is still current.
    pub async fn commit_table(
        &self,
        base: &LoadedTable,
        metadata: TableMetadata,
    ) -> Result<LoadedTable, CatalogError> {
        let name = base.name();
        let changes =
            updates::changes(&base.metadata, &metadata).map_err(|e| CatalogError::Protocol {
                catalog: self.name.clone(),
                context: format!("committing {name}"),
                message: e.to_string(),
            })?;
        let body = json!({
            "identifier": {
                "namespace": base.ident.namespace().as_ref(),
                "name": base.ident.name(),
            },
            "requirements": changes.requirements,
            "updates": changes.updates,
        });
        let started = Instant::now();
        let mut wait = Duration::from_millis(250);
        let mut unknown = false;
        loop {
            let tried = self.try_commit(base, &body).await;
            let reason = match tried {
                Ok(Tried::Committed(table)) => {
                    if unknown {
                        info!(table = %name, "commit sent again after an unknown outcome; it landed");
                    }
                    return Ok(table);
                }
                Ok(Tried::Conflict) if !unknown => {
                    return Err(self.conflict(base));
                }
                Ok(Tried::Conflict) => "refused after an unknown outcome".to_string(),
                Ok(Tried::NotSent(err)) if !unknown => {
                    if started.elapsed() >= RESOLVE_FOR {
                        return Err(err);
                    }
                    warn!(table = %name, %err, retry_in = ?wait, "the catalog is unavailable; retrying the commit");
                    tokio::time::sleep(wait).await;
                    wait = (wait * 2).min(Duration::from_secs(10));
                    continue;
                }
                Ok(Tried::NotSent(err) | Tried::Unknown(err)) => err.to_string(),
                Err(err) => return Err(err),
            };
            unknown = true;
            warn!(table = %name, %reason, "the outcome of the commit is unknown; reloading the table to find out");
            match self.load_table(&base.ident).await {
                Ok(current) => {
                    if updates::landed(&base.metadata, &metadata, &current.metadata) {
                        info!(table = %name, metadata_location = %current.metadata_location, "the commit whose outcome was unknown landed");
                        return Ok(current);
                    }
                    let main = |m: &TableMetadata| {
                        m.snapshot_for_ref(MAIN_BRANCH).map(|s| s.snapshot_id())
                    };
                    if main(&current.metadata) != main(&base.metadata) {
                        info!(table = %name, "the commit whose outcome was unknown did not land, and another writer moved the table");
                        return Err(self.conflict(base));
                    }
                    debug!(table = %name, "the commit did not land and the table did not move; sending it again");
                }
                Err(err) => {
                    warn!(table = %name, %err, "could not reload the table to resolve the commit");
                }
            }
            if started.elapsed() >= RESOLVE_FOR {
                return Err(CatalogError::CommitStateUnknown {
                    catalog: self.name.clone(),
                    table: name,
                    reason,
                });
            }
            tokio::time::sleep(wait).await;
            wait = (wait * 2).min(Duration::from_secs(10));
        }
    }

    async fn try_commit(
        &self,
        base: &LoadedTable,
        body: &serde_json::Value,
    ) -> Result<Tried, CatalogError> {
        let context = format!("committing {}", base.name());
        let reply = match self
            .client
            .send(
                Method::POST,
                &Self::table_path(&base.ident),
                Some(body),
                &context,
            )
            .await
        {
            Ok(reply) => reply,
            Err(CatalogError::Http { source, .. }) if source.is_connect() => {
                return Ok(Tried::NotSent(CatalogError::Http {
                    catalog: self.name.clone(),
                    context,
                    source,
                }));
            }
            Err(err @ CatalogError::Http { .. }) => return Ok(Tried::Unknown(err)),
            Err(err) => return Err(err),
        };
        match reply.status {
            status if status.is_success() => Ok(Tried::Committed(self.loaded(
                &base.ident,
                &reply,
                &context,
            )?)),
            StatusCode::CONFLICT => {
                debug!(table = %base.name(), error = ?reply.error_type(), "commit refused: 409");
                Ok(Tried::Conflict)
            }
            status if status.is_server_error() => {
                Ok(Tried::Unknown(reply.into_error(&self.name, &context)))
            }
            StatusCode::NOT_FOUND => Err(CatalogError::NoSuchTable {
                catalog: self.name.clone(),
                table: base.name(),
            }),
            _ => Err(reply.into_error(&self.name, &context)),
        }
    }

    fn conflict(&self, base: &LoadedTable) -> CatalogError {
        CatalogError::CommitConflict {
            catalog: self.name.clone(),
            table: base.name(),
            expected: base.metadata_location.clone(),
        }
    }
}

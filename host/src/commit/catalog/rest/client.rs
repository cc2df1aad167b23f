//! The REST catalog's HTTP exchanges: the base URL and prefix from
//! `GET /v1/config`, authentication (a bearer token, or OAuth2 client
//! credentials whose token is fetched from the token endpoint and
//! refreshed before it expires, and once more on a 401), the protocol's
//! error bodies, and reads retried with backoff while the server is
//! unreachable or answers 429 or 5xx.

use std::collections::HashMap;
use std::sync::Arc;
use std::time::{Duration, Instant};

use backon::{ExponentialBuilder, Retryable};
use percent_encoding::{NON_ALPHANUMERIC, utf8_percent_encode};
use reqwest::{Method, StatusCode};
use serde_json::Value;
use tokio::sync::Mutex;
use tracing::{debug, warn};

use super::super::CatalogError;

/// How long a read that fails for a passing reason is retried.
const RETRY_FOR: Duration = Duration::from_secs(120);
/// The longest one request may take.
const REQUEST_TIMEOUT: Duration = Duration::from_secs(60);
/// The longest a connection may take to open.
const CONNECT_TIMEOUT: Duration = Duration::from_secs(10);

/// An answer: its status and body.
#[derive(Debug)]
pub(super) struct Reply {
    /// The HTTP status.
    pub status: StatusCode,
    /// The body.
    pub body: bytes::Bytes,
}

impl Reply {
    /// The body as JSON.
    #[allow(clippy::result_large_err)] // CatalogError, the size of the iceberg crate's error, as the async functions return it
    pub fn json(&self, catalog: &str, context: &str) -> Result<Value, CatalogError> {
        serde_json::from_slice(&self.body).map_err(|e| CatalogError::Protocol {
            catalog: catalog.to_string(),
            context: context.to_string(),
            message: format!("not JSON ({e})"),
        })
    }

    /// The protocol's error type (`NoSuchTableException`, …), if the body has one.
    pub fn error_type(&self) -> Option<String> {
        let json: Value = serde_json::from_slice(&self.body).ok()?;
        Some(json.get("error")?.get("type")?.as_str()?.to_string())
    }

    /// The error this answer is, for `context`.
    pub fn into_error(self, catalog: &str, context: &str) -> CatalogError {
        let message = serde_json::from_slice::<Value>(&self.body)
            .ok()
            .and_then(|json| {
                let error = json.get("error")?;
                let text = error.get("message")?.as_str()?.to_string();
                Some(match error.get("type").and_then(Value::as_str) {
                    Some(kind) => format!("{kind}: {text}"),
                    None => text,
                })
            })
            .unwrap_or_else(|| {
                let text = String::from_utf8_lossy(&self.body);
                let text = text.trim();
                let mut short: String = text.chars().take(300).collect();
                if short.is_empty() {
                    short = self
                        .status
                        .canonical_reason()
                        .unwrap_or("no body")
                        .to_string();
                }
                short
            });
        CatalogError::Rest {
            catalog: catalog.to_string(),
            context: context.to_string(),
            status: self.status.as_u16(),
            message,
        }
    }
}

/// How requests authenticate.
enum Auth {
    /// Not at all.
    None,
    /// A fixed bearer token.
    Token(String),
    /// OAuth2 client credentials.
    ClientCredentials {
        token_url: String,
        client_id: String,
        client_secret: String,
        scope: String,
        cached: Mutex<Option<(String, Instant)>>,
    },
}

impl std::fmt::Debug for Auth {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            Auth::None => "none",
            Auth::Token(_) => "bearer token",
            Auth::ClientCredentials { .. } => "OAuth2 client credentials",
        })
    }
}

#[derive(Debug)]
struct Inner {
    http: reqwest::Client,
    catalog: String,
    /// `http(s)://host:port[/path]`, no trailing slash.
    base: String,
    /// `v1/` or `v1/<prefix>/`.
    root: String,
    auth: Auth,
    headers: Vec<(String, String)>,
}

/// A connection to one REST catalog (cheap to clone).
#[derive(Debug, Clone)]
pub(super) struct Client {
    inner: Arc<Inner>,
}

/// The path segment of a namespace (parts joined by the unit separator).
pub(super) fn namespace_segment(parts: &[String]) -> String {
    utf8_percent_encode(&parts.join("\u{1f}"), NON_ALPHANUMERIC).to_string()
}

/// A path segment.
pub(super) fn segment(text: &str) -> String {
    utf8_percent_encode(text, NON_ALPHANUMERIC).to_string()
}

impl Client {
    /// A client for the catalog at `uri`, authenticating with `credential`
    /// (`id:secret`) or `token`; `properties` may name the token endpoint
    /// (`oauth2-server-uri`), its `scope`, and extra headers (`header.NAME`).
    #[allow(clippy::result_large_err)] // CatalogError, the size of the iceberg crate's error, as the async functions return it
    pub fn new(
        catalog: &str,
        uri: &str,
        credential: Option<&str>,
        token: Option<&str>,
        properties: &HashMap<String, String>,
    ) -> Result<Client, CatalogError> {
        let http = reqwest::Client::builder()
            .timeout(REQUEST_TIMEOUT)
            .connect_timeout(CONNECT_TIMEOUT)
            .build()
            .map_err(|source| CatalogError::Http {
                catalog: catalog.to_string(),
                context: "setting up the HTTP client".into(),
                source,
            })?;
        let base = uri.trim_end_matches('/').to_string();
        let auth = match (credential, token) {
            (_, Some(token)) => Auth::Token(token.to_string()),
            (Some(credential), None) => {
                let (id, secret) = credential.split_once(':').unwrap_or((credential, ""));
                Auth::ClientCredentials {
                    token_url: properties
                        .get("oauth2-server-uri")
                        .cloned()
                        .unwrap_or_else(|| format!("{base}/v1/oauth/tokens")),
                    client_id: id.to_string(),
                    client_secret: secret.to_string(),
                    scope: properties
                        .get("scope")
                        .cloned()
                        .unwrap_or_else(|| "catalog".to_string()),
                    cached: Mutex::new(None),
                }
            }
            (None, None) => Auth::None,
        };
        let headers = properties
            .iter()
            .filter_map(|(k, v)| Some((k.strip_prefix("header.")?.to_string(), v.clone())))
            .collect();
        Ok(Client {
            inner: Arc::new(Inner {
                http,
                catalog: catalog.to_string(),
                base,
                root: "v1/".to_string(),
                auth,
                headers,
            }),
        })
    }

    /// The same client with the routes under `v1/<prefix>/` (the server's
    /// `prefix` from `GET /v1/config`) and, if the server says so, another base URI.
    pub fn with_prefix(&self, prefix: Option<&str>, uri: Option<&str>) -> Client {
        let root = match prefix.filter(|p| !p.is_empty()) {
            Some(prefix) => format!("v1/{}/", prefix.trim_matches('/')),
            None => "v1/".to_string(),
        };
        let inner = &self.inner;
        Client {
            inner: Arc::new(Inner {
                http: inner.http.clone(),
                catalog: inner.catalog.clone(),
                base: uri
                    .map(|u| u.trim_end_matches('/').to_string())
                    .unwrap_or_else(|| inner.base.clone()),
                root,
                auth: match &inner.auth {
                    Auth::None => Auth::None,
                    Auth::Token(t) => Auth::Token(t.clone()),
                    Auth::ClientCredentials {
                        token_url,
                        client_id,
                        client_secret,
                        scope,
                        ..
                    } => Auth::ClientCredentials {
                        token_url: token_url.clone(),
                        client_id: client_id.clone(),
                        client_secret: client_secret.clone(),
                        scope: scope.clone(),
                        cached: Mutex::new(None),
                    },
                },
                headers: inner.headers.clone(),
            }),
        }
    }

    /// The URL of `path` (relative to `v1/` and the prefix unless it starts with `/`).
    fn url(&self, path: &str) -> String {
        match path.strip_prefix('/') {
            Some(absolute) => format!("{}/{absolute}", self.inner.base),
            None => format!("{}/{}{path}", self.inner.base, self.inner.root),
        }
    }

    /// One request, authenticated (a 401 fetches a new token and tries
    /// once more). Transport errors are returned as they are: the caller
    /// decides what they mean.
    pub async fn send(
        &self,
        method: Method,
        path: &str,
        body: Option<&Value>,
        context: &str,
    ) -> Result<Reply, CatalogError> {
        let mut refreshed = false;
        loop {
            let token = self.token(context, refreshed).await?;
            let mut request = self.inner.http.request(method.clone(), self.url(path));
            for (name, value) in &self.inner.headers {
                request = request.header(name, value);
            }
            if let Some(token) = &token {
                request = request.bearer_auth(token);
            }
            if let Some(body) = body {
                request = request
                    .header(reqwest::header::CONTENT_TYPE, "application/json")
                    .body(serde_json::to_vec(body).expect("JSON values serialize"));
            }
            let reply = self.exchange(request, context).await?;
            if reply.status == StatusCode::UNAUTHORIZED
                && !refreshed
                && matches!(self.inner.auth, Auth::ClientCredentials { .. })
            {
                debug!(catalog = %self.inner.catalog, "401: fetching a new token");
                refreshed = true;
                continue;
            }
            return Ok(reply);
        }
    }

    async fn exchange(
        &self,
        request: reqwest::RequestBuilder,
        context: &str,
    ) -> Result<Reply, CatalogError> {
        let http_error = |source| CatalogError::Http {
            catalog: self.inner.catalog.clone(),
            context: context.to_string(),
            source,
        };
        let response = request.send().await.map_err(http_error)?;
        let status = response.status();
        let body = response.bytes().await.map_err(http_error)?;
        Ok(Reply { status, body })
    }

    /// A GET (or other read) answered 2xx, retried with backoff while it
    /// fails for a passing reason; any other answer is an error.
    pub async fn read(&self, path: &str, context: &str) -> Result<Reply, CatalogError> {
        let started = Instant::now();
        let attempt = || async {
            let reply = self.send(Method::GET, path, None, context).await?;
            if reply.status.is_success() {
                Ok(reply)
            } else {
                Err(reply.into_error(&self.inner.catalog, context))
            }
        };
        attempt
            .retry(
                ExponentialBuilder::default()
                    .with_min_delay(Duration::from_millis(250))
                    .with_max_delay(Duration::from_secs(10))
                    .with_jitter()
                    .without_max_times(),
            )
            .when(|err: &CatalogError| err.is_transient() && started.elapsed() < RETRY_FOR)
            .notify(|err, wait| {
                warn!(catalog = %self.inner.catalog, %err, retry_in = ?wait, "the catalog is unavailable; retrying")
            })
            .await
    }

    /// The bearer token to send, fetching one when there is none yet, it is
    /// about to expire, or `renew`.
    async fn token(&self, context: &str, renew: bool) -> Result<Option<String>, CatalogError> {
        match &self.inner.auth {
            Auth::None => Ok(None),
            Auth::Token(token) => Ok(Some(token.clone())),
            Auth::ClientCredentials {
                token_url,
                client_id,
                client_secret,
                scope,
                cached,
            } => {
                let mut cached = cached.lock().await;
                if let Some((token, refresh_at)) = cached.as_ref()
                    && !renew
                    && Instant::now() < *refresh_at
                {
                    return Ok(Some(token.clone()));
                }
                let context = format!("{context}: getting an OAuth2 token from {token_url}");
                let form = [
                    ("grant_type", "client_credentials"),
                    ("client_id", client_id),
                    ("client_secret", client_secret),
                    ("scope", scope),
                ]
                .iter()
                .map(|(k, v)| format!("{k}={}", segment(v)))
                .collect::<Vec<_>>()
                .join("&");
                let request = self
                    .inner
                    .http
                    .post(token_url)
                    .header(
                        reqwest::header::CONTENT_TYPE,
                        "application/x-www-form-urlencoded",
                    )
                    .body(form);
                let reply = self.exchange(request, &context).await?;
                if !reply.status.is_success() {
                    return Err(reply.into_error(&self.inner.catalog, &context));
                }
                let json = reply.json(&self.inner.catalog, &context)?;
                let token = json
                    .get("access_token")
                    .and_then(Value::as_str)
                    .ok_or_else(|| CatalogError::Protocol {
                        catalog: self.inner.catalog.clone(),
                        context: context.clone(),
                        message: "no access_token".into(),
                    })?
                    .to_string();
                // Refreshed when 80 % of its life has passed (an hour when
                // the server does not say).
                let life = json
                    .get("expires_in")
                    .and_then(Value::as_u64)
                    .unwrap_or(3600);
                let refresh_at = Instant::now() + Duration::from_secs(life) * 4 / 5;
                debug!(catalog = %self.inner.catalog, expires_in = life, "OAuth2 token fetched");
                *cached = Some((token.clone(), refresh_at));
                Ok(Some(token))
            }
        }
    }
}

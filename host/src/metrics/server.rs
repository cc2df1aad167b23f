//! The HTTP endpoint: `GET /metrics` and `GET /health`.

use std::net::SocketAddr;
use std::sync::Arc;
use std::thread::JoinHandle;

use super::Metrics;

/// The metrics endpoint could not start.
#[derive(Debug, thiserror::Error)]
#[error("serving metrics on {addr}: {message}")]
pub struct MetricsServerError {
    addr: SocketAddr,
    message: String,
}

/// Serves [`Metrics`] on its own thread until dropped.
pub struct MetricsServer {
    server: Arc<tiny_http::Server>,
    addr: SocketAddr,
    thread: Option<JoinHandle<()>>,
}

impl MetricsServer {
    /// Binds `addr` (port 0 picks a free port) and starts serving.
    pub fn start(addr: SocketAddr, metrics: Arc<Metrics>) -> Result<Self, MetricsServerError> {
        let server = tiny_http::Server::http(addr).map_err(|e| MetricsServerError {
            addr,
            message: e.to_string(),
        })?;
        let bound = server.server_addr().to_ip().unwrap_or(addr);
        let server = Arc::new(server);
        let serving = server.clone();
        let thread = std::thread::Builder::new()
            .name("floe-metrics".into())
            .spawn(move || serve(&serving, &metrics))
            .map_err(|e| MetricsServerError {
                addr,
                message: e.to_string(),
            })?;
        tracing::info!(addr = %bound, "serving /metrics and /health");
        Ok(MetricsServer {
            server,
            addr: bound,
            thread: Some(thread),
        })
    }

    /// The address it listens on.
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }
}

impl Drop for MetricsServer {
    fn drop(&mut self) {
        self.server.unblock();
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}

fn serve(server: &tiny_http::Server, metrics: &Metrics) {
    for request in server.incoming_requests() {
        let (status, content_type, body) = match (request.method(), request.url()) {
            (tiny_http::Method::Get, "/metrics") => (
                200,
                "application/openmetrics-text; version=1.0.0; charset=utf-8",
                metrics.encode(),
            ),
            (tiny_http::Method::Get, "/health") => {
                let (healthy, report) = metrics.health().report();
                (if healthy { 200 } else { 503 }, "application/json", report)
            }
            _ => (
                404,
                "text/plain",
                "not found: try /metrics or /health\n".into(),
            ),
        };
        let header =
            tiny_http::Header::from_bytes("Content-Type", content_type).expect("a valid header");
        let response = tiny_http::Response::from_string(body)
            .with_status_code(status)
            .with_header(header);
        if let Err(error) = request.respond(response) {
            tracing::debug!(%error, "metrics client went away");
        }
    }
}

#[cfg(test)]
mod tests {
    use std::io::{Read, Write};
    use std::net::TcpStream;

    use super::*;

    fn get(addr: SocketAddr, path: &str) -> String {
        let mut stream = TcpStream::connect(addr).unwrap();
        write!(
            stream,
            "GET {path} HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n"
        )
        .unwrap();
        let mut response = String::new();
        stream.read_to_string(&mut response).unwrap();
        response
    }

    #[test]
    fn serves_metrics_and_health() {
        let metrics = Arc::new(Metrics::new());
        metrics.records_in("t", 7);
        let server = MetricsServer::start("127.0.0.1:0".parse().unwrap(), metrics.clone()).unwrap();
        let text = get(server.addr(), "/metrics");
        assert!(text.starts_with("HTTP/1.1 200"), "{text}");
        assert!(
            text.contains(r#"floe_records_in_total{topic="t"} 7"#),
            "{text}"
        );
        let health = get(server.addr(), "/health");
        assert!(
            health.starts_with("HTTP/1.1 503"),
            "not running yet: {health}"
        );
        metrics.health().set_running(true);
        let health = get(server.addr(), "/health");
        assert!(health.starts_with("HTTP/1.1 200"), "{health}");
        assert!(get(server.addr(), "/nope").starts_with("HTTP/1.1 404"));
    }
}

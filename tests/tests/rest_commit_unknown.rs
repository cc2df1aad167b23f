//! A commit whose outcome is unknown: a TCP proxy in front of the REST
//! catalog forwards some of floe's commits and drops their responses (the
//! server applied them, floe never hears), and drops others before the
//! server sees them. floe must reload the table, find that the first kind
//! landed and the second did not, and go on: every window applied exactly
//! once, none twice, none lost.

mod iceberg_common;
mod pipeline_common;

use std::io::{Read, Write};
use std::net::{Shutdown, TcpListener, TcpStream};
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::thread;

use floe_tests::cdc::{Mix, generate};
use floe_tests::config::PipelineToml;
use floe_tests::seaweed::Seaweed;
use pipeline_common::{assert_reads, floe_run, write_events};

const TOPIC: &str = "dbserver1.shop.accounts";
const TABLE: &str = "shop.accounts";
/// The request line of a commit to the table (not the table's creation,
/// which posts to `…/tables`).
const COMMIT: &[u8] = b"POST /v1/iceberg-tables/namespaces/shop/tables/accounts HTTP/1.1";

/// What the proxy does to the n-th commit (from 1).
#[derive(Clone, Copy, PartialEq, Debug)]
enum Fate {
    Pass,
    /// Forwarded; the server's response is dropped with the connection.
    LoseResponse,
    /// Dropped with the connection before the server sees it.
    LoseRequest,
}

fn fate(n: usize) -> Fate {
    match n {
        2 | 5 => Fate::LoseResponse,
        3 => Fate::LoseRequest,
        _ => Fate::Pass,
    }
}

/// A proxy on a free port forwarding to `upstream`; counts commits.
fn proxy(upstream: u16, commits: Arc<AtomicUsize>) -> u16 {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    thread::spawn(move || {
        for client in listener.incoming().flatten() {
            let commits = commits.clone();
            thread::spawn(move || connection(client, upstream, &commits));
        }
    });
    port
}

/// Forwards one client connection, request by request (floe's HTTP client
/// waits for each response before it sends the next request).
fn connection(mut client: TcpStream, upstream: u16, commits: &AtomicUsize) {
    let Ok(mut server) = TcpStream::connect(("127.0.0.1", upstream)) else {
        return;
    };
    let mut to_client = server.try_clone().unwrap();
    let mut from_client = client.try_clone().unwrap();
    let dropping = Arc::new(std::sync::atomic::AtomicBool::new(false));
    let responses = {
        let dropping = dropping.clone();
        thread::spawn(move || {
            let mut buf = vec![0u8; 64 * 1024];
            loop {
                match to_client.read(&mut buf) {
                    Ok(0) | Err(_) => break,
                    Ok(n) => {
                        if dropping.load(Ordering::SeqCst) {
                            // The server answered the commit; floe never hears it.
                            let _ = from_client.shutdown(Shutdown::Both);
                            break;
                        }
                        if from_client.write_all(&buf[..n]).is_err() {
                            break;
                        }
                    }
                }
            }
            let _ = from_client.shutdown(Shutdown::Both);
        })
    };
    let mut buf = vec![0u8; 64 * 1024];
    loop {
        let n = match client.read(&mut buf) {
            Ok(0) | Err(_) => break,
            Ok(n) => n,
        };
        if buf[..n].starts_with(COMMIT) {
            let n_commit = commits.fetch_add(1, Ordering::SeqCst) + 1;
            match fate(n_commit) {
                Fate::Pass => {}
                Fate::LoseResponse => dropping.store(true, Ordering::SeqCst),
                Fate::LoseRequest => {
                    let _ = client.shutdown(Shutdown::Both);
                    break;
                }
            }
        }
        if server.write_all(&buf[..n]).is_err() {
            break;
        }
    }
    let _ = server.shutdown(Shutdown::Both);
    let _ = responses.join();
}

#[test]
fn a_commit_whose_response_is_lost_is_found_landed_and_never_applied_twice() {
    let Some(server) = Seaweed::start() else {
        return;
    };
    let commits = Arc::new(AtomicUsize::new(0));
    let port = proxy(server.iceberg_port, commits.clone());
    let dir = tempfile::tempdir().unwrap();
    let stream = generate(0xfade, 900, Mix::file());
    write_events(dir.path(), &stream.lines());
    let config = PipelineToml::file("test-cdc", TOPIC, TABLE, 100)
        .catalog_toml(&server.catalog_toml(&format!("http://127.0.0.1:{port}")))
        .table_keys("create = true")
        .write(dir.path());

    let output = floe_run(&config).env("FLOE_LOG", "info").output().unwrap();
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(output.status.success(), "floe run failed: {stderr}");
    let landed = stderr
        .matches("the commit whose outcome was unknown landed")
        .count();
    let resent = stderr
        .matches("commit sent again after an unknown outcome; it landed")
        .count();
    assert_eq!(
        landed, 2,
        "two lost responses, found landed by reloading:\n{stderr}"
    );
    assert_eq!(resent, 1, "one lost request, sent again:\n{stderr}");

    let expected: Vec<_> = stream.oracle_after(900).values().cloned().collect();
    let read = assert_reads(&server, TABLE, TOPIC, &expected, 900, "through the proxy");
    // 900 records in windows of 100: 9 snapshots, each window exactly once.
    assert_eq!(read["snapshots"], 9, "one snapshot per window");
    let seen = commits.load(Ordering::SeqCst);
    assert_eq!(seen, 10, "9 windows, one sent twice: {seen} commits");
}

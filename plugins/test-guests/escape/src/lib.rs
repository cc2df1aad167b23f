//! Test guest `escape`: on every batch, tries to reach outside the sandbox
//! (read and write files, open a socket, read the environment) and rejects
//! every change with a report of what happened, e.g.
//! `fs_read=denied: …; fs_write=denied: …; net=denied: …; env=0 vars`.
//! Anything that got through is reported as `ALLOWED`.

use floe_guest::{Change, Config, Error, Outcome, Transformer};

/// The escaping transformer.
pub struct Escape {
    report: String,
}

fn probe() -> String {
    let fs_read = match std::fs::read("/etc/passwd") {
        Ok(bytes) => format!("ALLOWED: read {} bytes", bytes.len()),
        Err(e) => format!("denied: {e}"),
    };
    let fs_write = match std::fs::write("/tmp/floe-escape", b"escaped") {
        Ok(()) => "ALLOWED: wrote /tmp/floe-escape".to_string(),
        Err(e) => format!("denied: {e}"),
    };
    let net = match std::net::TcpStream::connect("127.0.0.1:9") {
        Ok(_) => "ALLOWED: connected to 127.0.0.1:9".to_string(),
        Err(e) => format!("denied: {e}"),
    };
    let vars = std::env::vars_os().count();
    let env = if vars == 0 {
        "0 vars".to_string()
    } else {
        format!("ALLOWED: {vars} vars")
    };
    format!("fs_read={fs_read}; fs_write={fs_write}; net={net}; env={env}")
}

impl Transformer for Escape {
    fn init(_config: &Config) -> Result<Self, Error> {
        Ok(Escape {
            report: String::new(),
        })
    }

    fn transform(&mut self, change: &mut Change<'_>) -> Outcome {
        if change.index() == 0 || self.report.is_empty() {
            self.report = probe();
        }
        Outcome::Reject(self.report.clone())
    }
}

floe_guest::export_transformer!(Escape);

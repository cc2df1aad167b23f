//! The SQL catalog on PostgreSQL: a throwaway cluster (initdb into a temp
//! dir, pg_ctl on a free 127.0.0.1 port), the same catalog operations and a
//! floe commit as on SQLite.
//!
//! The server binaries are looked up under /usr/lib/postgresql/*/bin (Debian's
//! `postgresql` package). Without them the test prints why and passes, unless
//! FLOE_TEST_POSTGRES=1 demands it. As root, the cluster runs as the
//! `postgres` user (initdb refuses root).

mod iceberg_common;

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::Command;

use floe::change::Op;
use floe::commit::Offsets;
use floe::commit::catalog::{CatalogConfig, NamespaceIdent, SqlCatalog, parse_table_ident};
use floe::table::{TableOptions, TableWriter};
use iceberg_common::*;

fn server_bin() -> Option<PathBuf> {
    let mut found: Vec<PathBuf> = std::fs::read_dir("/usr/lib/postgresql")
        .ok()?
        .filter_map(|e| e.ok())
        .map(|e| e.path().join("bin"))
        .filter(|bin| bin.join("initdb").exists() && bin.join("pg_ctl").exists())
        .collect();
    found.sort();
    found.pop()
}

fn is_root() -> bool {
    Command::new("id")
        .arg("-u")
        .output()
        .map(|o| o.stdout.starts_with(b"0"))
        .unwrap_or(false)
}

/// Runs a shell command, as `postgres` when we are root.
fn run(command: &str) {
    let status = if is_root() {
        Command::new("su")
            .args(["postgres", "-s", "/bin/sh", "-c", command])
            .status()
    } else {
        Command::new("sh").args(["-c", command]).status()
    }
    .expect("running a PostgreSQL command");
    assert!(status.success(), "failed: {command}");
}

struct Cluster {
    bin: PathBuf,
    dir: PathBuf,
    port: u16,
}

impl Cluster {
    fn start(bin: PathBuf, dir: &Path) -> Cluster {
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port();
        let data = dir.join("pgdata");
        std::fs::create_dir_all(dir).unwrap();
        if is_root() {
            let status = Command::new("chown")
                .args(["-R", "postgres", &dir.display().to_string()])
                .status()
                .unwrap();
            assert!(status.success());
        }
        run(&format!(
            "{}/initdb -D {} -U floe --auth=trust -E UTF8 >/dev/null",
            bin.display(),
            data.display()
        ));
        run(&format!(
            "{}/pg_ctl -D {} -l {}/log -w -o '-p {port} -k {} -c listen_addresses=127.0.0.1 -c fsync=off' start >/dev/null",
            bin.display(),
            data.display(),
            dir.display(),
            dir.display()
        ));
        Cluster {
            bin,
            dir: dir.to_path_buf(),
            port,
        }
    }

    fn uri(&self) -> String {
        format!("postgres://floe@127.0.0.1:{}/postgres", self.port)
    }
}

impl Drop for Cluster {
    fn drop(&mut self) {
        run(&format!(
            "{}/pg_ctl -D {}/pgdata -m immediate stop >/dev/null",
            self.bin.display(),
            self.dir.display()
        ));
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn catalog_and_commits_on_postgres() {
    let Some(bin) = server_bin() else {
        assert!(
            std::env::var("FLOE_TEST_POSTGRES").as_deref() != Ok("1"),
            "FLOE_TEST_POSTGRES=1 but no /usr/lib/postgresql/*/bin/initdb (apt-get install -y postgresql)"
        );
        eprintln!(
            "SKIPPED catalog_and_commits_on_postgres: no PostgreSQL server binaries under /usr/lib/postgresql/*/bin (apt-get install -y postgresql)"
        );
        return;
    };
    let tmp = tempfile::Builder::new()
        .prefix("floe-pg")
        .tempdir_in("/tmp")
        .unwrap();
    if is_root() {
        let status = Command::new("chmod")
            .args(["755", &tmp.path().display().to_string()])
            .status()
            .unwrap();
        assert!(status.success());
    }
    let cluster = Cluster::start(bin, &tmp.path().join("cluster"));
    let warehouse = tmp.path().join("warehouse");
    let config = CatalogConfig {
        name: "pg".into(),
        uri: cluster.uri(),
        warehouse: warehouse.display().to_string(),
    };
    let catalog = SqlCatalog::connect(&config).await.unwrap();
    let ns = NamespaceIdent::new("shop".into());
    catalog.ensure_namespace(&ns).await.unwrap();
    assert!(catalog.namespace_exists(&ns).await.unwrap());

    let ident = parse_table_ident("shop.items").unwrap();
    let mut options = TableOptions::new("p");
    options.create = true;
    options.partition = vec!["region".into()];
    let item = |id: i64, name: &str| Item {
        id,
        name: Some(name.into()),
        region: if id % 2 == 0 {
            "eu".into()
        } else {
            "us".into()
        },
        ts: 0,
        amount: None,
        qty: None,
    };
    let mut writer = TableWriter::open(catalog.clone(), ident.clone(), options.clone())
        .await
        .unwrap();
    let changes: Vec<_> = (0..10)
        .map(|id| {
            change(
                Op::Insert,
                "shop.items",
                None,
                Some(item(id, "a").image()),
                "t",
                id,
            )
        })
        .collect();
    assert!(writer.apply(changes).is_empty());
    writer
        .commit(&Offsets::new(), &BTreeMap::new())
        .await
        .unwrap()
        .unwrap();

    // A stale writer loses the compare-and-swap and retries on the new parent.
    let mut stale = TableWriter::open(catalog.clone(), ident.clone(), options.clone())
        .await
        .unwrap();
    assert!(
        writer
            .apply(vec![change(
                Op::Delete,
                "shop.items",
                Some(key_image(3)),
                None,
                "t",
                10
            )])
            .is_empty()
    );
    writer
        .commit(&Offsets::new(), &BTreeMap::new())
        .await
        .unwrap()
        .unwrap();
    assert!(
        stale
            .apply(vec![change(
                Op::Update,
                "shop.items",
                None,
                Some(item(4, "b").image()),
                "u",
                0
            )])
            .is_empty()
    );
    let report = stale
        .commit(&Offsets::new(), &BTreeMap::new())
        .await
        .unwrap()
        .unwrap();
    assert_eq!(
        (report.conflicts, report.updated, report.dropped),
        (1, 1, false),
        "{report:?}"
    );

    let reopened = TableWriter::open(catalog.clone(), ident.clone(), options)
        .await
        .unwrap();
    assert_eq!(reopened.index_len(), 9);
    assert_eq!(reopened.offsets().get("t", 0), Some(11));
    assert_eq!(reopened.offsets().get("u", 0), Some(1));
    let loaded = catalog.load_table(&ident).await.unwrap();
    assert!(
        loaded
            .metadata_location
            .starts_with(&warehouse.display().to_string())
    );
    assert_eq!(loaded.metadata.snapshots().count(), 3);
}

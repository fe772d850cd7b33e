//! A throwaway PostgreSQL server for a test: `initdb` in a temp folder, `postgres` on a
//! leased loopback port, stopped by PID when dropped (SIGKILL on demand, to test what
//! survives). Debian's server binaries live in `/usr/lib/postgresql/<version>/bin`, outside
//! PATH; as root (CI) the server runs as Debian's `postgres` user, since `initdb` refuses root.

use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::Duration;

use super::ports::{lease, PortBlock};
use super::wait_for;

/// A running PostgreSQL; user `hotline` (trust auth on loopback), database `postgres`.
pub struct Postgres {
    child: Option<Child>,
    pub port: u16,
    dir: tempfile::TempDir,
    run_as: Option<(u32, u32)>,
    _ports: PortBlock,
}

/// Where the server's binaries are: PATH first, then Debian's versioned folder (newest).
fn server_bin(name: &str) -> PathBuf {
    if let Ok(path) = std::env::var("PATH") {
        for dir in std::env::split_paths(&path) {
            if dir.join(name).is_file() {
                return dir.join(name);
            }
        }
    }
    let mut found: Vec<PathBuf> = std::fs::read_dir("/usr/lib/postgresql")
        .map(|d| {
            d.flatten()
                .map(|e| e.path().join("bin").join(name))
                .collect()
        })
        .unwrap_or_default();
    found.retain(|p| p.is_file());
    found.sort();
    found.pop().unwrap_or_else(|| {
        panic!("PostgreSQL's {name} is not installed: run ./.ci/test (it installs Debian's postgresql)")
    })
}

/// The `postgres` account's uid and gid when this process is root.
fn unprivileged() -> Option<(u32, u32)> {
    // `/proc/self` belongs to this process's effective user.
    use std::os::unix::fs::MetadataExt;
    if std::fs::metadata("/proc/self").ok()?.uid() != 0 {
        return None;
    }
    let passwd = std::fs::read_to_string("/etc/passwd").expect("read /etc/passwd");
    let line = passwd
        .lines()
        .find(|l| l.starts_with("postgres:"))
        .expect("running as root needs Debian's postgres user (apt-get install postgresql)");
    let fields: Vec<&str> = line.split(':').collect();
    Some((
        fields[2].parse().expect("postgres uid"),
        fields[3].parse().expect("postgres gid"),
    ))
}

fn chown_tree(path: &Path, (uid, gid): (u32, u32)) {
    std::os::unix::fs::chown(path, Some(uid), Some(gid)).expect("chown");
    if path.is_dir() {
        for entry in std::fs::read_dir(path).expect("read dir").flatten() {
            chown_tree(&entry.path(), (uid, gid));
        }
    }
}

impl Postgres {
    /// initdb and start; panics with the server's log when it does not come up in 30 s.
    pub fn start() -> Postgres {
        let dir = tempfile::tempdir().expect("temp dir");
        let run_as = unprivileged();
        if let Some(ids) = run_as {
            chown_tree(dir.path(), ids);
        }
        let data = dir.path().join("data");
        let mut initdb = Command::new(server_bin("initdb"));
        initdb
            .arg("-D")
            .arg(&data)
            .args([
                "-U",
                "hotline",
                "--auth=trust",
                "-E",
                "UTF8",
                "--locale=C",
                "--no-sync",
            ])
            .stdout(Stdio::null())
            .stderr(Stdio::piped());
        if let Some((uid, gid)) = run_as {
            initdb.uid(uid).gid(gid);
        }
        let out = initdb.output().expect("run initdb");
        assert!(
            out.status.success(),
            "initdb failed: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        let ports = lease();
        let port = ports.first;
        let mut pg = Postgres {
            child: None,
            port,
            dir,
            run_as,
            _ports: ports,
        };
        pg.launch();
        pg
    }

    fn launch(&mut self) {
        // After a SIGKILL the old server's children hold its shared memory for a moment, and
        // a new postmaster refuses to start until they are gone: try again, bounded.
        for _attempt in 0..60 {
            let log = std::fs::OpenOptions::new()
                .create(true)
                .append(true)
                .open(self.log_path())
                .expect("log file");
            let mut server = Command::new(server_bin("postgres"));
            server
                .arg("-D")
                .arg(self.dir.path().join("data"))
                .arg("-k")
                .arg(self.dir.path())
                .args(["-p", &self.port.to_string()])
                .args([
                    "-c",
                    "listen_addresses=127.0.0.1",
                    "-c",
                    "max_connections=200",
                ])
                .stdout(Stdio::null())
                .stderr(log);
            if let Some((uid, gid)) = self.run_as {
                server.uid(uid).gid(gid);
            }
            let mut child = server.spawn().expect("start postgres");
            let port = self.port;
            let ready = wait_for(Duration::from_secs(30), || {
                if child.try_wait().ok().flatten().is_some() {
                    return Some(false);
                }
                let out = Command::new("psql")
                    .args(["-h", "127.0.0.1", "-p", &port.to_string(), "-U", "hotline"])
                    .args(["-d", "postgres", "-tAc", "select 1"])
                    .output()
                    .ok()?;
                out.status.success().then_some(true)
            });
            match ready {
                Some(true) => {
                    self.child = Some(child);
                    return;
                }
                Some(false) => std::thread::sleep(Duration::from_millis(250)),
                None => {
                    let _ = child.kill();
                    let _ = child.wait();
                    break;
                }
            }
        }
        panic!("PostgreSQL did not start; log:\n{}", self.log());
    }

    fn log_path(&self) -> PathBuf {
        self.dir.path().join("postgres.log")
    }

    /// The server's log so far.
    pub fn log(&self) -> String {
        std::fs::read_to_string(self.log_path()).unwrap_or_default()
    }

    /// The server's process id.
    pub fn pid(&self) -> u32 {
        self.child.as_ref().map(Child::id).expect("running")
    }

    /// A connection URL for `database` (see [`Postgres::create_database`]).
    pub fn url(&self, database: &str) -> String {
        format!("postgres://hotline@127.0.0.1:{}/{database}", self.port)
    }

    /// Runs one SQL statement (or several, `;`-separated) in `database`; answers its
    /// unaligned, tuples-only output; panics with psql's error.
    pub fn sql(&self, database: &str, statement: &str) -> String {
        let out = Command::new("psql")
            .args([
                "-h",
                "127.0.0.1",
                "-p",
                &self.port.to_string(),
                "-U",
                "hotline",
            ])
            .args(["-d", database, "-v", "ON_ERROR_STOP=1", "-tAc", statement])
            .output()
            .expect("run psql");
        assert!(
            out.status.success(),
            "psql {statement:?}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8_lossy(&out.stdout).trim().to_string()
    }

    /// Creates an empty database owned by `hotline`; answers its URL.
    pub fn create_database(&self, name: &str) -> String {
        self.sql("postgres", &format!("create database \"{name}\""));
        self.url(name)
    }

    /// Kills the server with SIGKILL (no shutdown), as a lost machine would.
    pub fn kill_9(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }

    /// Starts the server again over the same data (after [`Postgres::kill_9`]).
    pub fn restart(&mut self) {
        self.kill_9();
        self.launch();
    }
}

impl Drop for Postgres {
    fn drop(&mut self) {
        if let Some(child) = self.child.as_mut() {
            // SIGTERM: "smart" shutdown is too polite for a test; SIGQUIT stops at once.
            let _ = Command::new("kill")
                .args(["-QUIT", &child.id().to_string()])
                .status();
            let stopped = wait_for(Duration::from_secs(5), || child.try_wait().ok().flatten());
            if stopped.is_none() {
                let _ = child.kill();
                let _ = child.wait();
            }
        }
    }
}

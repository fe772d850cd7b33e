//! One store suite, two backends (issue 19): a test body takes a [`Backend`] and runs the same
//! steps against a SQLite file in a temp folder or a database on a throwaway PostgreSQL
//! (`postgres.rs`); `on_both!` makes the two `#[test]`s of a body.

use hotline::shell::store::{Store, StoreAt};
use hotline::shell::ticket_store::Durability;

use super::postgres::Postgres;

/// Where a test's store lives.
pub enum Backend {
    Sqlite(tempfile::TempDir),
    Postgres {
        server: Postgres,
        url: String,
        dir: tempfile::TempDir,
    },
}

impl Backend {
    pub fn sqlite() -> Backend {
        Backend::Sqlite(tempfile::tempdir().expect("tempdir"))
    }

    /// A new PostgreSQL server with an empty `tickets` database.
    pub fn postgres() -> Backend {
        let server = Postgres::start();
        let url = server.create_database("tickets");
        Backend::Postgres {
            server,
            url,
            dir: tempfile::tempdir().expect("tempdir"),
        }
    }

    /// Where the store is (the data folder, and the URL on PostgreSQL).
    pub fn at(&self) -> StoreAt {
        match self {
            Backend::Sqlite(dir) => StoreAt::sqlite(&dir.path().join("data")),
            Backend::Postgres { url, dir, .. } => StoreAt {
                data_dir: dir.path().join("data"),
                postgres: Some(url.clone()),
            },
        }
    }

    /// Opens (or reopens) the store, migrating it.
    pub fn open(&self) -> Store {
        self.at().open(Durability::Full).expect("open the store")
    }

    /// The PostgreSQL server, for the tests that stop it.
    pub fn server(&mut self) -> Option<&mut Postgres> {
        match self {
            Backend::Sqlite(_) => None,
            Backend::Postgres { server, .. } => Some(server),
        }
    }

    /// Environment for a child process that opens the same store (`HOTLINE_TEST_STORE_*`).
    pub fn env(&self) -> Vec<(&'static str, String)> {
        let at = self.at();
        let mut env = vec![(
            "HOTLINE_TEST_STORE_DIR",
            at.data_dir.to_string_lossy().into_owned(),
        )];
        if let Some(url) = at.postgres {
            env.push(("HOTLINE_TEST_STORE_PG", url));
        }
        env
    }

    /// The store a child process was handed by [`Backend::env`], if it was.
    pub fn from_env() -> Option<StoreAt> {
        let dir = std::env::var_os("HOTLINE_TEST_STORE_DIR")?;
        Some(StoreAt {
            data_dir: dir.into(),
            postgres: std::env::var("HOTLINE_TEST_STORE_PG").ok(),
        })
    }
}

/// Asserts the store commits durably: SQLite in WAL with `synchronous=FULL` and a sound file;
/// PostgreSQL with `synchronous_commit = on`.
pub fn assert_durable(s: &mut Store) {
    match s {
        Store::Sqlite(s) => {
            assert_eq!(s.pragmas().expect("pragmas"), ("wal".to_string(), 2));
            assert!(s.integrity_ok().expect("integrity check"));
        }
        Store::Postgres { pg, .. } => {
            assert_eq!(pg.synchronous_commit().expect("show"), "on");
            assert!(pg.schema_version().expect("schema version") >= 1);
        }
    }
}

/// Two `#[test]`s running `body(&Backend)`: `name_sqlite` and `name_postgres`.
#[macro_export]
macro_rules! on_both {
    ($body:ident: $sqlite:ident, $postgres:ident) => {
        #[test]
        fn $sqlite() {
            $body(&mut common::store_backend::Backend::sqlite());
        }
        #[test]
        fn $postgres() {
            $body(&mut common::store_backend::Backend::postgres());
        }
    };
}

//! The test peer for the PostgreSQL store (issue 19): `tests/common/postgres.rs` starts a
//! throwaway server as the store's tests and the failover test need it. This proves the
//! helper itself: a database is created, written, survives a SIGKILL of the server and a
//! restart (committed data is durable), and the server is gone after the drop.

// Real peers run in real time.
#![allow(clippy::disallowed_methods)]

mod common;

use common::postgres::Postgres;

#[test]
fn a_throwaway_server_keeps_committed_rows_across_a_kill_and_stops_on_drop() {
    let mut pg = Postgres::start();
    let url = pg.create_database("peer_check");
    assert!(url.ends_with("/peer_check"), "{url}");
    pg.sql(
        "peer_check",
        "create table t (n int); insert into t values (1), (2)",
    );
    pg.kill_9();
    pg.restart();
    assert_eq!(pg.sql("peer_check", "select sum(n) from t"), "3");
    let pid = pg.pid();
    drop(pg);
    assert!(
        !std::path::Path::new(&format!("/proc/{pid}")).exists(),
        "the server outlived its test"
    );
}

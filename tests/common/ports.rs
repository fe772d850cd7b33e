//! Port ranges and turns shared across test processes.
//!
//! The suite runs tests in parallel processes (cargo-nextest gives each test its own, and
//! helpers' worktrees test on the same machine), so an in-process counter cannot keep two
//! engines' RTP ranges or two phones' media ports apart. A lease is an exclusive `flock` on a
//! file named after its block in the system's temp folder: the kernel drops it when the
//! holder's process ends, so a test that crashes leaks nothing.

// `File::lock` (Rust 1.89) is newer than the crate's MSRV; only the tests use it, and they
// run on the toolchain `.ci/test` builds with.
#![allow(clippy::incompatible_msrv)]

use std::fs::{File, OpenOptions};
use std::path::PathBuf;
use std::time::Duration;

/// Ports per block: 100 calls' RTP and RTCP for an engine, or 100 calls of a phone.
pub const BLOCK: u16 = 200;
/// Leased blocks lie in 20000..32600 (63 blocks), below Linux's ephemeral range (32768
/// and up), so a port the kernel hands to any process's bind-to-0 never lands in a lease.
const FIRST: u16 = 20000;
const BLOCKS: u16 = 63;

/// A range of `BLOCK` ports no other test of this machine holds while this value lives.
pub struct PortBlock {
    pub first: u16,
    _lock: File,
}

impl PortBlock {
    /// The last port of the block (inclusive).
    pub fn last(&self) -> u16 {
        self.first + BLOCK - 1
    }
}

fn lock_dir(what: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("hotline-test-{what}"));
    std::fs::create_dir_all(&dir).expect("lock folder");
    dir
}

fn lock_file(path: PathBuf) -> File {
    OpenOptions::new()
        .create(true)
        .truncate(false)
        .write(true)
        .open(&path)
        .unwrap_or_else(|e| panic!("lock file {}: {e}", path.display()))
}

/// Leases a free block, trying them from a place that differs per process and per call so
/// parallel tests rarely contend; waits (bounded) when every block is held.
pub fn lease() -> PortBlock {
    use std::sync::atomic::{AtomicU16, Ordering};
    static NEXT: AtomicU16 = AtomicU16::new(0);
    let dir = lock_dir("ports");
    let start = (std::process::id() % u32::from(BLOCKS)) as u16;
    for _round in 0..600 {
        let offset = NEXT.fetch_add(1, Ordering::Relaxed);
        for k in 0..BLOCKS {
            let block = (start + offset + k) % BLOCKS;
            let file = lock_file(dir.join(format!("{block}.lock")));
            if file.try_lock().is_ok() {
                return PortBlock {
                    first: FIRST + block * BLOCK,
                    _lock: file,
                };
            }
        }
        std::thread::sleep(Duration::from_millis(100));
    }
    panic!("every test port block stayed leased for a minute");
}

/// Holds the machine-wide turn named `name` while it lives: tests that each need most of
/// the CPU (a Chromium page, several phones and an engine) take turns across processes.
pub struct Turn {
    _lock: File,
}

/// Waits for the turn `name` (tests of any process asking for the same name run one at a
/// time).
pub fn turn(name: &str) -> Turn {
    let file = lock_file(lock_dir("turns").join(format!("{name}.lock")));
    file.lock().expect("wait for the turn");
    Turn { _lock: file }
}

/// One of `slots` machine-wide places named `name`, shared by every holder in this process:
/// a test that opens a second page while holding its first never waits for itself.
pub struct Slot {
    _lock: File,
}

/// Waits (bounded) for a free place among `slots` named `name`, or joins this process's.
pub fn slot(name: &str, slots: u32) -> std::sync::Arc<Slot> {
    use std::collections::HashMap;
    use std::sync::{Arc, Mutex, Weak};
    static HELD: Mutex<Option<HashMap<String, Weak<Slot>>>> = Mutex::new(None);
    let mut held = HELD.lock().unwrap_or_else(|e| e.into_inner());
    let held = held.get_or_insert_with(HashMap::new);
    if let Some(mine) = held.get(name).and_then(Weak::upgrade) {
        return mine;
    }
    let dir = lock_dir("slots");
    for _round in 0..6000 {
        for k in 0..slots {
            let file = lock_file(dir.join(format!("{name}-{k}.lock")));
            if file.try_lock().is_ok() {
                let mine = Arc::new(Slot { _lock: file });
                held.insert(name.to_string(), Arc::downgrade(&mine));
                return mine;
            }
        }
        std::thread::sleep(Duration::from_millis(100));
    }
    panic!("no {name} slot came free in 10 minutes");
}

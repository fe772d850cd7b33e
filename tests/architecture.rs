//! The one rule of the house, checked: core modules never import tokio, sockets, files,
//! the database or the clock. Only `shell/` (and `cti/`, the HTTP face) may.

use std::path::{Path, PathBuf};

const CORE_ROOMS: &[&str] = &[
    "sip",
    "media",
    "ivr",
    "acd",
    "call",
    "workflow",
    "stats",
    "analytics",
    "config",
    "portal",
    "outbound",
    "kb",
    "cluster",
];

const FORBIDDEN: &[&str] = &[
    "tokio",
    "std::net::UdpSocket",
    "std::net::TcpStream",
    "std::net::TcpListener",
    "rusqlite",
    "tokio_postgres",
    // The knowledge base's search engine belongs to the shell, behind `kb::Search`.
    "tantivy",
    "Instant::now",
    "SystemTime::now",
    "Utc::now",
    "Local::now",
];

fn rust_files(dir: &Path, out: &mut Vec<PathBuf>) {
    for entry in std::fs::read_dir(dir).expect("src readable").flatten() {
        let p = entry.path();
        if p.is_dir() {
            rust_files(&p, out);
        } else if p.extension().is_some_and(|e| e == "rs") {
            out.push(p);
        }
    }
}

#[test]
fn core_rooms_do_no_io() {
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let mut offenders = Vec::new();
    for room in CORE_ROOMS {
        let mut files = Vec::new();
        let dir = src.join(room);
        if dir.is_dir() {
            rust_files(&dir, &mut files);
        }
        for f in files {
            let text = std::fs::read_to_string(&f).expect("source readable");
            // Unit tests (the `#[cfg(test)]` module at the end of a file) may take a clock origin.
            let code_part = text.split("#[cfg(test)]").next().unwrap_or("");
            for (i, line) in code_part.lines().enumerate() {
                let code = line.split("//").next().unwrap_or("");
                for bad in FORBIDDEN {
                    if code.contains(bad) {
                        offenders.push(format!("{}:{}: uses `{bad}`", f.display(), i + 1));
                    }
                }
                // Config may read its own file; no other core touches the file system.
                if *room != "config" && code.contains("std::fs") {
                    offenders.push(format!("{}:{}: uses `std::fs`", f.display(), i + 1));
                }
            }
        }
    }
    assert!(
        offenders.is_empty(),
        "core rooms must stay sans-IO:\n{}",
        offenders.join("\n")
    );
}

//! Files handling units attach to their replies (W11: supporting material), stored by content
//! under `DATA/attachments/<ticket>/<sha256>`: the ticket's event log names them (name +
//! SHA-256), this store keeps the bytes. A file is written to a temporary name, synced and
//! renamed, so a crash never leaves a half file under a hash; the same file twice is stored
//! once.

use std::io::Write;
use std::path::{Path, PathBuf};

use sha2::{Digest, Sha256};

/// Largest attachment accepted (a scanned report or a few photos).
pub const MAX_BYTES: usize = 20 * 1024 * 1024;

/// Why an attachment could not be stored or read.
#[derive(Debug, thiserror::Error)]
pub enum AttachmentError {
    #[error("the file is empty")]
    Empty,
    #[error("the file is larger than {max} bytes")]
    TooLarge { max: usize },
    #[error("not a SHA-256 (64 hex digits): {0:?}")]
    BadHash(String),
    #[error("no such attachment on this ticket")]
    NotFound,
    #[error("{path}: {source}")]
    Io {
        path: PathBuf,
        source: std::io::Error,
    },
}

/// What was stored.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, utoipa::ToSchema)]
pub struct StoredAttachment {
    /// The file name as given (for people; files are found by hash).
    pub name: String,
    pub sha256: String,
    pub size: u64,
}

/// The attachment folder under the data dir.
#[derive(Debug, Clone)]
pub struct AttachmentStore {
    dir: PathBuf,
}

fn io(path: &Path) -> impl FnOnce(std::io::Error) -> AttachmentError + '_ {
    move |source| AttachmentError::Io {
        path: path.to_path_buf(),
        source,
    }
}

/// A readable, bounded file name: no path, no control or format characters (a right-to-left
/// override could disguise `exe` as `pdf`).
pub fn clean_name(name: &str) -> String {
    let base = name.rsplit(['/', '\\']).next().unwrap_or(name);
    let cleaned: String = crate::workflow::limits::visible_name(base)
        .chars()
        .take(200)
        .collect();
    if cleaned.trim().is_empty() {
        "attachment".into()
    } else {
        cleaned.trim().to_string()
    }
}

fn check_hash(sha256: &str) -> Result<(), AttachmentError> {
    if sha256.len() == 64 && sha256.bytes().all(|b| b.is_ascii_hexdigit()) {
        Ok(())
    } else {
        Err(AttachmentError::BadHash(sha256.to_string()))
    }
}

impl AttachmentStore {
    /// Attachments live in `data_dir/attachments`.
    pub fn new(data_dir: &Path) -> Self {
        Self {
            dir: data_dir.join("attachments"),
        }
    }

    fn file(&self, ticket: &str, sha256: &str) -> PathBuf {
        self.dir.join(ticket).join(sha256)
    }

    /// Stores `bytes` for `ticket` (an id the caller has checked exists) durably.
    pub fn save(
        &self,
        ticket: &str,
        name: &str,
        bytes: &[u8],
    ) -> Result<StoredAttachment, AttachmentError> {
        if bytes.is_empty() {
            return Err(AttachmentError::Empty);
        }
        if bytes.len() > MAX_BYTES {
            return Err(AttachmentError::TooLarge { max: MAX_BYTES });
        }
        let sha256 = hex::encode(Sha256::digest(bytes));
        let folder = self.dir.join(ticket);
        crate::shell::private_fs::create_dir_all(&folder).map_err(io(&folder))?;
        let path = folder.join(&sha256);
        if !path.exists() {
            // One temporary file per upload: two uploads of the same file at once (a double
            // click) each write their own, and the second rename replaces the first with the
            // same bytes, atomically.
            static UPLOADS: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(0);
            let n = UPLOADS.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
            let tmp = folder.join(format!("{sha256}.{n}.part"));
            let mut f = crate::shell::private_fs::options()
                .create(true)
                .write(true)
                .truncate(true)
                .open(&tmp)
                .map_err(io(&tmp))?;
            f.write_all(bytes).map_err(io(&tmp))?;
            f.sync_all().map_err(io(&tmp))?;
            std::fs::rename(&tmp, &path).map_err(io(&path))?;
            if let Ok(d) = std::fs::File::open(&folder) {
                // The rename is durable once the folder is synced.
                let _ = d.sync_all();
            }
        }
        Ok(StoredAttachment {
            name: clean_name(name),
            sha256,
            size: bytes.len() as u64,
        })
    }

    /// Whether `ticket` has the attachment `sha256`.
    pub fn has(&self, ticket: &str, sha256: &str) -> bool {
        check_hash(sha256).is_ok() && self.file(ticket, sha256).is_file()
    }

    /// The bytes of an attachment of `ticket`.
    pub fn read(&self, ticket: &str, sha256: &str) -> Result<Vec<u8>, AttachmentError> {
        check_hash(sha256)?;
        let path = self.file(ticket, sha256);
        match std::fs::read(&path) {
            Ok(b) => Ok(b),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Err(AttachmentError::NotFound),
            Err(e) => Err(AttachmentError::Io { path, source: e }),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_same_file_uploaded_twice_at_once_is_stored_whole() {
        let dir = tempfile::tempdir().unwrap();
        let store = AttachmentStore::new(dir.path());
        let bytes = vec![7u8; 4 << 20];
        let saves: Vec<_> = (0..4)
            .map(|_| {
                let (store, bytes) = (store.clone(), bytes.clone());
                std::thread::spawn(move || store.save("20261123-000001", "scan.pdf", &bytes))
            })
            .collect();
        for s in saves {
            let a = s.join().unwrap().unwrap();
            assert_eq!(store.read("20261123-000001", &a.sha256).unwrap(), bytes);
        }
        let files = std::fs::read_dir(dir.path().join("attachments/20261123-000001"))
            .unwrap()
            .count();
        assert_eq!(files, 1, "no temporary file is left behind");
    }

    #[test]
    fn files_are_stored_once_by_content_and_read_back() {
        let dir = tempfile::tempdir().unwrap();
        let store = AttachmentStore::new(dir.path());
        let a = store
            .save(
                "20261123-000001",
                "../../etc/支付凭证.pdf",
                b"%PDF-1.4 receipt",
            )
            .unwrap();
        assert_eq!(a.name, "支付凭证.pdf");
        assert_eq!(a.size, 16);
        let again = store
            .save("20261123-000001", "copy.pdf", b"%PDF-1.4 receipt")
            .unwrap();
        assert_eq!(again.sha256, a.sha256);
        assert!(store.has("20261123-000001", &a.sha256));
        assert!(!store.has("20261123-000002", &a.sha256));
        assert_eq!(
            store.read("20261123-000001", &a.sha256).unwrap(),
            b"%PDF-1.4 receipt"
        );
        assert!(matches!(
            store.read("20261123-000001", "../tickets.sqlite"),
            Err(AttachmentError::BadHash(_))
        ));
        assert!(matches!(
            store.save("t", "empty", b""),
            Err(AttachmentError::Empty)
        ));
    }
}

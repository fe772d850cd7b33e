//! The per-install secret under which query codes are hashed (`DATA/portal.key`, 32 random
//! bytes, 0600), and the OS random bytes the portal core is handed. Kept apart from the
//! database so that a copy of `tickets.sqlite` alone cannot be used to test codes offline.

use std::io::{Read, Write};
use std::path::Path;

use rand::RngCore;

use crate::portal::CodeKey;

/// Reads `data_dir/portal.key`, creating it (0600, synced) on first start.
pub fn load_or_create(data_dir: &Path) -> std::io::Result<CodeKey> {
    let path = data_dir.join("portal.key");
    let mut key = [0u8; 32];
    match std::fs::File::open(&path) {
        Ok(mut f) => {
            f.read_exact(&mut key).map_err(|e| {
                std::io::Error::new(
                    e.kind(),
                    format!("{}: {e} (expected 32 bytes)", path.display()),
                )
            })?;
            Ok(CodeKey::new(key))
        }
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            crate::shell::private_fs::create_dir_all(data_dir)?;
            rand::rngs::OsRng.fill_bytes(&mut key);
            let tmp = data_dir.join("portal.key.part");
            let mut f = crate::shell::private_fs::options()
                .create(true)
                .write(true)
                .truncate(true)
                .open(&tmp)?;
            f.write_all(&key)?;
            f.sync_all()?;
            std::fs::rename(&tmp, &path)?;
            Ok(CodeKey::new(key))
        }
        Err(e) => Err(e),
    }
}

/// `N` bytes from the OS's random source.
pub fn random<const N: usize>() -> [u8; N] {
    let mut b = [0u8; N];
    rand::rngs::OsRng.fill_bytes(&mut b);
    b
}

#[cfg(test)]
mod tests {
    use std::os::unix::fs::PermissionsExt;

    #[test]
    fn the_key_is_made_once_private_and_read_back() {
        let dir = tempfile::tempdir().unwrap();
        let a = super::load_or_create(dir.path()).unwrap();
        let b = super::load_or_create(dir.path()).unwrap();
        let code = crate::portal::QueryCode::from_random([1; 8]);
        assert_eq!(a.hash(&code), b.hash(&code));
        let mode = std::fs::metadata(dir.path().join("portal.key"))
            .unwrap()
            .permissions()
            .mode();
        assert_eq!(mode & 0o777, 0o600);
    }
}

//! Files that hold citizens' data (rule C16): the ticket database, call records, recordings
//! and attachments are created readable by the engine's user only — folders 0700, files
//! 0600 — whatever the umask, so another account on the machine cannot read them.

use std::fs::{DirBuilder, OpenOptions};
use std::os::unix::fs::{DirBuilderExt, OpenOptionsExt, PermissionsExt};
use std::path::Path;

/// Folders the engine creates: owner only.
pub const DIR_MODE: u32 = 0o700;
/// Files the engine creates: owner read and write only.
pub const FILE_MODE: u32 = 0o600;

/// Creates `dir` and its missing parents with [`DIR_MODE`].
pub fn create_dir_all(dir: &Path) -> std::io::Result<()> {
    DirBuilder::new().recursive(true).mode(DIR_MODE).create(dir)
}

/// Creates the data folder, and closes an existing one to other users (an install that
/// predates this, or a folder made by hand with the default umask).
pub fn secure_data_dir(dir: &Path) -> std::io::Result<()> {
    create_dir_all(dir)?;
    let meta = std::fs::metadata(dir)?;
    if meta.permissions().mode() & 0o077 != 0 {
        std::fs::set_permissions(dir, std::fs::Permissions::from_mode(DIR_MODE))?;
    }
    Ok(())
}

/// Open options whose created file gets [`FILE_MODE`].
pub fn options() -> OpenOptions {
    let mut o = OpenOptions::new();
    o.mode(FILE_MODE);
    o
}

/// Restricts an existing file (one a library created, e.g. SQLite's database).
pub fn restrict(path: &Path) -> std::io::Result<()> {
    std::fs::set_permissions(path, std::fs::Permissions::from_mode(FILE_MODE))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn created_folders_and_files_are_the_owners_only() {
        let tmp = tempfile::tempdir().unwrap();
        let dir = tmp.path().join("a/b");
        create_dir_all(&dir).unwrap();
        let mode = |p: &Path| std::fs::metadata(p).unwrap().permissions().mode() & 0o777;
        assert_eq!(mode(&dir), 0o700);
        assert_eq!(mode(&tmp.path().join("a")), 0o700);
        let f = dir.join("x");
        options().create(true).write(true).open(&f).unwrap();
        assert_eq!(mode(&f), 0o600);
        let open = tmp.path().join("open");
        std::fs::create_dir(&open).unwrap();
        std::fs::set_permissions(&open, std::fs::Permissions::from_mode(0o755)).unwrap();
        secure_data_dir(&open).unwrap();
        assert_eq!(mode(&open), 0o700);
    }
}

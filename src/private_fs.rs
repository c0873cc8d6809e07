//! Files and directories holding secrets (the SQLite store with password and token hashes, the
//! signing key): created readable by their owner only (directories 0700, files 0600 on unix);
//! existing ones are left as the operator made them, with a warning when others can read them.

use std::fs;
use std::io::{self, ErrorKind};
use std::path::Path;

/// Creates `dir` and its missing parents with mode 0700; a directory that already exists is not
/// changed (a warning is logged when its group or others have any access to it).
pub fn create_dir(dir: &Path) -> io::Result<()> {
    if dir.is_dir() {
        warn_if_open_to_others(dir, "directory");
        return Ok(());
    }
    let mut builder = fs::DirBuilder::new();
    builder.recursive(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::DirBuilderExt;
        builder.mode(0o700);
    }
    builder.create(dir)
}

/// Creates the empty file `path` with mode 0600 when it does not exist; an existing file is not
/// changed (a warning is logged when its group or others have any access to it). Returns whether
/// the file was created.
pub fn create_file(path: &Path) -> io::Result<bool> {
    let mut options = fs::OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        options.mode(0o600);
    }
    match options.open(path) {
        Ok(_) => Ok(true),
        Err(e) if e.kind() == ErrorKind::AlreadyExists => {
            warn_if_open_to_others(path, "file");
            Ok(false)
        }
        Err(e) => Err(e),
    }
}

/// Logs a warning when the group or others have any permission on `path` (unix).
pub fn warn_if_open_to_others(path: &Path, what: &str) {
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        if let Ok(meta) = fs::metadata(path) {
            let mode = meta.permissions().mode() & 0o777;
            if mode & 0o077 != 0 {
                let wanted = if meta.is_dir() { "0700" } else { "0600" };
                tracing::warn!(
                    path = %path.display(),
                    mode = %format!("{mode:o}"),
                    "this {what} holds secrets and is accessible to other users: make it {wanted}"
                );
            }
        }
    }
    #[cfg(not(unix))]
    let _ = (path, what);
}

/// Writes `bytes` to `path` readable and writable by its owner only, replacing the file if it
/// exists: written to a private temporary file beside it, then renamed into place.
pub fn write_private(path: &Path, bytes: &[u8]) -> io::Result<()> {
    use std::io::Write;
    let tmp = path.with_extension(format!("{}.tmp", uuid::Uuid::new_v4().simple()));
    let mut options = fs::OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        options.mode(0o600);
    }
    let written = options.open(&tmp).and_then(|mut file| {
        file.write_all(bytes)?;
        file.sync_all()
    });
    match written.and_then(|()| fs::rename(&tmp, path)) {
        Ok(()) => Ok(()),
        Err(e) => {
            let _ = fs::remove_file(&tmp);
            Err(e)
        }
    }
}

#[cfg(test)]
#[cfg(unix)]
mod tests {
    use std::os::unix::fs::PermissionsExt;
    use std::path::PathBuf;

    use super::*;

    fn mode(path: &Path) -> u32 {
        fs::metadata(path).unwrap().permissions().mode() & 0o777
    }

    fn temp_dir() -> PathBuf {
        std::env::temp_dir().join(format!("ums-private-fs-{}", uuid::Uuid::new_v4().simple()))
    }

    #[test]
    fn new_directories_are_0700_and_existing_ones_are_left_alone() {
        let root = temp_dir();
        let nested = root.join("a").join("b");
        create_dir(&nested).unwrap();
        assert_eq!(mode(&nested), 0o700);
        assert_eq!(mode(&root.join("a")), 0o700, "missing parents too");

        let existing = root.join("operator");
        fs::create_dir(&existing).unwrap();
        fs::set_permissions(&existing, fs::Permissions::from_mode(0o750)).unwrap();
        create_dir(&existing).unwrap();
        assert_eq!(mode(&existing), 0o750, "an operator's directory is not changed");
        fs::remove_dir_all(root).unwrap();
    }

    #[test]
    fn new_files_are_0600_and_existing_ones_are_left_alone() {
        let root = temp_dir();
        create_dir(&root).unwrap();
        let file = root.join("db");
        assert!(create_file(&file).unwrap());
        assert_eq!(mode(&file), 0o600);

        fs::write(&file, b"content").unwrap();
        fs::set_permissions(&file, fs::Permissions::from_mode(0o640)).unwrap();
        assert!(!create_file(&file).unwrap());
        assert_eq!(mode(&file), 0o640);
        assert_eq!(
            fs::read(&file).unwrap(),
            b"content",
            "an existing file is not truncated"
        );
        fs::remove_dir_all(root).unwrap();
    }
}

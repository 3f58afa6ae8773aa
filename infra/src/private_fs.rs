//! The data dir is its owner's alone: the directory is made 0700 and every
//! file in it 0600, whatever the umask, and files of an older data dir are
//! narrowed to that when opened (the log holds password hashes and
//! friend-request texts, the key file the keys of personal data).

use std::fs::{DirBuilder, File, OpenOptions, Permissions};
use std::io;
use std::os::unix::fs::{DirBuilderExt, OpenOptionsExt, PermissionsExt};
use std::path::Path;

pub const DIR_MODE: u32 = 0o700;
pub const FILE_MODE: u32 = 0o600;

/// Creates `dir` (and missing parents) as 0700, or narrows it to 0700 if
/// it exists.
pub fn create_dir(dir: &Path) -> io::Result<()> {
    DirBuilder::new().recursive(true).mode(DIR_MODE).create(dir)?;
    std::fs::set_permissions(dir, Permissions::from_mode(DIR_MODE))
}

/// Options that create a file as 0600 (the umask can only narrow that).
pub fn options() -> OpenOptions {
    let mut options = OpenOptions::new();
    options.mode(FILE_MODE);
    options
}

/// Narrows an open file to 0600 (one created before this rule, or by a
/// library that does not take a mode).
pub fn restrict(file: &File) -> io::Result<()> {
    file.set_permissions(Permissions::from_mode(FILE_MODE))
}

/// [`restrict`], by path.
pub fn restrict_path(path: &Path) -> io::Result<()> {
    std::fs::set_permissions(path, Permissions::from_mode(FILE_MODE))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn mode(path: &Path) -> u32 {
        std::fs::metadata(path).unwrap().permissions().mode() & 0o777
    }

    #[test]
    fn new_dirs_and_files_are_the_owners_only() {
        let root = tempfile::tempdir().unwrap();
        let dir = root.path().join("a/data");
        create_dir(&dir).unwrap();
        assert_eq!(mode(&dir), DIR_MODE);
        let path = dir.join("f");
        options().write(true).create(true).open(&path).unwrap();
        assert_eq!(mode(&path), FILE_MODE);
    }

    #[test]
    fn existing_dirs_and_files_are_narrowed() {
        let root = tempfile::tempdir().unwrap();
        let dir = root.path().join("data");
        std::fs::create_dir(&dir).unwrap();
        std::fs::set_permissions(&dir, Permissions::from_mode(0o755)).unwrap();
        let path = dir.join("f");
        let file = File::create(&path).unwrap();
        file.set_permissions(Permissions::from_mode(0o644)).unwrap();
        create_dir(&dir).unwrap();
        restrict(&file).unwrap();
        assert_eq!((mode(&dir), mode(&path)), (DIR_MODE, FILE_MODE));
        std::fs::set_permissions(&path, Permissions::from_mode(0o644)).unwrap();
        restrict_path(&path).unwrap();
        assert_eq!(mode(&path), FILE_MODE);
    }
}

//! Configuration files the check tests write, each in a folder of its own under the temp
//! folder that goes when the test is done with it (a failing test keeps it to be read).

use super::scratch::Scratch;
use std::ffi::OsStr;
use std::path::{Path, PathBuf};

/// `<temp>/<prefix>-<pid>-<name>/<name>`: its own folder keeps the file's name as it is (the
/// reports name it) and leaves nothing behind once the guard is dropped.
pub struct CfgFile {
    path: PathBuf,
    _dir: Scratch,
}

impl CfgFile {
    pub fn write(prefix: &str, name: &str, text: &str) -> CfgFile {
        let dir = Scratch::dir(&format!("{prefix}-{}-{name}", std::process::id()));
        let path = dir.join(name);
        std::fs::write(&path, text).expect("write cfg");
        CfgFile { path, _dir: dir }
    }
}

impl std::ops::Deref for CfgFile {
    type Target = Path;

    fn deref(&self) -> &Path {
        &self.path
    }
}

impl AsRef<Path> for CfgFile {
    fn as_ref(&self) -> &Path {
        &self.path
    }
}

impl AsRef<OsStr> for CfgFile {
    fn as_ref(&self) -> &OsStr {
        self.path.as_os_str()
    }
}

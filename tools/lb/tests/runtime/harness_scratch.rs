//! Scratch folders and files for the tests, removed when the test is done with them.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::Mutex;

/// A folder (or file) under the system's temp folder that a test writes to: removed once the
/// last guard of that path is dropped (the two proxies of a hand-over share their port's
/// folder), unless the test is failing, whose panicking thread leaves it there to be read.
pub struct Scratch(PathBuf);

/// How many guards of this process hold each path.
static HOLDERS: Mutex<Option<HashMap<PathBuf, usize>>> = Mutex::new(None);

impl Scratch {
    /// The folder `<temp>/<name>`, made if missing.
    pub fn dir(name: &str) -> Scratch {
        let path = std::env::temp_dir().join(name);
        std::fs::create_dir_all(&path).unwrap();
        Scratch::hold(path)
    }

    /// The file `<temp>/<name>`, which the test writes itself.
    pub fn file(name: &str) -> Scratch {
        Scratch::hold(std::env::temp_dir().join(name))
    }

    fn hold(path: PathBuf) -> Scratch {
        let mut holders = HOLDERS.lock().unwrap_or_else(|e| e.into_inner());
        *holders
            .get_or_insert_with(HashMap::new)
            .entry(path.clone())
            .or_default() += 1;
        Scratch(path)
    }
}

impl std::ops::Deref for Scratch {
    type Target = Path;

    fn deref(&self) -> &Path {
        &self.0
    }
}

impl AsRef<Path> for Scratch {
    fn as_ref(&self) -> &Path {
        &self.0
    }
}

impl Drop for Scratch {
    fn drop(&mut self) {
        let last = {
            let mut holders = HOLDERS.lock().unwrap_or_else(|e| e.into_inner());
            let map = holders.get_or_insert_with(HashMap::new);
            let count = map.entry(self.0.clone()).or_default();
            *count = count.saturating_sub(1);
            let last = *count == 0;
            if last {
                map.remove(&self.0);
            }
            last
        };
        if !last || std::thread::panicking() {
            return;
        }
        if self.0.is_dir() {
            let _ = std::fs::remove_dir_all(&self.0);
        } else {
            let _ = std::fs::remove_file(&self.0);
        }
    }
}

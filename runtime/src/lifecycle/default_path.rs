//! `default-path`: while the files a configuration names are loaded (certificates, scripts,
//! error pages, maps, server states), the process works from the directory the global
//! `default-path` gives, as HAProxy moves there while it parses; it comes back to where it
//! started before it binds its sockets and writes anything, so that those paths read as the
//! user wrote them.

use std::path::PathBuf;
use std::sync::Mutex;

/// The directory the process started in, while it works from the `default-path` one.
static STARTED_IN: Mutex<Option<PathBuf>> = Mutex::new(None);

/// Moves to `dir` (relative to the directory the process is in) unless already there; a
/// message when that directory cannot be entered.
pub fn enter(dir: Option<&str>) -> Result<(), String> {
    let Some(dir) = dir else {
        return Ok(());
    };
    let mut started = STARTED_IN.lock().unwrap_or_else(|e| e.into_inner());
    if started.is_some() {
        return Ok(());
    }
    let here =
        std::env::current_dir().map_err(|e| format!("cannot read the current directory : {e}"))?;
    std::env::set_current_dir(dir)
        .map_err(|e| format!("default-path: cannot change to directory '{dir}' : {e}"))?;
    *started = Some(here);
    Ok(())
}

/// Comes back to the directory the process started in, once the files are loaded.
pub fn leave() {
    let mut started = STARTED_IN.lock().unwrap_or_else(|e| e.into_inner());
    if let Some(dir) = started.take() {
        let _ = std::env::set_current_dir(dir);
    }
}

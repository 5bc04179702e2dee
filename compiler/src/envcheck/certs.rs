//! Certificates as HAProxy loads them while it reads their `crt` word: a file with its key (or
//! the key beside it), a multi-certificate bundle's files, or a directory's files.

use super::read_capped;
use crate::ir::{Config, FileKind};
use crate::source::{io_reason, Span};
use std::path::{Path, PathBuf};

fn has_key(pem: &str) -> bool {
    pem.lines()
        .any(|l| l.starts_with("-----BEGIN") && l.contains("PRIVATE KEY-----"))
}

/// Checks one certificate path (a file, a directory, or a multi-cert bundle base name).
pub(super) fn certificate(path: &Path, del_ext: bool) -> Result<(), String> {
    let shown = path.display().to_string();
    if path.is_dir() {
        return certificate_dir(&shown, del_ext);
    }
    let files: Vec<PathBuf> = if path.exists() {
        vec![path.to_path_buf()]
    } else {
        let bundle: Vec<PathBuf> = ["rsa", "ecdsa", "dsa"]
            .iter()
            .map(|e| PathBuf::from(format!("{shown}.{e}")))
            .filter(|p| p.exists())
            .collect();
        if bundle.is_empty() {
            let why = std::fs::metadata(path).err().map_or_else(
                || "No such file or directory".to_string(),
                |e| io_reason(&e),
            );
            return Err(format!(
                "unable to stat SSL certificate from file '{shown}' : {why}."
            ));
        }
        bundle
    };
    for f in files {
        let f_shown = f.display().to_string();
        let pem = read_capped(&f).map_err(|e| {
            format!(
                "unable to load certificate from file '{f_shown}': {}.",
                io_reason(&e)
            )
        })?;
        if !pem.contains("-----BEGIN CERTIFICATE-----") {
            // OpenSSL's words: it found no `BEGIN CERTIFICATE` line.
            return Err(format!(
                "unable to load certificate from file '{f_shown}': no start line."
            ));
        }
        if !has_key(&pem) {
            let key = if del_ext && f.extension().is_some() {
                f.with_extension("key")
            } else {
                PathBuf::from(format!("{f_shown}.key"))
            };
            match read_capped(&key) {
                Ok(k) if has_key(&k) => {}
                _ => return Err(format!("No Private Key found in '{}'.", key.display())),
            }
        }
    }
    Ok(())
}

/// A `crt` directory as HAProxy loads it: each certificate file of [`dir_files`] in turn.
fn certificate_dir(dir: &str, del_ext: bool) -> Result<(), String> {
    let (dir, names) = dir_files(dir)
        .map_err(|(dir, e)| format!("unable to scan directory '{dir}' : {}.", io_reason(&e)))?;
    for name in names {
        certificate(Path::new(&format!("{dir}/{name}")), del_ext)?;
    }
    Ok(())
}

/// The files HAProxy loads as certificates from a `crt` directory, in name order: its regular
/// files, except hidden ones and those that go with a certificate (`.key`, `.ocsp`, `.issuer`,
/// `.sctl`). The directory comes back without its trailing slashes, as HAProxy names it.
fn dir_files(dir: &str) -> Result<(&str, Vec<String>), (&str, std::io::Error)> {
    let dir = dir.trim_end_matches('/');
    let listing = std::fs::read_dir(dir).map_err(|e| (dir, e))?;
    let mut names: Vec<String> = listing
        .filter_map(|e| e.ok())
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .filter(|name| {
            let skipped = name.rfind('.').is_some_and(|dot| {
                name.starts_with('.')
                    || matches!(&name[dot..], ".issuer" | ".ocsp" | ".sctl" | ".key")
            });
            !skipped && Path::new(&format!("{dir}/{name}")).is_file()
        })
        .collect();
    names.sort();
    Ok((dir, names))
}

/// The `crt` and `crt-list` words that load no certificate at all: a directory without a
/// certificate file in it, a list without an entry. A TLS bind whose certificate words are all
/// such has no certificate once HAProxy has read it (see [`crate::ir::post_parse_checks_with`]).
/// Words that fail to load are reported by [`super::check`] and [`super::crt_lists`].
pub fn certless(config: &Config) -> Vec<Span> {
    let default_path = config.global.default_path.as_deref();
    config
        .files
        .iter()
        .filter(|r| match r.kind {
            FileKind::Certificate => {
                let path = super::resolve(r, default_path);
                path.is_dir()
                    && dir_files(&path.display().to_string()).is_ok_and(|(_, f)| f.is_empty())
            }
            FileKind::CertificateList => {
                let path =
                    super::under_default_path(Path::new(r.path.value.as_str()), default_path);
                read_capped(&path).is_ok_and(|text| {
                    let (entries, error) = crate::plan::crt_list::parse(&r.path.value, &text);
                    entries.is_empty() && error.is_none()
                })
            }
            _ => false,
        })
        .map(|r| r.path.span)
        .collect()
}

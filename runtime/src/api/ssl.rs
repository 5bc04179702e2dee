//! The Runtime API's TLS file commands: `new|set|add|commit|abort|del|show ssl cert|ca-file|
//! crl-file`, `show|add|del ssl crt-list` and `show ssl ocsp-response`, on the process's
//! store of TLS files (`crate::tls::ckch`), with HAProxy's answers. A commit rebuilds the TLS
//! of every listener using the file and puts them in force together.

use super::cli::Session;
use super::ssl_show;
use crate::state::Shared;
use crate::tls::ckch::{self, CrtListLine, Kind};

type Answer = Result<String, String>;

fn arg(args: &[String], i: usize) -> Option<&str> {
    args.get(i).map(String::as_str).filter(|a| !a.is_empty())
}

fn kind_of(word: &str) -> Option<Kind> {
    match word {
        "cert" => Some(Kind::Cert),
        "ca-file" => Some(Kind::Ca),
        "crl-file" => Some(Kind::Crl),
        _ => None,
    }
}

/// How the messages name a file of each kind.
struct Words {
    /// `set` replies: `Transaction created for certificate`, `transaction created for CA`.
    created: &'static str,
    updated: &'static str,
    not_referenced: &'static str,
    new_done: &'static str,
    exists: &'static str,
    deleted: &'static str,
    remove_prefix: &'static str,
}

fn words(kind: Kind) -> Words {
    match kind {
        Kind::Cert => Words {
            created: "Transaction created for certificate",
            updated: "Transaction updated for certificate",
            not_referenced:
                "Can't replace a certificate which is not referenced by the configuration!",
            new_done: "New empty certificate store",
            exists: "Certificate",
            deleted: "Certificate",
            remove_prefix: "Can't remove the certificate: certificate",
        },
        Kind::Ca => Words {
            created: "transaction created for CA",
            updated: "transaction updated for CA",
            not_referenced: "Can't replace a CA file which is not referenced by the configuration!",
            new_done: "New CA file created",
            exists: "CA file",
            deleted: "CA file",
            remove_prefix: "Can't remove the CA file: CA file",
        },
        _ => Words {
            created: "transaction created for CRL",
            updated: "transaction updated for CRL",
            not_referenced:
                "Can't replace a CRL file which is not referenced by the configuration!",
            new_done: "New CRL file created",
            exists: "CRL file",
            deleted: "CRL file",
            remove_prefix: "Can't remove the CRL file: CRL file",
        },
    }
}

/// Whether a PEM text holds a private key.
fn has_key(pem: &[u8]) -> bool {
    String::from_utf8_lossy(pem).contains("PRIVATE KEY-----")
}

/// The private key blocks of a PEM text.
fn key_blocks(pem: &[u8]) -> String {
    let text = String::from_utf8_lossy(pem);
    let mut out = String::new();
    let mut inside = false;
    for line in text.lines() {
        if line.starts_with("-----BEGIN") && line.contains("PRIVATE KEY") {
            inside = true;
        }
        if inside {
            out.push_str(line);
            out.push('\n');
        }
        if line.starts_with("-----END") && line.contains("PRIVATE KEY") {
            inside = false;
        }
    }
    out
}

/// `set|add ssl cert|ca-file|crl-file <file> <payload>`: opens or updates the kind's transaction.
pub fn set(_: &Shared, s: &mut Session, args: &[String]) -> Answer {
    let add = args[0] == "add";
    let kind = kind_of(&args[2]).ok_or("Unknown command.\n")?;
    let (Some(path), Some(payload)) = (arg(args, 3), s.payload.clone()) else {
        return Err(match kind {
            Kind::Cert => "'set ssl cert expects a filename and a certificate as a payload\n",
            Kind::Ca if add => "'add ssl ca-file' expects a filename and CAs as a payload\n",
            Kind::Ca => "'set ssl ca-file' expects a filename and CAs as a payload\n",
            _ => "'set ssl crl-file' expects a filename and CRLs as a payload\n",
        }
        .into());
    };
    let w = words(kind);
    let mut files = ckch::lock();
    if let Some((open, _)) = files.transaction(kind) {
        if open != path {
            return Err(format!(
                "The ongoing transaction is about '{open}' but you are trying to set '{path}'\nCan't update {path}!\n"
            ));
        }
    }
    if !files.has(kind, path) {
        return Err(format!("{}\nCan't update {path}!\n", w.not_referenced));
    }
    let bytes = payload.into_bytes();
    let valid = match kind {
        Kind::Cert => !ssl_show::certificates(&bytes).is_empty(),
        Kind::Ca => !ssl_show::certificates(&bytes).is_empty(),
        _ => !ssl_show::crls(&bytes).is_empty(),
    };
    if !valid {
        return Err(match kind {
            Kind::Cert => format!(
                "unable to load certificate from file '{path}'.\nCan't load the payload\nCan't update {path}!\n"
            ),
            _ => format!("Invalid payload\nCan't update {path}!\n"),
        });
    }
    let created = files.transaction(kind).is_none();
    // A certificate payload without its key keeps the key in force; `add` appends CAs.
    let base = match files.transaction(kind) {
        Some((_, pending)) => Some(pending.clone()),
        None => match kind {
            Kind::Cert => files.certs.get(path).cloned().flatten(),
            Kind::Ca => files.cas.get(path).cloned(),
            _ => files.crls.get(path).cloned(),
        },
    };
    let content = match (kind, base) {
        (Kind::Cert, Some(old)) if !has_key(&bytes) => {
            let mut b = bytes;
            b.extend_from_slice(key_blocks(&old).as_bytes());
            b
        }
        (Kind::Ca, Some(mut old)) if add => {
            if !old.is_empty() && !old.ends_with(b"\n") {
                old.push(b'\n');
            }
            old.extend_from_slice(&bytes);
            old
        }
        _ => bytes,
    };
    files.set_transaction(kind, Some((path.to_string(), content)));
    let verb = if created { w.created } else { w.updated };
    Ok(format!("{verb} {path}!\n"))
}

/// `commit ssl cert|ca-file|crl-file <file>`.
pub fn commit(_: &Shared, _: &mut Session, args: &[String]) -> Answer {
    let kind = kind_of(&args[2]).ok_or("Unknown command.\n")?;
    let Some(path) = arg(args, 3) else {
        return Err(format!("'commit ssl {} expects a filename\n", args[2]));
    };
    let content = {
        let files = ckch::lock();
        match files.transaction(kind) {
            None => return Err(format!("No ongoing transaction! !\nCan't commit {path}!\n")),
            Some((open, _)) if open != path => {
                return Err(format!(
                    "The ongoing transaction is about '{open}' but you are trying to set '{path}'\nCan't commit {path}!\n"
                ))
            }
            Some((_, content)) => content.clone(),
        }
    };
    let dots = |n: usize| ".".repeat(n);
    match ckch::apply(kind, path, Some(content)) {
        Ok(n) => {
            ckch::lock().set_transaction(kind, None);
            Ok(format!("Committing {path}{}\nSuccess!\n", dots(n)))
        }
        Err(e) => Err(format!("Committing {path}\n{e}\nFailed!\n")),
    }
}

/// `abort ssl cert|ca-file|crl-file <file>`.
pub fn abort(_: &Shared, _: &mut Session, args: &[String]) -> Answer {
    let kind = kind_of(&args[2]).ok_or("Unknown command.\n")?;
    let Some(path) = arg(args, 3) else {
        return Err(format!("'abort ssl {}' expects a filename\n", args[2]));
    };
    let mut files = ckch::lock();
    match files.transaction(kind) {
        None => Err("No ongoing transaction!\n".into()),
        Some((open, _)) if open != path => Err(format!(
            "The ongoing transaction is about '{open}' but you are trying to abort a transaction for '{path}'\n"
        )),
        Some(_) => {
            files.set_transaction(kind, None);
            Ok(format!("Transaction aborted for certificate '{path}'!\n"))
        }
    }
}

/// `new ssl cert|ca-file|crl-file <file>`: an empty entry, for a crt-list to use.
pub fn new(_: &Shared, _: &mut Session, args: &[String]) -> Answer {
    let word = args[2].as_str();
    let kind = match word {
        "crlfile" => Kind::Crl,
        w => kind_of(w).ok_or("Unknown command.\n")?,
    };
    let Some(path) = arg(args, 3) else {
        return Err(format!("'new ssl {word}' expects a filename\n"));
    };
    let w = words(kind);
    let mut files = ckch::lock();
    if files.has(kind, path) {
        return Err(format!("{} '{path}' already exists!\n", w.exists));
    }
    ckch::create(&mut files, kind, path);
    Ok(format!("{} '{path}'!\n", w.new_done))
}

/// `del ssl cert|ca-file|crl-file <file>`: only an entry nothing uses.
pub fn del(_: &Shared, _: &mut Session, args: &[String]) -> Answer {
    let kind = kind_of(&args[2]).ok_or("Unknown command.\n")?;
    let Some(path) = arg(args, 3) else {
        return Err(format!("'del ssl {}' expects a filename\n", args[2]));
    };
    let w = words(kind);
    let mut files = ckch::lock();
    if files.transaction(kind).is_some_and(|(p, _)| p == path) {
        return Err(format!(
            "{} '{path}' is currently in a transaction!\n\n",
            w.remove_prefix
        ));
    }
    if !files.has(kind, path) {
        return Err(format!("{} '{path}' doesn't exist!\n\n", w.remove_prefix));
    }
    let listed = files
        .crt_lists
        .values()
        .flatten()
        .any(|l| kind == Kind::Cert && l.cert == path);
    if listed || files.in_use(kind, path) {
        return Err(format!(
            "{} '{path}' in use, can't be deleted!\n\n",
            w.remove_prefix
        ));
    }
    ckch::delete(&mut files, kind, path);
    Ok(format!("{} '{path}' deleted!\n", w.deleted))
}

/// `show ssl cert|ca-file|crl-file [<file>]`: the files, or one file's details (`*<file>`:
/// the one of the open transaction).
pub fn show(_: &Shared, _: &mut Session, args: &[String]) -> Answer {
    let kind = kind_of(&args[2]).ok_or("Unknown command.\n")?;
    let mut files = ckch::lock();
    let count = |pem: &[u8]| match kind {
        Kind::Ca => format!(" - {} certificate(s)", ssl_show::certificates(pem).len()),
        _ => String::new(),
    };
    let Some(name) = arg(args, 3) else {
        let mut out = String::new();
        if let Some((path, pending)) = files.transaction(kind) {
            out.push_str(&format!("# transaction\n*{path}{}\n", count(pending)));
        }
        out.push_str("# filename\n");
        let listed: Vec<(String, Vec<u8>)> = match kind {
            Kind::Cert => files
                .certs
                .iter()
                .map(|(p, c)| (p.clone(), c.clone().unwrap_or_default()))
                .collect(),
            Kind::Ca => files
                .cas
                .iter()
                .map(|(p, c)| (p.clone(), c.clone()))
                .collect(),
            _ => files
                .crls
                .iter()
                .map(|(p, c)| (p.clone(), c.clone()))
                .collect(),
        };
        for (path, pem) in listed {
            out.push_str(&format!("{path}{}\n", count(&pem)));
        }
        return Ok(out);
    };
    let (pending, name) = match name.strip_prefix('*') {
        Some(rest) => (true, rest),
        None => (false, name),
    };
    let name = name.strip_prefix('\\').unwrap_or(name);
    // `<file>:<index>` picks one certificate of a CA file or one CRL of a CRL file.
    let (path, index) = match name.rsplit_once(':') {
        Some((p, i)) if kind != Kind::Cert && i.parse::<usize>().is_ok() => {
            (p, i.parse::<usize>().ok())
        }
        _ => (name, None),
    };
    let not_found = match kind {
        Kind::Cert => "Can't display the certificate: Not found or the certificate is a bundle!\n",
        Kind::Ca => "Can't display the CA file : Not found!\n",
        _ => "Can't display the CRL file : Not found!\n",
    };
    let content: Option<Option<Vec<u8>>> = if pending {
        files
            .transaction(kind)
            .filter(|(p, _)| p == path)
            .map(|(_, c)| Some(c.clone()))
    } else {
        match kind {
            Kind::Cert => files.certs.get(path).cloned(),
            Kind::Ca => files.cas.get(path).cloned().map(Some),
            _ => files.crls.get(path).cloned().map(Some),
        }
    };
    let Some(content) = content else {
        return Err(not_found.into());
    };
    let star = if pending { "*" } else { "" };
    let status = match &content {
        None => "Empty",
        Some(_) if !pending && files.in_use(kind, path) => "Used",
        Some(_) => "Unused",
    };
    let content = content.unwrap_or_default();
    let mut out = String::new();
    match kind {
        Kind::Cert => {
            out.push_str(&format!("Filename: {star}{path}\nStatus: {status}\n"));
            out.push_str(&ssl_show::cert_file(&content));
            out.push_str("OCSP Response Key: \n");
        }
        _ => {
            let items: Vec<String> = if kind == Kind::Ca {
                ssl_show::certificates(&content)
                    .iter()
                    .map(|c| ssl_show::certificate(c))
                    .collect()
            } else {
                ssl_show::crls(&content)
                    .iter()
                    .map(|c| ssl_show::crl(c))
                    .collect()
            };
            let picked: Vec<(usize, &String)> = items
                .iter()
                .enumerate()
                .map(|(i, t)| (i + 1, t))
                .filter(|(i, _)| index.is_none_or(|want| want == *i))
                .collect();
            if picked.is_empty() {
                return Ok(String::new());
            }
            out.push_str(&format!("Filename: {star}{path}\nStatus: {status}\n"));
            let title = if kind == Kind::Ca {
                "Certificate"
            } else {
                "Certificate Revocation List"
            };
            for (i, text) in picked {
                // Each entry starts with a line holding one space.
                out.push_str(&format!(" \n{title} #{i}:\n{text}"));
            }
        }
    }
    Ok(out)
}

/// `show ssl crt-list [-n] [<list>]`.
pub fn show_crt_list(_: &Shared, _: &mut Session, args: &[String]) -> Answer {
    let files = ckch::lock();
    let numbered = arg(args, 3) == Some("-n");
    let name = if numbered { arg(args, 4) } else { arg(args, 3) };
    let Some(name) = name else {
        return Ok(files.crt_lists.keys().map(|p| format!("{p}\n")).collect());
    };
    let Some(lines) = files.crt_lists.get(name) else {
        return Err("didn't find the specified filename\n".into());
    };
    let mut out = format!("# {name}\n");
    for (i, l) in lines.iter().enumerate() {
        let cert = if numbered {
            format!("{}:{}", l.cert, i + 1)
        } else {
            l.cert.clone()
        };
        if l.rest.is_empty() {
            out.push_str(&format!("{cert}\n"));
        } else {
            out.push_str(&format!("{cert} {}\n", l.rest));
        }
    }
    Ok(out)
}

/// `add ssl crt-list <list> <cert> [opts]*` or `add ssl crt-list <list> <<` and one line.
pub fn add_crt_list(_: &Shared, s: &mut Session, args: &[String]) -> Answer {
    let line = match (arg(args, 3), &s.payload) {
        (Some(_), Some(payload)) => payload.lines().find_map(CrtListLine::parse),
        (Some(_), None) if args.len() > 4 => Some(CrtListLine {
            cert: args[4].clone(),
            rest: args[5..].join(" "),
        }),
        _ => None,
    };
    let (Some(list), Some(line)) = (arg(args, 3), line) else {
        return Err("'add ssl crtlist' expects a filename and a certificate name\n".into());
    };
    let lines = {
        let files = ckch::lock();
        let Some(lines) = files.crt_lists.get(list) else {
            return Err(format!(
                "Can't edit the crt-list: crt-list '{list}' does not exist!\n"
            ));
        };
        match files.certs.get(&line.cert) {
            None => {
                return Err(format!(
                    "Can't edit the crt-list: certificate '{}' does not exist!\n",
                    line.cert
                ))
            }
            Some(None) => {
                return Err(format!(
                    "Can't edit the crt-list: certificate '{}' is empty!\n",
                    line.cert
                ))
            }
            Some(Some(_)) => {}
        }
        let mut lines = lines.clone();
        lines.push(line.clone());
        lines
    };
    let text: String = lines.iter().map(|l| l.text() + "\n").collect();
    match ckch::apply(Kind::CrtList, list, Some(text.into_bytes())) {
        Ok(n) => Ok(format!(
            "Inserting certificate '{}' in crt-list '{list}'{}\nSuccess!\n",
            line.cert,
            ".".repeat(n)
        )),
        Err(e) => Err(format!(
            "Inserting certificate '{}' in crt-list '{list}'\n{e}\nFailed!\n",
            line.cert
        )),
    }
}

/// `del ssl crt-list <list> <cert[:line]>`.
pub fn del_crt_list(_: &Shared, _: &mut Session, args: &[String]) -> Answer {
    let (Some(list), Some(target)) = (arg(args, 3), arg(args, 4)) else {
        return Err("'del ssl crt-list' expects a filename and a certificate name\n".into());
    };
    let (cert, wanted) = match target.rsplit_once(':') {
        Some((c, n)) if n.parse::<usize>().is_ok() => (c, n.parse::<usize>().ok()),
        _ => (target, None),
    };
    let lines = {
        let files = ckch::lock();
        let Some(lines) = files.crt_lists.get(list) else {
            return Err(format!(
                "Can't delete the entry: crt-list '{list}' does not exist!\n"
            ));
        };
        if !files.certs.contains_key(cert) {
            return Err(format!(
                "Can't delete the entry: certificate '{cert}' does not exist!\n"
            ));
        }
        let found: Vec<usize> = lines
            .iter()
            .enumerate()
            .filter(|(i, l)| l.cert == cert && wanted.is_none_or(|w| w == i + 1))
            .map(|(i, _)| i)
            .collect();
        match found.as_slice() {
            [] => {
                return Err(format!(
                    "Can't delete the entry: certificate '{cert}' not found in crt-list '{list}'!\n"
                ))
            }
            [one] => {
                let mut lines = lines.clone();
                lines.remove(*one);
                lines
            }
            many => {
                let numbers: Vec<String> = many.iter().map(|i| (i + 1).to_string()).collect();
                return Err(format!(
                    "Can't delete the entry: found the certificate '{cert}' in several entries, please specify a line number preceded by colons ({})!\n",
                    numbers.join(", ")
                ));
            }
        }
    };
    let text: String = lines.iter().map(|l| l.text() + "\n").collect();
    match ckch::apply(Kind::CrtList, list, Some(text.into_bytes())) {
        Ok(_) => Ok(format!("Entry '{cert}' deleted in crtlist '{list}'!\n")),
        Err(e) => Err(format!("Can't delete the entry: {e}\n")),
    }
}

/// `show ssl ocsp-response`: no OCSP responses are loaded (stapling is not supported).
pub fn show_ocsp(_: &Shared, _: &mut Session, _: &[String]) -> Answer {
    Ok(String::new())
}

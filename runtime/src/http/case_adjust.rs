//! `h1-case-adjust` and `h1-case-adjust-file`: header names that go out to HTTP/1 clients
//! (with `option h1-case-adjust-bogus-client`) or servers (`option
//! h1-case-adjust-bogus-server`) in the case the map gives, for peers that wrongly read names
//! case-sensitively. Everything else goes out in lower case, as HAProxy sends it.

use bytes::Bytes;
use http::header::HeaderName;
use std::collections::HashMap;
use std::sync::Arc;

/// Lower-case names and the spelling they go out in.
#[derive(Debug, Default)]
pub struct CaseMap(HashMap<HeaderName, Bytes>);

/// Marks a request to a server whose names go out through the map.
#[derive(Clone, Debug)]
pub struct ToServer(pub Arc<CaseMap>);

impl CaseMap {
    /// The map of the global section: its `h1-case-adjust` lines, then the lines of its
    /// `h1-case-adjust-file`; `None` when both are empty. Errors as HAProxy reports them.
    pub fn load(
        lines: &[(String, String)],
        file: Option<&str>,
    ) -> Result<Option<Arc<CaseMap>>, String> {
        let mut map = CaseMap::default();
        for (from, to) in lines {
            map.add(from, to)
                .map_err(|e| format!("h1-case-adjust '{from}' '{to}': {e}"))?;
        }
        if let Some(path) = file {
            let text = std::fs::read_to_string(path).map_err(|_| {
                format!("h1-headers-case-adjust-file '{path}': failed to open file.")
            })?;
            for (at, line) in text.lines().enumerate() {
                let line = line.trim_matches([' ', '\t', '\r']);
                if line.is_empty() || line.starts_with('#') {
                    continue;
                }
                let (from, to) = line
                    .split_once([' ', '\t'])
                    .map_or((line, ""), |(f, t)| (f, t.trim_start_matches([' ', '\t'])));
                map.add(from, to).map_err(|e| {
                    format!(
                        "h1-headers-case-adjust-file '{path}' : {e} at line {}.",
                        at + 1
                    )
                })?;
            }
        }
        Ok((!map.0.is_empty()).then(|| Arc::new(map)))
    }

    fn add(&mut self, from: &str, to: &str) -> Result<(), String> {
        if to.is_empty() {
            return Err("expect <to>".into());
        }
        if !from.eq_ignore_ascii_case(to) {
            return Err("<from> and <to> must not differ execpt the case".into());
        }
        let name = HeaderName::from_bytes(from.as_bytes())
            .map_err(|_| format!("invalid header name '{from}'"))?;
        if self.0.contains_key(&name) {
            return Err(format!("duplicate entry '{from}'"));
        }
        self.0.insert(name, Bytes::copy_from_slice(to.as_bytes()));
        Ok(())
    }

    /// The spelling of `name`, when the map has one.
    pub fn spelling(&self, name: &HeaderName) -> Option<&[u8]> {
        self.0.get(name).map(|b| b.as_ref())
    }

    /// Hyper's per-line spellings for `headers`, when any of their names is in the map.
    #[inline(never)]
    pub fn for_hyper(&self, headers: &http::HeaderMap) -> Option<hyper::ext::HeaderCaseMap> {
        let mut spellings: Option<hyper::ext::HeaderCaseMap> = None;
        for name in headers.keys() {
            if let Some(to) = self.0.get(name) {
                let map = spellings.get_or_insert_with(hyper::ext::HeaderCaseMap::new);
                for _ in headers.get_all(name) {
                    map.push(name.clone(), to.clone());
                }
            }
        }
        spellings
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_map_takes_lines_then_the_file_and_refuses_what_haproxy_refuses() {
        let dir = std::env::temp_dir().join(format!("hapee-case-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let file = dir.join("case.txt");
        std::fs::write(&file, "# names\n\n  x-api-key\tX-API-Key  \netag ETag\n").unwrap();
        let lines = [("content-length".to_string(), "Content-Length".to_string())];
        let map = CaseMap::load(&lines, file.to_str()).unwrap().unwrap();
        let name = |n: &'static str| HeaderName::from_static(n);
        assert_eq!(map.spelling(&name("x-api-key")), Some(&b"X-API-Key"[..]));
        assert_eq!(map.spelling(&name("etag")), Some(&b"ETag"[..]));
        assert_eq!(
            map.spelling(&name("content-length")),
            Some(&b"Content-Length"[..])
        );
        assert_eq!(map.spelling(&name("host")), None);
        std::fs::write(&file, "etag ETag\netag Etag\n").unwrap();
        assert_eq!(
            CaseMap::load(&[], file.to_str()).unwrap_err(),
            format!(
                "h1-headers-case-adjust-file '{}' : duplicate entry 'etag' at line 2.",
                file.display()
            )
        );
        let differ = [("etag".to_string(), "Tag".to_string())];
        assert!(CaseMap::load(&differ, None)
            .unwrap_err()
            .contains("must not differ"));
        assert!(CaseMap::load(&[], None).unwrap().is_none());
        let _ = std::fs::remove_dir_all(&dir);
    }
}

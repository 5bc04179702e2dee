//! Header edits that keep the other headers where they were. `HeaderMap::remove` fills the
//! gap with the last header, so a server would see a different order than HAProxy sends
//! (HAProxy removes in place and adds at the end); these helpers rebuild the map instead
//! when the order would change.

use hyper::header::{HeaderName, HeaderValue};
use hyper::HeaderMap;

/// Removes every header for which `drop` holds, keeping the others in their order.
pub fn remove_where(h: &mut HeaderMap, drop: impl Fn(&HeaderName) -> bool) {
    let Some(first) = h.keys().position(&drop) else {
        return;
    };
    // Removing only the last names cannot move anything (the usual case: a response's
    // `Connection` comes last), and needs no list of them.
    if h.keys().skip(first).all(&drop) {
        while let Some(name) = h.keys().nth(first).cloned() {
            h.remove(name);
        }
        return;
    }
    let old = std::mem::take(h);
    let mut current: Option<HeaderName> = None;
    for (name, value) in old {
        if let Some(n) = name {
            current = Some(n);
        }
        if let Some(n) = current.as_ref().filter(|n| !drop(n)) {
            h.append(n.clone(), value);
        }
    }
}

/// Removes the header `name` (all its values), keeping the others in their order.
pub fn remove(h: &mut HeaderMap, name: &HeaderName) {
    if h.contains_key(name) {
        remove_where(h, |n| n == name);
    }
}

/// `set-header`: the old values go and the new one comes last, as HAProxy deletes and adds.
pub fn set(h: &mut HeaderMap, name: &HeaderName, value: HeaderValue) {
    remove(h, name);
    h.append(name.clone(), value);
}

/// Gives `name` the values `values` where its first line was (none: the header goes).
pub fn replace_all(h: &mut HeaderMap, name: &HeaderName, values: Vec<HeaderValue>) {
    let mut values = values.into_iter();
    let Some(first) = values.next() else {
        remove(h, name);
        return;
    };
    match h.entry(name) {
        hyper::header::Entry::Occupied(mut e) => {
            drop(e.insert_mult(first));
            for v in values {
                e.append(v);
            }
        }
        hyper::header::Entry::Vacant(e) => {
            let mut e = e.insert_entry(first);
            for v in values {
                e.append(v);
            }
        }
    }
}

/// Rewrites each value of `name` in place with `rewrite` (`None`: unchanged).
pub fn rewrite_values(
    h: &mut HeaderMap,
    name: &HeaderName,
    rewrite: impl Fn(&str) -> Option<String>,
) {
    if let hyper::header::Entry::Occupied(mut e) = h.entry(name) {
        for v in e.iter_mut() {
            let new = v.to_str().ok().and_then(&rewrite);
            if let Some(new) = new.and_then(|s| HeaderValue::from_str(&s).ok()) {
                *v = new;
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn map(pairs: &[(&str, &str)]) -> HeaderMap {
        let mut h = HeaderMap::new();
        for (n, v) in pairs {
            h.append(
                HeaderName::from_bytes(n.as_bytes()).unwrap(),
                v.parse().unwrap(),
            );
        }
        h
    }

    fn names(h: &HeaderMap) -> Vec<&str> {
        h.iter().map(|(n, _)| n.as_str()).collect()
    }

    #[test]
    fn removal_and_set_keep_the_other_headers_in_place() {
        let mut h = map(&[("a", "1"), ("b", "2"), ("c", "3"), ("d", "4")]);
        remove(&mut h, &HeaderName::from_static("b"));
        assert_eq!(names(&h), ["a", "c", "d"]);
        set(&mut h, &HeaderName::from_static("a"), "9".parse().unwrap());
        assert_eq!(names(&h), ["c", "d", "a"]);
        remove(&mut h, &HeaderName::from_static("a"));
        assert_eq!(names(&h), ["c", "d"]);
        let mut h = map(&[("x", "1"), ("y", "2"), ("x", "3")]);
        rewrite_values(&mut h, &HeaderName::from_static("x"), |v| {
            (v == "3").then(|| "three".to_string())
        });
        let all: Vec<&str> = h.get_all("x").iter().map(|v| v.to_str().unwrap()).collect();
        assert_eq!(all, ["1", "three"]);
        replace_all(
            &mut h,
            &HeaderName::from_static("x"),
            vec!["n".parse().unwrap()],
        );
        assert_eq!(names(&h), ["x", "y"]);
        replace_all(&mut h, &HeaderName::from_static("x"), Vec::new());
        assert_eq!(names(&h), ["y"]);
    }
}

//! Header edits that keep the other headers where they were. `HeaderMap::remove` fills the
//! gap with the last header, so a server would see a different order than HAProxy sends
//! (HAProxy removes in place and adds at the end); these helpers rebuild the map instead
//! when the order would change.
//!
//! A map keeps the values of one name together, so a value added under a name already
//! present (`add-header`, `option forwardfor`) would go beside the others where HAProxy
//! puts it last. [`Lines`] then keeps the request's line order beside the map, and the
//! server side writes the head in that order.

use hyper::header::{HeaderName, HeaderValue};
use hyper::HeaderMap;

/// The order of a request's header lines, when the map's own order is not it: one name per
/// line, the n-th line of a name standing for its n-th value. Edits of the map that this
/// list does not follow still come out right: a name's values take its last lines (a removed
/// value leaves a line behind; `set-header` adds its line at the end), and values beyond its
/// lines go after all of them.
#[derive(Debug, Clone, Default)]
pub struct Lines(Option<Vec<HeaderName>>);

impl Lines {
    /// The order the lines came in, one name per line.
    pub fn received(order: Vec<HeaderName>) -> Lines {
        Lines(Some(order))
    }

    /// The order the codec noted for a head whose lines of one name were not together
    /// (`a`, `b`, `a`), taken out of its extensions; none for an ordinary head.
    pub fn take_received(extensions: &mut hyper::http::Extensions) -> Lines {
        crate::cold::take_ext::<hyper::ext::HeaderLines>(extensions)
            .map(|received| Lines::received(received.0))
            .unwrap_or_default()
    }

    /// The order kept, if any.
    pub fn get(&self) -> Option<&[HeaderName]> {
        self.0.as_deref()
    }
}

/// Adds a line `name: value` after all the others, as HAProxy adds a header.
pub fn append(h: &mut HeaderMap, lines: &mut Lines, name: HeaderName, value: HeaderValue) {
    if lines.0.is_none() && h.contains_key(&name) && h.keys().last() != Some(&name) {
        // The first value the map cannot place: the order is kept from now on.
        lines.0 = Some(h.iter().map(|(n, _)| n.clone()).collect());
    }
    if let Some(order) = lines.0.as_mut() {
        order.push(name.clone());
    }
    h.append(name, value);
}

/// The lines of `h` in the order `order` gives (see [`Lines`]).
pub fn in_order<'a>(
    h: &'a HeaderMap,
    order: &'a [HeaderName],
) -> impl Iterator<Item = (&'a HeaderName, &'a HeaderValue)> + 'a {
    // For each name: its lines in `order`, and the values already given.
    let mut tally: Vec<(&HeaderName, usize, usize)> = Vec::new();
    for n in order {
        match tally.iter_mut().find(|(t, _, _)| *t == n) {
            Some(t) => t.1 += 1,
            None => tally.push((n, 1, 0)),
        }
    }
    let placed = order.iter().filter_map(move |n| {
        let t = tally.iter_mut().find(|(t, _, _)| *t == n)?;
        let (lines, seen) = (t.1, t.2);
        t.2 += 1;
        let values = h.get_all(n).iter().count();
        // The values take the name's last lines.
        let skip = lines.saturating_sub(values);
        (seen >= skip)
            .then(|| h.get_all(n).iter().nth(seen - skip))?
            .map(|v| (n, v))
    });
    // Values no line stands for come last, in the map's order.
    let extra = h.keys().flat_map(move |n| {
        let lines = order.iter().filter(|o| *o == n).count();
        h.get_all(n).iter().skip(lines).map(move |v| (n, v))
    });
    placed.chain(extra)
}

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

/// Rewrites each value of `name` in place with `rewrite` (`None`: unchanged); whether any was.
pub fn rewrite_values(
    h: &mut HeaderMap,
    name: &HeaderName,
    rewrite: impl Fn(&str) -> Option<String>,
) -> bool {
    let mut replaced = false;
    if let hyper::header::Entry::Occupied(mut e) = h.entry(name) {
        for v in e.iter_mut() {
            let new = rewrite(&hapee_compiler::bytestr::from_bytes(v.as_bytes()));
            if let Some(new) = new.and_then(|s| super::header_values::from_text(&s).ok()) {
                *v = new;
                replaced = true;
            }
        }
    }
    replaced
}

#[cfg(test)]
mod tests {
    use super::*;

    /// `set-header` on a map whose order needs no list: the old values go, the new one last.
    fn set(h: &mut HeaderMap, name: &HeaderName, value: HeaderValue) {
        remove(h, name);
        h.append(name.clone(), value);
    }

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

    #[test]
    fn added_values_of_a_present_name_come_last() {
        let mut h = map(&[("a", "1"), ("x", "1"), ("b", "2")]);
        let mut lines = Lines::default();
        // A new name, or the last one, needs no kept order.
        append(
            &mut h,
            &mut lines,
            HeaderName::from_static("c"),
            "3".parse().unwrap(),
        );
        append(
            &mut h,
            &mut lines,
            HeaderName::from_static("c"),
            "4".parse().unwrap(),
        );
        assert!(lines.get().is_none());
        append(
            &mut h,
            &mut lines,
            HeaderName::from_static("x"),
            "2".parse().unwrap(),
        );
        let order = lines.get().unwrap().to_vec();
        let written = |h: &HeaderMap| -> Vec<String> {
            in_order(h, &order)
                .map(|(n, v)| format!("{n}={}", v.to_str().unwrap()))
                .collect()
        };
        assert_eq!(written(&h), ["a=1", "x=1", "b=2", "c=3", "c=4", "x=2"]);
        // `set-header` after it: the one value takes the name's last line.
        set(&mut h, &HeaderName::from_static("x"), "9".parse().unwrap());
        assert_eq!(written(&h), ["a=1", "b=2", "c=3", "c=4", "x=9"]);
        // A name the order does not know comes last.
        h.append(HeaderName::from_static("d"), "5".parse().unwrap());
        assert_eq!(written(&h), ["a=1", "b=2", "c=3", "c=4", "x=9", "d=5"]);
    }
}

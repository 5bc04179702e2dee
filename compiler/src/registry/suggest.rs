//! "Did you mean" suggestions computed exactly like HAProxy's `cfg_find_best_match`, so that
//! hapee proposes the same keyword HAProxy would.

/// HAProxy's word fingerprint: which letters occur and which letter pairs follow each other.
fn fingerprint(word: &str) -> Vec<u8> {
    let mut fp = vec![0u8; 1024];
    let mut from = 28usize; // start of word
    for c in word.bytes() {
        let to = match c.to_ascii_lowercase() {
            c @ b'a'..=b'z' => (c - b'a' + 1) as usize,
            b'0'..=b'9' => 27,
            _ => 28,
        };
        fp[to] = 1;
        fp[32 * from + to] = fp[32 * from + to].wrapping_add(1);
        from = to;
    }
    fp[32 * from + 28] = fp[32 * from + 28].wrapping_add(1);
    fp
}

/// Distance between the fingerprints of two words.
pub fn fingerprint_distance(a: &str, b: &str) -> usize {
    fingerprint(a)
        .iter()
        .zip(fingerprint(b))
        .map(|(x, y)| (*x as i32 - y as i32).unsigned_abs() as usize)
        .sum()
}

/// The candidate closest to `word`, if close enough (HAProxy's thresholds).
pub fn best_match<'a>(
    word: &str,
    candidates: impl IntoIterator<Item = &'a str>,
) -> Option<&'a str> {
    let base = fingerprint(word);
    let mut best: Option<(&str, usize)> = None;
    for c in candidates {
        let d: usize = base
            .iter()
            .zip(fingerprint(c))
            .map(|(x, y)| (*x as i32 - y as i32).unsigned_abs() as usize)
            .sum();
        if best.is_none_or(|(_, bd)| d < bd) {
            best = Some((c, d));
        }
    }
    best.filter(|&(c, d)| d <= 2 * word.len() && d <= 2 * c.len())
        .map(|(c, _)| c)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn suggests_like_haproxy() {
        assert_eq!(
            best_match(
                "http-after-request",
                ["http-request", "http-response", "http-after-response"]
            ),
            Some("http-request")
        );
        assert_eq!(
            best_match("chek", ["check", "inter", "rise"]),
            Some("check")
        );
        assert_eq!(best_match("zzzzzz", ["check"]), None);
    }
}

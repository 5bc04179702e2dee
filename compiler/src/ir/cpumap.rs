//! `cpu-map [auto:]<groups>[/<threads>] <cpus>...`: which CPUs each thread may run on, with
//! HAProxy 2.7's syntax, limits and messages (its first field is a thread group since 2.7).

use super::bind::{parse_thread_set, MAX_TGROUPS, MAX_THREADS_PER_GROUP};
use super::build::{Builder, Stmt};
use super::model::*;
use crate::diagnostic::Diagnostic;

/// CPU numbers go from 0 to this, excluded (glibc's `CPU_SETSIZE`).
pub const MAX_CPUS: u32 = 1024;

pub(super) fn statement(b: &mut Builder, stmt: &Stmt, at: usize) {
    match parse(stmt, at) {
        Ok(map) => b.config.global.cpu_maps.push(map),
        Err(message) => {
            b.push(Diagnostic::new("E317", message).at(stmt.span_from(at + 1).cover(stmt.span(at))))
        }
    }
}

fn parse(stmt: &Stmt, at: usize) -> Result<CpuMap, String> {
    let keyword = stmt.word(at);
    let target = stmt.word(at + 1);
    if target.is_empty() || stmt.word(at + 2).is_empty() {
        return Err(format!(
            "{keyword} expects a thread group number  ('all', 'odd', 'even', a number from 1 to {MAX_THREADS_PER_GROUP} or a range),  followed by a list of CPU ranges with numbers from 0 to {}.",
            MAX_THREADS_PER_GROUP - 1
        ));
    }
    let prefixed = |e: String| format!("{keyword} : {e}");
    let (auto, target) = match target.strip_prefix("auto:") {
        Some(rest) => (true, rest),
        None => (false, target),
    };
    let (groups, threads) = match target.split_once('/') {
        Some((g, t)) => (g, Some(t)),
        None => (target, None),
    };
    // Groups past the 16 that exist are ignored, as HAProxy does, so that one configuration
    // fits machines of several sizes.
    let groups = parse_thread_set(groups, MAX_THREADS_PER_GROUP).map_err(prefixed)?
        & ((1u64 << MAX_TGROUPS) - 1);
    let threads = match threads {
        Some(t) => parse_thread_set(t, MAX_THREADS_PER_GROUP).map_err(prefixed)?,
        None => 0,
    };
    let words: Vec<&str> = (at + 2..stmt.len()).map(|i| stmt.word(i)).collect();
    let cpus = parse_cpu_set(&words).map_err(prefixed)?;
    if auto
        && groups.count_ones() as usize != cpus.len()
        && threads.count_ones() as usize != cpus.len()
    {
        return Err(prefixed(
            "TGROUP/THREAD range and CPU sets must have the same size to be automatically bound"
                .to_string(),
        ));
    }
    Ok(CpuMap {
        auto,
        groups,
        threads,
        cpus,
        span: stmt.whole(),
    })
}

/// HAProxy's `parse_cpu_set` without commas: each word is a CPU number or a range (`N-M`, or
/// `N-` up to the last CPU); a word is read up to its first non-digit, as `strtoul` does.
fn parse_cpu_set(words: &[&str]) -> Result<Vec<u32>, String> {
    let leading = |s: &str| -> u64 {
        s.bytes().take_while(u8::is_ascii_digit).fold(0u64, |n, d| {
            (n * 10 + u64::from(d - b'0')).min(u64::from(u32::MAX))
        })
    };
    let mut set = vec![false; MAX_CPUS as usize];
    for word in words.iter().take_while(|w| !w.is_empty()) {
        if !word.starts_with(|c: char| c.is_ascii_digit()) {
            return Err(format!("'{word}' is not a CPU range."));
        }
        let low = leading(word);
        let high = match word.split_once('-') {
            Some((_, "")) => u64::from(MAX_CPUS - 1),
            Some((_, rest)) => leading(rest),
            None => low,
        };
        let (low, high) = (low.min(high), low.max(high));
        if high >= u64::from(MAX_CPUS) {
            return Err(format!("supports CPU numbers from 0 to {}.", MAX_CPUS - 1));
        }
        for cpu in low..=high {
            set[cpu as usize] = true;
        }
    }
    Ok((0..MAX_CPUS).filter(|&c| set[c as usize]).collect())
}

/// The CPUs each thread is bound to (empty: not bound), in thread order, from the `cpu-map`
/// lines and each thread's group (`thread_group_of`, 1-based).
///
/// A thread with a map of its own runs on it, narrowed to its group's map when the group has
/// one too; a thread without runs on its group's map. With `auto:`, the groups (or each
/// group's threads) take the CPUs one each in ascending order. (HAProxy 2.7.0 applies a whole
/// group's map only to group 1, and gives every group of an `auto:` group range the same
/// first CPU; hapee does what the line says for every group.)
pub fn thread_cpus(g: &Global, thread_group_of: &[u32]) -> Vec<Vec<u32>> {
    let groups = MAX_TGROUPS as usize;
    let mut whole: Vec<Option<Vec<u32>>> = vec![None; groups];
    let mut own: Vec<Vec<Option<Vec<u32>>>> = vec![vec![None; 64]; groups];
    for map in &g.cpu_maps {
        let mut spare = map.cpus.iter().copied();
        for group in (0..groups).filter(|&i| map.groups & (1 << i) != 0) {
            if map.threads == 0 {
                whole[group] = if map.auto {
                    spare.next().map(|c| vec![c])
                } else {
                    Some(map.cpus.clone())
                };
                continue;
            }
            // Each group's threads take the CPUs from the first one again.
            let mut spare = map.cpus.iter().copied();
            for thread in (0..64).filter(|&j| map.threads & (1 << j) != 0) {
                own[group][thread] = if map.auto {
                    spare.next().map(|c| vec![c])
                } else {
                    Some(map.cpus.clone())
                };
            }
        }
    }
    let mut seen = vec![0usize; groups + 1];
    thread_group_of
        .iter()
        .map(|&group| {
            let group = (group as usize).clamp(1, groups);
            let local = seen[group];
            seen[group] += 1;
            let whole = whole[group - 1].as_ref();
            match (own[group - 1].get(local).and_then(Option::as_ref), whole) {
                (Some(mine), Some(all)) => {
                    let both: Vec<u32> = mine.iter().copied().filter(|c| all.contains(c)).collect();
                    if both.is_empty() {
                        all.clone()
                    } else {
                        both
                    }
                }
                (Some(mine), None) => mine.clone(),
                (None, Some(all)) => all.clone(),
                (None, None) => Vec::new(),
            }
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::source::Span;

    fn map(auto: bool, groups: u64, threads: u64, cpus: &[u32]) -> CpuMap {
        CpuMap {
            auto,
            groups,
            threads,
            cpus: cpus.to_vec(),
            span: Span::default(),
        }
    }

    fn global(maps: Vec<CpuMap>) -> Global {
        Global {
            cpu_maps: maps,
            ..Global::default()
        }
    }

    #[test]
    fn cpu_sets_read_numbers_and_ranges() {
        assert_eq!(parse_cpu_set(&["0", "2-3"]), Ok(vec![0, 2, 3]));
        assert_eq!(parse_cpu_set(&["5-4"]), Ok(vec![4, 5]));
        assert_eq!(parse_cpu_set(&["1022-"]), Ok(vec![1022, 1023]));
        // Read up to the first non-digit, as HAProxy's strtoul does.
        assert_eq!(parse_cpu_set(&["0,1"]), Ok(vec![0]));
        assert_eq!(
            parse_cpu_set(&["x"]),
            Err("'x' is not a CPU range.".to_string())
        );
        assert_eq!(
            parse_cpu_set(&["1024"]),
            Err("supports CPU numbers from 0 to 1023.".to_string())
        );
    }

    #[test]
    fn auto_gives_each_thread_one_cpu_in_order() {
        let g = global(vec![map(true, 1, 0b1111, &[4, 5, 6, 7])]);
        assert_eq!(
            thread_cpus(&g, &[1, 1, 1, 1]),
            vec![vec![4], vec![5], vec![6], vec![7]]
        );
    }

    #[test]
    fn a_thread_map_is_narrowed_by_its_group_map_and_groups_map_their_threads() {
        let g = global(vec![
            map(false, 0b11, 0, &[0, 1, 2, 3]),
            map(false, 1, 0b1, &[1, 9]),
            map(false, 1, 0b10, &[8]),
        ]);
        assert_eq!(
            thread_cpus(&g, &[1, 1, 2]),
            vec![vec![1], vec![0, 1, 2, 3], vec![0, 1, 2, 3]]
        );
        // Without any line, no thread is bound.
        assert!(thread_cpus(&global(vec![]), &[1, 1])
            .iter()
            .all(Vec::is_empty));
    }
}

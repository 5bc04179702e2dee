//! `nbthread`, `thread-groups`, `thread-group` and the post-parse mapping of threads to groups,
//! with HAProxy 2.7's limits (16 groups, 64 threads a group, 256 threads) and messages.

use super::bind::{MAX_TGROUPS, MAX_THREADS_PER_GROUP};
use super::build::{Builder, Stmt};
use super::model::*;
use crate::diagnostic::{Diagnostic, HaproxyForm, Severity};

/// Highest `nbthread` in 2.7 (`MAX_THREADS`).
pub const MAX_THREADS: u32 = 256;

/// `strtol` that must consume the whole word.
fn strict_long(s: &str) -> Option<i64> {
    let t = s.trim_start();
    if t.is_empty() {
        return None;
    }
    t.parse::<i64>().ok().or_else(|| {
        // Overflowing values saturate like strtol.
        let digits = t.trim_start_matches(['-', '+']);
        (!digits.is_empty() && digits.bytes().all(|c| c.is_ascii_digit())).then(|| {
            if t.starts_with('-') {
                i64::MIN
            } else {
                i64::MAX
            }
        })
    })
}

pub(super) fn global_statement(b: &mut Builder, stmt: &Stmt) {
    let keyword = stmt.word(0);
    let err = |b: &mut Builder, msg: String| {
        b.push(Diagnostic::new("E312", msg).at(stmt.span_from(1).cover(stmt.span(0))));
    };
    match keyword {
        "nbthread" | "thread-groups" => {
            if !stmt.word(2).is_empty() {
                err(
                    b,
                    format!(
                        "'{keyword}' cannot handle unexpected argument '{}'.",
                        stmt.word(2)
                    ),
                );
                return;
            }
            let Some(v) = strict_long(stmt.word(1)) else {
                err(
                    b,
                    format!(
                        "'{keyword}' passed a missing or unparsable integer value in '{}'",
                        stmt.word(1)
                    ),
                );
                return;
            };
            let max = if keyword == "nbthread" {
                MAX_THREADS
            } else {
                MAX_TGROUPS
            };
            if v < 1 || v > max as i64 {
                err(
                    b,
                    format!("'{keyword}' value must be between 1 and {max} (was {v})"),
                );
                return;
            }
            let value = Some(Spanned::new(v as u32, stmt.span(1)));
            if keyword == "nbthread" {
                b.config.global.nbthread = value;
            } else {
                b.config.global.thread_groups = value;
            }
        }
        _ => thread_group(b, stmt),
    }
}

fn thread_group(b: &mut Builder, stmt: &Stmt) {
    let Some(group) = strict_long(stmt.word(1)) else {
        b.push(
            Diagnostic::new(
                "E312",
                format!(
                    "'thread-group' passed a missing or unparsable integer value in '{}'",
                    stmt.word(1)
                ),
            )
            .at(stmt.span(1)),
        );
        return;
    };
    if group < 1 || group > MAX_TGROUPS as i64 {
        b.push(
            Diagnostic::new("E312", format!("'thread-group' thread-group number must be between 1 and {MAX_TGROUPS} (was {group})"))
                .at(stmt.span(1)),
        );
        return;
    }
    let mut threads = Vec::new();
    for i in 2..stmt.len() {
        let word = stmt.word(i);
        let (first, rest) = split_long(word);
        let (last, rest) = match (first, rest.strip_prefix('-')) {
            (Some(_), Some(r)) => split_long(r),
            _ => (first, rest),
        };
        match (first, last) {
            (Some(a), Some(z))
                if rest.is_empty()
                    && (1..=MAX_THREADS as i64).contains(&a)
                    && (1..=MAX_THREADS as i64).contains(&z) =>
            {
                threads.push((a as u32, z as u32, stmt.span(i)));
            }
            _ => {
                b.push(
                    Diagnostic::new(
                        "E312",
                        format!("'thread-group {group}' passed an unparsable or invalid thread number '{word}' (valid range is 1 to {MAX_THREADS})"),
                    )
                    .at(stmt.span(i)),
                );
                return;
            }
        }
    }
    b.config.global.thread_group_decls.push(ThreadGroupDecl {
        group: group as u32,
        threads: threads.iter().map(|&(a, z, _)| (a, z)).collect(),
        span: stmt.whole(),
    });
}

/// Leading integer (strtol) and the rest of the text.
fn split_long(s: &str) -> (Option<i64>, &str) {
    let number = crate::cnum::strtol(s, 10);
    if !number.converted() {
        return (None, s);
    }
    (Some(number.value), &s[number.end..])
}

/// Replays `thread-group` lines like HAProxy does, then maps unassigned threads to groups.
/// Returns, for each thread (0-based), its group (1-based), or the errors found.
pub fn map_threads(
    global: &Global,
    nbthread: u32,
    diags: &mut Vec<Diagnostic>,
) -> Option<Vec<u32>> {
    let nbtgroups = global.thread_groups.as_ref().map_or(1, |v| v.value);
    let mut thread_group = vec![0u32; MAX_THREADS as usize]; // group of each thread, 0 = none
    let mut base = vec![0u32; MAX_TGROUPS as usize];
    let mut count = vec![0u32; MAX_TGROUPS as usize];
    for decl in &global.thread_group_decls {
        let g = decl.group as usize - 1;
        let warn = |diags: &mut Vec<Diagnostic>, msg: String| {
            diags.push(
                Diagnostic::new("W313", msg)
                    .at(decl.span)
                    .severity(Severity::Warning),
            );
        };
        if count[g] > 0 {
            warn(
                diags,
                format!(
                    "'thread-group {}' was already defined and will be overridden.",
                    decl.group
                ),
            );
            for t in thread_group.iter_mut() {
                if *t == decl.group {
                    *t = 0;
                }
            }
            count[g] = 0;
            base[g] = 0;
        }
        let mut total = 0;
        for &(a, z) in &decl.threads {
            for t in a..=z {
                let slot = &mut thread_group[t as usize - 1];
                if *slot == decl.group {
                    warn(diags, format!("'thread-group {}': thread {t} assigned more than once on the same line.", decl.group));
                } else if *slot != 0 {
                    warn(
                        diags,
                        format!("'thread-group {}': thread {t} was previously assigned to thread group {} and will be overridden.", decl.group, *slot),
                    );
                }
                if count[g] == 0 {
                    base[g] = t - 1;
                    count[g] = 1;
                } else if t >= base[g] + count[g] {
                    count[g] = t - base[g];
                } else if t < base[g] {
                    count[g] += base[g] - t - 1;
                    base[g] = t - 1;
                }
                *slot = decl.group;
                total += 1;
            }
        }
        if count[g] > total {
            diags.push(
                Diagnostic::new(
                    "E314",
                    format!(
                        "'thread-group {}' assigned sparse threads, only contiguous supported",
                        decl.group
                    ),
                )
                .at(decl.span),
            );
            return None;
        }
        if count[g] > MAX_THREADS_PER_GROUP {
            diags.push(
                Diagnostic::new("E314", format!("'thread-group {}' assigned too many threads ({total}, max={MAX_THREADS_PER_GROUP})", decl.group))
                    .at(decl.span),
            );
            return None;
        }
    }

    let n = nbthread as usize;
    let groups = nbtgroups as usize;
    let bare = |msg: String| Diagnostic::new("E315", msg).form(HaproxyForm::Bare);
    let mut ut = thread_group[..n].iter().filter(|&&g| g == 0).count();
    let mut ug = (0..groups).filter(|&g| count[g] == 0).count();
    if ug > ut {
        diags.push(bare(format!(
            "More unassigned thread-groups ({ug}) than threads ({ut}). Please reduce thread-groups"
        )));
        return None;
    }
    let mut t = thread_group[..n].iter().position(|&g| g == 0).unwrap_or(n);
    let mut g = 0;
    while ug > 0 && ut > 0 {
        let (q, r) = (ut / ug, ut % ug);
        let want = (q + usize::from(r != 0)) as u32;
        if want > MAX_THREADS_PER_GROUP {
            // 2.7 prints the two numbers in swapped order; kept for parity.
            diags.push(bare(format!(
                "Too many remaining unassigned threads ({ug}) for thread groups ({ut}). Please increase thread-groups or make sure to keep thread numbers contiguous"
            )));
            return None;
        }
        while ut >= ug && g < groups && count[g] > 0 {
            g += 1;
        }
        if g >= groups {
            break;
        }
        while ut > 0
            && ut >= ug
            && count[g] < want
            && (count[g] == 0 || t as u32 == base[g] + count[g])
        {
            if count[g] == 0 {
                base[g] = t as u32;
                ug -= 1;
            }
            count[g] += 1;
            thread_group[t] = g as u32 + 1;
            ut -= 1;
            t += 1;
            while t < n && thread_group[t] != 0 {
                t += 1;
            }
        }
    }
    if ut > 0 {
        diags.push(bare(format!(
            "Remaining unassigned threads found ({ut}) because all groups are in use. Please increase 'thread-groups', reduce 'nbthreads' or remove or extend 'thread-group' enumerations."
        )));
        return None;
    }
    Some(thread_group[..n].to_vec())
}

/// Resolves a bind line's `thread` set against the thread map (HAProxy's `thread_resolve_group_mask`).
pub fn resolve_bind(
    spec: Option<&ThreadSpec>,
    groups: u32,
    map: &[u32],
) -> Result<(u32, u64), String> {
    let (igid, imask) = spec.map_or((0, 0), |s| (s.group, s.mask));
    let count = |g: u32| map.iter().filter(|&&x| x == g).count() as u32;
    let base = |g: u32| map.iter().position(|&x| x == g).unwrap_or(0) as u32;
    let nbits = |c: u32| if c >= 64 { u64::MAX } else { (1u64 << c) - 1 };
    if igid == 0 {
        if imask == 0 {
            if groups > 1 {
                return Err("'thread' directive spans multiple groups".into());
            }
            return Ok((1, nbits(count(1))));
        }
        let mut gid = 0;
        for (t, &tg) in map.iter().enumerate().take(64) {
            if imask & (1u64 << t) != 0 && tg != gid {
                if gid == 0 {
                    gid = tg;
                } else {
                    return Err(format!(
                        "'thread' directive spans multiple groups (at least {gid} and {tg})"
                    ));
                }
            }
        }
        if gid == 0 {
            return Err("'thread' directive contains threads that belong to no group".into());
        }
        let shifted = imask.checked_shr(base(gid)).unwrap_or(0);
        return Ok((gid, shifted & nbits(count(gid))));
    }
    if igid > groups {
        return Err(format!(
            "'thread' directive references non-existing thread group {igid}"
        ));
    }
    let mask = nbits(count(igid));
    if imask == 0 {
        return Ok((igid, mask));
    }
    if mask & imask == 0 {
        return Err("'thread' directive only references threads not belonging to the group".into());
    }
    Ok((igid, mask & imask))
}

//! The stream's task counters (`cpu_calls`, `cpu_ns_avg`, `cpu_ns_tot`, `lat_ns_avg`,
//! `lat_ns_tot`) with `profiling.tasks` on and off, side by side with Debian's haproxy. The
//! figures differ between the two (hapee's stream is a future, HAProxy's a task): what is
//! compared is which are zero, and that the averages are the totals per call.

use super::harness::*;

/// A logged line of the five counters as its shape: `calls>0`, each total `0` or `>0`, and
/// whether each average is its total divided by the calls.
fn shape(line: &str) -> String {
    let v: Vec<u64> = line
        .split_whitespace()
        .filter_map(|w| w.parse().ok())
        .collect();
    let [calls, cpu_avg, cpu_tot, lat_avg, lat_tot] = v[..] else {
        return format!("unreadable: {line}");
    };
    let nonzero = |n: u64| if n > 0 { ">0" } else { "0" };
    format!(
        "calls{} cpu{} lat{} averages {}",
        nonzero(calls),
        nonzero(cpu_tot),
        nonzero(lat_tot),
        cpu_avg == cpu_tot / calls.max(1) && lat_avg == lat_tot / calls.max(1)
    )
}

#[test]
fn task_counters_are_measured_only_with_profiling_on() {
    let origin = Origin::start("o");
    let run = |profiling: &'static str| {
        let origin = origin.addr;
        let cfg = move |port: u16| {
            let fe = "    log-format \"%[cpu_calls] %[cpu_ns_avg] %[cpu_ns_tot] %[lat_ns_avg] %[lat_ns_tot]\"\n";
            LOGGED_DEFAULTS.replacen(
                "global\n",
                &format!("global\n    profiling.tasks {profiling}\n"),
                1,
            ) + &fe_to_app(port, fe, origin)
        };
        both_reading(1, cfg, |port, side| {
            for _ in 0..3 {
                assert_eq!(curl(&[&format!("http://127.0.0.1:{port}/")]).0, 200);
            }
            // Lines starting with '-' are the start-up probe's connection, which both log.
            let log = side.stdout_when(|l| l.lines().filter(|l| !l.starts_with('-')).count() >= 3);
            log.lines()
                .filter(|l| !l.starts_with('-'))
                .take(3)
                .map(shape)
                .collect::<Vec<_>>()
        })
    };
    for (profiling, expected) in [
        ("on", "calls>0 cpu>0 lat>0 averages true"),
        ("off", "calls>0 cpu0 lat0 averages true"),
        ("auto", "calls>0 cpu0 lat0 averages true"),
    ] {
        let (ours, theirs) = run(profiling);
        assert_eq!(ours, vec![expected; 3], "profiling.tasks {profiling}");
        if let Some(theirs) = theirs {
            assert_eq!(theirs, ours, "profiling.tasks {profiling}");
        }
    }
}

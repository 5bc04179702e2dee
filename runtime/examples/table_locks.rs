//! Micro-benchmark: lookups and updates per second on one stick table from several threads,
//! hapee's sharded read-write-locked table against the same work behind a single mutex.
//! Usage: cargo run --release -p hapee-runtime --example table_locks [threads] [seconds]
//! Each thread reads (looks up a key, reads a rate) 9 times out of 10 and writes (creates or
//! updates an entry's rate) once, over 50,000 keys.

use hapee_compiler::plan::tables::{KeyType, StickTablePlan, StorePlan};
use hapee_runtime::tables::data::Slot;
use hapee_runtime::tables::freq::FreqCtr;
use hapee_runtime::tables::{tick, Table};
use std::collections::HashMap;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

const KEYS: u32 = 50_000;
const PERIOD: u32 = 10_000;

fn plan() -> StickTablePlan {
    StickTablePlan {
        name: "bench".into(),
        network_name: "bench".into(),
        key: KeyType::Integer,
        key_size: 4,
        size: 100_000,
        expire: Some(30_000),
        nopurge: false,
        peers: None,
        srvkey_addr: false,
        write_to: None,
        shards: 0,
        stores: vec![StorePlan {
            name: "http_req_rate".into(),
            elements: 1,
            period: PERIOD,
        }],
    }
}

/// Runs `op(thread, i)` on `threads` threads for `secs`; answers operations per second.
fn run(threads: usize, secs: u64, op: impl Fn(u32) + Sync) -> f64 {
    let stop = AtomicBool::new(false);
    let done = AtomicU64::new(0);
    let start = Instant::now();
    std::thread::scope(|s| {
        for t in 0..threads {
            let (stop, done, op) = (&stop, &done, &op);
            s.spawn(move || {
                let mut i = t as u32 * 7919;
                let mut n = 0u64;
                while !stop.load(Ordering::Relaxed) {
                    for _ in 0..1000 {
                        i = i.wrapping_mul(1_103_515_245).wrapping_add(12345);
                        op(i);
                    }
                    n += 1000;
                }
                done.fetch_add(n, Ordering::Relaxed);
            });
        }
        std::thread::sleep(Duration::from_secs(secs));
        stop.store(true, Ordering::Relaxed);
    });
    done.load(Ordering::Relaxed) as f64 / start.elapsed().as_secs_f64()
}

fn main() {
    let args: Vec<String> = std::env::args().collect();
    let threads: usize = args.get(1).and_then(|a| a.parse().ok()).unwrap_or(2);
    let secs: u64 = args.get(2).and_then(|a| a.parse().ok()).unwrap_or(3);
    let now = 1_000_000_000u64;

    let table = Table::new(&plan()).expect("table");
    for k in 0..KEYS {
        table.get_or_create(&k.to_be_bytes(), now);
    }
    let sharded = run(threads, secs, |i| {
        let key = (i % KEYS).to_be_bytes();
        if i % 10 == 0 {
            if let Some(e) = table.get_or_create(&key, now) {
                if let Slot::Freq(f) = &mut e.write()[0] {
                    f.update(PERIOD, 1, tick(now));
                }
            }
        } else if let Some(e) = table.lookup(&key, now) {
            if let Slot::Freq(f) = &e.read()[0] {
                std::hint::black_box(f.read(PERIOD, tick(now)));
            }
        }
    });

    let single: Mutex<HashMap<u32, Arc<Mutex<FreqCtr>>>> = Mutex::new(
        (0..KEYS)
            .map(|k| (k, Arc::new(Mutex::new(FreqCtr::default()))))
            .collect(),
    );
    let mutex = run(threads, secs, |i| {
        let key = i % KEYS;
        let map = single.lock().unwrap();
        let e = map.get(&key).cloned();
        drop(map);
        if let Some(e) = e {
            let mut f = e.lock().unwrap();
            if i % 10 == 0 {
                f.update(PERIOD, 1, tick(now));
            } else {
                std::hint::black_box(f.read(PERIOD, tick(now)));
            }
        }
    });
    println!("threads {threads}: sharded rwlock {sharded:.0} ops/s, one mutex {mutex:.0} ops/s, ratio {:.2}", sharded / mutex);
}

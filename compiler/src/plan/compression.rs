//! The process-wide compression settings besides `maxcomprate` and `tune.comp.maxlevel`: the
//! zlib memory cap, the CPU use above which new responses go uncompressed, and the deflate
//! window and memory level.

use super::lower::last_arg;
use crate::ir::values::atol;
use crate::ir::DirectiveLine;
use serde::Serialize;

#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct ZlibPlan {
    /// `maxzlibmem`, in bytes (the megabytes given times 2^20; 0: no cap).
    pub max_mem: u64,
    /// `maxcompcpuusage` as HAProxy keeps it: the idle share (percent) a thread must have for
    /// a new response to be compressed (100 minus the usage; 0: always).
    pub min_idle_pct: u32,
    /// `tune.zlib.windowsize`: the deflate window, 2^bits bytes (8 to 15; 15 by default).
    pub window_bits: u8,
    /// `tune.zlib.memlevel`: the deflate state's memory level (1 to 9; 8 by default).
    pub mem_level: u8,
}

impl Default for ZlibPlan {
    fn default() -> ZlibPlan {
        ZlibPlan {
            max_mem: 0,
            min_idle_pct: 0,
            window_bits: 15,
            mem_level: 8,
        }
    }
}

impl ZlibPlan {
    /// The last value of each setting (values `check` refused do not reach here).
    pub fn of(directives: &[DirectiveLine]) -> ZlibPlan {
        let number = |keyword| last_arg(directives, keyword).map(|v| atol(&v));
        let default = ZlibPlan::default();
        ZlibPlan {
            max_mem: number("maxzlibmem").map_or(0, |mb| (mb.max(0) as u64) << 20),
            min_idle_pct: number("maxcompcpuusage")
                .map_or(0, |usage| (100 - usage.clamp(0, 100)) as u32),
            window_bits: number("tune.zlib.windowsize")
                .map_or(default.window_bits, |b| b.clamp(8, 15) as u8),
            mem_level: number("tune.zlib.memlevel")
                .map_or(default.mem_level, |l| l.clamp(1, 9) as u8),
        }
    }
}

//! `tune.vars.*-max-size`: how many bytes of variables each scope may hold.

use crate::ir::DirectiveLine;
use serde::Serialize;

/// The limits in bytes, `0` where none is set (HAProxy's reading: the last line wins and a
/// value is read as `strtol` reads it, so a negative one wraps to a large limit).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize)]
pub struct VarLimits {
    /// `tune.vars.global-max-size`: all variables of the process, whatever their scope.
    pub global: u32,
    /// `tune.vars.proc-max-size`: counted as the global one (the process scope holds all).
    pub proc: u32,
    /// `tune.vars.sess-max-size`: a session's variables with those of its streams.
    pub sess: u32,
    /// `tune.vars.txn-max-size`: a stream's `txn.` variables with its `req.`/`res.` ones.
    pub txn: u32,
    /// `tune.vars.reqres-max-size`: a stream's `req.` and `res.` variables.
    pub reqres: u32,
    /// `tune.vars.check-max-size`: a health check's `check.` variables.
    pub check: u32,
}

impl VarLimits {
    pub fn of(directives: &[DirectiveLine]) -> VarLimits {
        let limit = |name: &str| {
            super::lower::last_arg(directives, name).map_or(0, |v| {
                // `check` refuses a value that is not a whole number.
                v.trim().parse::<i64>().map_or(0, |n| n as u32)
            })
        };
        VarLimits {
            global: limit("tune.vars.global-max-size"),
            proc: limit("tune.vars.proc-max-size"),
            sess: limit("tune.vars.sess-max-size"),
            txn: limit("tune.vars.txn-max-size"),
            reqres: limit("tune.vars.reqres-max-size"),
            check: limit("tune.vars.check-max-size"),
        }
    }

    /// Whether any limit of the streams' and process's variables is set (without one,
    /// nothing is counted there; a check counts its own).
    pub fn any(&self) -> bool {
        VarLimits { check: 0, ..*self } != VarLimits::default()
    }
}

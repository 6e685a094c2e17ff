//! The strategy's view of the run; its methods are split by concern over this module's files.

mod indicators;
mod market;
mod orders;
mod portfolio;

use crate::marshal::{raw, read_string};
use crate::sys;

/// The strategy's view of the run, passed to every [`Strategy`](crate::Strategy) method: parameters, indicators,
/// bars, time, the portfolio and orders. It mirrors the Rhai `ctx` API.
///
/// Every read is relative to the current bar; `k` counts that symbol's bars back (0 = the latest)
/// and must stay within the lookback. Values that do not exist yet are `None`.
pub struct Ctx {
    pub(crate) _private: (),
}

impl Ctx {
    /// The value of an integer parameter.
    pub fn param_int(&self, name: &str) -> i64 {
        let (p, l) = raw(name);
        unsafe { sys::param_int(p, l) }
    }

    /// The value of an integer or float parameter, as a float.
    pub fn param_float(&self, name: &str) -> f64 {
        let (p, l) = raw(name);
        unsafe { sys::param_float(p, l) }
    }

    /// The value of a boolean parameter.
    pub fn param_bool(&self, name: &str) -> bool {
        let (p, l) = raw(name);
        unsafe { sys::param_bool(p, l) != 0 }
    }

    /// The value of a text parameter.
    pub fn param_text(&self, name: &str) -> String {
        let (p, l) = raw(name);
        read_string(|out, cap| unsafe { sys::param_text(p, l, out, cap) })
    }

    /// Adds a line to the run's log, stamped with the current bar.
    pub fn log(&self, message: &str) {
        let (p, l) = raw(message);
        unsafe { sys::log(p, l) }
    }
}

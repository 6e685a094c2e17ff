//! Declaring the strategy's parameters.

use crate::marshal::raw;
use crate::sys;

/// Declares the strategy's parameters (see [`Strategy::params`](crate::Strategy::params)); each method returns `self` so
/// declarations chain. A run overrides the defaults by name.
pub struct Params {
    pub(crate) _private: (),
}

impl Params {
    /// Declares an integer parameter.
    pub fn int(&mut self, name: &str, default: i64) -> &mut Self {
        let (p, l) = raw(name);
        unsafe { sys::declare_int(p, l, default) };
        self
    }

    /// Declares a float parameter.
    pub fn float(&mut self, name: &str, default: f64) -> &mut Self {
        let (p, l) = raw(name);
        unsafe { sys::declare_float(p, l, default) };
        self
    }

    /// Declares a boolean parameter.
    pub fn bool(&mut self, name: &str, default: bool) -> &mut Self {
        let (p, l) = raw(name);
        unsafe { sys::declare_bool(p, l, i32::from(default)) };
        self
    }

    /// Declares a text parameter.
    pub fn text(&mut self, name: &str, default: &str) -> &mut Self {
        let (p, l) = raw(name);
        let (vp, vl) = raw(default);
        unsafe { sys::declare_text(p, l, vp, vl) };
        self
    }
}

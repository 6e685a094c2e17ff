//! Passing values to the host: strings as `(ptr, len)`, counts clamped to `i32`, NaN as `None`,
//! and strings the host writes back.

/// A string's `(ptr, len)` as the host expects it.
pub(crate) fn raw(s: &str) -> (i32, i32) {
    (s.as_ptr() as usize as i32, s.len() as i32)
}

/// Clamps a count or period to the host's `i32` (an out-of-range value stays out of range, so the
/// host still rejects it rather than seeing a wrapped value).
pub(crate) fn int(v: i64) -> i32 {
    if v > i64::from(i32::MAX) {
        i32::MAX
    } else if v < i64::from(i32::MIN) {
        i32::MIN
    } else {
        v as i32
    }
}

/// Clamps a bars-back count to the host's `i32`.
pub(crate) fn back(k: usize) -> i32 {
    if k > i32::MAX as usize {
        i32::MAX
    } else {
        k as i32
    }
}

/// NaN (the host's "no value") as `None`.
pub(crate) fn opt(v: f64) -> Option<f64> {
    if v.is_nan() {
        None
    } else {
        Some(v)
    }
}

/// Reads a string the host writes with a `(out_ptr, out_cap) -> full length` function, growing the
/// buffer once if the first one was too small.
pub(crate) fn read_string(mut call: impl FnMut(i32, i32) -> i32) -> String {
    let mut small = [0u8; 64];
    let n = call(small.as_mut_ptr() as usize as i32, small.len() as i32);
    let n = if n < 0 { 0 } else { n as usize };
    let bytes = if n <= small.len() {
        small[..n].to_vec()
    } else {
        let mut big = vec![0u8; n];
        let m = call(big.as_mut_ptr() as usize as i32, n as i32);
        big.truncate(if m < 0 { 0 } else { (m as usize).min(n) });
        big
    };
    match String::from_utf8(bytes) {
        Ok(s) => s,
        Err(e) => String::from_utf8_lossy(e.as_bytes()).into_owned(),
    }
}

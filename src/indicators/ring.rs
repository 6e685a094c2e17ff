//! Fixed-capacity ring buffer of `f64`, allocated once, shared by the windowed indicators.

/// The last `capacity` values pushed. The storage is allocated at construction
/// and never grows, so [`Ring::push`] never allocates.
#[derive(Clone, Debug)]
pub(super) struct Ring {
    /// Storage; its length is the capacity.
    buf: Vec<f64>,
    /// Slot the next value is written to; once full, also the slot of the oldest value.
    head: usize,
    /// Number of values held, up to the capacity.
    len: usize,
}

impl Ring {
    /// An empty ring holding up to `capacity` (> 0) values.
    pub(super) fn new(capacity: usize) -> Self {
        debug_assert!(capacity > 0, "ring capacity must be positive");
        Ring { buf: vec![0.0; capacity], head: 0, len: 0 }
    }

    /// Whether the ring holds `capacity` values.
    #[inline]
    pub(super) fn is_full(&self) -> bool {
        self.len == self.buf.len()
    }

    /// Number of values held.
    #[inline]
    pub(super) fn len(&self) -> usize {
        self.len
    }

    /// Appends `x`. If the ring was already full, the oldest value is dropped
    /// and returned.
    #[inline]
    pub(super) fn push(&mut self, x: f64) -> Option<f64> {
        let old = std::mem::replace(&mut self.buf[self.head], x);
        self.head += 1;
        if self.head == self.buf.len() {
            self.head = 0;
        }
        if self.len == self.buf.len() {
            Some(old)
        } else {
            self.len += 1;
            None
        }
    }

    /// The number of values the ring holds once full.
    #[inline]
    pub(super) fn capacity(&self) -> usize {
        self.buf.len()
    }

    /// With a full ring: the slots the next pushes write, oldest value
    /// first, at most `max` of them and no further than the end of the
    /// storage (the push into the last slot wraps, see [`Ring::wrapped`]).
    /// Writing values into them and then [`Ring::advance`] by as many is
    /// [`Ring::push`] of each, without a check per value.
    #[inline]
    pub(super) fn next_slots(&mut self, max: usize) -> &mut [f64] {
        debug_assert!(self.is_full(), "next_slots needs a full ring");
        let end = self.buf.len().min(self.head + max);
        &mut self.buf[self.head..end]
    }

    /// With a full ring: how many pushes until the one that wraps, that one included.
    #[inline]
    pub(super) fn slots_to_end(&self) -> usize {
        self.buf.len() - self.head
    }

    /// Moves past `n` slots written through [`Ring::next_slots`].
    #[inline]
    pub(super) fn advance(&mut self, n: usize) {
        debug_assert!(self.head + n <= self.buf.len(), "advance stays within the slots handed out");
        self.head += n;
        if self.head == self.buf.len() {
            self.head = 0;
        }
    }

    /// True when the next write goes to slot 0. For a full ring this happens
    /// exactly once every `capacity` pushes; the windowed indicators use that
    /// moment to recompute their running sums from scratch, which costs
    /// O(capacity) every `capacity` pushes, i.e. amortised O(1).
    #[inline]
    pub(super) fn wrapped(&self) -> bool {
        self.head == 0
    }

    /// The values held, oldest first.
    pub(super) fn iter(&self) -> impl Iterator<Item = f64> + '_ {
        let (older, newer) = if self.is_full() {
            (&self.buf[self.head..], &self.buf[..self.head])
        } else {
            (&self.buf[..self.len], &self.buf[..0])
        };
        older.iter().chain(newer).copied()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn push_evicts_oldest_once_full() {
        let mut r = Ring::new(3);
        assert_eq!(r.push(1.0), None);
        assert_eq!(r.push(2.0), None);
        assert!(!r.is_full());
        assert_eq!(r.iter().collect::<Vec<_>>(), vec![1.0, 2.0]);
        assert_eq!(r.push(3.0), None);
        assert!(r.is_full());
        assert!(r.wrapped());
        assert_eq!(r.push(4.0), Some(1.0));
        assert!(!r.wrapped());
        assert_eq!(r.iter().collect::<Vec<_>>(), vec![2.0, 3.0, 4.0]);
        assert_eq!(r.push(5.0), Some(2.0));
        assert_eq!(r.push(6.0), Some(3.0));
        assert!(r.wrapped());
        assert_eq!(r.iter().collect::<Vec<_>>(), vec![4.0, 5.0, 6.0]);
        assert_eq!(r.len(), 3);
    }

    #[test]
    fn capacity_one() {
        let mut r = Ring::new(1);
        assert_eq!(r.push(1.0), None);
        assert!(r.is_full() && r.wrapped());
        assert_eq!(r.push(2.0), Some(1.0));
        assert!(r.wrapped());
        assert_eq!(r.iter().collect::<Vec<_>>(), vec![2.0]);
    }

    #[test]
    fn never_reallocates() {
        let mut r = Ring::new(4);
        let ptr = r.buf.as_ptr();
        for i in 0..100 {
            r.push(f64::from(i));
        }
        assert_eq!(r.buf.as_ptr(), ptr);
        assert_eq!(r.buf.capacity(), 4);
    }
}

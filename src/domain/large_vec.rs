//! Vectors for the large per-bar series (bars, timeline, equity curve),
//! their memory advised to be backed by transparent huge pages.

/// The smallest size advised: it holds at least one whole 2 MiB page.
const HUGE_PAGE_MIN: usize = 4 << 20;

/// An empty vector with room for `capacity` items if the allocator gives
/// it (else with none: it grows as any vector does; room is asked for, not
/// required, so an estimate too large for the machine costs nothing). When
/// the room is large, the kernel is asked to back it with transparent huge
/// pages (on Linux, where the usual `madvise` mode leaves that to the
/// program). A million bars then take a few dozen page faults instead of
/// twelve thousand, which on a virtual machine cost about as much as
/// parsing them. Advice only: a kernel without huge pages leaves the memory
/// as it was, and the vector is an ordinary one (if it grows past its room,
/// its new memory is not advised).
pub fn large_vec<T>(capacity: usize) -> Vec<T> {
    let mut items = Vec::new();
    if items.try_reserve_exact(capacity).is_ok() {
        advise_huge_pages(&mut items);
    }
    items
}

#[cfg(target_os = "linux")]
fn advise_huge_pages<T>(items: &mut Vec<T>) {
    const PAGE: usize = 4096;
    let bytes = items.capacity().saturating_mul(std::mem::size_of::<T>());
    if bytes < HUGE_PAGE_MIN {
        return;
    }
    let at = items.as_mut_ptr() as usize;
    let (start, end) = (at.next_multiple_of(PAGE), (at + bytes) & !(PAGE - 1));
    #[allow(unsafe_code)]
    // SAFETY: the range lies inside the vector's own allocation, whole pages
    // only; the advice changes neither the mapping nor its contents, and a
    // refusal (EINVAL on a kernel without huge pages) changes nothing.
    unsafe {
        libc::madvise(start as *mut libc::c_void, end - start, libc::MADV_HUGEPAGE);
    }
}

#[cfg(not(target_os = "linux"))]
fn advise_huge_pages<T>(_items: &mut Vec<T>) {}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_large_vec_is_an_ordinary_vector_with_the_room_asked_for() {
        for capacity in [0, 10, HUGE_PAGE_MIN / 8 + 3] {
            let mut items: Vec<u64> = large_vec(capacity);
            assert!(items.is_empty() && items.capacity() >= capacity);
            items.extend(0..capacity as u64);
            items.push(7);
            assert_eq!(items.iter().rev().nth(1).copied(), capacity.checked_sub(1).map(|c| c as u64));
            assert_eq!(items.last(), Some(&7));
        }
        // Room the allocator cannot give is not asked for: an ordinary empty vector.
        let mut refused: Vec<u64> = large_vec(usize::MAX / 4);
        assert_eq!(refused.capacity(), 0);
        refused.push(1);
        assert_eq!(refused, [1]);
    }
}

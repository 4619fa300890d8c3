//! Software prefetch: asks the CPU to start loading memory that a loop will
//! read a few iterations later.
//!
//! The diff reads the records of a snapshot that was not in key order, and
//! the mock copies the documents of a large workspace, in an order the
//! hardware prefetchers cannot guess: each one costs a wait on main memory,
//! about 100 ns, against some 10 ns of work. A loop that names what it will
//! want several iterations ahead has the loads under way while it works, so
//! the waits overlap instead of adding up.

/// Starts loading the cache lines of `bytes`, at most `max_lines` of them
/// (64 bytes each). A hint only: it changes no value and never faults.
#[inline(always)]
pub(crate) fn bytes(bytes: &[u8], max_lines: usize) {
    for line in bytes.chunks(64).take(max_lines) {
        line_of(line.as_ptr());
    }
}

#[inline(always)]
fn line_of(ptr: *const u8) {
    #[cfg(target_arch = "x86_64")]
    // SAFETY: `prefetcht0` is part of SSE, which every x86-64 CPU has, and
    // it is a hint that never faults or reads memory into a value, whatever
    // the address; `ptr` also comes from a live reference.
    unsafe {
        std::arch::x86_64::_mm_prefetch::<{ std::arch::x86_64::_MM_HINT_T0 }>(ptr.cast());
    }
    #[cfg(not(target_arch = "x86_64"))]
    let _ = ptr;
}

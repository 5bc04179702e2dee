//! The global allocator: mimalloc, asked for plain blocks wherever a plain block is aligned
//! enough.
//!
//! The `mimalloc` crate hands every request to `mi_malloc_aligned`, whose checks come before
//! mimalloc's fast path and which, when the page's free list is empty (several times per
//! proxied request), goes through a generic aligned path before reaching the ordinary one.
//! Almost every Rust allocation asks for 16 bytes of alignment or less, which mimalloc's
//! ordinary blocks already have.

use std::alloc::{GlobalAlloc, Layout};
use std::ffi::c_void;

/// The alignment mimalloc guarantees to any block at least that large (`MI_MAX_ALIGN_SIZE`
/// on 64-bit targets), and to smaller blocks up to their size.
const PLAIN_ALIGN: usize = 16;

pub struct Mimalloc;

/// mimalloc 2's `mi_option_purge_delay` (its header's option enum; the bindings leave the
/// experimental options unnamed).
const MI_OPTION_PURGE_DELAY: libmimalloc_sys::mi_option_t = 15;

/// How long a page left empty stays with the process before it goes back to the system.
/// mimalloc's 10 ms default gave back pages that emptied between two rounds of requests, to
/// fault them in again on the next allocation: at nbthread 2 under wrk -c50, 0.0085 page
/// faults and 0.0004 madvise per request (each madvise of a threaded process also interrupts
/// the other threads' CPUs to flush their TLBs), none with a second. An idle process still
/// returns its memory within that second.
const PURGE_DELAY_MS: std::ffi::c_long = 1000;

/// Sets [`PURGE_DELAY_MS`]; called first in `main`, before any other thread starts.
pub fn keep_freed_pages_a_while() {
    // SAFETY: mi_option_set stores an integer in mimalloc's option table and reads no pointer;
    // it is not thread-safe, and runs first in main, before this process starts any thread.
    unsafe { libmimalloc_sys::mi_option_set(MI_OPTION_PURGE_DELAY, PURGE_DELAY_MS) }
}

/// Whether `mi_malloc(layout.size())` is aligned for `layout`: mimalloc's own test for a
/// "naturally aligned" request (`mi_malloc_is_naturally_aligned` in alloc-aligned.c, which
/// then serves it as an ordinary allocation too): an alignment of at most 16 that is not
/// larger than the size.
fn plain(layout: &Layout) -> bool {
    layout.align() <= PLAIN_ALIGN && layout.align() <= layout.size()
}

// SAFETY: every block comes from mimalloc and goes back to it (`mi_free` takes blocks from
// either entry point). A block from `mi_malloc`/`mi_zalloc`/`mi_realloc` is only returned for
// layouts `plain` accepts, for which mimalloc guarantees the alignment (see `plain`); others
// go through mimalloc's aligned entry points, as the `mimalloc` crate does.
unsafe impl GlobalAlloc for Mimalloc {
    #[inline]
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        if plain(&layout) {
            libmimalloc_sys::mi_malloc(layout.size()).cast()
        } else {
            libmimalloc_sys::mi_malloc_aligned(layout.size(), layout.align()).cast()
        }
    }

    #[inline]
    unsafe fn alloc_zeroed(&self, layout: Layout) -> *mut u8 {
        if plain(&layout) {
            libmimalloc_sys::mi_zalloc(layout.size()).cast()
        } else {
            libmimalloc_sys::mi_zalloc_aligned(layout.size(), layout.align()).cast()
        }
    }

    #[inline]
    unsafe fn dealloc(&self, ptr: *mut u8, _layout: Layout) {
        libmimalloc_sys::mi_free(ptr.cast::<c_void>());
    }

    #[inline]
    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        // The new block must be aligned for the same alignment and the new size.
        let grown = Layout::from_size_align_unchecked(new_size, layout.align());
        if plain(&grown) {
            libmimalloc_sys::mi_realloc(ptr.cast::<c_void>(), new_size).cast()
        } else {
            libmimalloc_sys::mi_realloc_aligned(ptr.cast::<c_void>(), new_size, layout.align())
                .cast()
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Every size and alignment a plain block is used for comes back aligned, zeroed when
    /// asked, and keeps its bytes across a reallocation.
    #[test]
    fn plain_blocks_are_aligned_for_their_layout() {
        let heap = Mimalloc;
        for align in [1, 2, 4, 8, 16, 32, 64, 4096] {
            for size in (1..=300).chain([1000, 4096, 70_000]) {
                let Ok(layout) = Layout::from_size_align(size, align) else {
                    continue;
                };
                // SAFETY: non-zero sizes; each block is written within its size and freed once.
                unsafe {
                    let p = heap.alloc(layout);
                    assert!(!p.is_null());
                    assert_eq!(p as usize % align, 0, "size {size} align {align}");
                    p.write_bytes(0xa5, size);
                    let q = heap.realloc(p, layout, size * 3);
                    assert_eq!(q as usize % align, 0, "realloc {size} align {align}");
                    assert!((0..size).all(|i| *q.add(i) == 0xa5));
                    heap.dealloc(q, Layout::from_size_align(size * 3, align).unwrap());
                    let z = heap.alloc_zeroed(layout);
                    assert_eq!(z as usize % align, 0);
                    assert!((0..size).all(|i| *z.add(i) == 0));
                    heap.dealloc(z, layout);
                }
            }
        }
    }
}

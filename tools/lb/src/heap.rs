//! The global allocator: mimalloc, asked for plain blocks wherever a plain block is aligned
//! enough.
//!
//! The `mimalloc` crate hands every request to `mi_malloc_aligned`, whose checks come before
//! mimalloc's fast path and which, when the page's free list is empty (several times per
//! proxied request), goes through a generic aligned path before reaching the ordinary one.
//! Almost every Rust allocation asks for 16 bytes of alignment or less, which mimalloc's
//! ordinary blocks already have.
//!
//! On the threads that serve requests, small blocks also go through a per-thread cache of the
//! last ones freed ([`cache_on_this_thread`]), handed out again last-in first-out. mimalloc
//! gives out a page's free blocks in turn before it reuses any block freed meanwhile (its
//! free list and the list of blocks freed since are swapped only once the first is empty),
//! so each request's transaction, future and header tables were written to blocks last
//! touched a page's worth of allocations earlier (64 KiB per size), out of the data cache;
//! the block the previous request freed is still in it.

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

/// The largest block the per-thread cache keeps (a request's future is some 6 KB).
const CACHED_MAX: usize = 8192;
/// Size classes: 8 bytes, 16 to 64 by 16, then four per power of two up to [`CACHED_MAX`]
/// (mimalloc's own block sizes there, so a cached block wastes nothing more than mimalloc would).
const CLASSES: usize = 33;
/// Blocks kept per class.
const PER_CLASS: usize = 8;

/// The class of a block of `size` bytes (at most [`CACHED_MAX`], not 0) and the size of the
/// blocks it holds: a block of the class serves any request the class covers.
#[inline(always)]
fn class_of(size: usize) -> (usize, usize) {
    if size <= 8 {
        return (0, 8);
    }
    let units = size.div_ceil(16);
    if units <= 4 {
        return (units, units * 16);
    }
    let v = units - 1;
    let top = usize::BITS as usize - 1 - v.leading_zeros() as usize;
    let quarter = (v >> (top - 2)) & 3;
    (
        5 + (top - 2) * 4 + quarter,
        ((5 + quarter) << (top - 2)) * 16,
    )
}

/// Whether blocks of `layout` go through the cache: those mimalloc serves plainly (see
/// [`plain`]) and that are small enough.
#[inline(always)]
fn cached(layout: &Layout) -> bool {
    plain(layout) && layout.size() <= CACHED_MAX
}

/// The size asked of mimalloc for `layout`: a cached class's full block size, so that the
/// block can serve any request of its class once freed.
#[inline(always)]
fn block_size(layout: &Layout) -> usize {
    if cached(layout) {
        class_of(layout.size()).1
    } else {
        layout.size()
    }
}

/// One thread's freed blocks, per class, the last freed on top.
struct Cache {
    on: bool,
    len: [u8; CLASSES],
    blocks: [[*mut u8; PER_CLASS]; CLASSES],
}

thread_local! {
    // No destructor of its own (one would be registered on first use, perhaps from inside an
    // allocation): the blocks go back to mimalloc from `Flush`'s, registered when the thread
    // turns the cache on.
    static CACHE: std::cell::UnsafeCell<Cache> = const {
        std::cell::UnsafeCell::new(Cache {
            on: false,
            len: [0; CLASSES],
            blocks: [[std::ptr::null_mut(); PER_CLASS]; CLASSES],
        })
    };
    static FLUSH: Flush = const { Flush };
}

/// Gives a thread's cached blocks back to mimalloc when the thread ends.
struct Flush;

impl Drop for Flush {
    fn drop(&mut self) {
        let _ = CACHE.try_with(|c| {
            // SAFETY: the thread's own cache; nothing else uses it during this call (mi_free
            // does not call back into Rust).
            let c = unsafe { &mut *c.get() };
            c.on = false;
            for (len, blocks) in c.len.iter_mut().zip(&c.blocks) {
                for &b in &blocks[..usize::from(*len)] {
                    // SAFETY: each cached block came from mimalloc and is owned by the cache.
                    unsafe { libmimalloc_sys::mi_free(b.cast::<c_void>()) };
                }
                *len = 0;
            }
        });
    }
}

/// Turns the block cache on for the calling thread (a worker serving requests), until it ends.
pub fn cache_on_this_thread() {
    // Registers the flush at thread exit now, outside any allocation.
    FLUSH.with(|_| ());
    CACHE.with(|c| {
        // SAFETY: the thread's own cache, not otherwise borrowed during this call.
        unsafe { (*c.get()).on = true }
    });
}

/// A block of `class` from the calling thread's cache, if it has one.
#[inline(always)]
fn take_cached(class: usize) -> Option<*mut u8> {
    CACHE
        .try_with(|c| {
            // SAFETY: the thread's own cache; the allocator's calls do not nest.
            let c = unsafe { &mut *c.get() };
            let len = usize::from(c.len[class]);
            if !c.on || len == 0 {
                return None;
            }
            c.len[class] = (len - 1) as u8;
            Some(c.blocks[class][len - 1])
        })
        .ok()
        .flatten()
}

/// Keeps `block` of `class` in the calling thread's cache; false when the cache is off or full.
#[inline(always)]
fn keep_cached(class: usize, block: *mut u8) -> bool {
    CACHE
        .try_with(|c| {
            // SAFETY: as in `take_cached`.
            let c = unsafe { &mut *c.get() };
            let len = usize::from(c.len[class]);
            if !c.on || len == PER_CLASS {
                return false;
            }
            c.blocks[class][len] = block;
            c.len[class] = (len + 1) as u8;
            true
        })
        .unwrap_or(false)
}

/// A block for `size` bytes of a cached layout: the cache's, else mimalloc's. Called, not
/// inlined: each of the program's allocation sites then holds a call, as with `mi_malloc`,
/// instead of the cache's steps (inlined, they cost some 55 more instruction cache misses
/// per proxied request, for 200 fewer instructions).
#[inline(never)]
fn alloc_cached(size: usize) -> *mut u8 {
    let (class, block) = class_of(size);
    if let Some(cached) = take_cached(class) {
        return cached;
    }
    // SAFETY: a plain request of a non-zero size.
    unsafe { libmimalloc_sys::mi_malloc(block).cast() }
}

/// Frees `ptr`, a block of a cached layout of `size` bytes: into the cache, else to mimalloc.
/// Out of line, as [`alloc_cached`].
#[inline(never)]
fn free_cached(ptr: *mut u8, size: usize) {
    if !keep_cached(class_of(size).0, ptr) {
        // SAFETY: a block mimalloc gave, freed once.
        unsafe { libmimalloc_sys::mi_free(ptr.cast::<c_void>()) };
    }
}

// SAFETY: every block comes from mimalloc and goes back to it (`mi_free` takes blocks from
// either entry point). A block from `mi_malloc`/`mi_zalloc`/`mi_realloc` is only returned for
// layouts `plain` accepts, for which mimalloc guarantees the alignment (see `plain`); others
// go through mimalloc's aligned entry points, as the `mimalloc` crate does. A block of a cached
// layout is always at least its class's size (`block_size`), so that any request of the class
// can take it from the cache; a cached block is used by one owner at a time.
unsafe impl GlobalAlloc for Mimalloc {
    #[inline]
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        if cached(&layout) {
            alloc_cached(layout.size())
        } else if plain(&layout) {
            libmimalloc_sys::mi_malloc(layout.size()).cast()
        } else {
            libmimalloc_sys::mi_malloc_aligned(layout.size(), layout.align()).cast()
        }
    }

    #[inline]
    unsafe fn alloc_zeroed(&self, layout: Layout) -> *mut u8 {
        if cached(&layout) {
            let (class, size) = class_of(layout.size());
            if let Some(block) = take_cached(class) {
                block.write_bytes(0, layout.size());
                return block;
            }
            libmimalloc_sys::mi_zalloc(size).cast()
        } else if plain(&layout) {
            libmimalloc_sys::mi_zalloc(layout.size()).cast()
        } else {
            libmimalloc_sys::mi_zalloc_aligned(layout.size(), layout.align()).cast()
        }
    }

    #[inline]
    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        if cached(&layout) {
            free_cached(ptr, layout.size());
        } else {
            libmimalloc_sys::mi_free(ptr.cast::<c_void>());
        }
    }

    #[inline]
    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        // The new block must be aligned for the same alignment and the new size.
        let grown = Layout::from_size_align_unchecked(new_size, layout.align());
        if plain(&grown) {
            libmimalloc_sys::mi_realloc(ptr.cast::<c_void>(), block_size(&grown)).cast()
        } else {
            libmimalloc_sys::mi_realloc_aligned(ptr.cast::<c_void>(), new_size, layout.align())
                .cast()
        }
    }
}

/// Lets the heap use transparent huge pages from here on, for a process about to build a large
/// model (`check` on a large file). mimalloc is built to turn them off for the whole process
/// (`no_thp`), as a 2 MiB page counts whole in the resident set however little of it is used,
/// which weighs on a small heap; a heap of tens of megabytes fills its huge pages, and one
/// fault then stands for 512 (faults were a quarter of `check`'s CPU time on a 110,000-line
/// file, each costing 1.3 µs to well over 10 µs on a loaded VM). The machine's setting is
/// usually `madvise`, so mimalloc's arenas (all of its segments come from them) are marked
/// for huge pages; arenas reserved later are not, which a `check` of any size never needs.
pub fn huge_pages_from_now() {
    extern "C" {
        /// mimalloc's arena `id` (from 1): its start and size, or null past the last.
        fn mi_arena_area(id: libc::c_int, size: *mut usize) -> *mut libc::c_void;
    }
    /// `MI_MAX_ARENAS` in mimalloc 2's arena.c.
    const MAX_ARENAS: libc::c_int = 132;
    // SAFETY: PR_SET_THP_DISABLE with 0 clears a flag of this process and reads no pointer.
    if unsafe { libc::prctl(libc::PR_SET_THP_DISABLE, 0, 0, 0, 0) } != 0 {
        return;
    }
    for id in 1..=MAX_ARENAS {
        let mut size = 0usize;
        // SAFETY: mi_arena_area only reads mimalloc's table of arenas and writes `size`.
        let start = unsafe { mi_arena_area(id, &mut size) };
        if start.is_null() {
            break;
        }
        // SAFETY: the range is an arena mimalloc mapped and keeps mapped; MADV_HUGEPAGE only
        // changes how later faults in it are served, never its contents. Failing, it changes
        // nothing.
        unsafe { libc::madvise(start, size, libc::MADV_HUGEPAGE) };
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Each size up to the cache's limit falls in a class whose blocks hold it, classes grow
    /// with sizes, and the class sizes are multiples of 16 from 16 on (mimalloc's 16-byte
    /// alignment of such blocks).
    #[test]
    fn classes_cover_their_sizes() {
        let mut last = (0, 8);
        for size in 1..=CACHED_MAX {
            let (class, block) = class_of(size);
            assert!(class < CLASSES, "size {size}");
            assert!(block >= size, "size {size} in class of {block}");
            assert!(block == 8 || block % 16 == 0, "size {size}: {block}");
            assert!(class >= last.0 && block >= last.1, "size {size}");
            if class == last.0 {
                assert_eq!(block, last.1, "one block size per class");
            }
            last = (class, block);
        }
        assert_eq!(class_of(CACHED_MAX), (CLASSES - 1, CACHED_MAX));
    }

    /// On a thread with the cache on, a freed block is the next one given for its class, any
    /// size of the class, and bytes asked zeroed come back zeroed; a full class gives its
    /// blocks back to mimalloc; a block grown by realloc past its class keeps its bytes.
    #[test]
    fn cached_blocks_come_back_last_in_first_out() {
        std::thread::spawn(|| {
            cache_on_this_thread();
            let heap = Mimalloc;
            let layout = |size| Layout::from_size_align(size, 8).unwrap();
            // SAFETY: non-zero sizes; each block is written within its size and freed once,
            // with the layout it was last given.
            unsafe {
                let a = heap.alloc(layout(1400));
                a.write_bytes(0x5a, 1400);
                heap.dealloc(a, layout(1400));
                let b = heap.alloc(layout(1300));
                assert_eq!(a, b, "1300 and 1400 bytes share a class");
                b.write_bytes(0x5a, 1300);
                heap.dealloc(b, layout(1300));
                let z = heap.alloc_zeroed(layout(1536));
                assert_eq!(z, a);
                assert!((0..1536).all(|i| *z.add(i) == 0));
                let grown = heap.realloc(z, layout(1536), 5000);
                assert!((0..1536).all(|i| *grown.add(i) == 0));
                grown.add(4999).write(1);
                heap.dealloc(grown, layout(5000));
                let blocks: Vec<*mut u8> =
                    (0..PER_CLASS + 4).map(|_| heap.alloc(layout(40))).collect();
                for &p in &blocks {
                    p.write_bytes(1, 40);
                    heap.dealloc(p, layout(40));
                }
                let again = heap.alloc(layout(33));
                assert_eq!(again, blocks[PER_CLASS - 1]);
                heap.dealloc(again, layout(33));
            }
        })
        .join()
        .unwrap();
    }

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

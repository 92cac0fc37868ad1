//! Who called a constructor: libssl itself, or anyone else (the application, libcrypto's
//! PEM/ASN1 readers, ourselves).
//!
//! Under LD_PRELOAD, libssl's own calls to `SSL_SESSION_new` and `d2i_SSL_SESSION` go
//! through its PLT/GOT and reach our definitions; libssl then writes its private struct
//! into whatever it gets. So the exported constructors take their return address (see
//! `entry.rs`) and, when it lies in libssl's executable segment, hand the call to libssl's
//! own definition (design rule 2).
//!
//! "libssl" is the object that holds the next definition of `SSL_SESSION_new` after ours
//! (`dlsym(RTLD_NEXT)`): the library foreign sessions are forwarded to. Its text range,
//! and the text ranges of every other object loaded, are read once with `dl_iterate_phdr`
//! and cached. The hot path is two range checks (libssl's, then the last caller's object):
//! a few nanoseconds, and the same when there is no libssl at all. A return address in no
//! known object means objects were loaded since (a libssl opened later): the map is rebuilt
//! once per change of the loaded set.
//!
//! A call from libcrypto is never libssl's: libcrypto calls our `d2i_SSL_SESSION` from
//! `ASN1_d2i_bio` (the application's `d2i_SSL_SESSION_bio` macro) and from
//! `PEM_ASN1_read_bio` (our own PEM readers), both on behalf of the application. libssl's
//! own PEM readers, the one path where libcrypto would call d2i for libssl, are never
//! reached under preload (ours win), and libssl does not call them itself.

use parking_lot::Mutex;
use std::sync::atomic::{AtomicPtr, AtomicU64, Ordering};

/// The loaded objects' executable ranges, as last read.
struct Map {
    /// libssl's executable range `[start, end)`; empty when there is no libssl.
    ssl: (usize, usize),
    /// Every other object's executable ranges.
    others: Vec<(usize, usize)>,
    /// `dlpi_adds` when the map was made: objects loaded so far.
    adds: u64,
}

/// The current map, leaked (a handful per process at most: one per change of the loaded
/// set seen by a caller outside every known object).
static MAP: AtomicPtr<Map> = AtomicPtr::new(std::ptr::null_mut());
/// The hot path's copies, each range packed in one word (`pack`): libssl's text, and the
/// last caller's object's. 0 (an empty range) until known.
static SSL_TEXT: AtomicU64 = AtomicU64::new(0);
static HINT: AtomicU64 = AtomicU64::new(0);
static BUILD: Mutex<()> = Mutex::new(());

const PAGE: u32 = 12;
const LEN_BITS: u32 = 28;

/// `[s, e)` widened to whole pages (no two objects share a page of text), as one word:
/// start page above, length in pages below. 0 if it does not fit (then the slow path
/// answers).
fn pack((s, e): (usize, usize)) -> u64 {
    let first = (s >> PAGE) as u64;
    let pages = (e.saturating_sub(1) >> PAGE) as u64 + 1 - first;
    if e <= s || first >= 1 << (64 - LEN_BITS) || pages >= 1 << LEN_BITS {
        return 0;
    }
    first << LEN_BITS | pages
}

#[inline(always)]
fn in_packed(v: u64, ra: usize) -> bool {
    let start = ((v >> LEN_BITS) << PAGE) as usize;
    let len = ((v & ((1 << LEN_BITS) - 1)) << PAGE) as usize;
    ra.wrapping_sub(start) < len
}

/// Whether `ra`, a return address, lies in libssl's code.
#[inline(always)]
pub fn is_libssl(ra: usize) -> bool {
    if in_packed(SSL_TEXT.load(Ordering::Relaxed), ra) {
        return true;
    }
    if in_packed(HINT.load(Ordering::Relaxed), ra) {
        return false;
    }
    slow(ra)
}

#[cold]
#[inline(never)]
fn slow(ra: usize) -> bool {
    let mut m = MAP.load(Ordering::Acquire);
    if m.is_null() {
        m = rebuild(None);
    }
    // SAFETY: maps are leaked, never freed.
    let mut map = unsafe { &*m };
    loop {
        if ra.wrapping_sub(map.ssl.0) < map.ssl.1 - map.ssl.0 {
            return true;
        }
        if let Some(&r) = map
            .others
            .iter()
            .find(|&&(s, e)| ra.wrapping_sub(s) < e - s)
        {
            HINT.store(pack(r), Ordering::Relaxed);
            return false;
        }
        // In no object we know of: rebuild if objects were loaded since, else it is code
        // outside any object (JIT, trampolines): not libssl's.
        if loaded_count() == map.adds {
            return false;
        }
        // SAFETY: as above.
        map = unsafe { &*rebuild(Some(map.adds)) };
    }
}

/// `dlpi_adds`: how many objects were ever loaded into the process.
fn loaded_count() -> u64 {
    unsafe extern "C" fn first(
        info: *mut libc::dl_phdr_info,
        _size: libc::size_t,
        data: *mut libc::c_void,
    ) -> libc::c_int {
        // SAFETY: dl_iterate_phdr passes a valid info and our own data pointer.
        unsafe { *(data as *mut u64) = (*info).dlpi_adds };
        1
    }
    let mut adds = 0u64;
    // SAFETY: the callback only reads the info it is given and writes our u64.
    unsafe { libc::dl_iterate_phdr(Some(first), (&mut adds as *mut u64).cast()) };
    adds
}

/// Read the loaded objects again, unless another thread did since `seen`.
fn rebuild(seen: Option<u64>) -> *mut Map {
    let _g = BUILD.lock();
    let cur = MAP.load(Ordering::Acquire);
    if !cur.is_null() {
        // SAFETY: maps are leaked, never freed.
        let adds = unsafe { (*cur).adds };
        if seen.is_none_or(|s| adds != s) {
            return cur;
        }
    }
    // Symbols found absent so far may exist now.
    crate::next::new_generation();
    let libssl_new =
        crate::next_fn!(SSL_SESSION_new, unsafe extern "C" fn() -> usize).map_or(0, |f| f as usize);
    struct Acc {
        libssl_new: usize,
        ssl: (usize, usize),
        others: Vec<(usize, usize)>,
        adds: u64,
    }
    unsafe extern "C" fn each(
        info: *mut libc::dl_phdr_info,
        _size: libc::size_t,
        data: *mut libc::c_void,
    ) -> libc::c_int {
        // SAFETY: dl_iterate_phdr passes a valid info; data is our Acc.
        let (info, acc) = unsafe { (&*info, &mut *(data as *mut Acc)) };
        acc.adds = info.dlpi_adds;
        let base = info.dlpi_addr as usize;
        let mut ranges = Vec::new();
        for i in 0..info.dlpi_phnum as usize {
            // SAFETY: dlpi_phdr has dlpi_phnum entries.
            let ph = unsafe { &*info.dlpi_phdr.add(i) };
            if ph.p_type == libc::PT_LOAD && ph.p_flags & libc::PF_X != 0 {
                let start = base.wrapping_add(ph.p_vaddr as usize);
                ranges.push((start, start + ph.p_memsz as usize));
            }
        }
        let f = acc.libssl_new;
        if f != 0 && ranges.iter().any(|&(s, e)| f.wrapping_sub(s) < e - s) {
            let s = ranges.iter().map(|r| r.0).min().unwrap_or(0);
            let e = ranges.iter().map(|r| r.1).max().unwrap_or(0);
            acc.ssl = (s, e);
        } else {
            acc.others.extend(ranges);
        }
        0
    }
    let mut acc = Acc {
        libssl_new,
        ssl: (0, 0),
        others: Vec::new(),
        adds: 0,
    };
    // SAFETY: the callback reads the infos it is given and writes only into acc.
    unsafe { libc::dl_iterate_phdr(Some(each), (&mut acc as *mut Acc).cast()) };
    let m = Box::into_raw(Box::new(Map {
        ssl: acc.ssl,
        others: acc.others,
        adds: acc.adds,
    }));
    HINT.store(0, Ordering::Relaxed);
    SSL_TEXT.store(pack(acc.ssl), Ordering::Relaxed);
    MAP.store(m, Ordering::Release);
    m
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn our_own_code_and_the_test_binary_are_not_libssl() {
        // No libssl is linked into the unit-test binary.
        assert!(!is_libssl(
            our_own_code_and_the_test_binary_are_not_libssl as *const () as usize
        ));
        assert!(!is_libssl(libc::malloc as *const () as usize));
        assert!(!is_libssl(0));
        assert!(!is_libssl(usize::MAX));
    }

    #[test]
    fn packed_ranges_cover_whole_pages() {
        let v = pack((0x7f00_0000_1234, 0x7f00_0000_5000));
        assert!(in_packed(v, 0x7f00_0000_1000));
        assert!(in_packed(v, 0x7f00_0000_4fff));
        assert!(!in_packed(v, 0x7f00_0000_5000));
        assert!(!in_packed(v, 0x7f00_0000_0fff));
        assert!(!in_packed(0, 0) && !in_packed(0, usize::MAX));
        assert_eq!(pack((5, 5)), 0);
    }
}

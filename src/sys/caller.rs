//! Who called a constructor: a libssl, or anyone else (the application, libcrypto's
//! PEM/ASN1 readers, ourselves).
//!
//! Under LD_PRELOAD, libssl's own calls to `SSL_SESSION_new` and `d2i_SSL_SESSION` go
//! through its PLT/GOT and reach our definitions; libssl then writes its private struct
//! into whatever it gets. So the exported constructors take their return address (see
//! `capi/entry.rs`) and, when it lies in a libssl's executable segment, hand the call to that
//! libssl's own definition, so that libssl only ever gets its own sessions (`loaded.rs`
//! says how libssl is found).
//!
//! The hot path is one range check against the last non-libssl caller's object (one
//! word), then one against the last libssl a caller was found in: about a nanosecond. Otherwise the snapshot of loaded objects answers, read again
//! when the caller is in no object it knows and the loaded set changed (a libssl opened
//! later). Any change of the loaded set clears the hint.
//!
//! A call from libcrypto is never libssl's: libcrypto calls our `d2i_SSL_SESSION` from
//! `ASN1_d2i_bio` (the application's `d2i_SSL_SESSION_bio` macro) and from
//! `PEM_ASN1_read_bio` (our own PEM readers), both on behalf of the application. libssl's
//! own PEM readers, the one path where libcrypto would call d2i for libssl, are never
//! reached under preload (ours win), and libssl does not call them itself.

use crate::sys::loaded::{Lib, HINT, LAST_SSL};
use std::sync::atomic::Ordering;

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

/// The libssl whose code `ra`, a return address, lies in; None for anyone else.
#[inline(always)]
pub fn libssl_at(ra: usize) -> Option<&'static Lib> {
    if in_packed(HINT.load(Ordering::Relaxed), ra) {
        return None;
    }
    let last = LAST_SSL.load(Ordering::Acquire);
    // SAFETY: a Lib of a leaked snapshot (never freed).
    if !last.is_null() && unsafe { &*last }.contains(ra) {
        // SAFETY: as above.
        return Some(unsafe { &*last });
    }
    slow(ra)
}

/// Whether `ra` lies in some libssl's code.
#[cfg(test)]
#[inline(always)]
pub fn is_libssl(ra: usize) -> bool {
    libssl_at(ra).is_some()
}

#[cold]
#[inline(never)]
fn slow(ra: usize) -> Option<&'static Lib> {
    let mut snap = crate::sys::loaded::current();
    loop {
        if let Some(l) = snap.libssl.iter().find(|l| l.contains(ra)) {
            if snap.generation == crate::sys::loaded::generation() {
                LAST_SSL.store(l as *const Lib as *mut Lib, Ordering::Release);
            }
            return Some(l);
        }
        if let Some(&r) = snap
            .others
            .iter()
            .find(|&&(s, e)| ra.wrapping_sub(s) < e - s)
        {
            if snap.generation == crate::sys::loaded::generation() {
                HINT.store(pack(r), Ordering::Relaxed);
            }
            return None;
        }
        // In no object we know of: read the objects again if the set changed, else it
        // is code outside any object (JIT, trampolines): not libssl's.
        let next = crate::sys::loaded::refresh();
        if std::ptr::eq(next, snap) {
            return None;
        }
        snap = next;
    }
}

/// A constructor called from libssl `lib` whose own definition `name` cannot be found:
/// handing libssl one of ours would corrupt it, so this is fatal in every misuse mode.
#[cold]
pub fn fatal_no_definition(func: &str, lib: &Lib) -> ! {
    crate::misuse::fatal(
        func,
        &format!(
            "called from libssl ({}), whose own definition cannot be found; \
             refusing to give libssl a session of ssl-session's",
            lib.path.to_string_lossy()
        ),
    )
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

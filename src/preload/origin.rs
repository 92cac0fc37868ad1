//! Who made a call: libssl (its own code, or libcrypto's stack and hash helpers calling
//! back while the application is inside an interposed libssl entry point such as
//! `SSL_CTX_flush_sessions`, whose `sk_SSL_SESSION_pop_free(sk, SSL_SESSION_free)` frees
//! from libcrypto), or the application. And the thread's libssl entry point, for the
//! report's `SSL_free → SSL_SESSION_free` form.

use super::history::By;
use std::cell::Cell;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Once;

thread_local! {
    /// The outermost interposed libssl entry point this thread is in, and how deep.
    static ENTRY: Cell<(&'static str, u32)> = const { Cell::new(("", 0)) };
    static TID: Cell<u32> = const { Cell::new(0) };
}

/// The thread's kernel id, cached.
#[inline]
pub fn thread() -> u32 {
    TID.with(|t| {
        let mut v = t.get();
        if v == 0 {
            // SAFETY: gettid takes no arguments and cannot fail.
            v = unsafe { libc::syscall(libc::SYS_gettid) } as u32;
            t.set(v);
        }
        v
    })
}

/// Run `f` as inside libssl's `name` (the application called it).
#[inline]
pub fn within<R>(name: &'static str, f: impl FnOnce() -> R) -> R {
    let before = ENTRY.with(|e| {
        let b = e.get();
        e.set(if b.1 == 0 { (name, 1) } else { (b.0, b.1 + 1) });
        b
    });
    let r = f();
    ENTRY.with(|e| e.set(before));
    r
}

/// The thread's outermost libssl entry point, or "".
#[inline]
pub fn entry() -> &'static str {
    ENTRY.with(|e| e.get().0)
}

static CRYPTO_START: AtomicUsize = AtomicUsize::new(0);
static CRYPTO_LEN: AtomicUsize = AtomicUsize::new(0);

/// libcrypto's executable range, found once from the object holding `CRYPTO_free`.
fn in_libcrypto(ra: usize) -> bool {
    static FIND: Once = Once::new();
    FIND.call_once(|| {
        let Some(f) = crate::next_fn!(CRYPTO_free, unsafe extern "C" fn(*mut libc::c_void)) else {
            return;
        };
        if let Some((s, e)) = text_range_of(f as usize) {
            CRYPTO_START.store(s, Ordering::Relaxed);
            CRYPTO_LEN.store(e - s, Ordering::Relaxed);
        }
    });
    ra.wrapping_sub(CRYPTO_START.load(Ordering::Relaxed)) < CRYPTO_LEN.load(Ordering::Relaxed)
}

/// The executable range `[start, end)` of the object holding `addr`.
fn text_range_of(addr: usize) -> Option<(usize, usize)> {
    struct Acc {
        addr: usize,
        found: Option<(usize, usize)>,
    }
    unsafe extern "C" fn each(
        info: *mut libc::dl_phdr_info,
        _size: libc::size_t,
        data: *mut libc::c_void,
    ) -> libc::c_int {
        // SAFETY: dl_iterate_phdr passes a valid info; data is our Acc.
        let (info, acc) = unsafe { (&*info, &mut *(data as *mut Acc)) };
        let base = info.dlpi_addr as usize;
        let (mut lo, mut hi) = (usize::MAX, 0);
        for i in 0..info.dlpi_phnum as usize {
            // SAFETY: dlpi_phdr has dlpi_phnum entries.
            let ph = unsafe { &*info.dlpi_phdr.add(i) };
            if ph.p_type == libc::PT_LOAD && ph.p_flags & libc::PF_X != 0 {
                let s = base.wrapping_add(ph.p_vaddr as usize);
                lo = lo.min(s);
                hi = hi.max(s + ph.p_memsz as usize);
            }
        }
        if lo < hi && acc.addr.wrapping_sub(lo) < hi - lo {
            acc.found = Some((lo, hi));
            return 1;
        }
        0
    }
    let mut acc = Acc { addr, found: None };
    // SAFETY: the callback reads the infos it is given and writes only into acc.
    unsafe { libc::dl_iterate_phdr(Some(each), (&mut acc as *mut Acc).cast()) };
    acc.found
}

/// Who called, from the return address `ra` (0: ssl-session itself, on libssl's behalf).
#[inline]
pub fn of(ra: usize) -> By {
    if ra == 0 || crate::caller::is_libssl(ra) {
        return By::Libssl;
    }
    if ENTRY.with(|e| e.get().1) > 0 && in_libcrypto(ra) {
        return By::Libssl;
    }
    By::App
}

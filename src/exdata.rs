//! Session ex_data (libcrypto's class 2), with callbacks dispatched by us when we can.
//!
//! Applications register session ex_data indexes with the `SSL_SESSION_get_ex_new_index`
//! macro, which calls `CRYPTO_get_ex_new_index(2, ...)`. libcrypto then runs the "new",
//! "dup" and "free" callbacks from `CRYPTO_new/dup/free_ex_data`, each of which takes a
//! process-wide lock: ~100 ns per session created or freed, more than everything else we do.
//!
//! So we keep our own copy of class 2's registry (`Registry`) and dispatch the callbacks
//! ourselves, exactly as libcrypto 3.0 would (same calls, arguments and order; the values
//! still live in a real `CRYPTO_EX_DATA`, so callbacks may use `CRYPTO_get/set_ex_data` on
//! it). The copy is exact when both hold:
//! 1. when we first look, class 2 has never had an index (`probe_registered` asks libcrypto
//!    without side effects), and
//! 2. every registration and unregistration of the process goes through our definitions of
//!    `CRYPTO_get_ex_new_index` / `CRYPTO_free_ex_index` (which forward to libcrypto and
//!    update our copy): that is so when the process resolves both names to us, because we
//!    are linked or preloaded ahead of libcrypto.
//!
//! Otherwise (or if libcrypto ever hands out an index we did not expect) we use libcrypto's
//! own `CRYPTO_*_ex_data` for everything, which is always correct, only slower.

use crate::crypto::{
    self, CRYPTO_EX_dup, CRYPTO_EX_free, CRYPTO_EX_new, CRYPTO_EX_DATA, EX_INDEX_SSL_SESSION,
};
use libc::{c_int, c_long, c_void};
use parking_lot::Mutex;
use std::ptr::null_mut;
use std::sync::atomic::{AtomicPtr, AtomicU8, Ordering};

const UNKNOWN: u8 = 0;
const MIRROR: u8 = 1;
const LIBCRYPTO: u8 = 2;
static MODE: AtomicU8 = AtomicU8::new(UNKNOWN);

/// One registered index: libcrypto's `EX_CALLBACK`.
#[derive(Clone, Copy)]
pub struct Entry {
    argl: c_long,
    argp: *mut c_void,
    new: Option<CRYPTO_EX_new>,
    dup: Option<CRYPTO_EX_dup>,
    free: Option<CRYPTO_EX_free>,
}

/// Class 2's callbacks by index. Entry 0 is the slot libcrypto reserves for app data
/// (no callbacks). Immutable once published; a registration publishes a new one.
struct Registry(Vec<Option<Entry>>);

// SAFETY: argp is an opaque value handed back to the application's callbacks, as libcrypto
// does from any thread.
unsafe impl Send for Registry {}
unsafe impl Sync for Registry {}

/// The current registry; NULL while class 2 has no index.
static CURRENT: AtomicPtr<Registry> = AtomicPtr::new(null_mut());
/// Every registry ever published, so readers never see a freed one.
static ALL: Mutex<Vec<Box<Registry>>> = Mutex::new(Vec::new());

#[inline]
fn mode() -> u8 {
    match MODE.load(Ordering::Acquire) {
        UNKNOWN => decide(),
        m => m,
    }
}

#[cold]
fn decide() -> u8 {
    let bound = |name: &std::ffi::CStr, ours: *const c_void| {
        // SAFETY: a plain symbol lookup with a NUL-terminated name.
        std::ptr::eq(
            unsafe { libc::dlsym(libc::RTLD_DEFAULT, name.as_ptr()) },
            ours,
        )
    };
    let mirror = bound(
        c"CRYPTO_get_ex_new_index",
        crate::api::ex_data::CRYPTO_get_ex_new_index as *const c_void,
    ) && bound(
        c"CRYPTO_free_ex_index",
        crate::api::ex_data::CRYPTO_free_ex_index as *const c_void,
    ) && !probe_registered();
    let m = if mirror { MIRROR } else { LIBCRYPTO };
    // Whoever decides first wins; the decision is the same unless libcrypto changed under us.
    match MODE.compare_exchange(UNKNOWN, m, Ordering::AcqRel, Ordering::Acquire) {
        Ok(_) => m,
        Err(current) => current,
    }
}

/// Has class 2 ever had an index? libcrypto creates the class's callback list (with a
/// callback-less entry 0) at the first registration. `CRYPTO_dup_ex_data` from a one-slot
/// source copies slot 0 only when that list exists, and calls no callback for entry 0,
/// so the probe has no side effect.
pub fn probe_registered() -> bool {
    let mut from = CRYPTO_EX_DATA {
        ctx: null_mut(),
        sk: null_mut(),
    };
    let mut to = CRYPTO_EX_DATA {
        ctx: null_mut(),
        sk: null_mut(),
    };
    // SAFETY: both blocks are ours and zero-initialised as libcrypto expects; we free the
    // stacks directly so that no free callback runs on these non-objects.
    unsafe {
        // Without a list libcrypto queues an error; it is not the application's.
        crypto::ERR_set_mark();
        crypto::CRYPTO_set_ex_data(&mut from, 0, null_mut());
        crypto::CRYPTO_dup_ex_data(EX_INDEX_SSL_SESSION, &mut to, &from);
        let registered = !to.sk.is_null();
        crypto::OPENSSL_sk_free(from.sk);
        crypto::OPENSSL_sk_free(to.sk);
        crypto::ERR_pop_to_mark();
        registered
    }
}

fn publish(update: impl FnOnce(&mut Vec<Option<Entry>>) -> bool) {
    let mut all = ALL.lock();
    // SAFETY: CURRENT is NULL or points into ALL, which never drops a registry.
    let mut entries =
        unsafe { CURRENT.load(Ordering::Acquire).as_ref() }.map_or_else(Vec::new, |r| r.0.clone());
    if !update(&mut entries) {
        // libcrypto disagrees with our copy: stop mirroring, for good.
        MODE.store(LIBCRYPTO, Ordering::SeqCst);
        return;
    }
    let r = Box::new(Registry(entries));
    CURRENT.store(&*r as *const Registry as *mut Registry, Ordering::Release);
    all.push(r);
}

/// Our `CRYPTO_get_ex_new_index` after libcrypto returned `idx` for a registration.
pub fn registered(
    class_index: c_int,
    idx: c_int,
    argl: c_long,
    argp: *mut c_void,
    new: Option<CRYPTO_EX_new>,
    dup: Option<CRYPTO_EX_dup>,
    free: Option<CRYPTO_EX_free>,
) {
    if class_index != EX_INDEX_SSL_SESSION || idx < 0 || mode() != MIRROR {
        return;
    }
    publish(|e| {
        if e.is_empty() {
            e.push(None);
        }
        e.push(Some(Entry {
            argl,
            argp,
            new,
            dup,
            free,
        }));
        e.len() - 1 == idx as usize
    });
}

/// Our `CRYPTO_free_ex_index` after libcrypto unregistered `idx` (its callbacks become
/// no-ops, the index stays taken).
pub fn unregistered(class_index: c_int, idx: c_int) {
    if class_index != EX_INDEX_SSL_SESSION || mode() != MIRROR {
        return;
    }
    publish(|e| match e.get_mut(idx as usize) {
        Some(Some(entry)) => {
            entry.new = None;
            entry.dup = None;
            entry.free = None;
            true
        }
        _ => false,
    });
}

/// Called before a class-2 registration is forwarded, so that the decision to mirror is
/// taken while the registry is still empty.
pub fn before_registration(class_index: c_int) {
    if class_index == EX_INDEX_SSL_SESSION {
        mode();
    }
}

fn registry() -> Option<&'static Registry> {
    // SAFETY: CURRENT is NULL or points into ALL, which never drops a registry.
    unsafe { CURRENT.load(Ordering::Acquire).as_ref() }
}

/// "new" callbacks for a new session (SSL_SESSION_new, dup, d2i), as
/// `CRYPTO_new_ex_data`.
///
/// # Safety
/// `ad` is the new session's zeroed ex_data block; `obj` the session's C pointer.
pub unsafe fn on_new(obj: *mut crate::SSL_SESSION, ad: *mut CRYPTO_EX_DATA) {
    if mode() == LIBCRYPTO {
        crypto::CRYPTO_new_ex_data(EX_INDEX_SSL_SESSION, obj.cast(), ad);
        return;
    }
    let Some(reg) = registry() else { return };
    for (i, e) in reg.0.iter().enumerate() {
        if let Some(Entry {
            new: Some(f),
            argl,
            argp,
            ..
        }) = *e
        {
            let ptr = crypto::CRYPTO_get_ex_data(ad, i as c_int);
            f(obj.cast(), ptr, ad, i as c_int, argl, argp);
        }
    }
}

/// "dup" callbacks and slot copies from `from` into a fresh `to`, as
/// `CRYPTO_dup_ex_data`. False (with libcrypto's error queued) when it fails.
///
/// # Safety
/// Both blocks belong to live sessions; `to`'s session is not yet shared.
pub unsafe fn on_dup(to: *mut CRYPTO_EX_DATA, from: *const CRYPTO_EX_DATA) -> bool {
    if mode() == LIBCRYPTO {
        return crypto::CRYPTO_dup_ex_data(EX_INDEX_SSL_SESSION, to, from) == 1;
    }
    (*to).ctx = (*from).ctx;
    if (*from).sk.is_null() {
        return true;
    }
    let reg = registry();
    // libcrypto counts a class without a list as -1 entries, and then fails.
    let registered = reg.map_or(-1, |r| r.0.len() as c_int);
    let mx = registered.min(crypto::OPENSSL_sk_num((*from).sk));
    if mx == 0 {
        return true;
    }
    let Some(reg) = reg.filter(|_| mx > 0) else {
        crypto::raise(
            crypto::ERR_LIB_CRYPTO,
            crypto::ERR_R_MALLOC_FAILURE,
            c"CRYPTO_dup_ex_data",
        );
        return false;
    };
    if crypto::CRYPTO_set_ex_data(to, mx - 1, crypto::CRYPTO_get_ex_data(to, mx - 1)) == 0 {
        return false;
    }
    for (i, e) in reg.0.iter().take(mx as usize).enumerate() {
        let i = i as c_int;
        let mut ptr = crypto::CRYPTO_get_ex_data(from, i);
        if let Some(Entry {
            dup: Some(f),
            argl,
            argp,
            ..
        }) = *e
        {
            if f(to, from, &mut ptr, i, argl, argp) == 0 {
                return false;
            }
        }
        crypto::CRYPTO_set_ex_data(to, i, ptr);
    }
    true
}

/// "free" callbacks, then the slot stack, at the last free, as `CRYPTO_free_ex_data`:
/// every registered index with a free callback, set or not, in index order.
///
/// # Safety
/// `ad` is the dying session's ex_data block, used by nobody else.
pub unsafe fn on_free(obj: *mut crate::SSL_SESSION, ad: *mut CRYPTO_EX_DATA) {
    // The common case: no index registered and no value ever set.
    if CURRENT.load(Ordering::Relaxed).is_null()
        && (*ad).sk.is_null()
        && MODE.load(Ordering::Relaxed) == MIRROR
    {
        return;
    }
    if mode() == LIBCRYPTO {
        crypto::CRYPTO_free_ex_data(EX_INDEX_SSL_SESSION, obj.cast(), ad);
        return;
    }
    if let Some(reg) = registry() {
        for (i, e) in reg.0.iter().enumerate() {
            if let Some(Entry {
                free: Some(f),
                argl,
                argp,
                ..
            }) = *e
            {
                let ptr = crypto::CRYPTO_get_ex_data(ad, i as c_int);
                f(obj.cast(), ptr, ad, i as c_int, argl, argp);
            }
        }
    }
    if !(*ad).sk.is_null() {
        crypto::OPENSSL_sk_free((*ad).sk);
    }
    (*ad).sk = null_mut();
    (*ad).ctx = null_mut();
}

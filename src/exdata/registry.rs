//! Our copy of class 2's registry (the indexes and their callbacks), kept in step with
//! libcrypto's by our `CRYPTO_get_ex_new_index` / `CRYPTO_free_ex_index`, and the choice
//! of mode: our own dispatch (`MIRROR`) or libcrypto's (`LIBCRYPTO`).

use crate::next_fn;
use crate::sys::libcrypto::{
    self, CRYPTO_EX_dup, CRYPTO_EX_free, CRYPTO_EX_new, CRYPTO_EX_DATA, EX_INDEX_SSL_SESSION,
};
use libc::{c_int, c_long, c_void};
use parking_lot::Mutex;
use std::ptr::null_mut;
use std::sync::atomic::{AtomicPtr, AtomicU8, Ordering};

const UNKNOWN: u8 = 0;
pub(super) const MIRROR: u8 = 1;
pub(super) const LIBCRYPTO: u8 = 2;
pub(super) static MODE: AtomicU8 = AtomicU8::new(UNKNOWN);

/// One registered index: libcrypto's `EX_CALLBACK`.
#[derive(Clone, Copy)]
pub struct Entry {
    pub(super) argl: c_long,
    pub(super) argp: *mut c_void,
    pub(super) new: Option<CRYPTO_EX_new>,
    pub(super) dup: Option<CRYPTO_EX_dup>,
    pub(super) free: Option<CRYPTO_EX_free>,
}

/// Class 2's callbacks by index. Entry 0 is the slot libcrypto reserves for app data
/// (no callbacks). Immutable once published; a registration publishes a new one.
pub(super) struct Registry(pub(super) Vec<Option<Entry>>);

// SAFETY: argp is an opaque value handed back to the application's callbacks, as libcrypto
// does from any thread.
unsafe impl Send for Registry {}
unsafe impl Sync for Registry {}

/// The current registry; NULL while class 2 has no index.
pub(super) static CURRENT: AtomicPtr<Registry> = AtomicPtr::new(null_mut());
/// Every registry ever published, so readers never see a freed one (boxed: readers hold
/// pointers to them while the list grows).
#[allow(clippy::vec_box)]
static ALL: Mutex<Vec<Box<Registry>>> = Mutex::new(Vec::new());

#[inline]
pub(super) fn mode() -> u8 {
    match MODE.load(Ordering::Acquire) {
        UNKNOWN => decide(),
        m => m,
    }
}

#[cold]
fn decide() -> u8 {
    // The process resolves these names to our definitions (we are linked or preloaded
    // ahead of libcrypto).
    let bound = |name: &std::ffi::CStr| {
        // SAFETY: a plain symbol lookup with a NUL-terminated name.
        let p = unsafe { libc::dlsym(libc::RTLD_DEFAULT, name.as_ptr()) } as usize;
        p != 0 && crate::sys::loaded::is_ours(p)
    };
    let mirror =
        bound(c"CRYPTO_get_ex_new_index") && bound(c"CRYPTO_free_ex_index") && !probe_registered();
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
        libcrypto::ERR_set_mark();
        libcrypto_set(&mut from, 0, null_mut());
        libcrypto::CRYPTO_dup_ex_data(EX_INDEX_SSL_SESSION, &mut to, &from);
        let registered = !to.sk.is_null();
        libcrypto::OPENSSL_sk_free(from.sk);
        libcrypto::OPENSSL_sk_free(to.sk);
        libcrypto::ERR_pop_to_mark();
        registered
    }
}

fn publish(update: impl FnOnce(&mut Vec<Option<Entry>>)) {
    let mut all = ALL.lock();
    // SAFETY: CURRENT is NULL or points into ALL, which never drops a registry.
    let mut entries =
        unsafe { CURRENT.load(Ordering::Acquire).as_ref() }.map_or_else(Vec::new, |r| r.0.clone());
    update(&mut entries);
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
        // Entry 0 is reserved. Indexes we never saw (registered behind our back, which
        // condition 2 rules out) would get no callbacks, but keep their numbers.
        e.resize(idx as usize, None);
        e.push(Some(Entry {
            argl,
            argp,
            new,
            dup,
            free,
        }));
    });
}

/// Our `CRYPTO_free_ex_index` after libcrypto unregistered `idx` (its callbacks become
/// no-ops, the index stays taken).
pub fn unregistered(class_index: c_int, idx: c_int) {
    if class_index != EX_INDEX_SSL_SESSION || mode() != MIRROR {
        return;
    }
    publish(|e| {
        if let Some(Some(entry)) = e.get_mut(idx as usize) {
            entry.new = None;
            entry.dup = None;
            entry.free = None;
        }
    });
}

/// Called before a class-2 registration is forwarded, so that the decision to mirror is
/// taken while the registry is still empty.
pub fn before_registration(class_index: c_int) {
    if class_index == EX_INDEX_SSL_SESSION {
        mode();
    }
}

pub(super) fn registry() -> Option<&'static Registry> {
    // SAFETY: CURRENT is NULL or points into ALL, which never drops a registry.
    unsafe { CURRENT.load(Ordering::Acquire).as_ref() }
}

/// libcrypto's own `CRYPTO_get_ex_new_index` (ours forwards to it): -1 without libcrypto.
pub fn libcrypto_new_index(
    class_index: c_int,
    argl: c_long,
    argp: *mut c_void,
    new: Option<CRYPTO_EX_new>,
    dup: Option<CRYPTO_EX_dup>,
    free: Option<CRYPTO_EX_free>,
) -> c_int {
    type F = unsafe extern "C" fn(
        c_int,
        c_long,
        *mut c_void,
        Option<CRYPTO_EX_new>,
        Option<CRYPTO_EX_dup>,
        Option<CRYPTO_EX_free>,
    ) -> c_int;
    match next_fn!(CRYPTO_get_ex_new_index, F) {
        // SAFETY: libcrypto's registration, arguments unchanged.
        Some(f) => unsafe { f(class_index, argl, argp, new, dup, free) },
        None => -1,
    }
}

/// libcrypto's own `CRYPTO_set_ex_data` (ours only serves session blocks).
///
/// # Safety
/// `ad` is a valid `CRYPTO_EX_DATA`.
pub unsafe fn libcrypto_set(ad: *mut CRYPTO_EX_DATA, idx: c_int, val: *mut c_void) -> c_int {
    match next_fn!(
        CRYPTO_set_ex_data,
        unsafe extern "C" fn(*mut CRYPTO_EX_DATA, c_int, *mut c_void) -> c_int
    ) {
        Some(f) => f(ad, idx, val),
        None => 0,
    }
}

/// libcrypto's own `CRYPTO_get_ex_data`.
///
/// # Safety
/// `ad` is a valid `CRYPTO_EX_DATA`.
pub unsafe fn libcrypto_get(ad: *const CRYPTO_EX_DATA, idx: c_int) -> *mut c_void {
    match next_fn!(
        CRYPTO_get_ex_data,
        unsafe extern "C" fn(*const CRYPTO_EX_DATA, c_int) -> *mut c_void
    ) {
        Some(f) => f(ad, idx),
        None => null_mut(),
    }
}

/// Whether sessions keep their values in `Slots` (decided before the first session).
#[inline]
pub fn own_slots() -> bool {
    mode() == MIRROR
}

//! Session ex_data (libcrypto's class 2), with callbacks dispatched by us when we can.
//!
//! Applications register session ex_data indexes with the `SSL_SESSION_get_ex_new_index`
//! macro, which calls `CRYPTO_get_ex_new_index(2, ...)`. libcrypto then runs the "new",
//! "dup" and "free" callbacks from `CRYPTO_new/dup/free_ex_data`, each of which takes a
//! process-wide lock: ~100 ns per session created or freed, more than everything else we do.
//!
//! So we keep our own copy of class 2's registry (`Registry`) and dispatch the callbacks
//! ourselves, exactly as libcrypto 3.0 would (same calls, arguments and order), and we
//! keep a session's values in the session (`Slots`) rather than in a libcrypto stack
//! (two mallocs per session). Callbacks get a real `CRYPTO_EX_DATA *` (the session's
//! `ex` field) and may call `CRYPTO_get/set_ex_data` on it: we define those two as well,
//! serve our sessions' blocks from `Slots`, and pass every other block to libcrypto.
//! The copy is exact when both hold:
//! 1. when we first look, class 2 has never had an index (`probe_registered` asks libcrypto
//!    without side effects), and
//! 2. every registration and unregistration of the process goes through our definitions of
//!    `CRYPTO_get_ex_new_index` / `CRYPTO_free_ex_index` (which forward to libcrypto and
//!    update our copy), and every `CRYPTO_get/set_ex_data` call reaches ours: that is so
//!    when the process resolves those names to us, because we are linked or preloaded
//!    ahead of libcrypto.
//!
//! Otherwise we use libcrypto's own `CRYPTO_*_ex_data` for everything, which is always
//! correct, only slower. The choice is made once, before the first session exists.

use crate::next_fn;
use crate::sys::libcrypto::{
    self, CRYPTO_EX_dup, CRYPTO_EX_free, CRYPTO_EX_new, CRYPTO_EX_DATA, EX_INDEX_SSL_SESSION,
};
use libc::{c_int, c_long, c_void};
use parking_lot::Mutex;
use std::cell::Cell;
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
/// Every registry ever published, so readers never see a freed one (boxed: readers hold
/// pointers to them while the list grows).
#[allow(clippy::vec_box)]
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

fn registry() -> Option<&'static Registry> {
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

/// A session's ex_data values, exactly as libcrypto's `STACK_OF(void)` in a
/// `CRYPTO_EX_DATA` would hold them: absent until the first set, then a list that grows
/// (with NULLs) to cover the highest index set, and never shrinks.
///
/// Changed through `&self`: the application's ex_data callbacks, which we run while
/// dispatching over these values, may set values of the same session again
/// (`CRYPTO_set_ex_data` on the block they are given), so no `&mut` can be held across
/// a callback. The values are opaque to us: C's pointers, stored and handed back.
pub struct Slots {
    exists: Cell<bool>,
    len: Cell<usize>,
    first: [Cell<*mut c_void>; 4],
    /// Taken out and put back around each access (a `Cell` has no borrow flag: the
    /// slot has no room for one).
    rest: Cell<Vec<*mut c_void>>,
}

impl Slots {
    pub const fn new() -> Self {
        Slots {
            exists: Cell::new(false),
            len: Cell::new(0),
            first: [const { Cell::new(null_mut()) }; 4],
            rest: Cell::new(Vec::new()),
        }
    }

    /// `sk_void_num`: -1 when there is no list.
    fn num(&self) -> c_int {
        if self.exists.get() {
            self.len.get() as c_int
        } else {
            -1
        }
    }

    /// `CRYPTO_get_ex_data`.
    pub fn get(&self, idx: c_int) -> *mut c_void {
        if idx < 0 || idx as usize >= self.len.get() {
            return null_mut();
        }
        let i = idx as usize;
        match self.first.get(i) {
            Some(v) => v.get(),
            None => {
                let rest = self.rest.take();
                let v = rest[i - self.first.len()];
                self.rest.set(rest);
                v
            }
        }
    }

    /// `CRYPTO_set_ex_data`; false only for a negative index with a non-NULL value.
    pub fn set(&self, idx: c_int, val: *mut c_void) -> bool {
        self.exists.set(true);
        if idx < 0 {
            return val.is_null();
        }
        let i = idx as usize;
        if i >= self.len.get() {
            self.len.set(i + 1);
        }
        match self.first.get(i) {
            Some(v) => v.set(val),
            None => {
                let mut rest = self.rest.take();
                let at = i - self.first.len();
                if rest.len() <= at {
                    rest.resize(at + 1, null_mut());
                }
                rest[at] = val;
                self.rest.set(rest);
            }
        }
        true
    }

    /// Back to "no list", for the slot's next session.
    fn clear(&self) {
        if self.exists.get() {
            self.exists.set(false);
            self.len.set(0);
            for v in &self.first {
                v.set(null_mut());
            }
            drop(self.rest.take());
        }
    }
}

impl Default for Slots {
    fn default() -> Self {
        Self::new()
    }
}

/// Whether sessions keep their values in `Slots` (decided before the first session).
#[inline]
pub fn own_slots() -> bool {
    mode() == MIRROR
}

/// `CRYPTO_set_ex_data` on a session: on its values (`slots`) when we keep them, else on
/// its libcrypto block `ad`.
pub fn set_value(ad: *mut CRYPTO_EX_DATA, slots: &Slots, idx: c_int, val: *mut c_void) -> c_int {
    if !own_slots() {
        // SAFETY: a live session's own block.
        return unsafe { libcrypto_set(ad, idx, val) };
    }
    if slots.set(idx, val) && idx >= 0 {
        return 1;
    }
    // A negative index: libcrypto queues errors (even when it then returns 1, for NULL).
    // Let it handle the same call on a scratch block, so the queue and the answer are
    // exactly its own.
    let mut scratch = CRYPTO_EX_DATA {
        ctx: null_mut(),
        sk: null_mut(),
    };
    // SAFETY: a zeroed block of our own; its stack (if any) is freed right after.
    unsafe {
        let r = libcrypto_set(&mut scratch, idx, val);
        libcrypto::OPENSSL_sk_free(scratch.sk);
        r
    }
}

/// `CRYPTO_get_ex_data` on a session, as `set_value`.
pub fn get_value(ad: *const CRYPTO_EX_DATA, slots: &Slots, idx: c_int) -> *mut c_void {
    if !own_slots() {
        // SAFETY: a live session's own block.
        return unsafe { libcrypto_get(ad, idx) };
    }
    slots.get(idx)
}

/// "new" callbacks for a new session (SSL_SESSION_new, dup, d2i), as
/// `CRYPTO_new_ex_data`.
///
/// `obj` and `ad` are the new session's C pointers, handed to the callbacks.
#[inline(always)]
pub fn on_new(obj: *mut crate::sys::SSL_SESSION, ad: *mut CRYPTO_EX_DATA, slots: &Slots) {
    // The common case, checked inline: mirroring, and no index registered.
    if !(CURRENT.load(Ordering::Relaxed).is_null() && MODE.load(Ordering::Relaxed) == MIRROR) {
        new_callbacks(obj, ad, slots);
    }
}

#[cold]
#[inline(never)]
fn new_callbacks(obj: *mut crate::sys::SSL_SESSION, ad: *mut CRYPTO_EX_DATA, slots: &Slots) {
    if mode() == LIBCRYPTO {
        // SAFETY: the new session's own block, as libssl's SSL_SESSION_new passes it.
        unsafe { libcrypto::CRYPTO_new_ex_data(EX_INDEX_SSL_SESSION, obj.cast(), ad) };
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
            let ptr = slots.get(i as c_int);
            // SAFETY: a callback the application registered, called as libcrypto calls it.
            unsafe { f(obj.cast(), ptr, ad, i as c_int, argl, argp) };
        }
    }
}

/// "dup" callbacks and value copies into a fresh session, as `CRYPTO_dup_ex_data`.
/// False (with libcrypto's error queued) when it fails.
///
/// `to` and `from` are the two sessions' blocks, handed to the callbacks. The caller
/// keeps other threads from changing `from`'s values meanwhile (it holds its lock).
pub fn on_dup(
    to: *mut CRYPTO_EX_DATA,
    to_slots: &Slots,
    from: *const CRYPTO_EX_DATA,
    from_slots: &Slots,
) -> bool {
    if mode() == LIBCRYPTO {
        // SAFETY: two live sessions' own blocks, as libssl's ssl_session_dup passes them.
        return unsafe { libcrypto::CRYPTO_dup_ex_data(EX_INDEX_SSL_SESSION, to, from) } == 1;
    }
    if !from_slots.exists.get() {
        return true;
    }
    let reg = registry();
    // libcrypto counts a class without a list as -1 entries, and then fails.
    let registered = reg.map_or(-1, |r| r.0.len() as c_int);
    let mx = registered.min(from_slots.num());
    if mx == 0 {
        return true;
    }
    let Some(reg) = reg.filter(|_| mx > 0) else {
        libcrypto::raise(
            crate::sys::err::ERR_LIB_CRYPTO,
            crate::sys::err::ERR_R_MALLOC_FAILURE,
            c"CRYPTO_dup_ex_data",
        );
        return false;
    };
    let v = to_slots.get(mx - 1);
    to_slots.set(mx - 1, v);
    for (i, e) in reg.0.iter().take(mx as usize).enumerate() {
        let i = i as c_int;
        let mut ptr = from_slots.get(i);
        if let Some(Entry {
            dup: Some(f),
            argl,
            argp,
            ..
        }) = *e
        {
            // SAFETY: a callback the application registered, called as libcrypto calls it.
            if unsafe { f(to, from, &mut ptr, i, argl, argp) } == 0 {
                return false;
            }
        }
        to_slots.set(i, ptr);
    }
    true
}

/// "free" callbacks, then the values, at the last free, as `CRYPTO_free_ex_data`: every
/// registered index with a free callback, set or not, in index order.
///
/// The session is dying: nobody else uses it.
#[inline(always)]
pub fn on_free(obj: *mut crate::sys::SSL_SESSION, ad: *mut CRYPTO_EX_DATA, slots: &Slots) {
    // The common case, checked inline: mirroring, no index registered, no value set.
    if !(CURRENT.load(Ordering::Relaxed).is_null()
        && !slots.exists.get()
        && MODE.load(Ordering::Relaxed) == MIRROR)
    {
        free_callbacks(obj, ad, slots);
    }
}

#[cold]
#[inline(never)]
fn free_callbacks(obj: *mut crate::sys::SSL_SESSION, ad: *mut CRYPTO_EX_DATA, slots: &Slots) {
    if mode() == LIBCRYPTO {
        // SAFETY: the dying session's own block, as libssl's SSL_SESSION_free passes it.
        unsafe { libcrypto::CRYPTO_free_ex_data(EX_INDEX_SSL_SESSION, obj.cast(), ad) };
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
                let ptr = slots.get(i as c_int);
                // SAFETY: a callback the application registered, called as libcrypto does.
                unsafe { f(obj.cast(), ptr, ad, i as c_int, argl, argp) };
            }
        }
    }
    // Left as new for the slot's next session.
    slots.clear();
}

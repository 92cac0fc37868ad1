//! The callbacks run for a session's life (new, dup, free) and its values read and
//! written, exactly as libcrypto 3.0's `CRYPTO_*_ex_data` would do them.

use super::registry::{
    libcrypto_get, libcrypto_set, mode, own_slots, registry, Entry, CURRENT, LIBCRYPTO, MIRROR,
    MODE,
};
use super::slots::Slots;
use crate::sys::libcrypto::{self, CRYPTO_EX_DATA, EX_INDEX_SSL_SESSION};
use libc::{c_int, c_void};
use std::ptr::null_mut;
use std::sync::atomic::Ordering;

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

//! Session ex_data through libcrypto's `CRYPTO_EX_DATA` (class 2), with a fast path.
//!
//! Applications register session ex_data indexes with the `SSL_SESSION_get_ex_new_index`
//! macro, which calls libcrypto's `CRYPTO_get_ex_new_index(2, ...)` directly, so the
//! callbacks can only be honoured by running ex_data through libcrypto. That costs a
//! global lock on every new and free (~110 ns). While no class-2 index exists, though,
//! `CRYPTO_new_ex_data` only zeroes the block and runs no callback, so we may skip it.
//!
//! We know no index exists when both hold:
//! 1. at the first session, libcrypto's class 2 has never had an index registered
//!    (`probe_registered`, which asks libcrypto without side effects), and
//! 2. every later registration passes through our own `CRYPTO_get_ex_new_index`, which
//!    flips us to the slow path before forwarding. That is so when the process resolves
//!    `CRYPTO_get_ex_new_index` to our definition (we are linked or preloaded ahead of
//!    libcrypto); otherwise we always take the slow path.

use crate::crypto::{self, CRYPTO_EX_DATA, EX_INDEX_SSL_SESSION};
use libc::c_void;
use std::sync::atomic::{AtomicU8, Ordering};

const UNKNOWN: u8 = 0;
const FAST: u8 = 1;
const SLOW: u8 = 2;
static MODE: AtomicU8 = AtomicU8::new(UNKNOWN);

/// Called by our `CRYPTO_get_ex_new_index` before it forwards a class-2 registration.
pub fn registering(class_index: libc::c_int) {
    if class_index == EX_INDEX_SSL_SESSION {
        MODE.store(SLOW, Ordering::SeqCst);
    }
}

/// Whether ex_data must go through libcrypto now.
#[inline]
pub fn active() -> bool {
    match MODE.load(Ordering::Acquire) {
        FAST => false,
        SLOW => true,
        _ => decide(),
    }
}

#[cold]
fn decide() -> bool {
    let ours = crate::api::ex_data::CRYPTO_get_ex_new_index as *const c_void;
    // SAFETY: a plain symbol lookup with a NUL-terminated name.
    let bound = unsafe { libc::dlsym(libc::RTLD_DEFAULT, c"CRYPTO_get_ex_new_index".as_ptr()) };
    let fast = std::ptr::eq(bound as *const c_void, ours) && !probe_registered();
    // A registration racing with this decision has already stored SLOW; keep it.
    let _ = MODE.compare_exchange(
        UNKNOWN,
        if fast { FAST } else { SLOW },
        Ordering::SeqCst,
        Ordering::SeqCst,
    );
    MODE.load(Ordering::SeqCst) == SLOW
}

/// Has class 2 ever had an index? libcrypto creates the class's callback stack (with a
/// reserved, callback-less entry 0) at the first registration. `CRYPTO_dup_ex_data` from a
/// one-slot source copies slot 0 only when that stack exists, and calls no callback for
/// entry 0, so the probe has no side effect.
pub fn probe_registered() -> bool {
    let mut from = CRYPTO_EX_DATA {
        ctx: std::ptr::null_mut(),
        sk: std::ptr::null_mut(),
    };
    let mut to = CRYPTO_EX_DATA {
        ctx: std::ptr::null_mut(),
        sk: std::ptr::null_mut(),
    };
    // SAFETY: both blocks are ours and zero-initialised as libcrypto expects; we free the
    // stacks directly so that no free callback runs on these non-objects.
    unsafe {
        crypto::CRYPTO_set_ex_data(&mut from, 0, std::ptr::null_mut());
        crypto::CRYPTO_dup_ex_data(EX_INDEX_SSL_SESSION, &mut to, &from);
        let registered = !to.sk.is_null();
        crypto::OPENSSL_sk_free(from.sk);
        crypto::OPENSSL_sk_free(to.sk);
        registered
    }
}

/// "new" callbacks for a new session (SSL_SESSION_new, dup, d2i).
///
/// # Safety
/// `ad` is the new session's zeroed ex_data block; `obj` the session's C pointer.
pub unsafe fn on_new(obj: *mut crate::SSL_SESSION, ad: *mut CRYPTO_EX_DATA) {
    if active() {
        crypto::CRYPTO_new_ex_data(EX_INDEX_SSL_SESSION, obj.cast(), ad);
    }
}

/// "free" callbacks and the slot stack, at the last free.
///
/// # Safety
/// `ad` is the dying session's ex_data block, used by nobody else.
pub unsafe fn on_free(obj: *mut crate::SSL_SESSION, ad: *mut CRYPTO_EX_DATA) {
    // Free callbacks fire for every registered index even with no value set, so any
    // registration means libcrypto must run; otherwise only a slot stack needs freeing.
    if active() || !(*ad).sk.is_null() {
        crypto::CRYPTO_free_ex_data(EX_INDEX_SSL_SESSION, obj.cast(), ad);
    }
}

/// "dup" callbacks and slot copies from `from` into a fresh `to`. False when a dup
/// callback refused.
///
/// # Safety
/// Both blocks belong to live sessions; `to`'s session is not yet shared.
pub unsafe fn on_dup(to: *mut CRYPTO_EX_DATA, from: *const CRYPTO_EX_DATA) -> bool {
    // libcrypto does nothing for a source that never had a slot set.
    if (*from).sk.is_null() {
        return true;
    }
    crypto::CRYPTO_dup_ex_data(EX_INDEX_SSL_SESSION, to, from) == 1
}

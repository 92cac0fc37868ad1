//! Application data attached to sessions (libcrypto ex_data, class 2).

use crate::capi::export::{guard, with_session};
use crate::handle::arena;
use crate::sys::libcrypto::{CRYPTO_EX_dup, CRYPTO_EX_free, CRYPTO_EX_new, CRYPTO_EX_DATA};
use crate::{exdata, forward, next_fn, sys::SSL_SESSION};
use libc::{c_int, c_long, c_void};

/// libcrypto's CRYPTO_get_ex_new_index(), passed through unchanged.
///
/// ssl-session defines it to keep its own copy of the session ex_data callbacks (class 2,
/// which the SSL_SESSION_get_ex_new_index() macro uses), so that sessions can run them
/// without libcrypto's global lock. Returns what libcrypto returns (-1 on error).
#[no_mangle]
pub extern "C" fn CRYPTO_get_ex_new_index(
    class_index: c_int,
    argl: c_long,
    argp: *mut c_void,
    new_func: Option<CRYPTO_EX_new>,
    dup_func: Option<CRYPTO_EX_dup>,
    free_func: Option<CRYPTO_EX_free>,
) -> c_int {
    guard("CRYPTO_get_ex_new_index", 0, -1, || {
        exdata::before_registration(class_index);
        let idx =
            exdata::libcrypto_new_index(class_index, argl, argp, new_func, dup_func, free_func);
        exdata::registered(class_index, idx, argl, argp, new_func, dup_func, free_func);
        idx
    })
}

/// libcrypto's CRYPTO_free_ex_index(), passed through unchanged: the index's callbacks
/// become no-ops (the index stays taken). Returns libcrypto's answer (1, or 0 for an
/// unknown index).
///
/// ssl-session defines it to keep its copy of the session ex_data callbacks current.
#[no_mangle]
pub extern "C" fn CRYPTO_free_ex_index(class_index: c_int, idx: c_int) -> c_int {
    guard("CRYPTO_free_ex_index", 0, 0, || {
        let r = match next_fn!(
            CRYPTO_free_ex_index,
            unsafe extern "C" fn(c_int, c_int) -> c_int
        ) {
            // SAFETY: forwarded unchanged to libcrypto's definition.
            Some(f) => unsafe { f(class_index, idx) },
            None => 0,
        };
        if r == 1 {
            exdata::unregistered(class_index, idx);
        }
        r
    })
}

/// Stores `data` in slot `idx` of the session's ex_data. Any `idx >= 0` works, whether or
/// not it was registered (libcrypto grows the slot list); returns 1, or 0 for a negative
/// `idx` with non-NULL data (libcrypto queues ERR_R_PASSED_INVALID_ARGUMENT), a NULL
/// session (OpenSSL crashes), or a misuse report in warn mode.
#[no_mangle]
pub extern "C" fn SSL_SESSION_set_ex_data(
    ss: *mut SSL_SESSION,
    idx: c_int,
    data: *mut c_void,
) -> c_int {
    with_session(
        "SSL_SESSION_set_ex_data",
        ss,
        0,
        forward!(SSL_SESSION_set_ex_data(ss, idx, data)
            as unsafe extern "C" fn(
                *mut SSL_SESSION,
                c_int,
                *mut c_void,
            ) -> c_int),
        |s| {
            let _g = s.data().write();
            let (ad, slots) = s.ex();
            // SAFETY: the live session's block and values, and we hold its lock.
            unsafe {
                if exdata::own_slots() {
                    exdata::set(&mut *slots, idx, data)
                } else {
                    exdata::libcrypto_set(ad, idx, data)
                }
            }
        },
    )
}

/// Returns the value in slot `idx` of the session's ex_data, or NULL if none (also for a
/// negative or never-set `idx`, a NULL session, or a misuse report in warn mode).
#[no_mangle]
pub extern "C" fn SSL_SESSION_get_ex_data(ss: *const SSL_SESSION, idx: c_int) -> *mut c_void {
    with_session(
        "SSL_SESSION_get_ex_data",
        ss,
        std::ptr::null_mut(),
        forward!(SSL_SESSION_get_ex_data(ss, idx)
            as unsafe extern "C" fn(*const SSL_SESSION, c_int) -> *mut c_void),
        |s| {
            // Recursive: ex_data callbacks may read while a dup holds the lock.
            let _g = s.data().read_recursive();
            let (ad, slots) = s.ex();
            // SAFETY: the live session's block and values, and we hold its lock.
            unsafe {
                if exdata::own_slots() {
                    (*slots).get(idx)
                } else {
                    exdata::libcrypto_get(ad, idx)
                }
            }
        },
    )
}

/// libcrypto's CRYPTO_set_ex_data(), for any object's ex_data.
///
/// ssl-session keeps its sessions' ex_data values itself (see
/// SSL_SESSION_get_ex_new_index); for the `CRYPTO_EX_DATA *` an ex_data callback receives
/// for a session, this stores into the session, exactly as libcrypto would. Any other
/// block goes to libcrypto unchanged. Returns 1, or 0 on error (a negative `idx` with
/// non-NULL `val`: ERR_R_PASSED_INVALID_ARGUMENT queued, as libcrypto does).
#[no_mangle]
pub extern "C" fn CRYPTO_set_ex_data(
    ad: *mut CRYPTO_EX_DATA,
    idx: c_int,
    val: *mut c_void,
) -> c_int {
    guard(
        "CRYPTO_set_ex_data",
        ad as usize,
        0,
        || match arena::of_ex_data(ad as usize) {
            // SAFETY: a live session's values; the caller owns the call, as with libcrypto.
            Some(s) if exdata::own_slots() => exdata::set(unsafe { &mut *s.ex().1 }, idx, val),
            // SAFETY: not one of ours: libcrypto's business.
            _ => unsafe { exdata::libcrypto_set(ad, idx, val) },
        },
    )
}

/// libcrypto's CRYPTO_get_ex_data(), for any object's ex_data; for a session's block (as
/// an ex_data callback receives it) the value ssl-session keeps. NULL if unset.
#[no_mangle]
pub extern "C" fn CRYPTO_get_ex_data(ad: *const CRYPTO_EX_DATA, idx: c_int) -> *mut c_void {
    guard(
        "CRYPTO_get_ex_data",
        ad as usize,
        std::ptr::null_mut(),
        || match arena::of_ex_data(ad as usize) {
            // SAFETY: a live session's values; the caller owns the call, as with libcrypto.
            Some(s) if exdata::own_slots() => unsafe { (*s.ex().1).get(idx) },
            // SAFETY: not one of ours: libcrypto's business.
            _ => unsafe { exdata::libcrypto_get(ad, idx) },
        },
    )
}

//! Application data attached to sessions (libcrypto ex_data, class 2).

use crate::crypto::{CRYPTO_EX_dup, CRYPTO_EX_free, CRYPTO_EX_new};
use crate::ffi::with_session;
use crate::{crypto, exdata, forward, next_fn, SSL_SESSION};
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
    exdata::before_registration(class_index);
    type F = unsafe extern "C" fn(
        c_int,
        c_long,
        *mut c_void,
        Option<CRYPTO_EX_new>,
        Option<CRYPTO_EX_dup>,
        Option<CRYPTO_EX_free>,
    ) -> c_int;
    let idx = match next_fn!(CRYPTO_get_ex_new_index, F) {
        // SAFETY: forwarded unchanged to libcrypto's definition.
        Some(f) => unsafe { f(class_index, argl, argp, new_func, dup_func, free_func) },
        None => -1,
    };
    exdata::registered(class_index, idx, argl, argp, new_func, dup_func, free_func);
    idx
}

/// libcrypto's CRYPTO_free_ex_index(), passed through unchanged: the index's callbacks
/// become no-ops (the index stays taken). Returns libcrypto's answer (1, or 0 for an
/// unknown index).
///
/// ssl-session defines it to keep its copy of the session ex_data callbacks current.
#[no_mangle]
pub extern "C" fn CRYPTO_free_ex_index(class_index: c_int, idx: c_int) -> c_int {
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
            let ad = s.ex();
            // SAFETY: `ad` is the live session's block, and we hold its lock.
            unsafe { crypto::CRYPTO_set_ex_data(ad, idx, data) }
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
            let ad = s.ex();
            // SAFETY: `ad` is the live session's block, and we hold its lock.
            unsafe { crypto::CRYPTO_get_ex_data(ad, idx) }
        },
    )
}

//! Application data attached to sessions (libcrypto ex_data, class 2).

use crate::crypto::{CRYPTO_EX_dup, CRYPTO_EX_free, CRYPTO_EX_new};
use crate::ffi::with_session;
use crate::{crypto, exdata, forward, next_fn, SSL_SESSION};
use libc::{c_int, c_long, c_void};

/// libcrypto's CRYPTO_get_ex_new_index(), passed through unchanged.
///
/// ssl-session defines it only to notice the first session ex_data index
/// (class 2, which the SSL_SESSION_get_ex_new_index() macro uses): until one exists,
/// sessions skip libcrypto's ex_data bookkeeping, which would run no callback anyway.
/// Returns what libcrypto returns (-1 on error, or if libcrypto is not loaded).
#[no_mangle]
pub extern "C" fn CRYPTO_get_ex_new_index(
    class_index: c_int,
    argl: c_long,
    argp: *mut c_void,
    new_func: Option<CRYPTO_EX_new>,
    dup_func: Option<CRYPTO_EX_dup>,
    free_func: Option<CRYPTO_EX_free>,
) -> c_int {
    exdata::registering(class_index);
    type F = unsafe extern "C" fn(
        c_int,
        c_long,
        *mut c_void,
        Option<CRYPTO_EX_new>,
        Option<CRYPTO_EX_dup>,
        Option<CRYPTO_EX_free>,
    ) -> c_int;
    match next_fn!(CRYPTO_get_ex_new_index, F) {
        // SAFETY: forwarded unchanged to libcrypto's definition.
        Some(f) => unsafe { f(class_index, argl, argp, new_func, dup_func, free_func) },
        None => -1,
    }
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
            let (ad, lock) = s.ex();
            let _g = lock.write();
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
            let (ad, lock) = s.ex();
            // Recursive: ex_data callbacks may read while a dup holds the lock.
            let _g = lock.read_recursive();
            // SAFETY: `ad` is the live session's block, and we hold its lock.
            unsafe { crypto::CRYPTO_get_ex_data(ad, idx) }
        },
    )
}

//! libcrypto's ex_data registry and slot functions. ssl-session defines them to keep its
//! own copy of the session ex_data callbacks (class 2), so that our sessions run them
//! without libcrypto's global lock (`exdata`), and to serve our sessions' values to the
//! callbacks that ask for them. Everything else goes to libcrypto unchanged.

use crate::capi::export::entry;
use crate::exdata;
use crate::handle::arena;
use crate::sys::libcrypto::{CRYPTO_EX_dup, CRYPTO_EX_free, CRYPTO_EX_new, CRYPTO_EX_DATA};
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
    entry!(guard CRYPTO_get_ex_new_index or -1, || {
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
    entry!(next CRYPTO_free_ex_index(class_index, idx), |next| {
        let r = next(class_index, idx);
        if r == 1 {
            exdata::unregistered(class_index, idx);
        }
        r
    })
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
    entry!(guard CRYPTO_set_ex_data at ad, || match arena::of_ex_data(ad as usize) {
            // SAFETY: a live session's values; the caller owns the call, as with libcrypto.
            Some(s) => s.set_ex_data(idx, val),
            // SAFETY: not one of ours: libcrypto's business.
            _ => unsafe { exdata::libcrypto_set(ad, idx, val) },
        },
    )
}

/// libcrypto's CRYPTO_get_ex_data(), for any object's ex_data; for a session's block (as
/// an ex_data callback receives it) the value ssl-session keeps. NULL if unset.
#[no_mangle]
pub extern "C" fn CRYPTO_get_ex_data(ad: *const CRYPTO_EX_DATA, idx: c_int) -> *mut c_void {
    entry!(guard CRYPTO_get_ex_data at ad, || match arena::of_ex_data(ad as usize) {
            // SAFETY: a live session's values; the caller owns the call, as with libcrypto.
            Some(s) => s.get_ex_data(idx),
            // SAFETY: not one of ours: libcrypto's business.
            _ => unsafe { exdata::libcrypto_get(ad, idx) },
        },
    )
}

//! Application data attached to sessions (libcrypto ex_data, class 2).

use crate::crypto::{CRYPTO_EX_dup, CRYPTO_EX_free, CRYPTO_EX_new};
use crate::{exdata, next_fn};
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
    match next_fn!(c"CRYPTO_get_ex_new_index", F) {
        // SAFETY: forwarded unchanged to libcrypto's definition.
        Some(f) => unsafe { f(class_index, argl, argp, new_func, dup_func, free_func) },
        None => -1,
    }
}

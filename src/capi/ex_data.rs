//! Application data attached to sessions (libcrypto ex_data, class 2).

use crate::capi::export::entry;
use crate::sys::SSL_SESSION;
use libc::{c_int, c_void};

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
    entry!(session SSL_SESSION_set_ex_data(ss, idx, data), |s| {
        let _g = s.data().write();
        s.set_ex_data(idx, data)
    })
}

/// Returns the value in slot `idx` of the session's ex_data, or NULL if none (also for a
/// negative or never-set `idx`, a NULL session, or a misuse report in warn mode).
#[no_mangle]
pub extern "C" fn SSL_SESSION_get_ex_data(ss: *const SSL_SESSION, idx: c_int) -> *mut c_void {
    entry!(session SSL_SESSION_get_ex_data(ss, idx), |s| {
        // Recursive: ex_data callbacks may read while a dup holds the lock.
        let _g = s.data().read_recursive();
        s.get_ex_data(idx)
    })
}

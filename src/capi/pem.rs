//! PEM: `-----BEGIN SSL SESSION PARAMETERS-----`, base64 of the DER. libcrypto's PEM layer
//! does the framing, as it does for libssl, with our `i2d`/`d2i` doing the session part.

use crate::capi::codec::{d2i_ours, i2d_SSL_SESSION};
use crate::capi::entry::with_caller;
use crate::capi::export::entry;
use crate::sys::libcrypto::{self, D2iOfVoid, I2dOfVoid};
use crate::sys::libssl;
use crate::{sys::BIO, sys::SSL_SESSION};
use libc::{c_int, c_void, FILE};

/// `PEM_STRING_SSL_SESSION`.
const LABEL: &std::ffi::CStr = c"SSL SESSION PARAMETERS";

/// OpenSSL's pass-phrase callback, a C function type (`pem_password_cb *` is a function
/// pointer): only passed on to libcrypto, so opaque here. The header declares it as
/// OpenSSL does.
pub type pem_password_cb = c_void;

fn i2d() -> I2dOfVoid {
    // SAFETY: i2d_SSL_SESSION has the i2d_of_void shape with a session pointer.
    unsafe { std::mem::transmute::<_, I2dOfVoid>(i2d_SSL_SESSION as extern "C" fn(_, _) -> _) }
}

/// The decoder libcrypto's PEM reader is given: libssl's own when libssl called the
/// reader (return address `ra`), else ours. libcrypto calls it, so our `d2i_SSL_SESSION`
/// could not tell on its own who asked.
fn d2i(ra: usize, func: &str) -> D2iOfVoid {
    let d2i: libssl::D2i = match crate::sys::caller::libssl_at(ra) {
        Some(lib) => match lib.d2i_fn() {
            Some(d2i) => d2i,
            None => crate::sys::caller::fatal_no_definition(func, lib),
        },
        None => d2i_ours,
    };
    // SAFETY: d2i_SSL_SESSION has the d2i_of_void shape with a session pointer.
    unsafe { std::mem::transmute::<libssl::D2i, D2iOfVoid>(d2i) }
}

/// Reads a PEM session from `out` (text before the BEGIN line is skipped). Returns the
/// session (also stored in `*x` when `x` is non-NULL; a non-NULL `*x` is reused, as with
/// d2i_SSL_SESSION), or NULL with libcrypto's PEM error queued. The pass-phrase callback
/// and `u` are passed to libcrypto unchanged (session PEM is never encrypted).
/// Called from inside libssl (preloaded next to it), the session is libssl's own.
#[cfg_attr(any(target_arch = "x86_64", target_arch = "aarch64"), unsafe(naked))]
#[no_mangle]
pub extern "C" fn PEM_read_bio_SSL_SESSION(
    out: *mut BIO,
    x: *mut *mut SSL_SESSION,
    cb: *mut pem_password_cb,
    u: *mut c_void,
) -> *mut SSL_SESSION {
    with_caller!(read_bio_from(out, x, cb, u))
}

extern "C" fn read_bio_from(
    out: *mut BIO,
    x: *mut *mut SSL_SESSION,
    cb: *mut pem_password_cb,
    u: *mut c_void,
    ra: usize,
) -> *mut SSL_SESSION {
    entry!(guard PEM_read_bio_SSL_SESSION, || {
        // SAFETY: libcrypto's reader with the right d2i, exactly as libssl calls it.
        unsafe {
            libcrypto::PEM_ASN1_read_bio(
                d2i(ra, "PEM_read_bio_SSL_SESSION"),
                LABEL.as_ptr(),
                out.cast(),
                x.cast(),
                cb,
                u,
            )
        }
        .cast()
    })
}

/// PEM_read_bio_SSL_SESSION() from a stdio stream.
#[cfg_attr(any(target_arch = "x86_64", target_arch = "aarch64"), unsafe(naked))]
#[no_mangle]
pub extern "C" fn PEM_read_SSL_SESSION(
    out: *mut FILE,
    x: *mut *mut SSL_SESSION,
    cb: *mut pem_password_cb,
    u: *mut c_void,
) -> *mut SSL_SESSION {
    with_caller!(read_from(out, x, cb, u))
}

extern "C" fn read_from(
    out: *mut FILE,
    x: *mut *mut SSL_SESSION,
    cb: *mut pem_password_cb,
    u: *mut c_void,
    ra: usize,
) -> *mut SSL_SESSION {
    entry!(guard PEM_read_SSL_SESSION, || {
        if out.is_null() {
            return std::ptr::null_mut();
        }
        // SAFETY: libcrypto's reader with the right d2i, exactly as libssl calls it.
        unsafe {
            libcrypto::PEM_ASN1_read(
                d2i(ra, "PEM_read_SSL_SESSION"),
                LABEL.as_ptr(),
                out,
                x.cast(),
                cb,
                u,
            )
        }
        .cast()
    })
}

/// Writes `x` as PEM (64-column base64 of its DER, no encryption). Returns 1, or 0 if
/// `x` is NULL or cannot be encoded (no cipher), with libcrypto's PEM error queued.
#[no_mangle]
pub extern "C" fn PEM_write_bio_SSL_SESSION(out: *mut BIO, x: *const SSL_SESSION) -> c_int {
    entry!(guard PEM_write_bio_SSL_SESSION at x, || {
        // SAFETY: libcrypto's writer with our i2d, exactly as libssl calls it.
        unsafe {
            libcrypto::PEM_ASN1_write_bio(
                i2d(),
                LABEL.as_ptr(),
                out.cast(),
                x.cast(),
                std::ptr::null(),
                std::ptr::null(),
                0,
                std::ptr::null(),
                std::ptr::null_mut(),
            )
        }
    })
}

/// PEM_write_bio_SSL_SESSION() to a stdio stream; 0 also for a NULL stream.
#[no_mangle]
pub extern "C" fn PEM_write_SSL_SESSION(out: *mut FILE, x: *const SSL_SESSION) -> c_int {
    entry!(guard PEM_write_SSL_SESSION at x, || {
        if out.is_null() {
            return 0;
        }
        // SAFETY: libcrypto's writer with our i2d, exactly as libssl calls it.
        unsafe {
            libcrypto::PEM_ASN1_write(
                i2d(),
                LABEL.as_ptr(),
                out,
                x.cast(),
                std::ptr::null(),
                std::ptr::null(),
                0,
                std::ptr::null(),
                std::ptr::null_mut(),
            )
        }
    })
}

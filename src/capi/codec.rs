//! `i2d_SSL_SESSION` / `d2i_SSL_SESSION`: OpenSSL 3.0's session DER, byte for byte, with
//! its calling conventions. The codec itself is the safe `der` module.

use crate::capi::entry::with_caller;
use crate::capi::export::entry;
use crate::der::{self, Encoder};
use crate::handle::arena::Session;
use crate::model::session::SessionData;
use crate::sys::{libcrypto, libssl, SSL_SESSION};
use libc::{c_int, c_long, c_uchar};

/// Encodes `in` as DER (OpenSSL 3.0's session format). Returns the length; 0 if `in` is
/// NULL or has no cipher (a fresh session cannot be encoded until a cipher is set).
/// - `pp` NULL: only returns the length.
/// - `*pp` NULL: allocates the buffer with OPENSSL_malloc (free it with OPENSSL_free) and
///   sets `*pp` to its start; returns -1 if the allocation fails.
/// - otherwise: writes at `*pp` (which must have room for the length) and advances `*pp`.
#[no_mangle]
pub extern "C" fn i2d_SSL_SESSION(in_: *const SSL_SESSION, pp: *mut *mut c_uchar) -> c_int {
    entry!(session i2d_SSL_SESSION(in_, pp), |s| {
            let d = s.data().read_recursive();
            let Some(enc) = Encoder::new(&d) else {
                return 0;
            };
            let len = enc.len();
            let Ok(ret) = c_int::try_from(len) else {
                return 0;
            };
            if pp.is_null() {
                return ret;
            }
            // SAFETY: pp is writable; *pp is NULL or has room for len bytes, as the API
            // requires (callers ask for the length first).
            unsafe {
                if (*pp).is_null() {
                    let buf =
                        libcrypto::CRYPTO_malloc(len, c"ssl-session".as_ptr(), 0) as *mut c_uchar;
                    if buf.is_null() {
                        libcrypto::raise(
                            crate::sys::err::ERR_LIB_ASN1,
                            crate::sys::err::ERR_R_MALLOC_FAILURE,
                            c"i2d_SSL_SESSION",
                        );
                        return -1;
                    }
                    enc.write(std::slice::from_raw_parts_mut(buf, len));
                    *pp = buf;
                } else {
                    enc.write(std::slice::from_raw_parts_mut(*pp, len));
                    *pp = (*pp).add(len);
                }
            }
            ret
        },
    )
}

/// Decodes one DER session from `*pp` (at most `length` bytes). Accepts exactly what
/// OpenSSL 3.0 accepts, and queues the same first error when it refuses.
/// On success advances `*pp` past the session's bytes (trailing bytes are left) and
/// returns the session: a new one (count 1), or `*a` reused in place when `a` and `*a`
/// are non-NULL; a new one is also stored in `*a` when `a` is non-NULL.
/// On failure returns NULL and changes nothing: not `*pp`, not `*a` (OpenSSL may leave a
/// reused `*a` half overwritten; we never do). NULL `pp` or `*pp` gives NULL here
/// (OpenSSL crashes).
///
/// Called from inside libssl (when ssl-session is preloaded next to it), it is libssl's
/// own d2i_SSL_SESSION that answers, so that libssl gets its own sessions.
#[cfg_attr(any(target_arch = "x86_64", target_arch = "aarch64"), unsafe(naked))]
#[no_mangle]
pub extern "C" fn d2i_SSL_SESSION(
    a: *mut *mut SSL_SESSION,
    pp: *mut *const c_uchar,
    length: c_long,
) -> *mut SSL_SESSION {
    with_caller!(d2i_from(a, pp, length))
}

// libssl's d2i, as `sys::libssl` calls it, has this export's prototype.
const _: libssl::D2i = d2i_SSL_SESSION;

/// `d2i_SSL_SESSION` called from return address `ra`.
pub extern "C" fn d2i_from(
    a: *mut *mut SSL_SESSION,
    pp: *mut *const c_uchar,
    length: c_long,
    ra: usize,
) -> *mut SSL_SESSION {
    entry!(guard d2i_SSL_SESSION, || {
        if let Some(lib) = crate::sys::caller::libssl_at(ra) {
            let Some(d2i) = lib.d2i_fn() else {
                crate::sys::caller::fatal_no_definition("d2i_SSL_SESSION", lib);
            };
            // SAFETY: the calling libssl's own decoder, for it, with its arguments unchanged.
            return unsafe { d2i(a, pp, length) };
        }
        d2i_ours(a, pp, length)
    })
}

/// `d2i_SSL_SESSION` for anyone but libssl: a session of ours. Also the decoder our PEM
/// readers give libcrypto.
pub extern "C" fn d2i_ours(
    a: *mut *mut SSL_SESSION,
    pp: *mut *const c_uchar,
    length: c_long,
) -> *mut SSL_SESSION {
    let null = std::ptr::null_mut();
    // SAFETY: a and pp are NULL or valid, by the API's contract.
    if pp.is_null() || unsafe { (*pp).is_null() } {
        return null;
    }
    let reuse = if a.is_null() { null } else { unsafe { *a } };
    if reuse.is_null() {
        return entry!(guard d2i_SSL_SESSION, || decode(None, a, pp, length));
    }
    // A session to reuse: ours if live, libssl's goes to libssl, a freed one is misuse.
    entry!(session d2i_SSL_SESSION(a, pp, length) on reuse, |s| decode(
        Some(s),
        a,
        pp,
        length
    ))
}

/// Queue `e` on libcrypto's error queue as 3.0's `d2i_SSL_SESSION` does (the codec only
/// says what to queue).
pub(crate) fn raise_decode_error(e: &der::DecodeError) {
    for (lib, reason) in e.queued() {
        libcrypto::raise(lib, reason, c"d2i_SSL_SESSION");
    }
}

/// The decoding itself, into `target` (reused) or a new session.
fn decode(
    target: Option<&'static Session>,
    a: *mut *mut SSL_SESSION,
    pp: *mut *const c_uchar,
    length: c_long,
) -> *mut SSL_SESSION {
    let null = std::ptr::null_mut();
    // SAFETY: *pp holds `length` bytes, by the API's contract; a negative length is
    // an empty input (refused as OpenSSL refuses it).
    let input = unsafe { std::slice::from_raw_parts(*pp, usize::try_from(length).unwrap_or(0)) };
    let mut decoded = der::Decoded::default();
    if let Err(e) = der::decode_into(input, &mut decoded) {
        raise_decode_error(&e);
        return null;
    }
    let consumed = decoded.consumed;
    // SAFETY: time(NULL) only reads the clock.
    let now = unsafe { libc::time(std::ptr::null_mut()) } as i64;
    let s = match target {
        Some(s) => {
            der::install(&decoded, &mut s.data().write(), now);
            s
        }
        None => match Session::create_then(
            || SessionData::new(now),
            |session| der::install(&decoded, session, now),
        ) {
            Some(s) => s,
            None => {
                libcrypto::raise(
                    crate::sys::err::ERR_LIB_SSL,
                    crate::sys::err::ERR_R_MALLOC_FAILURE,
                    c"d2i_SSL_SESSION",
                );
                return null;
            }
        },
    };
    // SAFETY: as above.
    unsafe {
        *pp = (*pp).add(consumed);
        if !a.is_null() {
            *a = s.as_c();
        }
    }
    s.as_c()
}

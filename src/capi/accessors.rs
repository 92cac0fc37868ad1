//! Getters and setters of the session's fields, with OpenSSL 3.0's semantics, and its
//! NULL behaviour made safe: a NULL session gives the error value.

use crate::capi::export::{entry, put, slice};
use crate::model::bytes::Text;
use crate::model::cipher;
use crate::model::session::{bytes_or_clear, IdBuf};
use crate::sys::err::{
    ERR_LIB_SSL, SSL_R_SSL_SESSION_ID_CONTEXT_TOO_LONG, SSL_R_SSL_SESSION_ID_TOO_LONG,
};
use crate::sys::libcrypto;
use crate::{sys::SSL_CIPHER, sys::SSL_SESSION, sys::X509};
use libc::{c_char, c_int, c_long, c_uchar, c_uint, c_ulong, c_void, size_t};

/// Returns the session's start time in seconds since the epoch (0 for a NULL session).
#[no_mangle]
pub extern "C" fn SSL_SESSION_get_time(s: *const SSL_SESSION) -> c_long {
    entry!(session SSL_SESSION_get_time(s), |x| x.data().read_recursive().time as c_long)
}

/// Sets the start time (any value, negative included). Returns `t` itself, as OpenSSL
/// does (so setting 0 "returns 0"); 0 for a NULL session.
#[no_mangle]
#[allow(clippy::unnecessary_cast)] // c_long is i32 on 32-bit targets
pub extern "C" fn SSL_SESSION_set_time(s: *mut SSL_SESSION, t: c_long) -> c_long {
    entry!(session SSL_SESSION_set_time(s, t), |x| {
        x.data().write().time = t;
        t
    })
}

/// Returns the session's timeout in seconds (0 for a NULL session).
#[no_mangle]
pub extern "C" fn SSL_SESSION_get_timeout(s: *const SSL_SESSION) -> c_long {
    entry!(session SSL_SESSION_get_timeout(s), |x| x.data().read_recursive().timeout as c_long)
}

/// Sets the timeout in seconds (0 allowed). Returns 1; 0 and no change when `t` is
/// negative or the session is NULL.
#[no_mangle]
#[allow(clippy::unnecessary_cast)] // c_long is i32 on 32-bit targets
pub extern "C" fn SSL_SESSION_set_timeout(s: *mut SSL_SESSION, t: c_long) -> c_long {
    entry!(session SSL_SESSION_set_timeout(s, t), |x| {
        if t < 0 {
            return 0;
        }
        x.data().write().timeout = t;
        1
    })
}

/// Returns the protocol version (e.g. 0x0304 for TLS 1.3; 0 on a new session or NULL).
#[no_mangle]
pub extern "C" fn SSL_SESSION_get_protocol_version(s: *const SSL_SESSION) -> c_int {
    entry!(session SSL_SESSION_get_protocol_version(s), |x| x.data().read_recursive().ssl_version)
}

/// Sets the protocol version, unchecked (as in OpenSSL). Returns 1; 0 for NULL.
#[no_mangle]
pub extern "C" fn SSL_SESSION_set_protocol_version(s: *mut SSL_SESSION, version: c_int) -> c_int {
    entry!(session SSL_SESSION_set_protocol_version(s, version), |x| {
        x.data().write().ssl_version = version;
        1
    })
}

/// Returns the session's cipher, an entry of a static table (never free it), or NULL.
#[no_mangle]
pub extern "C" fn SSL_SESSION_get0_cipher(s: *const SSL_SESSION) -> *const SSL_CIPHER {
    entry!(session SSL_SESSION_get0_cipher(s), |x| {
        x.data()
            .read()
            .cipher
            .map_or(std::ptr::null(), |c| c as *const _ as *const SSL_CIPHER)
    })
}

/// Sets the session's cipher (NULL allowed). As in OpenSSL, only the cipher pointer
/// changes: the numeric cipher id a decoded session carries is kept, and i2d and print
/// fall back to it when the cipher is NULL. Accepts ciphers from libssl
/// (SSL_CIPHER_find, SSL_get_current_cipher) as well as ours; they are mapped by id.
/// Returns 1; 0 for a NULL session or a cipher unknown to OpenSSL 3.0's session table.
/// On a session of libssl's (preloaded next to it), a cipher of ours is passed on as
/// libssl's own cipher with the same id.
#[no_mangle]
pub extern "C" fn SSL_SESSION_set_cipher(s: *mut SSL_SESSION, cipher: *const SSL_CIPHER) -> c_int {
    entry!(
        session SSL_SESSION_set_cipher(s, cipher) via |next| {
            // libssl's session must not point into our cipher table: give it its own.
            let c = match cipher::from_addr(cipher as usize) {
                Some(c) => crate::preload::handover::libssl_cipher(c),
                None => cipher,
            };
            if c.is_null() && !cipher.is_null() {
                return 0;
            }
            next(s, c)
        },
        |x| {
            let c = if cipher.is_null() {
                None
            } else if let Some(c) = cipher::from_addr(cipher as usize) {
                Some(c)
            } else {
                // A cipher of libssl's: ask libssl for its id.
                let get_id = crate::sys::libssl::ssl_cipher_get_id();
                // SAFETY: a non-NULL cipher that is not ours can only be libssl's.
                let id = match get_id {
                    Some(f) => unsafe { f(cipher) },
                    None => return 0,
                };
                match cipher::find_id(id) {
                    Some(c) => Some(c),
                    None => return 0,
                }
            };
            x.data().write().cipher = c;
            1
        },
    )
}

/// Returns the SNI host name kept with the session, or NULL. The session owns the string;
/// it stays valid until the next set1_hostname or the last free.
#[no_mangle]
pub extern "C" fn SSL_SESSION_get0_hostname(s: *const SSL_SESSION) -> *const c_char {
    entry!(session SSL_SESSION_get0_hostname(s), |x| {
        x.data()
            .read()
            .hostname
            .as_ref()
            .map_or(std::ptr::null(), |h| h.as_ptr().cast())
    })
}

/// Stores a copy of `hostname` (NULL clears it). Returns 1; 0 for a NULL session.
/// Unlike OpenSSL, passing the session's own current host name is safe.
#[no_mangle]
pub extern "C" fn SSL_SESSION_set1_hostname(s: *mut SSL_SESSION, hostname: *const c_char) -> c_int {
    entry!(session SSL_SESSION_set1_hostname(s, hostname), |x| {
        // SAFETY: a non-NULL hostname is a C string, by the API's contract.
        let h = (!hostname.is_null())
            .then(|| Text::new(unsafe { std::ffi::CStr::from_ptr(hostname) }.to_bytes()));
        x.data().write().hostname = h;
        1
    })
}

/// Writes the selected ALPN protocol (not NUL-terminated) and its length; NULL/0 when
/// there is none. The bytes belong to the session. Either output may be NULL here
/// (OpenSSL crashes); both are set to NULL/0 for a NULL session.
#[no_mangle]
pub extern "C" fn SSL_SESSION_get0_alpn_selected(
    s: *const SSL_SESSION,
    alpn: *mut *const c_uchar,
    len: *mut size_t,
) {
    // SAFETY: outputs are NULL or writable, by the API's contract.
    unsafe {
        put(alpn, std::ptr::null());
        put(len, 0);
    }
    entry!(session SSL_SESSION_get0_alpn_selected(s, alpn, len), |x| {
        let d = x.data().read_recursive();
        if let Some(a) = &d.alpn_selected {
            // SAFETY: as above.
            unsafe {
                put(alpn, a.as_ptr());
                put(len, a.as_slice().len());
            }
        }
    })
}

/// Stores a copy of the ALPN protocol; NULL or length 0 clears it. Returns 1; 0 for a
/// NULL session.
#[no_mangle]
pub extern "C" fn SSL_SESSION_set1_alpn_selected(
    s: *mut SSL_SESSION,
    alpn: *const c_uchar,
    len: size_t,
) -> c_int {
    entry!(session SSL_SESSION_set1_alpn_selected(s, alpn, len), |x| {
        // SAFETY: non-NULL alpn holds len bytes, by the API's contract.
        let v = if alpn.is_null() {
            None
        } else {
            unsafe { slice(alpn, len) }
        };
        x.data().write().alpn_selected = bytes_or_clear(v);
        1
    })
}

/// Returns a pointer to the session ID (up to 32 bytes, owned by the session) and writes
/// its length to `len` if `len` is not NULL. NULL (and length 0) for a NULL session.
#[no_mangle]
pub extern "C" fn SSL_SESSION_get_id(s: *const SSL_SESSION, len: *mut c_uint) -> *const c_uchar {
    // SAFETY: len is NULL or writable.
    unsafe { put(len, 0) };
    entry!(session SSL_SESSION_get_id(s, len), |x| {
        let d = x.data().read_recursive();
        // SAFETY: as above.
        unsafe { put(len, d.session_id.as_slice().len() as c_uint) };
        d.session_id.as_ptr()
    })
}

/// Sets the session ID (at most 32 bytes; 0 allowed). Returns 1; 0 with
/// SSL_R_SSL_SESSION_ID_TOO_LONG queued and no change when longer; 0 for a NULL session or
/// NULL `sid` with a non-zero length. The session's own ID buffer may be passed.
#[no_mangle]
pub extern "C" fn SSL_SESSION_set1_id(
    s: *mut SSL_SESSION,
    sid: *const c_uchar,
    sid_len: c_uint,
) -> c_int {
    entry!(session SSL_SESSION_set1_id(s, sid, sid_len), |x| {
        set_id(
            sid,
            sid_len,
            SSL_R_SSL_SESSION_ID_TOO_LONG,
            c"SSL_SESSION_set1_id",
            |id| x.data().write().session_id = id,
        )
    })
}

/// Returns a pointer to the session ID context (up to 32 bytes, owned by the session)
/// and writes its length to `len` if not NULL. NULL (and length 0) for a NULL session.
#[no_mangle]
pub extern "C" fn SSL_SESSION_get0_id_context(
    s: *const SSL_SESSION,
    len: *mut c_uint,
) -> *const c_uchar {
    // SAFETY: len is NULL or writable.
    unsafe { put(len, 0) };
    entry!(session SSL_SESSION_get0_id_context(s, len), |x| {
        let d = x.data().read_recursive();
        // SAFETY: as above.
        unsafe { put(len, d.sid_ctx.as_slice().len() as c_uint) };
        d.sid_ctx.as_ptr()
    })
}

/// Sets the session ID context (at most 32 bytes). Returns 1; 0 with
/// SSL_R_SSL_SESSION_ID_CONTEXT_TOO_LONG queued and no change when longer; 0 for a NULL
/// session or NULL data with a non-zero length.
#[no_mangle]
pub extern "C" fn SSL_SESSION_set1_id_context(
    s: *mut SSL_SESSION,
    sid_ctx: *const c_uchar,
    sid_ctx_len: c_uint,
) -> c_int {
    entry!(session SSL_SESSION_set1_id_context(s, sid_ctx, sid_ctx_len), |x| {
        set_id(
            sid_ctx,
            sid_ctx_len,
            SSL_R_SSL_SESSION_ID_CONTEXT_TOO_LONG,
            c"SSL_SESSION_set1_id_context",
            |id| x.data().write().sid_ctx = id,
        )
    })
}

/// The shared rule of set1_id and set1_id_context.
fn set_id(
    p: *const c_uchar,
    len: c_uint,
    too_long: c_int,
    func: &'static std::ffi::CStr,
    store: impl FnOnce(IdBuf),
) -> c_int {
    if len as usize > crate::model::session::MAX_ID_LEN {
        libcrypto::raise(ERR_LIB_SSL, too_long, func);
        return 0;
    }
    // Copied out before the write lock is taken, so the session's own buffer may be given.
    // SAFETY: non-NULL p holds len bytes, by the API's contract.
    match unsafe { slice(p, len as usize) }.and_then(IdBuf::new) {
        Some(id) => {
            store(id);
            1
        }
        None => 0,
    }
}

/// Copies up to `outlen` bytes of the master key (the resumption PSK for TLS 1.3) to
/// `out` and returns the number copied; with `outlen` 0 returns the key's full length.
/// 0 for a NULL session, or NULL `out` with a non-zero `outlen`.
#[no_mangle]
pub extern "C" fn SSL_SESSION_get_master_key(
    sess: *const SSL_SESSION,
    out: *mut c_uchar,
    outlen: size_t,
) -> size_t {
    entry!(session SSL_SESSION_get_master_key(sess, out, outlen), |x| {
        let d = x.data().read_recursive();
        if outlen == 0 {
            return d.master_key().len();
        }
        if out.is_null() {
            return 0;
        }
        // SAFETY: out holds outlen bytes, by the API's contract.
        let buf = unsafe { std::slice::from_raw_parts_mut(out, outlen) };
        d.copy_master_key(buf)
    })
}

/// Sets the master key (for TLS 1.3, the resumption PSK): up to 512 bytes, as OpenSSL
/// 3.0 allows. Returns 1; 0 and no change (no error queued, as OpenSSL) when longer, and
/// 0 for a NULL session or NULL `in` with a non-zero length.
#[no_mangle]
pub extern "C" fn SSL_SESSION_set1_master_key(
    sess: *mut SSL_SESSION,
    in_: *const c_uchar,
    len: size_t,
) -> c_int {
    entry!(session SSL_SESSION_set1_master_key(sess, in_, len), |x| {
        // SAFETY: non-NULL in_ holds len bytes, by the API's contract.
        match unsafe { slice(in_, len) } {
            Some(k) => x.data().write().set_master_key(k) as c_int,
            None => 0,
        }
    })
}

/// Returns 1 if the session carries a non-empty ticket, else 0 (also for NULL).
#[no_mangle]
pub extern "C" fn SSL_SESSION_has_ticket(s: *const SSL_SESSION) -> c_int {
    entry!(session SSL_SESSION_has_ticket(s), |x| (x.data().read_recursive().ticket_len() > 0) as c_int)
}

/// Returns the ticket lifetime hint in seconds (0 if none, or for NULL).
#[no_mangle]
pub extern "C" fn SSL_SESSION_get_ticket_lifetime_hint(s: *const SSL_SESSION) -> c_ulong {
    entry!(session SSL_SESSION_get_ticket_lifetime_hint(s), |x| x.data().read_recursive().tick_lifetime_hint as c_ulong)
}

/// Writes the ticket (owned by the session; NULL if none) to `tick` if not NULL, and its
/// length to `len` (NULL tolerated here; OpenSSL crashes). NULL/0 for a NULL session.
#[no_mangle]
pub extern "C" fn SSL_SESSION_get0_ticket(
    s: *const SSL_SESSION,
    tick: *mut *const c_uchar,
    len: *mut size_t,
) {
    // SAFETY: outputs are NULL or writable.
    unsafe {
        put(tick, std::ptr::null());
        put(len, 0);
    }
    entry!(session SSL_SESSION_get0_ticket(s, tick, len), |x| {
        if let Some(t) = &x.data().read_recursive().ticket {
            // SAFETY: as above.
            unsafe {
                put(tick, t.as_ptr());
                put(len, t.as_slice().len());
            }
        }
    })
}

/// Returns the maximum amount of early data the session allows (0: none; 0 for NULL).
#[no_mangle]
pub extern "C" fn SSL_SESSION_get_max_early_data(s: *const SSL_SESSION) -> u32 {
    entry!(session SSL_SESSION_get_max_early_data(s), |x| x.data().read_recursive().max_early_data)
}

/// Sets the maximum early data. Returns 1; 0 for NULL.
#[no_mangle]
pub extern "C" fn SSL_SESSION_set_max_early_data(
    s: *mut SSL_SESSION,
    max_early_data: u32,
) -> c_int {
    entry!(session SSL_SESSION_set_max_early_data(s, max_early_data), |x| {
        x.data().write().max_early_data = max_early_data;
        1
    })
}

/// Writes the ticket application data (owned by the session; NULL/0 if none) to `data`
/// and `len`. Returns 1; 0 (outputs NULL/0) for a NULL session. NULL outputs are skipped.
#[no_mangle]
pub extern "C" fn SSL_SESSION_get0_ticket_appdata(
    ss: *mut SSL_SESSION,
    data: *mut *mut c_void,
    len: *mut size_t,
) -> c_int {
    // SAFETY: outputs are NULL or writable.
    unsafe {
        put(data, std::ptr::null_mut());
        put(len, 0);
    }
    entry!(session SSL_SESSION_get0_ticket_appdata(ss, data, len), |x| {
        if let Some(a) = &x.data().read_recursive().ticket_appdata {
            // SAFETY: as above. C receives a non-const pointer, as in OpenSSL's
            // prototype; the data must not be written through it.
            unsafe {
                put(data, a.as_ptr() as *mut c_void);
                put(len, a.as_slice().len());
            }
        }
        1
    })
}

/// Stores a copy of the ticket application data; NULL or length 0 clears it. Returns 1;
/// 0 for a NULL session.
#[no_mangle]
pub extern "C" fn SSL_SESSION_set1_ticket_appdata(
    ss: *mut SSL_SESSION,
    data: *const c_void,
    len: size_t,
) -> c_int {
    entry!(session SSL_SESSION_set1_ticket_appdata(ss, data, len), |x| {
        // SAFETY: non-NULL data holds len bytes, by the API's contract.
        let v = if data.is_null() {
            None
        } else {
            unsafe { slice(data.cast(), len) }
        };
        x.data().write().ticket_appdata = bytes_or_clear(v);
        1
    })
}

/// Returns the peer's certificate, or NULL. No reference is taken: the session owns it
/// (call X509_up_ref to keep it beyond the session's life). The certificate is parsed on
/// the first call only.
#[no_mangle]
pub extern "C" fn SSL_SESSION_get0_peer(s: *mut SSL_SESSION) -> *mut X509 {
    entry!(session SSL_SESSION_get0_peer(s), |x| {
        let peer = x.data().read_recursive().peer.clone();
        // The X509 lives as long as the PeerCert, which the session keeps.
        peer.map_or(std::ptr::null_mut(), |p| p.x509().cast())
    })
}

/// Returns the compression method id (0: none; 0 for NULL).
#[no_mangle]
pub extern "C" fn SSL_SESSION_get_compress_id(s: *const SSL_SESSION) -> c_uint {
    entry!(session SSL_SESSION_get_compress_id(s), |x| x.data().read_recursive().compress_meth)
}

/// Returns the negotiated maximum fragment length mode (TLSEXT_max_fragment_length_*);
/// "unspecified" is reported as DISABLED (0), as in OpenSSL. 0 for NULL.
#[no_mangle]
pub extern "C" fn SSL_SESSION_get_max_fragment_length(sess: *const SSL_SESSION) -> u8 {
    entry!(session SSL_SESSION_get_max_fragment_length(sess), |x| x.data().read_recursive().max_fragment_length())
}

/// Returns 1 if the session can be used for resumption (it has an ID or a ticket and was
/// not marked unresumable), else 0 (also for NULL).
#[no_mangle]
pub extern "C" fn SSL_SESSION_is_resumable(s: *const SSL_SESSION) -> c_int {
    entry!(session SSL_SESSION_is_resumable(s), |x| x.data().read_recursive().is_resumable() as c_int)
}

//! Where the application hands one of our sessions to libssl.
//!
//! libssl reads its private `struct ssl_session_st` out of any session it is given, so it
//! must never see ours. At each hand-over point (`capi::interpose::libssl`) we give libssl an
//! equivalent session of its own instead: our DER (`i2d`) read back by libssl's real
//! `d2i_SSL_SESSION`. The application's object stays ours and unchanged.
//!
//! Reference counts: OpenSSL would hold a reference on the application's session wherever
//! libssl keeps it (the SSL's current session, a cache entry, the PSK session). Here
//! libssl keeps its copy instead, and the copy holds that reference on ours: a libssl
//! session made by `to_libssl` carries, in an ex_data slot of its own (class 2, registered
//! in libcrypto by us), a counted pointer to ours, released by the slot's free callback
//! when libssl frees its copy. So ours lives exactly as long as OpenSSL would have kept
//! it, and the application's own `SSL_SESSION_free` calls stay balanced. A copy libssl
//! makes of its copy (`ssl_session_dup`) does not inherit the reference, as a dup in
//! OpenSSL holds none on its source.
//!
//! Sessions that the application's callbacks return to libssl go through here too
//! (`callbacks`).

use crate::handle::arena::{self, Lookup, Session};
use crate::misuse::guard;
use crate::sys::libcrypto::{self, CRYPTO_EX_DATA};
use crate::sys::libssl;
use crate::{exdata, misuse, sys::SSL_CIPHER, sys::SSL_SESSION};
use libc::{c_int, c_long, c_void};
use parking_lot::Mutex;
use std::ptr::null_mut;
use std::sync::OnceLock;

/// What a session pointer handed to libssl is.
pub enum Handed {
    /// One of our live sessions: convert it.
    Ours(&'static Session),
    /// A freed session of ours: reported; the call fails.
    Freed,
    /// NULL or libssl's own: pass it on unchanged.
    Other,
}

pub fn classify(func: &'static str, p: *const SSL_SESSION) -> Handed {
    if let Some(s) = arena::live(p as usize) {
        return Handed::Ours(s);
    }
    match arena::lookup(p as usize) {
        Lookup::Freed => {
            misuse::report(func, p as usize, misuse::Misuse::Freed);
            Handed::Freed
        }
        // A libssl session the sanitizer saw freed (reported).
        Lookup::Foreign if crate::preload::dead_use(func, p as usize) => Handed::Freed,
        _ => Handed::Other,
    }
}

/// Drop one reference to a libssl session.
pub fn free_libssl(l: *mut SSL_SESSION) {
    if crate::preload::internal_free(l) {
        return;
    }
    if let Some(f) = libssl::ssl_session_free() {
        // SAFETY: a session libssl made.
        unsafe { f(l) }
    }
}

/// Queue the error a failed conversion leaves (the caller returns its error value).
pub fn conversion_failed(func: &'static std::ffi::CStr) {
    // What libssl's SSLfatal(.., ERR_R_INTERNAL_ERROR) queues: the failure is not the
    // caller's (ERR_R_PASSED_INVALID_ARGUMENT would blame it).
    libcrypto::raise(
        crate::sys::err::ERR_LIB_SSL,
        crate::sys::err::ERR_R_INTERNAL_ERROR,
        func,
    );
}

// ---- the reference a libssl copy holds on ours -------------------------------------------

/// The class-2 ex_data index of the slot where a libssl copy keeps its reference to ours.
fn hold_index() -> Option<c_int> {
    static IDX: OnceLock<c_int> = OnceLock::new();
    let idx = *IDX.get_or_init(|| {
        // Decide first how our own sessions run ex_data, while class 2 is as the
        // application left it (our index is none of theirs: see exdata.rs).
        exdata::own_slots();
        exdata::libcrypto_new_index(
            libcrypto::EX_INDEX_SSL_SESSION,
            0,
            null_mut(),
            None,
            Some(hold_dup),
            Some(hold_free),
        )
    });
    (idx >= 0).then_some(idx)
}

/// A copy libssl makes of its copy holds nothing on ours.
unsafe extern "C" fn hold_dup(
    _to: *mut CRYPTO_EX_DATA,
    _from: *const CRYPTO_EX_DATA,
    from_d: *mut *mut c_void,
    _idx: c_int,
    _argl: c_long,
    _argp: *mut c_void,
) -> c_int {
    guard("ex_data dup of a libssl copy", 0, 0, || {
        if !from_d.is_null() {
            // SAFETY: libcrypto passes the value it is about to copy.
            unsafe { *from_d = null_mut() };
        }
        1
    })
}

/// libssl freed its copy: release the reference it held on ours.
unsafe extern "C" fn hold_free(
    _parent: *mut c_void,
    ptr: *mut c_void,
    _ad: *mut CRYPTO_EX_DATA,
    _idx: c_int,
    _argl: c_long,
    _argp: *mut c_void,
) {
    guard("ex_data free of a libssl copy", ptr as usize, (), || {
        if !ptr.is_null() {
            crate::handle::release("SSL_SESSION_free", ptr as usize);
        }
    })
}

/// A libssl session equal to `s` (count 1), holding one reference on `s` until libssl
/// frees it. `None` when `s` cannot be encoded (a session with no cipher, which OpenSSL's
/// own i2d refuses too) or libssl is not there; nothing is changed then.
pub fn to_libssl(s: &'static Session) -> Option<*mut SSL_SESSION> {
    let idx = hold_index()?;
    let d2i = libssl::d2i_ssl_session()?;
    let set_ex = libssl::ssl_session_set_ex_data()?;
    let mut der = Vec::new();
    let not_resumable = {
        let d = s.data().read_recursive();
        crate::der::encode(&d, &mut der)?;
        d.not_resumable
    };
    if not_resumable {
        // DER carries no "not resumable" flag: leave out what would make libssl's copy
        // resumable (ID and ticket), so that it is refused as ours would be. (Through
        // the codec rather than a clone: a second clone site slows SSL_SESSION_dup.)
        let mut c = crate::model::session::SessionData::new(0);
        let mut d = crate::der::Decoded::default();
        crate::der::decode_into(&der, &mut d).ok()?;
        crate::der::install(&d, &mut c, 0);
        c.session_id = Default::default();
        c.ticket = None;
        let mut again = Vec::new();
        crate::der::encode(&c, &mut again)?;
        crate::model::bytes::wipe(&mut der);
        der = again;
    }
    let mut p = der.as_ptr();
    // SAFETY: libssl's decoder over our buffer; it calls SSL_SESSION_new, which sees
    // libssl as its caller and so makes libssl's own session.
    let l = unsafe { d2i(null_mut(), &mut p, der.len() as c_long) };
    crate::model::bytes::wipe(&mut der);
    if l.is_null() {
        return None;
    }
    if s.try_up_ref() != Some(true) {
        free_libssl(l);
        return None;
    }
    // SAFETY: a live libssl session and our index.
    if unsafe { set_ex(l, idx, s.as_c().cast()) } != 1 {
        free_libssl(l);
        crate::handle::release("SSL_SESSION_free", s.as_c() as usize);
        return None;
    }
    Some(l)
}

/// `*slot` holds a session the application hands to libssl with its reference (the PSK
/// callbacks' out-pointer): replace ours by a libssl copy, which takes that reference
/// over. False when it cannot be converted (`*slot` unchanged), or is a freed session of
/// ours (reported; `*slot` set to NULL).
///
/// # Safety
/// `slot` is NULL or valid.
pub unsafe fn convert_transferred(
    func: &'static std::ffi::CStr,
    slot: *mut *mut SSL_SESSION,
) -> bool {
    if slot.is_null() {
        return true;
    }
    // SAFETY: by the caller's contract.
    let p = unsafe { *slot };
    match classify("SSL_SESSION_free", p) {
        Handed::Ours(s) => match to_libssl(s) {
            Some(l) => {
                crate::handle::release("SSL_SESSION_free", p as usize);
                // SAFETY: as above.
                unsafe { *slot = l };
                true
            }
            None => {
                conversion_failed(func);
                false
            }
        },
        Handed::Freed => {
            // Reported; libssl must not free or read it.
            // SAFETY: as above.
            unsafe { *slot = null_mut() };
            false
        }
        Handed::Other => true,
    }
}

/// A session handed to libssl for the length of one call (`SSL_set_session`, add, remove):
/// `call` gets libssl's copy (or the pointer unchanged when it is not ours); the copy is
/// released after, so only what libssl kept of it remains. `err` when it cannot be
/// converted (error queued) or is a freed one of ours (reported).
pub fn lend<R>(
    func: &'static str,
    cfunc: &'static std::ffi::CStr,
    p: *mut SSL_SESSION,
    err: R,
    call: impl FnOnce(*mut SSL_SESSION) -> R,
) -> R {
    match classify(func, p) {
        Handed::Ours(s) => match to_libssl(s) {
            Some(l) => {
                let r = call(l);
                free_libssl(l);
                r
            }
            None => {
                conversion_failed(cfunc);
                err
            }
        },
        Handed::Freed => err,
        Handed::Other => call(p),
    }
}

// ---- libssl's SSL_CIPHER for one of ours ---------------------------------------------------

/// libssl's own `SSL_CIPHER` with the id of our table entry `c` (so that a session of
/// libssl's never holds a pointer into our table), or NULL. Found once per cipher by
/// decoding, with libssl's d2i, a minimal session of that cipher.
pub fn libssl_cipher(c: &'static crate::model::cipher::Cipher) -> *const SSL_CIPHER {
    static FOUND: Mutex<Vec<(u32, usize)>> = Mutex::new(Vec::new());
    // Resolved before taking the lock: a lookup may enter the loader (see loaded.rs).
    let get0 = libssl::ssl_session_get0_cipher();
    let d2i = libssl::d2i_ssl_session();
    let mut found = FOUND.lock();
    if let Some(&(_, p)) = found.iter().find(|(id, _)| *id == c.id) {
        return p as *const SSL_CIPHER;
    }
    let (Some(d2i), Some(get0)) = (d2i, get0) else {
        return std::ptr::null();
    };
    let mut d = crate::model::session::SessionData::new(0);
    d.ssl_version = 0x0303;
    d.cipher = Some(c);
    let mut der = Vec::new();
    if crate::der::encode(&d, &mut der).is_none() {
        return std::ptr::null();
    }
    let mut p = der.as_ptr();
    // SAFETY: libssl's decoder over our buffer, then its getter and free on its session.
    let cipher = unsafe {
        let l = d2i(null_mut(), &mut p, der.len() as c_long);
        if l.is_null() {
            return std::ptr::null();
        }
        let cipher = get0(l);
        free_libssl(l);
        cipher
    };
    if !cipher.is_null() {
        found.push((c.id, cipher as usize));
    }
    cipher
}

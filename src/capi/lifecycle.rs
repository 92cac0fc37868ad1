//! Creating, copying, sharing and releasing sessions.

use crate::capi::entry::with_caller;
use crate::capi::export::entry;
use crate::handle::arena::Session;
use crate::model::session::SessionData;
use crate::sys::SSL_SESSION;
use libc::c_int;

/// Allocates a new, empty session with reference count 1.
///
/// Defaults are OpenSSL 3.0's: time = now, timeout 304 s, protocol version 0, no cipher,
/// verify result 1 (X509_V_ERR_UNSPECIFIED), max fragment length mode "unspecified".
/// ex_data "new" callbacks run. Returns NULL only if memory runs out.
/// Release it with SSL_SESSION_free().
///
/// Called from inside libssl (when ssl-session is preloaded next to it), it returns
/// libssl's own session instead, so that libssl's handshakes keep their sessions.
#[cfg_attr(any(target_arch = "x86_64", target_arch = "aarch64"), unsafe(naked))]
#[no_mangle]
pub extern "C" fn SSL_SESSION_new() -> *mut SSL_SESSION {
    with_caller!(new_from())
}

// What `sys::libssl` calls libssl's definitions with are these exports' prototypes.
const _: crate::sys::libssl::New = SSL_SESSION_new;
const _: crate::sys::libssl::Free = SSL_SESSION_free;

/// `SSL_SESSION_new` called from return address `ra`.
extern "C" fn new_from(ra: usize) -> *mut SSL_SESSION {
    entry!(guard SSL_SESSION_new, || {
        if let Some(lib) = crate::sys::caller::libssl_at(ra) {
            let Some(new) = lib.new_fn() else {
                crate::sys::caller::fatal_no_definition("SSL_SESSION_new", lib);
            };
            // SAFETY: the calling libssl's own constructor (found in its own symbols), for it.
            let s = unsafe { new() };
            crate::preload::born(s, ra);
            return s;
        }
        // SAFETY: time(NULL) only reads the clock.
        let now = unsafe { libc::time(std::ptr::null_mut()) } as i64;
        Session::create(|| SessionData::new(now)).map_or(std::ptr::null_mut(), |s| s.as_c())
    })
}

/// Returns a deep copy of `src` with reference count 1, belonging to no cache.
///
/// Every field is copied (a ticket lifetime hint without a ticket is dropped, as in
/// OpenSSL); ex_data "new" then "dup" callbacks run. The copy shares nothing mutable
/// with `src`. Returns NULL if `src` is NULL (OpenSSL crashes), if a dup callback fails
/// (SSL_R/ERR_R_MALLOC_FAILURE is queued, as OpenSSL does), or on a misuse report in
/// warn mode.
#[no_mangle]
pub extern "C" fn SSL_SESSION_dup(src: *const SSL_SESSION) -> *mut SSL_SESSION {
    entry!(session SSL_SESSION_dup(src), |s| s
        .dup()
        .map_or(std::ptr::null_mut(), |d| d.as_c()))
}

/// Takes one more reference to `ses`. Returns 1; 0 if `ses` is NULL (OpenSSL crashes),
/// if the count is saturated (about 2^31 references: the session then stays alive for
/// good rather than being freed early), or on a misuse report in warn mode.
#[cfg_attr(any(target_arch = "x86_64", target_arch = "aarch64"), unsafe(naked))]
#[no_mangle]
pub extern "C" fn SSL_SESSION_up_ref(ses: *mut SSL_SESSION) -> c_int {
    with_caller!(up_ref_from(ses))
}

/// `SSL_SESSION_up_ref` called from return address `ra` (the sanitizer's history of a
/// libssl session records it).
extern "C" fn up_ref_from(ses: *mut SSL_SESSION, ra: usize) -> c_int {
    entry!(
        slot SSL_SESSION_up_ref(ses),
        move || crate::preload::up_ref_foreign(ses, ra),
        |s| s.try_up_ref().map(|ok| ok as c_int)
    )
}

/// Drops one reference to `ses`; the last one destroys it (ex_data "free" callbacks
/// first, then secrets are wiped). NULL does nothing.
///
/// Unlike OpenSSL, a double free or a free of a pointer that is not a session is caught:
/// one line on stderr, then abort() (or, with SSL_SESSION_MISUSE=warn, nothing else).
#[cfg_attr(any(target_arch = "x86_64", target_arch = "aarch64"), unsafe(naked))]
#[no_mangle]
pub extern "C" fn SSL_SESSION_free(ses: *mut SSL_SESSION) {
    with_caller!(free_from(ses))
}

/// `SSL_SESSION_free` called from return address `ra`.
extern "C" fn free_from(ses: *mut SSL_SESSION, ra: usize) {
    entry!(
        slot SSL_SESSION_free(ses),
        move || crate::preload::free_foreign(ses, ra),
        |s| s.try_release()
    )
}

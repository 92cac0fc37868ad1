//! libssl and libcrypto functions ssl-session defines for its sanitizer of libssl's
//! sessions (`preload::sanitizer`): each forwards to the next definition (libssl's,
//! libcrypto's) and notes what the call means for the session's references. With
//! `SSL_SESSION_SANITIZE=0` they only forward.

use crate::capi::entry::with_caller;
use crate::capi::export::entry;
use crate::handle::arena;
use crate::preload::new_session::{self, NewCb};
use crate::preload::{self, history::Kind, origin};
use crate::sys::libssl::{Ssl, SslCtx};
use crate::sys::SSL_SESSION;
use libc::{c_int, c_long, c_void};

// ---- the pointer getters -------------------------------------------------------------

/// libssl's SSL_get_session(): the SSL's session, with no reference taken (noted as such
/// in the session's history).
#[cfg_attr(any(target_arch = "x86_64", target_arch = "aarch64"), unsafe(naked))]
#[no_mangle]
pub extern "C" fn SSL_get_session(ssl: *const Ssl) -> *mut SSL_SESSION {
    with_caller!(get_session_from(ssl))
}

extern "C" fn get_session_from(ssl: *const Ssl, ra: usize) -> *mut SSL_SESSION {
    entry!(next SSL_get_session(ssl) at ssl, |next| {
        let s = next(ssl);
        if arena::slot(s as usize).is_none() {
            preload::seen_get(s, Kind::GetSession, ra);
        }
        s
    })
}

/// libssl's SSL_get1_session(): the SSL's session with one reference for the caller.
#[cfg_attr(any(target_arch = "x86_64", target_arch = "aarch64"), unsafe(naked))]
#[no_mangle]
pub extern "C" fn SSL_get1_session(ssl: *mut Ssl) -> *mut SSL_SESSION {
    with_caller!(get1_session_from(ssl))
}

extern "C" fn get1_session_from(ssl: *mut Ssl, ra: usize) -> *mut SSL_SESSION {
    entry!(next SSL_get1_session(ssl) at ssl, |next| {
        // Its nested up_ref is this call's.
        let s = preload::sanitizer::quietly(|| next(ssl));
        if arena::slot(s as usize).is_none() {
            preload::seen_get(s, Kind::Get1Session, ra);
        }
        s
    })
}

// ---- entry points whose session frees are libssl's ------------------------------------

/// libssl's SSL_free(). Session frees it makes are reported as `SSL_free → ...`.
#[no_mangle]
pub extern "C" fn SSL_free(ssl: *mut Ssl) {
    entry!(next SSL_free(ssl) at ssl, |next| {
        new_session::forget(ssl);
        origin::within("SSL_free", || next(ssl))
    })
}

/// libssl's SSL_CTX_free().
#[no_mangle]
pub extern "C" fn SSL_CTX_free(ctx: *mut SslCtx) {
    entry!(next SSL_CTX_free(ctx) at ctx, |next| origin::within(
        "SSL_CTX_free",
        || next(ctx)
    ))
}

/// libssl's SSL_CTX_flush_sessions().
#[no_mangle]
pub extern "C" fn SSL_CTX_flush_sessions(ctx: *mut SslCtx, tm: c_long) {
    entry!(next SSL_CTX_flush_sessions(ctx, tm) at ctx, |next| origin::within(
        "SSL_CTX_flush_sessions",
        || next(ctx, tm)
    ))
}

// ---- the new-session callback ---------------------------------------------------------

/// libssl's SSL_CTX_sess_set_new_cb(). libssl gets a wrapper that calls `cb` and notes
/// whether it kept the session's reference (returned 1) or not.
#[no_mangle]
pub extern "C" fn SSL_CTX_sess_set_new_cb(ctx: *mut SslCtx, cb: Option<NewCb>) {
    entry!(next SSL_CTX_sess_set_new_cb(ctx, cb) at ctx, |next| next(
        ctx,
        new_session::wrap(ctx, cb)
    ))
}

/// libssl's SSL_CTX_sess_get_new_cb(): the application's callback, not our wrapper.
#[no_mangle]
pub extern "C" fn SSL_CTX_sess_get_new_cb(ctx: *mut SslCtx) -> Option<NewCb> {
    entry!(next SSL_CTX_sess_get_new_cb(ctx) at ctx, |next| new_session::unwrap(
        ctx,
        next(ctx)?
    ))
}

/// libssl's SSL_set_SSL_CTX(). The SSL keeps its first SSL_CTX's session callbacks.
#[no_mangle]
pub extern "C" fn SSL_set_SSL_CTX(ssl: *mut Ssl, ctx: *mut SslCtx) -> *mut SslCtx {
    entry!(next SSL_set_SSL_CTX(ssl, ctx) at ssl, |next| {
        new_session::switching(ssl);
        next(ssl, ctx)
    })
}

// ---- libcrypto's ex_data life cycle ---------------------------------------------------

/// libcrypto's CRYPTO_new_ex_data(), passed through (ssl-session's layout self-test keeps
/// the application's callbacks away from its scratch session and SSL_CTX).
#[no_mangle]
pub extern "C" fn CRYPTO_new_ex_data(
    class_index: c_int,
    obj: *mut c_void,
    ad: *mut c_void,
) -> c_int {
    entry!(next CRYPTO_new_ex_data(class_index, obj, ad) at obj, |next| {
        if preload::layout::selftest_new(class_index, obj as usize, ad as usize) {
            return 1;
        }
        next(class_index, obj, ad)
    })
}

/// libcrypto's CRYPTO_free_ex_data(), passed through, except for the one call libssl's
/// free makes for a session whose ex_data ssl-session already freed at its last
/// reference (the free itself was deferred): its callbacks must not run twice.
#[no_mangle]
pub extern "C" fn CRYPTO_free_ex_data(class_index: c_int, obj: *mut c_void, ad: *mut c_void) {
    entry!(next CRYPTO_free_ex_data(class_index, obj, ad) at obj, |next| {
        if preload::sanitizer::skip_free_ex_data(class_index, obj as usize)
            || preload::layout::selftest_free(class_index, obj as usize, ad as usize)
        {
            return;
        }
        next(class_index, obj, ad)
    })
}

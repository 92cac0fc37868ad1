//! libssl and libcrypto functions ssl-session defines for its sanitizer of libssl's
//! sessions (`preload/`): each forwards to the next definition (libssl's, libcrypto's)
//! and notes what the call means for the session's references. Not part of the session
//! API, nor of include/ssl.h. With `SSL_SESSION_SANITIZE=0` they only forward.

use crate::preload::{self, history::Kind, origin};
use crate::{next_fn, sys::SSL_SESSION};
use libc::{c_int, c_long, c_void};
use parking_lot::Mutex;
use std::collections::HashMap;
use std::hash::BuildHasherDefault;

type AddrMap = HashMap<usize, usize, BuildHasherDefault<preload::sanitizer::AddrHash>>;

type Ssl = c_void;
type SslCtx = c_void;
/// `SSL_CTX_sess_set_new_cb`'s callback.
pub type NewCb = unsafe extern "C" fn(*mut Ssl, *mut SSL_SESSION) -> c_int;

// ---- the pointer getters -------------------------------------------------------------

/// libssl's SSL_get_session(): the SSL's session, with no reference taken (noted as such
/// in the session's history).
#[cfg(any(target_arch = "x86_64", target_arch = "aarch64"))]
#[unsafe(naked)]
#[no_mangle]
pub extern "C" fn SSL_get_session(ssl: *const Ssl) -> *mut SSL_SESSION {
    core::arch::naked_asm!(crate::preload::pass_caller_1!(), f = sym get_session_from)
}

/// cbindgen:ignore
#[cfg(not(any(target_arch = "x86_64", target_arch = "aarch64")))]
#[no_mangle]
pub extern "C" fn SSL_get_session(ssl: *const Ssl) -> *mut SSL_SESSION {
    get_session_from(ssl, 0)
}

extern "C" fn get_session_from(ssl: *const Ssl, ra: usize) -> *mut SSL_SESSION {
    crate::capi::export::guard(
        "SSL_get_session",
        ssl as usize,
        std::ptr::null_mut(),
        || {
            let Some(f) = next_fn!(
                SSL_get_session,
                unsafe extern "C" fn(*const Ssl) -> *mut SSL_SESSION
            ) else {
                return std::ptr::null_mut();
            };
            // SAFETY: libssl's getter on libssl's SSL.
            let s = unsafe { f(ssl) };
            if crate::handle::arena::slot(s as usize).is_none() {
                preload::seen_get(s, Kind::GetSession, ra);
            }
            s
        },
    )
}

/// libssl's SSL_get1_session(): the SSL's session with one reference for the caller.
#[cfg(any(target_arch = "x86_64", target_arch = "aarch64"))]
#[unsafe(naked)]
#[no_mangle]
pub extern "C" fn SSL_get1_session(ssl: *mut Ssl) -> *mut SSL_SESSION {
    core::arch::naked_asm!(crate::preload::pass_caller_1!(), f = sym get1_session_from)
}

/// cbindgen:ignore
#[cfg(not(any(target_arch = "x86_64", target_arch = "aarch64")))]
#[no_mangle]
pub extern "C" fn SSL_get1_session(ssl: *mut Ssl) -> *mut SSL_SESSION {
    get1_session_from(ssl, 0)
}

extern "C" fn get1_session_from(ssl: *mut Ssl, ra: usize) -> *mut SSL_SESSION {
    crate::capi::export::guard(
        "SSL_get1_session",
        ssl as usize,
        std::ptr::null_mut(),
        || {
            let Some(f) = next_fn!(
                SSL_get1_session,
                unsafe extern "C" fn(*mut Ssl) -> *mut SSL_SESSION
            ) else {
                return std::ptr::null_mut();
            };
            // SAFETY: libssl's function on libssl's SSL; its nested up_ref is this call's.
            let s = preload::sanitizer::quietly(|| unsafe { f(ssl) });
            if crate::handle::arena::slot(s as usize).is_none() {
                preload::seen_get(s, Kind::Get1Session, ra);
            }
            s
        },
    )
}

// ---- entry points whose session frees are libssl's ------------------------------------

/// libssl's SSL_free(). Session frees it makes are reported as `SSL_free → ...`.
#[no_mangle]
pub extern "C" fn SSL_free(ssl: *mut Ssl) {
    crate::capi::export::guard("SSL_free", ssl as usize, (), || {
        let Some(f) = next_fn!(SSL_free, unsafe extern "C" fn(*mut Ssl)) else {
            return;
        };
        if !ssl.is_null() {
            SWITCHED.lock().remove(&(ssl as usize));
        }
        // SAFETY: libssl's function with the caller's SSL.
        origin::within("SSL_free", || unsafe { f(ssl) })
    })
}

/// libssl's SSL_CTX_free().
#[no_mangle]
pub extern "C" fn SSL_CTX_free(ctx: *mut SslCtx) {
    crate::capi::export::guard("SSL_CTX_free", ctx as usize, (), || {
        let Some(f) = next_fn!(SSL_CTX_free, unsafe extern "C" fn(*mut SslCtx)) else {
            return;
        };
        // SAFETY: libssl's function with the caller's SSL_CTX.
        origin::within("SSL_CTX_free", || unsafe { f(ctx) })
    })
}

/// libssl's SSL_CTX_flush_sessions().
#[no_mangle]
pub extern "C" fn SSL_CTX_flush_sessions(ctx: *mut SslCtx, tm: c_long) {
    crate::capi::export::guard("SSL_CTX_flush_sessions", ctx as usize, (), || {
        let Some(f) = next_fn!(
            SSL_CTX_flush_sessions,
            unsafe extern "C" fn(*mut SslCtx, c_long)
        ) else {
            return;
        };
        // SAFETY: libssl's function with the caller's arguments.
        origin::within("SSL_CTX_flush_sessions", || unsafe { f(ctx, tm) })
    })
}

// ---- the new-session callback ---------------------------------------------------------

/// The application's new-session callbacks, by SSL_CTX. Kept until exit: SSL_CTX_free
/// only drops a reference (every SSL holds one), and a stale entry is never looked up (a
/// new SSL_CTX at the same address gets our wrapper only when it sets a callback, which
/// replaces the entry).
static NEW_CBS: Mutex<AddrMap> = Mutex::new(HashMap::with_hasher(BuildHasherDefault::new()));
/// SSLs moved to another SSL_CTX (SSL_set_SSL_CTX): the SSL_CTX they were made from,
/// whose callbacks libssl keeps using (its `session_ctx`). Forgotten at SSL_free (an SSL
/// given more references with SSL_up_ref then falls back to its current SSL_CTX).
static SWITCHED: Mutex<AddrMap> = Mutex::new(HashMap::with_hasher(BuildHasherDefault::new()));

/// At exit (after the sanitizer's own exit work): let the maps' memory go, so that a
/// clean program ends with nothing left behind under valgrind.
pub(crate) fn at_exit() {
    SWITCHED.lock().shrink_to_fit();
    *NEW_CBS.lock() = HashMap::with_hasher(BuildHasherDefault::new());
}

unsafe extern "C" fn new_trampoline(ssl: *mut Ssl, sess: *mut SSL_SESSION) -> c_int {
    crate::capi::export::guard("new_session_cb", sess as usize, 0, || {
        let ctx = SWITCHED.lock().get(&(ssl as usize)).copied().or_else(|| {
            let g = next_fn!(
                SSL_get_SSL_CTX,
                unsafe extern "C" fn(*const Ssl) -> *mut SslCtx
            )?;
            // SAFETY: libssl's getter on libssl's SSL.
            Some(unsafe { g(ssl) } as usize)
        });
        let cb = ctx.and_then(|c| NEW_CBS.lock().get(&c).copied());
        let Some(cb) = cb else {
            return 0;
        };
        // SAFETY: the application's callback, with libssl's arguments.
        let r = unsafe { std::mem::transmute::<usize, NewCb>(cb)(ssl, sess) };
        preload::new_cb_returned(sess, r != 0, cb);
        r
    })
}

/// libssl's SSL_CTX_sess_set_new_cb(). libssl gets a wrapper that calls `cb` and notes
/// whether it kept the session's reference (returned 1) or not.
#[no_mangle]
pub extern "C" fn SSL_CTX_sess_set_new_cb(ctx: *mut SslCtx, cb: Option<NewCb>) {
    crate::capi::export::guard("SSL_CTX_sess_set_new_cb", ctx as usize, (), || {
        let Some(f) = next_fn!(
            SSL_CTX_sess_set_new_cb,
            unsafe extern "C" fn(*mut SslCtx, Option<NewCb>)
        ) else {
            return;
        };
        let given = match cb {
            Some(c) if preload::policy::get().enabled && !ctx.is_null() => {
                NEW_CBS.lock().insert(ctx as usize, c as usize);
                Some(new_trampoline as NewCb)
            }
            _ => {
                NEW_CBS.lock().remove(&(ctx as usize));
                cb
            }
        };
        // SAFETY: libssl's setter.
        unsafe { f(ctx, given) }
    })
}

/// libssl's SSL_CTX_sess_get_new_cb(): the application's callback, not our wrapper.
#[no_mangle]
pub extern "C" fn SSL_CTX_sess_get_new_cb(ctx: *mut SslCtx) -> Option<NewCb> {
    crate::capi::export::guard("SSL_CTX_sess_get_new_cb", ctx as usize, None, || {
        let f = next_fn!(
            SSL_CTX_sess_get_new_cb,
            unsafe extern "C" fn(*mut SslCtx) -> Option<NewCb>
        )?;
        // SAFETY: libssl's getter.
        let cb = unsafe { f(ctx) }?;
        if cb as usize == new_trampoline as NewCb as usize {
            let app = NEW_CBS.lock().get(&(ctx as usize)).copied()?;
            // SAFETY: a NewCb the application gave us.
            return Some(unsafe { std::mem::transmute::<usize, NewCb>(app) });
        }
        Some(cb)
    })
}

/// libssl's SSL_set_SSL_CTX(). The SSL keeps its first SSL_CTX's session callbacks.
#[no_mangle]
pub extern "C" fn SSL_set_SSL_CTX(ssl: *mut Ssl, ctx: *mut SslCtx) -> *mut SslCtx {
    crate::capi::export::guard(
        "SSL_set_SSL_CTX",
        ssl as usize,
        std::ptr::null_mut(),
        || {
            type Get = unsafe extern "C" fn(*const Ssl) -> *mut SslCtx;
            let Some(f) = next_fn!(
                SSL_set_SSL_CTX,
                unsafe extern "C" fn(*mut Ssl, *mut SslCtx) -> *mut SslCtx
            ) else {
                return std::ptr::null_mut();
            };
            if !ssl.is_null() {
                if let Some(g) = next_fn!(SSL_get_SSL_CTX, Get) {
                    // SAFETY: libssl's getter on libssl's SSL.
                    let before = unsafe { g(ssl) } as usize;
                    SWITCHED.lock().entry(ssl as usize).or_insert(before);
                }
            }
            // SAFETY: libssl's function with the caller's arguments.
            unsafe { f(ssl, ctx) }
        },
    )
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
    crate::capi::export::guard("CRYPTO_new_ex_data", obj as usize, 0, || {
        if preload::layout::selftest_new(class_index, obj as usize, ad as usize) {
            return 1;
        }
        match next_fn!(
            CRYPTO_new_ex_data,
            unsafe extern "C" fn(c_int, *mut c_void, *mut c_void) -> c_int
        ) {
            // SAFETY: forwarded unchanged.
            Some(f) => unsafe { f(class_index, obj, ad) },
            None => 0,
        }
    })
}

/// libcrypto's CRYPTO_free_ex_data(), passed through, except for the one call libssl's
/// free makes for a session whose ex_data ssl-session already freed at its last
/// reference (the free itself was deferred): its callbacks must not run twice.
#[no_mangle]
pub extern "C" fn CRYPTO_free_ex_data(class_index: c_int, obj: *mut c_void, ad: *mut c_void) {
    crate::capi::export::guard("CRYPTO_free_ex_data", obj as usize, (), || {
        if preload::sanitizer::skip_free_ex_data(class_index, obj as usize)
            || preload::layout::selftest_free(class_index, obj as usize, ad as usize)
        {
            return;
        }
        if let Some(f) = next_fn!(
            CRYPTO_free_ex_data,
            unsafe extern "C" fn(c_int, *mut c_void, *mut c_void)
        ) {
            // SAFETY: forwarded unchanged.
            unsafe { f(class_index, obj, ad) }
        }
    })
}

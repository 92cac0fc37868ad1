//! The application's new-session callbacks (`SSL_CTX_sess_set_new_cb`), wrapped so that
//! the sanitizer learns whether the callback kept the session's reference (returned 1)
//! or not, and the SSL_CTX each SSL takes its callbacks from.

use crate::preload::callbacks::{fn_addr, fn_from};
use crate::sys::libssl::{self, Ssl, SslCtx};
use crate::sys::SSL_SESSION;
use libc::c_int;
use parking_lot::Mutex;
use std::collections::hash_map::DefaultHasher;
use std::collections::HashMap;
use std::hash::BuildHasherDefault;

type AddrMap = HashMap<usize, usize, BuildHasherDefault<DefaultHasher>>;

/// `SSL_CTX_sess_set_new_cb`'s callback.
pub type NewCb = unsafe extern "C" fn(*mut Ssl, *mut SSL_SESSION) -> c_int;

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
pub fn at_exit() {
    SWITCHED.lock().shrink_to_fit();
    *NEW_CBS.lock() = HashMap::with_hasher(BuildHasherDefault::new());
}

/// What libssl calls in place of the application's callback.
unsafe extern "C" fn new_trampoline(ssl: *mut Ssl, sess: *mut SSL_SESSION) -> c_int {
    crate::misuse::guard("new_session_cb", sess as usize, 0, || {
        let ctx = SWITCHED.lock().get(&(ssl as usize)).copied().or_else(|| {
            let g = libssl::ssl_get_ssl_ctx()?;
            // SAFETY: libssl's getter on libssl's SSL.
            Some(unsafe { g(ssl) } as usize)
        });
        let cb = ctx.and_then(|c| NEW_CBS.lock().get(&c).copied());
        let Some(cb) = cb else {
            return 0;
        };
        // SAFETY: the application's callback, with libssl's arguments.
        let r = unsafe { fn_from::<NewCb>(cb)(ssl, sess) };
        super::new_cb_returned(sess, r != 0, cb);
        r
    })
}

/// What libssl is given for the application's `cb` on `ctx`: our wrapper, with `cb`
/// recorded (sanitizer on), else `cb` itself.
pub fn wrap(ctx: *mut SslCtx, cb: Option<NewCb>) -> Option<NewCb> {
    match cb {
        Some(c) if super::policy::get().enabled && !ctx.is_null() => {
            NEW_CBS.lock().insert(ctx as usize, fn_addr(c));
            Some(new_trampoline as NewCb)
        }
        _ => {
            NEW_CBS.lock().remove(&(ctx as usize));
            cb
        }
    }
}

/// The application's callback behind `cb`, what libssl holds for `ctx`.
pub fn unwrap(ctx: *mut SslCtx, cb: NewCb) -> Option<NewCb> {
    if fn_addr(cb) != fn_addr(new_trampoline as NewCb) {
        return Some(cb);
    }
    let app = NEW_CBS.lock().get(&(ctx as usize)).copied()?;
    // SAFETY: recorded by `wrap` from a NewCb.
    Some(unsafe { fn_from::<NewCb>(app) })
}

/// `SSL_set_SSL_CTX(ssl, ..)` is about to run: `ssl` keeps the callbacks of the SSL_CTX
/// it has now (libssl's `session_ctx`).
pub fn switching(ssl: *mut Ssl) {
    if ssl.is_null() {
        return;
    }
    if let Some(g) = libssl::ssl_get_ssl_ctx() {
        // SAFETY: libssl's getter on libssl's SSL.
        let before = unsafe { g(ssl) } as usize;
        SWITCHED.lock().entry(ssl as usize).or_insert(before);
    }
}

/// `ssl` is being freed.
pub fn forget(ssl: *mut Ssl) {
    if !ssl.is_null() {
        SWITCHED.lock().remove(&(ssl as usize));
    }
}

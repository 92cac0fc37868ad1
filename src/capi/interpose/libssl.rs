//! libssl functions ssl-session defines only to stand between the application and libssl
//! when both are in the process (LD_PRELOAD, or linked ahead of libssl): the places where
//! the application hands libssl a session. Each forwards to libssl's definition (the next
//! one), giving it a libssl copy of a session of ours (`preload::handover`); libssl's own
//! sessions and NULL pass unchanged. Without libssl in the process they do nothing and
//! return 0. They are not part of the session API, nor of include/ssl.h.

use crate::capi::export::entry;
use crate::misuse::{self, Misuse};
use crate::preload::callbacks::{self, FindCb, GetCb, Side, UseCb};
use crate::preload::handover;
use crate::sys::libssl::{Ssl, SslCtx};
use crate::sys::SSL_SESSION;
use libc::{c_int, c_void};
use std::sync::atomic::{AtomicUsize, Ordering};

/// libssl's SSL_set_session(). A session of ours is given to libssl as a copy of libssl's
/// own; the copy holds the reference OpenSSL would take on `session`, until libssl drops
/// it (the SSL is freed or gets another session). `SSL_get_session()` then returns the
/// copy. Returns libssl's answer, or 0 (error queued) if the session cannot be copied
/// (it has no cipher) or was freed (reported).
#[no_mangle]
pub extern "C" fn SSL_set_session(to: *mut Ssl, session: *mut SSL_SESSION) -> c_int {
    entry!(next SSL_set_session(to, session) at session, |next| handover::lend(
        "SSL_set_session",
        c"SSL_set_session",
        session,
        0,
        |s| next(to, s)
    ))
}

/// libssl's SSL_CTX_add_session(). A session of ours is cached as a libssl copy holding
/// the cache's reference on `session` until libssl drops it from the cache. Unlike
/// OpenSSL, adding the same session twice returns 1 both times (each time a new copy
/// replaces the cached one; the reference count of `session` ends the same).
#[no_mangle]
pub extern "C" fn SSL_CTX_add_session(ctx: *mut SslCtx, session: *mut SSL_SESSION) -> c_int {
    entry!(next SSL_CTX_add_session(ctx, session) at session, |next| handover::lend(
        "SSL_CTX_add_session",
        c"SSL_CTX_add_session",
        session,
        0,
        |s| next(ctx, s)
    ))
}

/// libssl's SSL_CTX_remove_session(). For a session of ours, the cached session with its
/// ID is removed (freeing the copy that held its reference) and ours is marked not
/// resumable, as OpenSSL marks it. The remove callback receives libssl's copy.
#[no_mangle]
pub extern "C" fn SSL_CTX_remove_session(ctx: *mut SslCtx, session: *mut SSL_SESSION) -> c_int {
    entry!(next SSL_CTX_remove_session(ctx, session) at session, |next| {
        // Held over the call: when the cache's copy holds the last reference to ours,
        // libssl's free of that copy would otherwise destroy ours before it is marked.
        // (`Some(false)`: saturated, never freed, so nothing to hold.)
        let held =
            crate::handle::arena::live(session as usize).filter(|s| s.try_up_ref().is_some());
        let r = handover::lend(
            "SSL_CTX_remove_session",
            c"SSL_CTX_remove_session",
            session,
            0,
            |s| next(ctx, s),
        );
        if let Some(s) = held {
            {
                let mut d = s.data().write();
                if !d.session_id.as_slice().is_empty() {
                    d.not_resumable = true;
                }
            }
            crate::handle::release("SSL_CTX_remove_session", s.as_c() as usize);
        }
        r
    })
}

/// What libssl is given for the application's callback `cb` on `obj` (an SSL_CTX when
/// `ctx`): `trampoline`, with `cb` kept in the object's record (field `field`), or None
/// (the record cleared). Without a record (libcrypto gave no ex_data index, or could not
/// store it: out of memory) the setter fails: a report naming `func` (then abort, or in
/// warn mode None: no callback), never `cb` itself, which would be handed libssl's
/// sessions in place of the application's.
fn wrap<F: Copy>(
    func: &'static str,
    obj: *mut c_void,
    ctx: bool,
    field: fn(&Side) -> &AtomicUsize,
    cb: Option<F>,
    trampoline: F,
) -> Option<F> {
    let Some(cb) = cb else {
        if let Some(side) = callbacks::existing_side(obj, ctx) {
            field(side).store(0, Ordering::Release);
        }
        return None;
    };
    match callbacks::side_of(obj, ctx) {
        Some(side) => {
            field(side).store(callbacks::fn_addr(cb), Ordering::Release);
            Some(trampoline)
        }
        None => {
            misuse::report(func, obj as usize, Misuse::CallbackNotSet);
            None
        }
    }
}

/// libssl's SSL_CTX_set_psk_use_session_callback(). libssl gets our wrapper, which calls
/// `cb` and hands libssl a copy of a session of ours that `cb` returns (the copy takes
/// over the reference `cb` gave).
#[no_mangle]
pub extern "C" fn SSL_CTX_set_psk_use_session_callback(ctx: *mut SslCtx, cb: Option<UseCb>) {
    entry!(next SSL_CTX_set_psk_use_session_callback(ctx, cb) at ctx, |next| {
        let t: UseCb = callbacks::use_trampoline;
        next(ctx, wrap("SSL_CTX_set_psk_use_session_callback", ctx, true, |s| &s.use_cb, cb, t))
    })
}

/// libssl's SSL_set_psk_use_session_callback(), wrapped as for the SSL_CTX.
#[no_mangle]
pub extern "C" fn SSL_set_psk_use_session_callback(s: *mut Ssl, cb: Option<UseCb>) {
    entry!(next SSL_set_psk_use_session_callback(s, cb) at s, |next| {
        let t: UseCb = callbacks::use_trampoline;
        next(s, wrap("SSL_set_psk_use_session_callback", s, false, |s| &s.use_cb, cb, t))
    })
}

/// libssl's SSL_CTX_set_psk_find_session_callback(). libssl gets our wrapper, which calls
/// `cb` and hands libssl a copy of a session of ours that `cb` returns (the copy takes
/// over the reference `cb` gave).
#[no_mangle]
pub extern "C" fn SSL_CTX_set_psk_find_session_callback(ctx: *mut SslCtx, cb: Option<FindCb>) {
    entry!(next SSL_CTX_set_psk_find_session_callback(ctx, cb) at ctx, |next| {
        let t: FindCb = callbacks::find_trampoline;
        next(ctx, wrap("SSL_CTX_set_psk_find_session_callback", ctx, true, |s| &s.find_cb, cb, t))
    })
}

/// libssl's SSL_set_psk_find_session_callback(), wrapped as for the SSL_CTX.
#[no_mangle]
pub extern "C" fn SSL_set_psk_find_session_callback(s: *mut Ssl, cb: Option<FindCb>) {
    entry!(next SSL_set_psk_find_session_callback(s, cb) at s, |next| {
        let t: FindCb = callbacks::find_trampoline;
        next(s, wrap("SSL_set_psk_find_session_callback", s, false, |s| &s.find_cb, cb, t))
    })
}

/// libssl's SSL_CTX_sess_set_get_cb(). libssl gets our wrapper, which calls `cb` and
/// hands libssl a copy of a session of ours that `cb` returns: with `*copy` left at 1 the
/// copy holds the reference libssl would have taken; with `*copy` set to 0, the
/// reference `cb` handed over is released and the copy holds one instead.
#[no_mangle]
pub extern "C" fn SSL_CTX_sess_set_get_cb(ctx: *mut SslCtx, cb: Option<GetCb>) {
    entry!(next SSL_CTX_sess_set_get_cb(ctx, cb) at ctx, |next| {
        let t: GetCb = callbacks::get_trampoline;
        next(ctx, wrap("SSL_CTX_sess_set_get_cb", ctx, true, |s| &s.get_cb, cb, t))
    })
}

/// libssl's SSL_CTX_sess_get_get_cb(): the application's callback, not our wrapper.
#[no_mangle]
pub extern "C" fn SSL_CTX_sess_get_get_cb(ctx: *mut SslCtx) -> Option<GetCb> {
    entry!(next SSL_CTX_sess_get_get_cb(ctx) at ctx, |next| {
        let cb = next(ctx)?;
        if !callbacks::is_get_trampoline(cb as usize) {
            return Some(cb);
        }
        let app = callbacks::existing_side(ctx, true)?
            .get_cb
            .load(Ordering::Acquire);
        // SAFETY: stored by `wrap` from a GetCb the application gave us.
        (app != 0).then(|| unsafe { callbacks::fn_from::<GetCb>(app) })
    })
}

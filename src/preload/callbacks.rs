//! The application's callbacks that return a session to libssl (PSK use/find, the
//! external cache's get), wrapped: libssl calls our trampoline, which calls the
//! application's callback, found in a record we keep in the SSL_CTX's or SSL's ex_data,
//! and hands libssl its own copy of a session of ours that the callback returns
//! (`handover`).

use crate::misuse::guard;
use crate::preload::handover::{
    classify, conversion_failed, convert_transferred, free_libssl, to_libssl, Handed,
};
use crate::sys::libcrypto::CRYPTO_EX_DATA;
use crate::sys::libssl::{self, Ssl, SslCtx};
use crate::{exdata, sys::SSL_SESSION};
use libc::{c_int, c_long, c_uchar, c_void, size_t};
use parking_lot::Mutex;
use std::ptr::null_mut;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::OnceLock;

/// `SSL_psk_use_session_cb_func`.
pub type UseCb = unsafe extern "C" fn(
    *mut Ssl,
    *const c_void,
    *mut *const c_uchar,
    *mut size_t,
    *mut *mut SSL_SESSION,
) -> c_int;
/// `SSL_psk_find_session_cb_func`.
pub type FindCb =
    unsafe extern "C" fn(*mut Ssl, *const c_uchar, size_t, *mut *mut SSL_SESSION) -> c_int;
/// `SSL_CTX_sess_set_get_cb`'s callback.
pub type GetCb =
    unsafe extern "C" fn(*mut Ssl, *const c_uchar, c_int, *mut c_int) -> *mut SSL_SESSION;

pub use crate::sys::next::{fn_addr, fn_from};

/// The application's callbacks behind our trampolines (0: none). For an SSL_CTX: what
/// it set. For an SSL: a copy of its SSL_CTX's at SSL_new (libssl copies the PSK
/// callbacks then) or what was set on the SSL, and the SSL_CTX it was made from (libssl's
/// `session_ctx`, whose get callback the external cache uses).
#[derive(Default)]
pub struct Side {
    pub use_cb: AtomicUsize,
    pub find_cb: AtomicUsize,
    pub get_cb: AtomicUsize,
    pub session_ctx: AtomicUsize,
}

impl Side {
    fn copy(&self) -> Side {
        let c = |a: &AtomicUsize| AtomicUsize::new(a.load(Ordering::Relaxed));
        Side {
            use_cb: c(&self.use_cb),
            find_cb: c(&self.find_cb),
            get_cb: c(&self.get_cb),
            session_ctx: c(&self.session_ctx),
        }
    }
}

/// `CRYPTO_EX_INDEX_SSL` and `CRYPTO_EX_INDEX_SSL_CTX`.
const EX_INDEX_SSL: c_int = 0;
const EX_INDEX_SSL_CTX: c_int = 1;

/// Our ex_data indexes on SSL and SSL_CTX, registered in libcrypto the first time an
/// application sets one of the wrapped callbacks.
struct Indexes {
    ssl: c_int,
    ctx: c_int,
}

fn indexes() -> Option<&'static Indexes> {
    static IDX: OnceLock<Option<Indexes>> = OnceLock::new();
    IDX.get_or_init(|| {
        let reg = exdata::libcrypto_new_index;
        let ctx = reg(EX_INDEX_SSL_CTX, 0, null_mut(), None, None, Some(side_free));
        let ssl = reg(
            EX_INDEX_SSL,
            0,
            null_mut(),
            Some(ssl_side_new),
            Some(ssl_side_dup),
            Some(side_free),
        );
        (ctx >= 0 && ssl >= 0).then_some(Indexes { ssl, ctx })
    })
    .as_ref()
}

/// The record of an SSL_CTX, if any.
fn ctx_side(ctx: *const SslCtx) -> Option<&'static Side> {
    let idx = indexes()?;
    // SAFETY: libssl's getter on the application's SSL_CTX.
    let p = unsafe { libssl::ssl_ctx_get_ex_data()?(ctx, idx.ctx) } as *const Side;
    // SAFETY: only we store at this index, a leaked Box<Side> freed with the SSL_CTX.
    unsafe { p.as_ref() }
}

/// The record of an SSL, if any.
fn ssl_side(ssl: *const Ssl) -> Option<&'static Side> {
    let idx = indexes()?;
    // SAFETY: libssl's getter on libssl's SSL.
    let p = unsafe { libssl::ssl_get_ex_data()?(ssl, idx.ssl) } as *const Side;
    // SAFETY: as for ctx_side.
    unsafe { p.as_ref() }
}

static CREATE: Mutex<()> = Mutex::new(());

/// The record of an SSL_CTX (`ctx == true`) or SSL, if it has one.
pub fn existing_side(obj: *mut c_void, ctx: bool) -> Option<&'static Side> {
    if ctx {
        ctx_side(obj)
    } else {
        ssl_side(obj)
    }
}

/// The record of an SSL_CTX (`ctx == true`) or SSL, made if missing.
pub fn side_of(obj: *mut c_void, ctx: bool) -> Option<&'static Side> {
    let idx = indexes()?;
    // Resolved before taking the lock: a lookup may enter the loader (see loaded.rs).
    let set = if ctx {
        libssl::ssl_ctx_set_ex_data()
    } else {
        libssl::ssl_set_ex_data()
    }?;
    let _g = CREATE.lock();
    if let Some(found) = existing_side(obj, ctx) {
        return Some(found);
    }
    let side: *mut Side = Box::into_raw(Box::default());
    // SAFETY: libssl's setter on the application's object; the Box is freed by side_free.
    if unsafe { set(obj, if ctx { idx.ctx } else { idx.ssl }, side.cast()) } != 1 {
        // SAFETY: not stored anywhere.
        drop(unsafe { Box::from_raw(side) });
        return None;
    }
    // SAFETY: leaked until the object's ex_data is freed.
    Some(unsafe { &*side })
}

unsafe extern "C" fn side_free(
    _parent: *mut c_void,
    ptr: *mut c_void,
    _ad: *mut CRYPTO_EX_DATA,
    _idx: c_int,
    _argl: c_long,
    _argp: *mut c_void,
) {
    guard(
        "ex_data free of an SSL/SSL_CTX record",
        ptr as usize,
        (),
        || {
            if !ptr.is_null() {
                // SAFETY: our Box<Side>, owned by the dying object.
                drop(unsafe { Box::from_raw(ptr as *mut Side) });
            }
        },
    )
}

/// SSL_new: copy the PSK callbacks of the SSL_CTX, as libssl copies its fields.
unsafe extern "C" fn ssl_side_new(
    parent: *mut c_void,
    _ptr: *mut c_void,
    ad: *mut CRYPTO_EX_DATA,
    idx: c_int,
    _argl: c_long,
    _argp: *mut c_void,
) {
    guard("ex_data new of an SSL record", parent as usize, (), || {
        let Some(get_ctx) = libssl::ssl_get_ssl_ctx() else {
            return;
        };
        // SAFETY: libssl's SSL being made; its SSL_CTX is set before its ex_data.
        let ctx = unsafe { get_ctx(parent) };
        if ctx.is_null() {
            return;
        }
        let Some(c) = ctx_side(ctx) else { return };
        let side = Box::new(Side {
            use_cb: AtomicUsize::new(c.use_cb.load(Ordering::Relaxed)),
            find_cb: AtomicUsize::new(c.find_cb.load(Ordering::Relaxed)),
            get_cb: AtomicUsize::new(0),
            session_ctx: AtomicUsize::new(ctx as usize),
        });
        // SAFETY: the block libcrypto gave us for this SSL.
        unsafe { exdata::libcrypto_set(ad, idx, Box::into_raw(side).cast()) };
    })
}

/// SSL_dup: the copy gets its own record (replacing the one SSL_new gave it).
unsafe extern "C" fn ssl_side_dup(
    to: *mut CRYPTO_EX_DATA,
    _from: *const CRYPTO_EX_DATA,
    from_d: *mut *mut c_void,
    idx: c_int,
    _argl: c_long,
    _argp: *mut c_void,
) -> c_int {
    guard("ex_data dup of an SSL record", 0, 0, || {
        // SAFETY: libcrypto's blocks and the value it is about to copy.
        unsafe {
            let old = exdata::libcrypto_get(to, idx) as *mut Side;
            if !old.is_null() {
                drop(Box::from_raw(old));
                exdata::libcrypto_set(to, idx, null_mut());
            }
            if !from_d.is_null() && !(*from_d).is_null() {
                let copy = (*((*from_d) as *const Side)).copy();
                *from_d = Box::into_raw(Box::new(copy)).cast();
            }
        }
        1
    })
}

/// The application's callback for `ssl` in field `f` of the SSL's record, or of its
/// SSL_CTX's when the SSL has none.
fn app_cb(ssl: *mut Ssl, f: impl Fn(&Side) -> usize) -> usize {
    if let Some(s) = ssl_side(ssl) {
        return f(s);
    }
    let ctx = libssl::ssl_get_ssl_ctx()
        // SAFETY: libssl's getter on libssl's SSL.
        .map_or(null_mut(), |g| unsafe { g(ssl) });
    ctx_side(ctx).map_or(0, f)
}

// ---- the trampolines libssl calls ----------------------------------------------------------

/// The PSK use-session callback (client): the session comes back with a reference for
/// libssl; libssl's copy takes it over.
pub unsafe extern "C" fn use_trampoline(
    ssl: *mut Ssl,
    md: *const c_void,
    id: *mut *const c_uchar,
    idlen: *mut size_t,
    sess: *mut *mut SSL_SESSION,
) -> c_int {
    guard("psk_use_session_cb", ssl as usize, 0, || {
        let cb = app_cb(ssl, |s| s.use_cb.load(Ordering::Acquire));
        if cb == 0 {
            return 0;
        }
        // SAFETY: the application's callback, with libssl's arguments.
        let r = unsafe { fn_from::<UseCb>(cb)(ssl, md, id, idlen, sess) };
        // On failure libssl frees *sess itself (ours goes to our free).
        // SAFETY: sess is libssl's out-pointer.
        if r != 0 && !unsafe { convert_transferred(c"psk_use_session_cb", sess) } {
            return 0;
        }
        r
    })
}

/// The PSK find-session callback (server): as the use callback.
pub unsafe extern "C" fn find_trampoline(
    ssl: *mut Ssl,
    identity: *const c_uchar,
    identity_len: size_t,
    sess: *mut *mut SSL_SESSION,
) -> c_int {
    guard("psk_find_session_cb", ssl as usize, 0, || {
        let cb = app_cb(ssl, |s| s.find_cb.load(Ordering::Acquire));
        if cb == 0 {
            return 0;
        }
        // SAFETY: the application's callback, with libssl's arguments.
        let r = unsafe { fn_from::<FindCb>(cb)(ssl, identity, identity_len, sess) };
        // SAFETY: sess is libssl's out-pointer.
        if r != 0 && !unsafe { convert_transferred(c"psk_find_session_cb", sess) } {
            // libssl does not free *sess on failure: drop the reference it would have had.
            // SAFETY: as above.
            unsafe {
                if !crate::handle::release("SSL_SESSION_free", *sess as usize) {
                    free_libssl(*sess);
                }
                *sess = null_mut();
            }
            return 0;
        }
        r
    })
}

/// The external cache's get callback (server). With `*copy` set, libssl would take a
/// reference of its own (the copy holds one on ours); without, the application handed its
/// reference over (we release it: the copy holds one). libssl then owns the copy's only
/// reference, so `*copy` is 0 on return.
pub unsafe extern "C" fn get_trampoline(
    ssl: *mut Ssl,
    data: *const c_uchar,
    len: c_int,
    copy: *mut c_int,
) -> *mut SSL_SESSION {
    guard("get_session_cb", ssl as usize, null_mut(), || {
        // libssl asks the SSL_CTX the SSL was made from (its session_ctx).
        let ctx = ssl_side(ssl)
            .map(|s| s.session_ctx.load(Ordering::Relaxed))
            .filter(|&c| c != 0);
        let cb = match ctx {
            Some(c) => ctx_side(c as *const SslCtx).map_or(0, |s| s.get_cb.load(Ordering::Acquire)),
            None => app_cb(ssl, |s| s.get_cb.load(Ordering::Acquire)),
        };
        if cb == 0 {
            return null_mut();
        }
        // SAFETY: the application's callback, with libssl's arguments.
        let ret = unsafe { fn_from::<GetCb>(cb)(ssl, data, len, copy) };
        match classify("SSL_CTX_sess_set_get_cb", ret) {
            Handed::Ours(s) => {
                // SAFETY: copy is libssl's.
                let transferred = !copy.is_null() && unsafe { *copy } == 0;
                let l = to_libssl(s);
                if transferred {
                    crate::handle::release("SSL_SESSION_free", ret as usize);
                }
                match l {
                    Some(l) => {
                        if !copy.is_null() {
                            // SAFETY: as above.
                            unsafe { *copy = 0 };
                        }
                        l
                    }
                    None => {
                        conversion_failed(c"get_session_cb");
                        null_mut()
                    }
                }
            }
            Handed::Freed => null_mut(),
            Handed::Other => {
                if !copy.is_null() {
                    // SAFETY: copy is libssl's.
                    crate::preload::get_cb_returned(ret, unsafe { *copy }, cb);
                }
                ret
            }
        }
    })
}

pub fn is_get_trampoline(f: usize) -> bool {
    f == get_trampoline as *const () as usize
}

//! Where the application hands one of our sessions to libssl (design rule 3).
//!
//! libssl reads its private `struct ssl_session_st` out of any session it is given, so it
//! must never see ours. At each hand-over point (`api/interpose.rs`) we give libssl an
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
//! Callbacks that return a session to libssl (PSK use/find, the external cache's get) are
//! wrapped: libssl calls our trampoline, which calls the application's callback, found in
//! a record we keep in the SSL_CTX's or SSL's ex_data, and converts what it returns.

use crate::crypto::{self, CRYPTO_EX_DATA};
use crate::ffi::guard;
use crate::object::{self, Lookup, Session};
use crate::{api, exdata, misuse, next_fn, SSL_CIPHER, SSL_SESSION};
use libc::{c_int, c_long, c_uchar, c_void, size_t};
use parking_lot::Mutex;
use std::ptr::null_mut;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::OnceLock;

/// libssl's `SSL` and `SSL_CTX`, opaque.
pub type Ssl = c_void;
pub type SslCtx = c_void;

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

type Free = unsafe extern "C" fn(*mut SSL_SESSION);

/// `ERR_R_INTERNAL_ERROR`-like code for a session that could not be converted
/// (`ERR_R_PASSED_INVALID_ARGUMENT` would blame the caller; this is what libssl's
/// SSLfatal(..., ERR_R_INTERNAL_ERROR) queues).
const ERR_R_INTERNAL_ERROR: c_int = 259 | (2 << 18) | (1 << 18);

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
    if let Some(s) = object::live(p as usize) {
        return Handed::Ours(s);
    }
    match object::lookup(p as usize) {
        Lookup::Freed => {
            misuse::report(func, p as usize, misuse::Misuse::Freed);
            Handed::Freed
        }
        // A libssl session the sanitizer saw freed (reported).
        Lookup::Foreign if crate::preload::dead_use(func, p as usize) => Handed::Freed,
        _ => Handed::Other,
    }
}

fn libssl_free() -> Option<Free> {
    next_fn!(SSL_SESSION_free, Free)
}

/// Drop one reference to a libssl session.
pub fn free_libssl(l: *mut SSL_SESSION) {
    if crate::preload::internal_free(l) {
        return;
    }
    if let Some(f) = libssl_free() {
        // SAFETY: a session libssl made.
        unsafe { f(l) }
    }
}

/// Queue the error a failed conversion leaves (the caller returns its error value).
fn conversion_failed(func: &'static std::ffi::CStr) {
    crypto::raise(crypto::ERR_LIB_SSL, ERR_R_INTERNAL_ERROR, func);
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
            crypto::EX_INDEX_SSL_SESSION,
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
            api::lifecycle::SSL_SESSION_free(ptr.cast());
        }
    })
}

/// A libssl session equal to `s` (count 1), holding one reference on `s` until libssl
/// frees it. `None` when `s` cannot be encoded (a session with no cipher, which OpenSSL's
/// own i2d refuses too) or libssl is not there; nothing is changed then.
pub fn to_libssl(s: &'static Session) -> Option<*mut SSL_SESSION> {
    let idx = hold_index()?;
    let d2i = api::codec::libssl_d2i()?;
    let set_ex = next_fn!(
        SSL_SESSION_set_ex_data,
        unsafe extern "C" fn(*mut SSL_SESSION, c_int, *mut c_void) -> c_int
    )?;
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
        let mut c = crate::session::SessionData::new(0);
        let mut d = crate::der::Decoded::default();
        crate::der::decode_into(&der, &mut d).ok()?;
        crate::der::install(&d, &mut c, 0);
        c.session_id = Default::default();
        c.ticket = None;
        let mut again = Vec::new();
        crate::der::encode(&c, &mut again)?;
        crate::bytes::wipe(&mut der);
        der = again;
    }
    let mut p = der.as_ptr();
    // SAFETY: libssl's decoder over our buffer; it calls SSL_SESSION_new, which sees
    // libssl as its caller and so makes libssl's own session.
    let l = unsafe { d2i(null_mut(), &mut p, der.len() as c_long) };
    crate::bytes::wipe(&mut der);
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
        api::lifecycle::SSL_SESSION_free(s.as_c());
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
                api::lifecycle::SSL_SESSION_free(p);
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
pub fn libssl_cipher(c: &'static crate::cipher::Cipher) -> *const SSL_CIPHER {
    static FOUND: Mutex<Vec<(u32, usize)>> = Mutex::new(Vec::new());
    // Resolved before taking the lock: a lookup may enter the loader (see loaded.rs).
    let get0 = next_fn!(
        SSL_SESSION_get0_cipher,
        unsafe extern "C" fn(*const SSL_SESSION) -> *const SSL_CIPHER
    );
    let d2i = api::codec::libssl_d2i();
    let mut found = FOUND.lock();
    if let Some(&(_, p)) = found.iter().find(|(id, _)| *id == c.id) {
        return p as *const SSL_CIPHER;
    }
    let (Some(d2i), Some(get0)) = (d2i, get0) else {
        return std::ptr::null();
    };
    let mut d = crate::session::SessionData::new(0);
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

// ---- the application's callbacks, per SSL_CTX and per SSL ----------------------------------

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

type GetEx = unsafe extern "C" fn(*const c_void, c_int) -> *mut c_void;
type SetEx = unsafe extern "C" fn(*mut c_void, c_int, *mut c_void) -> c_int;

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

fn ssl_get_ex() -> Option<GetEx> {
    next_fn!(SSL_get_ex_data, GetEx)
}
fn ssl_ctx_get_ex() -> Option<GetEx> {
    next_fn!(SSL_CTX_get_ex_data, GetEx)
}

/// The record of an SSL_CTX, if any.
fn ctx_side(ctx: *const SslCtx) -> Option<&'static Side> {
    let idx = indexes()?;
    // SAFETY: libssl's getter on the application's SSL_CTX.
    let p = unsafe { ssl_ctx_get_ex()?(ctx, idx.ctx) } as *const Side;
    // SAFETY: only we store at this index, a leaked Box<Side> freed with the SSL_CTX.
    unsafe { p.as_ref() }
}

/// The record of an SSL, if any.
fn ssl_side(ssl: *const Ssl) -> Option<&'static Side> {
    let idx = indexes()?;
    // SAFETY: libssl's getter on libssl's SSL.
    let p = unsafe { ssl_get_ex()?(ssl, idx.ssl) } as *const Side;
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
        next_fn!(SSL_CTX_set_ex_data, SetEx)
    } else {
        next_fn!(SSL_set_ex_data, SetEx)
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
        let Some(get_ctx) = next_fn!(
            SSL_get_SSL_CTX,
            unsafe extern "C" fn(*const Ssl) -> *mut SslCtx
        ) else {
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
    let ctx = next_fn!(
        SSL_get_SSL_CTX,
        unsafe extern "C" fn(*const Ssl) -> *mut SslCtx
    )
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
        let r = unsafe { std::mem::transmute::<usize, UseCb>(cb)(ssl, md, id, idlen, sess) };
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
        let r =
            unsafe { std::mem::transmute::<usize, FindCb>(cb)(ssl, identity, identity_len, sess) };
        // SAFETY: sess is libssl's out-pointer.
        if r != 0 && !unsafe { convert_transferred(c"psk_find_session_cb", sess) } {
            // libssl does not free *sess on failure: drop the reference it would have had.
            // SAFETY: as above.
            unsafe {
                api::lifecycle::SSL_SESSION_free(*sess);
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
        let ret = unsafe { std::mem::transmute::<usize, GetCb>(cb)(ssl, data, len, copy) };
        match classify("SSL_CTX_sess_set_get_cb", ret) {
            Handed::Ours(s) => {
                // SAFETY: copy is libssl's.
                let transferred = !copy.is_null() && unsafe { *copy } == 0;
                let l = to_libssl(s);
                if transferred {
                    api::lifecycle::SSL_SESSION_free(ret);
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

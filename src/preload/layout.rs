//! Where libssl keeps `references`, `owner` and `ex_data` in its private
//! `struct ssl_session_st`: found at first use by a self-test against the real libssl,
//! never assumed.
//!
//! On one scratch session (libssl's own `SSL_SESSION_new`): `up_ref` must change exactly
//! one `int`, from 1 to 2, and `free` must change it back; `SSL_CTX_add_session` into a
//! scratch SSL_CTX must set exactly one pointer-sized field from NULL to that SSL_CTX,
//! and `SSL_CTX_remove_session` must clear it again; libssl's constructor and destructor
//! must call `CRYPTO_new_ex_data` / `CRYPTO_free_ex_data` through us (we define both)
//! with the session and its `ex_data` block, which gives that block's offset and proves
//! that the deferred free can run the ex_data "free" callbacks at the right moment.
//! Anything else (another OpenSSL version, a libssl bound `-Bsymbolic`) turns the
//! sanitizer off, with one line on stderr.
//!
//! During the self-test the thread's `CRYPTO_new_ex_data` / `CRYPTO_free_ex_data` calls
//! for sessions and SSL_CTXs (classes 2 and 1) are not passed on, so the application's
//! ex_data callbacks never see the scratch objects.

use crate::sys::libssl;
use crate::{next_fn, sys::SSL_SESSION};
use libc::{c_int, c_uint, c_void};
use std::cell::Cell;
use std::sync::atomic::{AtomicU8, AtomicUsize, Ordering};

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Layout {
    /// Offset of `references` (an `int`, changed atomically).
    pub refs: usize,
    /// Offset of `owner` (`SSL_CTX *`).
    pub owner: usize,
    /// Offset of `ex_data` (`CRYPTO_EX_DATA`).
    pub ex: usize,
}

const UNTESTED: u8 = 0;
const TESTING: u8 = 1;
const READY: u8 = 2;
const OFF: u8 = 3;

static STATE: AtomicU8 = AtomicU8::new(UNTESTED);
static REFS: AtomicUsize = AtomicUsize::new(0);
static OWNER: AtomicUsize = AtomicUsize::new(0);
static EX: AtomicUsize = AtomicUsize::new(0);

thread_local! {
    static SELFTEST: Cell<bool> = const { Cell::new(false) };
    /// (obj, ad) of the last class-2 `CRYPTO_new_ex_data` / `CRYPTO_free_ex_data`.
    static SAW_NEW: Cell<(usize, usize)> = const { Cell::new((0, 0)) };
    static SAW_FREE: Cell<(usize, usize)> = const { Cell::new((0, 0)) };
}

/// The layout, once the self-test passed; `None` while it runs, when it failed, when the
/// sanitizer is off, or when there is no libssl. The first call runs the self-test, then
/// `on_ready` once it passes.
#[inline(always)]
pub fn ready(on_ready: fn()) -> Option<Layout> {
    match STATE.load(Ordering::Acquire) {
        READY => Some(Layout {
            refs: REFS.load(Ordering::Relaxed),
            owner: OWNER.load(Ordering::Relaxed),
            ex: EX.load(Ordering::Relaxed),
        }),
        UNTESTED => first_use(on_ready),
        _ => None,
    }
}

/// The layout if the self-test already passed (never runs it).
pub fn ready_quiet() -> Option<Layout> {
    (STATE.load(Ordering::Acquire) == READY).then(|| Layout {
        refs: REFS.load(Ordering::Relaxed),
        owner: OWNER.load(Ordering::Relaxed),
        ex: EX.load(Ordering::Relaxed),
    })
}

/// Turn the checks off for good (at exit); the layout, if they were on.
pub fn shut_down() -> Option<Layout> {
    let l = ready_quiet();
    STATE.store(OFF, Ordering::Release);
    l
}

#[cold]
#[inline(never)]
fn first_use(on_ready: fn()) -> Option<Layout> {
    if STATE.load(Ordering::Acquire) != UNTESTED {
        return None;
    }
    if !super::policy::get().enabled {
        STATE.store(OFF, Ordering::Release);
        return None;
    }
    if STATE
        .compare_exchange(UNTESTED, TESTING, Ordering::AcqRel, Ordering::Acquire)
        .is_err()
    {
        return None;
    }
    SELFTEST.with(|t| t.set(true));
    // SAFETY: libssl's own functions on scratch objects made and freed here.
    let r = unsafe { self_test() };
    SELFTEST.with(|t| t.set(false));
    match r {
        Ok(Some(l)) => {
            REFS.store(l.refs, Ordering::Relaxed);
            OWNER.store(l.owner, Ordering::Relaxed);
            EX.store(l.ex, Ordering::Relaxed);
            STATE.store(READY, Ordering::Release);
            on_ready();
            Some(l)
        }
        Ok(None) => {
            STATE.store(OFF, Ordering::Release);
            None
        }
        Err(why) => {
            STATE.store(OFF, Ordering::Release);
            let line = format!(
                "ssl-session: reference checks on libssl's sessions are off: libssl's session \
                 layout self-test failed ({why})\n"
            );
            // SAFETY: one write of a valid buffer.
            unsafe { libc::write(2, line.as_ptr().cast(), line.len()) };
            None
        }
    }
}

/// Called by our `CRYPTO_new_ex_data`: true when the call must not be passed on (a
/// scratch object of the self-test).
#[inline]
pub fn selftest_new(class: c_int, obj: usize, ad: usize) -> bool {
    selftest_note(&SAW_NEW, class, obj, ad)
}

/// Called by our `CRYPTO_free_ex_data`, as `selftest_new`.
#[inline]
pub fn selftest_free(class: c_int, obj: usize, ad: usize) -> bool {
    selftest_note(&SAW_FREE, class, obj, ad)
}

fn selftest_note(
    saw: &'static std::thread::LocalKey<Cell<(usize, usize)>>,
    class: c_int,
    obj: usize,
    ad: usize,
) -> bool {
    if !SELFTEST.with(|t| t.get()) {
        return false;
    }
    if class == crate::sys::libcrypto::EX_INDEX_SSL_SESSION {
        saw.with(|s| s.set((obj, ad)));
    }
    class == crate::sys::libcrypto::EX_INDEX_SSL_SESSION || class == 1
}

/// The offsets where `before` and `after` differ, each as a `W`-byte word at a multiple of
/// `W`: (offset, before, after).
fn changed_words<const W: usize>(before: &[u8], after: &[u8]) -> Vec<(usize, u64, u64)> {
    let word = |b: &[u8], o: usize| {
        let mut v = [0u8; 8];
        v[..W].copy_from_slice(&b[o..o + W]);
        u64::from_le_bytes(v)
    };
    (0..before.len().min(after.len()) / W)
        .map(|i| i * W)
        .filter(|&o| before[o..o + W] != after[o..o + W])
        .map(|o| (o, word(before, o), word(after, o)))
        .collect()
}

/// The one field whose change from `before` to `after` is `(from, to)`, if the two
/// snapshots differ in `W`-byte words only there (`others_ok`: other words may change).
fn the_field<const W: usize>(
    before: &[u8],
    after: &[u8],
    from: u64,
    to: u64,
    others_ok: bool,
) -> Result<usize, String> {
    let ch = changed_words::<W>(before, after);
    let hits: Vec<usize> = ch
        .iter()
        .filter(|&&(_, b, a)| b == from && a == to)
        .map(|c| c.0)
        .collect();
    if hits.len() != 1 || (!others_ok && ch.len() != 1) {
        return Err(format!(
            "expected one {W}-byte field to go from {from:#x} to {to:#x}, saw {} such and {} changes",
            hits.len(),
            ch.len()
        ));
    }
    Ok(hits[0])
}

unsafe fn snapshot(p: *const u8, n: usize) -> Vec<u8> {
    // SAFETY: the caller's allocation has at least n bytes (malloc_usable_size).
    unsafe { std::slice::from_raw_parts(p, n) }.to_vec()
}

type SetIdFn = unsafe extern "C" fn(*mut SSL_SESSION, *const u8, c_uint) -> c_int;
type CtxNewFn = unsafe extern "C" fn(*const c_void) -> *mut c_void;
type MethodFn = unsafe extern "C" fn() -> *const c_void;
type CtxFreeFn = unsafe extern "C" fn(*mut c_void);
type CtxSessFn = unsafe extern "C" fn(*mut c_void, *mut SSL_SESSION) -> c_int;

/// `Ok(None)`: no libssl in the process (nothing to check, nothing to say).
unsafe fn self_test() -> Result<Option<Layout>, String> {
    let (
        Some(new),
        Some(free),
        Some(up),
        Some(set_id),
        Some(ctx_new),
        Some(method),
        Some(ctx_free),
        Some(add),
        Some(remove),
    ) = (
        libssl::ssl_session_new(),
        libssl::ssl_session_free(),
        libssl::ssl_session_up_ref(),
        next_fn!(SSL_SESSION_set1_id, SetIdFn),
        next_fn!(SSL_CTX_new, CtxNewFn),
        next_fn!(TLS_method, MethodFn),
        next_fn!(SSL_CTX_free, CtxFreeFn),
        next_fn!(SSL_CTX_add_session, CtxSessFn),
        next_fn!(SSL_CTX_remove_session, CtxSessFn),
    )
    else {
        return Ok(None);
    };
    // SAFETY (whole body): libssl's functions, on the scratch session and SSL_CTX made
    // here; snapshots read inside the session's allocation.
    unsafe {
        SAW_NEW.with(|s| s.set((0, 0)));
        let s = new();
        if s.is_null() {
            return Err("SSL_SESSION_new failed".into());
        }
        let (obj, ad) = SAW_NEW.with(|c| c.get());
        if obj != s as usize || ad <= obj {
            free(s);
            return Err("libssl's SSL_SESSION_new does not reach our CRYPTO_new_ex_data".into());
        }
        let ex = ad - obj;
        let size = libc::malloc_usable_size(s.cast()).min(4096);
        let p = s as *const u8;
        let result = (|| {
            if size < 64 || ex + 16 > size || ex % 8 != 0 {
                return Err(format!("implausible size {size} or ex_data offset {ex}"));
            }
            let a = snapshot(p, size);
            up(s);
            let b = snapshot(p, size);
            let refs = the_field::<4>(&a, &b, 1, 2, false)?;
            free(s);
            if snapshot(p, size) != a {
                return Err("SSL_SESSION_free did not undo SSL_SESSION_up_ref".into());
            }
            let id = [0x5au8; 32];
            if set_id(s, id.as_ptr(), 32) != 1 {
                return Err("SSL_SESSION_set1_id failed".into());
            }
            let ctx = ctx_new(method());
            if ctx.is_null() {
                return Err("SSL_CTX_new failed".into());
            }
            let r = (|| {
                let d = snapshot(p, size);
                if add(ctx, s) != 1 {
                    return Err("SSL_CTX_add_session failed".into());
                }
                let e = snapshot(p, size);
                let owner = the_field::<8>(&d, &e, 0, ctx as u64, true)?;
                if the_field::<4>(&d, &e, 1, 2, true)? != refs {
                    return Err("the cache's reference is not where up_ref counts".into());
                }
                if remove(ctx, s) != 1 {
                    return Err("SSL_CTX_remove_session failed".into());
                }
                let f = snapshot(p, size);
                if f[owner..owner + 8] != [0; 8] || f[refs..refs + 4] != 1i32.to_ne_bytes() {
                    return Err("SSL_CTX_remove_session left owner or references set".into());
                }
                Ok(Layout { refs, owner, ex })
            })();
            ctx_free(ctx);
            r
        })();
        SAW_FREE.with(|c| c.set((0, 0)));
        free(s);
        let layout = result?;
        if SAW_FREE.with(|c| c.get()) != (obj, ad) {
            return Err("libssl's SSL_SESSION_free does not reach our CRYPTO_free_ex_data".into());
        }
        Ok(Some(layout))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn one_changed_field_is_found_and_two_are_refused() {
        let a = vec![0u8; 64];
        let mut b = a.clone();
        b[12] = 1;
        assert_eq!(the_field::<4>(&a, &b, 0, 1, false), Ok(12));
        b[40] = 1;
        assert!(the_field::<4>(&a, &b, 0, 1, false).is_err());
        let mut c = a.clone();
        c[16..24].copy_from_slice(&0x1234u64.to_le_bytes());
        c[0] = 9;
        assert_eq!(the_field::<8>(&a, &c, 0, 0x1234, true), Ok(16));
        assert!(the_field::<8>(&a, &c, 0, 0x1234, false).is_err());
    }
}

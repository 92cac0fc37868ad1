//! The sanitizer's hot paths, called by the exported functions on libssl's sessions (and
//! on pointers that are not ours): up_ref and free done here on libssl's own count, the
//! deferred last free, and the checks for calls on freed sessions.
//!
//! libssl's `SSL_SESSION_up_ref` is its count's atomic increment, and its
//! `SSL_SESSION_free` an atomic decrement that frees at zero. We do both on the count
//! itself (offset from `layout.rs`), with a compare-and-swap for the decrement, so that
//! exactly one caller sees the last reference go: that free is checked (`owner` still set:
//! over-free) and deferred. The count of a deferred session stays at 0 in its memory, which
//! stays valid, and its record says it is dead: any later call is caught.
//!
//! The last free runs libcrypto's `CRYPTO_free_ex_data` for the session at once, as
//! libssl's free would, so ex_data "free" callbacks run exactly when the application would
//! see them without us. When the quarantine lets the session go, its count is set back to
//! 1 and libssl's real `SSL_SESSION_free` runs; its own `CRYPTO_free_ex_data` call reaches
//! ours (`capi/interpose/sanitize.rs`), which skips it for that session (`skip_free_ex_data`): the
//! callbacks do not run a second time.

use super::deferred::Quarantine;
use super::history::{By, Kind, Packed, Record};
use super::layout::{self, Layout};
use super::report::{self, Call, Fault};
use super::{origin, policy, symbol, table};
use crate::misuse::Misuse::NotASession;
use crate::sys::libssl;
use crate::{next_fn, sys::SSL_SESSION};
use libc::{c_int, c_void};
use parking_lot::Mutex;
use std::cell::Cell;
use std::sync::atomic::{fence, AtomicI32, AtomicUsize, Ordering};
use std::sync::Once;

static QUARANTINE: Mutex<Quarantine> = Mutex::new(Quarantine::new(
    policy::DEFAULT_COUNT,
    policy::DEFAULT_BYTES,
));

thread_local! {
    /// The session whose real (deferred) free is running on this thread.
    static REAL_FREE: Cell<usize> = const { Cell::new(0) };
}

#[inline(always)]
fn refs_of(p: usize, l: &Layout) -> &'static AtomicI32 {
    // SAFETY: p is a libssl session (the caller passed it to a session function; libssl
    // itself would touch this count): `references` is an int libssl changes atomically.
    unsafe { &*((p + l.refs) as *const AtomicI32) }
}

#[inline(always)]
fn owner_of(p: usize, l: &Layout) -> usize {
    // SAFETY: as refs_of; libssl writes `owner` under its cache lock, a racy read here
    // sees NULL or an SSL_CTX.
    unsafe { (*((p + l.owner) as *const AtomicUsize)).load(Ordering::Relaxed) }
}

/// Note an event; a session seen for the first time gets a record (`before`: its count
/// before the event).
#[inline]
fn note(p: usize, kind: Kind, by: By, site: usize, refs: i32, before: i32) {
    note_in(&origin::here(), p, kind, by, site, refs, before)
}

#[inline(always)]
#[allow(clippy::too_many_arguments)]
fn note_in(cx: &origin::Here, p: usize, kind: Kind, by: By, site: usize, refs: i32, before: i32) {
    let e = Packed {
        site,
        thread: cx.tid,
        refs,
        kind,
        by,
        within: if by == By::Libssl { cx.entry } else { 0 },
    };
    let Some(mut r) = table::get_or_insert(p, move || first_record(e, before)) else {
        return;
    };
    r.note(e);
}

/// The record of a session seen for the first time with event `e` (`before`: the count
/// before it), made by SSL_SESSION_new or first seen here.
#[cold]
#[inline(never)]
fn first_record(e: Packed, before: i32) -> Record {
    let mut r = Record::new();
    if e.kind != Kind::New {
        r.note(Packed {
            kind: Kind::Seen,
            refs: before,
            ..e
        });
    }
    r
}

fn is_dead(p: usize) -> bool {
    table::get(p).is_some_and(|r| r.is_dead())
}

/// Print the report for session `p`, then abort, unless warn mode is on.
#[cold]
#[inline(never)]
fn report(p: usize, func: &'static str, by: By, site: usize, fault: Fault) {
    let rec = table::get(p).map(|r| r.clone());
    let call = Call {
        func,
        by,
        site,
        thread: origin::thread(),
        within: origin::entry(),
    };
    let text = report::text(&call, p, fault, rec.as_ref(), &symbol::describe);
    // One write(2), so that reports from several threads do not interleave.
    // SAFETY: a valid buffer.
    unsafe { libc::write(2, text.as_ptr().cast(), text.len()) };
    if crate::misuse::aborts() {
        // SAFETY: abort takes no arguments and never returns.
        unsafe { libc::abort() }
    }
}

/// Our `SSL_SESSION_up_ref` on a pointer that is not one of our slots (NULL included),
/// called from `ra`: checked and done here on a libssl session when the sanitizer is on,
/// else forwarded to libssl. The whole path for libssl's sessions, without the pointer
/// classification `capi::export` does for the other functions (a slot of ours was ruled out).
#[inline(never)]
pub fn up_ref_foreign(ses: *mut SSL_SESSION, ra: usize) -> c_int {
    crate::misuse::guard("SSL_SESSION_up_ref", ses as usize, 0, || {
        if ses.is_null() {
            return 0;
        }
        if let Some(l) = layout() {
            if let Some(r) = up_ref(ses as usize, ra, &l) {
                return r;
            }
        }
        match libssl::ssl_session_up_ref() {
            // SAFETY: not ours: it goes, unchanged, to libssl.
            Some(f) => unsafe { f(ses) },
            None => {
                crate::misuse::report("SSL_SESSION_up_ref", ses as usize, NotASession);
                0
            }
        }
    })
}

/// Our `SSL_SESSION_free` on a pointer that is not one of our slots, as `up_ref_foreign`.
#[inline(never)]
pub fn free_foreign(ses: *mut SSL_SESSION, ra: usize) {
    crate::misuse::guard("SSL_SESSION_free", ses as usize, (), || {
        if ses.is_null() {
            return;
        }
        if let Some(l) = layout() {
            let cx = origin::here();
            if free_as(&cx, ses as usize, &l, cx.by(ra), ra).is_some() {
                return;
            }
        }
        match libssl::ssl_session_free() {
            // SAFETY: not ours: it goes, unchanged, to libssl.
            Some(f) => unsafe { f(ses) },
            None => crate::misuse::report("SSL_SESSION_free", ses as usize, NotASession),
        }
    })
}

/// up_ref on libssl's count of `p`; `None`: not known to be a session, forward it.
#[inline(always)]
fn up_ref(p: usize, ra: usize, l: &Layout) -> Option<c_int> {
    let refs = refs_of(p, l);
    let r = refs.load(Ordering::Relaxed);
    let cx = origin::here();
    if r <= 0 {
        if is_dead(p) {
            report(p, "SSL_SESSION_up_ref", cx.by(ra), ra, Fault::UseAfterFree);
            return Some(0);
        }
        return None;
    }
    let n = refs.fetch_add(1, Ordering::Relaxed) + 1;
    if !cx.quiet {
        note_in(&cx, p, Kind::UpRef, cx.by(ra), ra, n, n - 1);
    }
    Some((n > 1) as c_int)
}

/// ssl-session's own release of a libssl session (the hand-over copies): true if done.
pub fn internal_free(p: *mut SSL_SESSION) -> bool {
    let p = p as usize;
    p != 0 && layout().is_some_and(|l| free_as(&origin::here(), p, &l, By::Libssl, 0).is_some())
}

#[inline(always)]
fn free_as(cx: &origin::Here, p: usize, l: &Layout, by: By, ra: usize) -> Option<()> {
    let refs = refs_of(p, l);
    loop {
        let r = refs.load(Ordering::Relaxed);
        if r > 1 {
            if refs
                .compare_exchange_weak(r, r - 1, Ordering::Release, Ordering::Relaxed)
                .is_ok()
            {
                note_in(cx, p, Kind::Free, by, ra, r - 1, r);
                return Some(());
            }
            continue;
        }
        if r <= 0 {
            if is_dead(p) {
                report(p, "SSL_SESSION_free", by, ra, Fault::DoubleFree);
                return Some(());
            }
            return None;
        }
        let owner = owner_of(p, l);
        if owner != 0 {
            // In warn mode nothing changes: the cache keeps its reference and frees the
            // session when it lets it go.
            report(p, "SSL_SESSION_free", by, ra, Fault::OverFree { owner });
            return Some(());
        }
        if refs
            .compare_exchange(1, 0, Ordering::Release, Ordering::Relaxed)
            .is_err()
        {
            continue;
        }
        fence(Ordering::Acquire);
        note_in(cx, p, Kind::LastFree, by, ra, 0, 1);
        last_free(p, l);
        return Some(());
    }
}

type FreeExData = unsafe extern "C" fn(c_int, *mut c_void, *mut c_void);

/// The last reference is gone: ex_data "free" callbacks now, the real free later.
fn last_free(p: usize, l: &Layout) {
    if let Some(f) = next_fn!(CRYPTO_free_ex_data, FreeExData) {
        // SAFETY: libcrypto's function on the session's own ex_data block, as libssl's
        // SSL_SESSION_free calls it; it leaves the block empty.
        unsafe {
            f(
                crate::sys::libcrypto::EX_INDEX_SSL_SESSION,
                p as *mut c_void,
                (p + l.ex) as *mut c_void,
            )
        };
    }
    let bytes = estimate(p);
    let out = QUARANTINE.lock().push(p, bytes);
    for q in out {
        really_free(q, l);
    }
}

/// About what a session holds: its allocation, its ticket, and 2 KiB for a peer
/// certificate (shared with the SSL that verified it, so an upper estimate).
fn estimate(p: usize) -> usize {
    // SAFETY: a libssl session, its allocation still valid.
    let mut n = unsafe { libc::malloc_usable_size(p as *mut c_void) };
    type Ticket = unsafe extern "C" fn(*const SSL_SESSION, *mut *const u8, *mut usize);
    type Peer = unsafe extern "C" fn(*const SSL_SESSION) -> *mut c_void;
    if let Some(t) = next_fn!(SSL_SESSION_get0_ticket, Ticket) {
        let (mut tick, mut len) = (std::ptr::null(), 0usize);
        // SAFETY: libssl's getter on its session.
        unsafe { t(p as *const SSL_SESSION, &mut tick, &mut len) };
        n += len;
    }
    if let Some(g) = next_fn!(SSL_SESSION_get0_peer, Peer) {
        // SAFETY: as above.
        if !unsafe { g(p as *const SSL_SESSION) }.is_null() {
            n += 2048;
        }
    }
    n
}

/// libssl's real free of a session leaving the quarantine.
fn really_free(p: usize, l: &Layout) {
    // Forget it first: once freed, the address may come back as a new session.
    table::remove(p);
    let Some(f) = libssl::ssl_session_free() else {
        return;
    };
    refs_of(p, l).store(1, Ordering::Relaxed);
    REAL_FREE.with(|c| c.set(p));
    // SAFETY: libssl's own session, whose last reference we hold.
    unsafe { f(p as *mut SSL_SESSION) };
    REAL_FREE.with(|c| c.set(0));
}

/// Our `CRYPTO_free_ex_data`: skip the one libssl's real free of a deferred session
/// makes (its callbacks already ran at the last free).
#[inline]
pub fn skip_free_ex_data(class: c_int, obj: usize) -> bool {
    class == crate::sys::libcrypto::EX_INDEX_SSL_SESSION
        && obj != 0
        && REAL_FREE.with(|c| c.get()) == obj
}

/// Any other session function on a pointer that is not ours (`func`): true when it is a
/// freed libssl session (reported; in warn mode the caller returns its error value).
#[inline]
pub fn dead_use(func: &'static str, p: usize) -> bool {
    if p == 0 {
        return false;
    }
    let Some(l) = layout() else {
        return false;
    };
    if refs_of(p, &l).load(Ordering::Relaxed) > 0 || !is_dead(p) {
        return false;
    }
    let ra = symbol::caller_outside_us();
    let fault = if func == "SSL_SESSION_free" {
        Fault::DoubleFree
    } else {
        Fault::UseAfterFree
    };
    report(p, func, origin::of(ra), ra, fault);
    true
}

/// Whether a call on a freed session is refused in warn mode (it would change the session,
/// or its reference count) rather than answered from the still valid memory.
pub fn refused(func: &str) -> bool {
    func.contains("set") || func.contains("free") || func.ends_with("up_ref")
}

/// libssl's `SSL_SESSION_new` made `p` (called from `ra`, in libssl).
pub fn born(p: *mut SSL_SESSION, ra: usize) {
    let p = p as usize;
    if p == 0 || layout().is_none() {
        return;
    }
    if let Some(mut r) = table::get_or_insert(p, Record::new) {
        // A record left from a session freed before tracking began: not this one's.
        *r = Record::new();
    }
    note(p, Kind::New, By::Libssl, ra, 1, 0);
}

fn current_refs(p: usize) -> Option<i32> {
    if p == 0 {
        return None;
    }
    let l = layout()?;
    Some(refs_of(p, &l).load(Ordering::Relaxed))
}

/// `SSL_get_session` (`kind` GetSession) or `SSL_get1_session` returned `p` to `ra`.
pub fn seen_get(p: *mut SSL_SESSION, kind: Kind, ra: usize) {
    let p = p as usize;
    if p == 0 {
        return;
    }
    if let Some(r) = current_refs(p) {
        let by = origin::of(ra);
        if by == By::App {
            note(p, kind, by, ra, r, r);
        }
    }
}

/// Run `f` (libssl's `SSL_get1_session`) without noting its nested up_ref.
pub fn quietly<R>(f: impl FnOnce() -> R) -> R {
    origin::quietly(f)
}

/// The application's new-session callback `cb` returned `kept` for `p`.
pub fn new_cb_returned(p: *mut SSL_SESSION, kept: bool, cb: usize) {
    let p = p as usize;
    if let Some(r) = current_refs(p) {
        let kind = if kept {
            Kind::NewCbKept
        } else {
            Kind::NewCbDropped
        };
        note(p, kind, By::App, cb, r, r);
    }
}

/// The application's get-session callback `cb` returned `p` with `*copy == copy`.
pub fn get_cb_returned(p: *mut SSL_SESSION, copy: c_int, cb: usize) {
    let p = p as usize;
    if let Some(r) = current_refs(p) {
        let kind = if copy != 0 {
            Kind::GetCbCopy
        } else {
            Kind::GetCbHanded
        };
        note(p, kind, By::App, cb, r, r);
    }
}

/// libssl's layout, self-tested at the first use.
#[inline(always)]
fn layout() -> Option<Layout> {
    layout::ready(on_ready)
}

/// The layout self-test passed: at exit, list the leaks (if asked) and let the quarantine
/// go, so that a clean program ends with nothing left behind.
fn on_ready() {
    static HOOK: Once = Once::new();
    HOOK.call_once(|| {
        let s = policy::get();
        QUARANTINE.lock().set_bounds(s.max_count, s.max_bytes);
        extern "C" fn at_exit() {
            crate::misuse::guard("SSL_SESSION_LEAKS exit report", 0, (), || {
                if policy::get().leaks {
                    list_leaks();
                }
                // From here on, plain forwarding: what is freed after us needs no record.
                if let Some(l) = layout::shut_down() {
                    let out = QUARANTINE.lock().drain();
                    for q in out {
                        really_free(q, &l);
                    }
                }
                table::clear();
                super::new_session::at_exit();
            })
        }
        // SAFETY: registering a plain function.
        unsafe { libc::atexit(at_exit) };
    });
}

/// SSL_SESSION_LEAKS=1: the live sessions on which the application still holds
/// references it took.
fn list_leaks() {
    let mut leaks: Vec<(usize, Record)> = table::snapshot()
        .into_iter()
        .filter(|(_, r)| !r.is_dead() && r.app_refs > 0)
        .collect();
    leaks.sort_by_key(|l| l.0);
    let mut out = String::new();
    for (p, r) in &leaks {
        out.push_str(&report::leak_text(*p, r, &symbol::describe));
    }
    if leaks.is_empty() {
        out.push_str("ssl-session: leaks: none (every reference the application took on a libssl session was given back)\n");
    }
    // SAFETY: a valid buffer.
    unsafe { libc::write(2, out.as_ptr().cast(), out.len()) };
}

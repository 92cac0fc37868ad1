//! The one place where a C call becomes safe Rust: pointer classification, forwarding of
//! objects that are not ours, the misuse report, and panic catching. Every exported
//! function's body is a call to one of these helpers.

use crate::cipher::{self, Cipher};
use crate::misuse::{self, Misuse};
use crate::object::{self, Lookup, Session};
use std::panic::{catch_unwind, AssertUnwindSafe};

/// Run `body` with the session behind `ptr`.
///
/// - NULL: returns `err` (OpenSSL often crashes; we never do).
/// - A freed session: misuse report, then `err` in warn mode.
/// - Not one of ours: `foreign()` hands it to the next definition of the function (libssl,
///   when we are preloaded next to it); with none, it is reported as not a session.
/// - A panic inside `body` is caught and reported; `err` is returned.
#[inline]
pub fn with_session<R: Copy>(
    func: &'static str,
    ptr: *const crate::SSL_SESSION,
    err: R,
    foreign: impl FnOnce() -> Option<R>,
    body: impl FnOnce(&'static Session) -> R,
) -> R {
    if let Some(s) = object::live(ptr as usize) {
        return guard(func, ptr as usize, err, || body(s));
    }
    not_live(func, ptr, err, foreign)
}

/// Like `with_session`, for bodies that check liveness themselves from the result of an
/// atomic instruction on the slot (up_ref, free): `body` gets any slot of ours and
/// returns `None`, having changed nothing, when it is not a live session. Anything that
/// is not a slot of ours (NULL included) goes to `not_ours` at once: the preload's own
/// path for libssl's sessions, which checks, forwards and reports by itself.
#[inline(always)]
pub fn with_slot<R: Copy>(
    func: &'static str,
    ptr: *const crate::SSL_SESSION,
    err: R,
    not_ours: impl FnOnce() -> R,
    body: impl FnOnce(&'static Session) -> Option<R>,
) -> R {
    let Some(s) = object::slot(ptr as usize) else {
        return not_ours();
    };
    if let Some(r) = guard(func, ptr as usize, Some(err), || body(s)) {
        return r;
    }
    not_live(func, ptr, err, || None)
}

/// NULL, freed, foreign, or a live session of ours whose count was already 0.
#[cold]
#[inline(never)]
fn not_live<R: Copy>(
    func: &'static str,
    ptr: *const crate::SSL_SESSION,
    err: R,
    foreign: impl FnOnce() -> Option<R>,
) -> R {
    match object::lookup(ptr as usize) {
        // Only reached through with_slot: two threads freed the last reference at once.
        Lookup::Ours => {
            misuse::report(func, ptr as usize, Misuse::Underflow);
            err
        }
        Lookup::Null => err,
        Lookup::Freed => {
            misuse::report(func, ptr as usize, Misuse::Freed);
            err
        }
        // A libssl session the sanitizer saw freed: reported; in warn mode a call that
        // would change it returns `err`, a getter reads the still valid memory.
        Lookup::Foreign
            if crate::preload::dead_use(func, ptr as usize) && crate::preload::refused(func) =>
        {
            err
        }
        Lookup::Foreign => foreign().unwrap_or_else(|| {
            misuse::report(func, ptr as usize, Misuse::NotASession);
            err
        }),
    }
}

/// Run `body` with the cipher behind `ptr`.
///
/// - One of our table entries: `body` answers.
/// - NULL: returns `null`, the answer libssl gives for a NULL cipher (or, where libssl
///   crashes on NULL, our error value).
/// - Anything else is a libssl `SSL_CIPHER` (from `SSL_get_current_cipher`,
///   `SSL_CIPHER_find`, ...): `foreign()` hands it to libssl's definition of the function.
///   With none (no libssl loaded, or it lacks the function), nobody can read it: reported
///   as not a cipher, then `null` in warn mode.
#[inline]
pub fn with_cipher<R: Copy>(
    func: &'static str,
    ptr: *const crate::SSL_CIPHER,
    null: R,
    foreign: impl FnOnce() -> Option<R>,
    body: impl FnOnce(&'static Cipher) -> R,
) -> R {
    if ptr.is_null() {
        return null;
    }
    match cipher::from_addr(ptr as usize) {
        Some(c) => guard(func, ptr as usize, null, || body(c)),
        // Inside our table but not an entry: ours, wrong; never libssl's to read.
        None if cipher::in_table(ptr as usize) => {
            misuse::report(func, ptr as usize, Misuse::NotACipher);
            null
        }
        None => foreign().unwrap_or_else(|| {
            misuse::report(func, ptr as usize, Misuse::NotACipher);
            null
        }),
    }
}

/// Run `body`, turning a panic into a report and `err`: no panic crosses into C.
#[inline]
pub fn guard<R: Copy>(func: &'static str, addr: usize, err: R, body: impl FnOnce() -> R) -> R {
    catch_unwind(AssertUnwindSafe(body)).unwrap_or_else(|_| {
        misuse::report(func, addr, Misuse::Panic);
        err
    })
}

/// Write `value` through an optional C out-pointer.
///
/// # Safety
/// `out` is NULL or valid for a write of `T`.
#[inline]
pub unsafe fn put<T>(out: *mut T, value: T) {
    if !out.is_null() {
        out.write(value);
    }
}

/// A C buffer as a slice; `None` for NULL with a non-zero length (OpenSSL would crash).
///
/// # Safety
/// Non-NULL `p` is valid for `len` bytes.
#[inline]
pub unsafe fn slice<'a>(p: *const u8, len: usize) -> Option<&'a [u8]> {
    if len == 0 {
        Some(&[])
    } else if p.is_null() {
        None
    } else {
        Some(std::slice::from_raw_parts(p, len))
    }
}

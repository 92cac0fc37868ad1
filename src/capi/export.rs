//! The one place where a C call becomes safe Rust.
//!
//! Every export's body is one `entry!`, which writes what each export needs once, from the
//! export's own name and signature:
//!
//! - the panic guard: no panic crosses into C; a panic is reported and the export returns
//!   its error value;
//! - the error value, from the C return type (`NoAnswer`: 0, NULL, nothing), unless the
//!   entry names another with `or`;
//! - the classification of the pointer C handed us (`with_session`, `with_slot`,
//!   `with_cipher`): ours and live, NULL, freed (a misuse report), or not ours;
//! - the forwarding of an object that is not ours to the next definition of the same
//!   symbol (libssl's), called with the export's own C type, inferred from the export
//!   itself, so that it cannot differ from the prototype C sees.
//!
//! The forms:
//!
//! ```text
//! entry!(session NAME(s, args..) [on x] [or ERR], |session| ..)  // a session of ours, or forwarded
//! entry!(session NAME(s, args..) via |next| .., |session| ..)     // .. or handed to `via`
//! entry!(slot    NAME(s) [or ERR], || not_ours, |slot| -> Option<R>) // up_ref, free: liveness from the atomic op
//! entry!(cipher  NAME(c, args..) [or NULL_ANSWER], |cipher| ..)    // a cipher of our table, or forwarded
//! entry!(next    NAME(args..) [at arg] [or ERR], |next| ..)       // a libssl/libcrypto function we stand in front of
//! entry!(guard   NAME [at arg] [or ERR], || ..)                   // only the guard: the body decides
//! ```
//!
//! The pointer contract, stated once: C vouches for every pointer it passes, as with
//! OpenSSL. We check what can be checked without reading through a pointer that is not
//! ours (NULL, our own slots, our cipher table) and pass everything else on unchanged.

use crate::handle::arena::{self, Lookup, Session};
use crate::misuse::{self, Misuse};
use crate::model::cipher::{self, Cipher};

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
    ptr: *const crate::sys::SSL_SESSION,
    err: R,
    foreign: impl FnOnce() -> Option<R>,
    body: impl FnOnce(&'static Session) -> R,
) -> R {
    if let Some(s) = arena::live(ptr as usize) {
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
    ptr: *const crate::sys::SSL_SESSION,
    err: R,
    not_ours: impl FnOnce() -> R,
    body: impl FnOnce(&'static Session) -> Option<R>,
) -> R {
    let Some(s) = arena::slot(ptr as usize) else {
        return not_ours();
    };
    if let Some(r) = misuse::guard(func, ptr as usize, Some(err), || body(s)) {
        return r;
    }
    not_live(func, ptr, err, || None)
}

/// NULL, freed, foreign, or a live session of ours whose count was already 0.
#[cold]
#[inline(never)]
fn not_live<R: Copy>(
    func: &'static str,
    ptr: *const crate::sys::SSL_SESSION,
    err: R,
    foreign: impl FnOnce() -> Option<R>,
) -> R {
    match arena::lookup(ptr as usize) {
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
    ptr: *const crate::sys::SSL_CIPHER,
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

pub use crate::misuse::guard;

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

/// The value an export returns when it has no answer (NULL argument, a misuse report in
/// warn mode, a caught panic, no libssl to forward to): that of its C return type.
pub trait NoAnswer: Copy {
    const VALUE: Self;
}

macro_rules! no_answer {
    ($($t:ty = $v:expr),* $(,)?) => {
        $(impl NoAnswer for $t {
            const VALUE: Self = $v;
        })*
    };
}
no_answer!(
    () = (),
    i32 = 0,
    u32 = 0,
    i64 = 0,
    u64 = 0,
    u16 = 0,
    u8 = 0,
    usize = 0
);

impl<T> NoAnswer for *const T {
    const VALUE: Self = std::ptr::null();
}
impl<T> NoAnswer for *mut T {
    const VALUE: Self = std::ptr::null_mut();
}
impl<F: Copy> NoAnswer for Option<F> {
    const VALUE: Self = None;
}

/// `body(next)`, with the closure's parameter typed by `next` (a closure called in place
/// would not know it).
#[inline(always)]
pub fn apply<F, R>(next: F, body: impl FnOnce(F) -> R) -> R {
    body(next)
}

/// `R`'s `NoAnswer` value, for an `entry!` without `or`.
#[inline(always)]
pub fn no_answer<R: NoAnswer>() -> R {
    R::VALUE
}

/// `addr`, the address of the next definition of an export, as the export's own function
/// pointer type `F` (`like` only names that type).
///
/// # Safety
/// `addr` is the address of a function with `F`'s C prototype.
#[inline(always)]
pub unsafe fn as_fn<F: Copy>(_like: F, addr: usize) -> F {
    // SAFETY: by the caller's contract.
    unsafe { crate::sys::next::fn_from(addr) }
}

/// The next definition of the export `$name` (libssl's, or libcrypto's), typed as the
/// export itself: `Option<extern "C" fn(..) -> ..>`. `for obj`: that of the libssl copy
/// holding `obj`, when several are loaded.
macro_rules! next_of {
    ($name:ident($($arg:ident),*) $(for $obj:expr)?) => {{
        static NEXT: $crate::sys::next::NextSym =
            $crate::sys::next::NextSym::new(concat!(stringify!($name), "\0"));
        let own = $name as extern "C" fn($($crate::capi::export::infer!($arg)),*) -> _;
        $crate::capi::export::next_of!(@get NEXT $($obj)?).map(|a| {
            // SAFETY: the next definition of this very symbol has this very C prototype:
            // the export's, which is OpenSSL's.
            unsafe { $crate::capi::export::as_fn(own, a) }
        })
    }};
    (@get $next:ident) => { $next.get() };
    (@get $next:ident $obj:expr) => { $next.get_for($obj as usize) };
}
pub(crate) use next_of;

/// One `_` per argument, for the inferred function pointer type.
macro_rules! infer {
    ($arg:ident) => {
        _
    };
}
pub(crate) use infer;

/// The error value of an entry: the one given with `or`, else the return type's.
macro_rules! err_value {
    () => {
        $crate::capi::export::no_answer()
    };
    ($err:expr) => {
        $err
    };
}
pub(crate) use err_value;

/// The body of every export: see the module documentation.
macro_rules! entry {
    (session $name:ident($($arg:ident),*) on $obj:ident $(or $err:expr)?, $body:expr $(,)?) => {
        $crate::capi::export::with_session(
            stringify!($name),
            $obj,
            $crate::capi::export::err_value!($($err)?),
            || $crate::capi::export::next_of!($name($($arg),*)).map(|f| f($($arg),*)),
            $body,
        )
    };
    // `via |next| ..`: what to do with a session that is not ours, given the next definition.
    (session $name:ident($obj:ident $(, $arg:ident)*) via $via:expr, $body:expr $(,)?) => {
        $crate::capi::export::with_session(
            stringify!($name),
            $obj,
            $crate::capi::export::no_answer(),
            || $crate::capi::export::next_of!($name($obj $(, $arg)*)).map($via),
            $body,
        )
    };
    (session $name:ident($obj:ident $(, $arg:ident)*) $(or $err:expr)?, $body:expr $(,)?) => {
        $crate::capi::export::entry!(session $name($obj $(, $arg)*) on $obj $(or $err)?, $body)
    };
    // `$not_ours`: what is not a slot of ours (NULL included) goes there at once: the
    // preload's own path for libssl's sessions, which checks, forwards and reports.
    (slot $name:ident($obj:ident) $(or $err:expr)?, $not_ours:expr, $body:expr $(,)?) => {
        $crate::capi::export::with_slot(
            stringify!($name),
            $obj,
            $crate::capi::export::err_value!($($err)?),
            $not_ours,
            $body,
        )
    };
    (cipher $name:ident($obj:ident $(, $arg:ident)*) $(or $err:expr)?, $body:expr $(,)?) => {
        $crate::capi::export::with_cipher(
            stringify!($name),
            $obj,
            $crate::capi::export::err_value!($($err)?),
            || $crate::capi::export::next_of!($name($obj $(, $arg)*) for $obj)
                .map(|f| f($obj $(, $arg)*)),
            $body,
        )
    };
    (next $name:ident($($arg:ident),*) $(at $addr:ident)? $(or $err:expr)?, $body:expr $(,)?) => {
        $crate::misuse::guard(
            stringify!($name),
            $crate::capi::export::entry!(@addr $($addr)?),
            $crate::capi::export::err_value!($($err)?),
            || match $crate::capi::export::next_of!($name($($arg),*)) {
                Some(next) => $crate::capi::export::apply(next, $body),
                None => $crate::capi::export::err_value!($($err)?),
            },
        )
    };
    (guard $name:ident $(at $addr:ident)? $(or $err:expr)?, $body:expr $(,)?) => {
        $crate::misuse::guard(
            stringify!($name),
            $crate::capi::export::entry!(@addr $($addr)?),
            $crate::capi::export::err_value!($($err)?),
            $body,
        )
    };
    (@addr) => { 0 };
    (@addr $addr:ident) => { $addr as usize };
}
pub(crate) use entry;

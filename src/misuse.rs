//! The misuse report: one line on stderr naming the function, the pointer and what went
//! wrong, then `abort()`, or only the line when `SSL_SESSION_MISUSE=warn`.

use std::panic::{catch_unwind, AssertUnwindSafe};
use std::sync::atomic::{AtomicU8, Ordering};

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Misuse {
    /// The pointer is a session we destroyed: a double free or a use after free.
    Freed,
    /// The pointer was never returned by ssl-session (and no other library owns it).
    NotASession,
    /// A cipher pointer that is neither in our table nor readable by a loaded libssl.
    NotACipher,
    /// More frees than references, seen by two threads racing on the last one.
    Underflow,
    /// A Rust panic was stopped at the C boundary (a bug in ssl-session).
    Panic,
    /// A callback setter under the preload could not keep the application's callback
    /// (libcrypto gave no ex_data index or slot for the SSL/SSL_CTX): nothing was set.
    CallbackNotSet,
}

impl Misuse {
    fn what(self) -> &'static str {
        match self {
            Misuse::Freed => "session already freed (double free or use after free)",
            Misuse::NotASession => "not an SSL_SESSION (pointer was never returned by ssl-session)",
            Misuse::NotACipher => {
                "not an SSL_CIPHER (not ssl-session's, and no loaded libssl defines this function)"
            }
            Misuse::Underflow => "reference count underflow (more frees than references)",
            Misuse::Panic => "internal error (Rust panic caught at the C boundary)",
            Misuse::CallbackNotSet => {
                "callback not set (libcrypto gave no ex_data slot to keep it; out of memory?)"
            }
        }
    }
}

/// The text of the report, without the newline.
pub fn message(func: &str, addr: usize, m: Misuse) -> String {
    format!("ssl-session: {func}({addr:#x}): {}", m.what())
}

const UNREAD: u8 = 0;
const ABORT: u8 = 1;
const WARN: u8 = 2;
static POLICY: AtomicU8 = AtomicU8::new(UNREAD);

/// Whether misuse aborts: read once from `SSL_SESSION_MISUSE` (only `warn` changes it).
pub(crate) fn aborts() -> bool {
    let mut p = POLICY.load(Ordering::Relaxed);
    if p == UNREAD {
        p = match std::env::var_os("SSL_SESSION_MISUSE") {
            Some(v) if v == "warn" => WARN,
            _ => ABORT,
        };
        POLICY.store(p, Ordering::Relaxed);
    }
    p == ABORT
}

/// Print the one-line report, then abort unless warn mode is on. Returns only in warn
/// mode, and the caller then returns its error value without touching the object.
#[cold]
pub fn report(func: &str, addr: usize, m: Misuse) {
    let mut line = message(func, addr, m);
    line.push('\n');
    // One write(2), so lines from several threads do not interleave.
    // SAFETY: the buffer is valid for its length.
    unsafe {
        libc::write(2, line.as_ptr().cast(), line.len());
    }
    if aborts() {
        // SAFETY: abort never returns and takes no arguments.
        unsafe { libc::abort() }
    }
}

/// A fault that would corrupt libssl if the call went on (no libssl definition for a call
/// libssl made, or for one of its objects): one line naming the function and why, then
/// abort, whatever `SSL_SESSION_MISUSE` says.
#[cold]
pub fn fatal(func: &str, why: &str) -> ! {
    let line = format!("ssl-session: {func}: {why}; aborting\n");
    // SAFETY: the buffer is valid for its length; abort never returns.
    unsafe {
        libc::write(2, line.as_ptr().cast(), line.len());
        libc::abort()
    }
}

/// Run `body`, turning a panic into a report and `err`: no panic crosses into C.
#[inline]
pub fn guard<R: Copy>(func: &'static str, addr: usize, err: R, body: impl FnOnce() -> R) -> R {
    catch_unwind(AssertUnwindSafe(body)).unwrap_or_else(|_| {
        report(func, addr, Misuse::Panic);
        err
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_line_names_function_pointer_and_fault() {
        assert_eq!(
            message("SSL_SESSION_free", 0x5581_0000_1230, Misuse::Freed),
            "ssl-session: SSL_SESSION_free(0x558100001230): session already freed (double free or use after free)"
        );
    }
}

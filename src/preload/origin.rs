//! Who made a call: libssl (its own code, or libcrypto's stack and hash helpers calling
//! back while the application is inside an interposed libssl entry point such as
//! `SSL_CTX_flush_sessions`, whose `sk_SSL_SESSION_pop_free(sk, SSL_SESSION_free)` frees
//! from libcrypto), or the application. And the thread's libssl entry point, for the
//! report's `SSL_free → SSL_SESSION_free` form.

use super::history::{entry_index, By, ENTRIES};
use std::cell::Cell;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Once;

/// What the hot path needs to know about its thread, in one thread-local (a shared
/// library's thread-locals cost a `__tls_get_addr` call each).
#[derive(Clone, Copy)]
pub struct Here {
    /// The kernel's thread id (0 until first asked).
    pub tid: u32,
    /// How deep the thread is in interposed libssl entry points, and the outermost one.
    depth: u32,
    /// Index in `history::ENTRIES`.
    pub entry: u8,
    /// Inside our SSL_get1_session: libssl's nested up_ref is that call's, not an event.
    pub quiet: bool,
}

/// The thread's state, one `Cell` per field: read field by field, so that no copy of a
/// packed struct goes through the stack (whose mixed-width stores and loads stalled the
/// hot path on store forwarding).
struct Cells {
    tid: Cell<u32>,
    depth: Cell<u32>,
    entry: Cell<u8>,
    quiet: Cell<bool>,
}

thread_local! {
    static HERE: Cells = const {
        Cells {
            tid: Cell::new(0),
            depth: Cell::new(0),
            entry: Cell::new(0),
            quiet: Cell::new(false),
        }
    };
}

/// The thread's state (its id filled in on first use).
#[inline]
pub fn here() -> Here {
    HERE.with(|h| {
        let mut tid = h.tid.get();
        if tid == 0 {
            // SAFETY: gettid takes no arguments and cannot fail.
            tid = unsafe { libc::syscall(libc::SYS_gettid) } as u32;
            h.tid.set(tid);
        }
        Here {
            tid,
            depth: h.depth.get(),
            entry: h.entry.get(),
            quiet: h.quiet.get(),
        }
    })
}

/// The thread's kernel id.
pub fn thread() -> u32 {
    here().tid
}

/// Run `f` as inside libssl's `name` (the application called it).
#[inline]
pub fn within<R>(name: &'static str, f: impl FnOnce() -> R) -> R {
    let (depth, entry) = HERE.with(|h| {
        let (d, e) = (h.depth.get(), h.entry.get());
        if d == 0 {
            h.entry.set(entry_index(name));
        }
        h.depth.set(d + 1);
        (d, e)
    });
    let r = f();
    HERE.with(|h| {
        h.depth.set(depth);
        h.entry.set(entry);
    });
    r
}

/// Run `f` with the thread's up_ref events not noted.
pub fn quietly<R>(f: impl FnOnce() -> R) -> R {
    HERE.with(|h| h.quiet.set(true));
    let r = f();
    HERE.with(|h| h.quiet.set(false));
    r
}

/// The thread's outermost libssl entry point, or "".
pub fn entry() -> &'static str {
    ENTRIES[here().entry as usize % ENTRIES.len()]
}

static CRYPTO_START: AtomicUsize = AtomicUsize::new(0);
static CRYPTO_LEN: AtomicUsize = AtomicUsize::new(0);

/// libcrypto's executable range, found once from the object holding `CRYPTO_free`.
fn in_libcrypto(ra: usize) -> bool {
    static FIND: Once = Once::new();
    FIND.call_once(|| {
        let Some(f) = crate::next_fn!(CRYPTO_free, unsafe extern "C" fn(*mut libc::c_void)) else {
            return;
        };
        if let Some((s, e)) = crate::sys::loaded::text_span_of(f as usize) {
            CRYPTO_START.store(s, Ordering::Relaxed);
            CRYPTO_LEN.store(e - s, Ordering::Relaxed);
        }
    });
    ra.wrapping_sub(CRYPTO_START.load(Ordering::Relaxed)) < CRYPTO_LEN.load(Ordering::Relaxed)
}

impl Here {
    /// Who called, from the return address `ra` (0: ssl-session itself, on libssl's
    /// behalf).
    #[inline]
    pub fn by(&self, ra: usize) -> By {
        if ra == 0
            || crate::sys::caller::libssl_at(ra).is_some()
            || (self.depth > 0 && in_libcrypto(ra))
        {
            return By::Libssl;
        }
        By::App
    }
}

/// `here().by(ra)`.
pub fn of(ra: usize) -> By {
    here().by(ra)
}

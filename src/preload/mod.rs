//! The LD_PRELOAD wing's sanitizer: reference-count misuse on libssl's own sessions.
//!
//! Our own sessions catch double frees and uses after free by themselves (`object.rs`).
//! libssl's sessions are forwarded to libssl (design rule 1), but every change of their
//! reference count still passes through us: libssl calls `SSL_SESSION_up_ref` and
//! `SSL_SESSION_free` through its PLT, and `references` changes nowhere else. So for a
//! libssl session we
//!
//! - keep a side record per address (`history.rs`): a short history of reference events
//!   (function, caller, thread, count after) and how many references the *application*
//!   holds, as far as its calls say;
//! - read libssl's `references` and `owner` (the SSL_CTX whose cache holds the session)
//!   at offsets found by a self-test against the real libssl at first use (`layout.rs`);
//!   a failed self-test turns the checks off with one line on stderr;
//! - catch a last reference dropped while `owner` is set (always an over-free), and defer
//!   every last free into a bounded quarantine (`deferred.rs`), so that any later call on
//!   the pointer, by the application or by libssl, is recognised as a use after free or a
//!   double free; the ex_data "free" callbacks still run at the last free;
//! - report with the history and a likely culprit (`report.rs`, `symbol.rs`), then abort,
//!   or with `SSL_SESSION_MISUSE=warn` leave everything as it was (`policy.rs`).
//!
//! `sanitizer.rs` holds the hot paths the exported functions call; `origin.rs` says
//! whether a return address is libssl's or the application's. `SSL_SESSION_SANITIZE=0`
//! turns all of it off: plain forwarding.

pub mod deferred;
pub mod history;
pub mod layout;
pub mod origin;
pub mod policy;
pub mod report;
pub mod sanitizer;
pub mod spin;
pub mod symbol;
pub mod table;

pub use sanitizer::{
    born, dead_use, free_foreign, get_cb_returned, internal_free, new_cb_returned, refused,
    seen_get, up_ref_foreign,
};

/// The body of a naked entry with one integer argument: the return address becomes the
/// second argument, then a tail jump to `{f}` (as `entry.rs` does for the constructors).
#[cfg(target_arch = "x86_64")]
macro_rules! pass_caller_1 {
    () => {
        "mov rsi, [rsp]\njmp {f}"
    };
}

#[cfg(target_arch = "aarch64")]
macro_rules! pass_caller_1 {
    () => {
        "mov x1, x30\nb {f}"
    };
}

#[cfg(any(target_arch = "x86_64", target_arch = "aarch64"))]
pub(crate) use pass_caller_1;

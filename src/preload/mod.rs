//! The LD_PRELOAD wing: what matters only when libssl is in the process beside us
//! (preloaded, or linked ahead of it). `docs/preload.md` tells the whole story.
//!
//! - `handover`: libssl never sees a session of ours. Where the application hands one to
//!   libssl (`SSL_set_session`, the cache, PSK), libssl gets its own copy, made by its
//!   own `d2i_SSL_SESSION` from our DER, holding the reference OpenSSL would hold on ours.
//! - `callbacks`: the application's callbacks that return a session to libssl (PSK
//!   use/find, the external cache's get) are wrapped, so what they return goes through
//!   `handover`; `new_session` wraps the new-session callback for the sanitizer.
//! - The sanitizer, below: reference-count misuse on libssl's own sessions.
//!
//! Which calls are forwarded at all is decided in one place, `capi::export`: a pointer
//! that is not one of our sessions (or ciphers) goes to libssl's definition of the same
//! function (`sys::next`); constructors called from inside libssl go to that libssl's
//! own (`sys::caller`). Nothing here calls an exported function.
//!
//! ## The sanitizer
//!
//! Our own sessions catch double frees and uses after free by themselves (`handle`).
//! libssl's sessions are forwarded to libssl, never read as ours, but every change of their
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

pub mod callbacks;
pub mod deferred;
pub mod handover;
pub mod history;
pub mod layout;
pub mod new_session;
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

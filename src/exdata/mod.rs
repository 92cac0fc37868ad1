//! Session ex_data (libcrypto's class 2), with callbacks dispatched by us when we can.
//!
//! Applications register session ex_data indexes with the `SSL_SESSION_get_ex_new_index`
//! macro, which calls `CRYPTO_get_ex_new_index(2, ...)`. libcrypto then runs the "new",
//! "dup" and "free" callbacks from `CRYPTO_new/dup/free_ex_data`, each of which takes a
//! process-wide lock: ~100 ns per session created or freed, more than everything else we do.
//!
//! So we keep our own copy of class 2's registry (`Registry`) and dispatch the callbacks
//! ourselves, exactly as libcrypto 3.0 would (same calls, arguments and order), and we
//! keep a session's values in the session (`Slots`) rather than in a libcrypto stack
//! (two mallocs per session). Callbacks get a real `CRYPTO_EX_DATA *` (the session's
//! `ex` field) and may call `CRYPTO_get/set_ex_data` on it: we define those two as well,
//! serve our sessions' blocks from `Slots`, and pass every other block to libcrypto.
//! The copy is exact when both hold:
//! 1. when we first look, class 2 has never had an index (`probe_registered` asks libcrypto
//!    without side effects), and
//! 2. every registration and unregistration of the process goes through our definitions of
//!    `CRYPTO_get_ex_new_index` / `CRYPTO_free_ex_index` (which forward to libcrypto and
//!    update our copy), and every `CRYPTO_get/set_ex_data` call reaches ours: that is so
//!    when the process resolves those names to us, because we are linked or preloaded
//!    ahead of libcrypto.
//!
//! Otherwise we use libcrypto's own `CRYPTO_*_ex_data` for everything, which is always
//! correct, only slower. The choice is made once, before the first session exists.
//!
//! `registry`: our copy of the registry and the choice of mode; `slots`: the values a
//! session holds; `dispatch`: the callbacks and the value access, as libcrypto does them.

mod dispatch;
mod registry;
mod slots;

pub use dispatch::{get_value, on_dup, on_free, on_new, set_value};
pub use registry::{
    before_registration, libcrypto_get, libcrypto_new_index, libcrypto_set, own_slots, registered,
    unregistered,
};
pub use slots::Slots;

//! ssl-session: OpenSSL 3.0's `SSL_SESSION` object as a C-ABI library, with misuse
//! (double free, use after free, foreign pointers) reported at the faulty call.
//!
//! Read top-down, one room per concern, each depending only on the rooms below it:
//!
//! - `capi/`: every exported C function, and nothing else exported. Start here.
//! - `preload/`: what only matters next to libssl (LD_PRELOAD): handing our sessions to
//!   libssl, the callbacks that return sessions to it, and the sanitizer of its sessions.
//! - `handle/`: recognising what C hands us: the slot arena, classification, quarantine.
//! - `exdata/`: session ex_data, dispatched as libcrypto would.
//! - `der/`, `text/`: the codec (DER) and the printers, safe Rust.
//! - `model/`: the session's fields and the cipher table, safe Rust.
//! - `sys/`: the C world: the opaque C types, libcrypto's and libssl's declarations, where
//!   a forwarded call goes (`next`), and who called (`caller`, `loaded`).
//! - `misuse.rs`: the one-line misuse report and the panic guard, used by every room.

#![allow(non_camel_case_types)]

// include/ssl.h is made from `capi` and the C types in `sys::types`; cbindgen skips the
// rest.
pub mod capi;
/// cbindgen:ignore
#[doc(hidden)]
pub mod der;
/// cbindgen:ignore
mod exdata;
/// cbindgen:ignore
mod handle;
/// cbindgen:ignore
mod misuse;
/// cbindgen:ignore
mod model;
/// cbindgen:ignore
mod preload;
mod sys;
/// cbindgen:ignore
mod text;

/// Safe internals re-exported for the integration tests in `tests/` (the differential
/// tests against the system libssl) and the fuzz targets. Not part of the C API; no
/// stability promise.
#[doc(hidden)]
pub mod testing {
    pub use crate::model::bytes::{Bytes, Text};
    pub use crate::model::cipher::{find as find_cipher, Cipher};
    pub use crate::model::session::{IdBuf, SessionData};
    pub use crate::text::{dump_indent, keylog, print, protocol_name, Sink};
}

//! ssl-session: OpenSSL 3.0's `SSL_SESSION` object as a C-ABI library, with misuse
//! (double free, use after free, foreign pointers) reported at the faulty call.
//!
//! Layout: `api/` holds every exported function; `ffi.rs` the shared entry helper;
//! `object.rs` the C-facing object and its arena; the safe logic lives in `session.rs`
//! (the model), `quarantine.rs`, `cipher.rs`, `bytes.rs` and `misuse.rs`.

#![allow(non_camel_case_types)]

pub mod api;
mod bytes;
mod cipher;
mod crypto;
mod der;
mod exdata;
mod ffi;
mod misuse;
mod next;
mod object;
mod peer;
mod quarantine;
mod session;
mod text;

/// Safe internals re-exported for the integration tests in `tests/` (the differential
/// tests against the system libssl). Not part of the C API; no stability promise.
#[doc(hidden)]
pub mod testing {
    pub use crate::bytes::{Bytes, Text};
    pub use crate::cipher::{find as find_cipher, Cipher};
    pub use crate::session::{IdBuf, SessionData};
    pub use crate::text::{dump_indent, keylog, print, protocol_name, Sink};
}

/// The opaque session type (`struct ssl_session_st` in OpenSSL).
#[repr(C)]
pub struct ssl_session_st {
    _opaque: [u8; 0],
}

/// `typedef struct ssl_session_st SSL_SESSION;`, exactly as in `<openssl/ssl.h>`.
pub type SSL_SESSION = ssl_session_st;

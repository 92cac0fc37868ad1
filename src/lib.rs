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
/// Public (but hidden) so that `tests/der_corpus.rs` and fuzz targets can drive the codec.
#[doc(hidden)]
pub mod der;
mod exdata;
mod ffi;
mod misuse;
mod next;
mod object;
mod peer;
mod quarantine;
mod session;
mod text;

/// The opaque session type (`struct ssl_session_st` in OpenSSL).
#[repr(C)]
pub struct ssl_session_st {
    _opaque: [u8; 0],
}

/// `typedef struct ssl_session_st SSL_SESSION;`, exactly as in `<openssl/ssl.h>`.
pub type SSL_SESSION = ssl_session_st;

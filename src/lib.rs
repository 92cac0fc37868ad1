//! ssl-session: OpenSSL 3.0's `SSL_SESSION` object as a C-ABI library, with misuse
//! (double free, use after free, foreign pointers) reported at the faulty call.
//!
//! Layout: `api/` holds every exported function; `ffi.rs` the shared entry helper;
//! `object.rs` the C-facing object and its arena; the safe logic lives in `session.rs`
//! (the model), `quarantine.rs`, `cipher.rs`, `bytes.rs` (but for one layout-preserving
//! `Arc` conversion) and `misuse.rs`.

#![allow(non_camel_case_types)]

pub mod api;
/// cbindgen:ignore
mod boundary;
/// cbindgen:ignore
mod bytes;
/// cbindgen:ignore
mod caller;
/// cbindgen:ignore
mod cipher;
/// cbindgen:ignore
mod crypto;
/// cbindgen:ignore
/// Public (but hidden) so that `tests/der_corpus.rs` and fuzz targets can drive the codec.
#[doc(hidden)]
pub mod der;
/// cbindgen:ignore
mod entry;
/// cbindgen:ignore
mod exdata;
/// cbindgen:ignore
mod ffi;
/// cbindgen:ignore
mod loaded;
/// cbindgen:ignore
mod misuse;
/// cbindgen:ignore
mod next;
/// cbindgen:ignore
mod object;
/// cbindgen:ignore
mod peer;
/// cbindgen:ignore
mod preload;
/// cbindgen:ignore
mod quarantine;
/// cbindgen:ignore
mod session;
/// cbindgen:ignore
mod text;

/// Safe internals re-exported for the integration tests in `tests/` (the differential
/// tests against the system libssl). Not part of the C API; no stability promise.
/// cbindgen:ignore
#[doc(hidden)]
pub mod testing {
    pub use crate::bytes::{Bytes, Text};
    pub use crate::cipher::{find as find_cipher, Cipher};
    pub use crate::session::{IdBuf, SessionData};
    pub use crate::text::{dump_indent, keylog, print, protocol_name, Sink};
}

/// The opaque session type (`struct ssl_session_st` in OpenSSL). Never built in Rust:
/// C only ever holds pointers to it, which point at our `object::Session` slots.
pub struct ssl_session_st {
    _opaque: [u8; 0],
}

/// `typedef struct ssl_session_st SSL_SESSION;`, exactly as in `<openssl/ssl.h>`.
pub type SSL_SESSION = ssl_session_st;

/// The opaque cipher suite type (`struct ssl_cipher_st` in OpenSSL). Never built in
/// Rust: C only ever holds pointers to it, which point at entries of our static cipher
/// table, or at libssl's own ciphers.
pub struct ssl_cipher_st {
    _opaque: [u8; 0],
}

/// `typedef struct ssl_cipher_st SSL_CIPHER;`, exactly as in `<openssl/ssl.h>`.
pub type SSL_CIPHER = ssl_cipher_st;

/// libcrypto's opaque certificate type.
pub struct x509_st {
    _opaque: [u8; 0],
}

/// `typedef struct x509_st X509;`, as in `<openssl/types.h>`.
pub type X509 = x509_st;

/// The opaque message digest type (`struct evp_md_st` in OpenSSL), libcrypto's; we
/// only pass its pointers on.
pub struct evp_md_st {
    _opaque: [u8; 0],
}

/// `typedef struct evp_md_st EVP_MD;`, exactly as in `<openssl/types.h>`.
pub type EVP_MD = evp_md_st;

/// libcrypto's opaque I/O stream type.
pub struct bio_st {
    _opaque: [u8; 0],
}

/// `typedef struct bio_st BIO;`, as in `<openssl/types.h>`.
pub type BIO = bio_st;

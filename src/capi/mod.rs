//! The exported C functions, one file per family. Each body is a call into `ffi.rs` and
//! the safe modules; nothing else in the crate is `#[no_mangle]`.

// These are C entry points with C's pointer contract: the caller vouches for every
// pointer it passes, as with OpenSSL. Marking them `unsafe fn` would change nothing for
// C and only move the `unsafe` blocks.
#![allow(clippy::not_unsafe_ptr_arg_deref)]

pub mod accessors;
pub mod cipher;
pub mod codec;
mod entry;
pub mod ex_data;
pub mod export;
/// cbindgen:ignore
pub mod interpose;
pub mod lifecycle;
pub mod pem;
pub mod print;

pub use crate::sys::types::{BIO, EVP_MD, SSL_CIPHER, SSL_SESSION, X509};

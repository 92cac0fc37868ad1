//! The exported C functions, one file per family, and nothing else in the crate is
//! `#[no_mangle]`. Each body is one `entry!` (`export.rs`), which adds the panic guard,
//! the error value, the pointer check and the forwarding, over the safe modules below.
//!
//! - `lifecycle`: new, dup, up_ref, free; `accessors`: the getters and setters;
//!   `cipher`: `SSL_CIPHER_*`; `codec`: i2d/d2i; `pem`: the PEM readers and writers;
//!   `print`: the text printers; `ex_data`: the session's application data.
//! - `interpose/`: functions of libssl, libcrypto and libc we define too (not in the
//!   header).
//! - `entry`: the naked entries that pass their caller's address (constructors, up_ref,
//!   free).

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

//! DER codec for sessions (i2d/d2i), byte-identical to OpenSSL 3.0. Safe Rust only.
//!
//! Why hand-written rather than the `der`/`asn1` crates: OpenSSL 3.0 does not decode DER, it
//! decodes libcrypto's own dialect of BER (`crypto/asn1/tasn_dec.c`), and a drop-in must accept
//! and reject exactly the same inputs *and* queue the same first error. That dialect includes
//! indefinite lengths and non-minimal length forms almost everywhere, segmented (constructed)
//! strings whose segments may carry any tag, high-tag-number forms of low tags (`1F 02` is an
//! INTEGER), zero-length INTEGERs read as 0, negative INT64s that wrap, a long-form length
//! needing one byte *after* it, primitive `SET OF` headers, a limit of 5 nested string
//! segments, etc., while it rejects non-minimal INTEGERs. Strict DER crates reject most of
//! that, and none reports libcrypto's reason codes. So the readers (`ber.rs`, `x509.rs`,
//! `template.rs`) are a line-by-line port of the parts of `tasn_dec.c`, `asn1_lib.c`,
//! `a_int.c`, `x_int64.c`, `a_bitstr.c`, `a_object.c`, `x_name.c` and `x_pubkey.c` that the
//! session template and the X.509 template reach, checked against the installed 3.0.19
//! (`tests/der_corpus.rs`).
//!
//! What i2d writes (canonical DER) is decoded by a one-pass fast path (`fast.rs`) that gives
//! up on anything else; the template decoder (`template.rs`) then decodes the input from
//! scratch. `fast.rs` says why both accept the same inputs with the same values. Both, and
//! the encoder, read the one table of the session's fields and tags (`fields.rs`).
//!
//! Files: `error.rs` (how decoding fails, and the codes), `ber.rs` (libcrypto's BER reader),
//! `x509.rs` (the peer certificate), `fields.rs`, `template.rs`, `fast.rs`, `session.rs`
//! (`Decoded`, the checks, `install`), `encode.rs` (`Encoder`), `tests/`.
//!
//! Encoding computes every length once and writes straight into a buffer of the exact size.
//!
//! Measured (release, this 2-core box, `tests/der_corpus.rs` `bench_against_libssl`) on the
//! real 1117-byte session S1 with its peer certificate: decode + install + drop ~0.56 µs
//! against libssl's d2i + free ~112 µs (~200x); encode ~106 ns against libssl's i2d
//! ~1.43 µs (~13x). Counted with callgrind over the exported functions: the whole
//! `d2i_SSL_SESSION` + `SSL_SESSION_free` of S1 without its certificate
//! (`bench/s1_nocert.der`, 332 bytes) ~2030 instructions (~125 ns), with it ~9900;
//! `i2d_SSL_SESSION` of S1 ~2080.
//!
//! Deliberate differences from 3.0 (see `install`):
//! - A rejected input changes nothing: everything is decoded and checked before `install`
//!   touches the target. 3.0's `d2i` into an existing `*a` overwrites the fields it handled
//!   before the failing check.
//! - When a reused session gets an input without a ticket, the ticket *and its length* are
//!   cleared. 3.0 frees the ticket but leaves `ticklen` stale (`has_ticket` stays 1).
//!
//! The peer certificate is not parsed by libcrypto here: `x509` walks the RFC 5280 structure
//! with the same rules libcrypto's template decoder applies (names are also checked the way
//! `x509_name_canon` converts them to UTF-8, and an unknown public-key OID longer than 586
//! bytes fails as `OBJ_obj2txt` does). What is stored is the encoding libcrypto's `i2d_X509`
//! would write back (outer SEQUENCE, signature algorithm and signature re-encoded; the
//! TBSCertificate kept as received), so re-encoding a session matches libssl byte for byte.

#![forbid(unsafe_code)]

mod ber;
mod encode;
mod error;
mod fast;
mod fields;
mod session;
mod template;
#[cfg(test)]
mod tests;
mod x509;

use fast::decode_fast_inner;
use session::check;
use template::decode_asn1;

/// The session model, re-exported for `tests/der_corpus.rs` (the `session` module is private).
#[doc(hidden)]
pub use crate::model::session::SessionData;
pub use encode::{encode, encoded_len, Encoder};
pub use error::*;
pub use session::{install, Decoded, DECODED_DEFAULT_TIMEOUT};

/// Decode and check a session exactly as OpenSSL 3.0's `d2i_SSL_SESSION` does, into `d`
/// (which must be fresh from `Decoded::default()`), without installing anything (`install`
/// does that). `Ok` means 3.0 would return a session. Canonical DER takes the fast path;
/// everything else (and every input 3.0 refuses) the template decoder. (Into the caller's
/// `Decoded`, which is a few hundred bytes, so that the hot path never copies one.)
#[inline]
pub fn decode_into<'a>(input: &'a [u8], d: &mut Decoded<'a>) -> Result<(), DecodeError> {
    if decode_fast_inner(input, d).is_none() {
        *d = Decoded::default();
        decode_asn1(input, d)?;
    }
    check(d)
}

/// What `decode_cross_checked` found.
#[doc(hidden)]
#[derive(Debug)]
pub struct CrossChecked<'a> {
    /// What `decode_into` gives.
    pub result: Result<Decoded<'a>, DecodeError>,
    /// Whether the fast path took the input.
    pub fast_path: bool,
}

/// For tests and fuzzing: `decode_into` a new `Decoded`, checked against the template
/// decoder alone. When the fast path takes the input, the template values it read must be
/// the template decoder's (the same `Decoded`, borrowed or owned alike); and `decode_into`
/// must give what the template decoder then the checks give (the same value or the same
/// error). `Err` says how they differ.
#[doc(hidden)]
pub fn decode_cross_checked(input: &[u8]) -> Result<CrossChecked<'_>, String> {
    let mut fast = Decoded::default();
    let fast_path = decode_fast_inner(input, &mut fast).is_some();
    let mut slow = Decoded::default();
    let template = decode_asn1(input, &mut slow).map(|()| slow);
    if fast_path {
        match &template {
            Ok(slow) if *slow == fast => {}
            Ok(slow) => {
                return Err(format!(
                    "fast path read {fast:?}, template decoder {slow:?}"
                ))
            }
            Err(e) => {
                return Err(format!(
                    "fast path read {fast:?}, template decoder failed: {e:?}"
                ))
            }
        }
    }
    let faithful = template.and_then(|mut d| check(&mut d).map(|()| d));
    let mut ours = Decoded::default();
    let result = decode_into(input, &mut ours).map(|()| ours);
    if result != faithful {
        return Err(format!(
            "decode_into gave {result:?}, the template decoder and the checks {faithful:?}"
        ));
    }
    Ok(CrossChecked { result, fast_path })
}

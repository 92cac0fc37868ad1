//! How decoding fails: the error OpenSSL 3.0's `d2i_SSL_SESSION` leaves, as codes. This
//! module says what to queue (`DecodeError::queued`); queuing it on libcrypto is the
//! C-facing side's job (`capi::codec`).

pub use crate::sys::err::{
    asn1, ERR_LIB_ASN1, ERR_LIB_SSL, ERR_R_NESTED_ASN1_ERROR, SSL_R_BAD_LENGTH,
    SSL_R_CIPHER_CODE_WRONG_LENGTH, SSL_R_UNKNOWN_SSL_VERSION, SSL_R_UNSUPPORTED_SSL_VERSION,
};

/// Why `d2i_SSL_SESSION` fails without queuing any error.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Silent {
    /// The 2-byte cipher code (given) is not in the cipher table.
    UnknownCipher(u16),
    /// session_id longer than 32 bytes.
    SessionIdTooLong,
    /// master_key longer than 512 bytes.
    MasterKeyTooLong,
    /// session_id_context longer than 32 bytes.
    SidCtxTooLong,
}

/// How 3.0's `d2i_SSL_SESSION` fails, and what it leaves on the error queue.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum DecodeError {
    /// libcrypto's template decoder failed. `reason` (`ERR_LIB_ASN1`) is the first error
    /// queued; when `nested`, one or more `ERR_R_NESTED_ASN1_ERROR` follow it, so the last
    /// queued error is the nested one. (libcrypto may queue several nested entries with
    /// "Field=..." data; only the first and last codes are reproduced.)
    Asn1 { reason: i32, nested: bool },
    /// The structure decoded but a session check failed: one `ERR_LIB_SSL` error.
    Ssl { reason: i32 },
    /// Rejected with nothing queued.
    Silent(Silent),
}

const fn err_pack(lib: i32, reason: i32) -> u32 {
    (((lib as u32) & 0xFF) << 23) | ((reason as u32) & 0x7F_FFFF)
}

impl DecodeError {
    /// What 3.0 leaves on the error queue, oldest first, as (library, reason) pairs:
    /// nothing, one error, or an ASN.1 reason then `ERR_R_NESTED_ASN1_ERROR`. The C-facing
    /// side queues them; this module never calls libcrypto.
    pub fn queued(&self) -> impl Iterator<Item = (i32, i32)> {
        let (first, then) = match *self {
            DecodeError::Asn1 { reason, nested } => (
                Some((ERR_LIB_ASN1, reason)),
                nested.then_some((ERR_LIB_ASN1, ERR_R_NESTED_ASN1_ERROR)),
            ),
            DecodeError::Ssl { reason } => (Some((ERR_LIB_SSL, reason)), None),
            DecodeError::Silent(_) => (None, None),
        };
        first.into_iter().chain(then)
    }

    /// The packed code `ERR_peek_error` gives after 3.0 fails (0: nothing queued).
    pub fn first_error(&self) -> u32 {
        self.queued().next().map_or(0, |(lib, r)| err_pack(lib, r))
    }

    /// The packed code `ERR_peek_last_error` gives after 3.0 fails (0: nothing queued).
    pub fn last_error(&self) -> u32 {
        self.queued().last().map_or(0, |(lib, r)| err_pack(lib, r))
    }
}

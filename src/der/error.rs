//! How decoding fails: the error OpenSSL 3.0's `d2i_SSL_SESSION` leaves, as codes. This
//! module says what to queue (`DecodeError::queued`); queuing it on libcrypto is the
//! C-facing side's job (`api/codec.rs`).

// ---- Error codes: begin ------------------------------------------------------------------
// OpenSSL 3.0's values (err.h, sslerr.h, asn1err.h) for every code the codec reports; the
// only copy in `der/`, kept together so that it can move whole to one home for all codes.

/// `ERR_LIB_SSL`.
pub const ERR_LIB_SSL: i32 = 20;
/// `ERR_LIB_ASN1`.
pub const ERR_LIB_ASN1: i32 = 13;

pub const SSL_R_UNKNOWN_SSL_VERSION: i32 = 254;
pub const SSL_R_UNSUPPORTED_SSL_VERSION: i32 = 259;
pub const SSL_R_CIPHER_CODE_WRONG_LENGTH: i32 = 137;
pub const SSL_R_BAD_LENGTH: i32 = 271;

/// `ERR_R_NESTED_ASN1_ERROR` (266 | `ERR_RFLAG_COMMON`).
pub const ERR_R_NESTED_ASN1_ERROR: i32 = 266 | (2 << 18);

/// The `ASN1_R_*` reasons (asn1err.h) the session and certificate decoders can raise first.
pub mod asn1 {
    pub const BAD_OBJECT_HEADER: i32 = 102;
    pub const BOOLEAN_IS_WRONG_LENGTH: i32 = 106;
    pub const EXPLICIT_LENGTH_MISMATCH: i32 = 119;
    pub const EXPLICIT_TAG_NOT_CONSTRUCTED: i32 = 120;
    pub const FIELD_MISSING: i32 = 121;
    pub const HEADER_TOO_LONG: i32 = 123;
    pub const ILLEGAL_CHARACTERS: i32 = 124;
    pub const INVALID_UTF8STRING: i32 = 134;
    pub const MISSING_EOC: i32 = 137;
    pub const MSTRING_NOT_UNIVERSAL: i32 = 139;
    pub const MSTRING_WRONG_TAG: i32 = 140;
    pub const NULL_IS_WRONG_LENGTH: i32 = 144;
    pub const SEQUENCE_LENGTH_MISMATCH: i32 = 148;
    pub const SEQUENCE_NOT_CONSTRUCTED: i32 = 149;
    pub const STRING_TOO_SHORT: i32 = 152;
    pub const TOO_LONG: i32 = 155;
    pub const TYPE_NOT_CONSTRUCTED: i32 = 156;
    pub const UNEXPECTED_EOC: i32 = 159;
    pub const WRONG_TAG: i32 = 168;
    pub const NESTED_ASN1_STRING: i32 = 197;
    pub const TYPE_NOT_PRIMITIVE: i32 = 195;
    pub const BMPSTRING_IS_WRONG_LENGTH: i32 = 214;
    pub const UNIVERSALSTRING_IS_WRONG_LENGTH: i32 = 215;
    pub const INVALID_OBJECT_ENCODING: i32 = 216;
    pub const INVALID_BIT_STRING_BITS_LEFT: i32 = 220;
    pub const ILLEGAL_PADDING: i32 = 221;
    pub const ILLEGAL_ZERO_CONTENT: i32 = 222;
    pub const TOO_LARGE: i32 = 223;
    pub const TOO_SMALL: i32 = 224;
    pub const ILLEGAL_NEGATIVE_VALUE: i32 = 226;
}

// ---- Error codes: end --------------------------------------------------------------------

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

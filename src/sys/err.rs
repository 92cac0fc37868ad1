//! Every OpenSSL error code ssl-session queues, in one place, with OpenSSL 3.0's values:
//! the library numbers (`ERR_LIB_*`, err.h), the common reasons (`ERR_R_*`), the session
//! reasons (`SSL_R_*`, sslerr.h) and the ASN.1 decoder's reasons (`asn1::*`, asn1err.h).
//! A reason with `ERR_RFLAG_COMMON` is one any library may raise; `ERR_RFLAG_FATAL`
//! marks it fatal.

use libc::c_int;

pub const ERR_LIB_ASN1: c_int = 13;
pub const ERR_LIB_CRYPTO: c_int = 15;
pub const ERR_LIB_SSL: c_int = 20;

const ERR_RFLAG_FATAL: c_int = 1 << 18;
const ERR_RFLAG_COMMON: c_int = 2 << 18;

pub const ERR_R_BUF_LIB: c_int = 7 | ERR_RFLAG_COMMON;
pub const ERR_R_MALLOC_FAILURE: c_int = 256 | ERR_RFLAG_FATAL | ERR_RFLAG_COMMON;
pub const ERR_R_INTERNAL_ERROR: c_int = 259 | ERR_RFLAG_FATAL | ERR_RFLAG_COMMON;

pub const SSL_R_SSL_SESSION_ID_CONTEXT_TOO_LONG: c_int = 273;
pub const SSL_R_SSL_SESSION_ID_TOO_LONG: c_int = 408;

// The decoder's (`der`): what OpenSSL 3.0's d2i_SSL_SESSION queues first.
pub const SSL_R_UNKNOWN_SSL_VERSION: c_int = 254;
pub const SSL_R_UNSUPPORTED_SSL_VERSION: c_int = 259;
pub const SSL_R_CIPHER_CODE_WRONG_LENGTH: c_int = 137;
pub const SSL_R_BAD_LENGTH: c_int = 271;

/// `ERR_R_NESTED_ASN1_ERROR` (266 | `ERR_RFLAG_COMMON`).
pub const ERR_R_NESTED_ASN1_ERROR: c_int = 266 | ERR_RFLAG_COMMON;

/// The `ASN1_R_*` reasons (asn1err.h) the session and certificate decoders can raise first.
pub mod asn1 {
    use libc::c_int;

    pub const BAD_OBJECT_HEADER: c_int = 102;
    pub const BOOLEAN_IS_WRONG_LENGTH: c_int = 106;
    pub const EXPLICIT_LENGTH_MISMATCH: c_int = 119;
    pub const EXPLICIT_TAG_NOT_CONSTRUCTED: c_int = 120;
    pub const FIELD_MISSING: c_int = 121;
    pub const HEADER_TOO_LONG: c_int = 123;
    pub const ILLEGAL_CHARACTERS: c_int = 124;
    pub const INVALID_UTF8STRING: c_int = 134;
    pub const MISSING_EOC: c_int = 137;
    pub const MSTRING_NOT_UNIVERSAL: c_int = 139;
    pub const MSTRING_WRONG_TAG: c_int = 140;
    pub const NULL_IS_WRONG_LENGTH: c_int = 144;
    pub const SEQUENCE_LENGTH_MISMATCH: c_int = 148;
    pub const SEQUENCE_NOT_CONSTRUCTED: c_int = 149;
    pub const STRING_TOO_SHORT: c_int = 152;
    pub const TOO_LONG: c_int = 155;
    pub const TYPE_NOT_CONSTRUCTED: c_int = 156;
    pub const UNEXPECTED_EOC: c_int = 159;
    pub const WRONG_TAG: c_int = 168;
    pub const NESTED_ASN1_STRING: c_int = 197;
    pub const TYPE_NOT_PRIMITIVE: c_int = 195;
    pub const BMPSTRING_IS_WRONG_LENGTH: c_int = 214;
    pub const UNIVERSALSTRING_IS_WRONG_LENGTH: c_int = 215;
    pub const INVALID_OBJECT_ENCODING: c_int = 216;
    pub const INVALID_BIT_STRING_BITS_LEFT: c_int = 220;
    pub const ILLEGAL_PADDING: c_int = 221;
    pub const ILLEGAL_ZERO_CONTENT: c_int = 222;
    pub const TOO_LARGE: c_int = 223;
    pub const TOO_SMALL: c_int = 224;
    pub const ILLEGAL_NEGATIVE_VALUE: c_int = 226;
}

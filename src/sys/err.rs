//! Every OpenSSL error code ssl-session queues, in one place: the library numbers
//! (`ERR_LIB_*`, err.h), the common reasons (`ERR_R_*`) and the session reasons
//! (`SSL_R_*`, sslerr.h) of OpenSSL 3.0. A reason with `ERR_RFLAG_COMMON` (2 << 18) is
//! one any library may raise; `ERR_RFLAG_FATAL` (1 << 18) marks it fatal.

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

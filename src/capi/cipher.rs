//! The SSL_CIPHER accessors a session user needs, over our own cipher table.
//!
//! A `const SSL_CIPHER *` from `SSL_SESSION_get0_cipher` points into ssl-session's static
//! table and is answered here. Any other non-NULL pointer is libssl's own cipher and goes
//! to libssl's function (the next definition, when both libraries are loaded).

use crate::capi::export::entry;
use crate::model::cipher::{self, DescriptionBuf, DESCRIPTION_BUF};
use crate::{sys::libcrypto, sys::EVP_MD, sys::SSL_CIPHER};
use libc::{c_char, c_int};
use std::ptr::{null, null_mut};

/// Returns the OpenSSL name of the cipher suite, e.g. "ECDHE-RSA-AES128-GCM-SHA256"
/// (for TLS 1.3 suites the same as the standard name). The string is static.
/// Returns "(NONE)" if `c` is NULL, as OpenSSL does.
#[no_mangle]
pub extern "C" fn SSL_CIPHER_get_name(c: *const SSL_CIPHER) -> *const c_char {
    entry!(cipher SSL_CIPHER_get_name(c) or c"(NONE)".as_ptr(), |ci| ci.name.as_ptr())
}

/// Returns the RFC (IANA) name of the cipher suite, e.g.
/// "TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256". The string is static.
/// Returns NULL for the suites that have none in OpenSSL (the GOST suites), and
/// "(NONE)" if `c` is NULL, as OpenSSL does.
#[no_mangle]
pub extern "C" fn SSL_CIPHER_standard_name(c: *const SSL_CIPHER) -> *const c_char {
    entry!(cipher SSL_CIPHER_standard_name(c) or c"(NONE)".as_ptr(), |ci| ci.stdname().map_or(null(), |s| s.as_ptr()))
}

/// Returns the cipher suite's full 32-bit id: 0x03000000 | the two bytes on the wire,
/// e.g. 0x0300C02F. Returns 0 if `c` is NULL (OpenSSL crashes).
#[no_mangle]
pub extern "C" fn SSL_CIPHER_get_id(c: *const SSL_CIPHER) -> u32 {
    entry!(cipher SSL_CIPHER_get_id(c), |ci| ci.id)
}

/// Returns the two-byte cipher suite value sent on the wire (IANA), e.g. 0xC02F, in host
/// byte order. Returns 0 if `c` is NULL (OpenSSL crashes).
#[no_mangle]
pub extern "C" fn SSL_CIPHER_get_protocol_id(c: *const SSL_CIPHER) -> u16 {
    entry!(cipher SSL_CIPHER_get_protocol_id(c), |ci| ci.protocol_id())
}

/// Returns the cipher's effective strength in bits and, if `alg_bits` is not NULL,
/// stores the key size of the algorithm in bits (the same number for every suite
/// OpenSSL 3.0 has; 0 for NULL encryption and the SCSVs).
/// If `c` is NULL, returns 0 and leaves `*alg_bits` untouched, as OpenSSL does. A
/// pointer that is no cipher (misuse report, warn mode) returns 0 and sets `*alg_bits` to 0.
#[no_mangle]
pub extern "C" fn SSL_CIPHER_get_bits(c: *const SSL_CIPHER, alg_bits: *mut c_int) -> c_int {
    if !c.is_null() {
        // Every answer for a non-NULL cipher sets it (ours, libssl's); a misuse report in
        // warn mode must not leave it unset either.
        // SAFETY: the caller passes NULL or a valid int*.
        unsafe { crate::capi::export::put(alg_bits, 0) };
    }
    entry!(cipher SSL_CIPHER_get_bits(c, alg_bits), |ci| {
        // SAFETY: the caller passes NULL or a valid int*.
        unsafe { crate::capi::export::put(alg_bits, ci.alg_bits) };
        ci.strength_bits
    })
}

/// Returns the lowest protocol version the suite can be used with, as a static string:
/// "SSLv3", "TLSv1.0", "TLSv1.2", "TLSv1.3", or "unknown" for the signalling values
/// (SCSVs). Returns "(NONE)" if `c` is NULL, as OpenSSL does.
#[no_mangle]
pub extern "C" fn SSL_CIPHER_get_version(c: *const SSL_CIPHER) -> *const c_char {
    entry!(cipher SSL_CIPHER_get_version(c) or c"(NONE)".as_ptr(), |ci| ci.version.as_ptr())
}

/// Writes a one-line, newline-terminated description of the suite (name, version,
/// key exchange, authentication, encryption, MAC), as `openssl ciphers -v` prints it.
///
/// - `buf` NULL: the line goes into a new 128-byte buffer from OPENSSL_malloc() (`size`
///   is ignored), which the caller releases with OPENSSL_free(); NULL if memory runs out.
/// - `buf` not NULL and `size` < 128: returns NULL, writes nothing.
/// - otherwise: writes the line, NUL included, at the start of `buf`; returns `buf`.
///
/// Returns NULL if `cipher` is NULL (OpenSSL crashes unless `buf` is given with
/// `size` < 128, where it too returns NULL).
#[no_mangle]
pub extern "C" fn SSL_CIPHER_description(
    cipher: *const SSL_CIPHER,
    buf: *mut c_char,
    size: c_int,
) -> *mut c_char {
    entry!(cipher SSL_CIPHER_description(cipher, buf, size), |ci| {
            let out = match cipher::description_buf(buf.is_null(), size) {
                DescriptionBuf::TooSmall => return null_mut(),
                DescriptionBuf::Caller => buf,
                DescriptionBuf::Allocate => match libcrypto::malloc(DESCRIPTION_BUF) {
                    Some(p) => p.as_ptr().cast(),
                    None => {
                        libcrypto::raise(
                            crate::sys::err::ERR_LIB_SSL,
                            crate::sys::err::ERR_R_MALLOC_FAILURE,
                            c"SSL_CIPHER_description",
                        );
                        return null_mut();
                    }
                },
            };
            // SAFETY: `out` is the caller's buffer of `size` >= 128 bytes or our new
            // 128-byte one; both are valid for DESCRIPTION_BUF bytes.
            let dst = unsafe { std::slice::from_raw_parts_mut(out.cast::<u8>(), DESCRIPTION_BUF) };
            // Every line is shorter than 128 bytes (checked by a test over the table).
            ci.write_description(dst);
            out
        },
    )
}

/// Returns 1 if the suite uses an AEAD cipher (GCM, CCM, ChaCha20-Poly1305), else 0.
/// Returns 0 if `c` is NULL (OpenSSL crashes).
#[no_mangle]
pub extern "C" fn SSL_CIPHER_is_aead(c: *const SSL_CIPHER) -> c_int {
    entry!(cipher SSL_CIPHER_is_aead(c), |ci| ci.is_aead as c_int)
}

/// Returns the NID of the suite's bulk cipher (e.g. NID_aes_128_gcm), or NID_undef (0)
/// for none. Returns NID_undef if `c` is NULL, as OpenSSL does.
#[no_mangle]
pub extern "C" fn SSL_CIPHER_get_cipher_nid(c: *const SSL_CIPHER) -> c_int {
    entry!(cipher SSL_CIPHER_get_cipher_nid(c), |ci| ci.cipher_nid)
}

/// Returns the NID of the suite's MAC digest (e.g. NID_sha1), or NID_undef (0) for AEAD
/// suites and none. Returns NID_undef if `c` is NULL (OpenSSL crashes).
#[no_mangle]
pub extern "C" fn SSL_CIPHER_get_digest_nid(c: *const SSL_CIPHER) -> c_int {
    entry!(cipher SSL_CIPHER_get_digest_nid(c), |ci| ci.digest_nid)
}

/// Returns the NID of the suite's key exchange (e.g. NID_kx_ecdhe; NID_kx_any for TLS 1.3
/// suites), or NID_undef (0). Returns NID_undef if `c` is NULL (OpenSSL crashes).
#[no_mangle]
pub extern "C" fn SSL_CIPHER_get_kx_nid(c: *const SSL_CIPHER) -> c_int {
    entry!(cipher SSL_CIPHER_get_kx_nid(c), |ci| ci.kx_nid)
}

/// Returns the NID of the suite's authentication (e.g. NID_auth_rsa; NID_auth_any for
/// TLS 1.3 suites), or NID_undef (0). Returns NID_undef if `c` is NULL (OpenSSL crashes).
#[no_mangle]
pub extern "C" fn SSL_CIPHER_get_auth_nid(c: *const SSL_CIPHER) -> c_int {
    entry!(cipher SSL_CIPHER_get_auth_nid(c), |ci| ci.auth_nid)
}

/// Returns the digest the suite uses for the handshake hash and PRF/HKDF (SHA-256 or
/// SHA-384; MD5+SHA1 for suites older than TLS 1.2), as libcrypto's static digest
/// `EVP_get_digestbynid(nid)`: do not free it. Compare digests with EVP_MD_get_type(),
/// not by pointer. Returns NULL where libcrypto has no such digest (the GOST suites, with
/// no GOST engine loaded) and if `c` is NULL (OpenSSL crashes).
#[no_mangle]
pub extern "C" fn SSL_CIPHER_get_handshake_digest(c: *const SSL_CIPHER) -> *const EVP_MD {
    entry!(cipher SSL_CIPHER_get_handshake_digest(c), |ci| libcrypto::digest_by_nid(ci.handshake_digest_nid))
}

/// For tests: the address of entry `i` of our cipher table, as C sees it, or None past
/// the end. Not exported to C.
#[doc(hidden)]
pub fn table_entry(i: usize) -> Option<*const SSL_CIPHER> {
    cipher::CIPHERS
        .get(i)
        .map(|c| (c as *const cipher::Cipher).cast())
}

//! The libcrypto functions we call, declared by hand (we never link libssl, so no
//! `openssl-sys`). All of them exist in libcrypto.so.3 with these C prototypes.

#![allow(non_camel_case_types, non_snake_case)]

use libc::{c_char, c_int, c_long, c_void, size_t};

/// OpenSSL's public `CRYPTO_EX_DATA`: `{ OSSL_LIB_CTX *ctx; STACK_OF(void) *sk; }`.
/// All-zero is what `CRYPTO_new_ex_data` leaves when no index is registered.
#[repr(C)]
pub struct CRYPTO_EX_DATA {
    pub ctx: *mut c_void,
    pub sk: *mut c_void,
}

/// `CRYPTO_EX_INDEX_SSL_SESSION`.
pub const EX_INDEX_SSL_SESSION: c_int = 2;

pub type CRYPTO_EX_new = unsafe extern "C" fn(
    parent: *mut c_void,
    ptr: *mut c_void,
    ad: *mut CRYPTO_EX_DATA,
    idx: c_int,
    argl: c_long,
    argp: *mut c_void,
);
pub type CRYPTO_EX_dup = unsafe extern "C" fn(
    to: *mut CRYPTO_EX_DATA,
    from: *const CRYPTO_EX_DATA,
    from_d: *mut *mut c_void,
    idx: c_int,
    argl: c_long,
    argp: *mut c_void,
) -> c_int;
pub type CRYPTO_EX_free = CRYPTO_EX_new;

/// `BIO_NOCLOSE`.
pub const BIO_NOCLOSE: c_int = 0;

/// `i2d_of_void` / `d2i_of_void` from `<openssl/pem.h>`.
pub type I2dOfVoid = unsafe extern "C" fn(*const c_void, *mut *mut u8) -> c_int;
pub type D2iOfVoid = unsafe extern "C" fn(*mut *mut c_void, *mut *const u8, c_long) -> *mut c_void;

extern "C" {
    pub fn PEM_ASN1_read_bio(
        d2i: D2iOfVoid,
        name: *const c_char,
        bp: *mut c_void,
        x: *mut *mut c_void,
        cb: *mut c_void,
        u: *mut c_void,
    ) -> *mut c_void;
    pub fn PEM_ASN1_read(
        d2i: D2iOfVoid,
        name: *const c_char,
        fp: *mut libc::FILE,
        x: *mut *mut c_void,
        cb: *mut c_void,
        u: *mut c_void,
    ) -> *mut c_void;
    pub fn PEM_ASN1_write_bio(
        i2d: I2dOfVoid,
        name: *const c_char,
        bp: *mut c_void,
        x: *const c_void,
        enc: *const c_void,
        kstr: *const u8,
        klen: c_int,
        cb: *const c_void,
        u: *mut c_void,
    ) -> c_int;
    pub fn PEM_ASN1_write(
        i2d: I2dOfVoid,
        name: *const c_char,
        fp: *mut libc::FILE,
        x: *const c_void,
        enc: *const c_void,
        kstr: *const u8,
        klen: c_int,
        cb: *const c_void,
        u: *mut c_void,
    ) -> c_int;

    pub fn CRYPTO_new_ex_data(
        class_index: c_int,
        obj: *mut c_void,
        ad: *mut CRYPTO_EX_DATA,
    ) -> c_int;
    pub fn CRYPTO_dup_ex_data(
        class_index: c_int,
        to: *mut CRYPTO_EX_DATA,
        from: *const CRYPTO_EX_DATA,
    ) -> c_int;
    pub fn CRYPTO_free_ex_data(class_index: c_int, obj: *mut c_void, ad: *mut CRYPTO_EX_DATA);
    // CRYPTO_get/set_ex_data are ours too: reach libcrypto's through exdata::libcrypto_*.
    pub fn OPENSSL_sk_free(sk: *mut c_void);
    pub fn OPENSSL_sk_num(sk: *const c_void) -> c_int;
    pub fn OPENSSL_sk_value(sk: *const c_void, i: c_int) -> *mut c_void;
    pub fn ERR_set_mark() -> c_int;
    pub fn ERR_pop_to_mark() -> c_int;

    pub fn CRYPTO_malloc(num: size_t, file: *const c_char, line: c_int) -> *mut c_void;

    pub fn ERR_new();
    pub fn ERR_set_debug(file: *const c_char, line: c_int, func: *const c_char);
    pub fn ERR_set_error(lib: c_int, reason: c_int, fmt: *const c_char, ...);

    pub fn OBJ_nid2sn(n: c_int) -> *const c_char;
    /// Returns `const EVP_MD *`.
    pub fn EVP_get_digestbyname(name: *const c_char) -> *const c_void;

    pub fn BIO_puts(b: *mut c_void, s: *const c_char) -> c_int;
    pub fn BIO_write(b: *mut c_void, data: *const c_void, len: c_int) -> c_int;
    pub fn BIO_new_fp(stream: *mut libc::FILE, close_flag: c_int) -> *mut c_void;
    pub fn BIO_free(b: *mut c_void) -> c_int;
    pub fn X509_verify_cert_error_string(n: c_long) -> *const c_char;

    pub fn d2i_X509(a: *mut *mut c_void, pp: *mut *const u8, len: c_long) -> *mut c_void;
    pub fn X509_free(x: *mut c_void);
}

/// `OPENSSL_malloc(n)`: memory the C caller releases with `OPENSSL_free`. None when out
/// of memory.
pub fn malloc(n: size_t) -> Option<std::ptr::NonNull<c_void>> {
    // SAFETY: a plain allocation call; file/line are only for libcrypto's debugging.
    std::ptr::NonNull::new(unsafe { CRYPTO_malloc(n, c"ssl-session".as_ptr(), 0) })
}

/// `EVP_get_digestbynid(nid)`, a macro in 3.0 (`EVP_get_digestbyname(OBJ_nid2sn(nid))`):
/// libcrypto's static legacy `EVP_MD` for a digest NID, or NULL (always for `NID_undef`).
pub fn digest_by_nid(nid: c_int) -> *const crate::sys::EVP_MD {
    if nid == 0 {
        return std::ptr::null();
    }
    // SAFETY: OBJ_nid2sn returns NULL or a static NUL-terminated name;
    // EVP_get_digestbyname reads that name only.
    unsafe {
        let sn = OBJ_nid2sn(nid);
        if sn.is_null() {
            std::ptr::null()
        } else {
            EVP_get_digestbyname(sn).cast()
        }
    }
}

/// Queue an error on libcrypto's thread-local error queue, as the `ERR_raise` macro does.
pub fn raise(lib: c_int, reason: c_int, func: &'static std::ffi::CStr) {
    // SAFETY: plain calls with valid NUL-terminated strings; a NULL format means "no data".
    unsafe {
        ERR_new();
        ERR_set_debug(c"ssl-session".as_ptr(), 0, func.as_ptr());
        ERR_set_error(lib, reason, std::ptr::null());
    }
}

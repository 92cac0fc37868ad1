//! The C types of the API: all opaque, exactly as `<openssl/ssl.h>` and
//! `<openssl/types.h>` declare them. Rust never builds one; C only ever holds pointers.

// The names are C's, as in OpenSSL's headers.
#![allow(clippy::upper_case_acronyms)]

/// The opaque session type (`struct ssl_session_st` in OpenSSL). Never built in Rust:
/// C only ever holds pointers to it, which point at ssl-session's own session objects.
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

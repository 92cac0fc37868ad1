//! Session text output: `SSL_SESSION_print` (what `openssl sess_id -text` shows),
//! `SSL_SESSION_print_fp` and the NSS key log line. The text itself is built by the safe
//! `text`, piece by piece as OpenSSL 3.0 writes it, so a failing BIO sees the same prefix.

use crate::capi::export::entry;
use crate::sys::libcrypto;
use crate::sys::{libssl, BIO, SSL_SESSION};
use crate::text::{self, Sink};
use libc::{c_int, FILE};

/// A libcrypto BIO as a `text::Sink`.
struct BioSink(*mut BIO);

impl Sink for BioSink {
    fn puts(&mut self, s: &[u8]) -> i32 {
        let mut z = Vec::with_capacity(s.len() + 1);
        z.extend_from_slice(s);
        z.push(0);
        // SAFETY: a NUL-terminated copy; the BIO is the caller's (NULL is handled by libcrypto).
        unsafe { libcrypto::BIO_puts(self.0.cast(), z.as_ptr().cast()) }
    }

    fn write(&mut self, data: &[u8]) -> i32 {
        // SAFETY: data is valid for its length; the BIO is the caller's.
        unsafe { libcrypto::BIO_write(self.0.cast(), data.as_ptr().cast(), data.len() as c_int) }
    }
}

/// The name libssl registered for compression method `id`, if libssl is in the process
/// and has one (this OpenSSL build has no zlib, so normally none).
fn compression_name(id: u32) -> Option<Vec<u8>> {
    let methods = libssl::ssl_comp_get_compression_methods()?;
    let get_id = libssl::ssl_comp_get_id()?;
    let get_name = libssl::ssl_comp_get0_name()?;
    // SAFETY: libssl's own stack of SSL_COMP, read with libcrypto's stack functions.
    unsafe {
        let sk = methods();
        for i in 0..libcrypto::OPENSSL_sk_num(sk) {
            let comp = libcrypto::OPENSSL_sk_value(sk, i);
            if !comp.is_null() && get_id(comp) as u32 == id {
                let name = get_name(comp);
                return (!name.is_null())
                    .then(|| std::ffi::CStr::from_ptr(name).to_bytes().to_vec());
            }
        }
    }
    None
}

/// Writes the human-readable description of `ses` to `fp` (the text of `openssl sess_id
/// -text`), byte for byte as OpenSSL 3.0 does. Returns 1, or 0 if `ses` is NULL or a
/// write fails (what was written stays written). Like OpenSSL, it also returns 0 for a
/// present but empty ticket, and for a compression id with no cipher.
#[no_mangle]
pub extern "C" fn SSL_SESSION_print(fp: *mut BIO, ses: *const SSL_SESSION) -> c_int {
    entry!(session SSL_SESSION_print(fp, ses) on ses, |s| {
        let d = s.data().read_recursive();
        // SAFETY: libcrypto returns a static string for any code.
        let verify = unsafe {
            std::ffi::CStr::from_ptr(libcrypto::X509_verify_cert_error_string(
                d.verify_result as _,
            ))
        };
        let comp = (d.compress_meth != 0)
            .then(|| compression_name(d.compress_meth))
            .flatten();
        text::print(&d, verify.to_bytes(), comp.as_deref(), &mut BioSink(fp)) as c_int
    })
}

/// SSL_SESSION_print() to a stdio stream. Returns 1, or 0 on error: NULL `ses`, NULL
/// `fp` (OpenSSL crashes), or a BIO that cannot be made (ERR_R_BUF_LIB queued).
#[no_mangle]
pub extern "C" fn SSL_SESSION_print_fp(fp: *mut FILE, ses: *const SSL_SESSION) -> c_int {
    entry!(guard SSL_SESSION_print_fp at ses, || {
        if fp.is_null() || ses.is_null() {
            return 0;
        }
        // SAFETY: a BIO over the caller's stream that does not close it.
        let b = unsafe { libcrypto::BIO_new_fp(fp, libcrypto::BIO_NOCLOSE) };
        if b.is_null() {
            libcrypto::raise(
                crate::sys::err::ERR_LIB_SSL,
                crate::sys::err::ERR_R_BUF_LIB,
                c"SSL_SESSION_print_fp",
            );
            return 0;
        }
        let r = SSL_SESSION_print(b.cast(), ses);
        // SAFETY: the BIO we made.
        unsafe { libcrypto::BIO_free(b) };
        r
    })
}

/// Writes the session's NSS key log line, `RSA Session-ID:<hex> Master-Key:<hex>`, with a
/// newline. Returns 1; 0 (writing nothing) if `x` is NULL or its session ID or master key
/// is empty, or if the write fails. For TLS 1.3 the "master key" is the resumption PSK.
#[no_mangle]
pub extern "C" fn SSL_SESSION_print_keylog(bp: *mut BIO, x: *const SSL_SESSION) -> c_int {
    entry!(session SSL_SESSION_print_keylog(bp, x) on x, |s| text::keylog(&s.data().read_recursive(), &mut BioSink(bp)) as c_int)
}

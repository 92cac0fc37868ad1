//! The peer certificate: kept as DER inside the session, turned into libcrypto's `X509`
//! only when `SSL_SESSION_get0_peer` asks (parsing costs ~150 µs; most users never ask).

use crate::model::bytes::Bytes;
use crate::sys::libcrypto;
use once_cell::sync::OnceCell;
use std::ptr::NonNull;

struct X509Handle(NonNull<libc::c_void>);

// SAFETY: an X509 is reference-counted and safe to share between threads once built.
unsafe impl Send for X509Handle {}
unsafe impl Sync for X509Handle {}

impl Drop for X509Handle {
    fn drop(&mut self) {
        // SAFETY: we own one reference, taken by d2i_X509.
        unsafe { libcrypto::X509_free(self.0.as_ptr()) }
    }
}

/// A certificate in DER, with the `X509` built at most once, thread-safely.
pub struct PeerCert {
    der: Bytes,
    x509: OnceCell<Option<X509Handle>>,
}

impl std::fmt::Debug for PeerCert {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "PeerCert({} bytes)", self.der.as_slice().len())
    }
}

impl PeerCert {
    pub fn from_der(der: &[u8]) -> Self {
        PeerCert {
            der: Bytes::new(der),
            x509: OnceCell::new(),
        }
    }

    pub fn der(&self) -> &[u8] {
        self.der.as_slice()
    }

    /// The libcrypto `X509*`, owned by this object (the caller takes no reference).
    pub fn x509(&self) -> *mut libc::c_void {
        let h = self.x509.get_or_init(|| {
            let der = self.der.as_slice();
            let mut p = der.as_ptr();
            // SAFETY: p and len describe our own buffer; d2i_X509 reads at most len bytes.
            let x = unsafe {
                libcrypto::d2i_X509(std::ptr::null_mut(), &mut p, der.len() as libc::c_long)
            };
            NonNull::new(x).map(X509Handle)
        });
        h.as_ref().map_or(std::ptr::null_mut(), |h| h.0.as_ptr())
    }
}

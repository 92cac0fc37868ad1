//! Forwarding in one process: libssl.so.3 is dlopen'ed RTLD_GLOBAL before any cipher
//! call, so `dlsym(RTLD_NEXT)` from our code (linked into this test executable) finds
//! libssl's accessors, and a libssl SSL_CIPHER handed to ours must come back with
//! libssl's own answers: the very same string pointers, not copies from our table.

use libc::{c_char, c_int};
use ssl_session::capi::cipher as ours;
use ssl_session::capi::SSL_CIPHER;
use std::ffi::CStr;
use std::sync::OnceLock;

struct Libssl {
    ssl: usize,
    find: unsafe extern "C" fn(usize, *const u8) -> *const SSL_CIPHER,
}

/// A function pointer from its address.
unsafe fn fnptr<T: Copy>(addr: usize) -> T {
    assert_eq!(std::mem::size_of::<T>(), std::mem::size_of::<usize>());
    std::mem::transmute_copy(&addr)
}

fn libssl() -> &'static Libssl {
    static L: OnceLock<Libssl> = OnceLock::new();
    L.get_or_init(|| unsafe {
        let h = libc::dlopen(c"libssl.so.3".as_ptr(), libc::RTLD_NOW | libc::RTLD_GLOBAL);
        assert!(!h.is_null(), "dlopen libssl.so.3");
        let sym = |name: &CStr| {
            let p = libc::dlsym(h, name.as_ptr());
            assert!(!p.is_null(), "{name:?}");
            p as usize
        };
        let method: unsafe extern "C" fn() -> usize = fnptr(sym(c"TLS_method"));
        let ctx_new: unsafe extern "C" fn(usize) -> usize = fnptr(sym(c"SSL_CTX_new"));
        let ssl_new: unsafe extern "C" fn(usize) -> usize = fnptr(sym(c"SSL_new"));
        let ssl = ssl_new(ctx_new(method()));
        assert_ne!(ssl, 0);
        Libssl {
            ssl,
            find: fnptr(sym(c"SSL_CIPHER_find")),
        }
    })
}

fn next(name: &CStr) -> usize {
    let p = unsafe { libc::dlsym(libc::RTLD_NEXT, name.as_ptr()) };
    assert!(!p.is_null(), "no next definition of {name:?}");
    p as usize
}

#[test]
fn libssl_ciphers_are_forwarded_to_libssl() {
    let l = libssl();
    type StrFn = unsafe extern "C" fn(*const SSL_CIPHER) -> *const c_char;
    type IntFn = unsafe extern "C" fn(*const SSL_CIPHER) -> c_int;
    unsafe {
        let name: StrFn = fnptr(next(c"SSL_CIPHER_get_name"));
        let std_name: StrFn = fnptr(next(c"SSL_CIPHER_standard_name"));
        let version: StrFn = fnptr(next(c"SSL_CIPHER_get_version"));
        let id: unsafe extern "C" fn(*const SSL_CIPHER) -> u32 = fnptr(next(c"SSL_CIPHER_get_id"));
        let kx: IntFn = fnptr(next(c"SSL_CIPHER_get_kx_nid"));
        let hs: unsafe extern "C" fn(*const SSL_CIPHER) -> *const ssl_session::capi::EVP_MD =
            fnptr(next(c"SSL_CIPHER_get_handshake_digest"));
        let mut n = 0;
        for code in 0..=0xFFFFu16 {
            let c = (l.find)(l.ssl, code.to_be_bytes().as_ptr());
            if c.is_null() {
                continue;
            }
            n += 1;
            // Pointer equality: the strings are libssl's, so the call was forwarded.
            assert_eq!(ours::SSL_CIPHER_get_name(c), name(c));
            assert_eq!(ours::SSL_CIPHER_standard_name(c), std_name(c));
            assert_eq!(ours::SSL_CIPHER_get_version(c), version(c));
            assert_eq!(ours::SSL_CIPHER_get_id(c), id(c));
            assert_eq!(ours::SSL_CIPHER_get_protocol_id(c), code);
            assert_eq!(ours::SSL_CIPHER_get_kx_nid(c), kx(c));
            assert_eq!(ours::SSL_CIPHER_get_handshake_digest(c), hs(c));
            let mut a = -7;
            assert_eq!(ours::SSL_CIPHER_get_bits(c, &mut a) >= 0, a >= 0);
            let mut buf = [0u8; 128];
            let p = ours::SSL_CIPHER_description(c, buf.as_mut_ptr().cast(), 128);
            assert_eq!(p, buf.as_mut_ptr().cast());
            assert!(CStr::from_bytes_until_nul(&buf)
                .unwrap()
                .to_bytes()
                .ends_with(b"\n"));
            // Our own table's entry for the same code gives equal, but distinct, strings.
            let mine = (0..)
                .map_while(ours::table_entry)
                .find(|&e| ours::SSL_CIPHER_get_protocol_id(e) == code)
                .unwrap();
            assert_ne!(ours::SSL_CIPHER_get_name(mine), name(c));
            assert_eq!(
                CStr::from_ptr(ours::SSL_CIPHER_get_name(mine)),
                CStr::from_ptr(name(c))
            );
        }
        assert_eq!(n, 174);
    }
}

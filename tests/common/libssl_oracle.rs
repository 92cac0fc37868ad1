//! The system OpenSSL 3.0 as the DER codec's oracle: `libssl.so.3` and `libcrypto.so.3`
//! loaded with dlopen (RTLD_LOCAL), so that nothing of ours can stand in for them. Shared
//! by `tests/der_corpus.rs` and `fuzz/fuzz_targets/d2i_diff.rs` (each includes this file
//! with `#[path]`).
#![allow(dead_code)]

use std::ffi::{c_char, c_int, c_long, c_ulong, c_void, CStr};

type D2i = unsafe extern "C" fn(*mut *mut c_void, *mut *const u8, c_long) -> *mut c_void;
type I2d = unsafe extern "C" fn(*const c_void, *mut *mut u8) -> c_int;
type Free = unsafe extern "C" fn(*mut c_void);
type GetTime = unsafe extern "C" fn(*const c_void) -> c_long;
type ErrVoid = unsafe extern "C" fn();
type ErrPeek = unsafe extern "C" fn() -> c_ulong;

pub struct Libssl {
    pub d2i: D2i,
    pub i2d: I2d,
    pub free: Free,
    get_time: GetTime,
    err_clear: ErrVoid,
    err_first: ErrPeek,
    err_last: ErrPeek,
    cipher_find: unsafe extern "C" fn(*const c_void, *const u8) -> *const c_void,
    ssl: *mut c_void,
}

/// What libssl's `d2i_SSL_SESSION` did with an input.
#[derive(Debug)]
pub enum Oracle {
    Accepted {
        /// How far `*pp` advanced.
        consumed: usize,
        /// `SSL_SESSION_get_time` of the session.
        time: i64,
        /// The clock (seconds) just before and just after libssl's d2i.
        clock: (i64, i64),
        /// libssl's i2d of the session.
        der: Vec<u8>,
    },
    Rejected {
        /// `ERR_peek_error` and `ERR_peek_last_error` after the call.
        first: u32,
        last: u32,
    },
}

fn open(path: &CStr) -> *mut c_void {
    // SAFETY: dlopen with a valid C string; RTLD_LOCAL keeps its symbols out of our scope.
    let h = unsafe { libc::dlopen(path.as_ptr(), libc::RTLD_NOW | libc::RTLD_LOCAL) };
    assert!(!h.is_null(), "cannot dlopen {path:?}");
    h
}

fn sym<T: Copy>(h: *mut c_void, name: &CStr) -> T {
    // SAFETY: dlsym with a valid handle and name.
    let p = unsafe { libc::dlsym(h, name.as_ptr()) };
    assert!(!p.is_null(), "missing symbol {name:?}");
    assert_eq!(std::mem::size_of::<T>(), std::mem::size_of::<*mut c_void>());
    // SAFETY: T is the function pointer type of this symbol's C prototype.
    unsafe { std::mem::transmute_copy(&p) }
}

/// The file that defines the function at `f` (to prove it is the system libssl).
fn defining_file(f: *const c_void) -> String {
    // SAFETY: dladdr only reads the loader's tables; dli_fname is a C string it owns.
    unsafe {
        let mut info: libc::Dl_info = std::mem::zeroed();
        assert!(libc::dladdr(f, &mut info) != 0 && !info.dli_fname.is_null());
        CStr::from_ptr(info.dli_fname as *const c_char)
            .to_string_lossy()
            .into_owned()
    }
}

impl Libssl {
    /// Load the system libssl 3.0 (asserting that its functions come from libssl.so.3 and
    /// that the version is 3.0.x), with one `SSL` object for `knows_cipher`.
    pub fn load() -> Libssl {
        let ssl = open(c"/usr/lib/x86_64-linux-gnu/libssl.so.3");
        let crypto = open(c"/usr/lib/x86_64-linux-gnu/libcrypto.so.3");
        let l = Libssl {
            d2i: sym(ssl, c"d2i_SSL_SESSION"),
            i2d: sym(ssl, c"i2d_SSL_SESSION"),
            free: sym(ssl, c"SSL_SESSION_free"),
            get_time: sym(ssl, c"SSL_SESSION_get_time"),
            err_clear: sym(crypto, c"ERR_clear_error"),
            err_first: sym(crypto, c"ERR_peek_error"),
            err_last: sym(crypto, c"ERR_peek_last_error"),
            cipher_find: sym(ssl, c"SSL_CIPHER_find"),
            ssl: std::ptr::null_mut(),
        };
        for f in [l.d2i as *const c_void, l.i2d as _, l.free as _] {
            let file = defining_file(f);
            assert!(file.contains("libssl.so.3"), "libssl symbol from {file}");
        }
        let version: unsafe extern "C" fn(c_int) -> *const c_char = sym(crypto, c"OpenSSL_version");
        // SAFETY: OpenSSL_version(0) returns a static string.
        let v = unsafe { CStr::from_ptr(version(0)) }.to_string_lossy();
        assert!(v.starts_with("OpenSSL 3.0."), "unexpected {v}");
        let method: unsafe extern "C" fn() -> *const c_void = sym(ssl, c"TLS_method");
        let ctx_new: unsafe extern "C" fn(*const c_void) -> *mut c_void = sym(ssl, c"SSL_CTX_new");
        let ssl_new: unsafe extern "C" fn(*mut c_void) -> *mut c_void = sym(ssl, c"SSL_new");
        // SAFETY: plain libssl constructors; both objects live until the process exits.
        let l = Libssl {
            ssl: unsafe { ssl_new(ctx_new(method())) },
            ..l
        };
        assert!(!l.ssl.is_null());
        l
    }

    /// Whether libssl's d2i knows cipher `code` (`SSL_CIPHER_find` uses the same table).
    pub fn knows_cipher(&self, code: [u8; 2]) -> bool {
        // SAFETY: a live SSL and a 2-byte buffer.
        !unsafe { (self.cipher_find)(self.ssl, code.as_ptr()) }.is_null()
    }

    /// libssl's `d2i_SSL_SESSION` on `input` (a new session, then its i2d, then freed).
    pub fn run(&self, input: &[u8]) -> Oracle {
        let mut p = input.as_ptr();
        // SAFETY: plain libssl/libcrypto calls on buffers we own; the session is freed here.
        unsafe {
            (self.err_clear)();
            let before = libc::time(std::ptr::null_mut()) as i64;
            let s = (self.d2i)(std::ptr::null_mut(), &mut p, input.len() as c_long);
            if s.is_null() {
                let r = Oracle::Rejected {
                    first: (self.err_first)() as u32,
                    last: (self.err_last)() as u32,
                };
                (self.err_clear)();
                return r;
            }
            let consumed = p as usize - input.as_ptr() as usize;
            let time = (self.get_time)(s) as i64;
            let clock = (before, libc::time(std::ptr::null_mut()) as i64);
            let n = (self.i2d)(s, std::ptr::null_mut());
            let mut der = vec![0u8; n.max(0) as usize];
            let mut q = der.as_mut_ptr();
            let m = (self.i2d)(s, &mut q);
            assert_eq!(n, m);
            (self.free)(s);
            Oracle::Accepted {
                consumed,
                time,
                clock,
                der,
            }
        }
    }
}

pub fn hex(b: &[u8]) -> String {
    b.iter().map(|x| format!("{x:02X}")).collect()
}

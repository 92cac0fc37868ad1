//! `der::decode` against the system OpenSSL 3.0 (`libssl.so.3`, dlopened RTLD_LOCAL): the
//! same verdict, the same bytes consumed, the same first and last queued error codes, and
//! for accepted inputs the same re-encoding (libssl's i2d of its session against our encode).
//! Inputs without a time field get "now" from libssl's clock; its `SSL_SESSION_get_time` is
//! our "now" (as in tests/der_corpus.rs).
#![no_main]

use libfuzzer_sys::fuzz_target;
use ssl_session::der;
use std::ffi::{c_int, c_long, c_ulong, c_void, CStr};
use std::sync::OnceLock;

type D2i = unsafe extern "C" fn(*mut *mut c_void, *mut *const u8, c_long) -> *mut c_void;
type I2d = unsafe extern "C" fn(*const c_void, *mut *mut u8) -> c_int;
type Free = unsafe extern "C" fn(*mut c_void);
type GetTime = unsafe extern "C" fn(*const c_void) -> c_long;
type ErrVoid = unsafe extern "C" fn();
type ErrPeek = unsafe extern "C" fn() -> c_ulong;

struct Libssl {
    d2i: D2i,
    i2d: I2d,
    free: Free,
    get_time: GetTime,
    err_clear: ErrVoid,
    err_first: ErrPeek,
    err_last: ErrPeek,
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
        CStr::from_ptr(info.dli_fname)
            .to_string_lossy()
            .into_owned()
    }
}

impl Libssl {
    fn load() -> Libssl {
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
        };
        for f in [l.d2i as *const c_void, l.i2d as _, l.free as _] {
            let file = defining_file(f);
            assert!(file.contains("libssl.so.3"), "libssl symbol from {file}");
        }
        let version: unsafe extern "C" fn(c_int) -> *const std::ffi::c_char =
            sym(crypto, c"OpenSSL_version");
        // SAFETY: OpenSSL_version(0) returns a static string.
        let v = unsafe { CStr::from_ptr(version(0)) }.to_string_lossy();
        assert!(v.starts_with("OpenSSL 3.0."), "unexpected {v}");
        l
    }

    fn run(&self, input: &[u8]) -> Oracle {
        let mut p = input.as_ptr();
        // SAFETY: plain libssl/libcrypto calls on buffers we own; the session is freed here.
        unsafe {
            (self.err_clear)();
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
            let n = (self.i2d)(s, std::ptr::null_mut());
            let mut der = vec![0u8; n.max(0) as usize];
            let mut q = der.as_mut_ptr();
            let m = (self.i2d)(s, &mut q);
            assert_eq!(n, m);
            (self.free)(s);
            Oracle::Accepted {
                consumed,
                time,
                der,
            }
        }
    }
}

enum Oracle {
    Accepted {
        consumed: usize,
        time: i64,
        der: Vec<u8>,
    },
    Rejected {
        first: u32,
        last: u32,
    },
}

struct Shared(Libssl);
// SAFETY: only function pointers into libssl/libcrypto, which are thread-safe to call.
unsafe impl Sync for Shared {}
unsafe impl Send for Shared {}

static LIBSSL: OnceLock<Shared> = OnceLock::new();

fn hex(b: &[u8]) -> String {
    b.iter().map(|x| format!("{x:02X}")).collect()
}

fuzz_target!(|data: &[u8]| {
    let lib = &LIBSSL.get_or_init(|| Shared(Libssl::load())).0;
    let oracle = lib.run(data);
    let ours = der::decode(data);
    match (oracle, ours) {
        (
            Oracle::Accepted {
                consumed,
                time,
                der,
            },
            Ok(d),
        ) => {
            assert_eq!(
                d.consumed,
                consumed,
                "consumed: ours {}, libssl {consumed}; input {}",
                d.consumed,
                hex(data)
            );
            let (_, out) = der::reencode(data, time).expect("decoded once");
            assert!(
                out == der,
                "re-encoding differs\n  input  {}\n  ours   {}\n  libssl {}",
                hex(data),
                hex(&out),
                hex(&der)
            );
        }
        (Oracle::Rejected { first, last }, Err(e)) => {
            assert!(
                (e.first_error(), e.last_error()) == (first, last),
                "errors: ours {:08X}/{:08X} ({e:?}), libssl {first:08X}/{last:08X}; input {}",
                e.first_error(),
                e.last_error(),
                hex(data)
            );
        }
        (Oracle::Accepted { consumed, .. }, Err(e)) => panic!(
            "libssl accepts (consumed {consumed}), we reject with {e:?}; input {}",
            hex(data)
        ),
        (Oracle::Rejected { first, last }, Ok(d)) => panic!(
            "libssl rejects ({first:08X}/{last:08X}), we accept (consumed {}); input {}",
            d.consumed,
            hex(data)
        ),
    }
});

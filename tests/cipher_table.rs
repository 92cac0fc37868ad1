//! Our cipher table and SSL_CIPHER accessors against the system libssl, in one process:
//! libssl.so.3 is dlopen'ed RTLD_LOCAL, so its functions are reached only through the
//! handle, and `dlsym(RTLD_NEXT)` from our code finds no libssl (forwarding is exercised
//! by tests/cipher_forward.rs and by the preloaded C program below).

mod common;

use common::*;
use libc::{c_char, c_int, c_void};
use ssl_session::capi::cipher as ours;
use ssl_session::capi::{EVP_MD, SSL_CIPHER};
use std::ffi::CStr;
use std::sync::OnceLock;

type StrFn = unsafe extern "C" fn(*const SSL_CIPHER) -> *const c_char;
type IntFn = unsafe extern "C" fn(*const SSL_CIPHER) -> c_int;

struct Libssl {
    ssl: usize,
    find: unsafe extern "C" fn(usize, *const u8) -> *const SSL_CIPHER,
    get_name: StrFn,
    standard_name: StrFn,
    get_version: StrFn,
    get_id: unsafe extern "C" fn(*const SSL_CIPHER) -> u32,
    get_protocol_id: unsafe extern "C" fn(*const SSL_CIPHER) -> u16,
    get_bits: unsafe extern "C" fn(*const SSL_CIPHER, *mut c_int) -> c_int,
    description: unsafe extern "C" fn(*const SSL_CIPHER, *mut c_char, c_int) -> *mut c_char,
    is_aead: IntFn,
    get_cipher_nid: IntFn,
    get_digest_nid: IntFn,
    get_kx_nid: IntFn,
    get_auth_nid: IntFn,
    get_handshake_digest: unsafe extern "C" fn(*const SSL_CIPHER) -> *const EVP_MD,
}

extern "C" {
    // libcrypto, which the library links.
    fn CRYPTO_free(ptr: *mut c_void, file: *const c_char, line: c_int);
    fn EVP_MD_get_type(md: *const c_void) -> c_int;
}

/// A function pointer from its address.
unsafe fn fnptr<T: Copy>(addr: usize) -> T {
    assert_eq!(std::mem::size_of::<T>(), std::mem::size_of::<usize>());
    std::mem::transmute_copy(&addr)
}

fn libssl() -> &'static Libssl {
    static L: OnceLock<Libssl> = OnceLock::new();
    L.get_or_init(|| unsafe {
        let h = libc::dlopen(c"libssl.so.3".as_ptr(), libc::RTLD_NOW | libc::RTLD_LOCAL);
        assert!(!h.is_null(), "dlopen libssl.so.3");
        let sym = |name: &CStr| {
            let p = libc::dlsym(h, name.as_ptr());
            assert!(!p.is_null(), "{name:?}");
            p as usize
        };
        macro_rules! f {
            ($name:literal) => {
                fnptr(sym($name))
            };
        }
        let method: unsafe extern "C" fn() -> usize = f!(c"TLS_method");
        let ctx_new: unsafe extern "C" fn(usize) -> usize = f!(c"SSL_CTX_new");
        let ssl_new: unsafe extern "C" fn(usize) -> usize = f!(c"SSL_new");
        let ctx = ctx_new(method());
        assert_ne!(ctx, 0);
        let ssl = ssl_new(ctx);
        assert_ne!(ssl, 0);
        Libssl {
            ssl,
            find: f!(c"SSL_CIPHER_find"),
            get_name: f!(c"SSL_CIPHER_get_name"),
            standard_name: f!(c"SSL_CIPHER_standard_name"),
            get_version: f!(c"SSL_CIPHER_get_version"),
            get_id: f!(c"SSL_CIPHER_get_id"),
            get_protocol_id: f!(c"SSL_CIPHER_get_protocol_id"),
            get_bits: f!(c"SSL_CIPHER_get_bits"),
            description: f!(c"SSL_CIPHER_description"),
            is_aead: f!(c"SSL_CIPHER_is_aead"),
            get_cipher_nid: f!(c"SSL_CIPHER_get_cipher_nid"),
            get_digest_nid: f!(c"SSL_CIPHER_get_digest_nid"),
            get_kx_nid: f!(c"SSL_CIPHER_get_kx_nid"),
            get_auth_nid: f!(c"SSL_CIPHER_get_auth_nid"),
            get_handshake_digest: f!(c"SSL_CIPHER_get_handshake_digest"),
        }
    })
}

impl Libssl {
    fn find(&self, code: u16) -> *const SSL_CIPHER {
        unsafe { (self.find)(self.ssl, code.to_be_bytes().as_ptr()) }
    }
}

fn s(p: *const c_char) -> Option<String> {
    (!p.is_null()).then(|| unsafe { CStr::from_ptr(p) }.to_string_lossy().into_owned())
}

fn our_entries() -> Vec<*const SSL_CIPHER> {
    (0..).map_while(ours::table_entry).collect()
}

/// `SSL_CIPHER_description(c, buf, size)` into 256 bytes of 'X': (returned buf?, bytes).
fn describe(
    f: unsafe extern "C" fn(*const SSL_CIPHER, *mut c_char, c_int) -> *mut c_char,
    c: *const SSL_CIPHER,
    size: c_int,
) -> (Option<bool>, [u8; 256]) {
    let mut buf = [b'X'; 256];
    let r = unsafe { f(c, buf.as_mut_ptr().cast(), size) };
    let ret = (!r.is_null()).then(|| r == buf.as_mut_ptr().cast());
    (ret, buf)
}

/// `SSL_CIPHER_description(c, NULL, size)`: the allocated line, freed here.
fn describe_alloc(
    f: unsafe extern "C" fn(*const SSL_CIPHER, *mut c_char, c_int) -> *mut c_char,
    c: *const SSL_CIPHER,
    size: c_int,
) -> Option<String> {
    let p = unsafe { f(c, std::ptr::null_mut(), size) };
    let line = s(p);
    unsafe { CRYPTO_free(p.cast(), c"test".as_ptr(), 0) };
    line
}

#[test]
fn every_entry_answers_as_libssl_does_for_its_code() {
    let l = libssl();
    let entries = our_entries();
    assert_eq!(entries.len(), 174);
    for &c in &entries {
        let code = ours::SSL_CIPHER_get_protocol_id(c);
        let r = l.find(code);
        assert!(!r.is_null(), "{code:04X} is not libssl's");
        assert_ne!(r, c);
        unsafe {
            let what = format!("{code:04X} {:?}", s(ours::SSL_CIPHER_get_name(c)));
            assert_eq!(
                s(ours::SSL_CIPHER_get_name(c)),
                s((l.get_name)(r)),
                "{what}"
            );
            assert_eq!(
                s(ours::SSL_CIPHER_standard_name(c)),
                s((l.standard_name)(r)),
                "{what}"
            );
            assert_eq!(
                s(ours::SSL_CIPHER_get_version(c)),
                s((l.get_version)(r)),
                "{what}"
            );
            assert_eq!(ours::SSL_CIPHER_get_id(c), (l.get_id)(r), "{what}");
            assert_eq!(code, (l.get_protocol_id)(r), "{what}");
            let (mut a1, mut a2) = (-7, -7);
            assert_eq!(
                ours::SSL_CIPHER_get_bits(c, &mut a1),
                (l.get_bits)(r, &mut a2),
                "{what}"
            );
            assert_eq!(a1, a2, "{what}");
            assert_eq!(
                ours::SSL_CIPHER_get_bits(c, std::ptr::null_mut()),
                (l.get_bits)(r, std::ptr::null_mut())
            );
            assert_eq!(ours::SSL_CIPHER_is_aead(c), (l.is_aead)(r), "{what}");
            assert_eq!(
                ours::SSL_CIPHER_get_cipher_nid(c),
                (l.get_cipher_nid)(r),
                "{what}"
            );
            assert_eq!(
                ours::SSL_CIPHER_get_digest_nid(c),
                (l.get_digest_nid)(r),
                "{what}"
            );
            assert_eq!(ours::SSL_CIPHER_get_kx_nid(c), (l.get_kx_nid)(r), "{what}");
            assert_eq!(
                ours::SSL_CIPHER_get_auth_nid(c),
                (l.get_auth_nid)(r),
                "{what}"
            );
            // libssl 3.0 returns EVP_get_digestbynid()'s static digest too, so even the
            // pointers agree (callers should still compare EVP_MD_get_type).
            let (m1, m2) = (
                ours::SSL_CIPHER_get_handshake_digest(c),
                (l.get_handshake_digest)(r),
            );
            assert_eq!(m1, m2, "{what}");
            if !m1.is_null() {
                assert_eq!(
                    EVP_MD_get_type(m1.cast()),
                    EVP_MD_get_type(m2.cast()),
                    "{what}"
                );
            }
            for size in [c_int::MIN, -1, 0, 127, 128, 129, 256] {
                assert_eq!(
                    describe(ours::SSL_CIPHER_description, c, size),
                    describe(l.description, r, size),
                    "{what} size {size}"
                );
            }
            for size in [-1, 0, 5, 128, 1000] {
                let line = describe_alloc(ours::SSL_CIPHER_description, c, size);
                assert!(line.is_some(), "{what}");
                assert_eq!(line, describe_alloc(l.description, r, size), "{what}");
            }
        }
    }
}

#[test]
fn codes_libssl_does_not_know_are_not_in_our_table() {
    let l = libssl();
    let mut ours_codes: Vec<u16> = our_entries()
        .into_iter()
        .map(|c| ours::SSL_CIPHER_get_protocol_id(c))
        .collect();
    ours_codes.sort_unstable();
    let libssl_codes: Vec<u16> = (0..=0xFFFF)
        .filter(|&code| !l.find(code).is_null())
        .collect();
    assert_eq!(libssl_codes.len(), 174);
    assert_eq!(ours_codes, libssl_codes);
}

#[test]
fn null_gets_libssls_answer_or_zero_where_libssl_crashes() {
    let l = libssl();
    let n = std::ptr::null();
    unsafe {
        // Where libssl has an answer for NULL, ours is the same.
        for (o, r) in [
            (ours::SSL_CIPHER_get_name as StrFn, l.get_name),
            (ours::SSL_CIPHER_standard_name, l.standard_name),
            (ours::SSL_CIPHER_get_version, l.get_version),
        ] {
            assert_eq!(s(o(n)).as_deref(), Some("(NONE)"));
            assert_eq!(s(o(n)), s(r(n)));
        }
        let (mut a1, mut a2) = (-7, -7);
        assert_eq!(ours::SSL_CIPHER_get_bits(n, &mut a1), 0);
        assert_eq!((l.get_bits)(n, &mut a2), 0);
        assert_eq!((a1, a2), (-7, -7), "alg_bits is left alone");
        assert_eq!(ours::SSL_CIPHER_get_bits(n, std::ptr::null_mut()), 0);
        assert_eq!(ours::SSL_CIPHER_get_cipher_nid(n), 0);
        assert_eq!((l.get_cipher_nid)(n), 0);
        for size in [-1, 0, 127] {
            assert_eq!(
                describe(ours::SSL_CIPHER_description, n, size),
                describe(l.description, n, size)
            );
        }
    }
    // Where libssl crashes (SIGSEGV, measured), ours returns 0 / NULL.
    assert_eq!(ours::SSL_CIPHER_get_id(n), 0);
    assert_eq!(ours::SSL_CIPHER_get_protocol_id(n), 0);
    assert_eq!(ours::SSL_CIPHER_is_aead(n), 0);
    assert_eq!(ours::SSL_CIPHER_get_digest_nid(n), 0);
    assert_eq!(ours::SSL_CIPHER_get_kx_nid(n), 0);
    assert_eq!(ours::SSL_CIPHER_get_auth_nid(n), 0);
    assert!(ours::SSL_CIPHER_get_handshake_digest(n).is_null());
    assert_eq!(
        describe(ours::SSL_CIPHER_description, n, 128),
        (None, [b'X'; 256])
    );
    assert!(ours::SSL_CIPHER_description(n, std::ptr::null_mut(), 0).is_null());
}

#[test]
fn a_cipher_of_a_privately_loaded_libssl_is_answered_by_that_libssl() {
    let l = libssl();
    // libssl is loaded RTLD_LOCAL: nothing after us defines the accessors, yet its
    // ciphers reach its own definitions (found among the loaded objects).
    let next = unsafe { libc::dlsym(libc::RTLD_NEXT, c"SSL_CIPHER_get_name".as_ptr()) };
    assert!(next.is_null());
    for code in [0x1301u16, 0xc02f, 0x009c, 0xc0ad] {
        let c = l.find(code);
        assert!(!c.is_null() && !our_entries().contains(&c), "{code:#x}");
        unsafe {
            assert_eq!(s(ours::SSL_CIPHER_get_name(c)), s((l.get_name)(c)));
            assert_eq!(
                s(ours::SSL_CIPHER_standard_name(c)),
                s((l.standard_name)(c))
            );
            assert_eq!(s(ours::SSL_CIPHER_get_version(c)), s((l.get_version)(c)));
            let (mut a, mut b) = (-7, -8);
            assert_eq!(
                ours::SSL_CIPHER_get_bits(c, &mut a),
                (l.get_bits)(c, &mut b)
            );
            assert_eq!(a, b);
            assert!(a > 0);
            assert_eq!(ours::SSL_CIPHER_get_id(c), (l.get_id)(c));
            assert_eq!(ours::SSL_CIPHER_get_protocol_id(c), code);
            assert_eq!(ours::SSL_CIPHER_is_aead(c), (l.is_aead)(c));
            assert_eq!(ours::SSL_CIPHER_get_kx_nid(c), (l.get_kx_nid)(c));
            assert_eq!(
                ours::SSL_CIPHER_get_handshake_digest(c),
                (l.get_handshake_digest)(c)
            );
            assert_eq!(
                describe(ours::SSL_CIPHER_description, c, 128),
                describe(l.description, c, 128)
            );
        }
    }
}

/// The C program prints every accessor's answer for every libssl cipher; preloaded,
/// each call goes through ours and is forwarded to libssl. Same output both ways.
#[test]
fn preloaded_accessors_forward_libssl_ciphers_unchanged() {
    let exe = program("cipher_accessors", Target::Libssl);
    let real = run(&exe, &[], &[]);
    let so = our_so();
    let pre = run(&exe, &[], &[("LD_PRELOAD", so.to_str().unwrap())]);
    assert!(real.status.success(), "{}", text(&real.stderr));
    assert!(pre.status.success(), "{}", text(&pre.stderr));
    let out = text(&real.stdout);
    assert!(out.contains("\n174 ciphers\n"), "{out}");
    assert!(
        out.contains("\nNULL name=(NONE) std=(NONE) ver=(NONE) bits=0 alg=-7 bits_no_out=0 cipher=0 desc127=NULL\n"),
        "{out}"
    );
    assert_eq!(text(&pre.stdout), out);
    assert!(pre.stderr.is_empty(), "{}", text(&pre.stderr));

    // And the preloaded run really called ours.
    let which = text(&run(&exe, &["which"], &[("LD_PRELOAD", so.to_str().unwrap())]).stdout);
    let plain = text(&run(&exe, &["which"], &[]).stdout);
    assert_eq!(which.lines().count(), 14, "{which}");
    for (p, w) in plain.lines().zip(which.lines()) {
        if w.starts_with("SSL_CIPHER_find ") {
            assert_eq!(w, "SSL_CIPHER_find libssl.so.3");
        } else {
            assert!(p.ends_with(" libssl.so.3"), "{p}");
            assert!(w.ends_with(" libssl_session.so"), "{w}");
        }
    }
}

/// tools/gen-cipher-table.c, run against the installed libssl, still prints the committed
/// src/model/cipher_table.rs (all but the first line, which names the OpenSSL version).
#[test]
fn generator_reproduces_the_committed_table() {
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR"));
    let dir = lib_dir().join("ctests");
    std::fs::create_dir_all(&dir).unwrap();
    let exe = dir.join("gen-cipher-table");
    let out = std::process::Command::new("cc")
        .arg(root.join("tools/gen-cipher-table.c"))
        .arg("-o")
        .arg(&exe)
        .args(["-lssl", "-lcrypto"])
        .output()
        .expect("run cc");
    assert!(out.status.success(), "{}", text(&out.stderr));
    let out = run(&exe, &[], &[]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    let generated = text(&out.stdout);
    let committed = std::fs::read_to_string(root.join("src/model/cipher_table.rs")).unwrap();
    let body = |s: &str| s.split_once('\n').map(|(_, b)| b.to_string());
    assert!(
        body(&generated) == body(&committed),
        "src/model/cipher_table.rs is stale: regenerate it (see its header)"
    );
}

//! Differential test of the text output against the system OpenSSL 3.0.
//!
//! The real `libssl.so.3` and `libcrypto.so.3` are dlopen'ed (RTLD_LOCAL) and called
//! through dlsym. Sessions are built there with the public setters or by d2i of DER that
//! this file encodes (d2i is the only way to set PSK identity/hint, SRP username, ticket,
//! compression, flags and verify result), printed with `SSL_SESSION_print` /
//! `SSL_SESSION_print_keylog` into a memory BIO, and compared with our printers on the
//! equivalent `SessionData`. A BIO callback records every `BIO_puts`/`BIO_write` the real
//! printers make and can fail the k-th one; our side records the calls it makes to its
//! `Sink` and fails the same one, so the comparison covers the output, the return value
//! and the exact sequence of BIO calls, including every failure point.

use libc::{c_char, c_int, c_long, c_uint, c_ulong, c_void, size_t};
use ssl_session::testing::{
    dump_indent, find_cipher, keylog, print, Bytes, Cipher, IdBuf, SessionData, Sink, Text,
};
use std::collections::HashMap;
use std::ffi::{CStr, CString};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Mutex, OnceLock};

type P = *mut c_void;
type BioCallbackEx = unsafe extern "C" fn(
    P,
    c_int,
    *const c_char,
    size_t,
    c_int,
    c_long,
    c_int,
    *mut size_t,
) -> c_long;

const BIO_CB_WRITE: c_int = 0x03;
const BIO_CB_PUTS: c_int = 0x04;
const BIO_CTRL_INFO: c_int = 3;

/// The libssl and libcrypto functions used, resolved with dlsym.
struct Ossl {
    ssl: P,
    session_new: unsafe extern "C" fn() -> P,
    session_free: unsafe extern "C" fn(P),
    set_protocol_version: unsafe extern "C" fn(P, c_int) -> c_int,
    set_cipher: unsafe extern "C" fn(P, *const c_void) -> c_int,
    cipher_find: unsafe extern "C" fn(P, *const u8) -> *const c_void,
    cipher_get_name: unsafe extern "C" fn(*const c_void) -> *const c_char,
    cipher_get_id: unsafe extern "C" fn(*const c_void) -> u32,
    set1_id: unsafe extern "C" fn(P, *const u8, c_uint) -> c_int,
    set1_id_context: unsafe extern "C" fn(P, *const u8, c_uint) -> c_int,
    set1_master_key: unsafe extern "C" fn(P, *const u8, size_t) -> c_int,
    set_time: unsafe extern "C" fn(P, c_long) -> c_long,
    set_timeout: unsafe extern "C" fn(P, c_long) -> c_long,
    set_max_early_data: unsafe extern "C" fn(P, u32) -> c_int,
    set1_hostname: unsafe extern "C" fn(P, *const c_char) -> c_int,
    set1_alpn_selected: unsafe extern "C" fn(P, *const u8, size_t) -> c_int,
    get_protocol_version: unsafe extern "C" fn(P) -> c_int,
    get0_cipher: unsafe extern "C" fn(P) -> *const c_void,
    get_id: unsafe extern "C" fn(P, *mut c_uint) -> *const u8,
    get0_id_context: unsafe extern "C" fn(P, *mut c_uint) -> *const u8,
    get_master_key: unsafe extern "C" fn(P, *mut u8, size_t) -> size_t,
    get_time: unsafe extern "C" fn(P) -> c_long,
    get_timeout: unsafe extern "C" fn(P) -> c_long,
    get_ticket_lifetime_hint: unsafe extern "C" fn(P) -> c_ulong,
    get0_ticket: unsafe extern "C" fn(P, *mut *const u8, *mut size_t),
    get_compress_id: unsafe extern "C" fn(P) -> c_uint,
    get_max_early_data: unsafe extern "C" fn(P) -> u32,
    d2i: unsafe extern "C" fn(*mut P, *mut *const u8, c_long) -> P,
    session_print: unsafe extern "C" fn(P, P) -> c_int,
    session_print_keylog: unsafe extern "C" fn(P, P) -> c_int,
    bio_new: unsafe extern "C" fn(*const c_void) -> P,
    bio_s_mem: unsafe extern "C" fn() -> *const c_void,
    bio_free: unsafe extern "C" fn(P) -> c_int,
    bio_ctrl: unsafe extern "C" fn(P, c_int, c_long, P) -> c_long,
    bio_set_callback_ex: unsafe extern "C" fn(P, Option<BioCallbackEx>),
    bio_set_callback_arg: unsafe extern "C" fn(P, *mut c_char),
    bio_get_callback_arg: unsafe extern "C" fn(P) -> *mut c_char,
    bio_dump_indent: unsafe extern "C" fn(P, *const c_void, c_int, c_int) -> c_int,
    verify_cert_error_string: unsafe extern "C" fn(c_long) -> *const c_char,
}

// SAFETY: the SSL object is only read (SSL_CIPHER_find); the rest are function pointers.
unsafe impl Send for Ossl {}
unsafe impl Sync for Ossl {}

/// # Safety
/// `T` must be the function pointer type of the symbol's C prototype.
unsafe fn sym<T: Copy>(handle: P, name: &str) -> T {
    assert_eq!(std::mem::size_of::<T>(), std::mem::size_of::<P>());
    let c = CString::new(name).unwrap();
    let p = libc::dlsym(handle, c.as_ptr());
    assert!(!p.is_null(), "dlsym({name}) failed");
    std::mem::transmute_copy(&p)
}

fn dlopen(name: &CStr) -> P {
    // SAFETY: plain dlopen of a system library.
    let h = unsafe { libc::dlopen(name.as_ptr(), libc::RTLD_NOW | libc::RTLD_LOCAL) };
    assert!(!h.is_null(), "dlopen({name:?}) failed");
    h
}

fn ossl() -> &'static Ossl {
    static O: OnceLock<Ossl> = OnceLock::new();
    O.get_or_init(|| {
        let ssl = dlopen(c"libssl.so.3");
        let cr = dlopen(c"libcrypto.so.3");
        // SAFETY: every type below is the symbol's prototype from the 3.0 headers.
        unsafe {
            let tls_method: unsafe extern "C" fn() -> *const c_void = sym(ssl, "TLS_method");
            let ctx_new: unsafe extern "C" fn(*const c_void) -> P = sym(ssl, "SSL_CTX_new");
            let ssl_new: unsafe extern "C" fn(P) -> P = sym(ssl, "SSL_new");
            let ctx = ctx_new(tls_method());
            assert!(!ctx.is_null());
            let s = ssl_new(ctx);
            assert!(!s.is_null());
            Ossl {
                ssl: s,
                session_new: sym(ssl, "SSL_SESSION_new"),
                session_free: sym(ssl, "SSL_SESSION_free"),
                set_protocol_version: sym(ssl, "SSL_SESSION_set_protocol_version"),
                set_cipher: sym(ssl, "SSL_SESSION_set_cipher"),
                cipher_find: sym(ssl, "SSL_CIPHER_find"),
                cipher_get_name: sym(ssl, "SSL_CIPHER_get_name"),
                cipher_get_id: sym(ssl, "SSL_CIPHER_get_id"),
                set1_id: sym(ssl, "SSL_SESSION_set1_id"),
                set1_id_context: sym(ssl, "SSL_SESSION_set1_id_context"),
                set1_master_key: sym(ssl, "SSL_SESSION_set1_master_key"),
                set_time: sym(ssl, "SSL_SESSION_set_time"),
                set_timeout: sym(ssl, "SSL_SESSION_set_timeout"),
                set_max_early_data: sym(ssl, "SSL_SESSION_set_max_early_data"),
                set1_hostname: sym(ssl, "SSL_SESSION_set1_hostname"),
                set1_alpn_selected: sym(ssl, "SSL_SESSION_set1_alpn_selected"),
                get_protocol_version: sym(ssl, "SSL_SESSION_get_protocol_version"),
                get0_cipher: sym(ssl, "SSL_SESSION_get0_cipher"),
                get_id: sym(ssl, "SSL_SESSION_get_id"),
                get0_id_context: sym(ssl, "SSL_SESSION_get0_id_context"),
                get_master_key: sym(ssl, "SSL_SESSION_get_master_key"),
                get_time: sym(ssl, "SSL_SESSION_get_time"),
                get_timeout: sym(ssl, "SSL_SESSION_get_timeout"),
                get_ticket_lifetime_hint: sym(ssl, "SSL_SESSION_get_ticket_lifetime_hint"),
                get0_ticket: sym(ssl, "SSL_SESSION_get0_ticket"),
                get_compress_id: sym(ssl, "SSL_SESSION_get_compress_id"),
                get_max_early_data: sym(ssl, "SSL_SESSION_get_max_early_data"),
                d2i: sym(ssl, "d2i_SSL_SESSION"),
                session_print: sym(ssl, "SSL_SESSION_print"),
                session_print_keylog: sym(ssl, "SSL_SESSION_print_keylog"),
                bio_new: sym(cr, "BIO_new"),
                bio_s_mem: sym(cr, "BIO_s_mem"),
                bio_free: sym(cr, "BIO_free"),
                bio_ctrl: sym(cr, "BIO_ctrl"),
                bio_set_callback_ex: sym(cr, "BIO_set_callback_ex"),
                bio_set_callback_arg: sym(cr, "BIO_set_callback_arg"),
                bio_get_callback_arg: sym(cr, "BIO_get_callback_arg"),
                bio_dump_indent: sym(cr, "BIO_dump_indent"),
                verify_cert_error_string: sym(cr, "X509_verify_cert_error_string"),
            }
        }
    })
}

// ------------------------------------------------------------------------------------
// Recording the BIO calls on both sides

/// One BIO call: `(is_puts, length)`.
type Op = (bool, usize);

/// What one print produced: return value, bytes, and the BIO calls made.
#[derive(Debug, PartialEq, Eq)]
struct Run {
    ret: c_int,
    out: Vec<u8>,
    ops: Vec<Op>,
}

/// The failure to inject: fail call number `at` (0-based) with the value `value`.
#[derive(Clone, Copy, Debug)]
struct Fail {
    at: usize,
    value: c_int,
}

struct CbState {
    ops: Vec<Op>,
    fail: Option<Fail>,
}

unsafe extern "C" fn record_cb(
    b: P,
    oper: c_int,
    argp: *const c_char,
    len: size_t,
    _argi: c_int,
    _argl: c_long,
    ret: c_int,
    _processed: *mut size_t,
) -> c_long {
    if oper == BIO_CB_WRITE || oper == BIO_CB_PUTS {
        let st = &mut *((ossl().bio_get_callback_arg)(b) as *mut CbState);
        let puts = oper == BIO_CB_PUTS;
        let n = if puts {
            CStr::from_ptr(argp).to_bytes().len()
        } else {
            len
        };
        let i = st.ops.len();
        st.ops.push((puts, n));
        if let Some(f) = st.fail {
            if f.at == i {
                return c_long::from(f.value);
            }
        }
    }
    c_long::from(ret)
}

/// Run `f` on a fresh memory BIO with the recording callback installed.
fn with_bio(fail: Option<Fail>, f: impl FnOnce(P) -> c_int) -> Run {
    let o = ossl();
    let mut st = Box::new(CbState {
        ops: Vec::new(),
        fail,
    });
    // SAFETY: a memory BIO, used only on this thread, with `st` outliving it.
    unsafe {
        let bio = (o.bio_new)((o.bio_s_mem)());
        assert!(!bio.is_null());
        (o.bio_set_callback_arg)(bio, &mut *st as *mut CbState as *mut c_char);
        (o.bio_set_callback_ex)(bio, Some(record_cb));
        let ret = f(bio);
        let mut p: *const u8 = std::ptr::null();
        let n = (o.bio_ctrl)(bio, BIO_CTRL_INFO, 0, &mut p as *mut *const u8 as P);
        let out = if n > 0 {
            std::slice::from_raw_parts(p, n as usize).to_vec()
        } else {
            Vec::new()
        };
        (o.bio_set_callback_ex)(bio, None);
        (o.bio_free)(bio);
        Run {
            ret,
            out,
            ops: st.ops,
        }
    }
}

/// Our side: a sink that behaves as the memory BIO with the recording callback above.
struct Recorder {
    out: Vec<u8>,
    ops: Vec<Op>,
    fail: Option<Fail>,
}

impl Recorder {
    fn new(fail: Option<Fail>) -> Self {
        Recorder {
            out: Vec::new(),
            ops: Vec::new(),
            fail,
        }
    }
    fn op(&mut self, puts: bool, data: &[u8]) -> i32 {
        let i = self.ops.len();
        self.ops.push((puts, data.len()));
        if let Some(f) = self.fail {
            if f.at == i {
                return f.value;
            }
        }
        self.out.extend_from_slice(data);
        data.len() as i32
    }
    fn run(self, ret: c_int) -> Run {
        Run {
            ret,
            out: self.out,
            ops: self.ops,
        }
    }
}

impl Sink for Recorder {
    fn puts(&mut self, s: &[u8]) -> i32 {
        self.op(true, s)
    }
    fn write(&mut self, data: &[u8]) -> i32 {
        // BIO_write returns 0 for len <= 0 before it reaches the BIO (or its callback).
        if data.is_empty() {
            return 0;
        }
        self.op(false, data)
    }
}

fn verify_string(v: i64) -> Vec<u8> {
    // SAFETY: returns a static string (or one in a static buffer) for any code.
    unsafe {
        CStr::from_ptr((ossl().verify_cert_error_string)(v as c_long))
            .to_bytes()
            .to_vec()
    }
}

fn ours_print(s: &SessionData, fail: Option<Fail>) -> Run {
    let mut r = Recorder::new(fail);
    let ok = print(s, &verify_string(s.verify_result), None, &mut r);
    r.run(ok as c_int)
}

fn ours_keylog(s: &SessionData, fail: Option<Fail>) -> Run {
    let mut r = Recorder::new(fail);
    let ok = keylog(s, &mut r);
    r.run(ok as c_int)
}

fn theirs_print(sess: P, fail: Option<Fail>) -> Run {
    // SAFETY: sess is a live libssl session.
    with_bio(fail, |bio| unsafe { (ossl().session_print)(bio, sess) })
}

fn theirs_keylog(sess: P, fail: Option<Fail>) -> Run {
    // SAFETY: sess is a live libssl session.
    with_bio(fail, |bio| unsafe {
        (ossl().session_print_keylog)(bio, sess)
    })
}

static COMPARED: AtomicUsize = AtomicUsize::new(0);

fn assert_same(what: &str, theirs: &Run, ours: &Run) {
    COMPARED.fetch_add(1, Ordering::Relaxed);
    if theirs != ours {
        panic!(
            "{what}: libssl and ours differ\n libssl ret {} ops {}: {}\n ours   ret {} ops {}: {}\n",
            theirs.ret,
            theirs.ops.len(),
            String::from_utf8_lossy(&theirs.out),
            ours.ret,
            ours.ops.len(),
            String::from_utf8_lossy(&ours.out)
        );
    }
}

/// Print and keylog of `sess` (libssl) and `s` (ours): once without failure, then failing
/// each call in `points` (all of them when there are few) with 0 and with -1.
fn compare_all(what: &str, sess: P, s: &SessionData, rng: &mut Rng) -> Run {
    let full = theirs_print(sess, None);
    assert_same(what, &full, &ours_print(s, None));
    let n = full.ops.len();
    for at in failure_points(n, rng) {
        for value in [0, -1] {
            let fail = Some(Fail { at, value });
            assert_same(
                &format!("{what} print fail@{at}={value}"),
                &theirs_print(sess, fail),
                &ours_print(s, fail),
            );
        }
    }
    let kl = theirs_keylog(sess, None);
    assert_same(&format!("{what} keylog"), &kl, &ours_keylog(s, None));
    for at in failure_points(kl.ops.len(), rng) {
        let fail = Some(Fail {
            at,
            value: if at % 2 == 0 { 0 } else { -1 },
        });
        assert_same(
            &format!("{what} keylog fail@{at}"),
            &theirs_keylog(sess, fail),
            &ours_keylog(s, fail),
        );
    }
    full
}

fn failure_points(n: usize, rng: &mut Rng) -> Vec<usize> {
    if n <= 64 {
        (0..n).collect()
    } else {
        let mut v: Vec<usize> = (0..12).map(|_| rng.below(n as u64) as usize).collect();
        v.extend([0, 1, n - 2, n - 1]);
        v
    }
}

// ------------------------------------------------------------------------------------
// Session specs, built on both sides

#[derive(Clone, Debug)]
struct Spec {
    version: i32,
    /// The 2-byte cipher code; with `cipher_none` the cipher is then cleared again
    /// (`set_cipher(NULL)`), leaving only the numeric id, as on a d2i'd session.
    code: Option<u16>,
    cipher_none: bool,
    sid: Vec<u8>,
    ctx: Vec<u8>,
    mk: Vec<u8>,
    time: i64,
    timeout: i64,
    psk_identity: Option<Vec<u8>>,
    psk_hint: Option<Vec<u8>>,
    srp: Option<Vec<u8>>,
    hint: u64,
    ticket: Option<Vec<u8>>,
    comp: u8,
    flags: u32,
    verify: i32,
    max_early: u32,
    hostname: Option<Vec<u8>>,
}

impl Spec {
    fn base() -> Spec {
        Spec {
            version: 0x0303,
            code: Some(0x1301),
            cipher_none: false,
            sid: vec![],
            ctx: vec![],
            mk: vec![],
            time: 1_700_000_000,
            timeout: 300,
            psk_identity: None,
            psk_hint: None,
            srp: None,
            hint: 0,
            ticket: None,
            comp: 0,
            flags: 0,
            verify: 0,
            max_early: 0,
            hostname: None,
        }
    }
}

/// Our cipher entry for a code: the crate's table where it has one (0x1301; the table is
/// a placeholder in this branch), else an entry carrying libssl's name for the suite.
fn our_cipher(code: u16) -> &'static Cipher {
    if let Some(c) = find_cipher(code) {
        return c;
    }
    static EXTRA: OnceLock<Mutex<HashMap<u16, &'static Cipher>>> = OnceLock::new();
    let mut m = EXTRA.get_or_init(Default::default).lock().unwrap();
    m.entry(code).or_insert_with(|| {
        let c = libssl_cipher(code);
        // SAFETY: SSL_CIPHER_get_name returns a static string for a table entry.
        let name = unsafe { CStr::from_ptr((ossl().cipher_get_name)(c)) };
        let name: &'static CStr = Box::leak(name.to_owned().into_boxed_c_str());
        Box::leak(Box::new(Cipher {
            id: 0x0300_0000 | u32::from(code),
            name,
            standard_name: name,
            version: c"",
            description: c"",
            strength_bits: 0,
            alg_bits: 0,
            is_aead: false,
            cipher_nid: 0,
            digest_nid: 0,
            kx_nid: 0,
            auth_nid: 0,
            handshake_digest_nid: 0,
            has_standard_name: true,
        }))
    })
}

fn libssl_cipher(code: u16) -> *const c_void {
    let o = ossl();
    // SAFETY: SSL_CIPHER_find reads 2 bytes.
    let c = unsafe { (o.cipher_find)(o.ssl, code.to_be_bytes().as_ptr()) };
    assert!(!c.is_null(), "libssl has no cipher {code:04X}");
    c
}

fn text<const N: usize>(v: &Option<Vec<u8>>) -> Option<Text<N>> {
    v.as_ref().map(|b| Text::new(b))
}

/// Our model of the session a spec describes. `via_d2i`: d2i sets `cipher_id` (setters
/// never do) and starts from verify_result 0 (SSL_SESSION_new starts from 1).
fn model(sp: &Spec, via_d2i: bool) -> SessionData {
    let mut s = SessionData::new(sp.time);
    s.ssl_version = sp.version;
    if let Some(code) = sp.code {
        if via_d2i {
            s.cipher_id = 0x0300_0000 | u32::from(code);
        }
        if !sp.cipher_none {
            s.cipher = Some(our_cipher(code));
        }
    }
    s.session_id = IdBuf::new(&sp.sid).unwrap();
    s.sid_ctx = IdBuf::new(&sp.ctx).unwrap();
    assert!(s.set_master_key(&sp.mk));
    s.timeout = sp.timeout;
    s.psk_identity = text(&sp.psk_identity);
    s.psk_identity_hint = text(&sp.psk_hint);
    s.srp_username = text(&sp.srp);
    s.tick_lifetime_hint = sp.hint;
    s.ticket = sp.ticket.as_deref().map(Bytes::new);
    s.compress_meth = u32::from(sp.comp);
    s.flags = sp.flags;
    s.verify_result = if via_d2i { i64::from(sp.verify) } else { 1 };
    s.max_early_data = sp.max_early;
    s.hostname = text(&sp.hostname);
    s
}

// Minimal DER writer for the session structure (contract section 6.1).
fn tlv(tag: u8, body: &[u8]) -> Vec<u8> {
    let mut v = vec![tag];
    let n = body.len();
    if n < 128 {
        v.push(n as u8);
    } else {
        let b = n.to_be_bytes();
        let skip = b.iter().take_while(|&&x| x == 0).count();
        v.push(0x80 | (b.len() - skip) as u8);
        v.extend_from_slice(&b[skip..]);
    }
    v.extend_from_slice(body);
    v
}

fn int(x: i128) -> Vec<u8> {
    let b = x.to_be_bytes();
    let mut i = 0;
    while i < b.len() - 1
        && ((b[i] == 0 && b[i + 1] & 0x80 == 0) || (b[i] == 0xFF && b[i + 1] & 0x80 != 0))
    {
        i += 1;
    }
    tlv(0x02, &b[i..])
}

fn oct(b: &[u8]) -> Vec<u8> {
    tlv(0x04, b)
}

fn exp(n: u8, inner: Vec<u8>) -> Vec<u8> {
    tlv(0xA0 + n, &inner)
}

/// The spec as DER (with protocol 0x0303, which d2i accepts; the real version is set
/// afterwards).
fn der(sp: &Spec) -> Vec<u8> {
    let mut b = Vec::new();
    b.extend(int(1));
    b.extend(int(0x0303));
    b.extend(oct(&sp.code.expect("d2i needs a cipher").to_be_bytes()));
    b.extend(oct(&sp.sid));
    b.extend(oct(&sp.mk));
    if sp.time != 0 {
        b.extend(exp(1, int(sp.time.into())));
    }
    if sp.timeout != 0 {
        b.extend(exp(2, int(sp.timeout.into())));
    }
    b.extend(exp(4, oct(&sp.ctx)));
    if sp.verify != 0 {
        b.extend(exp(5, int(sp.verify.into())));
    }
    let strings = [(6, &sp.hostname), (7, &sp.psk_hint), (8, &sp.psk_identity)];
    for (tag, v) in strings {
        if let Some(v) = v {
            b.extend(exp(tag, oct(v)));
        }
    }
    if sp.hint != 0 {
        b.extend(exp(9, int(sp.hint.into())));
    }
    if let Some(t) = &sp.ticket {
        b.extend(exp(10, oct(t)));
    }
    if sp.comp != 0 {
        b.extend(exp(11, oct(&[sp.comp])));
    }
    if let Some(v) = &sp.srp {
        b.extend(exp(12, oct(v)));
    }
    if sp.flags != 0 {
        b.extend(exp(13, int(sp.flags.into())));
    }
    if sp.max_early != 0 {
        b.extend(exp(15, int(sp.max_early.into())));
    }
    b.extend(exp(19, int(0)));
    tlv(0x30, &b)
}

/// An owned libssl session.
struct Sess(P);

impl Drop for Sess {
    fn drop(&mut self) {
        // SAFETY: we own one reference.
        unsafe { (ossl().session_free)(self.0) }
    }
}

fn d2i(der: &[u8]) -> Sess {
    let mut p = der.as_ptr();
    // SAFETY: p/len describe `der`.
    let s = unsafe { (ossl().d2i)(std::ptr::null_mut(), &mut p, der.len() as c_long) };
    assert!(!s.is_null(), "libssl d2i failed");
    Sess(s)
}

/// The spec as a libssl session made by d2i, then the setters d2i cannot replace.
fn build_d2i(sp: &Spec) -> Sess {
    let o = ossl();
    let s = d2i(&der(sp));
    // SAFETY: s is a live libssl session.
    unsafe {
        if sp.version != 0x0303 {
            assert_eq!((o.set_protocol_version)(s.0, sp.version), 1);
        }
        if sp.cipher_none {
            assert_eq!((o.set_cipher)(s.0, std::ptr::null()), 1);
        }
        // d2i turns an absent time into now and an absent timeout into 3.
        if sp.time == 0 {
            (o.set_time)(s.0, 0);
        }
        if sp.timeout == 0 {
            (o.set_timeout)(s.0, 0);
        }
        assert_eq!((o.get_time)(s.0), sp.time as c_long);
        assert_eq!((o.get_timeout)(s.0), sp.timeout as c_long);
    }
    s
}

/// The spec as a libssl session made with SSL_SESSION_new and the public setters only
/// (fields without a setter must be at their defaults).
fn build_setters(sp: &Spec) -> Sess {
    assert!(sp.psk_identity.is_none() && sp.psk_hint.is_none() && sp.srp.is_none());
    assert!(sp.hint == 0 && sp.ticket.is_none() && sp.comp == 0 && sp.flags == 0);
    assert!(sp.timeout >= 0 && !sp.cipher_none);
    let o = ossl();
    // SAFETY: plain setter calls on a session we own, with valid buffers.
    unsafe {
        let s = Sess((o.session_new)());
        assert_eq!((o.set_protocol_version)(s.0, sp.version), 1);
        if let Some(code) = sp.code {
            assert_eq!((o.set_cipher)(s.0, libssl_cipher(code)), 1);
        }
        assert_eq!((o.set1_id)(s.0, sp.sid.as_ptr(), sp.sid.len() as c_uint), 1);
        assert_eq!(
            (o.set1_id_context)(s.0, sp.ctx.as_ptr(), sp.ctx.len() as c_uint),
            1
        );
        assert_eq!((o.set1_master_key)(s.0, sp.mk.as_ptr(), sp.mk.len()), 1);
        (o.set_time)(s.0, sp.time as c_long);
        (o.set_timeout)(s.0, sp.timeout as c_long);
        assert_eq!((o.get_time)(s.0), sp.time as c_long);
        assert_eq!((o.get_timeout)(s.0), sp.timeout as c_long);
        assert_eq!((o.set_max_early_data)(s.0, sp.max_early), 1);
        if let Some(h) = &sp.hostname {
            let h = CString::new(h.clone()).unwrap();
            assert_eq!((o.set1_hostname)(s.0, h.as_ptr()), 1);
        }
        assert_eq!((o.set1_alpn_selected)(s.0, b"h2".as_ptr(), 2), 1);
        s
    }
}

/// Our model of a libssl session read back through its getters, plus the fields that
/// have no getter (verify result, flags, PSK and SRP strings).
fn model_from_getters(sess: P, verify: i64, flags: u32) -> SessionData {
    let o = ossl();
    // SAFETY: getters on a live session; returned buffers are read before any change.
    unsafe {
        let mut s = SessionData::new((o.get_time)(sess));
        s.ssl_version = (o.get_protocol_version)(sess);
        let c = (o.get0_cipher)(sess);
        if !c.is_null() {
            let code = ((o.cipher_get_id)(c) & 0xFFFF) as u16;
            s.cipher = Some(our_cipher(code));
            s.cipher_id = 0x0300_0000 | u32::from(code);
        }
        let mut n: c_uint = 0;
        let p = (o.get_id)(sess, &mut n);
        s.session_id = IdBuf::new(std::slice::from_raw_parts(p, n as usize)).unwrap();
        let p = (o.get0_id_context)(sess, &mut n);
        s.sid_ctx = IdBuf::new(std::slice::from_raw_parts(p, n as usize)).unwrap();
        let mut mk = vec![0u8; 512];
        let len = (o.get_master_key)(sess, mk.as_mut_ptr(), mk.len());
        assert!(s.set_master_key(&mk[..len]));
        s.timeout = (o.get_timeout)(sess);
        s.tick_lifetime_hint = (o.get_ticket_lifetime_hint)(sess);
        let mut t: *const u8 = std::ptr::null();
        let mut tl: size_t = 0;
        (o.get0_ticket)(sess, &mut t, &mut tl);
        if !t.is_null() {
            s.ticket = Some(Bytes::new(std::slice::from_raw_parts(t, tl)));
        }
        s.compress_meth = (o.get_compress_id)(sess);
        s.max_early_data = (o.get_max_early_data)(sess);
        s.verify_result = verify;
        s.flags = flags;
        s
    }
}

// ------------------------------------------------------------------------------------
// Deterministic pseudo-random specs

struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        // splitmix64
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }
    fn below(&mut self, n: u64) -> u64 {
        self.next() % n
    }
    fn pick<T: Copy>(&mut self, v: &[T]) -> T {
        v[self.below(v.len() as u64) as usize]
    }
    fn bytes(&mut self, n: usize) -> Vec<u8> {
        (0..n).map(|_| self.next() as u8).collect()
    }
    fn chance(&mut self, percent: u64) -> bool {
        self.below(100) < percent
    }
    /// A C string for a session field: no NUL inside (d2i would cut it, and so would we).
    fn cstring(&mut self) -> Option<Vec<u8>> {
        match self.below(8) {
            0..=3 => None,
            4 => Some(Vec::new()),
            5 => Some(b"%s%n%d %%".to_vec()),
            6 => Some((0..3000).map(|i| b'a' + (i % 26) as u8).collect()),
            _ => {
                let n = 1 + self.below(40) as usize;
                Some((0..n).map(|_| 1 + self.below(255) as u8).collect())
            }
        }
    }
}

const VERSIONS: &[i32] = &[
    0, 0x0100, 0xFEFF, 0xFEFD, 0xFE00, 0x9999, 0x0300, 0x0301, 0x0302, 0x0303, 0x0304, -1, 0x10304,
];
const CODES: &[u16] = &[
    0x1301, 0x1302, 0x1303, 0x1304, 0x1305, 0xC02B, 0xC02F, 0xC030, 0xCCA8, 0x009C, 0x00FF, 0x5600,
    0x0001,
];
const TIMES: &[i64] = &[
    0,
    1,
    -1,
    -100,
    1_700_000_000,
    i64::MAX,
    i64::MIN + 1,
    -(1 << 40),
];

fn random_spec(rng: &mut Rng, for_setters: bool) -> Spec {
    let mut sp = Spec::base();
    sp.version = rng.pick(VERSIONS);
    sp.code = if for_setters && rng.chance(25) {
        None
    } else {
        Some(rng.pick(CODES))
    };
    let sid_len = rng.below(33) as usize;
    sp.sid = rng.bytes(sid_len);
    let ctx_len = rng.below(33) as usize;
    sp.ctx = rng.bytes(ctx_len);
    let mk_len = match rng.below(5) {
        0 => 0,
        1 => 1,
        2 => 48,
        3 => 512,
        _ => rng.below(513) as usize,
    };
    sp.mk = rng.bytes(mk_len);
    sp.time = if rng.chance(50) {
        rng.pick(TIMES)
    } else {
        rng.next() as i64
    };
    sp.timeout = if rng.chance(50) {
        rng.pick(TIMES)
    } else {
        rng.next() as i64
    };
    let r = rng.next();
    sp.max_early = rng.pick(&[0, 1, 16384, u32::MAX, r as u32]);
    sp.hostname = rng.cstring().filter(|h| !h.is_empty());
    if for_setters {
        sp.timeout = sp.timeout.max(0);
        return sp;
    }
    sp.cipher_none = rng.chance(20);
    sp.psk_identity = rng.cstring();
    sp.psk_hint = rng.cstring();
    sp.srp = rng.cstring();
    let r = rng.next();
    sp.hint = rng.pick(&[0, 0, 1, 7200, u64::MAX, 1 << 63, r]);
    sp.ticket = match rng.below(6) {
        0 | 1 => None,
        2 => Some(Vec::new()),
        3 => {
            let n = 1 + rng.below(16) as usize;
            Some(rng.bytes(n))
        }
        _ => {
            let n = rng.below(300) as usize + 1;
            Some(rng.bytes(n))
        }
    };
    let r = rng.next();
    sp.comp = if rng.chance(75) {
        0
    } else {
        rng.pick(&[1, 255, r as u8 | 1])
    };
    sp.flags = rng.pick(&[0, 1, 2, 3, u32::MAX, r as u32]);
    sp.verify = rng.pick(&[0, 1, 18, -1, i32::MAX, i32::MIN, (r % 100) as i32]);
    sp
}

// ------------------------------------------------------------------------------------
// Tests

/// Our library must not be the one libssl binds to (the test binary exports nothing of
/// ours), or libssl's own d2i would hand us its sessions.
#[test]
fn libssl_is_isolated() {
    for name in [c"SSL_SESSION_new", c"SSL_SESSION_print", c"d2i_SSL_SESSION"] {
        // SAFETY: a plain lookup in the global scope.
        let p = unsafe { libc::dlsym(libc::RTLD_DEFAULT, name.as_ptr()) };
        assert!(
            p.is_null(),
            "{name:?} is visible globally; libssl could bind to it"
        );
    }
}

#[test]
fn golden_vectors() {
    let mut rng = Rng(1);
    let cases: [(&str, &[u8], &str, i64, u32); 5] = [
        (
            "G1",
            include_bytes!("golden/g1.der"),
            include_str!("golden/g1_print.txt"),
            1,
            0,
        ),
        (
            "G2",
            include_bytes!("golden/g2.der"),
            include_str!("golden/g2_print.txt"),
            1,
            0,
        ),
        (
            "S1",
            include_bytes!("golden/s1.der"),
            include_str!("golden/s1_print.txt"),
            18,
            1,
        ),
        (
            "S2",
            include_bytes!("golden/s2.der"),
            include_str!("golden/s2_print.txt"),
            18,
            1,
        ),
        (
            "S3",
            include_bytes!("golden/s3.der"),
            include_str!("golden/s3_print.txt"),
            18,
            0,
        ),
    ];
    for (name, der, golden, verify, flags) in cases {
        let sess = d2i(der);
        let s = model_from_getters(sess.0, verify, flags);
        let run = compare_all(name, sess.0, &s, &mut rng);
        assert_eq!(run.ret, 1);
        assert_eq!(
            String::from_utf8(run.out).unwrap(),
            golden,
            "{name}: libssl vs contract"
        );
    }
    let keylogs = [
        (
            &include_bytes!("golden/g1.der")[..],
            include_str!("golden/g1_keylog.txt"),
        ),
        (
            &include_bytes!("golden/s2.der")[..],
            include_str!("golden/s2_keylog.txt"),
        ),
    ];
    for (der, golden) in keylogs {
        let sess = d2i(der);
        assert_eq!(theirs_keylog(sess.0, None).out, golden.as_bytes());
    }
}

#[test]
fn golden_g3_and_fresh() {
    let mut rng = Rng(2);
    let mut g3 = Spec::base();
    g3.code = Some(0xC02F);
    g3.sid = vec![0x11; 32];
    g3.ctx = b"ctx".to_vec();
    g3.mk = vec![0x22; 48];
    g3.timeout = 7200;
    g3.psk_hint = Some(b"hint".to_vec());
    g3.psk_identity = Some(b"ident".to_vec());
    g3.srp = Some(b"srpuser".to_vec());
    g3.hint = 300;
    g3.ticket = Some(b"TICKETDATA".to_vec());
    g3.comp = 1;
    g3.flags = 1;
    let sess = build_d2i(&g3);
    let run = compare_all("G3", sess.0, &model(&g3, true), &mut rng);
    let out = String::from_utf8(run.out).unwrap();
    let tail = &out[out.find("    PSK identity: ").unwrap()..];
    assert_eq!(tail, include_str!("golden/g3_tail.txt"));

    // SAFETY: a fresh libssl session, freed by Sess.
    let fresh = Sess(unsafe { (ossl().session_new)() });
    let now = unsafe { (ossl().get_time)(fresh.0) };
    let run = compare_all("fresh", fresh.0, &SessionData::new(now), &mut rng);
    let golden = include_str!("golden/fresh_print.txt").replace("<now>", &now.to_string());
    assert_eq!(String::from_utf8(run.out).unwrap(), golden);
}

#[test]
fn measured_variants() {
    let mut rng = Rng(3);
    let mut variants = Vec::new();
    for v in [0x0100, 0xFE00, 0x9999] {
        variants.push((
            Spec {
                version: v,
                ..Spec::base()
            },
            false,
        ));
    }
    variants.push((
        Spec {
            time: -100,
            timeout: -5,
            ..Spec::base()
        },
        true,
    ));
    variants.push((
        Spec {
            hint: u64::MAX,
            ..Spec::base()
        },
        true,
    ));
    variants.push((
        Spec {
            time: 0,
            timeout: 0,
            ..Spec::base()
        },
        false,
    ));
    variants.push((
        Spec {
            time: 0,
            timeout: 0,
            ..Spec::base()
        },
        true,
    ));
    // The odd 0 returns.
    variants.push((
        Spec {
            ticket: Some(vec![]),
            ..Spec::base()
        },
        true,
    ));
    variants.push((
        Spec {
            comp: 1,
            cipher_none: true,
            ..Spec::base()
        },
        true,
    ));
    variants.push((
        Spec {
            psk_identity: Some(vec![]),
            ..Spec::base()
        },
        true,
    ));
    variants.push((
        Spec {
            psk_hint: Some(vec![]),
            ..Spec::base()
        },
        true,
    ));
    variants.push((
        Spec {
            srp: Some(vec![]),
            ..Spec::base()
        },
        true,
    ));
    for (i, (sp, via_d2i)) in variants.iter().enumerate() {
        let sess = if *via_d2i {
            build_d2i(sp)
        } else {
            build_setters(sp)
        };
        compare_all(
            &format!("variant {i} {sp:?}"),
            sess.0,
            &model(sp, *via_d2i),
            &mut rng,
        );
    }
}

#[test]
fn random_sessions() {
    let mut rng = Rng(0x5EED);
    let before = COMPARED.load(Ordering::Relaxed);
    let (mut n_d2i, mut n_set) = (0, 0);
    for i in 0..1500 {
        let for_setters = i % 3 == 0;
        let sp = random_spec(&mut rng, for_setters);
        let sess = if for_setters {
            build_setters(&sp)
        } else {
            build_d2i(&sp)
        };
        compare_all(
            &format!("random #{i} {sp:?}"),
            sess.0,
            &model(&sp, !for_setters),
            &mut rng,
        );
        if for_setters {
            n_set += 1;
        } else {
            n_d2i += 1;
        }
    }
    eprintln!(
        "random_sessions: {n_d2i} via d2i, {n_set} via setters, {} libssl/ours comparisons",
        COMPARED.load(Ordering::Relaxed) - before
    );
}

#[test]
fn bio_dump_indent() {
    let o = ossl();
    let mut rng = Rng(4);
    let all: Vec<u8> = (0..=255).collect();
    let mut compared = 0;
    let indents = [
        -7, -1, 0, 1, 3, 4, 5, 6, 7, 8, 10, 11, 12, 20, 63, 64, 65, 1000,
    ];
    let mut inputs: Vec<Vec<u8>> = (0..=70).map(|n| rng.bytes(n)).collect();
    inputs.extend((0..=70).map(|n| (0..n).map(|i| (i * 7 + 0x1C) as u8).collect::<Vec<u8>>()));
    inputs.push(all.clone());
    inputs.extend((1..16).map(|r| all.iter().map(|b| b.wrapping_add(r)).collect::<Vec<u8>>()));
    for data in &inputs {
        for indent in indents {
            // SAFETY: data/len describe our buffer.
            let dump = |fail| {
                with_bio(fail, |bio| unsafe {
                    (o.bio_dump_indent)(bio, data.as_ptr().cast(), data.len() as c_int, indent)
                })
            };
            let full = dump(None);
            let mut fails = vec![None];
            // Fail each row in turn, with 0 (the dump goes on) and -1 (it stops).
            if data.len() <= 70 && (indent == 4 || indent == 64) {
                for at in 0..full.ops.len() {
                    fails.push(Some(Fail { at, value: 0 }));
                    fails.push(Some(Fail { at, value: -1 }));
                }
            }
            for fail in fails {
                let theirs = if fail.is_none() {
                    dump(None)
                } else {
                    dump(fail)
                };
                let mut r = Recorder::new(fail);
                let ret = dump_indent(&mut r, data, indent);
                let what = format!("dump len {} indent {indent} fail {fail:?}", data.len());
                assert_same(&what, &theirs, &r.run(ret));
                compared += 1;
            }
        }
    }
    eprintln!("bio_dump_indent: {compared} libcrypto/ours comparisons");
}

//! The exported `d2i_SSL_SESSION` / `i2d_SSL_SESSION` (called as Rust functions). The whole
//! fuzz input is the d2i input (so plain session seeds work); its length picks how `a` is
//! passed: NULL, pointing at NULL, or pointing at an existing session (one of the
//! real/golden vectors) to be reused in place. Trailing bytes change the length, not the
//! session, so the fuzzer reaches every mode from any seed.
//! Checks: the verdict and the first queued error are the codec's (`codec::decode`); on success `*pp`
//! advances by `consumed`, the session returned is `*a` (the reused one when given), and its
//! i2d is `reencode(input, its time)`; on failure NULL, `*pp` and `*a` unchanged, and a
//! reused `*a` still re-encodes to the same bytes as before.
#![no_main]

use libfuzzer_sys::fuzz_target;
use ssl_session::capi::accessors::SSL_SESSION_get_time;
use ssl_session::capi::codec::{d2i_SSL_SESSION, i2d_SSL_SESSION};
use ssl_session::capi::lifecycle::SSL_SESSION_free;

mod codec;
use codec::{decode, reencode};
use ssl_session::capi::SSL_SESSION;
use std::ffi::{c_long, c_ulong};
use std::ptr::null_mut;

include!("../../tests/data/der_vectors.rs");

const BASES: [&str; 6] = [SEED_S1, SEED_S2, SEED_S3, SEED_G1, SEED_G2, SEED_G3];

extern "C" {
    fn ERR_peek_error() -> c_ulong;
    fn ERR_clear_error();
}

fn unhex(h: &str) -> Vec<u8> {
    let h: Vec<u8> = h.bytes().filter(|b| b.is_ascii_hexdigit()).collect();
    h.chunks(2)
        .map(|c| u8::from_str_radix(std::str::from_utf8(c).unwrap(), 16).unwrap())
        .collect()
}

fn hex(b: &[u8]) -> String {
    b.iter().map(|x| format!("{x:02X}")).collect()
}

fn i2d(s: *const SSL_SESSION) -> Vec<u8> {
    let n = i2d_SSL_SESSION(s, null_mut());
    assert!(n > 0, "i2d of a decoded session gives {n}");
    let mut out = vec![0u8; n as usize];
    let mut q = out.as_mut_ptr();
    assert_eq!(i2d_SSL_SESSION(s, &mut q), n);
    assert_eq!(q as usize - out.as_ptr() as usize, n as usize);
    out
}

/// A fresh session decoded from `der` through the C API.
fn session(der: &[u8]) -> *mut SSL_SESSION {
    let mut p = der.as_ptr();
    let s = d2i_SSL_SESSION(null_mut(), &mut p, der.len() as c_long);
    assert!(!s.is_null());
    s
}

fuzz_target!(|data: &[u8]| {
    let input = data;
    // 0: a NULL; 1: *a NULL; 2: *a an existing session.
    let how = input.len() % 3;
    let base = if how == 2 {
        session(&unhex(BASES[(input.len() / 3) % BASES.len()]))
    } else {
        null_mut()
    };
    let before = (!base.is_null()).then(|| i2d(base));
    let mut slot: *mut SSL_SESSION = base;
    let a: *mut *mut SSL_SESSION = if how == 0 { null_mut() } else { &mut slot };

    let expected = decode(input);
    let mut p = input.as_ptr();
    // SAFETY: plain libcrypto error-queue calls.
    unsafe { ERR_clear_error() };
    let got = d2i_SSL_SESSION(a, &mut p, input.len() as c_long);
    let err = unsafe { ERR_peek_error() } as u32;
    unsafe { ERR_clear_error() };

    match expected {
        Err(e) => {
            assert!(
                got.is_null(),
                "d2i accepts what der::decode_into rejects ({e:?})"
            );
            assert_eq!(err, e.first_error(), "queued error for {e:?}");
            assert_eq!(p, input.as_ptr(), "*pp moved on failure");
            assert_eq!(slot, base, "*a changed on failure");
            if let Some(before) = before {
                let after = i2d(base);
                assert!(
                    after == before,
                    "rejected input changed *a\n  input  {}\n  before {}\n  after  {}",
                    hex(input),
                    hex(&before),
                    hex(&after)
                );
            }
        }
        Ok(d) => {
            assert!(!got.is_null(), "d2i rejects what der::decode_into accepts");
            assert_eq!(err, 0, "error queued on success");
            assert_eq!(p as usize - input.as_ptr() as usize, d.consumed);
            if how != 0 {
                assert_eq!(slot, got, "*a is not the session returned");
            }
            if how == 2 {
                assert_eq!(got, base, "*a was not reused");
            }
            let now = SSL_SESSION_get_time(got) as i64;
            let (_, want) = reencode(input, now).expect("decoded once");
            let have = i2d(got);
            assert!(
                have == want,
                "i2d after d2i (mode {how}) differs\n  input {}\n  api   {}\n  der   {}",
                hex(input),
                hex(&have),
                hex(&want)
            );
        }
    }
    if !got.is_null() && got != base {
        SSL_SESSION_free(got);
    }
    if !base.is_null() {
        SSL_SESSION_free(base);
    }
});

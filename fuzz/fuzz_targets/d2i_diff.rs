//! The codec (`der::decode_into`, cross-checked) against the system OpenSSL 3.0
//! (`libssl.so.3`, dlopened RTLD_LOCAL, `tests/common/libssl_oracle.rs`): the same verdict,
//! the same bytes consumed, the same first and last queued error codes, and for accepted
//! inputs the same re-encoding (libssl's i2d of its session against our encode).
//! Inputs without a time field get "now" from libssl's clock; its `SSL_SESSION_get_time` is
//! our "now" (as in tests/der_corpus.rs).
#![no_main]

use libfuzzer_sys::fuzz_target;
use std::sync::OnceLock;

mod codec;
#[path = "../../tests/common/libssl_oracle.rs"]
mod oracle;
use codec::{decode, reencode};
use oracle::{hex, Libssl, Oracle};

struct Shared(Libssl);
// SAFETY: function pointers into libssl/libcrypto, which are thread-safe to call, and an
// `SSL` that only `knows_cipher` reads (never called here).
unsafe impl Sync for Shared {}
unsafe impl Send for Shared {}

static LIBSSL: OnceLock<Shared> = OnceLock::new();

fuzz_target!(|data: &[u8]| {
    let lib = &LIBSSL.get_or_init(|| Shared(Libssl::load())).0;
    let oracle = lib.run(data);
    let ours = decode(data);
    match (oracle, ours) {
        (
            Oracle::Accepted {
                consumed,
                time,
                der,
                ..
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
            let (_, out) = reencode(data, time).expect("decoded once");
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

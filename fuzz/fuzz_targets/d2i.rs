//! The codec (`der::decode_into`, cross-checked) on arbitrary bytes must not panic; an
//! accepted input must re-encode, and the re-encoding must decode again (consuming all of
//! it) to the very same bytes.
#![no_main]

use libfuzzer_sys::fuzz_target;
use ssl_session::der::{self, DecodeError, SessionData};

mod codec;
use codec::{decode, reencode};

/// "now" for inputs without a time field (any fixed value will do here).
const NOW: i64 = 1_800_000_000;

fuzz_target!(|data: &[u8]| {
    let d = match decode(data) {
        Ok(d) => d,
        Err(e) => {
            // A queued error is either an ASN1 or an SSL one; silent failures queue nothing.
            let (first, last) = (e.first_error(), e.last_error());
            match e {
                DecodeError::Silent(_) => assert_eq!((first, last), (0, 0)),
                _ => assert!(first != 0 && last != 0, "{e:?}"),
            }
            return;
        }
    };
    let consumed = d.consumed;
    assert!(consumed > 0 && consumed <= data.len());
    let mut s = SessionData::new(NOW);
    der::install(&d, &mut s, NOW);
    let mut first = Vec::new();
    let n = der::encode(&s, &mut first).expect("a decoded session encodes");
    assert_eq!(n, first.len());
    assert_eq!(der::encoded_len(&s), Some(n));

    // Trailing bytes play no part: the consumed prefix alone gives the same session.
    let (c, prefix) = reencode(&data[..consumed], NOW).expect("consumed prefix decodes");
    assert_eq!(c, consumed);
    assert_eq!(prefix, first, "prefix re-encodes differently");

    // Idempotence: i2d(d2i(i2d(d2i(x)))) == i2d(d2i(x)), consuming the whole re-encoding.
    let (c2, second) = match reencode(&first, NOW) {
        Ok(r) => r,
        Err(e) => panic!("re-encoding rejected ({e:?}): {}", hex(&first)),
    };
    assert_eq!(c2, first.len(), "re-encoding not fully consumed");
    assert_eq!(second, first, "re-encoding is not a fixed point");
});

fn hex(b: &[u8]) -> String {
    b.iter().map(|x| format!("{x:02X}")).collect()
}

//! The codec as the fuzz targets drive it (`mod codec;` in each).

use ssl_session::der::{self, DecodeError, Decoded, SessionData};

/// `der::decode_into` a new `Decoded`, through `der::decode_cross_checked`: the fast path
/// and the template decoder must agree (a panic says how they differ).
pub fn decode(input: &[u8]) -> Result<Decoded<'_>, DecodeError> {
    der::decode_cross_checked(input)
        .unwrap_or_else(|why| panic!("fast path and template decoder differ: {why}"))
        .result
}

/// What libssl's `i2d(d2i(input))` gives, through the codec alone: `decode`, then
/// `der::install` onto a fresh `SessionData::new(now)`, then `der::encode`. Returns (bytes
/// consumed, re-encoding).
pub fn reencode(input: &[u8], now: i64) -> Result<(usize, Vec<u8>), DecodeError> {
    let d = decode(input)?;
    let mut s = SessionData::new(now);
    der::install(&d, &mut s, now);
    let mut out = Vec::new();
    der::encode(&s, &mut out).expect("a decoded session has a cipher");
    Ok((d.consumed, out))
}

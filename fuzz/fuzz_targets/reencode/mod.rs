//! What libssl's `i2d(d2i(input))` gives, through the codec alone: `der::decode`, then
//! `der::install` onto a fresh `SessionData::new(now)`, then `der::encode`. Returns (bytes
//! consumed, re-encoding). Shared by the fuzz targets (`mod reencode;`).

use ssl_session::der::{self, DecodeError, SessionData};

pub fn reencode(input: &[u8], now: i64) -> Result<(usize, Vec<u8>), DecodeError> {
    let d = der::decode(input)?;
    let mut s = SessionData::new(now);
    der::install(&d, &mut s, now);
    let mut out = Vec::new();
    der::encode(&s, &mut out).expect("a decoded session has a cipher");
    Ok((d.consumed, out))
}

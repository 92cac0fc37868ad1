//! The encoder: `i2d_SSL_SESSION`.

use super::ber::{len_of_len, tlv_len};
use crate::bytes::{Bytes, Text};
use crate::session::SessionData;

/// Content length of the minimal INTEGER for an unsigned value.
pub(super) fn uint_len(v: u64) -> usize {
    (64 - v.leading_zeros() as usize) / 8 + 1
}

/// Content length of the minimal INTEGER for a signed value.
pub(super) fn sint_len(v: i64) -> usize {
    if v < 0 {
        (64 - v.leading_ones() as usize) / 8 + 1
    } else {
        uint_len(v as u64)
    }
}

/// Size of `[n] EXPLICIT` around a TLV of `inner` bytes.
pub(super) fn exp_len(inner: usize) -> usize {
    tlv_len(inner)
}

/// A session ready to be written: every length computed once.
pub struct Encoder<'s> {
    s: &'s SessionData,
    code: u16,
    body: usize,
}

#[derive(Clone, Copy)]
pub(super) enum Int {
    S(i64),
    U(u64),
}

impl Int {
    fn len(self) -> usize {
        match self {
            Int::S(v) => sint_len(v),
            Int::U(v) => uint_len(v),
        }
    }
    /// The two's-complement bits; the content is the low `len()` bytes.
    fn bits(self) -> u64 {
        match self {
            Int::S(v) => v as u64,
            Int::U(v) => v,
        }
    }
}

/// The content of one `[n] EXPLICIT` element.
#[derive(Clone, Copy)]
pub(super) enum Elem<'s> {
    Int(Int),
    Bytes(&'s [u8]),
    Cert(&'s [u8]),
}

/// One static byte per possible compression id, so `[11]` can borrow its content.
pub(super) static COMP_BYTES: [u8; 256] = {
    let mut t = [0u8; 256];
    let mut i = 0;
    while i < 256 {
        t[i] = i as u8;
        i += 1;
    }
    t
};

/// The tagged elements i2d writes, in template order (`None`: omitted). The Z-types
/// (ZINT32/ZINT64/ZUINT32/ZUINT64) are left out when zero; kex_group (plain UINT32) and
/// session_id_context are always written; strings and buffers when present.
pub(super) fn elements(s: &SessionData) -> [Option<(u8, Elem<'_>)>; 19] {
    let z = |tag: u8, v: Int| (v.bits() != 0).then_some((tag, Elem::Int(v)));
    fn text<const N: usize>(tag: u8, t: &Option<Text<N>>) -> Option<(u8, Elem<'_>)> {
        t.as_ref().map(|t| (tag, Elem::Bytes(t.as_bytes())))
    }
    fn bytes<const N: usize>(tag: u8, b: &Option<Bytes<N>>) -> Option<(u8, Elem<'_>)> {
        b.as_ref().map(|b| (tag, Elem::Bytes(b.as_slice())))
    }
    let comp = std::slice::from_ref(&COMP_BYTES[usize::from(s.compress_meth as u8)]);
    [
        z(1, Int::S(s.time)),
        z(2, Int::S(s.timeout)),
        s.peer.as_ref().map(|p| (3, Elem::Cert(p.der()))),
        Some((4, Elem::Bytes(s.sid_ctx.as_slice()))),
        z(5, Int::S(i64::from(s.verify_result as i32))),
        text(6, &s.hostname),
        text(7, &s.psk_identity_hint),
        text(8, &s.psk_identity),
        z(9, Int::U(s.tick_lifetime_hint)),
        bytes(10, &s.ticket),
        (s.compress_meth != 0).then_some((11, Elem::Bytes(comp))),
        text(12, &s.srp_username),
        z(13, Int::U(u64::from(s.flags))),
        z(14, Int::U(u64::from(s.tick_age_add))),
        z(15, Int::U(u64::from(s.max_early_data))),
        bytes(16, &s.alpn_selected),
        z(17, Int::U(u64::from(s.max_fragment_len_mode))),
        bytes(18, &s.ticket_appdata),
        Some((19, Elem::Int(Int::U(u64::from(s.kex_group))))),
    ]
}

pub(super) fn elem_inner_len(e: &Elem<'_>) -> usize {
    match e {
        Elem::Int(v) => tlv_len(v.len()),
        Elem::Bytes(b) => tlv_len(b.len()),
        Elem::Cert(c) => c.len(),
    }
}

impl<'s> Encoder<'s> {
    /// `None` when 3.0's i2d would return 0: no cipher and no cipher id.
    pub fn new(s: &'s SessionData) -> Option<Self> {
        let id = match s.cipher {
            Some(c) => c.id,
            None if s.cipher_id != 0 => s.cipher_id,
            None => return None,
        };
        let code = id as u16;
        let mut body = tlv_len(1) // version
            + tlv_len(sint_len(i64::from(s.ssl_version)))
            + tlv_len(2)
            + tlv_len(s.session_id.as_slice().len())
            + tlv_len(s.master_key().len());
        for (_, e) in elements(s).into_iter().flatten() {
            body += exp_len(elem_inner_len(&e));
        }
        Some(Encoder { s, code, body })
    }

    /// The total encoded size.
    pub fn len(&self) -> usize {
        tlv_len(self.body)
    }

    /// Never true: an encoding has at least its SEQUENCE header (for clippy).
    pub fn is_empty(&self) -> bool {
        false
    }

    /// Write the encoding into `out`, which must be exactly `len()` bytes.
    pub fn write(&self, out: &mut [u8]) {
        assert_eq!(out.len(), self.len(), "i2d buffer of the wrong size");
        let s = self.s;
        let mut w = W { buf: out, pos: 0 };
        w.byte(0x30);
        w.len(self.body);
        w.int(Int::U(1));
        w.int(Int::S(i64::from(s.ssl_version)));
        w.octets(&self.code.to_be_bytes());
        w.octets(s.session_id.as_slice());
        w.octets(s.master_key());
        for (tag, e) in elements(s).into_iter().flatten() {
            w.byte(0xA0 | tag);
            w.len(elem_inner_len(&e));
            match e {
                Elem::Int(v) => w.int(v),
                Elem::Bytes(b) => w.octets(b),
                Elem::Cert(c) => w.put(c),
            }
        }
        debug_assert_eq!(w.pos, w.buf.len());
    }
}

pub(super) struct W<'b> {
    buf: &'b mut [u8],
    pos: usize,
}

impl W<'_> {
    fn byte(&mut self, b: u8) {
        self.buf[self.pos] = b;
        self.pos += 1;
    }
    fn put(&mut self, b: &[u8]) {
        self.buf[self.pos..self.pos + b.len()].copy_from_slice(b);
        self.pos += b.len();
    }
    fn len(&mut self, n: usize) {
        if n < 0x80 {
            self.byte(n as u8);
        } else {
            let k = len_of_len(n) - 1;
            self.byte(0x80 | k as u8);
            for i in (0..k).rev() {
                self.byte((n >> (8 * i)) as u8);
            }
        }
    }
    fn int(&mut self, v: Int) {
        let n = v.len();
        self.byte(0x02);
        self.byte(n as u8);
        let bits = v.bits();
        for i in (0..n).rev() {
            // For n == 9 the top byte is the sign padding (0x00: only unsigned values need it).
            self.byte(if i >= 8 { 0 } else { (bits >> (8 * i)) as u8 });
        }
    }
    fn octets(&mut self, b: &[u8]) {
        self.byte(0x04);
        self.len(b.len());
        self.put(b);
    }
}

/// `i2d_SSL_SESSION`'s length (`None` where 3.0 returns 0).
pub fn encoded_len(s: &SessionData) -> Option<usize> {
    Encoder::new(s).map(|e| e.len())
}

/// Append 3.0's `i2d_SSL_SESSION` encoding of `s` to `out`; returns its length (`None`, and
/// nothing written, where 3.0 returns 0).
pub fn encode(s: &SessionData, out: &mut Vec<u8>) -> Option<usize> {
    let e = Encoder::new(s)?;
    let start = out.len();
    out.resize(start + e.len(), 0);
    e.write(&mut out[start..]);
    Some(e.len())
}

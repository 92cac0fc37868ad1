//! The encoder: `i2d_SSL_SESSION`.

use super::ber::{len_of_len, tlv_len};
use super::fields::{Field, Tagging, Template, Ty, SESSION};
use crate::model::bytes::{Bytes, Text};
use crate::model::session::SessionData;

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

/// A session ready to be written: every length computed once.
pub struct Encoder<'s> {
    s: &'s SessionData,
    code: [u8; 2],
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

/// The value of one element.
#[derive(Clone, Copy)]
pub(super) enum Elem<'s> {
    Int(Int),
    Bytes(&'s [u8]),
    /// A certificate, written as it is (a whole TLV).
    Cert(&'s [u8]),
}

/// One static byte per possible compression id, so `comp_id` can borrow its content.
static COMP_BYTES: [u8; 256] = {
    let mut t = [0u8; 256];
    let mut i = 0;
    while i < 256 {
        t[i] = i as u8;
        i += 1;
    }
    t
};

/// What i2d writes for template `t` of session `s` (cipher code `code`); `None`: left out.
/// The Z-types are left out when zero; kex_group (plain UINT32) and session_id_context are
/// always written; strings and buffers when present; key_arg never.
#[inline(always)]
fn value<'s>(s: &'s SessionData, code: &'s [u8; 2], t: &Template) -> Option<Elem<'s>> {
    let int = |v: Int| match t.ty {
        Ty::Int(_, true) if v.bits() == 0 => None,
        _ => Some(Elem::Int(v)),
    };
    #[inline(always)]
    fn text<const N: usize>(t: &Option<Text<N>>) -> Option<Elem<'_>> {
        t.as_ref().map(|t| Elem::Bytes(t.as_bytes()))
    }
    #[inline(always)]
    fn bytes<const N: usize>(b: &Option<Bytes<N>>) -> Option<Elem<'_>> {
        b.as_ref().map(|b| Elem::Bytes(b.as_slice()))
    }
    match t.field {
        Field::Version => int(Int::U(1)),
        Field::SslVersion => int(Int::S(i64::from(s.ssl_version))),
        Field::CipherCode => Some(Elem::Bytes(code)),
        Field::SessionId => Some(Elem::Bytes(s.session_id.as_slice())),
        Field::MasterKey => Some(Elem::Bytes(s.master_key())),
        Field::KeyArg => None,
        Field::Time => int(Int::S(s.time)),
        Field::Timeout => int(Int::S(s.timeout)),
        Field::Peer => s.peer.as_ref().map(|p| Elem::Cert(p.der())),
        Field::SidCtx => Some(Elem::Bytes(s.sid_ctx.as_slice())),
        Field::VerifyResult => int(Int::S(i64::from(s.verify_result as i32))),
        Field::Hostname => text(&s.hostname),
        Field::PskIdentityHint => text(&s.psk_identity_hint),
        Field::PskIdentity => text(&s.psk_identity),
        Field::TickLifetimeHint => int(Int::U(s.tick_lifetime_hint)),
        Field::Ticket => bytes(&s.ticket),
        Field::CompId => (s.compress_meth != 0).then(|| {
            Elem::Bytes(std::slice::from_ref(
                &COMP_BYTES[usize::from(s.compress_meth as u8)],
            ))
        }),
        Field::SrpUsername => text(&s.srp_username),
        Field::Flags => int(Int::U(u64::from(s.flags))),
        Field::TickAgeAdd => int(Int::U(u64::from(s.tick_age_add))),
        Field::MaxEarlyData => int(Int::U(u64::from(s.max_early_data))),
        Field::AlpnSelected => bytes(&s.alpn_selected),
        Field::MaxFragmentLenMode => int(Int::U(u64::from(s.max_fragment_len_mode))),
        Field::TicketAppdata => bytes(&s.ticket_appdata),
        Field::KexGroup => int(Int::U(u64::from(s.kex_group))),
    }
}

/// Call `f` with the tagging and value of every element i2d writes for `s`, in template
/// order: one straight-line `SESSION[I]` per template, so that each is compiled for its own
/// field (no loop over the table, no array of elements at run time).
#[inline(always)]
fn each_element<'s>(s: &'s SessionData, code: &'s [u8; 2], mut f: impl FnMut(Tagging, Elem<'s>)) {
    macro_rules! each {
        ($($i:literal)*) => {
            const _: () = assert!(SESSION.len() == [$($i),*].len(), "one index per template");
            $(
                let t = const { SESSION[$i] };
                if let Some(e) = value(s, code, &t) {
                    f(t.tagging, e);
                }
            )*
        };
    }
    each!(0 1 2 3 4 5 6 7 8 9 10 11 12 13 14 15 16 17 18 19 20 21 22 23 24);
}

/// The length of the universal TLV that holds `e` (the inner element under `[n] EXPLICIT`).
#[inline(always)]
fn inner_len(e: &Elem<'_>) -> usize {
    match e {
        Elem::Int(v) => tlv_len(v.len()),
        Elem::Bytes(b) => tlv_len(b.len()),
        Elem::Cert(c) => c.len(),
    }
}

/// The length of element `e` tagged `tagging` (tag numbers are below 31: one identifier
/// byte).
#[inline(always)]
fn element_len(tagging: Tagging, e: &Elem<'_>) -> usize {
    match tagging {
        Tagging::Explicit(_) => tlv_len(inner_len(e)),
        _ => inner_len(e),
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
        let code = (id as u16).to_be_bytes();
        let mut body = 0;
        each_element(s, &code, |tagging, e| body += element_len(tagging, &e));
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
        let mut w = W { buf: out, pos: 0 };
        w.byte(0x30);
        w.len(self.body);
        each_element(self.s, &self.code, |tagging, e| {
            match tagging {
                Tagging::Plain => {}
                Tagging::Implicit(n) => {
                    // Primitive: the content goes straight under the tag.
                    let Elem::Bytes(b) = e else {
                        unreachable!("fields.rs: an IMPLICIT template holds an OCTET STRING")
                    };
                    w.byte(0x80 | n as u8);
                    w.len(b.len());
                    w.put(b);
                    return;
                }
                Tagging::Explicit(n) => {
                    w.byte(0xA0 | n as u8);
                    w.len(inner_len(&e));
                }
            }
            match e {
                Elem::Int(v) => w.int(v),
                Elem::Bytes(b) => w.octets(b),
                Elem::Cert(c) => w.put(c),
            }
        });
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

//! libcrypto's BER reader (the parts of `tasn_dec.c`, `asn1_lib.c`, `a_int.c` and
//! `x_int64.c` the session reaches), and the minimal DER writing helpers.

use super::error::{asn1, ERR_R_NESTED_ASN1_ERROR};
use std::borrow::Cow;

/// A low-level failure: the `ASN1_R_*` reason raised first.
pub(super) type R<T> = Result<T, i32>;

pub(super) const UNIVERSAL: u8 = 0x00;
pub(super) const CONTEXT: u8 = 0x80;

pub(super) const TAG_BOOLEAN: u32 = 1;
pub(super) const TAG_INTEGER: u32 = 2;
pub(super) const TAG_BIT_STRING: u32 = 3;
pub(super) const TAG_OCTET_STRING: u32 = 4;
pub(super) const TAG_NULL: u32 = 5;
pub(super) const TAG_OBJECT: u32 = 6;
pub(super) const TAG_ENUMERATED: u32 = 10;
pub(super) const TAG_UTF8STRING: u32 = 12;
pub(super) const TAG_SEQUENCE: u32 = 16;
pub(super) const TAG_SET: u32 = 17;
pub(super) const TAG_UNIVERSALSTRING: u32 = 28;
pub(super) const TAG_BMPSTRING: u32 = 30;

/// `ASN1_MAX_STRING_NEST`.
pub(super) const MAX_STRING_NEST: u32 = 5;
/// `X509_NAME_MAX`: x509_name_ex_d2i never reads more than this.
pub(super) const X509_NAME_MAX: usize = 1024 * 1024;
/// `OBJ_obj2txt` refuses OIDs whose encoding is longer (RFC 2578 limit, CVE-2023-2650 fix).
pub(super) const OBJ_TXT_MAX: usize = 586;

/// A parsed identifier + length, as `asn1_check_tlen` reports it.
#[derive(Clone, Copy, Debug)]
pub(super) struct Hdr {
    pub(super) tag: u32,
    pub(super) class: u8,
    pub(super) cons: bool,
    /// Indefinite length: `len` is then everything left in the window after the header.
    pub(super) inf: bool,
    pub(super) hlen: usize,
    pub(super) len: usize,
}

impl Hdr {
    pub(super) fn is(&self, tag: u32, class: u8) -> bool {
        self.tag == tag && self.class == class
    }
    pub(super) fn content<'a>(&self, w: &'a [u8]) -> &'a [u8] {
        &w[self.hlen..self.hlen + self.len]
    }
}

/// `ASN1_get_object` + the header part of `asn1_check_tlen`, on a window of exactly the
/// bytes libcrypto is allowed to read. Every quirk is kept: the high-tag form is accepted for
/// any tag number (up to INT_MAX), long-form lengths may have leading zero bytes, and a long
/// form needs at least one byte after the length octets.
pub(super) fn header(b: &[u8]) -> R<Hdr> {
    use asn1::*;
    let omax = b.len();
    if omax == 0 {
        return Err(TOO_SMALL);
    }
    let first = b[0];
    let cons = first & 0x20 != 0;
    let class = first & 0xC0;
    let mut p = 0usize;
    let mut max = omax;
    let tag: u32;
    if first & 0x1F == 0x1F {
        p += 1;
        max -= 1;
        if max == 0 {
            return Err(HEADER_TOO_LONG);
        }
        let mut l: u64 = 0;
        while b[p] & 0x80 != 0 {
            l = (l << 7) | u64::from(b[p] & 0x7F);
            p += 1;
            max -= 1;
            if max == 0 || l > (i32::MAX >> 7) as u64 {
                return Err(HEADER_TOO_LONG);
            }
        }
        l = (l << 7) | u64::from(b[p] & 0x7F);
        p += 1;
        tag = l as u32;
        max -= 1;
        if max == 0 {
            return Err(HEADER_TOO_LONG);
        }
    } else {
        tag = u32::from(first & 0x1F);
        p += 1;
        max -= 1;
        if max == 0 {
            return Err(HEADER_TOO_LONG);
        }
    }
    // asn1_get_length
    max -= 1;
    let lb = b[p];
    p += 1;
    let inf = lb == 0x80;
    let mut len: u64 = 0;
    if !inf {
        let mut i = usize::from(lb & 0x7F);
        if lb & 0x80 != 0 {
            if max < i + 1 {
                return Err(HEADER_TOO_LONG);
            }
            while i > 0 && b[p] == 0 {
                p += 1;
                i -= 1;
            }
            if i > 8 {
                return Err(HEADER_TOO_LONG);
            }
            while i > 0 {
                len = (len << 8) | u64::from(b[p]);
                p += 1;
                i -= 1;
            }
            if len > i64::MAX as u64 {
                return Err(HEADER_TOO_LONG);
            }
        } else {
            len = i as u64;
        }
    }
    if inf && !cons {
        return Err(HEADER_TOO_LONG);
    }
    let avail = omax - p;
    if len > avail as u64 {
        return Err(TOO_LONG);
    }
    Ok(Hdr {
        tag,
        class,
        cons,
        inf,
        hlen: p,
        len: if inf { avail } else { len as usize },
    })
}

/// `asn1_check_tlen` with an expected tag: `Ok(None)` when it differs and `opt` is set.
pub(super) fn expect(b: &[u8], tag: u32, class: u8, opt: bool) -> R<Option<Hdr>> {
    let h = header(b)?;
    if !h.is(tag, class) {
        return if opt { Ok(None) } else { Err(asn1::WRONG_TAG) };
    }
    Ok(Some(h))
}

pub(super) fn is_eoc(b: &[u8]) -> bool {
    b.len() >= 2 && b[0] == 0 && b[1] == 0
}

/// `asn1_collect`: concatenate the primitive segments of a constructed string, whatever
/// their tags. Returns the bytes used from `b` (which starts at the content).
pub(super) fn collect(b: &[u8], mut inf: bool, depth: u32, out: &mut Vec<u8>) -> R<usize> {
    let mut p = 0usize;
    while p < b.len() {
        if is_eoc(&b[p..]) {
            if !inf {
                return Err(asn1::UNEXPECTED_EOC);
            }
            p += 2;
            inf = false;
            break;
        }
        let h = header(&b[p..])?;
        p += h.hlen;
        if h.cons {
            if depth >= MAX_STRING_NEST {
                return Err(asn1::NESTED_ASN1_STRING);
            }
            p += collect(&b[p..p + h.len], h.inf, depth + 1, out)?;
        } else {
            out.extend_from_slice(&b[p..p + h.len]);
            p += h.len;
        }
    }
    if inf {
        return Err(asn1::MISSING_EOC);
    }
    Ok(p)
}

/// `asn1_find_end`: the end of an indefinite-length value whose content starts `b`.
pub(super) fn find_end(b: &[u8]) -> R<usize> {
    let mut expected: u32 = 1;
    let mut p = 0usize;
    while p < b.len() {
        if is_eoc(&b[p..]) {
            p += 2;
            expected -= 1;
            if expected == 0 {
                break;
            }
            continue;
        }
        let h = header(&b[p..])?;
        p += h.hlen;
        if h.inf {
            if expected == u32::MAX {
                return Err(ERR_R_NESTED_ASN1_ERROR);
            }
            expected += 1;
        } else {
            p += h.len;
        }
    }
    if expected != 0 {
        return Err(asn1::MISSING_EOC);
    }
    Ok(p)
}

/// The content of a string-like primitive whose header is `h` (segments joined when it is
/// constructed), and the bytes used from `w`.
pub(super) fn string_body<'a>(w: &'a [u8], h: &Hdr) -> R<(Cow<'a, [u8]>, usize)> {
    if h.cons {
        let mut v = Vec::new();
        let used = collect(h.content(w), h.inf, 0, &mut v)?;
        Ok((Cow::Owned(v), h.hlen + used))
    } else {
        Ok((Cow::Borrowed(h.content(w)), h.hlen + h.len))
    }
}

/// An OCTET STRING (or any plain string item) under tag (`tag`, `class`).
pub(super) fn string<'a>(
    w: &'a [u8],
    tag: u32,
    class: u8,
    opt: bool,
) -> R<Option<(Cow<'a, [u8]>, usize)>> {
    match expect(w, tag, class, opt)? {
        None => Ok(None),
        Some(h) => string_body(w, &h).map(Some),
    }
}

/// `c2i_ibuf`'s checks; returns the magnitude length and the sign.
#[inline(always)]
pub(super) fn c2i_ibuf(c: &[u8]) -> R<(usize, bool)> {
    if c.is_empty() {
        return Err(asn1::ILLEGAL_ZERO_CONTENT);
    }
    let neg = c[0] & 0x80 != 0;
    if c.len() == 1 {
        return Ok((1, neg));
    }
    let pad = match c[0] {
        0 => true,
        0xFF => c[1..].iter().any(|&x| x != 0),
        _ => false,
    };
    if pad && neg == (c[1] & 0x80 != 0) {
        return Err(asn1::ILLEGAL_PADDING);
    }
    Ok((c.len() - usize::from(pad), neg))
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) enum IntKind {
    Int32,
    Uint32,
    Int64,
    Uint64,
}

/// `uint32_c2i` / `uint64_c2i` (x_int64.c): the value's bits (sign-extended for signed types).
#[inline(always)]
pub(super) fn c2i_int(c: &[u8], kind: IntKind) -> R<u64> {
    use asn1::*;
    if c.is_empty() {
        return Ok(0); // "long_compat": an empty INTEGER reads as 0
    }
    let (n, neg) = c2i_ibuf(c)?;
    if n > 8 {
        return Err(TOO_LARGE);
    }
    // The n magnitude bytes, big-endian (one load per length, no loop).
    let be = |b: &[u8]| {
        let mut x = [0u8; 8];
        x[8 - b.len()..].copy_from_slice(b);
        u64::from_be_bytes(x)
    };
    let raw = match c[c.len() - n..] {
        [a] => u64::from(a),
        [a, b] => u64::from(u16::from_be_bytes([a, b])),
        [a, b, c, d] => u64::from(u32::from_be_bytes([a, b, c, d])),
        ref digits => be(digits),
    };
    // The magnitude, as twos_complement() computes it over n bytes (1 <= n <= 8):
    // (2^8n - raw) mod 2^8n, which is -raw mod 2^64 reduced mod 2^8n (2^8n divides 2^64).
    let mag = if neg {
        raw.wrapping_neg() & (u64::MAX >> (64 - 8 * n))
    } else {
        raw
    };
    match kind {
        IntKind::Uint32 | IntKind::Uint64 if neg => Err(ILLEGAL_NEGATIVE_VALUE),
        IntKind::Uint64 => Ok(mag),
        IntKind::Int64 => {
            if !neg && mag > i64::MAX as u64 {
                Err(TOO_LARGE)
            } else if neg {
                Ok(0u64.wrapping_sub(mag)) // no lower bound in 3.0: wraps
            } else {
                Ok(mag)
            }
        }
        IntKind::Int32 | IntKind::Uint32 => {
            if neg {
                if mag > 1 << 31 {
                    return Err(TOO_SMALL);
                }
                Ok(u64::from(0u32.wrapping_sub(mag as u32)))
            } else if (kind == IntKind::Int32 && mag > i32::MAX as u64) || mag > u64::from(u32::MAX)
            {
                Err(TOO_LARGE)
            } else {
                Ok(mag)
            }
        }
    }
}

/// An embedded INT32/UINT32/INT64/UINT64 item under tag (`tag`, `class`).
pub(super) fn int(
    w: &[u8],
    tag: u32,
    class: u8,
    opt: bool,
    kind: IntKind,
) -> R<Option<(u64, usize)>> {
    let Some(h) = expect(w, tag, class, opt)? else {
        return Ok(None);
    };
    if h.cons {
        return Err(asn1::TYPE_NOT_PRIMITIVE);
    }
    Ok(Some((c2i_int(h.content(w), kind)?, h.hlen + h.len)))
}

/// An `[n] EXPLICIT` wrapper (`asn1_template_ex_d2i`). `inner` decodes the content window
/// and reports the bytes it used. Errors are tagged with whether libcrypto follows them
/// with `ERR_R_NESTED_ASN1_ERROR` (true for everything but the wrapper's own checks).
pub(super) fn explicit<'a, T>(
    w: &'a [u8],
    n: u32,
    opt: bool,
    inner: impl FnOnce(&'a [u8]) -> R<(T, usize)>,
) -> Result<Option<(T, usize)>, (i32, bool)> {
    let h = match expect(w, n, CONTEXT, opt) {
        Ok(None) => return Ok(None),
        Ok(Some(h)) => h,
        Err(e) => return Err((e, true)),
    };
    if !h.cons {
        return Err((asn1::EXPLICIT_TAG_NOT_CONSTRUCTED, false));
    }
    let c = h.content(w);
    let (v, used) = inner(c).map_err(|e| (e, true))?;
    if h.inf {
        if !is_eoc(&c[used..]) {
            return Err((asn1::MISSING_EOC, false));
        }
        Ok(Some((v, h.hlen + used + 2)))
    } else if used != c.len() {
        Err((asn1::EXPLICIT_LENGTH_MISMATCH, false))
    } else {
        Ok(Some((v, h.hlen + h.len)))
    }
}

/// The value of a non-optional item (`opt` false never yields `None`).
pub(super) fn req<T>(v: Option<T>) -> T {
    v.expect("a non-optional item is never absent")
}

/// The SEQUENCE loop of `asn1_item_embed_d2i`, driven one template at a time.
pub(super) struct Seq<'a> {
    pub(super) b: &'a [u8],
    pub(super) p: usize,
    pub(super) end: usize,
    /// Still expecting the end-of-contents octets of an indefinite-length SEQUENCE.
    pub(super) eoc: bool,
    /// Indefinite length: no final length check.
    pub(super) nolen: bool,
    /// The loop has stopped (no more data, or end-of-contents seen).
    pub(super) done: bool,
}

impl<'a> Seq<'a> {
    /// The SEQUENCE header; `Ok(None)` when the tag differs and `opt` is set.
    pub(super) fn open(b: &'a [u8], opt: bool) -> R<Option<Seq<'a>>> {
        let Some(h) = expect(b, TAG_SEQUENCE, UNIVERSAL, opt)? else {
            return Ok(None);
        };
        if !h.cons {
            return Err(asn1::SEQUENCE_NOT_CONSTRUCTED);
        }
        Ok(Some(Seq {
            b,
            p: h.hlen,
            end: h.hlen + h.len,
            eoc: h.inf,
            nolen: h.inf,
            done: false,
        }))
    }

    /// The window for the next template, or `None` when the SEQUENCE has no more elements
    /// (then a non-optional template is an error).
    pub(super) fn field(&mut self, optional: bool) -> R<Option<&'a [u8]>> {
        if !self.done {
            if self.p == self.end {
                self.done = true;
            } else if is_eoc(&self.b[self.p..self.end]) {
                if !self.eoc {
                    return Err(asn1::UNEXPECTED_EOC);
                }
                self.p += 2;
                self.eoc = false;
                self.done = true;
            } else {
                return Ok(Some(&self.b[self.p..self.end]));
            }
        }
        if optional {
            Ok(None)
        } else if self.eoc {
            Err(asn1::MISSING_EOC) // checked before the missing field
        } else {
            Err(asn1::FIELD_MISSING)
        }
    }

    pub(super) fn advance(&mut self, used: usize) {
        self.p += used;
    }

    /// After the last template: the end checks. Returns the bytes used from `b`.
    pub(super) fn finish(mut self) -> R<usize> {
        if self.eoc {
            if !is_eoc(&self.b[self.p..self.end]) {
                return Err(asn1::MISSING_EOC);
            }
            self.p += 2;
        }
        if !self.nolen && self.p != self.end {
            return Err(asn1::SEQUENCE_LENGTH_MISMATCH);
        }
        Ok(self.p)
    }
}

/// A `SEQUENCE OF` / `SET OF` template (`asn1_template_noexp_d2i`): note that libcrypto does
/// not check that the header is constructed. Calls `item` on each element's window.
pub(super) fn set_of<'a>(
    w: &'a [u8],
    tag: u32,
    opt: bool,
    mut item: impl FnMut(&'a [u8]) -> R<usize>,
) -> R<Option<usize>> {
    let Some(h) = expect(w, tag, UNIVERSAL, opt)? else {
        return Ok(None);
    };
    let c = h.content(w);
    let mut p = 0usize;
    let mut eoc = h.inf;
    while p < c.len() {
        if is_eoc(&c[p..]) {
            if !eoc {
                return Err(asn1::UNEXPECTED_EOC);
            }
            p += 2;
            eoc = false;
            break;
        }
        p += item(&c[p..])?;
    }
    if eoc {
        return Err(asn1::MISSING_EOC);
    }
    Ok(Some(h.hlen + p))
}

// ---------------------------------------------------------------------------------------------
// Minimal DER writing helpers (shared by the certificate canonicaliser and the encoder)

pub(super) fn len_of_len(n: usize) -> usize {
    if n < 0x80 {
        1
    } else {
        1 + (usize::BITS - n.leading_zeros()).div_ceil(8) as usize
    }
}

pub(super) fn tag_len(tag: u32) -> usize {
    if tag < 31 {
        1
    } else {
        1 + (u32::BITS - tag.leading_zeros()).div_ceil(7) as usize
    }
}

/// Size of a TLV with a low tag number and `n` content bytes.
pub(super) fn tlv_len(n: usize) -> usize {
    1 + len_of_len(n) + n
}

pub(super) fn push_len(v: &mut Vec<u8>, n: usize) {
    if n < 0x80 {
        v.push(n as u8);
    } else {
        let k = len_of_len(n) - 1;
        v.push(0x80 | k as u8);
        for i in (0..k).rev() {
            v.push((n >> (8 * i)) as u8);
        }
    }
}

pub(super) fn push_tag(v: &mut Vec<u8>, first: u8, tag: u32) {
    if tag < 31 {
        v.push(first | tag as u8);
    } else {
        v.push(first | 0x1F);
        let k = tag_len(tag) - 1;
        for i in (0..k).rev() {
            let b = ((tag >> (7 * i)) & 0x7F) as u8;
            v.push(if i > 0 { b | 0x80 } else { b });
        }
    }
}

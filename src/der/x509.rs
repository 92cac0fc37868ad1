//! The X.509 certificate walker (the X509 template of `crypto/x509/x_x509.c`).

use super::ber::*;
use super::error::{asn1, ERR_R_NESTED_ASN1_ERROR};
use std::borrow::Cow;

/// `ossl_c2i_ASN1_BIT_STRING`'s checks.
pub(super) fn check_bit_string(c: &[u8]) -> R<()> {
    if c.is_empty() {
        return Err(asn1::STRING_TOO_SHORT);
    }
    if c[0] > 7 {
        return Err(asn1::INVALID_BIT_STRING_BITS_LEFT);
    }
    Ok(())
}

/// Whether `i2c_ASN1_BIT_STRING` writes the content back unchanged: the unused-bits count is
/// kept only when there is data, and the unused bits of the last byte are cleared.
pub(super) fn bit_string_is_canonical(c: &[u8]) -> bool {
    match c {
        [bits] => *bits == 0,
        [bits, .., last] => last & !(0xFFu8 << bits) == 0,
        [] => false,
    }
}

pub(super) fn push_canonical_bit_string(v: &mut Vec<u8>, c: &[u8]) {
    if c.len() <= 1 {
        v.extend_from_slice(&[0x03, 0x01, 0x00]);
        return;
    }
    v.push(0x03);
    push_len(v, c.len());
    v.extend_from_slice(&c[..c.len() - 1]);
    v.push(c[c.len() - 1] & (0xFFu8 << c[0]));
}

/// A decoded string-like value.
pub(super) struct Value<'a> {
    pub(super) hdr: Hdr,
    pub(super) content: Cow<'a, [u8]>,
    pub(super) used: usize,
}

/// A BIT STRING under tag (`tag`, `class`).
pub(super) fn bit_string(w: &[u8], tag: u32, class: u8, opt: bool) -> R<Option<Value<'_>>> {
    let Some(hdr) = expect(w, tag, class, opt)? else {
        return Ok(None);
    };
    let (content, used) = string_body(w, &hdr)?;
    check_bit_string(&content)?;
    Ok(Some(Value { hdr, content, used }))
}

/// `ossl_c2i_ASN1_OBJECT`'s checks.
pub(super) fn check_object(c: &[u8]) -> R<()> {
    let bad = c.is_empty()
        || c[c.len() - 1] & 0x80 != 0
        || c.iter()
            .enumerate()
            .any(|(i, &x)| x == 0x80 && (i == 0 || c[i - 1] & 0x80 == 0));
    if bad {
        Err(asn1::INVALID_OBJECT_ENCODING)
    } else {
        Ok(())
    }
}

/// An OBJECT IDENTIFIER; returns (header, content, used).
pub(super) fn object(w: &[u8], opt: bool) -> R<Option<(Hdr, &[u8], usize)>> {
    let Some(h) = expect(w, TAG_OBJECT, UNIVERSAL, opt)? else {
        return Ok(None);
    };
    if h.cons {
        return Err(asn1::TYPE_NOT_PRIMITIVE);
    }
    let c = h.content(w);
    check_object(c)?;
    Ok(Some((h, c, h.hlen + h.len)))
}

/// An `ASN1_INTEGER` (any size).
pub(super) fn asn1_integer(w: &[u8], opt: bool) -> R<Option<usize>> {
    let Some(h) = expect(w, TAG_INTEGER, UNIVERSAL, opt)? else {
        return Ok(None);
    };
    if h.cons {
        return Err(asn1::TYPE_NOT_PRIMITIVE);
    }
    c2i_ibuf(h.content(w))?;
    Ok(Some(h.hlen + h.len))
}

/// The body of `asn1_d2i_ex_primitive` once the universal type `utype` is known (from an
/// ANY or an MSTRING).
pub(super) fn typed_value(w: &[u8], h: Hdr, utype: Option<u32>) -> R<Typed<'_>> {
    use asn1::*;
    match utype {
        // SEQUENCE, SET and non-universal ("OTHER") values are kept as raw TLVs.
        None | Some(TAG_SEQUENCE) | Some(TAG_SET) => {
            if utype.is_some() && !h.cons {
                return Err(TYPE_NOT_CONSTRUCTED);
            }
            let used = if h.inf {
                h.hlen + find_end(h.content(w))?
            } else {
                h.hlen + h.len
            };
            let raw = &w[..used];
            Ok(Typed {
                content: Cow::Borrowed(raw),
                used,
                enc: Cow::Borrowed(raw),
            })
        }
        Some(t) => {
            if h.cons
                && matches!(
                    t,
                    TAG_NULL | TAG_BOOLEAN | TAG_OBJECT | TAG_INTEGER | TAG_ENUMERATED
                )
            {
                return Err(TYPE_NOT_PRIMITIVE);
            }
            let (c, used) = string_body(w, &h)?;
            match t {
                TAG_OBJECT => check_object(&c)?,
                TAG_NULL if !c.is_empty() => return Err(NULL_IS_WRONG_LENGTH),
                TAG_BOOLEAN if c.len() != 1 => return Err(BOOLEAN_IS_WRONG_LENGTH),
                TAG_BIT_STRING => check_bit_string(&c)?,
                TAG_INTEGER | TAG_ENUMERATED => {
                    c2i_ibuf(&c)?;
                }
                TAG_BMPSTRING if c.len() % 2 != 0 => return Err(BMPSTRING_IS_WRONG_LENGTH),
                TAG_UNIVERSALSTRING if c.len() % 4 != 0 => {
                    return Err(UNIVERSALSTRING_IS_WRONG_LENGTH)
                }
                _ => {}
            }
            let canonical = !h.cons
                && h.hlen == tag_len(t) + len_of_len(c.len())
                && (t != TAG_BIT_STRING || bit_string_is_canonical(&c));
            let enc = if canonical {
                Cow::Borrowed(&w[..used])
            } else {
                let mut v = Vec::with_capacity(c.len() + 8);
                if t == TAG_BIT_STRING {
                    push_canonical_bit_string(&mut v, &c);
                } else {
                    push_tag(&mut v, 0, t);
                    push_len(&mut v, c.len());
                    v.extend_from_slice(&c);
                }
                Cow::Owned(v)
            };
            Ok(Typed {
                content: c,
                used,
                enc,
            })
        }
    }
}

/// A value of a type known from its tag.
pub(super) struct Typed<'a> {
    /// The content octets (segments joined), or the whole TLV for SEQUENCE/SET/OTHER.
    pub(super) content: Cow<'a, [u8]>,
    pub(super) used: usize,
    /// What libcrypto's i2d writes back for it.
    pub(super) enc: Cow<'a, [u8]>,
}

/// `ASN1_ANY` (never optional here). Returns (used, canonical TLV).
pub(super) fn any(w: &[u8]) -> R<(usize, Cow<'_, [u8]>)> {
    let h = header(w)?;
    let utype = if h.class == UNIVERSAL {
        Some(h.tag)
    } else {
        None
    };
    let t = typed_value(w, h, utype)?;
    Ok((t.used, t.enc))
}

/// `ASN1_tag2bit`.
pub(super) fn tag2bit(tag: u32) -> u32 {
    const T: [u32; 31] = [
        0, 0, 0, 0x0400, 0x0200, 0, 0, 0x1000, 0x1000, 0x1000, 0, 0x1000, 0x2000, 0x1000, 0x1000,
        0x1000, 0x10000, 0, 0x0001, 0x0002, 0x0004, 0x0008, 0x0010, 0x4000, 0x8000, 0x0020, 0x0040,
        0x0080, 0x0100, 0x1000, 0x0800,
    ];
    T.get(tag as usize).copied().unwrap_or(0)
}

/// `B_ASN1_PRINTABLE` (X509_NAME_ENTRY values).
pub(super) const MASK_PRINTABLE: u32 =
    0x0001 | 0x0002 | 0x0004 | 0x0010 | 0x0400 | 0x0100 | 0x0800 | 0x2000 | 0x10000 | 0x1000;
/// `B_ASN1_TIME`.
pub(super) const MASK_TIME: u32 = 0x4000 | 0x8000;

/// An MSTRING item (never optional here). Returns (universal tag, content, used).
pub(super) fn mstring<'a>(w: &'a [u8], mask: u32) -> R<(u32, Cow<'a, [u8]>, usize)> {
    let h = header(w)?;
    if h.class != UNIVERSAL {
        return Err(asn1::MSTRING_NOT_UNIVERSAL);
    }
    if tag2bit(h.tag) & mask == 0 {
        return Err(asn1::MSTRING_WRONG_TAG);
    }
    let t = typed_value(w, h, Some(h.tag))?;
    Ok((h.tag, t.content, t.used))
}

/// `x509_name_canon`'s conversion of one value to UTF-8 (`ASN1_STRING_to_UTF8`): the only
/// way it fails on decoded input is a character that is not a Unicode scalar value.
pub(super) fn check_name_value(tag: u32, c: &[u8]) -> R<()> {
    let scalar = |v: u32| v <= 0x10FFFF && !(0xD800..=0xDFFF).contains(&v);
    match tag {
        TAG_UTF8STRING if std::str::from_utf8(c).is_err() => Err(asn1::INVALID_UTF8STRING),
        TAG_BMPSTRING
            if !c
                .chunks(2)
                .all(|x| scalar(u32::from(u16::from_be_bytes([x[0], x[1]])))) =>
        {
            Err(asn1::ILLEGAL_CHARACTERS)
        }
        TAG_UNIVERSALSTRING
            if !c
                .chunks(4)
                .all(|x| scalar(u32::from_be_bytes([x[0], x[1], x[2], x[3]]))) =>
        {
            Err(asn1::ILLEGAL_CHARACTERS)
        }
        _ => Ok(()),
    }
}

/// `X509_NAME` (x509_name_ex_d2i): SEQUENCE OF SET OF { OBJECT, value }, then the
/// canonical-encoding pass, whose failures come after any structural error in the name.
pub(super) fn name(w: &[u8]) -> R<usize> {
    let w = &w[..w.len().min(X509_NAME_MAX)];
    let mut canon_err: Option<i32> = None;
    let used = set_of(w, TAG_SEQUENCE, false, |rdn| {
        Ok(req(set_of(rdn, TAG_SET, false, |entry| {
            let mut s = req(Seq::open(entry, false)?);
            if let Some(f) = s.field(false)? {
                let (_, _, used) = req(object(f, false)?);
                s.advance(used);
            }
            if let Some(f) = s.field(false)? {
                let (tag, c, used) = mstring(f, MASK_PRINTABLE)?;
                if canon_err.is_none() {
                    canon_err = check_name_value(tag, &c).err();
                }
                s.advance(used);
            }
            s.finish()
        })?))
    })?;
    let used = req(used);
    match canon_err {
        Some(e) => Err(e),
        None => Ok(used),
    }
}

/// A decoded `X509_ALGOR`.
pub(super) struct Algor<'a> {
    pub(super) used: usize,
    pub(super) oid: &'a [u8],
    /// What `i2d_X509_ALGOR` writes back.
    pub(super) enc: Cow<'a, [u8]>,
}

/// `X509_ALGOR`: { OBJECT, ANY OPTIONAL }.
pub(super) fn algor(w: &[u8]) -> R<Algor<'_>> {
    let mut s = req(Seq::open(w, false)?);
    let hdr_ok = !s.eoc && s.p == 1 + len_of_len(s.end - s.p);
    let mut oid: &[u8] = &[];
    let mut oid_ok = true;
    if let Some(f) = s.field(false)? {
        let (h, c, used) = req(object(f, false)?);
        oid = c;
        oid_ok = h.hlen == 1 + len_of_len(c.len());
        s.advance(used);
    }
    let mut param: Option<Cow<'_, [u8]>> = None;
    if let Some(f) = s.field(true)? {
        let (used, enc) = any(f)?;
        param = Some(enc);
        s.advance(used);
    }
    let used = s.finish()?;
    let canonical = hdr_ok && oid_ok && !matches!(param, Some(Cow::Owned(_)));
    if canonical {
        return Ok(Algor {
            used,
            oid,
            enc: Cow::Borrowed(&w[..used]),
        });
    }
    let body = tlv_len(oid.len()) + param.as_ref().map_or(0, |p| p.len());
    let mut v = Vec::with_capacity(tlv_len(body));
    v.push(0x30);
    push_len(&mut v, body);
    v.push(0x06);
    push_len(&mut v, oid.len());
    v.extend_from_slice(oid);
    if let Some(p) = param {
        v.extend_from_slice(&p);
    }
    Ok(Algor {
        used,
        oid,
        enc: Cow::Owned(v),
    })
}

/// `X509_PUBKEY` (x509_pubkey_ex_d2i_ex): { X509_ALGOR, BIT STRING }. The key itself is
/// decoded opportunistically and its errors discarded, except that an OID `OBJ_obj2txt`
/// cannot print makes the whole decode fail (with only a nested error queued).
pub(super) fn pubkey(w: &[u8]) -> R<usize> {
    let mut s = req(Seq::open(w, false)?);
    let mut oid_len = 0;
    if let Some(f) = s.field(false)? {
        let a = algor(f)?;
        oid_len = a.oid.len();
        s.advance(a.used);
    }
    if let Some(f) = s.field(false)? {
        s.advance(req(bit_string(f, TAG_BIT_STRING, UNIVERSAL, false)?).used);
    }
    let used = s.finish()?;
    if oid_len > OBJ_TXT_MAX {
        return Err(ERR_R_NESTED_ASN1_ERROR);
    }
    Ok(used)
}

/// `X509_EXTENSION`: { OBJECT, BOOLEAN OPTIONAL, OCTET STRING }.
pub(super) fn extension(w: &[u8]) -> R<usize> {
    let mut s = req(Seq::open(w, false)?);
    if let Some(f) = s.field(false)? {
        let (_, _, used) = req(object(f, false)?);
        s.advance(used);
    }
    if let Some(f) = s.field(true)? {
        if let Some(h) = expect(f, TAG_BOOLEAN, UNIVERSAL, true)? {
            if h.cons {
                return Err(asn1::TYPE_NOT_PRIMITIVE);
            }
            if h.len != 1 {
                return Err(asn1::BOOLEAN_IS_WRONG_LENGTH);
            }
            s.advance(h.hlen + 1);
        }
    }
    if let Some(f) = s.field(false)? {
        let (_, used) = req(string(f, TAG_OCTET_STRING, UNIVERSAL, false)?);
        s.advance(used);
    }
    s.finish()
}

/// Lift an explicit-wrapper result to a plain reason (inside the certificate every error is
/// followed by nested ones anyway).
pub(super) fn flat<T>(r: Result<T, (i32, bool)>) -> R<T> {
    r.map_err(|(e, _)| e)
}

/// `X509_CINF` (TBSCertificate). Returns the bytes used; the encoding is kept as received.
pub(super) fn tbs_certificate(w: &[u8]) -> R<usize> {
    let mut s = req(Seq::open(w, false)?);
    // version [0] EXPLICIT INTEGER OPTIONAL
    if let Some(f) = s.field(true)? {
        let r = explicit(f, 0, true, |c| Ok(((), req(asn1_integer(c, false)?))));
        if let Some((_, used)) = flat(r)? {
            s.advance(used);
        }
    }
    if let Some(f) = s.field(false)? {
        s.advance(req(asn1_integer(f, false)?)); // serialNumber
    }
    if let Some(f) = s.field(false)? {
        s.advance(algor(f)?.used); // signature
    }
    if let Some(f) = s.field(false)? {
        s.advance(name(f)?); // issuer
    }
    if let Some(f) = s.field(false)? {
        // validity
        let mut v = req(Seq::open(f, false)?);
        for _ in 0..2 {
            if let Some(t) = v.field(false)? {
                v.advance(mstring(t, MASK_TIME)?.2);
            }
        }
        s.advance(v.finish()?);
    }
    if let Some(f) = s.field(false)? {
        s.advance(name(f)?); // subject
    }
    if let Some(f) = s.field(false)? {
        s.advance(pubkey(f)?);
    }
    for n in [1, 2] {
        // issuerUniqueID [1] / subjectUniqueID [2] IMPLICIT BIT STRING OPTIONAL
        if let Some(f) = s.field(true)? {
            if let Some(v) = bit_string(f, n, CONTEXT, true)? {
                s.advance(v.used);
            }
        }
    }
    // extensions [3] EXPLICIT SEQUENCE OF Extension OPTIONAL: the last template, so it is
    // not optional once there is data left.
    if let Some(f) = s.field(true)? {
        let r = explicit(f, 3, false, |c| {
            Ok(((), req(set_of(c, TAG_SEQUENCE, false, extension)?)))
        });
        if let Some((_, used)) = flat(r)? {
            s.advance(used);
        }
    }
    s.finish()
}

/// `X509` (Certificate). Returns (the encoding `i2d_X509` would write, bytes used).
pub(super) fn x509(w: &[u8]) -> R<(Cow<'_, [u8]>, usize)> {
    let mut s = req(Seq::open(w, false)?);
    let hdr_ok = !s.eoc && s.p == 1 + len_of_len(s.end - s.p);
    let mut tbs: &[u8] = &[];
    if let Some(f) = s.field(false)? {
        let used = tbs_certificate(f)?;
        tbs = &f[..used];
        s.advance(used);
    }
    let mut alg: Cow<'_, [u8]> = Cow::Borrowed(&[]);
    if let Some(f) = s.field(false)? {
        let a = algor(f)?;
        alg = a.enc;
        s.advance(a.used);
    }
    let mut sig: Cow<'_, [u8]> = Cow::Borrowed(&[]);
    let mut sig_ok = true;
    if let Some(f) = s.field(false)? {
        let Value {
            hdr: h,
            content: c,
            used,
        } = req(bit_string(f, TAG_BIT_STRING, UNIVERSAL, false)?);
        sig_ok = !h.cons && h.hlen == 1 + len_of_len(c.len()) && bit_string_is_canonical(&c);
        sig = if sig_ok {
            Cow::Borrowed(&f[..used])
        } else {
            let mut v = Vec::with_capacity(tlv_len(c.len()));
            push_canonical_bit_string(&mut v, &c);
            Cow::Owned(v)
        };
        s.advance(used);
    }
    let used = s.finish()?;
    if hdr_ok && sig_ok && matches!(alg, Cow::Borrowed(_)) {
        return Ok((Cow::Borrowed(&w[..used]), used));
    }
    Ok((rebuild(tbs, &alg, &sig), used))
}

pub(super) fn rebuild<'a>(tbs: &[u8], alg: &[u8], sig: &[u8]) -> Cow<'a, [u8]> {
    let body = tbs.len() + alg.len() + sig.len();
    let mut v = Vec::with_capacity(tlv_len(body));
    v.push(0x30);
    push_len(&mut v, body);
    v.extend_from_slice(tbs);
    v.extend_from_slice(alg);
    v.extend_from_slice(sig);
    Cow::Owned(v)
}

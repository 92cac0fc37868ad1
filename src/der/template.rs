//! The faithful decoder: `d2i_SSL_SESSION_ASN1`, template by template.

use super::ber::*;
use super::error::{asn1, DecodeError};
use super::fields::{Tagging, Template, Ty, SESSION};
use super::session::Decoded;
use super::x509::x509;

pub(super) fn asn1_err(reason: i32, nested: bool) -> DecodeError {
    DecodeError::Asn1 { reason, nested }
}

/// Template `t` of `SSL_SESSION_ASN1` on window `w`. `Ok(None)`: absent.
fn session_template<'a>(
    t: &Template,
    w: &'a [u8],
    opt: bool,
    a: &mut Decoded<'a>,
) -> Result<Option<usize>, DecodeError> {
    let nested = |e: i32| asn1_err(e, true);
    let wrap = |e: (i32, bool)| asn1_err(e.0, e.1);
    let used = match (t.tagging, t.ty) {
        (Tagging::Plain, Ty::Int(kind, _)) => int(w, TAG_INTEGER, UNIVERSAL, opt, kind)
            .map_err(nested)?
            .map(|(v, used)| {
                a.set_int(t.field, v);
                used
            }),
        (Tagging::Plain, Ty::Octets) => string(w, TAG_OCTET_STRING, UNIVERSAL, opt)
            .map_err(nested)?
            .map(|(v, used)| {
                a.set_bytes(t.field, v);
                used
            }),
        (Tagging::Implicit(n), _) => {
            string(w, n, CONTEXT, opt)
                .map_err(nested)?
                .map(|(v, used)| {
                    a.set_bytes(t.field, v);
                    used
                })
        }
        (Tagging::Explicit(n), Ty::Int(kind, _)) => explicit(w, n, opt, |c| {
            int(c, TAG_INTEGER, UNIVERSAL, false, kind).map(req)
        })
        .map_err(wrap)?
        .map(|(v, used)| {
            a.set_int(t.field, v);
            used
        }),
        (Tagging::Explicit(n), Ty::Octets) => explicit(w, n, opt, |c| {
            string(c, TAG_OCTET_STRING, UNIVERSAL, false).map(req)
        })
        .map_err(wrap)?
        .map(|(v, used)| {
            a.set_bytes(t.field, v);
            used
        }),
        (Tagging::Explicit(n), Ty::Cert) => {
            explicit(w, n, opt, x509)
                .map_err(wrap)?
                .map(|(cert, used)| {
                    a.peer = Some(cert);
                    used
                })
        }
        (Tagging::Plain, Ty::Cert) => unreachable!("fields.rs rules out a plain certificate"),
    };
    Ok(used)
}

/// `d2i_SSL_SESSION_ASN1`: the template decode of the outer SEQUENCE, into `a` (fresh from
/// `Decoded::default()`); sets `a.consumed`.
pub(super) fn decode_asn1<'a>(input: &'a [u8], a: &mut Decoded<'a>) -> Result<(), DecodeError> {
    if input.is_empty() {
        return Err(asn1_err(asn1::TOO_SMALL, false));
    }
    let h = req(expect(input, TAG_SEQUENCE, UNIVERSAL, false).map_err(|e| asn1_err(e, true))?);
    if !h.cons {
        return Err(asn1_err(asn1::SEQUENCE_NOT_CONSTRUCTED, false));
    }
    let top = |e: i32| asn1_err(e, false);
    let mut s = Seq {
        b: input,
        p: h.hlen,
        end: h.hlen + h.len,
        eoc: h.inf,
        nolen: h.inf,
        done: false,
    };
    for (i, t) in SESSION.iter().enumerate() {
        let optional = t.tagging != Tagging::Plain;
        let Some(w) = s.field(optional).map_err(top)? else {
            continue;
        };
        // The last template cannot be omitted while data is left (tasn_dec.c).
        let isopt = optional && i != SESSION.len() - 1;
        if let Some(used) = session_template(t, w, isopt, a)? {
            s.advance(used);
        }
    }
    a.consumed = s.finish().map_err(top)?;
    Ok(())
}

//! The faithful decoder: `d2i_SSL_SESSION_ASN1`, template by template.

use super::ber::*;
use super::error::{asn1, DecodeError};
use super::session::Decoded;
use super::x509::x509;
use std::borrow::Cow;

pub(super) const N_TEMPLATES: usize = 25;

pub(super) fn asn1_err(reason: i32, nested: bool) -> DecodeError {
    DecodeError::Asn1 { reason, nested }
}

/// One template of `SSL_SESSION_ASN1` at index `i` on window `w`. `Ok(None)`: absent.
pub(super) fn session_template<'a>(
    i: usize,
    w: &'a [u8],
    opt: bool,
    a: &mut Decoded<'a>,
) -> Result<Option<usize>, DecodeError> {
    let nested = |e: i32| asn1_err(e, true);
    let wrap = |e: (i32, bool)| asn1_err(e.0, e.1);
    // Plain (untagged) elements.
    match i {
        0 | 1 => {
            let kind = if i == 0 {
                IntKind::Uint32
            } else {
                IntKind::Int32
            };
            let r = int(w, TAG_INTEGER, UNIVERSAL, opt, kind).map_err(nested)?;
            return Ok(r.map(|(v, used)| {
                if i == 0 {
                    a.version = v as u32;
                } else {
                    a.ssl_version = v as u32 as i32;
                }
                used
            }));
        }
        2..=4 => {
            let r = string(w, TAG_OCTET_STRING, UNIVERSAL, opt).map_err(nested)?;
            return Ok(r.map(|(v, used)| {
                match i {
                    2 => a.cipher_code = v,
                    3 => a.session_id = v,
                    _ => a.master_key = v,
                }
                used
            }));
        }
        5 => {
            // key_arg [0] IMPLICIT OCTET STRING OPTIONAL: read and ignored.
            let r = string(w, 0, CONTEXT, opt).map_err(nested)?;
            return Ok(r.map(|(_, used)| used));
        }
        _ => {}
    }
    // [n] EXPLICIT elements, n = i - 5.
    let n = (i - 5) as u32;
    if let Some(kind) = explicit_int_kind(n) {
        let r = explicit(w, n, opt, |c| {
            int(c, TAG_INTEGER, UNIVERSAL, false, kind).map(req)
        })
        .map_err(wrap)?;
        return Ok(r.map(|(v, used)| {
            a.set_int(n, v);
            used
        }));
    }
    if n == 3 {
        let r = explicit(w, 3, opt, x509).map_err(wrap)?;
        return Ok(r.map(|(cert, used)| {
            a.peer = Some(cert);
            used
        }));
    }
    let r = explicit(w, n, opt, |c| {
        string(c, TAG_OCTET_STRING, UNIVERSAL, false).map(req)
    })
    .map_err(wrap)?;
    Ok(r.map(|(v, used)| {
        *a.string_slot(n) = Some(v);
        used
    }))
}

/// The INTEGER type of the `[n] EXPLICIT` element `n`; `None` for `[3]` (the certificate)
/// and the OCTET STRING ones. Shared by the template decoder and the fast path.
#[inline(always)]
pub(super) fn explicit_int_kind(n: u32) -> Option<IntKind> {
    match n {
        1 | 2 => Some(IntKind::Int64),
        5 => Some(IntKind::Int32),
        9 | 13 => Some(IntKind::Uint64),
        14 | 15 | 17 | 19 => Some(IntKind::Uint32),
        _ => None,
    }
}

impl<'a> Decoded<'a> {
    /// Store the INTEGER of `[n] EXPLICIT` (`explicit_int_kind(n)` is `Some`).
    #[inline(always)]
    pub(super) fn set_int(&mut self, n: u32, v: u64) {
        match n {
            1 => self.time = v as i64,
            2 => self.timeout = v as i64,
            5 => self.verify_result = v as u32 as i32,
            9 => self.tick_lifetime_hint = v,
            13 => self.flags = v,
            14 => self.tick_age_add = v as u32,
            15 => self.max_early_data = v as u32,
            17 => self.max_fragment_len_mode = v as u32,
            _ => self.kex_group = v as u32,
        }
    }

    /// Where the OCTET STRING of `[n] EXPLICIT` goes (`n` is 4, 6-8, 10-12, 16 or 18).
    #[inline(always)]
    pub(super) fn string_slot(&mut self, n: u32) -> &mut Option<Cow<'a, [u8]>> {
        match n {
            4 => &mut self.sid_ctx,
            6 => &mut self.hostname,
            7 => &mut self.psk_identity_hint,
            8 => &mut self.psk_identity,
            10 => &mut self.ticket,
            11 => &mut self.comp_id,
            12 => &mut self.srp_username,
            16 => &mut self.alpn_selected,
            _ => &mut self.ticket_appdata,
        }
    }
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
    for i in 0..N_TEMPLATES {
        let optional = i >= 5;
        let Some(w) = s.field(optional).map_err(top)? else {
            continue;
        };
        // The last template cannot be omitted while data is left (tasn_dec.c).
        let isopt = optional && i != N_TEMPLATES - 1;
        if let Some(used) = session_template(i, w, isopt, a)? {
            s.advance(used);
        }
    }
    a.consumed = s.finish().map_err(top)?;
    Ok(())
}

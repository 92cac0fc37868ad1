//! The fast path for canonical DER.
//!
//! What i2d writes (ours and libssl's) is plain DER: one definite, minimal length per element,
//! low tag numbers, the elements in template order. `decode_fast_inner` reads exactly that
//! shape in one pass, with no backtracking, and gives up on anything else (a shape it does not
//! know, or any error), so that the template decoder `decode_asn1` (the line-by-line port of
//! tasn_dec.c in `template.rs`) handles every unusual input *and every template error* from
//! scratch. It is only ever a shortcut to the `Decoded` the template decoder would build; both
//! then go through the same `check`.

use super::ber::*;
use super::fields::{tagged, Tagging, Ty, BY_TAG, MAX_TAG, N_PLAIN, SESSION};
use super::session::Decoded;
use super::x509::x509;
use std::borrow::Cow;

// Why the accepted set and the values are the template decoder's. Write `w` for the window
// `b[p..end]` that `Seq::field` hands the template at position `p`: the fast path's `w` is that
// same slice (the rest of the outer SEQUENCE's content, or of an explicit wrapper's).
//
// 1. Headers (`fast_tlv`). The fast path accepts an identifier byte only from a fixed list of
//    low-tag-number bytes (0x30, 0x02, 0x04, and per tag number n the one `BY_TAG` gives:
//    0x80|n for `[n] IMPLICIT`, 0xA0|n for `[n] EXPLICIT`, n < 31; never 0x1F-form, never 0x00,
//    so never an end-of-contents), followed by a length in minimal definite form: one byte
//    < 0x80, or 0x81 + one byte >= 0x80, or 0x82 + two bytes >= 0x100, with the content
//    inside the window. On such a window `header` takes the same branches: no high-tag loop;
//    the window has the 2 bytes it requires; a long form has no leading zeros, and since its
//    length is >= 0x80 and fits, the byte `header` wants after the length octets exists; the
//    length is below `avail` so there is no TOO_LONG; `inf` is false. It returns the same tag,
//    class (bits 7-6), constructed bit (bit 5), header length and length.
// 2. Skipped templates. An optional template whose tag differs from the element's parses the
//    same header (pure function of `w`, which does not change while nothing is consumed),
//    finds a different (tag, class) and yields `None`, consuming nothing. The fast path
//    requires the element's template to come strictly after the previous element's (its tag
//    number must exceed the previous one's; `fields.rs` checks at compile time that the
//    tagged templates follow the plain ones with strictly increasing tag numbers): the
//    templates between are then optional (all tagged ones are; the plain, required ones are
//    read in order, one element each) and each has a (tag, class) different from the
//    element's (no two tagged templates share a tag number). A tag that is repeated, out of
//    order, or matches no template (or not with the identifier byte `BY_TAG` gives it) makes
//    the fast path give up.
// 3. The element's template reads the same value:
//    - INTEGER (0x02, primitive): `int` checks the tag, the primitive bit, then `c2i_int` on
//      the content; the fast path calls the same `c2i_int` on the same bytes (an error gives
//      up). OCTET STRING (0x04, primitive): `string` borrows the content; so does the fast
//      path. `[n] IMPLICIT` (0x80|n, primitive): `string` borrows the content; so does the
//      fast path (`Decoded::set_bytes` then drops key_arg for both).
//    - `[n] EXPLICIT` (0xA0|n, constructed, definite): `explicit` runs the inner decoder on the
//      content window `c` and requires it to use all of `c` (EXPLICIT_LENGTH_MISMATCH
//      otherwise). The fast path requires one inner INTEGER (0x02) or OCTET STRING (0x04), by
//      the template's `Ty` in `SESSION` as the template decoder chooses, whose TLV ends exactly
//      at the end of `c` (1. applies to the inner header on window `c`); the value goes where
//      `Decoded::set_int` / `set_bytes` put it for both.
//    - The certificate (`Ty::Cert`, `[3]`): the fast path makes the very call its template
//      makes on the same window, `explicit(w, 3, true, x509)`, and gives up unless it returns
//      a value. The templates skipped before it see the header that call parses (2. holds for
//      any header `header` accepts, and if it refuses the fast path gives up).
// 4. The end. The loop stops exactly at the end of the outer SEQUENCE (each element's content
//    is inside the window, so `p` never passes `end`). Then every remaining template sees
//    `p == end`, `Seq::field` marks the sequence done and, all of them being optional (the
//    last one's "not optional while data is left" needs data), yields `None`; `finish` finds
//    `p == end` (definite length). `consumed` is the outer TLV's length, as `finish` returns.
//
// So on every input the fast path accepts, `decode_asn1` fills in the same `Decoded`
// (values, and borrowed/owned alike, `consumed` included); `check` is then the same code on the
// same data. The unit tests (every `decode` in them, and
// `fast_path_matches_template_decoder_on_random_sessions`) and `tests/der_corpus.rs` (corpus,
// mutants, `DER_EXTRA`) run every input they build through `decode_cross_checked`, which
// compares the fast path with `decode_asn1`, and `decode_into` with the template decoder then
// `check`.

/// The element at the start of window `w` when its length is in minimal definite form
/// (see 1. above): (identifier byte, content, the rest of `w`).
#[inline(always)]
pub(super) fn fast_tlv(w: &[u8]) -> Option<(u8, &[u8], &[u8])> {
    let (&id, r) = w.split_first()?;
    let (&lb, r) = r.split_first()?;
    let (len, r) = match lb {
        0..=0x7F => (usize::from(lb), r),
        0x81 => match r {
            [l @ 0x80..=0xFF, r @ ..] => (usize::from(*l), r),
            _ => return None,
        },
        0x82 => match r {
            [h @ 0x01..=0xFF, l, r @ ..] => (usize::from(*h) << 8 | usize::from(*l), r),
            _ => return None,
        },
        _ => return None,
    };
    if len > r.len() {
        return None;
    }
    let (c, rest) = r.split_at(len);
    Some((id, c, rest))
}

/// A primitive element with identifier byte `id` at the start of `w`: (content, rest of `w`).
#[inline(always)]
pub(super) fn fast_prim(w: &[u8], id: u8) -> Option<(&[u8], &[u8])> {
    match fast_tlv(w)? {
        (i, c, rest) if i == id => Some((c, rest)),
        _ => None,
    }
}

#[inline(never)]
pub(super) fn decode_fast_inner<'a>(input: &'a [u8], a: &mut Decoded<'a>) -> Option<()> {
    let (body, rest) = fast_prim(input, 0x30)?;
    // The required (plain) templates, in order, one element each.
    const _: () = assert!(N_PLAIN == 5, "one fast_plain call per plain template");
    let w = fast_plain::<0>(a, body)?;
    let w = fast_plain::<1>(a, w)?;
    let w = fast_plain::<2>(a, w)?;
    let w = fast_plain::<3>(a, w)?;
    let mut w = fast_plain::<4>(a, w)?;
    // The tagged ones: template order is tag-number order (fields.rs checks it), so each
    // element's tag number must be above the previous one's, and its identifier byte the one
    // the table gives that tag.
    let mut next = 0u8;
    while let Some(&id) = w.first() {
        let n = id & 0x1F;
        if n < next || u32::from(n) > MAX_TAG || id != BY_TAG[usize::from(n)].1 {
            return None;
        }
        next = n + 1;
        // One arm per tag, so that each `fast_tagged::<N>` is compiled for its own field.
        w = match n {
            0 => fast_tagged::<0>(a, w),
            1 => fast_tagged::<1>(a, w),
            2 => fast_tagged::<2>(a, w),
            3 => fast_tagged::<3>(a, w),
            4 => fast_tagged::<4>(a, w),
            5 => fast_tagged::<5>(a, w),
            6 => fast_tagged::<6>(a, w),
            7 => fast_tagged::<7>(a, w),
            8 => fast_tagged::<8>(a, w),
            9 => fast_tagged::<9>(a, w),
            10 => fast_tagged::<10>(a, w),
            11 => fast_tagged::<11>(a, w),
            12 => fast_tagged::<12>(a, w),
            13 => fast_tagged::<13>(a, w),
            14 => fast_tagged::<14>(a, w),
            15 => fast_tagged::<15>(a, w),
            16 => fast_tagged::<16>(a, w),
            17 => fast_tagged::<17>(a, w),
            18 => fast_tagged::<18>(a, w),
            19 => fast_tagged::<19>(a, w),
            // A tag added to the table without an arm here: the template decoder reads it.
            _ => None,
        }?;
    }
    a.consumed = input.len() - rest.len();
    Some(())
}

/// The plain template `SESSION[I]` at the start of `w`: a primitive INTEGER (0x02) or OCTET
/// STRING (0x04) as the table says, stored where the template decoder stores it. Returns
/// the rest of `w`.
#[inline(always)]
fn fast_plain<'a, const I: usize>(a: &mut Decoded<'a>, w: &'a [u8]) -> Option<&'a [u8]> {
    let t = const { SESSION[I] };
    match t.ty {
        Ty::Int(kind, _) => {
            let (c, w) = fast_prim(w, 0x02)?;
            a.set_int(t.field, c2i_int(c, kind).ok()?);
            Some(w)
        }
        Ty::Octets => {
            let (c, w) = fast_prim(w, 0x04)?;
            a.set_bytes(t.field, Cow::Borrowed(c));
            Some(w)
        }
        Ty::Cert => None,
    }
}

/// An `[n] EXPLICIT` element at the start of `w` whose content is exactly one element, both
/// in minimal definite form: (inner identifier byte, inner content, the rest of `w`). What
/// `fast_tlv` on `w`, then on the outer content, requiring nothing after the inner element,
/// gives; with both lengths short (the usual case) that is one comparison: the outer length
/// is the inner length + 2.
#[inline(always)]
pub(super) fn fast_explicit_tlv(w: &[u8]) -> Option<(u8, &[u8], &[u8])> {
    if let [_, outer @ 2..=0x7F, inner, len, ..] = *w {
        let outer = usize::from(outer);
        if usize::from(len) + 2 == outer && outer + 2 <= w.len() {
            return Some((inner, &w[4..outer + 2], &w[outer + 2..]));
        }
    }
    let (_, c, rest) = fast_tlv(w)?;
    match fast_tlv(c)? {
        (inner, c, []) => Some((inner, c, rest)),
        _ => None,
    }
}

/// The template with tag number `N` at the start of `w` (whose identifier byte is the one
/// `BY_TAG` gives), stored where the template decoder stores it. `[N] IMPLICIT`: one
/// primitive element. `[N] EXPLICIT` INTEGER or OCTET STRING: `fast_explicit_tlv`, the
/// inner identifier byte as the table says. The certificate: the very call the template
/// decoder makes, `explicit(w, N, true, x509)`, which must return a value. Returns the
/// rest of `w`.
#[inline(always)]
pub(super) fn fast_tagged<'a, const N: u32>(a: &mut Decoded<'a>, w: &'a [u8]) -> Option<&'a [u8]> {
    let t = const { tagged(N) };
    match (t.tagging, t.ty) {
        (Tagging::Implicit(_), _) => {
            let (_, c, rest) = fast_tlv(w)?;
            a.set_bytes(t.field, Cow::Borrowed(c));
            Some(rest)
        }
        (_, Ty::Cert) => {
            let (cert, used) = explicit(w, N, true, x509).ok()??;
            a.peer = Some(cert);
            Some(&w[used..])
        }
        (_, Ty::Int(kind, _)) => {
            let (inner, c, rest) = fast_explicit_tlv(w)?;
            if inner != 0x02 {
                return None;
            }
            a.set_int(t.field, c2i_int(c, kind).ok()?);
            Some(rest)
        }
        (_, Ty::Octets) => {
            let (inner, c, rest) = fast_explicit_tlv(w)?;
            if inner != 0x04 {
                return None;
            }
            a.set_bytes(t.field, Cow::Borrowed(c));
            Some(rest)
        }
    }
}

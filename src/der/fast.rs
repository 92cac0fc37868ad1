//! The fast path for canonical DER.

use super::ber::*;
use super::session::Decoded;
use super::template::explicit_int_kind;
use super::x509::x509;
use std::borrow::Cow;

//
// What i2d writes (ours and libssl's) is plain DER: one definite, minimal length per element,
// low tag numbers, the elements in template order. `decode_fast_asn1` reads exactly that shape
// in one pass, with no backtracking, and gives up on anything else (a shape it does not know,
// or any error), so that the template decoder `decode_asn1` (the line-by-line port of
// tasn_dec.c above) handles every unusual input *and every template error* from scratch. It is
// only ever a shortcut to the `Decoded` the template decoder would build; both then go through
// the same `check`.
//
// Why the accepted set and the values are the template decoder's. Write `w` for the window
// `b[p..end]` that `Seq::field` hands the template at position `p`: the fast path's `w` is that
// same slice (the rest of the outer SEQUENCE's content, or of an explicit wrapper's).
//
// 1. Headers (`fast_tlv`). The fast path accepts an identifier byte only from a fixed list of
//    low-tag-number bytes (0x30, 0x02, 0x04, 0x80, 0xA1..=0xB3; never 0x1F-form, never 0x00,
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
//    requires the element's template to come strictly after the previous element's (its
//    `key`, the identifier byte with 0x80 counted as 0xA0, grows with the template): the
//    templates between are then optional (all of 5..=23 are; the required 0..=4 are read in
//    order, one element each) and each has a (tag, class) different from the element's (the
//    pairs of templates 5..=24 are pairwise distinct: [0] IMPLICIT, then [1]..[19]). A tag
//    that is repeated, out of order, or matches no template makes the fast path give up.
// 3. The element's template reads the same value:
//    - INTEGER (0x02, primitive): `int` checks the tag, the primitive bit, then `c2i_int` on
//      the content; the fast path calls the same `c2i_int` on the same bytes (an error gives
//      up). OCTET STRING (0x04, primitive): `string` borrows the content; so does the fast
//      path. `[0] IMPLICIT` (0x80, primitive): read and ignored by both.
//    - `[n] EXPLICIT` (0xA0|n, constructed, definite): `explicit` runs the inner decoder on the
//      content window `c` and requires it to use all of `c` (EXPLICIT_LENGTH_MISMATCH
//      otherwise). The fast path requires one inner INTEGER (0x02) or OCTET STRING (0x04), by
//      `explicit_int_kind(n)` as the template decoder chooses, whose TLV ends exactly at the
//      end of `c` (1. applies to the inner header on window `c`); the value goes where
//      `Decoded::set_int` / `string_slot` put it for both.
//    - `[3]` (the certificate): the fast path makes the very call template 8 makes on the
//      same window, `explicit(w, 3, true, x509)`, and gives up unless it returns a value. The
//      templates skipped before it see the header that call parses (2. holds for any header
//      `header` accepts, and if it refuses the fast path gives up).
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
// mutants, `DER_EXTRA`) compare `decode_fast_asn1` with `decode_asn1`, and `decode` with
// `decode_faithful`, on every input they build.

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

/// The template decode of a canonical-DER session (see above) into `a` (fresh from
/// `Decoded::default()`), setting `a.consumed`. False when the input is not in the shape it
/// reads; `a` may then be partly filled.
#[doc(hidden)]
pub fn decode_fast_asn1<'a>(input: &'a [u8], a: &mut Decoded<'a>) -> bool {
    decode_fast_inner(input, a).is_some()
}

#[inline(never)]
pub(super) fn decode_fast_inner<'a>(input: &'a [u8], a: &mut Decoded<'a>) -> Option<()> {
    #[inline(always)]
    fn int(c: &[u8], kind: IntKind) -> Option<u64> {
        c2i_int(c, kind).ok()
    }
    let (body, rest) = fast_prim(input, 0x30)?;
    // The five required templates, in order.
    let (c, w) = fast_prim(body, 0x02)?;
    a.version = int(c, IntKind::Uint32)? as u32;
    let (c, w) = fast_prim(w, 0x02)?;
    a.ssl_version = int(c, IntKind::Int32)? as u32 as i32;
    let (c, w) = fast_prim(w, 0x04)?;
    a.cipher_code = Cow::Borrowed(c);
    let (c, w) = fast_prim(w, 0x04)?;
    a.session_id = Cow::Borrowed(c);
    let (c, mut w) = fast_prim(w, 0x04)?;
    a.master_key = Cow::Borrowed(c);
    // The optional ones: template 5 is [0] IMPLICIT (0x80), template 5 + n is [n] EXPLICIT
    // (0xA0 | n). With 0x80 counted as 0xA0, template order is identifier order, so the next
    // one must have a greater `key` than the last one (0x9F: none yet), and at most 0xB3.
    let mut last = 0x9Fu8;
    while let Some(&id) = w.first() {
        let key = if id == 0x80 { 0xA0 } else { id };
        if id == 0xA0 || key <= last || key > 0xB3 {
            return None;
        }
        last = key;
        // One arm per tag, so that each `fast_explicit::<N>` is compiled for its own field.
        w = match key & 0x1F {
            0 => fast_tlv(w).map(|(_, _, rest)| rest), // key_arg: read and ignored
            3 => {
                let (cert, used) = explicit(w, 3, true, x509).ok()??;
                a.peer = Some(cert);
                Some(&w[used..])
            }
            1 => fast_explicit::<1>(a, w),
            2 => fast_explicit::<2>(a, w),
            4 => fast_explicit::<4>(a, w),
            5 => fast_explicit::<5>(a, w),
            6 => fast_explicit::<6>(a, w),
            7 => fast_explicit::<7>(a, w),
            8 => fast_explicit::<8>(a, w),
            9 => fast_explicit::<9>(a, w),
            10 => fast_explicit::<10>(a, w),
            11 => fast_explicit::<11>(a, w),
            12 => fast_explicit::<12>(a, w),
            13 => fast_explicit::<13>(a, w),
            14 => fast_explicit::<14>(a, w),
            15 => fast_explicit::<15>(a, w),
            16 => fast_explicit::<16>(a, w),
            17 => fast_explicit::<17>(a, w),
            18 => fast_explicit::<18>(a, w),
            _ => fast_explicit::<19>(a, w), // key is 0xB3
        }?;
    }
    a.consumed = input.len() - rest.len();
    Some(())
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

/// The `[N] EXPLICIT` element at the start of `w` (`fast_explicit_tlv`), whose inner element
/// is an INTEGER or an OCTET STRING as `explicit_int_kind(N)` says, stored where `set_int` /
/// `string_slot` put it, exactly as for the template decoder. Returns the rest of `w`.
#[inline(always)]
pub(super) fn fast_explicit<'a, const N: u32>(
    a: &mut Decoded<'a>,
    w: &'a [u8],
) -> Option<&'a [u8]> {
    let (inner, c, rest) = fast_explicit_tlv(w)?;
    match explicit_int_kind(N) {
        Some(kind) if inner == 0x02 => a.set_int(N, c2i_int(c, kind).ok()?),
        None if inner == 0x04 => *a.string_slot(N) = Some(Cow::Borrowed(c)),
        _ => return None,
    }
    Some(rest)
}

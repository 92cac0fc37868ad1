//! The canonical-DER fast path against the template decoder.

use super::super::fields::{tagged, Ty, MAX_TAG};
use super::*;

/// The INTEGER type of the field tagged `[t]`, as the table says (`None`: not an INTEGER,
/// or no such tag).
fn int_kind_of(t: u32) -> Option<IntKind> {
    match (t <= MAX_TAG).then(|| tagged(t).ty) {
        Some(Ty::Int(kind, _)) => Some(kind),
        _ => None,
    }
}

// --- the canonical-DER fast path (every `decode` in tests/mod.rs is also checked against the
// template decoder; these make sure both paths are really exercised)

#[test]
fn fast_path_takes_what_i2d_writes() {
    for hex in [SEED_S1, SEED_S2, SEED_S3, SEED_G1, SEED_G2, SEED_G3] {
        let input = at_1301(&unhex(hex));
        assert!(fast(&input), "{hex}");
        let s = ok(&input);
        assert!(fast(&reenc(&s)));
    }
    // Long-form lengths (0x81, 0x82) inside and outside.
    for n in [0, 1, 127, 128, 255, 256, 300, 4000] {
        let input = sess(&[exp(10, &oct(&vec![0x5A; n])), exp(16, &oct(b"h2"))]);
        assert!(fast(&input), "{n}");
        assert_eq!(ok(&input).ticket_len(), n);
    }
    // [0] IMPLICIT key_arg, read and ignored by both.
    let input = with(1, 0x0303, &[0x13, 1], &[], &[], &[tlv(0x80, &[1, 2])]);
    assert!(fast(&input));
    ok(&input);
    // Trailing bytes are not consumed on either path.
    let mut input = sess(&[exp(1, &int(5))]);
    let n = input.len();
    input.extend_from_slice(&[0x30, 0x00]);
    assert!(fast(&input));
    assert_eq!(decode(&input).unwrap().consumed, n);
}

#[test]
fn fast_path_leaves_ber_and_errors_to_the_template_decoder() {
    let base = sess(&[exp(1, &int(5))]);
    let body = &base[2..];
    let not_fast = [
        [&[0x30, 0x80][..], body, &[0, 0]].concat(), // indefinite
        [&[0x30, 0x81, body.len() as u8][..], body].concat(), // non-minimal length
        sess(&[[&[0xBF, 0x01, 0x03][..], &int(7)].concat()]), // high-tag form of [1]
        sess(&[exp(6, &tlv(0x24, &oct(b"ab")))]),    // segmented string
        sess(&[exp(1, &[int(5), int(6)].concat())]), // explicit length mismatch
        sess(&[exp(2, &int(5)), exp(1, &int(5))]),   // out of order
        sess(&[exp(1, &int(5)), exp(1, &int(5))]),   // repeated
        sess(&[exp(20, &oct(b""))]),                 // unknown tag
        sess(&[tlv(0x81, &int(5))]),                 // primitive [1]
        sess(&[exp(1, &tlv(0x02, &[0, 5]))]),        // non-minimal INTEGER
        sess(&[exp(9, &int(-1))]),                   // negative UINT64
        sess(&[exp(1, &[])]),                        // empty explicit
        sess(&[exp(1, &int(5)), vec![0, 0]]),        // end-of-contents inside
        seq(&[int(1), int(0x0303), oct(&[0x13, 1]), oct(&[])]), // field missing
        vec![0x30, 0x10, 2, 1, 1],                   // too long
        vec![],
    ];
    for input in not_fast {
        assert!(!fast(&input), "{input:02X?}");
        let _ = decode(&input); // and both agree
    }
    // What the checks after the template decode refuse, the fast path reads and the
    // same checks refuse.
    for input in [
        with(2, 0x0303, &[0x13, 1], &[], &[], &[]),
        with(1, 0x0200, &[0x13, 1], &[], &[], &[]),
        with(1, 0x0303, &[0x13], &[], &[], &[]),
        with(1, 0x0303, &[0xFF, 0xFF], &[], &[], &[]),
        with(1, 0x0303, &[0x13, 1], &[0; 33], &[], &[]),
        with(1, 0x0303, &[0x13, 1], &[], &[0; 513], &[]),
        with(1, 0x0303, &[0x13, 1], &[], &[], &[exp(4, &oct(&[0; 33]))]),
        with(1, 0x0303, &[0x13, 1], &[], &[], &[exp(11, &oct(&[1, 1]))]),
    ] {
        assert!(fast(&input));
        assert!(decode(&input).is_err());
    }
}

/// Random sessions built element by element: canonical most of the time, with the shapes
/// the fast path must refuse mixed in, then byte-level mutations. Every one goes through
/// the checking `decode`. `DER_FAST_ITERS` sets the count (default 20000).
#[test]
fn fast_path_matches_template_decoder_on_random_sessions() {
    let iters: usize = std::env::var("DER_FAST_ITERS")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(20_000);
    let mut seed = 0x2545_F491_4F6C_DD1Du64
        ^ std::env::var("DER_FAST_SEED")
            .ok()
            .and_then(|s| s.parse().ok())
            .unwrap_or(0);
    let mut rnd = move || {
        seed ^= seed << 13;
        seed ^= seed >> 7;
        seed ^= seed << 17;
        seed
    };
    let mut below = |n: usize| (rnd() % n as u64) as usize;
    let (mut n_fast, mut n_ok) = (0, 0);
    for _ in 0..iters {
        let input = random_session(&mut below);
        let r = decode(&input);
        n_fast += usize::from(fast(&input));
        n_ok += usize::from(r.is_ok());
    }
    eprintln!("{iters} random sessions: fast path {n_fast}, accepted {n_ok}");
    // Both paths must really have been exercised.
    assert!(
        n_fast > iters / 4 && n_fast < iters,
        "fast {n_fast} of {iters}"
    );
    assert!(n_ok > iters / 8, "accepted {n_ok} of {iters}");
}

fn random_session(below: &mut impl FnMut(usize) -> usize) -> Vec<u8> {
    let mut b = |n: usize| below(n);
    let bytes = |b: &mut dyn FnMut(usize) -> usize, n: usize| -> Vec<u8> {
        (0..n).map(|_| b(256) as u8).collect()
    };
    // A length that crosses the short/long-form boundaries now and then.
    let len = |b: &mut dyn FnMut(usize) -> usize, max: usize| -> usize {
        match b(8) {
            0 => [0, 1, 32, 33, 48, 127, 128, 255, 256, 512, 513][b(11)].min(max),
            _ => b(max.min(64) + 1),
        }
    };
    // An INTEGER content: usually a minimal value of some size (in range for `kind`
    // three times out of four), sometimes raw bytes.
    let int_content = |b: &mut dyn FnMut(usize) -> usize, kind: IntKind| -> Vec<u8> {
        if b(20) == 0 {
            let n = b(11);
            return bytes(b, n);
        }
        let v: i128 = match b(6) {
            0 => b(3) as i128,
            1 => -(b(300) as i128),
            2 => (b(1 << 16) as i128) << (8 * b(8)),
            3 => {
                [
                    i64::MAX as i128,
                    u64::MAX as i128,
                    i32::MAX as i128,
                    u32::MAX as i128,
                ][b(4)]
                    + b(3) as i128
                    - 1
            }
            4 => [i64::MIN as i128, i32::MIN as i128][b(2)] - b(2) as i128,
            _ => b(100_000) as i128,
        };
        let v = if b(4) == 0 {
            v
        } else {
            match kind {
                IntKind::Int32 => i128::from(v as i32),
                IntKind::Uint32 => i128::from(v as u32),
                IntKind::Int64 => i128::from(v as i64),
                IntKind::Uint64 => i128::from(v as u64),
            }
        };
        int(v)[2..].to_vec()
    };
    let mut parts = vec![
        tlv(
            0x02,
            &if b(20) == 0 {
                int_content(&mut b, IntKind::Uint32)
            } else {
                vec![1]
            },
        ),
        tlv(
            0x02,
            &match b(10) {
                0 => int_content(&mut b, IntKind::Int32),
                1 => int(0xFEFF)[2..].to_vec(),
                2 => int(0x0100)[2..].to_vec(),
                _ => int(0x0301 + b(4) as i128)[2..].to_vec(),
            },
        ),
        oct(&match b(12) {
            0 => {
                let n = b(4);
                bytes(&mut b, n)
            }
            1 => vec![0xFF, 0xFE],
            2 => vec![0x00, 0x2F],
            3 => vec![0xC0, 0x2F],
            _ => vec![0x13, 1 + b(3) as u8],
        }),
    ];
    let n = len(&mut b, 33);
    parts.push(oct(&bytes(&mut b, n)));
    let n = len(&mut b, 513);
    parts.push(oct(&bytes(&mut b, n)));
    if b(10) == 0 {
        let n = b(20);
        parts.push(tlv(0x80, &bytes(&mut b, n)));
    }
    for t in 1..=20u32 {
        if b(3) != 0 || (t == 20 && b(10) != 0) {
            continue;
        }
        let inner = if t == 3 {
            if b(4) != 0 {
                continue;
            }
            let s1 = at_1301(&unhex(SEED_S1));
            let cert = super::decode(&s1).unwrap().peer.unwrap().into_owned();
            cert
        } else if let Some(kind) = int_kind_of(t) {
            tlv(0x02, &int_content(&mut b, kind))
        } else {
            let n = if t == 11 { b(3) } else { len(&mut b, 300) };
            oct(&bytes(&mut b, n))
        };
        parts.push(exp(t as u8, &inner));
    }
    // Shapes the fast path must refuse, now and then.
    match b(12) {
        0 if parts.len() > 5 => {
            let i = 5 + b(parts.len() - 5);
            let j = 5 + b(parts.len() - 5);
            parts.swap(i, j);
        }
        1 if parts.len() > 5 => {
            let i = 5 + b(parts.len() - 5);
            let dup = parts[i].clone();
            parts.insert(i, dup);
        }
        2 if !parts.is_empty() => {
            parts.remove(b(parts.len()));
        }
        _ => {}
    }
    let mut v = seq(&parts);
    // Byte-level mutations on some of them.
    if b(4) == 0 {
        for _ in 0..1 + b(3) {
            let i = b(v.len());
            match b(6) {
                0 => v[i] = b(256) as u8,
                1 => v[i] ^= 1 << b(8),
                2 => v.truncate(i),
                3 => v.insert(i, b(256) as u8),
                4 => v[i] = [0x00, 0x80, 0x81, 0x82, 0x1F, 0x24, 0xA0][b(7)],
                _ => v.extend_from_slice(&[0, 0]),
            }
            if v.is_empty() {
                break;
            }
        }
    }
    v
}

/// The short-length shortcut of `fast_explicit_tlv` against the general formulation,
/// on every window of up to 6 bytes over a set of boundary bytes, then random ones.
#[test]
fn fast_explicit_tlv_is_two_fast_tlvs() {
    fn general(w: &[u8]) -> Option<(u8, &[u8], &[u8])> {
        let (_, c, rest) = fast_tlv(w)?;
        match fast_tlv(c)? {
            (inner, c, []) => Some((inner, c, rest)),
            _ => None,
        }
    }
    let set = [0u8, 1, 2, 3, 4, 5, 0x7E, 0x7F, 0x80, 0x81, 0x82, 0xA1, 0xFF];
    let mut w = Vec::new();
    for len in 0..=6u32 {
        for mut k in 0..set.len().pow(len) {
            w.clear();
            for _ in 0..len {
                w.push(set[k % set.len()]);
                k /= set.len();
            }
            assert_eq!(fast_explicit_tlv(&w), general(&w), "{w:02X?}");
        }
    }
    let mut x = 0x9E37_79B9_7F4A_7C15u64;
    for _ in 0..200_000 {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        let n = (x % 300) as usize;
        let mut w: Vec<u8> = (0..n).map(|i| (x >> (i % 57)) as u8).collect();
        if n >= 4 {
            w[1] = (x >> 8) as u8 & 0x7F;
            w[3] = w[1].wrapping_sub(2 + (x >> 16) as u8 % 2);
        }
        assert_eq!(fast_explicit_tlv(&w), general(&w), "{w:02X?}");
    }
}

/// The INTEGER reader's magnitude arithmetic against the u128 formula it replaced.
#[test]
fn c2i_int_matches_the_u128_formula() {
    fn reference(c: &[u8], kind: IntKind) -> R<u64> {
        use asn1::*;
        if c.is_empty() {
            return Ok(0);
        }
        let (n, neg) = c2i_ibuf(c)?;
        if n > 8 {
            return Err(TOO_LARGE);
        }
        let digits = &c[c.len() - n..];
        let raw = digits.iter().fold(0u128, |a, &d| (a << 8) | u128::from(d));
        let mag = if neg {
            ((1u128 << (8 * n)) - raw) & ((1u128 << (8 * n)) - 1)
        } else {
            raw
        } as u64;
        match kind {
            IntKind::Uint32 | IntKind::Uint64 if neg => Err(ILLEGAL_NEGATIVE_VALUE),
            IntKind::Uint64 => Ok(mag),
            IntKind::Int64 => {
                if !neg && mag > i64::MAX as u64 {
                    Err(TOO_LARGE)
                } else if neg {
                    Ok(0u64.wrapping_sub(mag))
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
                } else if (kind == IntKind::Int32 && mag > i32::MAX as u64)
                    || mag > u64::from(u32::MAX)
                {
                    Err(TOO_LARGE)
                } else {
                    Ok(mag)
                }
            }
        }
    }
    let kinds = [
        IntKind::Int32,
        IntKind::Uint32,
        IntKind::Int64,
        IntKind::Uint64,
    ];
    let mut x = 0x9E37_79B9_7F4A_7C15u64;
    let mut cases: Vec<Vec<u8>> = vec![vec![]];
    for first in [0x00, 0x01, 0x7F, 0x80, 0x81, 0xFE, 0xFF] {
        for fill in [0x00, 0x01, 0x7F, 0x80, 0xFF] {
            for n in 1..=10 {
                let mut c = vec![fill; n];
                c[0] = first;
                cases.push(c.clone());
                c[n - 1] ^= 1;
                cases.push(c);
            }
        }
    }
    for _ in 0..200_000 {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        let n = (x % 11) as usize;
        let mut c: Vec<u8> = (0..n).map(|i| (x >> (8 * (i % 8))) as u8).collect();
        if n > 1 && x & 0x300 == 0 {
            c[0] = if x & 0x400 == 0 { 0 } else { 0xFF };
        }
        cases.push(c);
    }
    for c in &cases {
        for kind in kinds {
            assert_eq!(c2i_int(c, kind), reference(c, kind), "{c:02X?}");
        }
    }
}

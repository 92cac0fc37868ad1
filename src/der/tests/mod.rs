//! The golden vectors and real sessions of `tests/data/der_vectors.rs`, then each rule of what
//! 3.0's `d2i_SSL_SESSION` accepts and refuses, as hand-built inputs; expected values and error codes measured on OpenSSL 3.0.19.
//! Only cipher 0x1301 is assumed to be in the table: other real sessions are pointed at
//! it before decoding (the cipher bytes are copied through unchanged either way).

use super::ber::*;
use super::error::*;
use super::fast::*;
use super::*;
use crate::model::bytes::{Bytes, Text};
use crate::model::cipher;
use crate::model::session::{IdBuf, DEFAULT_TIMEOUT};
use std::borrow::Cow;

mod fast_path;

include!(concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/tests/data/der_vectors.rs"
));

const NOW: i64 = 1_800_000_000;

fn unhex(h: &str) -> Vec<u8> {
    let h: Vec<u8> = h.bytes().filter(|b| b.is_ascii_hexdigit()).collect();
    h.chunks(2)
        .map(|c| u8::from_str_radix(std::str::from_utf8(c).unwrap(), 16).unwrap())
        .collect()
}

// --- a tiny DER writer for hand-built inputs
fn tlv(tag: u8, c: &[u8]) -> Vec<u8> {
    let mut v = vec![tag];
    push_len(&mut v, c.len());
    v.extend_from_slice(c);
    v
}
/// Minimal two's-complement INTEGER.
fn int(v: i128) -> Vec<u8> {
    let b = v.to_be_bytes();
    let mut i = 0;
    while i < 15 && ((b[i] == 0 && b[i + 1] & 0x80 == 0) || (b[i] == 0xFF && b[i + 1] & 0x80 != 0))
    {
        i += 1;
    }
    tlv(0x02, &b[i..])
}
fn oct(b: &[u8]) -> Vec<u8> {
    tlv(0x04, b)
}
fn exp(n: u8, inner: &[u8]) -> Vec<u8> {
    tlv(0xA0 | n, inner)
}
fn seq(parts: &[Vec<u8>]) -> Vec<u8> {
    tlv(0x30, &parts.concat())
}
/// version 1, TLSv1.2, cipher 1301, empty sid, 48-byte mk, then `extra`.
fn sess(extra: &[Vec<u8>]) -> Vec<u8> {
    let mut p = vec![
        int(1),
        int(0x0303),
        oct(&[0x13, 0x01]),
        oct(&[]),
        oct(&[7; 48]),
    ];
    p.extend_from_slice(extra);
    seq(&p)
}
fn with(ver: i128, sslv: i128, cipher: &[u8], sid: &[u8], mk: &[u8], extra: &[Vec<u8>]) -> Vec<u8> {
    let mut p = vec![int(ver), int(sslv), oct(cipher), oct(sid), oct(mk)];
    p.extend_from_slice(extra);
    seq(&p)
}

/// `decode_into` a new `Decoded`, checked against the template decoder alone
/// (`decode_cross_checked`):
/// the same result (value or error), and when the fast path takes the input, the same
/// template values. Every test below decodes through this.
fn decode(input: &[u8]) -> Result<Decoded<'_>, DecodeError> {
    decode_cross_checked(input)
        .unwrap_or_else(|why| panic!("fast path and template decoder differ: {why}"))
        .result
}

/// Whether the canonical-DER fast path takes `input`.
fn fast(input: &[u8]) -> bool {
    decode_cross_checked(input)
        .unwrap_or_else(|why| panic!("fast path and template decoder differ: {why}"))
        .fast_path
}

fn ok(input: &[u8]) -> SessionData {
    let d = decode(input).unwrap_or_else(|e| panic!("rejected: {e:?}"));
    let mut s = SessionData::new(0);
    install(&d, &mut s, NOW);
    s
}
fn host(input: &[u8]) -> Vec<u8> {
    ok(input)
        .hostname
        .as_ref()
        .expect("hostname")
        .as_bytes()
        .to_vec()
}
fn asn1(reason: i32) -> DecodeError {
    DecodeError::Asn1 {
        reason,
        nested: true,
    }
}
fn asn1_top(reason: i32) -> DecodeError {
    DecodeError::Asn1 {
        reason,
        nested: false,
    }
}
fn ssl(reason: i32) -> DecodeError {
    DecodeError::Ssl { reason }
}
fn err(input: &[u8]) -> DecodeError {
    decode(input).expect_err("accepted")
}
fn reenc(s: &SessionData) -> Vec<u8> {
    let mut v = Vec::new();
    encode(s, &mut v).expect("encodable");
    v
}
/// A real session pointed at cipher 1301 (offset of the cipher bytes found by shape).
fn at_1301(der: &[u8]) -> Vec<u8> {
    let mut v = der.to_vec();
    let mut p = if v[1] & 0x80 != 0 {
        2 + usize::from(v[1] & 0x7F)
    } else {
        2
    };
    p += 2 + usize::from(v[p + 1]); // version
    p += 2 + usize::from(v[p + 1]); // ssl_version
    assert_eq!(&v[p..p + 2], [0x04, 0x02]);
    v[p + 2..p + 4].copy_from_slice(&[0x13, 0x01]);
    v
}

// --- golden vectors

#[test]
fn g1_encodes_byte_identical() {
    // Built field by field (set_cipher(C02B) modelled by the id fallback: only 1301 is
    // guaranteed to be in our table).
    let mut s = SessionData::new(NOW);
    s.ssl_version = 0x0303;
    s.cipher_id = 0x0300_C02B;
    s.session_id = IdBuf::new(&(0xA0..=0xBF).collect::<Vec<u8>>()).unwrap();
    s.sid_ctx = IdBuf::new(b"myapp").unwrap();
    assert!(s.set_master_key(&(0x10..=0x3F).collect::<Vec<u8>>()));
    s.time = 1_700_000_000;
    s.timeout = 300;
    s.hostname = Some(Text::new(b"example.com"));
    s.alpn_selected = Some(Bytes::new(b"http/1.1"));
    let g1 = unhex(SEED_G1);
    assert_eq!(encoded_len(&s), Some(164));
    assert_eq!(reenc(&s), g1);
    // And the decode side, through cipher 1301.
    let s = ok(&at_1301(&g1));
    assert_eq!(s.verify_result, 1);
    assert_eq!(s.max_fragment_len_mode, 255);
    assert_eq!(s.hostname.as_ref().unwrap().as_bytes(), b"example.com");
    assert_eq!(reenc(&s), at_1301(&g1));
}

#[test]
fn g2_roundtrip_and_encode() {
    let g2 = unhex(SEED_G2);
    let s = ok(&g2);
    assert_eq!(s.ssl_version, 0x0304);
    assert_eq!(s.cipher.unwrap().id, 0x0300_1301);
    assert_eq!(s.cipher_id, 0x0300_1301);
    assert!(s.session_id.as_slice().is_empty());
    assert_eq!(s.master_key(), &(0x10..=0x2F).collect::<Vec<u8>>()[..]);
    assert_eq!((s.time, s.timeout), (1_700_000_000, 7200));
    assert_eq!(s.max_early_data, 16384);
    assert_eq!(s.ticket_appdata.as_ref().unwrap().as_slice(), b"APPDATA");
    assert_eq!(reenc(&s), g2);
    // Built field by field through the model.
    let mut b = SessionData::new(NOW);
    b.ssl_version = 0x0304;
    b.cipher = cipher::find(0x1301);
    assert!(b.set_master_key(&(0x10..=0x2F).collect::<Vec<u8>>()));
    b.time = 1_700_000_000;
    b.timeout = 7200;
    b.max_early_data = 16384;
    b.ticket_appdata = Some(Bytes::new(b"APPDATA"));
    assert_eq!(reenc(&b), g2);
}

#[test]
fn g3_every_field() {
    let g3 = unhex(SEED_G3);
    let d = decode(&g3).unwrap();
    assert_eq!(d.consumed, g3.len());
    let s = ok(&g3);
    assert_eq!(s.psk_identity.as_ref().unwrap().as_bytes(), b"ident");
    assert_eq!(s.psk_identity_hint.as_ref().unwrap().as_bytes(), b"hint");
    assert_eq!(s.srp_username.as_ref().unwrap().as_bytes(), b"srpuser");
    assert_eq!(s.hostname.as_ref().unwrap().as_bytes(), b"g3.example");
    assert_eq!(s.tick_lifetime_hint, 300);
    assert_eq!(s.ticket.as_ref().unwrap().as_slice(), b"TICKETDATA");
    assert_eq!(s.compress_meth, 1);
    assert_eq!((s.time, s.timeout), (1_700_000_000, 7200));
    assert_eq!(s.verify_result, 0);
    assert_eq!(s.flags, 1);
    assert_eq!(s.sid_ctx.as_slice(), b"ctx");
    assert_eq!(s.tick_age_add, 0xC1EC_D952);
    assert_eq!(s.max_early_data, 16384);
    assert_eq!(s.alpn_selected.as_ref().unwrap().as_slice(), b"h2");
    assert_eq!(s.max_fragment_length(), 2);
    assert_eq!(s.ticket_appdata.as_ref().unwrap().as_slice(), b"APPDATA");
    assert_eq!(s.kex_group, 0x1D);
    // The explicit [5] 0 is dropped on the way out, as libssl does.
    assert_eq!(reenc(&s), unhex(G3_I2D));
    assert_eq!(g3.len() - unhex(G3_I2D).len(), 5);
}

#[test]
fn real_sessions_roundtrip() {
    for (name, hex, tls13) in [
        ("S1", SEED_S1, false),
        ("S2", SEED_S2, false),
        ("S3", SEED_S3, true),
    ] {
        let input = at_1301(&unhex(hex));
        let d = decode(&input).unwrap_or_else(|e| panic!("{name}: {e:?}"));
        assert_eq!(d.consumed, input.len(), "{name}");
        // The certificate is canonical DER: kept as received, without a copy.
        assert!(matches!(d.peer, Some(Cow::Borrowed(_))), "{name}");
        let cert = d.peer.as_deref().unwrap().to_vec();
        assert_eq!(cert.len(), 781, "{name}");
        let s = ok(&input);
        assert_eq!(s.peer.as_ref().unwrap().der(), &cert[..]);
        assert_eq!(s.ssl_version, if tls13 { 0x0304 } else { 0x0303 }, "{name}");
        assert_eq!(s.verify_result, 18, "{name}");
        assert_eq!(s.kex_group, 0x1D, "{name}");
        assert_eq!(s.timeout, 7200, "{name}");
        assert_eq!(s.master_key().len(), 48, "{name}");
        assert_eq!(s.session_id.as_slice().len(), 32, "{name}");
        assert_eq!(reenc(&s), input, "{name}");
    }
    let s1 = ok(&at_1301(&unhex(SEED_S1)));
    assert_eq!(s1.time, 1_795_686_982);
    assert_eq!(s1.ticket_len(), 176);
    assert_eq!(s1.tick_lifetime_hint, 7200);
    assert_eq!(s1.alpn_selected.as_ref().unwrap().as_slice(), b"http/1.1");
    assert_eq!(s1.flags, 1);
    assert!(s1.hostname.is_none());
    let s3 = ok(&at_1301(&unhex(SEED_S3)));
    assert_eq!(s3.hostname.as_ref().unwrap().as_bytes(), b"localhost");
    assert_eq!(s3.tick_age_add, 0xC1EC_D952);
    assert_eq!(s3.max_early_data, 16384);
    assert_eq!(s3.flags, 0);
}

// --- the error a rejected input leaves, and the field table

#[test]
fn queued_errors_come_first_then_nested() {
    let queued = |e: DecodeError| e.queued().collect::<Vec<_>>();
    assert_eq!(
        queued(asn1(asn1::WRONG_TAG)),
        [
            (ERR_LIB_ASN1, asn1::WRONG_TAG),
            (ERR_LIB_ASN1, ERR_R_NESTED_ASN1_ERROR)
        ]
    );
    assert_eq!(
        queued(asn1_top(asn1::TOO_SMALL)),
        [(ERR_LIB_ASN1, asn1::TOO_SMALL)]
    );
    assert_eq!(
        queued(ssl(SSL_R_BAD_LENGTH)),
        [(ERR_LIB_SSL, SSL_R_BAD_LENGTH)]
    );
    assert_eq!(queued(DecodeError::Silent(Silent::SessionIdTooLong)), []);
    // ERR_PACK(13, 0, 168), then ERR_PACK(13, 0, 266 | ERR_RFLAG_COMMON).
    assert_eq!(asn1(asn1::WRONG_TAG).first_error(), 0x0680_00A8);
    assert_eq!(asn1(asn1::WRONG_TAG).last_error(), 0x0688_010A);
    assert_eq!(asn1_top(asn1::TOO_SMALL).last_error(), 0x0680_00E0);
    assert_eq!(DecodeError::Silent(Silent::SidCtxTooLong).last_error(), 0);
}

#[test]
fn tag_lookup_matches_the_field_table() {
    use super::fields::{tagged, Tagging, BY_TAG, MAX_TAG, N_PLAIN, SESSION};
    assert_eq!((N_PLAIN, MAX_TAG, SESSION.len()), (5, 19, 25));
    for n in 0..=MAX_TAG {
        let (i, id) = BY_TAG[n as usize];
        let t = tagged(n);
        assert_eq!(t.field, SESSION[i].field);
        match t.tagging {
            Tagging::Implicit(m) => assert_eq!((m, id), (n, 0x80 | n as u8)),
            Tagging::Explicit(m) => assert_eq!((m, id), (n, 0xA0 | n as u8)),
            Tagging::Plain => panic!("tag {n} points at a plain template"),
        }
    }
}

// --- what d2i accepts and refuses, rule by rule

#[test]
fn minimal_session_gets_d2i_defaults() {
    let input = sess(&[]);
    let d = decode(&input).unwrap();
    assert_eq!(d.consumed, input.len());
    let s = ok(&input);
    assert_eq!(s.time, NOW);
    assert_eq!(s.timeout, 3);
    assert_eq!(s.verify_result, 0);
    assert_eq!(s.max_fragment_length(), 0);
    assert_eq!(s.max_fragment_len_mode, 0);
    assert_eq!(s.kex_group, 0);
    assert!(s.peer.is_none() && s.ticket.is_none() && s.hostname.is_none());
}

#[test]
fn asn1_version_must_be_1() {
    for v in [0, 2] {
        assert_eq!(
            err(&with(v, 0x0303, &[0x13, 1], &[], &[], &[])),
            ssl(SSL_R_UNKNOWN_SSL_VERSION)
        );
    }
    // An empty INTEGER reads as 0 (libcrypto's long_compat rule).
    let mut input = with(1, 0x0303, &[0x13, 1], &[], &[], &[]);
    input.splice(2..5, [0x02, 0x00]);
    input[1] -= 1;
    assert_eq!(err(&input), ssl(SSL_R_UNKNOWN_SSL_VERSION));
    assert_eq!(ssl(SSL_R_UNKNOWN_SSL_VERSION).first_error(), 0x0A00_00FE);
}

#[test]
fn protocol_version_rule() {
    for v in [0x0002, 0x0101, -1, 0x10303, 0x0200, -0x200] {
        assert_eq!(
            err(&with(1, v, &[0x13, 1], &[], &[], &[])),
            ssl(SSL_R_UNSUPPORTED_SSL_VERSION),
            "{v:#x}"
        );
    }
    for v in [
        0x0300, 0x0301, 0x03FF, 0xFEFF, 0xFEFD, 0xFE00, 0x0100, 0x0304,
    ] {
        assert_eq!(
            ok(&with(1, v, &[0x13, 1], &[], &[], &[])).ssl_version,
            v as i32
        );
    }
    assert_eq!(
        ssl(SSL_R_UNSUPPORTED_SSL_VERSION).first_error(),
        0x0A00_0103
    );
}

#[test]
fn cipher_rules() {
    for c in [&[][..], &[0x13], &[0x13, 1, 0]] {
        assert_eq!(
            err(&with(1, 0x0303, c, &[], &[], &[])),
            ssl(SSL_R_CIPHER_CODE_WRONG_LENGTH)
        );
    }
    assert_eq!(
        ssl(SSL_R_CIPHER_CODE_WRONG_LENGTH).first_error(),
        0x0A00_0089
    );
    // Not in libssl's table either: rejected with nothing queued.
    for code in [0xFFFFu16, 0x0000, 0x0004] {
        let e = err(&with(1, 0x0303, &code.to_be_bytes(), &[], &[], &[]));
        assert_eq!(e, DecodeError::Silent(Silent::UnknownCipher(code)));
        assert_eq!((e.first_error(), e.last_error()), (0, 0));
    }
    // SCSVs and NULL-MD5 are in libssl's table; accepted iff they are in ours.
    for code in [0x00FFu16, 0x5600, 0x0001] {
        let input = with(1, 0x0303, &code.to_be_bytes(), &[], &[], &[]);
        let r = decode(&input);
        match cipher::find(code) {
            Some(c) => assert_eq!(r.unwrap().cipher().id, c.id),
            None => assert_eq!(
                r.unwrap_err(),
                DecodeError::Silent(Silent::UnknownCipher(code))
            ),
        }
    }
    // No cipher/version consistency check.
    assert_eq!(
        ok(&with(1, 0x0303, &[0x13, 1], &[], &[], &[])).cipher_id,
        0x0300_1301
    );
    // The cipher as an INTEGER.
    let input = seq(&[int(1), int(0x0303), int(0x1301), oct(&[]), oct(&[])]);
    assert_eq!(err(&input), asn1(asn1::WRONG_TAG));
    assert_eq!(
        (
            asn1(asn1::WRONG_TAG).first_error(),
            asn1(asn1::WRONG_TAG).last_error()
        ),
        (0x0680_00A8, 0x0688_010A)
    );
}

#[test]
fn id_and_key_limits() {
    let c = &[0x13, 1];
    assert!(ok(&with(1, 0x0303, c, &[], &[], &[]))
        .session_id
        .as_slice()
        .is_empty());
    assert_eq!(
        ok(&with(1, 0x0303, c, &[1; 32], &[], &[]))
            .session_id
            .as_slice(),
        [1; 32]
    );
    assert_eq!(
        err(&with(1, 0x0303, c, &[1; 33], &[], &[])),
        DecodeError::Silent(Silent::SessionIdTooLong)
    );
    assert!(ok(&with(1, 0x0303, c, &[], &[], &[]))
        .master_key()
        .is_empty());
    assert_eq!(
        ok(&with(1, 0x0303, c, &[], &[2; 512], &[])).master_key(),
        [2; 512]
    );
    assert_eq!(
        err(&with(1, 0x0303, c, &[], &[2; 513], &[])),
        DecodeError::Silent(Silent::MasterKeyTooLong)
    );
    assert_eq!(
        ok(&sess(&[exp(4, &oct(&[3; 32]))])).sid_ctx.as_slice(),
        [3; 32]
    );
    assert_eq!(
        err(&sess(&[exp(4, &oct(&[3; 33]))])),
        DecodeError::Silent(Silent::SidCtxTooLong)
    );
}

#[test]
fn time_and_timeout() {
    let s = ok(&sess(&[exp(1, &int(0)), exp(2, &int(0))]));
    assert_eq!((s.time, s.timeout), (NOW, 3));
    let s = ok(&sess(&[exp(1, &int(-100)), exp(2, &int(-5))]));
    assert_eq!((s.time, s.timeout), (-100, -5));
    let max = i128::from(i64::MAX);
    let s = ok(&sess(&[exp(1, &int(max)), exp(2, &int(max))]));
    assert_eq!((s.time, s.timeout), (i64::MAX, i64::MAX));
    assert_eq!(err(&sess(&[exp(1, &int(max + 1))])), asn1(asn1::TOO_LARGE));
    // Negative INT64s have no lower bound in 3.0: the magnitude wraps.
    let wrap = |c: &[u8]| ok(&sess(&[exp(1, &tlv(0x02, c))])).time;
    assert_eq!(wrap(&[0xFF, 0, 0, 0, 0, 0, 0, 0, 1]), 1);
    assert_eq!(
        wrap(&[0xFF, 0x7F, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF]),
        i64::MAX
    );
    assert_eq!(wrap(&[0x80, 0, 0, 0, 0, 0, 0, 0]), i64::MIN);
    assert_eq!(
        err(&sess(&[exp(
            1,
            &tlv(0x02, &[0xFF, 0, 0, 0, 0, 0, 0, 0, 0])
        )])),
        asn1(asn1::TOO_LARGE)
    );
}

#[test]
fn non_minimal_integers_are_rejected() {
    assert_eq!(
        err(&sess(&[exp(1, &tlv(0x02, &[0, 0, 0, 5]))])),
        asn1(asn1::ILLEGAL_PADDING)
    );
    let mut input = sess(&[]);
    input.splice(2..5, [0x02, 0x02, 0x00, 0x01]);
    input[1] += 1;
    assert_eq!(err(&input), asn1(asn1::ILLEGAL_PADDING));
    assert_eq!(
        err(&sess(&[exp(1, &tlv(0x02, &[0xFF, 0x80]))])),
        asn1(asn1::ILLEGAL_PADDING)
    );
    assert_eq!(asn1(asn1::ILLEGAL_PADDING).first_error(), 0x0680_00DD);
}

#[test]
fn integer_ranges() {
    assert_eq!(err(&sess(&[exp(5, &int(1 << 31))])), asn1(asn1::TOO_LARGE));
    assert_eq!(ok(&sess(&[exp(5, &int(-1))])).verify_result, -1);
    assert_eq!(
        ok(&sess(&[exp(5, &int(-(1 << 31)))])).verify_result,
        -(1 << 31)
    );
    assert_eq!(
        err(&sess(&[exp(5, &int(-(1 << 31) - 1))])),
        asn1(asn1::TOO_SMALL)
    );
    assert_eq!(
        ok(&sess(&[exp(9, &int(i128::from(u64::MAX)))])).tick_lifetime_hint,
        u64::MAX
    );
    assert_eq!(err(&sess(&[exp(9, &int(1 << 64))])), asn1(asn1::TOO_LARGE));
    assert_eq!(
        err(&sess(&[exp(9, &int(-1))])),
        asn1(asn1::ILLEGAL_NEGATIVE_VALUE)
    );
    assert_eq!(
        err(&sess(&[exp(15, &int(-1))])),
        asn1(asn1::ILLEGAL_NEGATIVE_VALUE)
    );
    assert_eq!(err(&sess(&[exp(19, &int(1 << 32))])), asn1(asn1::TOO_LARGE));
    assert_eq!(ok(&sess(&[exp(19, &int(0xFFFF_FFFF))])).kex_group, u32::MAX);
    assert_eq!(
        ok(&sess(&[exp(14, &int(0xC1EC_D952))])).tick_age_add,
        0xC1EC_D952
    );
    assert_eq!(
        asn1(asn1::ILLEGAL_NEGATIVE_VALUE).first_error(),
        0x0680_00E2
    );
}

#[test]
fn comp_id_rules() {
    for c in [&[][..], &[1, 1]] {
        assert_eq!(err(&sess(&[exp(11, &oct(c))])), ssl(SSL_R_BAD_LENGTH));
    }
    assert_eq!(ssl(SSL_R_BAD_LENGTH).first_error(), 0x0A00_010F);
    assert_eq!(ok(&sess(&[exp(11, &oct(&[1]))])).compress_meth, 1);
}

#[test]
fn strings_and_buffers() {
    assert_eq!(host(&sess(&[exp(6, &oct(b"ab\0cd"))])), b"ab");
    let s = ok(&sess(&[
        exp(6, &oct(b"")),
        exp(10, &oct(b"")),
        exp(16, &oct(b"")),
        exp(18, &oct(b"")),
    ]));
    assert_eq!(s.hostname.as_ref().unwrap().as_bytes(), b"");
    assert_eq!(s.ticket.as_ref().unwrap().as_slice(), b"");
    assert_eq!(s.ticket_len(), 0); // has_ticket = 0
    assert_eq!(s.alpn_selected.as_ref().unwrap().as_slice(), b"");
    assert_eq!(s.ticket_appdata.as_ref().unwrap().as_slice(), b"");
    // Present-but-empty survives a round trip (AA 02 04 00, ...).
    assert_eq!(reenc(&s), reenc(&ok(&reenc(&s))));
    assert!(reenc(&s).windows(4).any(|w| w == [0xAA, 0x02, 0x04, 0x00]));
}

#[test]
fn max_fragment_and_flags_truncate() {
    for (v, mode, len) in [(0x1FF, 0xFF, 0), (0x101, 1, 1), (0xFF, 0xFF, 0), (4, 4, 4)] {
        let s = ok(&sess(&[exp(17, &int(v))]));
        assert_eq!(
            (s.max_fragment_len_mode, s.max_fragment_length()),
            (mode, len)
        );
    }
    assert_eq!(ok(&sess(&[exp(13, &int(0x1_0000_0001))])).flags, 1);
}

#[test]
fn key_arg_is_ignored() {
    for n in [2, 9] {
        let mut s = vec![
            int(1),
            int(0x0303),
            oct(&[0x13, 1]),
            oct(&[]),
            oct(&[]),
            tlv(0x80, &vec![9; n]),
        ];
        s.push(exp(1, &int(5)));
        assert_eq!(ok(&seq(&s)).time, 5);
    }
}

#[test]
fn unknown_out_of_order_and_duplicate_tags() {
    // [20] where [19] is expected: the last template is not optional while data is left.
    assert_eq!(err(&sess(&[exp(20, &oct(b""))])), asn1(asn1::WRONG_TAG));
    assert_eq!(err(&sess(&[exp(21, &oct(b""))])), asn1(asn1::WRONG_TAG));
    // After [19], anything left is a length mismatch of the SEQUENCE itself.
    assert_eq!(
        err(&sess(&[exp(19, &int(0)), exp(20, &oct(b""))])),
        asn1_top(asn1::SEQUENCE_LENGTH_MISMATCH)
    );
    assert_eq!(
        err(&sess(&[exp(2, &int(5)), exp(1, &int(5))])),
        asn1(asn1::WRONG_TAG)
    );
    assert_eq!(
        err(&sess(&[exp(1, &int(5)), exp(1, &int(5))])),
        asn1(asn1::WRONG_TAG)
    );
    let e = err(&sess(&[tlv(0x81, &int(5))]));
    assert_eq!(e, asn1_top(asn1::EXPLICIT_TAG_NOT_CONSTRUCTED));
    assert_eq!(
        (e.first_error(), e.last_error()),
        (0x0680_0078, 0x0680_0078)
    );
}

#[test]
fn structural_failures() {
    assert_eq!(err(&sess(&[exp(3, &int(5))])), asn1(asn1::WRONG_TAG)); // not a certificate
    assert_eq!(
        err(&seq(&[int(1), int(0x0303), oct(&[0x13, 1]), oct(&[])])),
        asn1_top(asn1::FIELD_MISSING)
    );
    assert_eq!(err(&seq(&[])), asn1_top(asn1::FIELD_MISSING));
    assert_eq!(err(&int(5)), asn1(asn1::WRONG_TAG));
    assert_eq!(err(&[]), asn1_top(asn1::TOO_SMALL));
    assert_eq!(err(&[0x30, 0x10, 2, 1, 1]), asn1(asn1::TOO_LONG));
    assert_eq!(
        err(&sess(&[exp(1, &int(5)), vec![0, 0]])),
        asn1_top(asn1::UNEXPECTED_EOC)
    );
    assert_eq!(
        err(&sess(&[exp(1, &[int(5), vec![5, 0]].concat())])),
        asn1_top(asn1::EXPLICIT_LENGTH_MISMATCH)
    );
    assert_eq!(err(&sess(&[exp(1, &[])])), asn1(asn1::TOO_SMALL));
    assert_eq!(
        err(&sess(&[exp(1, &tlv(0x22, &int(5)))])),
        asn1(asn1::TYPE_NOT_PRIMITIVE)
    );
}

#[test]
fn trailing_bytes_and_ber_lengths() {
    let mut input = sess(&[]);
    let n = input.len();
    input.extend_from_slice(&[1, 2, 3, 4]);
    assert_eq!(decode(&input).unwrap().consumed, n);
    // Indefinite-length outer SEQUENCE; bytes after its end-of-contents are not consumed.
    let body = &sess(&[])[2..];
    let indef = [&[0x30, 0x80][..], body, &[0, 0], &[9, 9]].concat();
    assert_eq!(decode(&indef).unwrap().consumed, indef.len() - 2);
    assert_eq!(
        err(&[&[0x30, 0x80][..], body].concat()),
        asn1_top(asn1::MISSING_EOC)
    );
    // Non-minimal outer lengths (long form, leading zero octets).
    let long = [&[0x30, 0x81, body.len() as u8][..], body].concat();
    assert_eq!(decode(&long).unwrap().consumed, long.len());
    let padded = [&[0x30, 0x84, 0, 0, 0, body.len() as u8][..], body].concat();
    assert_eq!(decode(&padded).unwrap().consumed, padded.len());
}

// --- BER forms and certificate checks, measured on 3.0.19

#[test]
fn ber_inner_forms() {
    // Segmented OCTET STRINGs, whatever the segments' tags, definite or indefinite.
    let seg = tlv(0x24, &[oct(&[0x13]), tlv(0x0C, &[1])].concat());
    let s = ok(&seq(&[int(1), int(0x0303), seg, oct(&[]), oct(&[])]));
    assert_eq!(s.cipher_id, 0x0300_1301);
    let indef = [&[0x24, 0x80][..], &oct(b"ab"), &oct(b"c\0d"), &[0, 0]].concat();
    assert_eq!(host(&sess(&[exp(6, &indef)])), b"abc");
    // Segments nest 6 deep, not 7.
    let nest = |k: usize| (0..k).fold(oct(b"ab"), |x, _| tlv(0x24, &x));
    assert_eq!(host(&sess(&[exp(6, &nest(6))])), b"ab");
    assert_eq!(
        err(&sess(&[exp(6, &nest(7))])),
        asn1(asn1::NESTED_ASN1_STRING)
    );
    // High-tag-number forms of low tags.
    let mut input = sess(&[]);
    input.splice(2..3, [0x1F, 0x02]);
    input[1] += 1;
    assert!(decode(&input).is_ok());
    let t = ok(&sess(&[[&[0xBF, 0x01, 0x03][..], &int(7)].concat()]));
    assert_eq!(t.time, 7);
    // Indefinite explicit wrapper.
    assert_eq!(
        ok(&sess(&[[&[0xA1, 0x80][..], &int(7), &[0, 0]].concat()])).time,
        7
    );
    // A long-form length needs a byte after it.
    assert_eq!(
        err(&sess(&[exp(6, &[0x04, 0x81, 0x00])])),
        asn1(asn1::HEADER_TOO_LONG)
    );
    // Indefinite length on a primitive.
    assert_eq!(
        err(&sess(&[exp(6, &[0x04, 0x80, 0x61, 0, 0])])),
        asn1(asn1::HEADER_TOO_LONG)
    );
}

#[test]
fn certificate_checks() {
    let input = at_1301(&unhex(SEED_S2));
    let cert = decode(&input).unwrap().peer.unwrap().into_owned();
    let with_cert = |c: &[u8]| sess(&[exp(3, c)]);
    assert!(decode(&with_cert(&cert)).is_ok());
    // A non-minimal outer length is written back minimal (what i2d_X509 does).
    let mut long = vec![0x30, 0x83, 0x00];
    long.extend_from_slice(&cert[2..]);
    let input = with_cert(&long);
    let d = decode(&input).unwrap();
    assert!(matches!(d.peer, Some(Cow::Owned(_))));
    assert_eq!(d.peer.as_deref().unwrap(), &cert[..]);
    // Unused signature bits are cleared on the way out.
    let mut bits = cert.clone();
    let n = bits.len();
    bits[n - 257] = 7; // the unused-bits octet of the 257-byte signature
    bits[n - 1] |= 0x7F;
    let input = with_cert(&bits);
    let d = decode(&input).unwrap();
    let out = d.peer.unwrap();
    assert_eq!(out[n - 257], 7);
    assert_eq!(out[n - 1], bits[n - 1] & 0x80);
    // The issuer CN as an invalid UTF8String; then as a BMPString with a surrogate.
    let cn = cert
        .windows(11)
        .position(|w| w == b"\x0c\x09localhost")
        .unwrap();
    let mut bad = cert.clone();
    bad[cn + 2] = 0xFF;
    assert_eq!(err(&with_cert(&bad)), asn1(asn1::INVALID_UTF8STRING));
    let mut bmp = cert.clone();
    bmp[cn..cn + 4].copy_from_slice(&[0x1E, 0x02, 0xD8, 0x00]);
    bmp.splice(cn + 4..cn + 11, [0x20; 7]); // keep the lengths: 7 filler bytes after
    assert!(decode(&with_cert(&bmp)).is_err());
    // Garbage instead of a certificate: the template's first error.
    assert_eq!(err(&with_cert(&seq(&[int(1)]))), asn1(asn1::WRONG_TAG));
}

// --- installing and encoding

#[test]
fn install_replaces_everything_on_reuse() {
    let mut s = ok(&at_1301(&unhex(SEED_S1)));
    s.not_resumable = true;
    install(&decode(&sess(&[])).unwrap(), &mut s, NOW);
    assert!(s.peer.is_none() && s.ticket.is_none() && s.alpn_selected.is_none());
    assert_eq!(s.ticket_len(), 0); // 3.0 would keep the old ticklen here
    assert_eq!(
        (
            s.time,
            s.timeout,
            s.verify_result,
            s.flags,
            s.tick_lifetime_hint
        ),
        (NOW, 3, 0, 0, 0)
    );
    assert!(s.not_resumable, "left alone, as in 3.0");
    assert_eq!(reenc(&s), reenc(&ok(&sess(&[]))));
}

#[test]
fn encoder_rules() {
    let mut s = SessionData::new(NOW);
    assert_eq!(encoded_len(&s), None); // no cipher, no id: i2d returns 0
    let mut v = vec![1];
    assert_eq!(encode(&s, &mut v), None);
    assert_eq!(v, [1]);
    s.cipher_id = 0x0300_C02F; // cipher NULL but an id: the id is written
    s.ssl_version = 0xFEFD;
    s.verify_result = 1 << 32; // narrowed to int32: 0, so left out
    s.time = 0;
    s.timeout = 0;
    let out = reenc(&s);
    assert_eq!(
        out,
        [
            &[0x30, 0x1F, 0x02, 0x01, 0x01, 0x02, 0x03, 0x00, 0xFE, 0xFD][..],
            &[0x04, 0x02, 0xC0, 0x2F, 0x04, 0x00, 0x04, 0x00],
            &[0xA4, 0x02, 0x04, 0x00],             // sid_ctx, always
            &[0xB1, 0x04, 0x02, 0x02, 0x00, 0xFF], // max_fragment_len_mode 255 (fresh)
            &[0xB3, 0x03, 0x02, 0x01, 0x00],       // kex_group, always
        ]
        .concat()
    );
    assert_eq!(encoded_len(&s), Some(out.len()));
    // Writing into an existing buffer: exact size, appended after what is there.
    let mut v = vec![0xEE];
    assert_eq!(encode(&s, &mut v), Some(out.len()));
    assert_eq!(&v[1..], &out[..]);
    s.cipher = cipher::find(0x1301);
    assert_eq!(reenc(&s)[12..14], [0x13, 0x01]);
    assert_eq!(DEFAULT_TIMEOUT, 304);
}

#[test]
fn integer_encodings_are_minimal() {
    for v in [
        0i64,
        1,
        127,
        128,
        255,
        256,
        -1,
        -128,
        -129,
        i64::MAX,
        i64::MIN,
        0x7F_FFFF,
        -0x80_0000,
    ] {
        let mut s = SessionData::new(v);
        s.cipher = cipher::find(0x1301);
        s.ssl_version = 0x0303;
        s.timeout = 1;
        let out = reenc(&s);
        let expect = if v == 0 {
            vec![]
        } else {
            exp(1, &int(i128::from(v)))
        };
        assert!(
            expect.is_empty() || out.windows(expect.len()).any(|w| w == expect),
            "{v}"
        );
        if v != 0 {
            assert_eq!(ok(&out).time, v);
        }
    }
    for v in [0x80u64, 0xFFFF_FFFF, u64::MAX, 1 << 63] {
        let mut s = SessionData::new(1);
        s.cipher = cipher::find(0x1301);
        s.ssl_version = 0x0303;
        s.tick_lifetime_hint = v;
        let out = reenc(&s);
        assert!(out.windows(3).any(|w| w[0] == 0xA9), "{v}");
        assert_eq!(ok(&out).tick_lifetime_hint, v);
    }
}

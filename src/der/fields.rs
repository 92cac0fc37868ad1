//! The session SEQUENCE (`SSL_SESSION_ASN1` in libssl's `ssl_asn1.c`): its fields in
//! order, with their tags and types. This table is the only place that says which field
//! has which tag; the template decoder, the fast path and the encoder all read it.

use super::ber::IntKind;
use Field::*;
use IntKind::*;
use Tagging::{Explicit, Implicit, Plain};
use Ty::{Cert, Int, Octets};

/// A field of the session SEQUENCE.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) enum Field {
    Version,
    SslVersion,
    CipherCode,
    SessionId,
    MasterKey,
    /// Read and ignored; never written.
    KeyArg,
    Time,
    Timeout,
    Peer,
    SidCtx,
    VerifyResult,
    Hostname,
    PskIdentityHint,
    PskIdentity,
    TickLifetimeHint,
    Ticket,
    CompId,
    SrpUsername,
    Flags,
    TickAgeAdd,
    MaxEarlyData,
    AlpnSelected,
    MaxFragmentLenMode,
    TicketAppdata,
    KexGroup,
}

/// How a field is tagged.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) enum Tagging {
    /// Its universal tag (INTEGER or OCTET STRING); required.
    Plain,
    /// `[n] IMPLICIT`, primitive; optional.
    Implicit(u32),
    /// `[n] EXPLICIT`; optional.
    Explicit(u32),
}

/// What a field holds.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) enum Ty {
    /// An INTEGER of this type. `true` for libcrypto's Z-types (ZINT32, ZINT64, ZUINT32,
    /// ZUINT64), which i2d leaves out when the value is 0.
    Int(IntKind, bool),
    /// An OCTET STRING.
    Octets,
    /// An X.509 certificate.
    Cert,
}

/// One element of the SEQUENCE.
#[derive(Clone, Copy, Debug)]
pub(super) struct Template {
    pub(super) field: Field,
    pub(super) tagging: Tagging,
    pub(super) ty: Ty,
}

const fn t(field: Field, tagging: Tagging, ty: Ty) -> Template {
    Template { field, tagging, ty }
}

/// `SSL_SESSION_ASN1`, in template order.
pub(super) const SESSION: [Template; 25] = [
    t(Version, Plain, Int(Uint32, false)),
    t(SslVersion, Plain, Int(Int32, false)),
    t(CipherCode, Plain, Octets),
    t(SessionId, Plain, Octets),
    t(MasterKey, Plain, Octets),
    t(KeyArg, Implicit(0), Octets),
    t(Time, Explicit(1), Int(Int64, true)),
    t(Timeout, Explicit(2), Int(Int64, true)),
    t(Peer, Explicit(3), Cert),
    t(SidCtx, Explicit(4), Octets),
    t(VerifyResult, Explicit(5), Int(Int32, true)),
    t(Hostname, Explicit(6), Octets),
    t(PskIdentityHint, Explicit(7), Octets),
    t(PskIdentity, Explicit(8), Octets),
    t(TickLifetimeHint, Explicit(9), Int(Uint64, true)),
    t(Ticket, Explicit(10), Octets),
    t(CompId, Explicit(11), Octets),
    t(SrpUsername, Explicit(12), Octets),
    t(Flags, Explicit(13), Int(Uint64, true)),
    t(TickAgeAdd, Explicit(14), Int(Uint32, true)),
    t(MaxEarlyData, Explicit(15), Int(Uint32, true)),
    t(AlpnSelected, Explicit(16), Octets),
    t(MaxFragmentLenMode, Explicit(17), Int(Uint32, true)),
    t(TicketAppdata, Explicit(18), Octets),
    t(KexGroup, Explicit(19), Int(Uint32, false)),
];

/// The context tag number of a template (`None`: a plain one).
const fn tag_number(t: &Template) -> Option<u32> {
    match t.tagging {
        Plain => None,
        Implicit(n) | Explicit(n) => Some(n),
    }
}

/// The largest context tag number in `SESSION`.
pub(super) const MAX_TAG: u32 = {
    let mut max = 0;
    let mut i = 0;
    while i < SESSION.len() {
        if let Some(n) = tag_number(&SESSION[i]) {
            if n > max {
                max = n;
            }
        }
        i += 1;
    }
    max
};

/// For each context tag number: the index in `SESSION` of the template with that tag
/// (`usize::MAX`: none), and the identifier byte a minimal DER element of it starts with
/// (0x80 | n primitive for `[n] IMPLICIT`, 0xA0 | n constructed for `[n] EXPLICIT`; 0: none).
pub(super) const BY_TAG: [(usize, u8); MAX_TAG as usize + 1] = {
    let mut by = [(usize::MAX, 0u8); MAX_TAG as usize + 1];
    let mut i = 0;
    while i < SESSION.len() {
        match SESSION[i].tagging {
            Plain => {}
            Implicit(n) => by[n as usize] = (i, 0x80 | n as u8),
            Explicit(n) => by[n as usize] = (i, 0xA0 | n as u8),
        }
        i += 1;
    }
    by
};

/// The template with context tag number `n` (which must have one).
#[inline(always)]
pub(super) const fn tagged(n: u32) -> Template {
    SESSION[BY_TAG[n as usize].0]
}

// What the decoders and the encoder rely on, checked when the crate compiles: the plain
// (required) templates come first; the tagged ones follow with strictly increasing tag
// numbers below 31 (one identifier byte each, template order = tag order, no two alike);
// an IMPLICIT one holds an OCTET STRING; a certificate is EXPLICIT.
const _: () = {
    let mut i = 0;
    let mut last: i64 = -1;
    while i < SESSION.len() {
        let t = &SESSION[i];
        match tag_number(t) {
            None => assert!(last == -1, "a plain template after a tagged one"),
            Some(n) => {
                assert!(n as i64 > last && n < 31, "tags must increase, below 31");
                last = n as i64;
            }
        }
        match (t.tagging, t.ty) {
            (Implicit(_), Octets) | (Explicit(_), _) | (Plain, Int(..)) | (Plain, Octets) => {}
            _ => panic!("a template kind the decoders do not read"),
        }
        i += 1;
    }
};

/// The number of plain (required) templates, which come first.
pub(super) const N_PLAIN: usize = {
    let mut n = 0;
    while n < SESSION.len() && matches!(SESSION[n].tagging, Plain) {
        n += 1;
    }
    n
};

//! What a decode yields (`Decoded`), the checks after it, and installing it into a session.

use super::error::*;
use super::fields::Field;
use crate::model::bytes::{Bytes, Text};
use crate::model::cipher::{self, Cipher};
use crate::model::peer::PeerCert;
use crate::model::session::{IdBuf, SessionData, MAX_ID_LEN, MAX_MASTER_KEY_LEN};
use std::borrow::Cow;
use std::sync::Arc;

/// Everything `d2i_SSL_SESSION` reads from an input: the values of the `SSL_SESSION_ASN1`
/// templates as read (byte fields borrow from the input unless they were segmented or, for
/// the certificate, re-encoded), then `consumed` and, once the checks pass, the cipher.
/// `install` turns them into session fields. (`Debug` shows byte fields as lengths
/// only: some are secrets.)
#[derive(Clone, Default)]
pub struct Decoded<'a> {
    /// Bytes of the outer SEQUENCE (what `*pp` advances by); trailing bytes are not counted.
    pub consumed: usize,
    /// The table entry of the cipher code; `None` until the checks have passed.
    pub cipher: Option<&'static Cipher>,
    pub version: u32,
    pub ssl_version: i32,
    /// The cipher code as read (2 bytes once checked).
    pub cipher_code: Cow<'a, [u8]>,
    /// At most 32 bytes once checked.
    pub session_id: Cow<'a, [u8]>,
    /// At most 512 bytes once checked.
    pub master_key: Cow<'a, [u8]>,
    /// 0 when absent (or written as 0): `install` then uses the current time.
    pub time: i64,
    /// 0 when absent (or written as 0): `install` then uses 3 seconds.
    pub timeout: i64,
    /// The certificate as libcrypto's `i2d_X509` would write it.
    pub peer: Option<Cow<'a, [u8]>>,
    /// At most 32 bytes once checked.
    pub sid_ctx: Option<Cow<'a, [u8]>>,
    pub verify_result: i32,
    pub hostname: Option<Cow<'a, [u8]>>,
    pub psk_identity_hint: Option<Cow<'a, [u8]>>,
    pub psk_identity: Option<Cow<'a, [u8]>>,
    pub tick_lifetime_hint: u64,
    pub ticket: Option<Cow<'a, [u8]>>,
    /// The compression id; exactly 1 byte when present, once checked.
    pub comp_id: Option<Cow<'a, [u8]>>,
    pub srp_username: Option<Cow<'a, [u8]>>,
    /// Truncated to 32 bits when installed, as 3.0 does.
    pub flags: u64,
    pub tick_age_add: u32,
    pub max_early_data: u32,
    pub alpn_selected: Option<Cow<'a, [u8]>>,
    /// Truncated to 8 bits when installed, as 3.0 does.
    pub max_fragment_len_mode: u32,
    pub ticket_appdata: Option<Cow<'a, [u8]>>,
    pub kex_group: u32,
}

impl Decoded<'_> {
    /// The cipher (a checked `Decoded` always has one).
    pub fn cipher(&self) -> &'static Cipher {
        self.cipher.expect("a checked session has a cipher")
    }

    /// `0x03000000 | code`, what 3.0 stores as the cipher id.
    pub fn cipher_id(&self) -> u32 {
        0x0300_0000
            | u32::from(u16::from_be_bytes([
                self.cipher_code[0],
                self.cipher_code[1],
            ]))
    }

    /// 0 when absent.
    pub fn compress_meth(&self) -> u8 {
        self.comp_id.as_deref().map_or(0, |c| c[0])
    }
}

impl<'a> Decoded<'a> {
    /// Store the value of INTEGER field `f`, as the bits `c2i_int` gives.
    #[inline(always)]
    pub(super) fn set_int(&mut self, f: Field, v: u64) {
        match f {
            Field::Version => self.version = v as u32,
            Field::SslVersion => self.ssl_version = v as u32 as i32,
            Field::Time => self.time = v as i64,
            Field::Timeout => self.timeout = v as i64,
            Field::VerifyResult => self.verify_result = v as u32 as i32,
            Field::TickLifetimeHint => self.tick_lifetime_hint = v,
            Field::Flags => self.flags = v,
            Field::TickAgeAdd => self.tick_age_add = v as u32,
            Field::MaxEarlyData => self.max_early_data = v as u32,
            Field::MaxFragmentLenMode => self.max_fragment_len_mode = v as u32,
            Field::KexGroup => self.kex_group = v as u32,
            _ => unreachable!("{f:?} is not an INTEGER field"),
        }
    }

    /// Store the content of OCTET STRING field `f` (key_arg is dropped).
    #[inline(always)]
    pub(super) fn set_bytes(&mut self, f: Field, v: Cow<'a, [u8]>) {
        let slot = match f {
            Field::CipherCode => return self.cipher_code = v,
            Field::SessionId => return self.session_id = v,
            Field::MasterKey => return self.master_key = v,
            Field::KeyArg => return,
            Field::SidCtx => &mut self.sid_ctx,
            Field::Hostname => &mut self.hostname,
            Field::PskIdentityHint => &mut self.psk_identity_hint,
            Field::PskIdentity => &mut self.psk_identity,
            Field::Ticket => &mut self.ticket,
            Field::CompId => &mut self.comp_id,
            Field::SrpUsername => &mut self.srp_username,
            Field::AlpnSelected => &mut self.alpn_selected,
            Field::TicketAppdata => &mut self.ticket_appdata,
            _ => unreachable!("{f:?} is not an OCTET STRING field"),
        };
        *slot = Some(v);
    }
}

/// Field by field (the cipher by address); for the tests that compare the fast path with the
/// template decoder. The destructuring makes a new field a compile error here.
impl PartialEq for Decoded<'_> {
    fn eq(&self, o: &Self) -> bool {
        let Decoded {
            consumed,
            cipher,
            version,
            ssl_version,
            cipher_code,
            session_id,
            master_key,
            time,
            timeout,
            peer,
            sid_ctx,
            verify_result,
            hostname,
            psk_identity_hint,
            psk_identity,
            tick_lifetime_hint,
            ticket,
            comp_id,
            srp_username,
            flags,
            tick_age_add,
            max_early_data,
            alpn_selected,
            max_fragment_len_mode,
            ticket_appdata,
            kex_group,
        } = self;
        cipher.map(|c| c as *const Cipher) == o.cipher.map(|c| c as *const Cipher)
            && *consumed == o.consumed
            && *version == o.version
            && *ssl_version == o.ssl_version
            && *cipher_code == o.cipher_code
            && *session_id == o.session_id
            && *master_key == o.master_key
            && *time == o.time
            && *timeout == o.timeout
            && *peer == o.peer
            && *sid_ctx == o.sid_ctx
            && *verify_result == o.verify_result
            && *hostname == o.hostname
            && *psk_identity_hint == o.psk_identity_hint
            && *psk_identity == o.psk_identity
            && *tick_lifetime_hint == o.tick_lifetime_hint
            && *ticket == o.ticket
            && *comp_id == o.comp_id
            && *srp_username == o.srp_username
            && *flags == o.flags
            && *tick_age_add == o.tick_age_add
            && *max_early_data == o.max_early_data
            && *alpn_selected == o.alpn_selected
            && *max_fragment_len_mode == o.max_fragment_len_mode
            && *ticket_appdata == o.ticket_appdata
            && *kex_group == o.kex_group
    }
}

impl std::fmt::Debug for Decoded<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let len = |b: &Option<Cow<'_, [u8]>>| b.as_ref().map(|b| b.len());
        f.debug_struct("Decoded")
            .field("consumed", &self.consumed)
            .field("cipher", &self.cipher.map(|c| c.id))
            .field("version", &self.version)
            .field("ssl_version", &self.ssl_version)
            .field("cipher_code", &self.cipher_code)
            .field("session_id_len", &self.session_id.len())
            .field("master_key_len", &self.master_key.len())
            .field("time", &self.time)
            .field("timeout", &self.timeout)
            .field("peer_len", &len(&self.peer))
            .field("sid_ctx_len", &len(&self.sid_ctx))
            .field("verify_result", &self.verify_result)
            .field("hostname_len", &len(&self.hostname))
            .field("psk_identity_hint_len", &len(&self.psk_identity_hint))
            .field("psk_identity_len", &len(&self.psk_identity))
            .field("tick_lifetime_hint", &self.tick_lifetime_hint)
            .field("ticket_len", &len(&self.ticket))
            .field("comp_id", &self.comp_id)
            .field("srp_username_len", &len(&self.srp_username))
            .field("flags", &self.flags)
            .field("tick_age_add", &self.tick_age_add)
            .field("max_early_data", &self.max_early_data)
            .field("alpn_selected_len", &len(&self.alpn_selected))
            .field("max_fragment_len_mode", &self.max_fragment_len_mode)
            .field("ticket_appdata_len", &len(&self.ticket_appdata))
            .field("kex_group", &self.kex_group)
            .finish()
    }
}

/// `d2i_SSL_SESSION`'s checks after the template decode; sets `d.cipher`.
#[inline(always)]
pub(super) fn check(d: &mut Decoded<'_>) -> Result<(), DecodeError> {
    if d.version != 1 {
        return Err(DecodeError::Ssl {
            reason: SSL_R_UNKNOWN_SSL_VERSION,
        });
    }
    let v = d.ssl_version;
    if (v >> 8) != 0x03 && (v >> 8) != 0xFE && v != 0x0100 {
        return Err(DecodeError::Ssl {
            reason: SSL_R_UNSUPPORTED_SSL_VERSION,
        });
    }
    let &[c0, c1] = &d.cipher_code[..] else {
        return Err(DecodeError::Ssl {
            reason: SSL_R_CIPHER_CODE_WRONG_LENGTH,
        });
    };
    let code = u16::from_be_bytes([c0, c1]);
    let cipher = cipher::find(code).ok_or(DecodeError::Silent(Silent::UnknownCipher(code)))?;
    if d.session_id.len() > MAX_ID_LEN {
        return Err(DecodeError::Silent(Silent::SessionIdTooLong));
    }
    if d.master_key.len() > MAX_MASTER_KEY_LEN {
        return Err(DecodeError::Silent(Silent::MasterKeyTooLong));
    }
    if d.sid_ctx.as_ref().is_some_and(|c| c.len() > MAX_ID_LEN) {
        return Err(DecodeError::Silent(Silent::SidCtxTooLong));
    }
    if d.comp_id.as_ref().is_some_and(|c| c.len() != 1) {
        return Err(DecodeError::Ssl {
            reason: SSL_R_BAD_LENGTH,
        });
    }
    d.cipher = Some(cipher);
    Ok(())
}

/// The timeout d2i gives a session whose input has none (or 0).
pub const DECODED_DEFAULT_TIMEOUT: i64 = 3;

/// Install decoded values into `s` (fresh from `SessionData::new`, or a reused session) the
/// way 3.0's `d2i_SSL_SESSION` does on success: absent time → `now`, absent/0 timeout → 3,
/// absent verify result → 0, absent strings/ALPN/app data/ticket cleared, the peer replaced
/// (by nothing when absent). Every field is set but `not_resumable`, left alone as in 3.0.
/// Differences from 3.0, on purpose: the ticket length is cleared with the ticket (3.0
/// keeps a stale `ticklen`), and since this cannot fail, a rejected input never reaches the
/// target (3.0 may have partly overwritten a reused `*a` by then).
/// Time and timeout are stored as given (any `i64`, e.g. `i64::MAX` for both): no
/// arithmetic happens here; whoever computes an expiry from them must saturate.
#[inline(always)]
pub fn install(d: &Decoded<'_>, s: &mut SessionData, now: i64) {
    #[inline(always)]
    fn text<const N: usize>(v: &Option<Cow<'_, [u8]>>) -> Option<Text<N>> {
        v.as_deref().map(Text::new)
    }
    #[inline(always)]
    fn bytes<const N: usize>(v: &Option<Cow<'_, [u8]>>) -> Option<Bytes<N>> {
        v.as_deref().map(Bytes::new)
    }
    let id = |b: &[u8]| IdBuf::new(b).expect("checked: at most 32 bytes");
    // Destructured, so that a new field of SessionData is a compile error here.
    let SessionData {
        ssl_version,
        cipher,
        cipher_id,
        session_id,
        sid_ctx,
        master_key,
        psk_identity_hint,
        psk_identity,
        srp_username,
        hostname,
        not_resumable: _,
        peer,
        verify_result,
        time,
        timeout,
        compress_meth,
        kex_group,
        ticket,
        tick_lifetime_hint,
        tick_age_add,
        max_early_data,
        alpn_selected,
        max_fragment_len_mode,
        ticket_appdata,
        flags,
    } = s;
    *ssl_version = d.ssl_version;
    *cipher = Some(d.cipher());
    *cipher_id = d.cipher_id();
    *session_id = id(&d.session_id);
    *sid_ctx = id(d.sid_ctx.as_deref().unwrap_or(&[]));
    *master_key = if d.master_key.is_empty() {
        None
    } else {
        Some(Bytes::new(&d.master_key))
    };
    *psk_identity_hint = text(&d.psk_identity_hint);
    *psk_identity = text(&d.psk_identity);
    *srp_username = text(&d.srp_username);
    *hostname = text(&d.hostname);
    *peer = d.peer.as_deref().map(|c| Arc::new(PeerCert::from_der(c)));
    *verify_result = i64::from(d.verify_result);
    *time = if d.time != 0 { d.time } else { now };
    *timeout = if d.timeout != 0 {
        d.timeout
    } else {
        DECODED_DEFAULT_TIMEOUT
    };
    *compress_meth = u32::from(d.compress_meth());
    *kex_group = d.kex_group;
    *ticket = bytes(&d.ticket);
    *tick_lifetime_hint = d.tick_lifetime_hint;
    *tick_age_add = d.tick_age_add;
    *max_early_data = d.max_early_data;
    *alpn_selected = bytes(&d.alpn_selected);
    *max_fragment_len_mode = d.max_fragment_len_mode as u8;
    *ticket_appdata = bytes(&d.ticket_appdata);
    *flags = d.flags as u32;
}

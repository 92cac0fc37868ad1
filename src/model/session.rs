//! The session model: every field of OpenSSL 3.0's `struct ssl_session_st` that is
//! observable through the public API or the DER/text formats, with OpenSSL's defaults and
//! setter rules. Safe Rust only; the C-facing object that holds one lives in `handle/arena.rs`.

use crate::model::bytes::{wipe, Bytes, Text};
use crate::model::cipher::Cipher;
use crate::model::peer::PeerCert;
use std::sync::Arc;

/// `SSL_MAX_SSL_SESSION_ID_LENGTH` and `SSL_MAX_SID_CTX_LENGTH`.
pub const MAX_ID_LEN: usize = 32;
/// The real size of OpenSSL 3.0's master key buffer (`TLS13_MAX_RESUMPTION_PSK_LENGTH`),
/// not `SSL_MAX_MASTER_KEY_LENGTH` (48): both `set1_master_key` and d2i accept up to 512.
pub const MAX_MASTER_KEY_LEN: usize = 512;
/// `SSL_SESSION_new`'s timeout: 5 minutes + 4 seconds, as in ssl_sess.c.
pub const DEFAULT_TIMEOUT: i64 = 304;
/// `X509_V_ERR_UNSPECIFIED`: a fresh session is deliberately not "verified ok".
pub const DEFAULT_VERIFY_RESULT: i64 = 1;
/// `TLSEXT_max_fragment_length_UNSPECIFIED`.
pub const MAX_FRAGMENT_UNSPECIFIED: u8 = 255;
pub const TLS1_3_VERSION: i32 = 0x0304;

/// A session ID or ID context: at most 32 bytes, stored inline so `get_id` can return a
/// pointer that stays valid for the session's life, as OpenSSL's does.
#[derive(Clone, Copy, Default)]
pub struct IdBuf {
    len: u8,
    buf: [u8; MAX_ID_LEN],
}

impl IdBuf {
    /// `None` when `data` is longer than 32 bytes.
    pub fn new(data: &[u8]) -> Option<Self> {
        if data.len() > MAX_ID_LEN {
            return None;
        }
        let mut id = IdBuf::default();
        match <&[u8; MAX_ID_LEN]>::try_from(data) {
            // The usual full-length ID: a fixed-size copy, no call.
            Ok(full) => id.buf = *full,
            Err(_) => id.buf[..data.len()].copy_from_slice(data),
        }
        id.len = data.len() as u8;
        Some(id)
    }
    pub fn as_slice(&self) -> &[u8] {
        &self.buf[..self.len as usize]
    }
    /// The start of the inline buffer (valid even when the length is 0).
    pub fn as_ptr(&self) -> *const u8 {
        self.buf.as_ptr()
    }
    /// Only the used bytes can be non-zero (`new` zero-fills the rest); the whole buffer is
    /// cleared (a fixed size: no call).
    pub fn wipe(&mut self) {
        if self.len > 0 {
            wipe(&mut self.buf);
            self.len = 0;
        }
    }
}

impl std::fmt::Debug for IdBuf {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "IdBuf({} bytes)", self.len)
    }
}

/// What the session's cipher is: OpenSSL keeps a table pointer *and* a numeric id, and
/// `SSL_SESSION_set_cipher` changes only the pointer, so both are kept.
#[derive(Clone, Debug)]
pub struct SessionData {
    pub ssl_version: i32,
    pub cipher: Option<&'static Cipher>,
    /// `0x03000000 | code` after d2i; 0 on a fresh session. Never touched by set_cipher.
    pub cipher_id: u32,
    pub session_id: IdBuf,
    pub sid_ctx: IdBuf,
    /// The master secret, or the resumption PSK for TLS 1.3 (up to 512 bytes).
    pub master_key: Option<Bytes<48>>,
    pub psk_identity_hint: Option<Text>,
    pub psk_identity: Option<Text>,
    pub srp_username: Option<Text>,
    pub hostname: Option<Text<32>>,
    pub not_resumable: bool,
    /// Shared between a session and its dups, as OpenSSL shares the X509 by up-ref.
    pub peer: Option<Arc<PeerCert>>,
    pub verify_result: i64,
    pub time: i64,
    pub timeout: i64,
    pub compress_meth: u32,
    pub kex_group: u32,
    /// The ticket buffer; `None` and `Some(empty)` differ in DER and print output.
    pub ticket: Option<Bytes>,
    pub tick_lifetime_hint: u64,
    pub tick_age_add: u32,
    pub max_early_data: u32,
    pub alpn_selected: Option<Bytes<16>>,
    pub max_fragment_len_mode: u8,
    pub ticket_appdata: Option<Bytes<32>>,
    /// Bit 0: extended master secret.
    pub flags: u32,
}

impl SessionData {
    /// The state `SSL_SESSION_new` leaves: zeroes, plus OpenSSL 3.0's few non-zero defaults.
    #[inline(always)]
    pub fn new(now: i64) -> Self {
        SessionData {
            ssl_version: 0,
            cipher: None,
            cipher_id: 0,
            session_id: IdBuf::default(),
            sid_ctx: IdBuf::default(),
            master_key: None,
            psk_identity_hint: None,
            psk_identity: None,
            srp_username: None,
            hostname: None,
            not_resumable: false,
            peer: None,
            verify_result: DEFAULT_VERIFY_RESULT,
            time: now,
            timeout: DEFAULT_TIMEOUT,
            compress_meth: 0,
            kex_group: 0,
            ticket: None,
            tick_lifetime_hint: 0,
            tick_age_add: 0,
            max_early_data: 0,
            alpn_selected: None,
            max_fragment_len_mode: MAX_FRAGMENT_UNSPECIFIED,
            ticket_appdata: None,
            flags: 0,
        }
    }

    /// The copy `SSL_SESSION_dup` makes. Everything is carried over by value except that
    /// a lifetime hint without a ticket is dropped (OpenSSL resets it in that case).
    #[inline(always)]
    pub fn dup(&self) -> Self {
        let mut d = self.clone();
        if d.ticket.is_none() {
            d.tick_lifetime_hint = 0;
        }
        d
    }

    pub fn master_key(&self) -> &[u8] {
        self.master_key.as_ref().map_or(&[], |b| b.as_slice())
    }

    pub fn ticket_len(&self) -> usize {
        self.ticket.as_ref().map_or(0, |t| t.as_slice().len())
    }

    /// `SSL_SESSION_is_resumable`: a ticket without an ID is enough (EAP-FAST).
    pub fn is_resumable(&self) -> bool {
        !self.not_resumable && (!self.session_id.as_slice().is_empty() || self.ticket_len() > 0)
    }

    /// `SSL_SESSION_get_max_fragment_length`: UNSPECIFIED is reported as DISABLED.
    pub fn max_fragment_length(&self) -> u8 {
        if self.max_fragment_len_mode == MAX_FRAGMENT_UNSPECIFIED {
            0
        } else {
            self.max_fragment_len_mode
        }
    }

    /// `set1_master_key`: false (and no change) above 512 bytes.
    pub fn set_master_key(&mut self, key: &[u8]) -> bool {
        if key.len() > MAX_MASTER_KEY_LEN {
            return false;
        }
        self.master_key = Some(Bytes::new(key));
        true
    }

    /// `get_master_key`: `outlen == 0` asks for the length; otherwise a partial copy.
    pub fn copy_master_key(&self, out: &mut [u8]) -> usize {
        let mk = self.master_key();
        let n = out.len().min(mk.len());
        out[..n].copy_from_slice(&mk[..n]);
        n
    }
}

/// The dropped session's secrets do not linger in freed memory.
impl Drop for SessionData {
    fn drop(&mut self) {
        self.session_id.wipe();
        self.sid_ctx.wipe();
    }
}

/// Optional byte fields whose setters clear on NULL *or* length 0 (alpn, ticket appdata).
pub fn bytes_or_clear<const N: usize>(data: Option<&[u8]>) -> Option<Bytes<N>> {
    match data {
        Some(d) if !d.is_empty() => Some(Bytes::new(d)),
        _ => None,
    }
}

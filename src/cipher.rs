//! Our own static table of the ciphers OpenSSL 3.0's `d2i_SSL_SESSION` accepts, so a
//! session's cipher never needs libssl. `SSL_SESSION_get0_cipher` hands C a pointer to an
//! entry here, as libssl hands out pointers into its own static tables.

use std::ffi::CStr;

/// One cipher suite, with every answer libssl 3.0 gives through the `SSL_CIPHER_*`
/// accessors precomputed (generated from libssl itself, see `tools/gen-cipher-table.c`).
#[repr(C)]
#[derive(Debug)]
pub struct Cipher {
    /// The full 32-bit id (`0x0300xxxx`), as `SSL_CIPHER_get_id` returns it.
    pub id: u32,
    pub name: &'static CStr,
    pub standard_name: &'static CStr,
    /// `SSL_CIPHER_get_version`.
    pub version: &'static CStr,
    /// `SSL_CIPHER_description`'s full line, newline included.
    pub description: &'static CStr,
    pub strength_bits: i32,
    pub alg_bits: i32,
    pub is_aead: bool,
    pub cipher_nid: i32,
    pub digest_nid: i32,
    pub kx_nid: i32,
    pub auth_nid: i32,
    /// NID of the digest `SSL_CIPHER_get_handshake_digest` returns (`NID_undef` = NULL).
    pub handshake_digest_nid: i32,
}

impl Cipher {
    /// `SSL_CIPHER_get_protocol_id`: the two bytes on the wire.
    pub fn protocol_id(&self) -> u16 {
        (self.id & 0xFFFF) as u16
    }
}

include!("cipher_table.rs");

/// The entry for a 2-byte wire code, as libssl's `ssl3_get_cipher_by_id` finds it.
pub fn find(code: u16) -> Option<&'static Cipher> {
    CIPHERS
        .binary_search_by_key(&code, |c| c.protocol_id())
        .ok()
        .map(|i| &CIPHERS[i])
}

/// The entry for a full 32-bit id (`0x0300xxxx`), e.g. from libssl's `SSL_CIPHER_get_id`.
pub fn find_id(id: u32) -> Option<&'static Cipher> {
    find((id & 0xFFFF) as u16).filter(|c| c.id == id)
}

/// The entry at `addr` when `addr` is the address of one of our table entries: how a
/// `const SSL_CIPHER *` from C is recognised as ours rather than libssl's.
pub fn from_addr(addr: usize) -> Option<&'static Cipher> {
    let start = CIPHERS.as_ptr() as usize;
    let size = std::mem::size_of::<Cipher>();
    let off = addr.checked_sub(start)?;
    if off % size != 0 {
        return None;
    }
    CIPHERS.get(off / size)
}

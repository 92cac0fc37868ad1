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
    /// The RFC name; empty when `has_standard_name` is false.
    pub standard_name: &'static CStr,
    /// False for the suites whose standard name libssl gives as NULL (the GOST suites).
    pub has_standard_name: bool,
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

    /// `SSL_CIPHER_standard_name`: `None` where libssl returns NULL.
    pub fn stdname(&self) -> Option<&'static CStr> {
        self.has_standard_name.then_some(self.standard_name)
    }

    /// Copy `SSL_CIPHER_description`'s line, NUL included, to the start of `out`; bytes
    /// after the NUL are left alone, as libssl's `BIO_snprintf` leaves them. False (and
    /// nothing written) when it does not fit, which a buffer of `DESCRIPTION_BUF` bytes
    /// never hits (a test checks every entry).
    pub fn write_description(&self, out: &mut [u8]) -> bool {
        let line = self.description.to_bytes_with_nul();
        match out.get_mut(..line.len()) {
            Some(dst) => {
                dst.copy_from_slice(line);
                true
            }
            None => false,
        }
    }
}

/// The size `SSL_CIPHER_description` allocates when given no buffer, and the smallest
/// caller buffer it accepts.
pub const DESCRIPTION_BUF: usize = 128;

/// What `SSL_CIPHER_description` does with the caller's buffer, decided (as in libssl)
/// before the cipher is looked at.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum DescriptionBuf {
    /// `buf` is NULL: allocate `DESCRIPTION_BUF` bytes with `OPENSSL_malloc` (`size` ignored).
    Allocate,
    /// `size < 128`: return NULL, write nothing.
    TooSmall,
    /// Write into the caller's buffer.
    Caller,
}

pub fn description_buf(buf_is_null: bool, size: i32) -> DescriptionBuf {
    if buf_is_null {
        DescriptionBuf::Allocate
    } else if size < DESCRIPTION_BUF as i32 {
        DescriptionBuf::TooSmall
    } else {
        DescriptionBuf::Caller
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
/// Whether `addr` lies anywhere inside our table (an entry or not).
pub fn in_table(addr: usize) -> bool {
    let start = CIPHERS.as_ptr() as usize;
    addr.wrapping_sub(start) < std::mem::size_of_val(&CIPHERS[..])
}

pub fn from_addr(addr: usize) -> Option<&'static Cipher> {
    let start = CIPHERS.as_ptr() as usize;
    let size = std::mem::size_of::<Cipher>();
    let off = addr.checked_sub(start)?;
    if off % size != 0 {
        return None;
    }
    CIPHERS.get(off / size)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn table_has_the_174_suites_of_openssl_3_0_19_sorted_by_code() {
        assert_eq!(CIPHERS.len(), 174);
        assert!(CIPHERS
            .windows(2)
            .all(|w| w[0].protocol_id() < w[1].protocol_id()));
        assert!(CIPHERS.iter().all(|c| c.id >> 16 == 0x0300));
    }

    #[test]
    fn find_and_from_addr_agree_with_the_table() {
        for (i, c) in CIPHERS.iter().enumerate() {
            assert!(std::ptr::eq(find(c.protocol_id()).unwrap(), c));
            let addr = c as *const Cipher as usize;
            assert!(std::ptr::eq(from_addr(addr).unwrap(), &CIPHERS[i]));
            assert!(from_addr(addr + 1).is_none());
        }
        assert!(find(0x0000).is_none());
        assert!(find(0x0003).is_none()); // export suites are gone from 3.0
        assert!(find(0x00FF).is_some()); // the SCSVs are in libssl's table, so in ours
        assert!(find(0x5600).is_some());
        let end = CIPHERS.as_ptr_range().end as usize;
        assert!(from_addr(end).is_none());
        assert!(from_addr(CIPHERS.as_ptr() as usize - 1).is_none());
        assert!(from_addr(0).is_none());
    }

    #[test]
    fn every_description_fits_libssls_buffer_and_ends_in_newline() {
        for c in &CIPHERS {
            let line = c.description.to_bytes();
            assert!(line.len() < DESCRIPTION_BUF, "{:?}", c.name);
            assert_eq!(line.last(), Some(&b'\n'));
            let mut out = [b'X'; DESCRIPTION_BUF];
            assert!(c.write_description(&mut out));
            assert_eq!(&out[..=line.len()], c.description.to_bytes_with_nul());
            assert!(out[line.len() + 1..].iter().all(|&b| b == b'X'));
            assert!(!c.write_description(&mut out[..line.len()]));
        }
    }

    #[test]
    fn standard_name_is_absent_only_for_the_gost_suites() {
        let absent: Vec<u16> = CIPHERS
            .iter()
            .filter(|c| c.stdname().is_none())
            .map(Cipher::protocol_id)
            .collect();
        assert_eq!(absent, [0xC100, 0xC101, 0xC102, 0xFF85, 0xFF87]);
    }

    #[test]
    fn description_buffer_rules() {
        assert_eq!(description_buf(true, -1), DescriptionBuf::Allocate);
        assert_eq!(description_buf(true, 0), DescriptionBuf::Allocate);
        assert_eq!(description_buf(false, 127), DescriptionBuf::TooSmall);
        assert_eq!(description_buf(false, i32::MIN), DescriptionBuf::TooSmall);
        assert_eq!(description_buf(false, 128), DescriptionBuf::Caller);
    }
}

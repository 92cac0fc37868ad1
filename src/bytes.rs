//! Immutable byte buffers shared copy-on-write between a session and its dups.
//!
//! `SSL_SESSION_dup` must give an independent copy, yet copying every buffer costs a
//! malloc each. A buffer here is never mutated after creation: setters replace it, so a
//! dup can share it. The bytes are zeroed when the last holder lets go, because some of
//! them (master key, ticket) are secrets.

use std::sync::Arc;

struct Zeroing(Box<[u8]>);

impl Drop for Zeroing {
    fn drop(&mut self) {
        wipe(&mut self.0);
    }
}

/// A shared, immutable, zero-on-release byte buffer.
#[derive(Clone)]
pub struct Bytes(Arc<Zeroing>);

impl Bytes {
    pub fn new(data: &[u8]) -> Self {
        Bytes(Arc::new(Zeroing(data.into())))
    }

    pub fn as_slice(&self) -> &[u8] {
        &self.0 .0
    }

    pub fn as_ptr(&self) -> *const u8 {
        self.0 .0.as_ptr()
    }
}

impl std::fmt::Debug for Bytes {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Bytes({} bytes)", self.0 .0.len())
    }
}

/// A C string owned by a session: the bytes up to (not including) the first NUL, stored
/// with a terminating NUL so `get0` getters can hand C a pointer.
#[derive(Clone, Debug)]
pub struct Text(Bytes);

impl Text {
    /// Takes the bytes before the first NUL, as OpenSSL's `strndup`-style copies do.
    pub fn new(data: &[u8]) -> Self {
        let end = data.iter().position(|&b| b == 0).unwrap_or(data.len());
        let mut v = Vec::with_capacity(end + 1);
        v.extend_from_slice(&data[..end]);
        v.push(0);
        Text(Bytes(Arc::new(Zeroing(v.into_boxed_slice()))))
    }

    /// The string without its NUL.
    pub fn as_bytes(&self) -> &[u8] {
        let s = self.0.as_slice();
        &s[..s.len() - 1]
    }

    /// Start of the NUL-terminated string.
    pub fn as_ptr(&self) -> *const u8 {
        self.0.as_ptr()
    }
}

/// Zero a buffer in a way the optimiser keeps, although the memory is about to be freed.
pub fn wipe(buf: &mut [u8]) {
    for b in buf.iter_mut() {
        *b = 0;
    }
    // The fence and black_box stop the stores above from being treated as dead.
    std::sync::atomic::compiler_fence(std::sync::atomic::Ordering::SeqCst);
    std::hint::black_box(buf);
}

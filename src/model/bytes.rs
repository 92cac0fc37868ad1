//! The session's byte buffers: small ones inline, large ones shared copy-on-write.
//!
//! `SSL_SESSION_dup` must give an independent copy, and it is on hot paths (server
//! session caches), so it must not malloc per field. A buffer of up to `N` bytes lives
//! inline and is copied with the session; a larger one is immutable and shared between a
//! session and its dups (setters replace it, never change it), so a dup costs one
//! reference count. Either way the bytes are wiped when released: some are secrets
//! (master key, ticket). A shared buffer is one allocation (counts and bytes together):
//! d2i of a session with a ticket then costs one malloc and its free one free.

use std::sync::Arc;

/// The bytes of a shared buffer, wiped when the last reference to them goes (Arc's own
/// count decides, so two holders dropping at once cannot both skip it).
#[repr(transparent)]
pub struct Zeroing([u8]);

impl Zeroing {
    /// `src` in one allocation (the reference counts and the bytes together).
    fn shared(src: Arc<[u8]>) -> Arc<Zeroing> {
        // SAFETY: `Zeroing` is `repr(transparent)` over `[u8]`: the same layout and the same
        // pointer metadata (the length), so the `ArcInner<[u8]>` behind `src` is a valid
        // `ArcInner<Zeroing>`, as `Arc::from_raw` requires. std turns an `Arc<OsStr>` into
        // an `Arc<Path>` the same way.
        unsafe { Arc::from_raw(Arc::into_raw(src) as *const Zeroing) }
    }
}

impl Drop for Zeroing {
    fn drop(&mut self) {
        wipe(&mut self.0);
    }
}

/// An immutable byte buffer, inline up to `N` bytes (N < 256).
#[derive(Clone)]
pub enum Bytes<const N: usize = 0> {
    Inline { len: u8, data: [u8; N] },
    Shared(Arc<Zeroing>),
}

impl<const N: usize> Bytes<N> {
    pub fn new(src: &[u8]) -> Self {
        if src.len() <= N {
            let data = match <&[u8; N]>::try_from(src) {
                // Exactly N bytes (a 48-byte master key): a fixed-size copy, no call.
                Ok(full) => *full,
                Err(_) => {
                    let mut data = [0; N];
                    data[..src.len()].copy_from_slice(src);
                    data
                }
            };
            Bytes::Inline {
                len: src.len() as u8,
                data,
            }
        } else {
            Bytes::Shared(Zeroing::shared(Arc::from(src)))
        }
    }

    pub fn as_slice(&self) -> &[u8] {
        match self {
            Bytes::Inline { len, data } => &data[..*len as usize],
            Bytes::Shared(z) => &z.0,
        }
    }

    /// Where the bytes are; stable for as long as this value is not moved or dropped
    /// (inline data moves with the session slot, which never moves).
    pub fn as_ptr(&self) -> *const u8 {
        self.as_slice().as_ptr()
    }
}

impl<const N: usize> Drop for Bytes<N> {
    fn drop(&mut self) {
        // Only the used bytes can be non-zero (`new` zero-fills the rest); the whole buffer
        // is cleared (a fixed size: no call).
        if let Bytes::Inline { data, len } = self {
            if *len > 0 {
                wipe(data);
            }
        }
    }
}

impl<const N: usize> std::fmt::Debug for Bytes<N> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Bytes({} bytes)", self.as_slice().len())
    }
}

/// A C string owned by a session: the bytes up to (not including) the first NUL, stored
/// with a terminating NUL so `get0` getters can hand C a pointer. Inline up to `N` bytes,
/// NUL included.
#[derive(Clone, Debug)]
pub struct Text<const N: usize = 0>(Bytes<N>);

impl<const N: usize> Text<N> {
    /// Takes the bytes before the first NUL, as OpenSSL's `strndup`-style copies do.
    pub fn new(src: &[u8]) -> Self {
        let end = src.iter().position(|&b| b == 0).unwrap_or(src.len());
        if end < N {
            let mut data = [0; N];
            data[..end].copy_from_slice(&src[..end]);
            return Text(Bytes::Inline {
                len: end as u8 + 1,
                data,
            });
        }
        let with_nul = src[..end].iter().copied().chain(std::iter::once(0));
        Text(Bytes::Shared(Zeroing::shared(with_nul.collect())))
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn small_is_inline_large_is_shared_and_both_read_back() {
        let small: Bytes<8> = Bytes::new(b"12345678");
        assert!(matches!(small, Bytes::Inline { .. }));
        assert_eq!(small.clone().as_slice(), b"12345678");
        let large: Bytes<8> = Bytes::new(b"123456789");
        assert!(matches!(large, Bytes::Shared(_)));
        assert_eq!(
            large.as_ptr(),
            large.clone().as_ptr(),
            "dups share large buffers"
        );
        let t: Text<4> = Text::new(b"abc\0def");
        assert_eq!(t.as_bytes(), b"abc");
        assert!(matches!(t.0, Bytes::Inline { .. }));
        let t: Text<4> = Text::new(b"abcd");
        assert_eq!(t.as_bytes(), b"abcd");
        assert!(matches!(t.0, Bytes::Shared(_)));
        let empty: Text<0> = Text::new(b"");
        assert_eq!(empty.as_bytes(), b"");
        assert_eq!(unsafe { *empty.as_ptr() }, 0);
    }
}

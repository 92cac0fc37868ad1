//! The definition a forwarded call goes to, resolved once per state of the loaded set.
//!
//! With a libssl loaded (`loaded.rs`), the first one found: a symbol is looked up in its
//! own lookup scope (libssl, then its libcrypto), so a libssl loaded privately
//! (`RTLD_LOCAL`, invisible to `dlsym(RTLD_NEXT)`) is found as well as one in the global
//! scope. With none, `dlsym(RTLD_NEXT)` (libcrypto, which we link). A definition inside
//! our own object is never used.

use std::ffi::CStr;
use std::sync::atomic::{AtomicU64, Ordering};

/// Low bits: the address, or ABSENT; high bits: the generation it was resolved in.
const ADDR_BITS: u32 = 48;
const ADDR_MASK: u64 = (1 << ADDR_BITS) - 1;
const ABSENT: u64 = 1;

pub struct NextSym {
    /// NUL-terminated.
    name: &'static str,
    cell: AtomicU64,
}

#[inline(always)]
fn tag(generation: usize) -> u64 {
    (generation as u64) << ADDR_BITS
}

impl NextSym {
    pub const fn new(name: &'static str) -> Self {
        NextSym {
            name,
            cell: AtomicU64::new(0),
        }
    }

    /// The address of the definition calls go to, if there is one.
    #[inline(always)]
    pub fn get(&self) -> Option<usize> {
        let v = self.cell.load(Ordering::Acquire);
        // Resolved in this generation (high bits equal) and present.
        let x = v ^ tag(crate::sys::loaded::generation());
        if x >> ADDR_BITS == 0 && x > ABSENT {
            return Some(x as usize);
        }
        self.slow(v)
    }

    /// The definition for an object at `obj`: that of the libssl copy whose segments hold
    /// it, when several are loaded (uncached: only then), else `get()`.
    #[inline(always)]
    pub fn get_for(&self, obj: usize) -> Option<usize> {
        match crate::sys::loaded::owner_of(obj) {
            Some(lib) => {
                let name = CStr::from_bytes_with_nul(self.name.as_bytes()).expect("NUL-terminated");
                lib.sym(name)
            }
            None => self.get(),
        }
    }

    #[cold]
    #[inline(never)]
    fn slow(&self, v: u64) -> Option<usize> {
        let name = CStr::from_bytes_with_nul(self.name.as_bytes()).expect("NUL-terminated");
        // Found absent before: only a change of the loaded set can make it appear.
        let mut fresh = v & ADDR_MASK == ABSENT;
        loop {
            let snap = if fresh {
                crate::sys::loaded::refresh()
            } else {
                crate::sys::loaded::current()
            };
            let g = snap.generation;
            if v == tag(g) | ABSENT {
                return None;
            }
            let a = match snap.libssl.first() {
                Some(lib) => lib.sym(name),
                None => {
                    // SAFETY: name is NUL-terminated; RTLD_NEXT is valid from a shared object.
                    let p = unsafe { libc::dlsym(libc::RTLD_NEXT, name.as_ptr()) } as usize;
                    (p != 0 && !crate::sys::loaded::is_ours(p)).then_some(p)
                }
            };
            let a = a.filter(|&a| a as u64 & !ADDR_MASK == 0 && a as u64 > ABSENT);
            if a.is_none() && !fresh {
                // Absent from what we knew: a libssl may have been loaded since.
                fresh = true;
                continue;
            }
            self.cell
                .store(tag(g) | a.map_or(ABSENT, |a| a as u64), Ordering::Release);
            // Still the same set of objects: the answer holds.
            if crate::sys::loaded::generation() == g {
                return a;
            }
            fresh = false;
        }
    }
}

/// The address of a C function pointer (`F` is one): what the records of callbacks keep.
pub fn fn_addr<F: Copy>(f: F) -> usize {
    const { assert!(std::mem::size_of::<F>() == std::mem::size_of::<usize>()) };
    // SAFETY: F is a function pointer (size checked); its bits are its address.
    unsafe { std::mem::transmute_copy(&f) }
}

/// The C function pointer of type `F` at `addr`: the one conversion of an address
/// (from `dlsym`, or kept by `fn_addr`) back into a typed function pointer.
///
/// # Safety
/// `addr` is the address of a function with `F`'s C prototype.
pub unsafe fn fn_from<F: Copy>(addr: usize) -> F {
    const { assert!(std::mem::size_of::<F>() == std::mem::size_of::<usize>()) };
    // SAFETY: by the caller's contract, the bits of an F.
    unsafe { std::mem::transmute_copy(&addr) }
}

/// `next_fn!(SSL_SESSION_free, unsafe extern "C" fn(*mut SSL_SESSION))` gives
/// `Option<fn>`: libssl's (or libcrypto's) definition of that symbol, typed.
#[macro_export]
macro_rules! next_fn {
    ($name:ident, $ty:ty) => {{
        static SYM: $crate::sys::next::NextSym =
            $crate::sys::next::NextSym::new(concat!(stringify!($name), "\0"));
        // SAFETY: the symbol has this C prototype in libssl/libcrypto 3.0.
        SYM.get()
            .map(|a| unsafe { $crate::sys::next::fn_from::<$ty>(a) })
    }};
    ($name:ident, $ty:ty, for $obj:expr) => {{
        static SYM: $crate::sys::next::NextSym =
            $crate::sys::next::NextSym::new(concat!(stringify!($name), "\0"));
        // SAFETY: the symbol has this C prototype in libssl/libcrypto 3.0.
        SYM.get_for($obj as usize)
            .map(|a| unsafe { $crate::sys::next::fn_from::<$ty>(a) })
    }};
}

//! The next definition of a symbol after ours (`dlsym(RTLD_NEXT)`), resolved once. Under
//! LD_PRELOAD it is libssl's or libcrypto's; when we are linked alone it may not exist.

use std::ffi::CStr;
use std::sync::atomic::{AtomicUsize, Ordering};

const UNRESOLVED: usize = 0;
const ABSENT: usize = 1;

pub struct NextSym {
    name: &'static CStr,
    addr: AtomicUsize,
}

impl NextSym {
    pub const fn new(name: &'static CStr) -> Self {
        NextSym {
            name,
            addr: AtomicUsize::new(UNRESOLVED),
        }
    }

    /// The address of the next definition, if there is one.
    #[inline]
    pub fn get(&self) -> Option<usize> {
        let mut a = self.addr.load(Ordering::Acquire);
        if a == UNRESOLVED {
            // SAFETY: name is NUL-terminated; RTLD_NEXT is valid from inside a shared object
            // or an executable. Racing resolutions store the same value.
            let p = unsafe { libc::dlsym(libc::RTLD_NEXT, self.name.as_ptr()) };
            a = if p.is_null() { ABSENT } else { p as usize };
            self.addr.store(a, Ordering::Release);
        }
        (a != ABSENT).then_some(a)
    }
}

/// `next_fn!(c"SSL_SESSION_free", unsafe extern "C" fn(*mut SSL_SESSION))` gives
/// `Option<fn>`: the next definition of that symbol, typed.
#[macro_export]
macro_rules! next_fn {
    ($name:literal, $ty:ty) => {{
        static SYM: $crate::next::NextSym = $crate::next::NextSym::new($name);
        // SAFETY: the symbol has this C prototype in libssl/libcrypto 3.0.
        SYM.get()
            .map(|a| unsafe { ::std::mem::transmute::<usize, $ty>(a) })
    }};
}

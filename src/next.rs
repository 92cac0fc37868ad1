//! The next definition of a symbol after ours (`dlsym(RTLD_NEXT)`), resolved once. Under
//! LD_PRELOAD it is libssl's or libcrypto's; when we are linked alone it may not exist.

use std::ffi::CStr;
use std::sync::atomic::{AtomicUsize, Ordering};

const UNRESOLVED: usize = 0;
const ABSENT: usize = 1;

/// Bumped when objects were loaded since the last look (`caller::refresh`): a symbol
/// found absent is then looked up again, since a libssl opened later may define it.
static GENERATION: AtomicUsize = AtomicUsize::new(0);

/// Objects were loaded: forget which symbols were absent.
pub fn new_generation() {
    GENERATION.fetch_add(1, Ordering::AcqRel);
}

pub struct NextSym {
    /// NUL-terminated.
    name: &'static str,
    addr: AtomicUsize,
    /// The generation in which the symbol was found absent.
    absent_in: AtomicUsize,
}

impl NextSym {
    pub const fn new(name: &'static str) -> Self {
        NextSym {
            name,
            addr: AtomicUsize::new(UNRESOLVED),
            absent_in: AtomicUsize::new(0),
        }
    }

    /// The address of the next definition, if there is one.
    #[inline]
    pub fn get(&self) -> Option<usize> {
        let mut a = self.addr.load(Ordering::Acquire);
        if a == ABSENT
            && self.absent_in.load(Ordering::Relaxed) != GENERATION.load(Ordering::Acquire)
        {
            a = UNRESOLVED;
        }
        if a == UNRESOLVED {
            let generation = GENERATION.load(Ordering::Acquire);
            // SAFETY: name is NUL-terminated; RTLD_NEXT is valid from inside a shared object
            // or an executable. Racing resolutions store the same value.
            let name = CStr::from_bytes_with_nul(self.name.as_bytes()).expect("NUL-terminated");
            let p = unsafe { libc::dlsym(libc::RTLD_NEXT, name.as_ptr()) };
            a = if p.is_null() { ABSENT } else { p as usize };
            self.absent_in.store(generation, Ordering::Relaxed);
            self.addr.store(a, Ordering::Release);
        }
        (a != ABSENT).then_some(a)
    }
}

/// `next_fn!(SSL_SESSION_free, unsafe extern "C" fn(*mut SSL_SESSION))` gives
/// `Option<fn>`: the next definition of that symbol, typed.
#[macro_export]
macro_rules! next_fn {
    ($name:ident, $ty:ty) => {{
        static SYM: $crate::next::NextSym =
            $crate::next::NextSym::new(concat!(stringify!($name), "\0"));
        // SAFETY: the symbol has this C prototype in libssl/libcrypto 3.0.
        SYM.get()
            .map(|a| unsafe { ::std::mem::transmute::<usize, $ty>(a) })
    }};
}

/// The `foreign` argument of `ffi::with_session`: a closure that calls the next definition
/// of the exported function with the same arguments, if there is one.
/// `forward!(SSL_SESSION_free(ses) as unsafe extern "C" fn(*mut SSL_SESSION))`.
#[macro_export]
macro_rules! forward {
    ($name:ident ( $($arg:ident),* ) as $ty:ty) => {
        // SAFETY: an object that is not ours goes, unchanged, to the library that made it.
        || {
            $crate::next_fn!($name, $ty).map(|f| {
                // The arguments are the exported function's own parameters, unchanged.
                #[allow(clippy::macro_metavars_in_unsafe)]
                unsafe {
                    f($($arg),*)
                }
            })
        }
    };
}

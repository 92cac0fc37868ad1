//! Exported entry points that know their caller.
//!
//! The constructors (`SSL_SESSION_new`, `d2i_SSL_SESSION`, the PEM readers) must know
//! whether libssl called them (`sys::caller`), and the sanitizer records who took or
//! dropped a reference (up_ref, free, `SSL_get_session`). Rust has no stable
//! `return_address()`, and a C shim cannot hold the exported name (rustc's version script
//! for a cdylib exports Rust items only), so the exported symbol itself is a naked function
//! of two instructions: it puts its return address, still at the top of the stack (x86-64)
//! or in the link register (AArch64), in the next free argument register and jumps to the
//! Rust implementation, which takes it as one more argument. The implementation then
//! returns straight to the original caller. Other architectures get a plain call passing
//! 0 ("not libssl").
//!
//! An export written with it:
//!
//! ```text
//! #[cfg_attr(any(target_arch = "x86_64", target_arch = "aarch64"), unsafe(naked))]
//! #[no_mangle]
//! pub extern "C" fn SSL_SESSION_free(ses: *mut SSL_SESSION) {
//!     with_caller!(free_from(ses))
//! }
//! extern "C" fn free_from(ses: *mut SSL_SESSION, ra: usize) { entry!(slot SSL_SESSION_free(ses) ..) }
//! ```

/// The register moves of a naked entry with that many integer arguments: the return
/// address becomes the next argument, then a tail jump to `{f}`.
#[cfg(target_arch = "x86_64")]
macro_rules! pass_caller {
    () => {
        "mov rdi, [rsp]\njmp {f}"
    };
    ($a:ident) => {
        "mov rsi, [rsp]\njmp {f}"
    };
    ($a:ident, $b:ident, $c:ident) => {
        "mov rcx, [rsp]\njmp {f}"
    };
    ($a:ident, $b:ident, $c:ident, $d:ident) => {
        "mov r8, [rsp]\njmp {f}"
    };
}

#[cfg(target_arch = "aarch64")]
macro_rules! pass_caller {
    () => {
        "mov x0, x30\nb {f}"
    };
    ($a:ident) => {
        "mov x1, x30\nb {f}"
    };
    ($a:ident, $b:ident, $c:ident) => {
        "mov x3, x30\nb {f}"
    };
    ($a:ident, $b:ident, $c:ident, $d:ident) => {
        "mov x4, x30\nb {f}"
    };
}

/// The whole body of an export that passes its caller to `$imp(args.., return address)`.
#[cfg(any(target_arch = "x86_64", target_arch = "aarch64"))]
macro_rules! with_caller {
    ($imp:ident($($arg:ident),*)) => {
        core::arch::naked_asm!($crate::capi::entry::pass_caller!($($arg),*), f = sym $imp)
    };
}

#[cfg(not(any(target_arch = "x86_64", target_arch = "aarch64")))]
macro_rules! with_caller {
    ($imp:ident($($arg:ident),*)) => {
        $imp($($arg,)* 0)
    };
}

#[cfg(any(target_arch = "x86_64", target_arch = "aarch64"))]
pub(crate) use pass_caller;
pub(crate) use with_caller;

//! Exported entry points that know their caller.
//!
//! The constructors (`SSL_SESSION_new`, `d2i_SSL_SESSION`, the PEM readers) must know
//! whether libssl called them (`caller.rs`). Rust has no stable `return_address()`, and a C
//! shim cannot hold the exported name (rustc's version script for a cdylib exports Rust
//! items only), so the exported symbol itself is a naked function of two instructions: it
//! puts its return address, still at the top of the stack (x86-64) or in the link register
//! (AArch64), in the next free argument register and jumps to the Rust implementation,
//! which takes it as one more argument. The implementation then returns straight to the
//! original caller. Other architectures get a plain wrapper passing 0 ("not libssl").

/// The body of a naked entry with `$n` integer arguments: the return address becomes
/// argument `$n + 1`, then a tail jump to `{f}`.
#[cfg(target_arch = "x86_64")]
macro_rules! pass_caller {
    (0) => {
        "mov rdi, [rsp]\njmp {f}"
    };
    (3) => {
        "mov rcx, [rsp]\njmp {f}"
    };
    (4) => {
        "mov r8, [rsp]\njmp {f}"
    };
}

#[cfg(target_arch = "aarch64")]
macro_rules! pass_caller {
    (0) => {
        "mov x0, x30\nb {f}"
    };
    (3) => {
        "mov x3, x30\nb {f}"
    };
    (4) => {
        "mov x4, x30\nb {f}"
    };
}

#[cfg(any(target_arch = "x86_64", target_arch = "aarch64"))]
pub(crate) use pass_caller;

//! The exported C functions, one file per family. Each body is a call into `ffi.rs` and
//! the safe modules; nothing else in the crate is `#[no_mangle]`.

pub mod accessors;
pub mod cipher;
pub mod ex_data;
pub mod lifecycle;

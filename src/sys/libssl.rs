//! libssl's entry points that more than one room calls itself (outside forwarding an
//! export), typed once here; one that a single file calls is typed there. Each is found as `next` finds a forwarded call's target: in the first
//! libssl loaded. The prototypes are OpenSSL 3.0's; capi checks at compile time that
//! those we also export have the export's type (see `capi::lifecycle`, `capi::codec`).

use crate::next_fn;
use crate::sys::{SSL_CIPHER, SSL_SESSION};
use libc::{c_int, c_long, c_uchar, c_void};

/// libssl's `SSL` and `SSL_CTX`, opaque.
pub type Ssl = c_void;
pub type SslCtx = c_void;

pub type New = unsafe extern "C" fn() -> *mut SSL_SESSION;
pub type D2i =
    unsafe extern "C" fn(*mut *mut SSL_SESSION, *mut *const c_uchar, c_long) -> *mut SSL_SESSION;
pub type Free = unsafe extern "C" fn(*mut SSL_SESSION);
pub type UpRef = unsafe extern "C" fn(*mut SSL_SESSION) -> c_int;
pub type SetExData = unsafe extern "C" fn(*mut SSL_SESSION, c_int, *mut c_void) -> c_int;
pub type Get0Cipher = unsafe extern "C" fn(*const SSL_SESSION) -> *const SSL_CIPHER;
/// `SSL_get_ex_data` / `SSL_CTX_get_ex_data`.
pub type GetEx = unsafe extern "C" fn(*const c_void, c_int) -> *mut c_void;
/// `SSL_set_ex_data` / `SSL_CTX_set_ex_data`.
pub type SetEx = unsafe extern "C" fn(*mut c_void, c_int, *mut c_void) -> c_int;
pub type GetSslCtx = unsafe extern "C" fn(*const Ssl) -> *mut SslCtx;
pub type CipherGetId = unsafe extern "C" fn(*const SSL_CIPHER) -> u32;
/// `SSL_COMP_get_compression_methods`: libssl's `STACK_OF(SSL_COMP)`.
pub type CompMethods = unsafe extern "C" fn() -> *mut c_void;
pub type CompGetId = unsafe extern "C" fn(*const c_void) -> c_int;
pub type CompGet0Name = unsafe extern "C" fn(*const c_void) -> *const libc::c_char;

pub fn d2i_ssl_session() -> Option<D2i> {
    next_fn!(d2i_SSL_SESSION, D2i)
}
pub fn ssl_session_new() -> Option<New> {
    next_fn!(SSL_SESSION_new, New)
}
#[inline(always)]
pub fn ssl_session_up_ref() -> Option<UpRef> {
    next_fn!(SSL_SESSION_up_ref, UpRef)
}
#[inline(always)]
pub fn ssl_session_free() -> Option<Free> {
    next_fn!(SSL_SESSION_free, Free)
}
pub fn ssl_session_set_ex_data() -> Option<SetExData> {
    next_fn!(SSL_SESSION_set_ex_data, SetExData)
}
pub fn ssl_session_get0_cipher() -> Option<Get0Cipher> {
    next_fn!(SSL_SESSION_get0_cipher, Get0Cipher)
}
pub fn ssl_get_ex_data() -> Option<GetEx> {
    next_fn!(SSL_get_ex_data, GetEx)
}
pub fn ssl_ctx_get_ex_data() -> Option<GetEx> {
    next_fn!(SSL_CTX_get_ex_data, GetEx)
}
pub fn ssl_set_ex_data() -> Option<SetEx> {
    next_fn!(SSL_set_ex_data, SetEx)
}
pub fn ssl_ctx_set_ex_data() -> Option<SetEx> {
    next_fn!(SSL_CTX_set_ex_data, SetEx)
}
pub fn ssl_get_ssl_ctx() -> Option<GetSslCtx> {
    next_fn!(SSL_get_SSL_CTX, GetSslCtx)
}
pub fn ssl_cipher_get_id() -> Option<CipherGetId> {
    next_fn!(SSL_CIPHER_get_id, CipherGetId)
}
pub fn ssl_comp_get_compression_methods() -> Option<CompMethods> {
    next_fn!(SSL_COMP_get_compression_methods, CompMethods)
}
pub fn ssl_comp_get_id() -> Option<CompGetId> {
    next_fn!(SSL_COMP_get_id, CompGetId)
}
pub fn ssl_comp_get0_name() -> Option<CompGet0Name> {
    next_fn!(SSL_COMP_get0_name, CompGet0Name)
}

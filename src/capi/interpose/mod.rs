//! Functions of libssl and libcrypto that ssl-session defines too, to stand between the
//! application and them when both are in the process (LD_PRELOAD, or linked ahead of
//! libssl). Each forwards to the next definition (libssl's, libcrypto's, libc's). They are
//! not part of the session API, so this module stays out of include/ssl.h.
//!
//! - `libssl`: where the application hands libssl a session, or a callback that returns
//!   one (`preload::handover` converts ours into libssl's own).
//! - `sanitize`: what the sanitizer of libssl's sessions watches (`preload::sanitizer`).
//! - `libcrypto`: the ex_data registry and slots, so that our sessions' ex_data are run
//!   as libcrypto would (`exdata`).
//! - `loader`: `dlclose`, to forget a libssl the moment it is unloaded (`sys::loaded`).

pub mod libcrypto;
pub mod libssl;
pub mod loader;
pub mod sanitize;

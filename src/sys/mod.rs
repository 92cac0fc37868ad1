//! The C world around us: the opaque C types of the API, libcrypto's and libssl's
//! declarations, where a forwarded call goes (`next`), and which library called us
//! (`caller`, over the list of loaded objects in `loaded`).

/// cbindgen:ignore
pub mod caller;
/// cbindgen:ignore
pub mod err;
/// cbindgen:ignore
pub mod libcrypto;
/// cbindgen:ignore
pub mod libssl;
/// cbindgen:ignore
pub mod loaded;
/// cbindgen:ignore
pub mod next;
pub mod types;

pub use types::*;

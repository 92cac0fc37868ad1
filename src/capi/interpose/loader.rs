//! `dlclose`, so that the moment an object is unloaded ssl-session forgets every libssl
//! address it had cached (`sys::loaded`).

use crate::capi::export::entry;
use crate::sys::loaded;

/// Intercepts the application's `dlclose` to notice unloads at once.
///
/// Calls libc's dlclose() with `handle` and returns its result, unchanged. ssl-session
/// then forgets every libssl address it had cached, since the object may be gone.
#[no_mangle]
pub extern "C" fn dlclose(handle: *mut libc::c_void) -> libc::c_int {
    entry!(guard dlclose or -1, || {
        let r = loaded::real_dlclose(handle);
        loaded::unloaded();
        r
    })
}

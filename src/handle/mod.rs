//! Recognising what C hands us. A session of ours is a slot in our own arena (`arena`),
//! so any pointer can be classified (live, freed, or not ours) before anything is read
//! through it; freed slots wait in a quarantine (`quarantine`) before reuse; misuse is
//! reported by `crate::misuse`.

pub mod arena;
pub mod quarantine;

use crate::misuse::{self, Misuse};
use arena::Lookup;

/// Drop one reference to the session of ours at `addr`, reporting misuse as
/// `SSL_SESSION_free` does (a freed session, a count already at 0). For code below the
/// exports (the preload's hand-over) that releases a session it holds. False when `addr`
/// is not ours (libssl's): nothing was done, the caller frees it where it belongs.
pub fn release(func: &'static str, addr: usize) -> bool {
    match arena::lookup(addr) {
        Lookup::Null => true,
        Lookup::Ours => {
            let released = arena::slot(addr).and_then(|s| s.try_release());
            if released.is_none() {
                misuse::report(func, addr, Misuse::Underflow);
            }
            true
        }
        Lookup::Freed => {
            misuse::report(func, addr, Misuse::Freed);
            true
        }
        Lookup::Foreign => false,
    }
}

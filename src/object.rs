//! The C-facing session object: a slot in our own arena, so that any pointer C hands us
//! can be recognised (ours, freed, or not a session) before we write through it.
//!
//! Slot layout: a tag word at offset 0, an atomic reference count that saturates, the
//! ex_data block libcrypto manages, and the session data behind a read-write lock.
//! Slot memory is never returned to the allocator, so reading the tag of a freed or
//! stale slot is always a valid read; the data inside is dropped (and its secrets wiped)
//! at the last free, and the slot then waits in the quarantine (`quarantine.rs`).

use crate::crypto::CRYPTO_EX_DATA;
use crate::exdata;
use crate::quarantine::{self, Pool, MAX_CHUNKS};
use crate::session::SessionData;
use parking_lot::{Mutex, RwLock};
use std::alloc::Layout;
use std::cell::UnsafeCell;
use std::mem::MaybeUninit;
use std::sync::atomic::{fence, AtomicPtr, AtomicU32, AtomicU64, AtomicUsize, Ordering};

const TAG_LIVE: u64 = u64::from_le_bytes(*b"SSLSESS1");
const TAG_FREED: u64 = u64::from_le_bytes(*b"SSLSESS0");

/// Counts at or above this are saturated: the session is then never freed (BoringSSL's
/// rule: leaking beats freeing early). The headroom up to `u32::MAX` absorbs racing ops.
const SATURATED: u32 = 1 << 31;
const STUCK: u32 = 3 << 30;

#[repr(C)]
pub struct Session {
    tag: AtomicU64,
    refs: AtomicU32,
    ex: UnsafeCell<CRYPTO_EX_DATA>,
    /// Guards `ex` against concurrent set/get (libcrypto does not lock an object's slots).
    ex_lock: RwLock<()>,
    data: UnsafeCell<MaybeUninit<RwLock<SessionData>>>,
}

// SAFETY: `data` is only reached through its RwLock, `ex` through `ex_lock` (or with sole
// ownership, at creation and destruction); the rest are atomics.
unsafe impl Sync for Session {}

/// What a pointer from C turned out to be.
pub enum Lookup {
    Ours(&'static Session),
    Null,
    Freed,
    Foreign,
}

static CHUNKS: [AtomicPtr<Session>; MAX_CHUNKS] =
    [const { AtomicPtr::new(std::ptr::null_mut()) }; MAX_CHUNKS];
static NCHUNKS: AtomicUsize = AtomicUsize::new(0);
static POOL: Mutex<Pool> = Mutex::new(Pool::new());

const SLOT: usize = std::mem::size_of::<Session>();

/// Classify a pointer without dereferencing anything that is not one of our slots.
#[inline]
pub fn lookup(addr: usize) -> Lookup {
    if addr == 0 {
        return Lookup::Null;
    }
    let n = NCHUNKS.load(Ordering::Acquire);
    for (k, chunk) in CHUNKS.iter().enumerate().take(n) {
        let base = chunk.load(Ordering::Relaxed) as usize;
        let off = addr.wrapping_sub(base);
        if off < quarantine::chunk_len(k) * SLOT {
            if off % SLOT != 0 {
                return Lookup::Foreign;
            }
            // SAFETY: addr is the start of a slot inside a chunk we allocated and never free.
            let s: &'static Session = unsafe { &*(addr as *const Session) };
            return match s.tag.load(Ordering::Acquire) {
                TAG_LIVE => Lookup::Ours(s),
                TAG_FREED => Lookup::Freed,
                _ => Lookup::Foreign,
            };
        }
    }
    Lookup::Foreign
}

/// A slot from the pool, growing the arena when every slot has been used. Panics only if
/// the allocator fails (the caller turns that into NULL).
fn alloc_slot() -> &'static Session {
    let mut pool = POOL.lock();
    let i = pool.take();
    let (k, off) = quarantine::chunk_of(i);
    if off == 0 && k >= NCHUNKS.load(Ordering::Relaxed) {
        let layout = Layout::array::<Session>(quarantine::chunk_len(k)).expect("chunk size");
        // SAFETY: non-zero layout; all-zero bytes are a valid, never-used slot (tag 0).
        let p = unsafe { std::alloc::alloc_zeroed(layout) } as *mut Session;
        if p.is_null() {
            std::alloc::handle_alloc_error(layout);
        }
        CHUNKS[k].store(p, Ordering::Relaxed);
        NCHUNKS.store(k + 1, Ordering::Release);
    }
    let base = CHUNKS[k].load(Ordering::Relaxed);
    // SAFETY: off < chunk_len(k) and the chunk is allocated; the slot is unused, so nobody
    // else holds a reference to its interior.
    unsafe { &*base.add(off) }
}

impl Session {
    /// A new live session holding `data`, with count 1 and (when needed) ex_data "new"
    /// callbacks run, exactly as `SSL_SESSION_new` does.
    pub fn create(data: SessionData) -> &'static Session {
        let s = alloc_slot();
        // SAFETY: the slot is not live, so we are its only user until we publish the tag.
        unsafe {
            (*s.data.get()).write(RwLock::new(data));
            *s.ex.get() = CRYPTO_EX_DATA {
                ctx: std::ptr::null_mut(),
                sk: std::ptr::null_mut(),
            };
        }
        s.refs.store(1, Ordering::Relaxed);
        s.tag.store(TAG_LIVE, Ordering::Release);
        // SAFETY: the object is live and not yet shared.
        unsafe { exdata::on_new(s.as_c(), s.ex.get()) };
        s
    }

    /// `SSL_SESSION_dup`: a new session with a copy of the data, then "new" and "dup"
    /// ex_data callbacks. `None` (with OpenSSL's error queued) when a dup callback fails.
    pub fn dup(&'static self) -> Option<&'static Session> {
        let data = self.data().read().dup();
        let d = Session::create(data);
        let ok = {
            // Recursive read: a dup callback may itself read the source's ex_data.
            let _g = self.ex_lock.read_recursive();
            // SAFETY: both blocks belong to live sessions; `d` is not shared yet.
            unsafe { exdata::on_dup(d.ex.get(), self.ex.get()) }
        };
        if !ok {
            crate::crypto::raise(
                crate::crypto::ERR_LIB_SSL,
                crate::crypto::ERR_R_MALLOC_FAILURE,
                c"ssl_session_dup",
            );
            let _ = d.release();
            return None;
        }
        Some(d)
    }

    /// The pointer C sees.
    pub fn as_c(&'static self) -> *mut crate::SSL_SESSION {
        self as *const Session as *mut crate::SSL_SESSION
    }

    pub fn data(&self) -> &RwLock<SessionData> {
        // SAFETY: only live sessions are reachable as `&Session` through `lookup`/`create`.
        unsafe { (*self.data.get()).assume_init_ref() }
    }

    /// `SSL_SESSION_up_ref`: 1, or 0 when the count is saturated.
    #[inline]
    pub fn up_ref(&self) -> bool {
        let old = self.refs.fetch_add(1, Ordering::Relaxed);
        if old >= SATURATED - 1 {
            self.refs.store(STUCK, Ordering::Relaxed);
            return false;
        }
        true
    }

    /// `SSL_SESSION_free` on a live session: drop one reference and destroy at the last.
    /// `Err` when the count was already 0 (two threads raced to free the last reference).
    #[inline]
    pub fn release(&'static self) -> Result<(), crate::misuse::Misuse> {
        let old = self.refs.fetch_sub(1, Ordering::Release);
        if old == 1 {
            fence(Ordering::Acquire);
            self.destroy();
            Ok(())
        } else if old >= SATURATED {
            self.refs.store(STUCK, Ordering::Relaxed);
            Ok(())
        } else if old == 0 {
            self.refs.store(0, Ordering::Relaxed);
            Err(crate::misuse::Misuse::Underflow)
        } else {
            Ok(())
        }
    }

    /// The current count (tests and diagnostics only; racy by nature).
    #[allow(dead_code)] // used by APIs not merged yet (codec, text); drop when they land
    pub fn refs(&self) -> u32 {
        self.refs.load(Ordering::Relaxed)
    }

    fn destroy(&'static self) {
        // Free callbacks run first, while every field is still readable, as in OpenSSL.
        // SAFETY: we held the last reference, so nobody else uses `ex`.
        unsafe { exdata::on_free(self.as_c(), self.ex.get()) };
        self.tag.store(TAG_FREED, Ordering::Release);
        // SAFETY: the session is no longer live, so no `&SessionData` can be made; dropping
        // in place wipes secrets and releases the buffers.
        unsafe { (*self.data.get()).assume_init_drop() };
        let slot = self.slot_number();
        POOL.lock().give(slot);
    }

    fn slot_number(&'static self) -> usize {
        let addr = self as *const Session as usize;
        let n = NCHUNKS.load(Ordering::Acquire);
        for (k, chunk) in CHUNKS.iter().enumerate().take(n) {
            let off = addr.wrapping_sub(chunk.load(Ordering::Relaxed) as usize);
            if off < quarantine::chunk_len(k) * SLOT {
                return quarantine::slot_number(k, off / SLOT);
            }
        }
        unreachable!("a live session is always inside a chunk")
    }

    /// The ex_data block and its lock, for `SSL_SESSION_get/set_ex_data` and dup.
    pub fn ex(&self) -> (*mut CRYPTO_EX_DATA, &RwLock<()>) {
        (self.ex.get(), &self.ex_lock)
    }

    /// Test hook: force the count, to reach saturation without 2^31 calls.
    #[cfg(test)]
    pub fn set_refs_for_test(&self, n: u32) {
        self.refs.store(n, Ordering::Relaxed);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn saturated_sessions_are_never_freed() {
        let s = Session::create(SessionData::new(0));
        s.set_refs_for_test(SATURATED - 2);
        assert!(s.up_ref());
        assert!(!s.up_ref(), "at the maximum up_ref fails");
        for _ in 0..10 {
            assert!(s.release().is_ok());
        }
        assert!(s.refs() >= SATURATED);
        assert!(matches!(
            lookup(s as *const Session as usize),
            Lookup::Ours(_)
        ));
    }

    #[test]
    fn lookup_tells_ours_freed_and_foreign_apart() {
        let s = Session::create(SessionData::new(0));
        let addr = s as *const Session as usize;
        assert!(matches!(lookup(addr), Lookup::Ours(_)));
        assert!(matches!(lookup(addr + 8), Lookup::Foreign));
        assert!(matches!(lookup(0), Lookup::Null));
        let local = 5u64;
        assert!(matches!(
            lookup(&local as *const u64 as usize),
            Lookup::Foreign
        ));
        s.release().unwrap();
        assert!(matches!(lookup(addr), Lookup::Freed));
    }
}

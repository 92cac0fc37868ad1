//! The C-facing session object: a slot in our own arena, so that any pointer C hands us
//! can be recognised (ours, freed, or not a session) before we write through it.
//!
//! Slot layout: at offset 0 one atomic word holding a tag (live / freed) and the reference
//! count, which saturates; a "shared" flag; the ex_data block libcrypto manages; and the
//! session data behind a read-write lock. The tag and the count share a word so that
//! up_ref and free check liveness from the result of their one atomic instruction.
//! Slot memory is never returned to the allocator, so reading the tag of a freed or
//! stale slot is always a valid read; the data inside is dropped (and its secrets wiped)
//! at the last free, and the slot then waits in the quarantine (`quarantine.rs`).

use crate::exdata;
use crate::handle::quarantine::{self, Global, Local, MAX_CHUNKS};
use crate::model::session::SessionData;
use crate::sys::libcrypto::CRYPTO_EX_DATA;
use parking_lot::{Mutex, RwLock};
use std::cell::{RefCell, UnsafeCell};
use std::mem::MaybeUninit;
use std::sync::atomic::{fence, AtomicBool, AtomicU64, AtomicUsize, Ordering};

/// The high half of `state`: "SSL1" for a live session, "SSL0" once destroyed.
const TAG_LIVE: u64 = 0x5353_4C31;
const TAG_FREED: u64 = 0x5353_4C30;
const LIVE: u64 = TAG_LIVE << 32;
const FREED: u64 = TAG_FREED << 32;
const COUNT: u64 = 0xFFFF_FFFF;

/// Counts at or above this are saturated: the session is then never freed (BoringSSL's
/// rule: leaking beats freeing early). The headroom up to 2^32 absorbs racing ops, so the
/// count never carries into the tag.
const SATURATED: u64 = 1 << 31;
const STUCK: u64 = 3 << 30;

/// 512 bytes, so a slot's address is recognised with a mask.
#[repr(C, align(512))]
pub struct Session {
    /// `tag << 32 | count`.
    state: AtomicU64,
    /// The `CRYPTO_EX_DATA *` ex_data callbacks receive. With our own slots in use
    /// (`exdata::own_slots`) it stays zero and only identifies the session.
    ex: UnsafeCell<CRYPTO_EX_DATA>,
    /// The session's ex_data values when we keep them. `ex` and `slots` are guarded by
    /// `data`'s lock (libcrypto does not lock an object's slots either).
    slots: exdata::Slots,
    data: UnsafeCell<MaybeUninit<RwLock<SessionData>>>,
    /// Set by the first up_ref. Until then the count is 1 and the creator holds it, so
    /// the last free needs no atomic read-modify-write. Kept last, away from `state`'s
    /// cache line, so that reading it costs nothing when threads fight over the count.
    shared: AtomicBool,
}

const SLOT: usize = std::mem::size_of::<Session>();
const _: () = assert!(SLOT == 512, "the slot outgrew 512 bytes");

// SAFETY: `data` is only reached through its RwLock, `ex` under that lock too (or with
// sole ownership, at creation and destruction); the rest are atomics.
unsafe impl Sync for Session {}

/// What a pointer from C turned out to be.
pub enum Lookup {
    Ours,
    Null,
    Freed,
    Foreign,
}

/// Chunk base addresses (0 = not made yet). Chunks are anonymous mappings: pages are
/// committed only when a slot in them is first used, and never unmapped.
static CHUNKS: [AtomicUsize; MAX_CHUNKS] = [const { AtomicUsize::new(0) }; MAX_CHUNKS];
static GLOBAL: Mutex<Global> = Mutex::new(Global::new());

thread_local! {
    // Const-initialised: no lazy-initialisation check on the hot path.
    static LOCAL: RefCell<LocalPool> = const { RefCell::new(LocalPool(Local::new())) };
}

/// A thread's batches; at thread exit they go back to the global pool.
struct LocalPool(Local);

impl Drop for LocalPool {
    fn drop(&mut self) {
        let mut g = GLOBAL.lock();
        g.flush(&mut self.0.freed);
        g.flush(&mut self.0.ready);
    }
}

/// The slot at `addr`, live or not, if `addr` is the start of one of our slots: the hot
/// path of every call. Reading a slot's state is then always a valid read.
#[inline(always)]
pub fn slot(addr: usize) -> Option<&'static Session> {
    let base = CHUNKS[0].load(Ordering::Relaxed);
    let off = addr.wrapping_sub(base);
    if base != 0 && off < quarantine::chunk_len(0) * SLOT && off.is_multiple_of(SLOT) {
        // SAFETY: addr is the start of a slot of chunk 0, which stays mapped for good.
        return Some(unsafe { &*(addr as *const Session) });
    }
    slot_slow(addr)
}

#[cold]
fn slot_slow(addr: usize) -> Option<&'static Session> {
    for (k, chunk) in CHUNKS.iter().enumerate() {
        let base = chunk.load(Ordering::Acquire);
        if base == 0 {
            break;
        }
        let off = addr.wrapping_sub(base);
        if off < quarantine::chunk_len(k) * SLOT {
            // SAFETY: inside a chunk we mapped and never unmap, at a slot boundary.
            return (off.is_multiple_of(SLOT)).then(|| unsafe { &*(addr as *const Session) });
        }
    }
    None
}

/// The live session at `addr`, if `addr` is one.
#[inline(always)]
pub fn live(addr: usize) -> Option<&'static Session> {
    slot(addr).filter(|s| s.is_live())
}

/// The live session whose `ex` block is at `addr` (a `CRYPTO_EX_DATA *` from C).
#[inline]
pub fn of_ex_data(addr: usize) -> Option<&'static Session> {
    live(addr.wrapping_sub(std::mem::offset_of!(Session, ex)))
}

/// Classify a pointer without dereferencing anything that is not one of our slots.
pub fn lookup(addr: usize) -> Lookup {
    if addr == 0 {
        return Lookup::Null;
    }
    match slot(addr) {
        Some(s) => match s.state.load(Ordering::Acquire) >> 32 {
            TAG_LIVE => Lookup::Ours,
            TAG_FREED => Lookup::Freed,
            _ => Lookup::Foreign,
        },
        None => Lookup::Foreign,
    }
}

/// Refill a thread's ready batch, mapping chunks as slot numbers grow.
fn refill(ready: &mut Vec<usize>) {
    let mut g = GLOBAL.lock();
    let top = g.refill(ready);
    let (last, _) = quarantine::chunk_of(top);
    for (k, chunk) in CHUNKS.iter().enumerate().take(last + 1) {
        if chunk.load(Ordering::Relaxed) != 0 {
            continue;
        }
        let bytes = quarantine::chunk_len(k) * SLOT;
        // SAFETY: a fresh private anonymous mapping; zero bytes are a never-used slot.
        let p = unsafe {
            libc::mmap(
                std::ptr::null_mut(),
                bytes,
                libc::PROT_READ | libc::PROT_WRITE,
                libc::MAP_PRIVATE | libc::MAP_ANONYMOUS | libc::MAP_NORESERVE,
                -1,
                0,
            )
        };
        if p == libc::MAP_FAILED {
            // Out of address space: give back what this chunk would have held.
            ready.retain(|&s| quarantine::chunk_of(s).0 < k);
            return;
        }
        chunk.store(p as usize, Ordering::Release);
    }
}

fn slot_addr(i: usize) -> usize {
    let (k, off) = quarantine::chunk_of(i);
    CHUNKS[k].load(Ordering::Acquire) + off * SLOT
}

fn slot_number(addr: usize) -> usize {
    for (k, chunk) in CHUNKS.iter().enumerate() {
        let off = addr.wrapping_sub(chunk.load(Ordering::Acquire));
        if off < quarantine::chunk_len(k) * SLOT {
            return quarantine::slot_number(k, off / SLOT);
        }
    }
    unreachable!("a session is always inside a chunk")
}

/// A never-live slot for a new session, or `None` when memory runs out.
fn alloc_slot() -> Option<&'static Session> {
    let take = |l: &mut Local| l.take(refill);
    let i = LOCAL
        .try_with(|l| take(&mut l.borrow_mut().0))
        // During thread teardown our thread-local is gone: use the global pool directly.
        .unwrap_or_else(|_| take(&mut Local::default()))?;
    // SAFETY: refill made sure slot i's chunk is mapped; the slot is not live, so nobody
    // else holds a reference to its interior.
    Some(unsafe { &*(slot_addr(i) as *const Session) })
}

fn free_slot(addr: usize) {
    let slot = slot_number(addr);
    let flush = |v: &mut Vec<usize>| GLOBAL.lock().flush(v);
    if LOCAL
        .try_with(|l| l.borrow_mut().0.give(slot, flush))
        .is_err()
    {
        GLOBAL.lock().flush(&mut vec![slot]);
    }
}

impl Session {
    /// A new live session holding `data`, with count 1 and (when needed) ex_data "new"
    /// callbacks run, exactly as `SSL_SESSION_new` does.
    /// `make` builds the data straight into the slot (no copy through the stack).
    #[inline(always)]
    pub fn create(make: impl FnOnce() -> SessionData) -> Option<&'static Session> {
        Self::create_then(make, |_| {})
    }

    /// `create`, with `then` changing the data in the slot before the session goes live
    /// (d2i fills a fresh session field by field there, not through a copy on the stack).
    #[inline(always)]
    pub fn create_then(
        make: impl FnOnce() -> SessionData,
        then: impl FnOnce(&mut SessionData),
    ) -> Option<&'static Session> {
        let s = alloc_slot()?;
        // SAFETY: the slot is not live, so we are its only user until we publish the tag.
        unsafe {
            then((*s.data.get()).write(RwLock::new(make())).get_mut());
            *s.ex.get() = CRYPTO_EX_DATA {
                ctx: std::ptr::null_mut(),
                sk: std::ptr::null_mut(),
            };
            // A reused slot's values were reset by its last free; a never-used one is zero
            // bytes, which are not a valid `Slots` (its Vec): make one.
            if s.state.load(Ordering::Relaxed) == 0 {
                std::ptr::addr_of!(s.slots)
                    .cast_mut()
                    .write(exdata::Slots::new());
            }
        }
        s.shared.store(false, Ordering::Relaxed);
        s.state.store(LIVE | 1, Ordering::Release);
        exdata::on_new(s.as_c(), s.ex.get(), &s.slots);
        Some(s)
    }

    /// `SSL_SESSION_dup`: a new session with a copy of the data, then "new" and "dup"
    /// ex_data callbacks. `None` (with OpenSSL's error queued) when a dup callback fails.
    pub fn dup(&'static self) -> Option<&'static Session> {
        // One read lock over the copy and the ex_data callbacks (which may read the source
        // too: hence recursive).
        let src = self.data().read_recursive();
        let d = Session::create(|| src.dup())?;
        let ok = exdata::on_dup(d.ex.get(), &d.slots, self.ex.get(), &self.slots);
        drop(src);
        if !ok {
            crate::sys::libcrypto::raise(
                crate::sys::err::ERR_LIB_SSL,
                crate::sys::err::ERR_R_MALLOC_FAILURE,
                c"ssl_session_dup",
            );
            d.release();
            return None;
        }
        Some(d)
    }

    /// The pointer C sees.
    pub fn as_c(&'static self) -> *mut crate::sys::SSL_SESSION {
        self as *const Session as *mut crate::sys::SSL_SESSION
    }

    pub fn data(&self) -> &RwLock<SessionData> {
        // A destroyed session's data has been dropped: reaching it is a bug of ours (a
        // reference kept past the last free). Panic, which the C boundary's guard turns
        // into a report, rather than read or write dropped memory.
        assert!(self.is_live(), "session data used after its destroy");
        // SAFETY: the session is live (checked), so its data is initialised.
        unsafe { (*self.data.get()).assume_init_ref() }
    }

    #[inline(always)]
    pub fn is_live(&self) -> bool {
        self.state.load(Ordering::Acquire) >> 32 == TAG_LIVE
    }

    /// `SSL_SESSION_up_ref` on a slot: `Some(true)`, `Some(false)` when the count is
    /// saturated, `None` (nothing changed) when the slot is not a live session.
    #[inline(always)]
    pub fn try_up_ref(&self) -> Option<bool> {
        let shared = self.shared.load(Ordering::Relaxed);
        let old = self.state.fetch_add(1, Ordering::Relaxed);
        if old >> 32 != TAG_LIVE {
            self.state.fetch_sub(1, Ordering::Relaxed);
            return None;
        }
        if !shared {
            self.shared.store(true, Ordering::Relaxed);
        }
        if old & COUNT >= SATURATED - 1 {
            self.state.store(LIVE | STUCK, Ordering::Relaxed);
            return Some(false);
        }
        Some(true)
    }

    /// `SSL_SESSION_free` on a slot: drop one reference, destroy at the last. `None`
    /// (nothing changed) when the slot is not a live session.
    #[inline(always)]
    pub fn try_release(&'static self) -> Option<()> {
        if !self.shared.load(Ordering::Relaxed) {
            // Never up_ref'd: the count is 1 and the caller holds it. Claimed with one
            // compare-and-swap (count 1 -> 0, still live while the free callbacks run), so
            // that of two threads racing to free it only one destroys it; the other sees
            // count 0 or the freed tag and reports.
            if self
                .state
                .compare_exchange(LIVE | 1, LIVE, Ordering::Acquire, Ordering::Relaxed)
                .is_err()
            {
                return None;
            }
            self.destroy();
            return Some(());
        }
        let old = self.state.fetch_sub(1, Ordering::Release);
        if old == LIVE | 1 {
            fence(Ordering::Acquire);
            self.destroy();
        } else if old >> 32 != TAG_LIVE || old & COUNT == 0 {
            // Freed, or a count already at 0 (two threads raced to free the last one).
            self.state.fetch_add(1, Ordering::Relaxed);
            return None;
        } else if old & COUNT >= SATURATED {
            self.state.store(LIVE | STUCK, Ordering::Relaxed);
        }
        Some(())
    }

    /// Drop the creator's reference of a session nobody else has seen (failed dup).
    fn release(&'static self) {
        self.destroy();
    }

    /// The current count (tests only; racy by nature).
    #[cfg(test)]
    pub fn refs(&self) -> u64 {
        self.state.load(Ordering::Relaxed) & COUNT
    }

    fn destroy(&'static self) {
        // Free callbacks run first, while every field is still readable, as in OpenSSL.
        exdata::on_free(self.as_c(), self.ex.get(), &self.slots);
        self.state.store(FREED, Ordering::Release);
        // SAFETY: the session is no longer live, so no `&SessionData` can be made; dropping
        // in place wipes secrets and releases the buffers.
        unsafe { (*self.data.get()).assume_init_drop() };
        free_slot(self as *const Session as usize);
    }

    /// `CRYPTO_set_ex_data` on this session: for `SSL_SESSION_set_ex_data` (under
    /// `data()`'s lock) and `CRYPTO_set_ex_data` on its block (the caller's business, as
    /// in libcrypto).
    pub fn set_ex_data(&self, idx: libc::c_int, val: *mut libc::c_void) -> libc::c_int {
        exdata::set_value(self.ex.get(), &self.slots, idx, val)
    }

    /// `CRYPTO_get_ex_data` on this session, as `set_ex_data`.
    pub fn get_ex_data(&self, idx: libc::c_int) -> *mut libc::c_void {
        exdata::get_value(self.ex.get(), &self.slots, idx)
    }

    /// Test hook: force the count, to reach saturation without 2^31 calls.
    #[cfg(test)]
    pub fn set_refs_for_test(&self, n: u64) {
        self.shared.store(true, Ordering::Relaxed);
        self.state.store(LIVE | n, Ordering::Relaxed);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn saturated_sessions_are_never_freed() {
        let s = Session::create(|| SessionData::new(0)).unwrap();
        s.set_refs_for_test(SATURATED - 2);
        assert_eq!(s.try_up_ref(), Some(true));
        assert_eq!(s.try_up_ref(), Some(false), "at the maximum up_ref fails");
        for _ in 0..10 {
            assert_eq!(s.try_release(), Some(()));
        }
        assert!(s.refs() >= SATURATED);
        assert!(matches!(lookup(s as *const Session as usize), Lookup::Ours));
    }

    #[test]
    fn lookup_tells_ours_freed_and_foreign_apart() {
        let s = Session::create(|| SessionData::new(0)).unwrap();
        let addr = s as *const Session as usize;
        assert!(matches!(lookup(addr), Lookup::Ours));
        assert!(matches!(lookup(addr + 8), Lookup::Foreign));
        assert!(matches!(lookup(0), Lookup::Null));
        let local = 5u64;
        assert!(matches!(
            lookup(&local as *const u64 as usize),
            Lookup::Foreign
        ));
        s.try_release().unwrap();
        assert!(matches!(lookup(addr), Lookup::Freed));
        assert_eq!(s.try_release(), None, "a double free changes nothing");
        assert_eq!(s.try_up_ref(), None);
        assert!(matches!(lookup(addr), Lookup::Freed));
    }
}

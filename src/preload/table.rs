//! The side records of libssl's sessions, by address: an open-addressing table whose
//! lookups take no lock, and records that each have their own spin lock.
//!
//! A reference event (up_ref, free) finds its session's record with a hash and a probe
//! of atomic loads, then takes that record's lock to store the event: one atomic swap per
//! event, no shared lock, and no lock at all to find the record. Everything that changes
//! the table (a session seen for the first time, a session leaving the quarantine, a
//! resize) happens under one mutex; only a session's first and last events take it.
//!
//! Memory safety without reclamation schemes: records and tables are mapped with `mmap`
//! and never unmapped while the process runs. A lookup may race with a change of the
//! table and find a record that has just been given to another address, or miss one
//! that has just been added; so a record carries its address, checked under its lock,
//! and a miss is confirmed under the mutex. Tables that a resize replaces stay mapped
//! (and are never written again): together they are smaller than the current one.

use super::history::Record;
use super::spin::{Guard, SpinLock};
use parking_lot::Mutex;
use std::sync::atomic::{AtomicPtr, AtomicUsize, Ordering};

/// A session's record: the address it belongs to (0: free) and the record itself.
pub struct Cell {
    key: AtomicUsize,
    rec: SpinLock<Record>,
}

#[repr(C)]
struct Entry {
    /// The session's address; EMPTY, or TOMB once removed.
    key: AtomicUsize,
    cell: AtomicPtr<Cell>,
}

const EMPTY: usize = 0;
const TOMB: usize = 1;

/// A table: its mask (capacity - 1) in the first word, then the entries.
#[repr(C)]
struct Table {
    mask: usize,
    _pad: usize,
    entries: [Entry; 0],
}

static TABLE: AtomicPtr<Table> = AtomicPtr::new(std::ptr::null_mut());

struct Writer {
    /// Entries in use in the current table (live and removed).
    used: usize,
    live: usize,
    free: Vec<usize>,
}

static WRITER: Mutex<Writer> = Mutex::new(Writer {
    used: 0,
    live: 0,
    free: Vec::new(),
});

const FIRST_CAPACITY: usize = 1024;
const CELLS_PER_CHUNK: usize = 128;

#[inline(always)]
fn hash(p: usize) -> usize {
    // Sessions are malloc'd: the low 4 bits carry nothing.
    ((p as u64 >> 4).wrapping_mul(0x9E37_79B9_7F4A_7C15) >> 32) as usize
}

/// Fresh zeroed memory that stays mapped for good (None: out of memory).
fn map(bytes: usize) -> Option<*mut u8> {
    // SAFETY: a private anonymous mapping, no address hint.
    let p = unsafe {
        libc::mmap(
            std::ptr::null_mut(),
            bytes,
            libc::PROT_READ | libc::PROT_WRITE,
            libc::MAP_PRIVATE | libc::MAP_ANONYMOUS,
            -1,
            0,
        )
    };
    (p != libc::MAP_FAILED).then_some(p as *mut u8)
}

impl Table {
    #[inline(always)]
    fn entry(&self, i: usize) -> &Entry {
        // SAFETY: i <= mask, and the mapping holds mask + 1 entries after the header.
        unsafe { &*(self.entries.as_ptr().add(i)) }
    }

    /// The cell `p`'s entry names, if any (unvalidated: see the module note).
    #[inline(always)]
    fn find(&self, p: usize) -> Option<&'static Cell> {
        let mut i = hash(p) & self.mask;
        loop {
            let e = self.entry(i);
            let k = e.key.load(Ordering::Acquire);
            if k == p {
                // SAFETY: cells are never unmapped; the key was stored after the cell.
                return Some(unsafe { &*e.cell.load(Ordering::Relaxed) });
            }
            if k == EMPTY {
                return None;
            }
            i = (i + 1) & self.mask;
        }
    }

    fn new(capacity: usize) -> Option<&'static Table> {
        let bytes = std::mem::size_of::<Table>() + capacity * std::mem::size_of::<Entry>();
        let t = map(bytes)? as *mut Table;
        // SAFETY: fresh memory large enough for the header; zero entries are EMPTY.
        unsafe {
            (*t).mask = capacity - 1;
            Some(&*t)
        }
    }

    /// Under the writer lock: put `p` → `cell` into a free entry.
    fn put(&self, p: usize, cell: *mut Cell) -> bool {
        let mut i = hash(p) & self.mask;
        loop {
            let e = self.entry(i);
            let k = e.key.load(Ordering::Relaxed);
            if k == EMPTY || k == TOMB {
                e.cell.store(cell, Ordering::Relaxed);
                e.key.store(p, Ordering::Release);
                return k == EMPTY;
            }
            i = (i + 1) & self.mask;
        }
    }
}

fn current() -> Option<&'static Table> {
    let t = TABLE.load(Ordering::Acquire);
    // SAFETY: tables are never unmapped.
    (!t.is_null()).then(|| unsafe { &*t })
}

/// The record of `p`, locked, if it has one.
#[inline]
pub fn get(p: usize) -> Option<Guard<'static, Record>> {
    if let Some(c) = current().and_then(|t| t.find(p)) {
        let g = c.rec.lock();
        if c.key.load(Ordering::Relaxed) == p {
            return Some(g);
        }
    }
    get_slow(p, None::<fn() -> Record>)
}

/// The record of `p`, locked; a new one (`init()`) if it has none. `None` only when
/// memory runs out (the event then goes unrecorded).
#[inline]
pub fn get_or_insert(p: usize, init: impl FnOnce() -> Record) -> Option<Guard<'static, Record>> {
    if let Some(c) = current().and_then(|t| t.find(p)) {
        let g = c.rec.lock();
        if c.key.load(Ordering::Relaxed) == p {
            return Some(g);
        }
    }
    get_slow(p, Some(init))
}

/// Under the writer lock: the current table's answer, and a new record if asked.
#[cold]
#[inline(never)]
fn get_slow(p: usize, init: Option<impl FnOnce() -> Record>) -> Option<Guard<'static, Record>> {
    let mut w = WRITER.lock();
    if let Some(c) = current().and_then(|t| t.find(p)) {
        // No writer can change p's entry while we hold the writer lock.
        return Some(c.rec.lock());
    }
    let init = init?;
    let c = w.cell()?;
    let t = w.room()?;
    // SAFETY: a cell of ours, now taken off the free list.
    let cell = unsafe { &*c };
    let mut g = cell.rec.lock();
    *g = init();
    cell.key.store(p, Ordering::Relaxed);
    if t.put(p, c) {
        w.used += 1;
    }
    w.live += 1;
    Some(g)
}

impl Writer {
    /// A free cell (mapping more when there is none).
    fn cell(&mut self) -> Option<*mut Cell> {
        if let Some(c) = self.free.pop() {
            return Some(c as *mut Cell);
        }
        let size = std::mem::size_of::<Cell>();
        let base = map(size * CELLS_PER_CHUNK)? as *mut Cell;
        self.free.reserve(CELLS_PER_CHUNK);
        for i in (0..CELLS_PER_CHUNK).rev() {
            // SAFETY: inside the fresh mapping, suitably aligned (mmap is page-aligned).
            unsafe {
                base.add(i).write(Cell {
                    key: AtomicUsize::new(0),
                    rec: SpinLock::new(Record::new()),
                })
            };
            self.free.push(base.wrapping_add(i) as usize);
        }
        self.free.pop().map(|c| c as *mut Cell)
    }

    /// The current table, with room for one more entry (rebuilt when three quarters of
    /// it are used: doubled when more than a quarter is live, else only cleared of
    /// removed entries).
    fn room(&mut self) -> Option<&'static Table> {
        let t = current();
        if let Some(t) = t {
            if (self.used + 1) * 4 <= (t.mask + 1) * 3 {
                return Some(t);
            }
        }
        let cap = match t {
            None => FIRST_CAPACITY,
            Some(t) if (self.live + 1) * 4 > t.mask + 1 => (t.mask + 1) * 2,
            Some(t) => t.mask + 1,
        };
        let n = Table::new(cap)?;
        if let Some(t) = t {
            for i in 0..=t.mask {
                let e = t.entry(i);
                let k = e.key.load(Ordering::Relaxed);
                if k != EMPTY && k != TOMB {
                    n.put(k, e.cell.load(Ordering::Relaxed));
                }
            }
        }
        self.used = self.live;
        TABLE.store(n as *const Table as *mut Table, Ordering::Release);
        Some(n)
    }
}

/// Forget `p`'s record (its session is really freed: the address may come back).
pub fn remove(p: usize) {
    let mut w = WRITER.lock();
    let Some(t) = current() else {
        return;
    };
    let mut i = hash(p) & t.mask;
    loop {
        let e = t.entry(i);
        let k = e.key.load(Ordering::Relaxed);
        if k == EMPTY {
            return;
        }
        if k == p {
            let c = e.cell.load(Ordering::Relaxed);
            // SAFETY: the entry's cell, never unmapped.
            let cell = unsafe { &*c };
            let mut g = cell.rec.lock();
            cell.key.store(0, Ordering::Relaxed);
            *g = Record::new();
            drop(g);
            e.key.store(TOMB, Ordering::Release);
            w.live -= 1;
            w.free.push(c as usize);
            return;
        }
        i = (i + 1) & t.mask;
    }
}

/// Every record's address and a copy of it (under the writer lock; records are locked
/// one at a time).
pub fn snapshot() -> Vec<(usize, Record)> {
    let _w = WRITER.lock();
    let Some(t) = current() else {
        return Vec::new();
    };
    let mut v = Vec::new();
    for i in 0..=t.mask {
        let e = t.entry(i);
        let k = e.key.load(Ordering::Relaxed);
        if k != EMPTY && k != TOMB {
            // SAFETY: the entry's cell, never unmapped.
            let c = unsafe { &*e.cell.load(Ordering::Relaxed) };
            v.push((k, c.rec.lock().clone()));
        }
    }
    v
}

/// Forget every record (at exit) and let the free list's memory go.
pub fn clear() {
    let mut w = WRITER.lock();
    if let Some(t) = current() {
        for i in 0..=t.mask {
            let e = t.entry(i);
            let k = e.key.load(Ordering::Relaxed);
            if k != EMPTY && k != TOMB {
                // SAFETY: the entry's cell, never unmapped.
                let c = unsafe { &*e.cell.load(Ordering::Relaxed) };
                let mut g = c.rec.lock();
                c.key.store(0, Ordering::Relaxed);
                *g = Record::new();
                drop(g);
                e.key.store(TOMB, Ordering::Release);
            }
        }
    }
    w.live = 0;
    // The cells stay mapped; the list of free ones is heap memory, given back.
    w.free = Vec::new();
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::preload::history::{By, Event, Kind};

    fn ev(refs: i32) -> Event {
        Event {
            kind: Kind::UpRef,
            by: By::App,
            site: 1,
            thread: 1,
            refs,
            within: "",
        }
    }

    #[test]
    fn records_are_found_grown_and_removed() {
        // Addresses no other test uses (the table is the process's).
        let base = 0x7777_0000_0000usize;
        let n = 3000;
        for i in 0..n {
            let p = base + i * 16;
            get_or_insert(p, Record::new).unwrap().push(ev(i as i32));
        }
        for i in 0..n {
            let p = base + i * 16;
            let g = get(p).expect("found");
            assert_eq!(g.events().0[0].refs, i as i32);
        }
        for i in (0..n).step_by(2) {
            remove(base + i * 16);
        }
        for i in 0..n {
            assert_eq!(get(base + i * 16).is_some(), i % 2 == 1, "{i}");
        }
        // Removed addresses come back as new records.
        for i in (0..n).step_by(2) {
            let g = get_or_insert(base + i * 16, Record::new).unwrap();
            assert_eq!(g.events().0.len(), 0);
        }
        for i in 0..n {
            remove(base + i * 16);
        }
        assert!(get(base).is_none());
    }

    #[test]
    fn threads_record_their_events_on_shared_sessions() {
        let base = 0x6666_0000_0000usize;
        let t: Vec<_> = (0..4)
            .map(|k| {
                std::thread::spawn(move || {
                    for i in 0..20_000usize {
                        let p = base + (i % 64) * 16;
                        get_or_insert(p, Record::new).unwrap().push(ev(k));
                        if i % 97 == 0 {
                            remove(base + ((i / 97) % 64) * 16);
                        }
                    }
                })
            })
            .collect();
        for h in t {
            h.join().unwrap();
        }
        for i in 0..64 {
            remove(base + i * 16);
        }
    }
}

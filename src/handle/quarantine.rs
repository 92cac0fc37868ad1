//! Which session slot to hand out next, and the quarantine that keeps freed slots out of
//! use long enough for a stale pointer to be recognised. Safe logic only: slot numbers,
//! no pointers.
//!
//! Slots are numbered 0, 1, 2, ... in the order they are first made. A freed slot joins
//! the back of a global FIFO and comes out at the front only while more than `QUARANTINE`
//! slots wait behind it, so a double free or use after free is caught for at least the
//! last 4096 frees. To keep the global lock off the hot path, each thread moves slots in
//! batches: it takes `BATCH` ready slots at a time, and hands its frees back `BATCH` at a
//! time (a slot waiting in a thread's batch of frees is not reusable either).

use std::collections::VecDeque;

/// How many of the most recent frees are never reused.
pub const QUARANTINE: usize = 4096;
/// Slots moved between a thread and the global pool per lock.
pub const BATCH: usize = 64;

/// Slots live in chunks that double in size: chunk k holds `FIRST_CHUNK << k` slots.
/// The first chunk (reserved, not committed, memory) serves most processes entirely.
pub const FIRST_CHUNK: usize = 1 << 18;
/// Far more than any address space holds.
pub const MAX_CHUNKS: usize = 24;

/// The process-wide pool, behind a lock.
pub struct Global {
    made: usize,
    fifo: VecDeque<usize>,
}

impl Global {
    pub const fn new() -> Self {
        Global {
            made: 0,
            fifo: VecDeque::new(),
        }
    }

    /// Fill `out` up to `BATCH` slots: the oldest freed slots once the quarantine is
    /// full, else never-used ones. Returns the highest slot number handed out (so the
    /// caller can make sure its chunk exists).
    pub fn refill(&mut self, out: &mut Vec<usize>) -> usize {
        let want = BATCH - out.len().min(BATCH);
        let reuse = self.fifo.len().saturating_sub(QUARANTINE).min(want);
        out.extend(self.fifo.drain(..reuse));
        let fresh = want - reuse;
        out.extend(self.made..self.made + fresh);
        self.made += fresh;
        out.iter().copied().max().unwrap_or(0)
    }

    /// Freed slots enter the quarantine, in the order they were freed.
    pub fn flush(&mut self, from: &mut Vec<usize>) {
        self.fifo.extend(from.drain(..));
    }
}

impl Default for Global {
    fn default() -> Self {
        Self::new()
    }
}

/// One thread's batches.
#[derive(Default)]
pub struct Local {
    pub ready: Vec<usize>,
    pub freed: Vec<usize>,
}

impl Local {
    pub const fn new() -> Self {
        Local {
            ready: Vec::new(),
            freed: Vec::new(),
        }
    }

    /// A slot for a new session; `refill` is called when the ready batch is empty.
    pub fn take(&mut self, refill: impl FnOnce(&mut Vec<usize>)) -> Option<usize> {
        if self.ready.is_empty() {
            refill(&mut self.ready);
        }
        self.ready.pop()
    }

    /// A destroyed session's slot; `flush` is called when a full batch has gathered.
    pub fn give(&mut self, slot: usize, flush: impl FnOnce(&mut Vec<usize>)) {
        self.freed.push(slot);
        if self.freed.len() >= BATCH {
            flush(&mut self.freed);
        }
    }
}

/// The chunk holding slot `i`, and the slot's index inside it.
pub fn chunk_of(i: usize) -> (usize, usize) {
    // Chunk k starts at slot FIRST_CHUNK * (2^k - 1).
    let k = (i / FIRST_CHUNK + 1).ilog2() as usize;
    (k, i - FIRST_CHUNK * ((1 << k) - 1))
}

/// The number of slots in chunk `k`.
pub fn chunk_len(k: usize) -> usize {
    FIRST_CHUNK << k
}

/// The global number of slot `offset` in chunk `k`.
pub fn slot_number(k: usize, offset: usize) -> usize {
    FIRST_CHUNK * ((1 << k) - 1) + offset
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn chunks_tile_the_slot_numbers() {
        for i in (0..FIRST_CHUNK * 7).step_by(997).chain([
            0,
            FIRST_CHUNK - 1,
            FIRST_CHUNK,
            3 * FIRST_CHUNK,
        ]) {
            let (k, off) = chunk_of(i);
            assert!(off < chunk_len(k), "slot {i}");
            assert_eq!(slot_number(k, off), i);
        }
        assert_eq!(chunk_of(FIRST_CHUNK), (1, 0));
        assert_eq!(chunk_of(3 * FIRST_CHUNK), (2, 0));
    }

    /// One thread frees a slot, then any mix of takes and frees: the slot comes back only
    /// after more than QUARANTINE other frees.
    #[test]
    fn freed_slots_wait_out_the_quarantine() {
        let mut g = Global::new();
        let mut l = Local::default();
        let victim = l
            .take(|v| {
                g.refill(v);
            })
            .unwrap();
        l.give(victim, |v| g.flush(v));
        let mut frees_after = 0;
        loop {
            let s = l
                .take(|v| {
                    g.refill(v);
                })
                .unwrap();
            if s == victim {
                break;
            }
            l.give(s, |v| g.flush(v));
            frees_after += 1;
        }
        assert!(
            frees_after >= QUARANTINE,
            "reused after {frees_after} frees"
        );
        assert!(
            frees_after <= QUARANTINE + 2 * BATCH,
            "never reused: {frees_after}"
        );
    }
}

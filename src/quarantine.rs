//! Which session slot to hand out next, and the quarantine that keeps freed slots out of
//! use long enough for a stale pointer to be recognised.
//!
//! Slots are numbered 0, 1, 2, ... in the order they were first made. A freed slot joins
//! the back of a FIFO and is reused only once more than `QUARANTINE` slots wait behind
//! it, so a double free or use after free is caught for at least the last 4096 frees.
//! Safe logic only: slot numbers, no pointers.

use std::collections::VecDeque;

/// How many of the most recent frees are never reused.
pub const QUARANTINE: usize = 4096;

/// Slots live in chunks that double in size: chunk k holds `FIRST_CHUNK << k` slots.
pub const FIRST_CHUNK: usize = 256;
/// 256 · (2^32 − 1) slots is more than any address space holds.
pub const MAX_CHUNKS: usize = 32;

pub struct Pool {
    made: usize,
    freed: VecDeque<usize>,
}

impl Pool {
    pub const fn new() -> Self {
        Pool {
            made: 0,
            freed: VecDeque::new(),
        }
    }

    /// The slot for a new session: the oldest freed slot once the quarantine is full,
    /// else a never-used one.
    pub fn take(&mut self) -> usize {
        if self.freed.len() > QUARANTINE {
            if let Some(i) = self.freed.pop_front() {
                return i;
            }
        }
        self.made += 1;
        self.made - 1
    }

    /// A destroyed session's slot enters the quarantine.
    pub fn give(&mut self, slot: usize) {
        self.freed.push_back(slot);
    }
}

impl Default for Pool {
    fn default() -> Self {
        Self::new()
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
        let mut expect_k = 0;
        let mut expect_off = 0;
        for i in 0..FIRST_CHUNK * 15 {
            assert_eq!(chunk_of(i), (expect_k, expect_off), "slot {i}");
            assert_eq!(slot_number(expect_k, expect_off), i);
            expect_off += 1;
            if expect_off == chunk_len(expect_k) {
                expect_k += 1;
                expect_off = 0;
            }
        }
    }

    #[test]
    fn freed_slots_wait_out_the_quarantine() {
        let mut p = Pool::new();
        let first = p.take();
        p.give(first);
        // The next QUARANTINE allocations never return the freed slot.
        let mut live = Vec::new();
        for _ in 0..QUARANTINE {
            let s = p.take();
            assert_ne!(s, first);
            live.push(s);
        }
        for s in live.drain(..) {
            p.give(s);
        }
        // Now more than QUARANTINE slots wait, so the oldest comes back first.
        assert_eq!(p.take(), first);
    }
}

//! The quarantine of freed libssl sessions: their real free waits here, bounded by a
//! count and a byte estimate, so that a freed pointer stays recognisable (its record says
//! it is dead) and its memory valid until it leaves. Safe logic: addresses are numbers;
//! `sanitizer.rs` does the real frees of what `push` evicts.

use std::collections::VecDeque;

pub struct Quarantine {
    queue: VecDeque<(usize, usize)>,
    bytes: usize,
    max_count: usize,
    max_bytes: usize,
}

impl Quarantine {
    pub const fn new(max_count: usize, max_bytes: usize) -> Quarantine {
        Quarantine {
            queue: VecDeque::new(),
            bytes: 0,
            max_count,
            max_bytes,
        }
    }

    pub fn set_bounds(&mut self, max_count: usize, max_bytes: usize) {
        self.max_count = max_count;
        self.max_bytes = max_bytes;
    }

    /// Queue `addr` (about `bytes` large); the sessions that must leave now, oldest
    /// first (possibly `addr` itself, with a bound of 0).
    pub fn push(&mut self, addr: usize, bytes: usize) -> Vec<usize> {
        self.queue.push_back((addr, bytes));
        self.bytes += bytes;
        let mut out = Vec::new();
        while self.queue.len() > self.max_count || (self.bytes > self.max_bytes) {
            let Some((a, b)) = self.queue.pop_front() else {
                break;
            };
            self.bytes -= b;
            out.push(a);
        }
        out
    }

    /// Everything, for the exit.
    pub fn drain(&mut self) -> Vec<usize> {
        self.bytes = 0;
        self.queue.drain(..).map(|e| e.0).collect()
    }

    #[cfg(test)]
    fn len(&self) -> usize {
        self.queue.len()
    }

    #[cfg(test)]
    fn is_empty(&self) -> bool {
        self.queue.is_empty()
    }

    #[cfg(test)]
    fn bytes(&self) -> usize {
        self.bytes
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bounded_by_count_and_bytes_oldest_first() {
        let mut q = Quarantine::new(2, 1000);
        assert!(q.push(1, 100).is_empty());
        assert!(q.push(2, 100).is_empty());
        assert_eq!(q.push(3, 100), vec![1]);
        assert_eq!(q.push(4, 900), vec![2]);
        assert_eq!((q.len(), q.bytes()), (2, 1000));
        assert_eq!(q.push(5, 500), vec![3, 4]);
        assert_eq!((q.len(), q.bytes()), (1, 500));
        assert_eq!(q.drain(), vec![5]);
        assert!(q.is_empty());
        let mut none = Quarantine::new(0, 0);
        assert_eq!(none.push(9, 10), vec![9]);
    }
}

//! A session's ex_data values, held in the session itself.

use libc::{c_int, c_void};
use std::cell::Cell;
use std::ptr::null_mut;

/// A session's ex_data values, exactly as libcrypto's `STACK_OF(void)` in a
/// `CRYPTO_EX_DATA` would hold them: absent until the first set, then a list that grows
/// (with NULLs) to cover the highest index set, and never shrinks.
///
/// Changed through `&self`: the application's ex_data callbacks, which we run while
/// dispatching over these values, may set values of the same session again
/// (`CRYPTO_set_ex_data` on the block they are given), so no `&mut` can be held across
/// a callback. The values are opaque to us: C's pointers, stored and handed back.
pub struct Slots {
    pub(super) exists: Cell<bool>,
    len: Cell<usize>,
    first: [Cell<*mut c_void>; 4],
    /// Taken out and put back around each access (a `Cell` has no borrow flag: the
    /// slot has no room for one).
    rest: Cell<Vec<*mut c_void>>,
}

impl Slots {
    pub const fn new() -> Self {
        Slots {
            exists: Cell::new(false),
            len: Cell::new(0),
            first: [const { Cell::new(null_mut()) }; 4],
            rest: Cell::new(Vec::new()),
        }
    }

    /// `sk_void_num`: -1 when there is no list.
    pub(super) fn num(&self) -> c_int {
        if self.exists.get() {
            self.len.get() as c_int
        } else {
            -1
        }
    }

    /// `CRYPTO_get_ex_data`.
    pub fn get(&self, idx: c_int) -> *mut c_void {
        if idx < 0 || idx as usize >= self.len.get() {
            return null_mut();
        }
        let i = idx as usize;
        match self.first.get(i) {
            Some(v) => v.get(),
            None => {
                let rest = self.rest.take();
                let v = rest[i - self.first.len()];
                self.rest.set(rest);
                v
            }
        }
    }

    /// `CRYPTO_set_ex_data`; false only for a negative index with a non-NULL value.
    pub fn set(&self, idx: c_int, val: *mut c_void) -> bool {
        self.exists.set(true);
        if idx < 0 {
            return val.is_null();
        }
        let i = idx as usize;
        if i >= self.len.get() {
            self.len.set(i + 1);
        }
        match self.first.get(i) {
            Some(v) => v.set(val),
            None => {
                let mut rest = self.rest.take();
                let at = i - self.first.len();
                if rest.len() <= at {
                    rest.resize(at + 1, null_mut());
                }
                rest[at] = val;
                self.rest.set(rest);
            }
        }
        true
    }

    /// Back to "no list", for the slot's next session.
    pub(super) fn clear(&self) {
        if self.exists.get() {
            self.exists.set(false);
            self.len.set(0);
            for v in &self.first {
                v.set(null_mut());
            }
            drop(self.rest.take());
        }
    }
}

impl Default for Slots {
    fn default() -> Self {
        Self::new()
    }
}

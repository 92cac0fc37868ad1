//! The loaded objects, and which of them are libssl.
//!
//! Under LD_PRELOAD, libssl's own calls bind to our global definitions wherever libssl
//! itself sits: in the global scope (linked by the program), or in a private
//! `dlopen(RTLD_LOCAL)` scope (CPython's `_ssl`, Perl's Net::SSLeay), where
//! `dlsym(RTLD_NEXT)` from us cannot see it. So libssl is looked for among every loaded
//! object (`dl_iterate_phdr`): "a libssl" is an object other than ours whose *own* dynamic
//! symbols include `SSL_SESSION_new` and `SSL_CTX_new` (found with `dlsym` on a
//! `dlopen(path, RTLD_NOLOAD)` handle, whose lookup scope is that object and its
//! dependencies, never the global scope we are preloaded into). Its symbols are looked up
//! the same way, so a definition found is libssl's (or its libcrypto's), and never ours.
//!
//! A snapshot of the objects is taken on demand (a caller's return address in no known
//! object, a symbol found absent) and kept while the loaded set is unchanged: `dlpi_adds`
//! and `dlpi_subs` say when it changed, and our `dlclose` (which forwards to libc's) tells
//! at once. Each change bumps `GENERATION`, which drops every cached address
//! (`next.rs`, `caller.rs`): nothing cached survives an unload.
//!
//! No lock is held around the loader's functions (`dlopen`, `dlsym`, `dl_iterate_phdr`):
//! a constructor run by `dlopen` (loader lock held) may make a session and come here.
//! Racing threads build equal snapshots; the last stored wins. Snapshots are leaked (one
//! per change of the loaded set that a call noticed).

use std::ffi::{CStr, CString};
use std::sync::atomic::{AtomicBool, AtomicPtr, AtomicU64, AtomicUsize, Ordering};

/// Bumped at every change of the loaded set that was noticed.
static GENERATION: AtomicUsize = AtomicUsize::new(1);
static CURRENT: AtomicPtr<Snapshot> = AtomicPtr::new(std::ptr::null_mut());
/// More than one libssl is loaded: static objects are routed to the one they lie in.
static MULTI: AtomicBool = AtomicBool::new(false);

/// With several libssl copies loaded, the one other than the first whose segments hold
/// `obj` (a static object such as an `SSL_CIPHER`); None otherwise (then the first).
#[inline(always)]
pub fn owner_of(obj: usize) -> Option<&'static Lib> {
    if !MULTI.load(Ordering::Relaxed) {
        return None;
    }
    current().libssl.iter().skip(1).find(|l| l.owns(obj))
}

#[inline(always)]
pub fn generation() -> usize {
    GENERATION.load(Ordering::Acquire)
}

/// A loaded libssl.
pub struct Lib {
    /// The path it was loaded from (`dlpi_name`), for `dlopen(RTLD_NOLOAD)` and reports.
    pub path: CString,
    /// Executable segments.
    pub text: Vec<(usize, usize)>,
    /// Every segment (its static ciphers live in one).
    pub all: Vec<(usize, usize)>,
    /// Its own `SSL_SESSION_new` and `d2i_SSL_SESSION` (0 if absent), for its own calls.
    new: usize,
    d2i: usize,
}

impl Lib {
    /// Its own `SSL_SESSION_new`, if it has one.
    pub fn new_fn(&self) -> Option<crate::sys::libssl::New> {
        // SAFETY: found as this libssl's own `SSL_SESSION_new` symbol.
        (self.new != 0).then(|| unsafe { crate::sys::next::fn_from(self.new) })
    }

    /// Its own `d2i_SSL_SESSION`, if it has one.
    pub fn d2i_fn(&self) -> Option<crate::sys::libssl::D2i> {
        // SAFETY: found as this libssl's own `d2i_SSL_SESSION` symbol.
        (self.d2i != 0).then(|| unsafe { crate::sys::next::fn_from(self.d2i) })
    }

    pub fn contains(&self, a: usize) -> bool {
        self.text.iter().any(|&(s, e)| a.wrapping_sub(s) < e - s)
    }

    /// Whether `a` lies in any of its segments (a static object of its own).
    pub fn owns(&self, a: usize) -> bool {
        self.all.iter().any(|&(s, e)| a.wrapping_sub(s) < e - s)
    }

    /// `name` (NUL-terminated) in this libssl's lookup scope (itself, then libcrypto, ...),
    /// if the object is still loaded and the definition is not ours.
    pub fn sym(&self, name: &CStr) -> Option<usize> {
        let h = noload_open(&self.path)?;
        // SAFETY: h is a live handle; name is NUL-terminated.
        let p = unsafe { libc::dlsym(h, name.as_ptr()) } as usize;
        real_dlclose(h);
        (p != 0 && !is_ours(p)).then_some(p)
    }
}

/// What was loaded when the snapshot was taken.
pub struct Snapshot {
    pub generation: usize,
    adds: u64,
    subs: u64,
    /// In load order: the first is the one foreign objects go to (but for static objects
    /// of another copy, `owner_of`).
    pub libssl: Vec<Lib>,
    /// Executable segments of every other object (ours included).
    pub others: Vec<(usize, usize)>,
}

/// An object as `dl_iterate_phdr` showed it.
struct Obj {
    name: CString,
    text: Vec<(usize, usize)>,
    all: Vec<(usize, usize)>,
}

/// `(dlpi_adds, dlpi_subs)`: objects ever loaded and unloaded.
fn counts() -> (u64, u64) {
    unsafe extern "C" fn first(
        info: *mut libc::dl_phdr_info,
        _size: libc::size_t,
        data: *mut libc::c_void,
    ) -> libc::c_int {
        crate::misuse::guard("dl_iterate_phdr callback", 0, 1, || {
            // SAFETY: dl_iterate_phdr passes a valid info and our own data pointer.
            unsafe { *(data as *mut (u64, u64)) = ((*info).dlpi_adds, (*info).dlpi_subs) };
            1
        })
    }
    let mut c = (0u64, 0u64);
    // SAFETY: the callback only reads the info it is given and writes our pair.
    unsafe { libc::dl_iterate_phdr(Some(first), (&mut c as *mut (u64, u64)).cast()) };
    c
}

/// Every loaded object with its segments, and the counts, in one consistent look.
fn objects() -> (Vec<Obj>, u64, u64) {
    struct Acc {
        objs: Vec<Obj>,
        adds: u64,
        subs: u64,
    }
    unsafe extern "C" fn each(
        info: *mut libc::dl_phdr_info,
        _size: libc::size_t,
        data: *mut libc::c_void,
    ) -> libc::c_int {
        // A panic stops the walk (1) rather than unwind into the loader.
        crate::misuse::guard("dl_iterate_phdr callback", 0, 1, || {
            // SAFETY: dl_iterate_phdr passes a valid info; data is our Acc.
            let (info, acc) = unsafe { (&*info, &mut *(data as *mut Acc)) };
            acc.adds = info.dlpi_adds;
            acc.subs = info.dlpi_subs;
            let base = info.dlpi_addr as usize;
            let (mut text, mut all) = (Vec::new(), Vec::new());
            for i in 0..info.dlpi_phnum as usize {
                // SAFETY: dlpi_phdr has dlpi_phnum entries.
                let ph = unsafe { &*info.dlpi_phdr.add(i) };
                if ph.p_type == libc::PT_LOAD {
                    let start = base.wrapping_add(ph.p_vaddr as usize);
                    let r = (start, start + ph.p_memsz as usize);
                    all.push(r);
                    if ph.p_flags & libc::PF_X != 0 {
                        text.push(r);
                    }
                }
            }
            let name = if info.dlpi_name.is_null() {
                CString::default()
            } else {
                // SAFETY: a non-NULL dlpi_name is a NUL-terminated string.
                unsafe { CStr::from_ptr(info.dlpi_name) }.to_owned()
            };
            acc.objs.push(Obj { name, text, all });
            0
        })
    }
    let mut acc = Acc {
        objs: Vec::new(),
        adds: 0,
        subs: 0,
    };
    // SAFETY: the callback reads the infos it is given and writes only into acc. Nothing
    // in it calls the loader (that could deadlock against a thread inside dlopen).
    unsafe { libc::dl_iterate_phdr(Some(each), (&mut acc as *mut Acc).cast()) };
    (acc.objs, acc.adds, acc.subs)
}

/// The executable span (lowest start, highest end) of the loaded object whose code holds
/// `addr`.
pub fn text_span_of(addr: usize) -> Option<(usize, usize)> {
    let (objs, _, _) = objects();
    let o = objs
        .into_iter()
        .find(|o| o.text.iter().any(|&(s, e)| addr.wrapping_sub(s) < e - s))?;
    let lo = o.text.iter().map(|r| r.0).min()?;
    let hi = o.text.iter().map(|r| r.1).max()?;
    Some((lo, hi))
}

/// Our own object's segments, found once (it cannot move while we run).
fn ours() -> &'static [(usize, usize)] {
    static OURS: AtomicPtr<Vec<(usize, usize)>> = AtomicPtr::new(std::ptr::null_mut());
    let p = OURS.load(Ordering::Acquire);
    if !p.is_null() {
        // SAFETY: leaked, never freed.
        return unsafe { &*p };
    }
    let me = ours as *const () as usize;
    let segs = objects()
        .0
        .into_iter()
        .find(|o| o.all.iter().any(|&(s, e)| me.wrapping_sub(s) < e - s))
        .map_or_else(Vec::new, |o| o.all);
    let p = Box::into_raw(Box::new(segs));
    match OURS.compare_exchange(std::ptr::null_mut(), p, Ordering::AcqRel, Ordering::Acquire) {
        // SAFETY: leaked, never freed.
        Ok(_) => unsafe { &*p },
        Err(q) => {
            // SAFETY: p was never shared.
            drop(unsafe { Box::from_raw(p) });
            // SAFETY: leaked, never freed.
            unsafe { &*q }
        }
    }
}

/// Whether `a` lies in our own object: a lookup must never hand back one of ours.
pub fn is_ours(a: usize) -> bool {
    ours().iter().any(|&(s, e)| a.wrapping_sub(s) < e - s)
}

/// `dlopen(path, RTLD_NOLOAD)`: a handle on an object already loaded, never a new load,
/// and no change of its scope (no RTLD_GLOBAL).
fn noload_open(path: &CStr) -> Option<*mut libc::c_void> {
    if path.is_empty() {
        return None;
    }
    // SAFETY: path is NUL-terminated; RTLD_NOLOAD never loads anything.
    let h = unsafe { libc::dlopen(path.as_ptr(), libc::RTLD_NOLOAD | libc::RTLD_LAZY) };
    (!h.is_null()).then_some(h)
}

/// libc's `dlclose` (ours, exported for the application, would count a change).
pub fn real_dlclose(h: *mut libc::c_void) -> libc::c_int {
    type F = unsafe extern "C" fn(*mut libc::c_void) -> libc::c_int;
    static REAL: AtomicUsize = AtomicUsize::new(0);
    let mut f = REAL.load(Ordering::Relaxed);
    if f == 0 {
        // SAFETY: RTLD_NEXT from a shared object; the name is NUL-terminated.
        f = unsafe { libc::dlsym(libc::RTLD_NEXT, c"dlclose".as_ptr()) } as usize;
        if f == 0 || is_ours(f) {
            return -1;
        }
        REAL.store(f, Ordering::Relaxed);
    }
    // SAFETY: libc's dlclose, with the caller's handle.
    unsafe { crate::sys::next::fn_from::<F>(f)(h) }
}

/// Whether `o` is a libssl, and if so its record.
fn classify(o: &Obj) -> Option<Lib> {
    let me = ours();
    if o.name.is_empty() || o.all.iter().any(|r| me.contains(r)) {
        return None;
    }
    let h = noload_open(&o.name)?;
    let own = |name: &CStr| {
        // SAFETY: h is a live handle; name is NUL-terminated.
        let p = unsafe { libc::dlsym(h, name.as_ptr()) } as usize;
        (p != 0 && o.text.iter().any(|&(s, e)| p.wrapping_sub(s) < e - s)).then_some(p)
    };
    let lib = match (own(c"SSL_SESSION_new"), own(c"SSL_CTX_new")) {
        (Some(new), Some(_)) => Some(Lib {
            path: o.name.clone(),
            text: o.text.clone(),
            all: o.all.clone(),
            new,
            d2i: own(c"d2i_SSL_SESSION").unwrap_or(0),
        }),
        _ => None,
    };
    real_dlclose(h);
    lib
}

/// The snapshot, read again if the loaded set changed since it was taken (one
/// `dl_iterate_phdr` call to find out).
pub fn refresh() -> &'static Snapshot {
    let cur = CURRENT.load(Ordering::Acquire);
    let g = generation();
    if !cur.is_null() {
        // SAFETY: snapshots are leaked, never freed.
        let s = unsafe { &*cur };
        if s.generation == g && (s.adds, s.subs) == counts() {
            return s;
        }
    }
    build(cur)
}

/// The snapshot as last taken, without looking for changes, unless an unload made it
/// stale (then read again).
#[inline]
pub fn current() -> &'static Snapshot {
    let cur = CURRENT.load(Ordering::Acquire);
    if !cur.is_null() {
        // SAFETY: snapshots are leaked, never freed.
        let s = unsafe { &*cur };
        if s.generation == generation() {
            return s;
        }
    }
    refresh()
}

#[cold]
fn build(prev: *mut Snapshot) -> &'static Snapshot {
    let (objs, adds, subs) = objects();
    // SAFETY: snapshots are leaked, never freed.
    let prev = (!prev.is_null()).then(|| unsafe { &*prev });
    let mut libssl = Vec::new();
    let mut others = Vec::new();
    for o in &objs {
        // An object seen before, at the same place, is what it was (unless an unload
        // happened since: then everything is looked at again).
        let known = prev.filter(|p| p.subs == subs && p.generation == generation());
        let lib = match known {
            Some(p) if p.others.iter().any(|r| o.text.contains(r)) => None,
            Some(p) => p
                .libssl
                .iter()
                .find(|l| l.text == o.text && l.path == o.name)
                .map(|l| Lib {
                    path: l.path.clone(),
                    text: l.text.clone(),
                    all: l.all.clone(),
                    new: l.new,
                    d2i: l.d2i,
                })
                .or_else(|| classify(o)),
            None => classify(o),
        };
        match lib {
            Some(l) => libssl.push(l),
            None => others.extend(o.text.iter().copied()),
        }
    }
    // Every change of the loaded set drops what was cached for the old one.
    MULTI.store(libssl.len() > 1, Ordering::Relaxed);
    let generation = GENERATION.fetch_add(1, Ordering::AcqRel) + 1;
    forget_hints();
    let s = Box::leak(Box::new(Snapshot {
        generation,
        adds,
        subs,
        libssl,
        others,
    }));
    CURRENT.store(s, Ordering::Release);
    s
}

/// An object was unloaded (our `dlclose`): forget everything cached.
pub fn unloaded() {
    GENERATION.fetch_add(1, Ordering::AcqRel);
    forget_hints();
}

// ---- `caller`'s hints, dropped with every change of the loaded set ------------------------

/// The last non-libssl caller's object's text, packed in one word (`caller::pack`); 0 (an empty
/// range) until known, and again after any change of the loaded set.
pub static HINT: AtomicU64 = AtomicU64::new(0);

/// The last libssl a caller was found in: libssl's own calls (the sanitizer looks at
/// every up_ref and free it makes) then take one range check too. Libs are never freed
/// (snapshots are leaked), so the pointer stays valid; it is cleared with the hint.
pub static LAST_SSL: AtomicPtr<Lib> = AtomicPtr::new(std::ptr::null_mut());

/// The loaded set changed: the hints may name an object that is gone.
fn forget_hints() {
    HINT.store(0, Ordering::Relaxed);
    LAST_SSL.store(std::ptr::null_mut(), Ordering::Release);
}

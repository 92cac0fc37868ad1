//! The side record of one libssl session: a short history of its reference events and
//! the application's share of its references. Safe logic only; addresses are numbers.

/// Who made a call: libssl itself (or libcrypto on libssl's behalf, or ssl-session's own
/// hand-over code), or the application.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum By {
    Libssl,
    App,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Kind {
    /// Made by libssl's `SSL_SESSION_new` (first sight of others: `Seen`).
    New,
    /// First seen here (made by libssl's internal `ssl_session_dup`, or before tracking).
    Seen,
    UpRef,
    Free,
    /// The free that dropped the last reference (the real free is deferred).
    LastFree,
    /// `SSL_get_session`: no reference taken.
    GetSession,
    /// `SSL_get1_session`: one reference taken.
    Get1Session,
    /// The new-session callback returned 1: it keeps the reference libssl gave it.
    NewCbKept,
    /// The new-session callback returned 0: libssl drops that reference again.
    NewCbDropped,
    /// The external cache's get callback returned it with `*copy` set: libssl takes its
    /// own reference.
    GetCbCopy,
    /// ... with `*copy = 0`: the callback hands one of its references to libssl.
    GetCbHanded,
}

impl Kind {
    pub fn name(self) -> &'static str {
        match self {
            Kind::New => "SSL_SESSION_new",
            Kind::Seen => "(made inside libssl)",
            Kind::UpRef => "SSL_SESSION_up_ref",
            Kind::Free | Kind::LastFree => "SSL_SESSION_free",
            Kind::GetSession => "SSL_get_session",
            Kind::Get1Session => "SSL_get1_session",
            Kind::NewCbKept | Kind::NewCbDropped => "new-session callback",
            Kind::GetCbCopy | Kind::GetCbHanded => "get-session callback",
        }
    }

    /// What the event did, in the report.
    pub fn meaning(self) -> &'static str {
        match self {
            Kind::New => "created",
            Kind::Seen => "first seen here (a copy libssl made itself, e.g. for a TLS 1.3 ticket)",
            Kind::UpRef => "reference taken",
            Kind::Free => "reference dropped",
            Kind::LastFree => "last reference dropped (freed)",
            Kind::GetSession => "pointer returned, no reference taken",
            Kind::Get1Session => "pointer returned with a reference",
            Kind::NewCbKept => "returned 1: the application keeps libssl's reference",
            Kind::NewCbDropped => "returned 0: the application keeps no reference",
            Kind::GetCbCopy => "returned it, *copy = 1: libssl takes its own reference",
            Kind::GetCbHanded => {
                "returned it, *copy = 0: one of the application's references goes to libssl"
            }
        }
    }

    /// The change to the application's references.
    fn app_delta(self) -> i32 {
        match self {
            Kind::Get1Session | Kind::NewCbKept => 1,
            Kind::GetCbHanded => -1,
            _ => 0,
        }
    }

    /// A way for the application to get the pointer without a reference of its own.
    fn gives_no_reference(self) -> bool {
        matches!(
            self,
            Kind::GetSession | Kind::NewCbDropped | Kind::GetCbHanded
        )
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Event {
    pub kind: Kind,
    pub by: By,
    /// The caller's return address (for callbacks: the callback's address); 0 if unknown.
    pub site: usize,
    pub thread: u32,
    /// The reference count after the event, as libssl keeps it.
    pub refs: i32,
    /// The libssl function the application called that made libssl's call ("SSL_free"),
    /// or "".
    pub within: &'static str,
}

/// The libssl entry points whose nested session frees the report names
/// (`SSL_free → SSL_SESSION_free`); an event keeps the index (0: none).
pub const ENTRIES: [&str; 4] = ["", "SSL_free", "SSL_CTX_free", "SSL_CTX_flush_sessions"];

/// `name`'s index in ENTRIES (0 for a name not listed).
pub fn entry_index(name: &str) -> u8 {
    ENTRIES.iter().position(|&e| e == name).unwrap_or(0) as u8
}

/// An event as a record keeps it: 24 bytes, stored in place on the hot path.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Packed {
    pub site: usize,
    pub thread: u32,
    pub refs: i32,
    pub kind: Kind,
    pub by: By,
    /// Index in ENTRIES.
    pub within: u8,
}

impl Packed {
    fn event(self) -> Event {
        Event {
            kind: self.kind,
            by: self.by,
            site: self.site,
            thread: self.thread,
            refs: self.refs,
            within: ENTRIES[self.within as usize % ENTRIES.len()],
        }
    }
}

impl Event {
    #[cfg(test)]
    fn packed(self) -> Packed {
        Packed {
            site: self.site,
            thread: self.thread,
            refs: self.refs,
            kind: self.kind,
            by: self.by,
            within: entry_index(self.within),
        }
    }
}

/// How many events a record keeps (the oldest are dropped; the sticky fields below keep
/// what the culprit line needs). A power of two.
pub const KEPT: usize = 8;

const NONE: Packed = Packed {
    site: 0,
    thread: 0,
    refs: 0,
    kind: Kind::Seen,
    by: By::Libssl,
    within: 0,
};

#[derive(Clone, Debug)]
pub struct Record {
    /// The last `total.min(KEPT)` events, at `i % KEPT`.
    ring: [Packed; KEPT],
    total: usize,
    /// References the application holds, as its calls say (may be off for paths we do
    /// not see, such as `SSL_SESSION_dup`; it only chooses the culprit line).
    pub app_refs: i32,
    /// The first application call that gave back a reference it did not hold.
    unbacked: Option<Packed>,
    /// The last way the application got the pointer without a reference.
    noref: Option<Packed>,
    /// The last free (the one that emptied the count), once it happened.
    last_free: Option<Packed>,
}

impl Record {
    pub const fn new() -> Record {
        Record {
            ring: [NONE; KEPT],
            total: 0,
            app_refs: 0,
            unbacked: None,
            noref: None,
            last_free: None,
        }
    }

    /// Note one event in `Event`'s form.
    #[cfg(test)]
    pub fn push(&mut self, e: Event) {
        self.note(e.packed())
    }

    /// Note one event, and what it means for the application's references.
    #[inline(always)]
    pub fn note(&mut self, e: Packed) {
        self.ring[self.total % KEPT] = e;
        self.total += 1;
        if e.kind == Kind::LastFree {
            self.last_free = Some(e);
        }
        if e.by != By::App {
            return;
        }
        let delta = match e.kind {
            Kind::UpRef => 1,
            Kind::Free | Kind::LastFree => -1,
            k => {
                if k.gives_no_reference() {
                    self.noref = Some(e);
                }
                k.app_delta()
            }
        };
        self.app_refs += delta;
        if self.app_refs < 0 && delta < 0 && self.unbacked.is_none() {
            self.unbacked = Some(e);
        }
    }

    /// The kept events, oldest first, and how many older ones were dropped.
    pub fn events(&self) -> (Vec<Event>, usize) {
        let n = self.total.min(KEPT);
        let first = self.total - n;
        let v = (first..self.total)
            .map(|i| self.ring[i % KEPT].event())
            .collect();
        (v, first)
    }

    pub fn is_dead(&self) -> bool {
        self.last_free.is_some()
    }

    pub fn unbacked(&self) -> Option<Event> {
        self.unbacked.map(Packed::event)
    }

    pub fn noref(&self) -> Option<Event> {
        self.noref.map(Packed::event)
    }

    pub fn last_free(&self) -> Option<Event> {
        self.last_free.map(Packed::event)
    }
}

impl Default for Record {
    fn default() -> Self {
        Record::new()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ev(kind: Kind, by: By, refs: i32) -> Event {
        Event {
            kind,
            by,
            site: 0x10,
            thread: 1,
            refs,
            within: "",
        }
    }

    #[test]
    fn a_free_after_get_session_is_unbacked() {
        let mut r = Record::new();
        r.push(ev(Kind::New, By::Libssl, 1));
        r.push(ev(Kind::UpRef, By::Libssl, 2));
        r.push(ev(Kind::GetSession, By::App, 2));
        assert!(r.unbacked().is_none());
        r.push(ev(Kind::Free, By::App, 1));
        assert_eq!(r.unbacked().map(|e| e.kind), Some(Kind::Free));
        assert_eq!(r.noref().map(|e| e.kind), Some(Kind::GetSession));
        assert_eq!(r.app_refs, -1);
    }

    #[test]
    fn balanced_application_references_leave_no_culprit() {
        let mut r = Record::new();
        r.push(ev(Kind::New, By::Libssl, 1));
        r.push(ev(Kind::Get1Session, By::App, 2));
        r.push(ev(Kind::UpRef, By::App, 3));
        r.push(ev(Kind::Free, By::App, 2));
        r.push(ev(Kind::Free, By::App, 1));
        r.push(ev(Kind::LastFree, By::Libssl, 0));
        assert!(r.unbacked().is_none());
        assert_eq!(r.app_refs, 0);
        assert!(r.is_dead());
    }

    #[test]
    fn handing_over_a_reference_through_copy_counts_against_the_application() {
        let mut r = Record::new();
        r.push(ev(Kind::NewCbKept, By::App, 2));
        r.push(ev(Kind::GetCbHanded, By::App, 1));
        assert_eq!(r.app_refs, 0);
        r.push(ev(Kind::GetCbHanded, By::App, 1));
        assert_eq!(r.unbacked().map(|e| e.kind), Some(Kind::GetCbHanded));
    }

    #[test]
    fn the_ring_keeps_the_newest_events_in_order() {
        let mut r = Record::new();
        for i in 0..(KEPT as i32 + 3) {
            r.push(ev(Kind::UpRef, By::Libssl, i));
        }
        let (v, dropped) = r.events();
        assert_eq!(dropped, 3);
        assert_eq!(v.len(), KEPT);
        assert_eq!(v[0].refs, 3);
        assert_eq!(v[KEPT - 1].refs, KEPT as i32 + 2);
    }
}

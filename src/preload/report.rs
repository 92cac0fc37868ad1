//! The text of a sanitizer report: the one line of `misuse.rs`'s form, then the session's
//! history, oldest first, and a "likely culprit" line. Safe: call sites are turned into
//! text by the `site` function the caller passes (`symbol.rs`).

use super::history::{By, Event, Kind, Record};

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[allow(clippy::enum_variant_names)]
pub enum Fault {
    /// The last reference dropped while this SSL_CTX's cache holds the session.
    OverFree { owner: usize },
    /// A free after the last free.
    DoubleFree,
    /// Any other call after the last free.
    UseAfterFree,
}

/// The faulty call.
#[derive(Clone, Copy, Debug)]
pub struct Call {
    pub func: &'static str,
    pub by: By,
    pub site: usize,
    pub thread: u32,
    pub within: &'static str,
}

const P: &str = "ssl-session:";

fn who(by: By) -> &'static str {
    match by {
        By::Libssl => "libssl",
        By::App => "app   ",
    }
}

/// "at SITE", "inside SSL_free", both or nothing.
fn place(by: By, site: usize, within: &str, fmt: &dyn Fn(usize, By) -> String) -> String {
    let mut s = String::new();
    if !within.is_empty() && by == By::Libssl {
        s.push_str(&format!(" inside {within}"));
    }
    if site != 0 {
        s.push_str(&format!(" at {}", fmt(site, by)));
    }
    s
}

fn noref_why(e: &Event, fmt: &dyn Fn(usize, By) -> String) -> String {
    let at = fmt(e.site, e.by);
    match e.kind {
        Kind::GetSession => format!(
            "it got the pointer from SSL_get_session at {at}, which takes no reference \
             (use SSL_get1_session, and free that reference when done)"
        ),
        Kind::NewCbDropped => format!(
            "the new-session callback {at} returned 0, so libssl dropped the reference it \
             had given it, but the application kept the pointer (return 1 to keep the \
             reference, and free it when done)"
        ),
        Kind::GetCbHanded => format!(
            "the get-session callback {at} set *copy = 0, handing libssl one of its \
             references, yet kept the session as if it still held it (leave *copy = 1 \
             unless the callback gives its own reference away)"
        ),
        _ => String::new(),
    }
}

/// The whole report, one `ssl-session:` line each, ending in a newline.
pub fn text(
    call: &Call,
    addr: usize,
    fault: Fault,
    rec: Option<&Record>,
    fmt: &dyn Fn(usize, By) -> String,
) -> String {
    let arrow = if call.by == By::Libssl && !call.within.is_empty() {
        format!("{} → ", call.within)
    } else {
        String::new()
    };
    let what = match fault {
        Fault::OverFree { owner } => format!(
            "last reference dropped while SSL_CTX {owner:#x} still caches the session (one free too many)"
        ),
        Fault::DoubleFree => {
            "libssl session already freed (double free: its last reference was dropped before)"
                .to_string()
        }
        Fault::UseAfterFree => {
            "libssl session already freed (use after free: its last reference was dropped before)"
                .to_string()
        }
    };
    let mut out = format!("{P} {arrow}{}({addr:#x}): {what}\n", call.func);
    out.push_str(&format!(
        "{P}   this call: {}{}, thread {}\n",
        match call.by {
            By::Libssl => "libssl's own",
            By::App => "the application's",
        },
        place(call.by, call.site, call.within, fmt),
        call.thread
    ));
    let Some(rec) = rec else {
        out.push_str(&format!("{P}   no history kept for this session\n"));
        return out;
    };
    let (events, dropped) = rec.events();
    out.push_str(&format!(
        "{P}   history, oldest first{}:\n",
        if dropped > 0 {
            format!(" ({dropped} earlier events not kept)")
        } else {
            String::new()
        }
    ));
    for e in &events {
        out.push_str(&format!(
            "{P}     {} {}: {} (count {}){}, thread {}\n",
            who(e.by),
            e.kind.name(),
            e.kind.meaning(),
            e.refs,
            place(e.by, e.site, e.within, fmt),
            e.thread
        ));
    }
    out.push_str(&format!(
        "{P}   likely culprit: {}\n",
        culprit(call, rec, fmt)
    ));
    out
}

/// One leaked session (SSL_SESSION_LEAKS=1): the references the application took and
/// never gave back, and its history.
pub fn leak_text(addr: usize, rec: &Record, fmt: &dyn Fn(usize, By) -> String) -> String {
    let mut out = format!(
        "{P} leak: libssl session {addr:#x}: the application took {} reference{} on it and never gave {} back\n",
        rec.app_refs,
        if rec.app_refs == 1 { "" } else { "s" },
        if rec.app_refs == 1 { "it" } else { "them" },
    );
    let (events, dropped) = rec.events();
    if dropped > 0 {
        out.push_str(&format!("{P}   ({dropped} earlier events not kept)\n"));
    }
    for e in &events {
        out.push_str(&format!(
            "{P}     {} {}: {} (count {}){}, thread {}\n",
            who(e.by),
            e.kind.name(),
            e.kind.meaning(),
            e.refs,
            place(e.by, e.site, e.within, fmt),
            e.thread
        ));
    }
    out
}

fn culprit(call: &Call, rec: &Record, fmt: &dyn Fn(usize, By) -> String) -> String {
    let why = rec.noref().map(|e| noref_why(&e, fmt)).unwrap_or_default();
    let join = |head: String| {
        if why.is_empty() {
            head
        } else {
            format!("{head}: {why}")
        }
    };
    if let Some(u) = rec.unbacked() {
        if u.kind == Kind::GetCbHanded {
            return format!(
                "the get-session callback {} set *copy = 0 without a reference of the \
                 application's to give: libssl then owned a reference nobody had taken",
                fmt(u.site, u.by)
            );
        }
        return join(format!(
            "the application's {} at {} gave back a reference it did not hold",
            u.kind.name(),
            fmt(u.site, u.by)
        ));
    }
    if call.by == By::App {
        let freed = rec
            .last_free()
            .map(|e| {
                format!(
                    " (freed by {}{})",
                    match e.by {
                        By::Libssl => "libssl",
                        By::App => "the application",
                    },
                    place(e.by, e.site, e.within, fmt)
                )
            })
            .unwrap_or_default();
        let at = if call.site != 0 {
            format!(" at {}", fmt(call.site, call.by))
        } else {
            String::new()
        };
        return join(format!(
            "this call{at}: the application used the session after its last reference was dropped{freed}, holding none of its own"
        ));
    }
    if !why.is_empty() {
        return format!("the application kept the pointer without a reference: {why}");
    }
    "none in the history: a reference was given back on a path ssl-session does not see".to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn fmt(site: usize, by: By) -> String {
        match by {
            By::App => format!("app_fn+{site:#x} in ./prog"),
            By::Libssl => format!("libssl.so.3+{site:#x}"),
        }
    }

    fn ev(kind: Kind, by: By, site: usize, refs: i32, within: &'static str) -> Event {
        Event {
            kind,
            by,
            site,
            thread: 7,
            refs,
            within,
        }
    }

    #[test]
    fn an_over_free_names_the_free_without_a_reference() {
        let mut r = Record::new();
        r.push(ev(Kind::New, By::Libssl, 0x100, 1, ""));
        r.push(ev(Kind::UpRef, By::Libssl, 0x200, 2, ""));
        r.push(ev(Kind::GetSession, By::App, 0x4c, 2, ""));
        r.push(ev(Kind::Free, By::App, 0x58, 1, ""));
        let call = Call {
            func: "SSL_SESSION_free",
            by: By::Libssl,
            site: 0x300,
            thread: 7,
            within: "SSL_free",
        };
        let t = text(
            &call,
            0x1230,
            Fault::OverFree { owner: 0x9990 },
            Some(&r),
            &fmt,
        );
        let lines: Vec<&str> = t.lines().collect();
        assert_eq!(
            lines[0],
            "ssl-session: SSL_free → SSL_SESSION_free(0x1230): last reference dropped while \
             SSL_CTX 0x9990 still caches the session (one free too many)"
        );
        assert!(lines.iter().all(|l| l.starts_with("ssl-session:")));
        assert!(t.contains("app    SSL_get_session: pointer returned, no reference taken (count 2) at app_fn+0x4c in ./prog"));
        let last = lines.last().unwrap();
        assert!(
            last.contains("likely culprit: the application's SSL_SESSION_free at app_fn+0x58 in ./prog gave back a reference it did not hold: it got the pointer from SSL_get_session at app_fn+0x4c"),
            "{last}"
        );
    }

    #[test]
    fn a_use_after_free_by_the_application_blames_the_kept_pointer() {
        let mut r = Record::new();
        r.push(ev(Kind::New, By::Libssl, 0x100, 1, ""));
        r.push(ev(Kind::UpRef, By::Libssl, 0x110, 2, ""));
        r.push(ev(Kind::NewCbDropped, By::App, 0x40, 2, ""));
        r.push(ev(Kind::Free, By::Libssl, 0x120, 1, ""));
        r.push(ev(Kind::LastFree, By::Libssl, 0x130, 0, "SSL_free"));
        let call = Call {
            func: "SSL_set_session",
            by: By::App,
            site: 0,
            thread: 7,
            within: "",
        };
        let t = text(&call, 0x1230, Fault::UseAfterFree, Some(&r), &fmt);
        assert!(t.contains("freed by libssl inside SSL_free"), "{t}");
        assert!(t.contains("the new-session callback app_fn+0x40 in ./prog returned 0"));
    }
}

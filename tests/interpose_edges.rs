//! Edge cases of the libssl functions ssl-session interposes under LD_PRELOAD
//! (tests-c/interpose_edges.c, built against libssl): each run with and without the
//! preload, and every preloaded run proven bound to our library.

mod common;
use common::*;
use std::os::unix::process::ExitStatusExt;

/// SSL_CTX_remove_session on a session whose only reference is the cache's: OpenSSL
/// marks it not resumable, then frees it. Preloaded, the same call must not touch our
/// session after libssl freed the copy that held it (before the fix it wrote to the
/// destroyed session; with the liveness check on session data, that is a report).
#[test]
fn remove_session_of_a_session_only_the_cache_holds() {
    let exe = program("interpose_edges", Target::Libssl);
    let plain = run(&exe, &["remove_last_ref"], &[]);
    let pre = run_preloaded(&exe, &["remove_last_ref"], &[]);
    let want = "add_session: 1, cache 1\nremove_session: 1, cache 0\ndone\n";
    assert_eq!(text(&plain.stdout), want, "{}", text(&plain.stderr));
    assert!(
        pre.status.success(),
        "{:?}: {}",
        pre.status,
        text(&pre.stderr)
    );
    assert_eq!(text(&pre.stdout), want);
    assert!(pre.stderr.is_empty(), "{}", text(&pre.stderr));
}

/// A PSK callback setter that cannot keep the application's callback (libcrypto's
/// allocations fail) reports it and sets none; it never hands libssl the raw callback.
#[test]
fn a_callback_setter_without_a_record_fails_loudly() {
    let exe = program("interpose_edges", Target::Libssl);
    let plain = run(&exe, &["setter_no_record"], &[]);
    assert_eq!(text(&plain.stdout), "setter returned\ndone\n");
    assert!(plain.stderr.is_empty(), "{}", text(&plain.stderr));
    let line_ok = |err: &str| {
        let lines: Vec<&str> = err.lines().collect();
        lines.len() == 1
            && lines[0].starts_with("ssl-session: SSL_CTX_set_psk_use_session_callback(0x")
            && lines[0].ends_with(
                "): callback not set (libcrypto gave no ex_data slot to keep it; out of memory?)",
            )
    };
    let warn = run_preloaded(
        &exe,
        &["setter_no_record"],
        &[("SSL_SESSION_MISUSE", "warn")],
    );
    assert!(warn.status.success(), "{:?}", warn.status);
    assert_eq!(text(&warn.stdout), "setter returned\ndone\n");
    let err = text(&warn.stderr);
    assert!(line_ok(&err), "{err}");
    let abort = run_preloaded(&exe, &["setter_no_record"], &[]);
    assert_eq!(abort.status.signal(), Some(libc::SIGABRT), "{abort:?}");
    assert!(line_ok(&text(&abort.stderr)), "{}", text(&abort.stderr));
}

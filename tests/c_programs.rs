//! The C programs of tests-c/ (compiled to objects by tests-c/build.rs, a dev-dependency,
//! so only for the tests), linked against libssl_session.so as a C user would, and against
//! (or preloaded next to) the system libssl where OpenSSL defines the behaviour.

mod common;
use common::*;
use std::os::unix::process::ExitStatusExt;

#[test]
fn our_library_never_links_libssl() {
    let needed = needed(&our_so());
    assert!(
        needed.iter().any(|n| n.starts_with("libcrypto.so")),
        "{needed:?}"
    );
    assert!(
        !needed.iter().any(|n| n.starts_with("libssl")),
        "{needed:?}"
    );
    let exe = program("lifecycle", Target::Ours);
    assert!(!needed_of(&exe).iter().any(|n| n.starts_with("libssl.so")));
}

fn needed_of(p: &std::path::Path) -> Vec<String> {
    needed(p)
}

#[test]
fn lifecycle_matches_libssl() {
    let ours = run(&program("lifecycle", Target::Ours), &[], &[]);
    let real = run(&program("lifecycle", Target::Libssl), &[], &[]);
    assert!(
        real.status.success() && ours.status.success(),
        "{}",
        text(&ours.stderr)
    );
    assert_eq!(text(&ours.stdout), text(&real.stdout));
    // The run did exercise the callbacks (guards against two empty outputs).
    let out = text(&ours.stdout);
    assert!(
        out.contains("  free idx=1 argl=11 parent=s1 value=replace-me"),
        "{out}"
    );
    assert!(
        out.contains("all ok: 1; callbacks new=2000 dup=0 free=4000"),
        "{out}"
    );
    assert!(ours.stderr.is_empty(), "{}", text(&ours.stderr));
}

#[test]
fn lifecycle_preloaded_into_a_libssl_program_matches() {
    let exe = program("lifecycle", Target::Libssl);
    let real = run(&exe, &[], &[]);
    let pre = run_preloaded(&exe, &[], &[]);
    assert!(pre.status.success(), "{}", text(&pre.stderr));
    assert_eq!(text(&pre.stdout), text(&real.stdout));
}

#[test]
fn preload_binds_our_session_symbols() {
    let exe = program("which_lib", Target::Libssl);
    let plain = text(&run(&exe, &[], &[]).stdout);
    assert!(plain.contains("SSL_SESSION_new libssl.so.3"), "{plain}");
    let so = our_so();
    let pre = run(
        &exe,
        &[],
        &[
            ("LD_PRELOAD", so.to_str().unwrap()),
            ("LD_DEBUG", "bindings"),
        ],
    );
    let out = text(&pre.stdout);
    for f in [
        "SSL_SESSION_new",
        "SSL_SESSION_dup",
        "SSL_SESSION_up_ref",
        "SSL_SESSION_free",
    ] {
        assert!(out.contains(&format!("{f} libssl_session.so")), "{out}");
    }
    assert!(out.contains("SSL_CTX_new libssl.so.3"), "{out}");
    // The dynamic linker's own account of the binding.
    let log = text(&pre.stderr);
    let bound = log
        .lines()
        .any(|l| l.contains("libssl_session.so") && l.contains("normal symbol `SSL_SESSION_new'"));
    assert!(
        bound,
        "LD_DEBUG=bindings shows no binding of SSL_SESSION_new to ours"
    );
}

#[test]
fn null_arguments_never_crash() {
    let out = run(&program("misuse", Target::Ours), &["null"], &[]);
    assert!(out.status.success(), "{out:?}");
    let o = text(&out.stdout);
    assert!(
        o.contains("up_ref(NULL) = 0\ndup(NULL) = (nil)\nsurvived\n"),
        "{o}"
    );
    assert!(
        out.stderr.is_empty(),
        "NULL is not misuse: {}",
        text(&out.stderr)
    );
}

/// (case, function named in the report, what, whether the report names the victim)
const CASES: &[(&str, &str, &str, bool)] = &[
    (
        "double_free",
        "SSL_SESSION_free",
        "session already freed (double free or use after free)",
        true,
    ),
    (
        "free_after_refs",
        "SSL_SESSION_free",
        "session already freed (double free or use after free)",
        true,
    ),
    (
        "up_ref_after_free",
        "SSL_SESSION_up_ref",
        "session already freed (double free or use after free)",
        true,
    ),
    (
        "dup_after_free",
        "SSL_SESSION_dup",
        "session already freed (double free or use after free)",
        true,
    ),
    (
        "quarantine",
        "SSL_SESSION_free",
        "session already freed (double free or use after free)",
        true,
    ),
    (
        "free_not_session",
        "SSL_SESSION_free",
        "not an SSL_SESSION (pointer was never returned by ssl-session)",
        false,
    ),
    (
        "up_ref_not_session",
        "SSL_SESSION_up_ref",
        "not an SSL_SESSION (pointer was never returned by ssl-session)",
        false,
    ),
    (
        "dup_not_session",
        "SSL_SESSION_dup",
        "not an SSL_SESSION (pointer was never returned by ssl-session)",
        false,
    ),
    (
        "free_interior_pointer",
        "SSL_SESSION_free",
        "not an SSL_SESSION (pointer was never returned by ssl-session)",
        false,
    ),
    (
        "free_heap_pointer",
        "SSL_SESSION_free",
        "not an SSL_SESSION (pointer was never returned by ssl-session)",
        false,
    ),
];

fn check_report(
    case: &str,
    func: &str,
    what: &str,
    names_victim: bool,
    out: &std::process::Output,
) {
    let stderr = text(&out.stderr);
    let lines: Vec<&str> = stderr.lines().collect();
    assert_eq!(lines.len(), 1, "{case}: want one line, got {stderr:?}");
    let line = lines[0];
    let prefix = format!("ssl-session: {func}(0x");
    assert!(
        line.starts_with(&prefix) && line.ends_with(&format!("): {what}")),
        "{case}: {line}"
    );
    if names_victim {
        let stdout = text(&out.stdout);
        let victim = stdout.lines().next().unwrap().trim_start_matches("victim ");
        assert!(
            line.contains(&format!("{func}({victim})")),
            "{case}: {line} vs {victim}"
        );
    }
}

#[test]
fn misuse_aborts_with_one_line() {
    let exe = program("misuse", Target::Ours);
    for &(case, func, what, victim) in CASES {
        let out = run(&exe, &[case], &[]);
        assert_eq!(out.status.signal(), Some(libc::SIGABRT), "{case}: {out:?}");
        assert!(!text(&out.stdout).contains("survived"), "{case}");
        check_report(case, func, what, victim, &out);
    }
    // Only the exact value "warn" turns the abort off.
    for v in ["", "1", "Warn", "warning", "abort"] {
        let out = run(&exe, &["double_free"], &[("SSL_SESSION_MISUSE", v)]);
        assert_eq!(out.status.signal(), Some(libc::SIGABRT), "{v:?}: {out:?}");
    }
}

#[test]
fn misuse_in_warn_mode_reports_and_returns_the_error_value() {
    let exe = program("misuse", Target::Ours);
    for &(case, func, what, victim) in CASES {
        let out = run(&exe, &[case], &[("SSL_SESSION_MISUSE", "warn")]);
        assert!(out.status.success(), "{case}: {out:?}");
        let stdout = text(&out.stdout);
        assert!(stdout.ends_with("survived\n"), "{case}: {stdout}");
        if case.starts_with("up_ref") {
            assert!(stdout.contains("up_ref = 0\n"), "{case}: {stdout}");
        }
        if case.starts_with("dup") {
            assert!(stdout.contains("dup = (nil)\n"), "{case}: {stdout}");
        }
        check_report(case, func, what, victim, &out);
    }
}

/// The quarantine's wiring in the slot arena, at its boundary: with 4095 frees after the
/// victim (it is then the oldest of the last 4096) its second free is caught while every
/// later session stays alive; past the bound (4096 plus two per-thread batches of 64, as
/// `quarantine.rs` documents) the slot is reused, so the case above can see reuse.
#[test]
fn quarantine_keeps_the_last_4096_frees_and_no_more() {
    let exe = program("misuse", Target::Ours);
    let inside = run(
        &exe,
        &["quarantine", "4095"],
        &[("SSL_SESSION_MISUSE", "warn")],
    );
    let o = text(&inside.stdout);
    assert!(inside.status.success(), "{o}{}", text(&inside.stderr));
    assert!(
        o.contains("4095 frees after the victim; victim slot reused: no\n")
            && o.contains("later sessions alive after it: 4096 of 4096\n"),
        "{o}"
    );
    check_report(
        "quarantine 4095",
        "SSL_SESSION_free",
        "session already freed (double free or use after free)",
        true,
        &inside,
    );
    let past = run(
        &exe,
        &["quarantine", "4224"],
        &[("SSL_SESSION_MISUSE", "warn")],
    );
    let o = text(&past.stdout);
    assert!(past.status.success(), "{o}{}", text(&past.stderr));
    assert!(
        o.contains("4224 frees after the victim; victim slot reused: yes\n")
            && o.contains("later sessions alive after it: 4225 of 4225\n"),
        "{o}"
    );
    assert!(past.stderr.is_empty(), "{}", text(&past.stderr));
}

/// Two threads free the same never-shared session at once, round after round: only one
/// free may destroy it, the other is reported (count already 0, or already freed). The
/// program holds the winner inside the free callback until the loser has acted, so with
/// a load-then-destroy (before the last reference was claimed with one compare-and-swap)
/// every round destroys the session twice.
#[test]
fn a_racing_double_free_is_reported_not_executed() {
    let exe = program("race_free", Target::Ours);
    let rounds = 2000;
    for mode in ["never-shared", "shared"] {
        racing_double_frees(&exe, rounds, mode);
    }
}

fn racing_double_frees(exe: &std::path::Path, rounds: usize, mode: &str) {
    let out = run(
        exe,
        &[&rounds.to_string(), mode],
        &[("SSL_SESSION_MISUSE", "warn")],
    );
    let err = text(&out.stderr);
    assert!(
        out.status.success(),
        "{}: {}",
        out.status,
        err.lines().last().unwrap_or("")
    );
    assert_eq!(
        text(&out.stdout),
        format!("{rounds} rounds, {rounds} sessions freed\n")
    );
    let mut reports = 0;
    for l in err.lines() {
        assert!(
            l.starts_with("ssl-session: SSL_SESSION_free(0x")
                && (l.ends_with("): reference count underflow (more frees than references)")
                    || l.ends_with("): session already freed (double free or use after free)")),
            "{l}"
        );
        reports += 1;
    }
    assert_eq!(
        reports,
        rounds,
        "{mode}: {} of {rounds} racing double frees were executed, not reported",
        rounds - reports
    );
}

#[test]
fn threads_share_one_session_exactly() {
    for target in [Target::Ours, Target::Libssl] {
        let out = run(&program("threads", target), &["4", "500000"], &[]);
        let o = text(&out.stdout);
        assert!(
            out.status.success(),
            "{target:?}: {o} {}",
            text(&out.stderr)
        );
        assert_eq!(
            o,
            "4 threads x 500000 up_ref/free pairs: failed up_refs 0, destroyed before last free 0\n\
             destroyed after last free 1\n"
        );
    }
}

fn valgrind(exe: &std::path::Path, args: &[&str], env: &[(&str, &str)]) {
    let mut c = std::process::Command::new("valgrind");
    c.env_remove("LD_PRELOAD").args([
        "--quiet",
        "--leak-check=full",
        "--show-leak-kinds=definite,indirect,possible",
        "--errors-for-leak-kinds=definite,indirect,possible",
        "--error-exitcode=99",
    ]);
    c.arg(exe).args(args);
    for (k, v) in env {
        c.env(k, v);
    }
    let out = c
        .output()
        .expect("valgrind is required for this test (apt-get install valgrind)");
    assert!(
        out.status.success(),
        "valgrind {} {args:?}: {}\n{}",
        exe.display(),
        out.status,
        text(&out.stderr)
    );
}

#[test]
fn valgrind_finds_no_errors_and_no_leaks() {
    valgrind(&program("lifecycle", Target::Ours), &[], &[]);
    valgrind(&program("threads", Target::Ours), &["4", "20000"], &[]);
    let misuse = program("misuse", Target::Ours);
    valgrind(&misuse, &["null"], &[]);
    for &(case, ..) in CASES {
        valgrind(&misuse, &[case], &[("SSL_SESSION_MISUSE", "warn")]);
    }
}

#[test]
fn getters_setters_and_dup_from_many_threads_see_whole_values() {
    let exe = program("threads_accessors", Target::Ours);
    let out = run(&exe, &["8", "100000"], &[]);
    let o = text(&out.stdout);
    assert!(out.status.success(), "{o} {}", text(&out.stderr));
    assert_eq!(
        o,
        "8 threads x 100000 rounds: torn or impossible values seen: 0\n"
    );
    valgrind(&exe, &["4", "2000"], &[]);
}

#[test]
fn every_accessor_matches_libssl() {
    let o = same_output_as_libssl("api_diff");
    assert!(o.contains("errors after set1_id 33: 0A000198"), "{o}");
    assert!(o.contains("  TLS 1.3 print -> 1"), "{o}");
}

/// Lines of every_function's output: (call, result).
fn results(out: &str) -> Vec<(String, String)> {
    out.lines()
        .filter(|l| {
            l.starts_with("SSL_")
                || l.starts_with("i2d")
                || l.starts_with("d2i")
                || l.starts_with("PEM")
                || l.starts_with('n')
                || l.starts_with('l')
                || l.starts_with('v')
                || l.starts_with('q')
        })
        .filter_map(|l| {
            l.rsplit_once(' ')
                .map(|(a, b)| (a.trim().to_string(), b.to_string()))
        })
        .collect()
}

#[test]
fn every_function_takes_a_null_session_without_crashing() {
    let exe = program("every_function", Target::Ours);
    let out = run(&exe, &["null"], &[]);
    let o = text(&out.stdout);
    assert!(
        out.status.success() && o.ends_with("survived\n"),
        "{o}\n{}",
        text(&out.stderr)
    );
    assert!(
        out.stderr.is_empty(),
        "NULL is not misuse: {}",
        text(&out.stderr)
    );
    for (call, r) in results(&o) {
        assert!(
            matches!(r.as_str(), "0" | "NULL" | "done"),
            "{call} gave {r}"
        );
    }
}

#[test]
fn every_function_reports_a_freed_session_and_changes_nothing() {
    let exe = program("every_function", Target::Ours);
    let out = run(&exe, &["freed"], &[("SSL_SESSION_MISUSE", "warn")]);
    let o = text(&out.stdout);
    assert!(
        out.status.success() && o.ends_with("survived\n"),
        "{o}\n{}",
        text(&out.stderr)
    );
    let calls: Vec<_> = results(&o)
        .into_iter()
        .filter(|(c, _)| c.contains('('))
        .collect();
    for (call, r) in &calls {
        assert!(
            matches!(r.as_str(), "0" | "NULL" | "done"),
            "{call} gave {r}"
        );
    }
    let stderr = text(&out.stderr);
    let reports: Vec<_> = stderr.lines().collect();
    // Every call on the freed session is reported once (SSL_SESSION_print_fp reports
    // through SSL_SESSION_print; the PEM writers through i2d_SSL_SESSION).
    assert_eq!(reports.len(), calls.len(), "{stderr}");
    for r in reports {
        assert!(
            r.ends_with("session already freed (double free or use after free)"),
            "{r}"
        );
    }
    let abort = run(&exe, &["freed"], &[]);
    assert_eq!(abort.status.signal(), Some(libc::SIGABRT));
}

#[test]
fn ex_data_in_depth_matches_libssl() {
    let o = same_output_as_libssl("exdata_diff");
    assert!(o.contains("dup  idx=1 argl=1"), "{o}");
}

/// Run a C program linked against ours (no libssl in the process) and against libssl,
/// require equal output line for line, run ours under valgrind, and return the output.
fn same_output_as_libssl(name: &str) -> String {
    let ours_exe = program(name, Target::Ours);
    let no_libssl = !needed(&ours_exe).iter().any(|n| n.starts_with("libssl.so"));
    assert!(no_libssl, "{name}: libssl in our run");
    let ours = run(&ours_exe, &[], &[]);
    let real = run(&program(name, Target::Libssl), &[], &[]);
    assert!(
        ours.status.success() && real.status.success(),
        "{name}: {}",
        text(&ours.stderr)
    );
    let (o, r) = (text(&ours.stdout), text(&real.stdout));
    for (i, (x, y)) in o.lines().zip(r.lines()).enumerate() {
        assert_eq!(x, y, "{name}: first difference at line {}", i + 1);
    }
    assert_eq!(o.lines().count(), r.lines().count(), "{name}");
    valgrind(&ours_exe, &[], &[]);
    o
}

//! ssl-session preloaded into programs whose libssl is loaded privately, with
//! `dlopen(RTLD_LOCAL)`, where `dlsym(RTLD_NEXT)` cannot see it: a C program that dlopens
//! libssl.so.3 itself (first, after making sessions of ours, and again after dlclose
//! with a second copy), CPython's `ssl` module and Perl's Net::SSLeay. Each run's output
//! must equal the run without the preload; each preloaded run must show that our library
//! was bound (libssl's own `SSL_SESSION_new` reaching it) and print no `ssl-session:` line.

mod common;
use common::{our_so, self_signed_cert, text};
use std::os::unix::process::ExitStatusExt;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

/// Every run is bounded: `timeout` kills a program stuck in a handshake.
const LIMIT_S: &str = "120";

/// A temporary directory, removed when dropped.
struct TempDir(PathBuf);

impl TempDir {
    fn new(tag: &str) -> TempDir {
        let d = std::env::temp_dir().join(format!(
            "ssl-session-{tag}-{}-{:?}",
            std::process::id(),
            std::thread::current().id()
        ));
        let _ = std::fs::remove_dir_all(&d);
        std::fs::create_dir_all(&d).unwrap();
        TempDir(d)
    }
    fn path(&self, name: &str) -> PathBuf {
        self.0.join(name)
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

fn run(prog: &Path, args: &[&Path], env: &[(&str, &str)]) -> Output {
    let mut c = Command::new("timeout");
    c.args(["-k", "5", LIMIT_S]).arg(prog).args(args);
    c.env_remove("LD_PRELOAD");
    for (k, v) in env {
        c.env(k, v);
    }
    c.output().expect("run under timeout")
}

/// Run `prog args` without and with the preload; the outputs must be equal, both runs
/// successful, and the preloaded one must show libssl's `SSL_SESSION_new` bound to us.
/// Returns the common stdout.
fn same_with_preload(prog: &Path, args: &[&Path], env: &[(&str, &str)]) -> String {
    same_with_preload_as(prog, args, env, str::to_string)
}

/// `same_with_preload`, comparing `norm` of each run's stdout.
fn same_with_preload_as(
    prog: &Path,
    args: &[&Path],
    env: &[(&str, &str)],
    norm: fn(&str) -> String,
) -> String {
    let plain = run(prog, args, env);
    assert!(
        plain.status.success(),
        "{} without the preload: {:?}\n{}",
        prog.display(),
        plain.status,
        text(&plain.stderr)
    );
    let so = our_so();
    let mut env: Vec<(&str, &str)> = env.to_vec();
    env.push(("LD_PRELOAD", so.to_str().unwrap()));
    env.push(("LD_DEBUG", "bindings"));
    let pre = run(prog, args, &env);
    let err = text(&pre.stderr);
    let report: Vec<&str> = err
        .lines()
        .filter(|l| l.contains("ssl-session:") || l.contains("ERROR: ld.so"))
        .collect();
    assert!(
        pre.status.success() && report.is_empty(),
        "{} preloaded: {:?}\n{}\n(stderr tail)\n{}",
        prog.display(),
        pre.status,
        report.join("\n"),
        tail(&err)
    );
    // libssl's own call, from its private scope, reached our definition.
    let bound = err.lines().any(|l| {
        l.contains("libssl.so.3 [0] to ")
            && l.contains("libssl_session.so [0]: normal symbol `SSL_SESSION_new'")
    });
    assert!(
        bound,
        "no binding of libssl's SSL_SESSION_new to us\n{}",
        tail(&err)
    );
    let (a, b) = (norm(&text(&plain.stdout)), norm(&text(&pre.stdout)));
    if a != b {
        let first = a
            .lines()
            .zip(b.lines())
            .position(|(x, y)| x != y)
            .unwrap_or(a.lines().count().min(b.lines().count()));
        panic!(
            "{}: output differs with the preload at line {}:\nplain:     {:?}\npreloaded: {:?}",
            prog.display(),
            first + 1,
            a.lines().nth(first),
            b.lines().nth(first)
        );
    }
    a
}

fn tail(s: &str) -> String {
    let lines: Vec<&str> = s.lines().filter(|l| !l.contains("binding file")).collect();
    lines[lines.len().saturating_sub(30)..].join("\n")
}

/// Link the object of tests-c/<stem>.c (compiled by tests-c/build.rs) into `out`.
fn link(stem: &str, out: &Path, extra: &[&str]) {
    let o = Command::new("cc")
        .arg(common::c_object(stem))
        .arg("-o")
        .arg(out)
        .args(extra)
        .output()
        .expect("run cc");
    assert!(o.status.success(), "cc: {}", text(&o.stderr));
}

/// tests-c/dlopen_local.c linked with nothing but libdl: libssl comes only from dlopen.
fn dlopen_program(dir: &TempDir) -> PathBuf {
    let exe = dir.path("dlopen_local");
    link("dlopen_local", &exe, &["-ldl"]);
    let needed = common::needed(&exe);
    assert!(
        !needed
            .iter()
            .any(|n| n.starts_with("libssl") || n.starts_with("libcrypto")),
        "{needed:?}"
    );
    exe
}

/// What every run of the C program must show: three protocol flows, each resumed from
/// libssl's session and from the DER copy on both sides.
fn check_flows(out: &str, times: usize) {
    for flow in ["== TLS 1.2 tickets", "== TLS 1.2 session IDs", "== TLS 1.3"] {
        assert_eq!(out.matches(flow).count(), times, "{flow}\n{out}");
    }
    assert_eq!(
        out.matches("reused client=1 server=1").count(),
        6 * times,
        "{out}"
    );
    assert_eq!(
        out.matches("reused client=0 server=0").count(),
        3 * times,
        "{out}"
    );
    assert!(out.contains("bits=256 alg_bits=256"), "{out}");
    assert!(out.ends_with("done\n"), "{out}");
}

#[test]
fn a_program_that_dlopens_libssl_locally_runs_the_same_preloaded() {
    let dir = TempDir::new("dl-local");
    let (c, k) = self_signed_cert(&dir.0, "localhost", "ec");
    let exe = dlopen_program(&dir);
    let out = same_with_preload(&exe, &[&c, &k, Path::new("local")], &[]);
    check_flows(&out, 1);
}

#[test]
fn libssl_dlopened_after_sessions_of_ours_runs_the_same_preloaded() {
    let dir = TempDir::new("dl-late");
    let (c, k) = self_signed_cert(&dir.0, "localhost", "ec");
    let exe = dlopen_program(&dir);
    // Preloaded, the 100 sessions must be ours (the global SSL_SESSION_new exists).
    let so = our_so();
    let pre = run(
        &exe,
        &[&c, &k, Path::new("late")],
        &[
            ("LD_PRELOAD", so.to_str().unwrap()),
            ("REQUIRE_GLOBAL", "1"),
        ],
    );
    assert!(pre.status.success(), "{}", text(&pre.stderr));
    let out = same_with_preload(&exe, &[&c, &k, Path::new("late")], &[]);
    assert!(
        out.starts_with("before libssl: 100 sessions made and freed\n"),
        "{out}"
    );
    check_flows(&out, 1);
}

#[test]
fn dlclose_then_a_second_libssl_copy_runs_the_same_preloaded() {
    let dir = TempDir::new("dl-reload");
    let (c, k) = self_signed_cert(&dir.0, "localhost", "ec");
    let exe = dlopen_program(&dir);
    // A second libssl.so.3 under another path: the loader maps it as another object. Its
    // SSL_CIPHER_description format says "KX=" for "Kx=", so the output shows which
    // copy's code described the second copy's ciphers: its own, preloaded or not.
    let system = system_libssl();
    let copy = dir.path("libssl.so.3");
    let mut bytes = std::fs::read(&system).unwrap();
    let at = bytes
        .windows(8)
        .position(|w| w == b" Kx=%-8s")
        .expect("SSL_CIPHER_description's format in libssl.so.3");
    bytes[at + 2] = b'X';
    std::fs::write(&copy, bytes).unwrap();
    // Only the DER copies' ciphers are ours when preloaded, described by our table,
    // which is the system libssl's ("Kx="): those lines are compared without the mark.
    fn ours_described_alike(out: &str) -> String {
        let mut prev_is_copy = false;
        let mut r = String::new();
        for l in out.lines() {
            if prev_is_copy {
                r.push_str(&l.replace(" KX=", " Kx="));
            } else {
                r.push_str(l);
            }
            r.push('\n');
            prev_is_copy = l.starts_with("  DER copy cipher:");
        }
        r
    }
    let out = same_with_preload_as(
        &exe,
        &[&c, &k, Path::new("reload"), Path::new("libssl.so.3"), &copy],
        &[],
        ours_described_alike,
    );
    assert!(
        out.contains("-- dlclose: still loaded; dlopen again\n"),
        "{out}"
    );
    assert!(out.contains("-- libssl.so.3 objects loaded: 2\n"), "{out}");
    let (first, second) = out.split_once("-- dlclose").unwrap();
    assert!(first.contains(" Kx=") && !first.contains(" KX="), "{first}");
    assert!(second.contains(" KX="), "{second}");
    check_flows(&out, 2);
}

/// The file the loader finds for libssl.so.3.
fn system_libssl() -> PathBuf {
    let out = Command::new("ldconfig")
        .arg("-p")
        .output()
        .expect("ldconfig -p");
    text(&out.stdout)
        .lines()
        .filter(|l| l.trim_start().starts_with("libssl.so.3 ") && l.contains("x86-64"))
        .chain(
            text(&out.stdout)
                .lines()
                .filter(|l| l.trim_start().starts_with("libssl.so.3 ")),
        )
        .find_map(|l| l.split("=> ").nth(1).map(|p| PathBuf::from(p.trim())))
        .expect("libssl.so.3 in ldconfig -p")
}

fn have(prog: &str, check: &[&str]) -> bool {
    Command::new(prog)
        .args(check)
        .output()
        .is_ok_and(|o| o.status.success())
}

fn script(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/programs")
        .join(name)
}

#[test]
fn python_ssl_resumes_the_same_preloaded() {
    let python = Path::new("/usr/bin/python3");
    if !have("/usr/bin/python3", &["-c", "import ssl"]) {
        eprintln!(
            "SKIP: /usr/bin/python3 with the ssl module is not installed (apt-get install python3)"
        );
        return;
    }
    let dir = TempDir::new("py");
    let (c, k) = self_signed_cert(&dir.0, "localhost", "ec");
    let out = same_with_preload(python, &[&script("py_resume.py"), &c, &k], &[]);
    // Every flow resumed twice, on both sides, with the same session attributes.
    for flow in ["TLS 1.2 tickets", "TLS 1.2 session IDs", "TLS 1.3"] {
        let part = out
            .split("== ")
            .find(|p| p.starts_with(flow))
            .unwrap_or_else(|| panic!("{flow}\n{out}"));
        assert_eq!(part.matches("reused=True").count(), 2, "{part}");
        assert!(
            part.contains("server reused: [False, True, True] errors: []"),
            "{part}"
        );
        assert!(part.contains("server stats: hits=2"), "{part}");
        assert_eq!(part.matches("time_ok=True").count(), 3, "{part}");
        let ticket = if flow == "TLS 1.2 session IDs" {
            "has_ticket=False hint=0"
        } else {
            "has_ticket=True hint=7200"
        };
        assert_eq!(part.matches(ticket).count(), 3, "{part}");
    }
    // get_ciphers(): libssl's ciphers through our SSL_CIPHER_* forwards.
    assert!(
        out.contains(
            "('alg_bits', 256), ('auth', 'auth-any'), ('description', 'TLS_AES_256_GCM_SHA384"
        ),
        "{out}"
    );
    assert!(!out.contains("(NONE)"), "{out}");
}

#[test]
fn perl_net_ssleay_resumes_the_same_preloaded() {
    if !have("perl", &["-MNet::SSLeay", "-e1"]) {
        eprintln!(
            "SKIP: perl with Net::SSLeay is not installed (apt-get install libnet-ssleay-perl)"
        );
        return;
    }
    let dir = TempDir::new("pl");
    let (c, k) = self_signed_cert(&dir.0, "localhost", "ec");
    let perl = PathBuf::from("perl");
    let out = same_with_preload(&perl, &[&script("pl_resume.pl"), &c, &k], &[]);
    assert!(out.contains("resumed 2 of 2; server exit 0\n"), "{out}");
    assert!(
        out.contains("conn 0: echo=hello cipher=ECDHE-ECDSA-AES256-GCM-SHA384 bits=256 version=TLSv1.2 reused=0"),
        "{out}"
    );
}

/// Two threads load new objects that make sessions, one from inside dlopen (constructor,
/// loader lock held), the other outside it, where ssl-session reads the loaded objects
/// again: no lock of ours may be held across the loader's functions, or this hangs
/// (bounded by `timeout`).
#[test]
fn sessions_made_inside_and_outside_dlopen_at_once_do_not_deadlock() {
    let dir = TempDir::new("dl-race");
    let plugin = dir.path("plugin.so");
    for (stem, out, extra) in [
        ("dlopen_plugin", &plugin, &["-shared"][..]),
        ("dlopen_race", &dir.path("race"), &["-pthread", "-ldl"][..]),
    ] {
        link(stem, out, extra);
    }
    const ROUNDS: usize = 200;
    for i in 0..ROUNDS {
        for which in ["a", "b"] {
            std::fs::copy(&plugin, dir.path(&format!("{which}{i}.so"))).unwrap();
        }
    }
    let so = our_so();
    let out = run(
        &dir.path("race"),
        &[&dir.0, Path::new(&ROUNDS.to_string())],
        &[("LD_PRELOAD", so.to_str().unwrap())],
    );
    let err = text(&out.stderr);
    assert!(
        out.status.success() && !err.contains("ssl-session:") && !err.contains("ERROR: ld.so"),
        "{:?} (124: timed out, a deadlock)\n{err}",
        out.status.code()
    );
    assert_eq!(
        text(&out.stdout),
        format!("made {ROUNDS} sessions from fresh plugins in {ROUNDS} rounds\n")
    );
}

/// A "libssl" (it defines SSL_SESSION_new and SSL_CTX_new) with no d2i_SSL_SESSION of its
/// own calls d2i_SSL_SESSION: ssl-session must not return one of its sessions to it. One
/// line naming the function and why, then abort, even with SSL_SESSION_MISUSE=warn.
#[test]
fn a_libssl_call_with_no_libssl_definition_aborts_with_one_line() {
    let dir = TempDir::new("dl-fake");
    let fake = dir.path("fake_libssl.so");
    let exe = dir.path("dlopen_fake");
    for (stem, out, extra) in [
        ("fake_libssl", &fake, &["-shared"][..]),
        ("dlopen_fake", &exe, &["-ldl"][..]),
    ] {
        link(stem, out, extra);
    }
    let so = our_so();
    for mode in ["abort", "warn"] {
        let out = run(
            &exe,
            &[&fake],
            &[
                ("LD_PRELOAD", so.to_str().unwrap()),
                ("SSL_SESSION_MISUSE", mode),
            ],
        );
        let err = text(&out.stderr);
        // `timeout` ends itself with the child's signal.
        assert_eq!(
            out.status.signal(),
            Some(libc::SIGABRT),
            "{mode}: {:?}\n{err}",
            out.status
        );
        assert!(text(&out.stdout).is_empty(), "{}", text(&out.stdout));
        let lines: Vec<&str> = err.lines().collect();
        assert_eq!(lines.len(), 1, "{err}");
        assert!(
            lines[0].starts_with("ssl-session: d2i_SSL_SESSION: called from libssl (")
                && lines[0].contains("fake_libssl.so), whose own definition cannot be found")
                && lines[0].ends_with("; aborting"),
            "{err}"
        );
    }
}

/// A call forwarded to a "libssl" that is then unloaded: the next call must not jump to
/// the address cached for it (unmapped now). With nothing left to forward to, the pointer
/// is reported as not a session (warn mode: the call returns 0). Before unloads were
/// tracked, the second call crashed (SIGSEGV).
#[test]
fn a_forward_after_dlclose_never_reaches_the_unloaded_code() {
    let dir = TempDir::new("dl-unload");
    let lib = dir.path("unload_lib.so");
    let exe = dir.path("dlclose_stale");
    for (stem, out, extra) in [
        ("unload_lib", &lib, &["-shared"][..]),
        ("dlclose_stale", &exe, &["-ldl"][..]),
    ] {
        link(stem, out, extra);
    }
    let so = our_so();
    let out = run(
        &exe,
        &[&lib],
        &[
            ("LD_PRELOAD", so.to_str().unwrap()),
            ("SSL_SESSION_MISUSE", "warn"),
        ],
    );
    let (stdout, err) = (text(&out.stdout), text(&out.stderr));
    assert!(
        out.status.success(),
        "{:?}\nstdout:\n{stdout}\nstderr:\n{err}",
        out.status
    );
    assert_eq!(
        stdout, "loaded: get_time = 4242\nunloaded: yes\nafter unload: get_time = 0\n",
        "{err}"
    );
    let lines: Vec<&str> = err.lines().collect();
    assert_eq!(lines.len(), 1, "{err}");
    assert!(
        lines[0].starts_with("ssl-session: SSL_SESSION_get_time(0x")
            && lines[0].contains("not an SSL_SESSION"),
        "{err}"
    );
}

/// A session made from inside a constructor that dlopen() runs (loader lock held) while
/// another thread makes one from code outside every loaded object (ssl-session then reads
/// the loaded objects again, which needs the loader's lock). With a lock of ssl-session's
/// held across that read the two threads waited for each other every time (killed by the
/// time limit: 124); without one, both finish.
#[test]
fn a_constructor_inside_dlopen_and_a_reread_of_the_objects_do_not_deadlock() {
    let dir = TempDir::new("dl-deadlock");
    let plugin = dir.path("slow_ctor_plugin.so");
    let exe = dir.path("dlopen_deadlock");
    for (stem, out, extra) in [
        ("slow_ctor_plugin", &plugin, &["-shared"][..]),
        ("dlopen_deadlock", &exe, &["-pthread", "-ldl"][..]),
    ] {
        link(stem, out, extra);
    }
    let so = our_so();
    let out = run(&exe, &[&plugin], &[("LD_PRELOAD", so.to_str().unwrap())]);
    let err = text(&out.stderr);
    assert!(
        out.status.success() && !err.contains("ssl-session:") && !err.contains("ERROR: ld.so"),
        "{:?} (124: timed out, a deadlock)\n{err}",
        out.status.code()
    );
    assert_eq!(
        text(&out.stdout),
        "session from the code page: made\nplugin loaded: yes\n"
    );
}

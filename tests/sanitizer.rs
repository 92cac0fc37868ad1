//! The sanitizer of libssl's own sessions, on real handshakes: tests-c/sanitize_shapes.c
//! (built against libssl, run preloaded) for each bug shape and its correct twin;
//! unmodified real programs from Debian packages (openssl s_server with a session cache,
//! s_client -reconnect, curl resuming) with tracking on; and the ssl-session-check
//! command. Everything runs on 127.0.0.1 with bounded waits; every process started is
//! killed and reaped, every temporary file removed.

mod common;
use common::*;
use std::os::unix::process::ExitStatusExt;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
use std::sync::OnceLock;
use std::time::{Duration, Instant};

const ROOT: &str = env!("CARGO_MANIFEST_DIR");
const LIMIT: Duration = Duration::from_secs(120);

/// sanitize_shapes linked against libssl, with -rdynamic so that reports can name its
/// functions (dladdr sees exported symbols only).
fn shapes() -> &'static Path {
    static EXE: OnceLock<PathBuf> = OnceLock::new();
    EXE.get_or_init(|| {
        let exe = lib_dir().join(format!("sanitize_shapes-{}", std::process::id()));
        let out = Command::new("cc")
            .arg(c_object("sanitize_shapes"))
            .arg("-rdynamic")
            .arg("-o")
            .arg(&exe)
            .args(["-lssl", "-lcrypto"])
            .output()
            .expect("cc");
        assert!(out.status.success(), "link: {}", text(&out.stderr));
        exe
    })
}

struct Removed(PathBuf);
impl Drop for Removed {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// Wait for `child` at most LIMIT (killed and reaped if longer), collecting its output.
fn bounded(mut child: Child) -> Output {
    let t = Instant::now();
    while child.try_wait().unwrap().is_none() {
        if t.elapsed() > LIMIT {
            let _ = child.kill();
            let out = child.wait_with_output().unwrap();
            panic!("took longer than {LIMIT:?}: {}", text(&out.stderr));
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    child.wait_with_output().unwrap()
}

/// Run `cmd` (its environment cleaned of our variables), preloaded or not.
fn run_cmd(mut cmd: Command, preload: bool, env: &[(&str, &str)]) -> Output {
    cmd.env_remove("LD_PRELOAD")
        .env_remove("SSL_SESSION_MISUSE")
        .env_remove("SSL_SESSION_SANITIZE")
        .env_remove("SSL_SESSION_LEAKS");
    if preload {
        cmd.env("LD_PRELOAD", our_so());
    }
    for (k, v) in env {
        cmd.env(k, v);
    }
    bounded(
        cmd.stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("spawn"),
    )
}

fn shape(name: &str, mode: &str, preload: bool, valgrind: bool, env: &[(&str, &str)]) -> Output {
    let cmd = if valgrind {
        let mut c = Command::new("valgrind");
        c.args([
            "--leak-check=full",
            "--errors-for-leak-kinds=definite",
            "--error-exitcode=99",
        ])
        .arg(shapes())
        .args([name, mode]);
        c
    } else {
        let mut c = Command::new(shapes());
        c.args([name, mode]);
        c
    };
    run_cmd(cmd, preload, env)
}

fn have(tool: &str) -> bool {
    Command::new(tool)
        .arg("--version")
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .is_ok()
}

fn valgrind_clean(out: &Output) -> bool {
    let e = text(&out.stderr);
    e.contains("ERROR SUMMARY: 0 errors") && e.contains("definitely lost: 0 bytes")
        || e.contains("ERROR SUMMARY: 0 errors") && e.contains("All heap blocks were freed")
}

/// The report lines (ours) of a run.
fn report(out: &Output) -> Vec<String> {
    text(&out.stderr)
        .lines()
        .filter(|l| l.starts_with("ssl-session:"))
        .map(String::from)
        .collect()
}

/// What each shape's report must say: the first line's fault, and the names the likely
/// culprit line must give.
const BUGS: &[(&str, &str, &[&str])] = &[
    (
        "server",
        "SSL_free → SSL_SESSION_free(0x",
        &["still caches the session (one free too many)"],
    ),
    (
        "client12",
        "SSL_free → SSL_SESSION_free(0x",
        &["still caches the session (one free too many)"],
    ),
    (
        "client13",
        "SSL_free → SSL_SESSION_free(0x",
        &["still caches the session (one free too many)"],
    ),
    ("stale", "SSL_set_session(0x", &["use after free"]),
    ("copy", "SSL_SESSION_get_id(0x", &["use after free"]),
    ("newcb", "SSL_set_session(0x", &["use after free"]),
];

/// The culprit each shape's report must name.
fn culprit_of(name: &str) -> &'static [&'static str] {
    match name {
        "server" => &[
            "likely culprit: the application's SSL_SESSION_free at shape_server+0x",
            "it got the pointer from SSL_get_session at shape_server+0x",
        ],
        "client12" | "client13" => &[
            "likely culprit: the application's SSL_SESSION_free at shape_client+0x",
            "it got the pointer from SSL_get_session at shape_client+0x",
        ],
        "stale" => &[
            "likely culprit: this call at shape_stale+0x",
            "freed by libssl inside SSL_free",
            "it got the pointer from SSL_get_session at shape_stale+0x",
        ],
        "copy" => &[
            "likely culprit: this call at stored_get+0x",
            "the get-session callback stored_get+0x0 in",
            "set *copy = 0",
        ],
        "newcb" => &[
            "likely culprit: this call at shape_newcb+0x",
            "the new-session callback keep_new+0x0 in",
            "returned 0",
        ],
        _ => unreachable!(),
    }
}

#[test]
fn each_bug_shape_is_reported_at_once_with_its_culprit() {
    for &(name, first, what) in BUGS {
        let out = shape(name, "bug", true, false, &[]);
        let lines = report(&out);
        assert_eq!(
            out.status.signal(),
            Some(libc::SIGABRT),
            "{name}: not aborted: {}",
            text(&out.stderr)
        );
        let head = lines.first().map(String::as_str).unwrap_or("");
        assert!(
            head.starts_with(&format!("ssl-session: {first}")),
            "{name}: {head}"
        );
        for w in what {
            assert!(head.contains(w), "{name}: {head}");
        }
        let culprit = lines
            .iter()
            .find(|l| l.contains("likely culprit:"))
            .unwrap_or_else(|| panic!("{name}: no culprit line: {lines:?}"));
        for c in culprit_of(name) {
            assert!(culprit.contains(c), "{name}: {c:?} not in {culprit}");
        }
        // The history tells libssl's calls from the application's.
        assert!(
            lines.iter().any(|l| l.contains("     libssl ")),
            "{lines:?}"
        );
        assert!(
            lines.iter().any(|l| l.contains("     app    ")),
            "{lines:?}"
        );
    }
}

#[test]
fn in_warn_mode_each_bug_runs_to_its_end_clean_under_valgrind() {
    if !have("valgrind") {
        eprintln!("valgrind missing: skipped (.ci/run installs it)");
        return;
    }
    for &(name, first, _) in BUGS {
        let out = shape(name, "bug", true, true, &[("SSL_SESSION_MISUSE", "warn")]);
        assert_eq!(out.status.code(), Some(0), "{name}: {}", text(&out.stderr));
        assert!(text(&out.stdout).ends_with("end\n"), "{name}");
        assert!(
            report(&out)
                .first()
                .is_some_and(|l| l.starts_with(&format!("ssl-session: {first}"))),
            "{name}: {}",
            text(&out.stderr)
        );
        assert!(valgrind_clean(&out), "{name}: {}", text(&out.stderr));
    }
}

const ALL: &[&str] = &[
    "server", "client12", "client13", "stale", "copy", "newcb", "leak", "exdata",
];

#[test]
fn correct_twins_run_as_without_the_preload_and_clean() {
    for name in ALL {
        let plain = shape(name, "fix", false, false, &[]);
        assert!(plain.status.success(), "{name}: {}", text(&plain.stdout));
        let pre = shape(name, "fix", true, false, &[]);
        assert_eq!(pre.status.code(), Some(0), "{name}: {}", text(&pre.stderr));
        assert_eq!(text(&pre.stdout), text(&plain.stdout), "{name}");
        assert_eq!(text(&pre.stderr), text(&plain.stderr), "{name}");
        assert!(text(&pre.stdout).ends_with("end\n"));
        // Leak listing on: nothing to list.
        let leaks = shape(name, "fix", true, false, &[("SSL_SESSION_LEAKS", "1")]);
        assert_eq!(
            report(&leaks),
            ["ssl-session: leaks: none (every reference the application took on a libssl session was given back)"],
            "{name}"
        );
    }
    if !have("valgrind") {
        eprintln!("valgrind missing: valgrind runs skipped (.ci/run installs it)");
        return;
    }
    for name in ALL {
        let out = shape(name, "fix", true, true, &[]);
        assert!(valgrind_clean(&out), "{name}: {}", text(&out.stderr));
        assert!(report(&out).is_empty(), "{name}: {:?}", report(&out));
    }
}

#[test]
fn ex_data_free_callbacks_run_once_at_the_last_free() {
    let plain = shape("exdata", "fix", false, false, &[]);
    let pre = shape("exdata", "fix", true, false, &[]);
    let out = text(&pre.stdout);
    assert_eq!(out, text(&plain.stdout));
    // Each value's callback, between the lines of the call that dropped the last
    // reference (the real free waits in the quarantine; its callbacks do not run again).
    for (after, value) in [
        (
            "SSL_SESSION_free(client's)\n",
            "  free callback: client 1.2\n",
        ),
        (
            "SSL_CTX_flush_sessions(server)\n",
            "  free callback: server 1.2\n",
        ),
        (
            "SSL_SESSION_free(client's)\n",
            "  free callback: client 1.3\n",
        ),
        (
            "SSL_CTX_flush_sessions(server)\n",
            "  free callback: server 1.3\n",
        ),
    ] {
        assert!(
            out.contains(&format!("{after}{value}")),
            "{after}{value} in {out}"
        );
    }
    assert_eq!(out.matches("free callback:").count(), 4, "{out}");
}

#[test]
fn leaks_are_listed_with_their_history_on_request() {
    let out = shape("leak", "bug", true, false, &[("SSL_SESSION_LEAKS", "1")]);
    assert!(out.status.success());
    let lines = report(&out);
    assert!(
        lines[0].starts_with("ssl-session: leak: libssl session 0x")
            && lines[0].ends_with("the application took 1 reference on it and never gave it back"),
        "{lines:?}"
    );
    assert!(
        lines.iter().any(
            |l| l.contains("SSL_get1_session: pointer returned with a reference")
                && l.contains("at shape_leak+0x")
        ),
        "{lines:?}"
    );
    // Without the request, and with the sanitizer off, nothing is said.
    assert!(report(&shape("leak", "bug", true, false, &[])).is_empty());
    let off = shape(
        "leak",
        "bug",
        true,
        false,
        &[("SSL_SESSION_LEAKS", "1"), ("SSL_SESSION_SANITIZE", "0")],
    );
    assert!(off.status.success() && report(&off).is_empty());
}

/// (That it is really off is shown by the leak listing's absence, above: the bug shapes
/// themselves cannot be run without the sanitizer, they read freed memory.)
#[test]
fn sanitize_zero_is_plain_forwarding() {
    // The correct twins, with the sanitizer off, still give the unpreloaded output.
    for name in ["server", "copy", "newcb"] {
        let plain = shape(name, "fix", false, false, &[]);
        let off = shape(name, "fix", true, false, &[("SSL_SESSION_SANITIZE", "0")]);
        assert_eq!(text(&off.stdout), text(&plain.stdout), "{name}");
        assert!(report(&off).is_empty());
    }
}

// ---- real programs from Debian packages ------------------------------------------------

fn tmp_dir(tag: &str) -> Removed {
    let d = lib_dir().join(format!("sanitizer-{tag}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&d);
    std::fs::create_dir_all(&d).unwrap();
    Removed(d)
}

/// `openssl s_server` on 127.0.0.1 (its session cache on), killed and reaped on drop.
struct Server {
    child: Child,
    port: u16,
    err: PathBuf,
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn start_server(dir: &Path, tag: &str, preload: bool, args: &[&str]) -> Server {
    let (c, k) = self_signed_cert(dir, "localhost", "ec");
    for attempt in 0..20u16 {
        let port = 30000 + (std::process::id() as u16 % 500) * 20 + attempt * 7 % 20 + attempt;
        let out = dir.join(format!("{tag}-{attempt}.out"));
        let err = dir.join(format!("{tag}-{attempt}.err"));
        let mut cmd = Command::new("openssl");
        cmd.arg("s_server")
            .arg("-accept")
            .arg(format!("127.0.0.1:{port}"))
            .arg("-cert")
            .arg(&c)
            .arg("-key")
            .arg(&k)
            .args(args)
            .env_remove("LD_PRELOAD")
            .env_remove("SSL_SESSION_LEAKS")
            .stdin(Stdio::piped())
            .stdout(std::fs::File::create(&out).unwrap())
            .stderr(std::fs::File::create(&err).unwrap());
        if preload {
            cmd.env("LD_PRELOAD", our_so())
                .env("SSL_SESSION_LEAKS", "1");
        }
        let mut s = Server {
            child: cmd.spawn().expect("s_server"),
            port,
            err,
        };
        let t = Instant::now();
        loop {
            if std::fs::read_to_string(&out)
                .unwrap_or_default()
                .contains("ACCEPT")
            {
                return s;
            }
            if s.child.try_wait().unwrap().is_some() {
                break;
            }
            assert!(t.elapsed() < LIMIT, "s_server never listened");
            std::thread::sleep(Duration::from_millis(20));
        }
        let _ = &mut s;
    }
    panic!("no free port for s_server")
}

/// The "New, ..." / "Reused, ..." lines of s_client's output.
fn outcomes(out: &str) -> Vec<String> {
    out.lines()
        .filter(|l| l.starts_with("New, ") || l.starts_with("Reused, "))
        .map(String::from)
        .collect()
}

#[test]
fn s_server_with_a_cache_and_s_client_reconnect_run_unchanged() {
    let dir = tmp_dir("reconnect");
    let mut seen = Vec::new();
    // TLS 1.2 (-reconnect never resumes over TLS 1.3: s_client takes its session before
    // the tickets arrive; TLS 1.3 resumption by a real client: curl, below).
    for preload in [false, true] {
        let tag = format!("reconnect-preload{preload}");
        // -no_ticket: TLS 1.2 resumes from the server's session cache by ID.
        let server = start_server(&dir.0, &tag, preload, &["-no_ticket"]);
        let mut cmd = Command::new("openssl");
        cmd.args(["s_client", "-connect"])
            .arg(format!("127.0.0.1:{}", server.port))
            .args(["-tls1_2", "-reconnect"]);
        let env: &[(&str, &str)] = if preload {
            &[("SSL_SESSION_LEAKS", "1")]
        } else {
            &[]
        };
        let out = run_cmd(cmd, preload, env);
        let o = outcomes(&text(&out.stdout));
        assert_eq!(o.len(), 6, "{tag}: {}", text(&out.stdout));
        assert!(
            o[0].starts_with("New, ") && o[1..].iter().all(|l| l.starts_with("Reused, ")),
            "{tag}: {o:?}"
        );
        if preload {
            assert_eq!(
                report(&out),
                ["ssl-session: leaks: none (every reference the application took on a libssl session was given back)"],
                "{tag}"
            );
            let e = std::fs::read_to_string(&server.err).unwrap_or_default();
            assert!(!e.contains("ssl-session:"), "s_server: {e}");
        }
        seen.push(o);
    }
    assert_eq!(seen[0], seen[1], "preloaded outcomes differ");
}

#[test]
fn curl_resumes_from_s_server_with_tracking_on() {
    if !have("curl") {
        eprintln!("curl missing: skipped (.ci/run installs it)");
        return;
    }
    let dir = tmp_dir("curl");
    let mut pages = Vec::new();
    // curl keeps its sessions through the new-session callback (returning 1) and hands
    // them back with SSL_set_session; -no_ticket makes s_server cache them (TLS 1.2 by
    // session ID, TLS 1.3 with stateful tickets).
    for (preload, v13) in [(false, false), (true, false), (false, true), (true, true)] {
        let tag = format!("curl-preload{preload}-tls13{v13}");
        let server = start_server(&dir.0, &tag, preload, &["-www", "-no_ticket"]);
        let url = format!("https://127.0.0.1:{}/", server.port);
        let mut cmd = Command::new("curl");
        // Two transfers on two connections: the second resumes curl's cached session.
        cmd.args(["-sS", "-k", "--no-keepalive", "-H", "Connection: close"]);
        if v13 {
            cmd.arg("--tlsv1.3");
        } else {
            cmd.args(["--tlsv1.2", "--tls-max", "1.2"]);
        }
        cmd.args([&url, &url]);
        let env: &[(&str, &str)] = if preload {
            &[("SSL_SESSION_LEAKS", "1")]
        } else {
            &[]
        };
        let out = run_cmd(cmd, preload, env);
        assert!(out.status.success(), "curl: {}", text(&out.stderr));
        let page = text(&out.stdout);
        let o: Vec<String> = page
            .lines()
            .filter(|l| l.starts_with("New, ") || l.starts_with("Reused, "))
            .map(|l| l.split(',').next().unwrap().to_string())
            .collect();
        assert_eq!(o, ["New", "Reused"], "{tag}: {page}");
        if preload {
            assert_eq!(
                report(&out),
                ["ssl-session: leaks: none (every reference the application took on a libssl session was given back)"],
                "{tag}"
            );
            let e = std::fs::read_to_string(&server.err).unwrap_or_default();
            assert!(!e.contains("ssl-session:"), "s_server: {e}");
        }
        let lines: Vec<String> = page
            .lines()
            .filter(|l| l.starts_with("New, ") || l.starts_with("Reused, "))
            .map(String::from)
            .collect();
        pages.push(lines);
    }
    assert_eq!(pages[0], pages[1]);
    assert_eq!(pages[2], pages[3]);
}

// ---- the ssl-session-check command -------------------------------------------------------

fn check_cmd(script: &Path, args: &[&str]) -> Command {
    let mut c = Command::new(script);
    c.args(args);
    c
}

#[test]
fn ssl_session_check_runs_a_program_with_the_sanitizer() {
    let dir = tmp_dir("check");
    // As installed by make install into a staging prefix.
    let prefix = dir.0.join("prefix");
    let out = Command::new("make")
        .arg("-C")
        .arg(ROOT)
        .arg("install")
        .arg(format!("DESTDIR={}", prefix.display()))
        .arg("PREFIX=/usr")
        .arg(format!("BUILD_DIR={}", lib_dir().display()))
        .arg("LDCONFIG=true")
        .env_remove("MAKEFLAGS")
        .env_remove("MFLAGS")
        .env_remove("MAKELEVEL")
        .output()
        .expect("make install");
    assert!(out.status.success(), "{}", text(&out.stderr));
    let script = prefix.join("usr/bin/ssl-session-check");
    // Staged, the library is found next to the script's ../lib.
    let help = check_cmd(&script, &["--help"]).output().unwrap();
    assert!(help.status.success());
    assert!(text(&help.stdout).contains("likely culprit"));

    // The program's status comes back; the preload is added to one already set.
    let run = |args: &[&str], env: &[(&str, &str)]| {
        let mut c = check_cmd(&script, args);
        c.env_remove("SSL_SESSION_MISUSE")
            .env_remove("SSL_SESSION_LEAKS");
        for (k, v) in env {
            c.env(k, v);
        }
        bounded(
            c.stdout(Stdio::piped())
                .stderr(Stdio::piped())
                .spawn()
                .unwrap(),
        )
    };
    let sh = run(
        &["--", "sh", "-c", "echo \"$LD_PRELOAD\"; exit 7"],
        &[("LD_PRELOAD", "libc.so.6")],
    );
    assert_eq!(sh.status.code(), Some(7));
    let lp = text(&sh.stdout);
    assert!(
        lp.starts_with("libc.so.6:") && lp.trim_end().ends_with("libssl_session.so.0.1.0"),
        "{lp}"
    );

    // A real program: the bug shape aborts; with --warn it ends, reported; --leaks lists.
    let exe = shapes().to_str().unwrap();
    let bug = run(&[exe, "newcb", "bug"], &[("LD_PRELOAD", "")]);
    assert_eq!(bug.status.signal(), Some(libc::SIGABRT));
    assert!(text(&bug.stderr).contains("likely culprit: this call at shape_newcb+0x"));
    let warn = run(&["--warn", "--", exe, "newcb", "bug"], &[]);
    assert_eq!(warn.status.code(), Some(0));
    assert!(text(&warn.stdout).ends_with("end\n"));
    assert!(text(&warn.stderr).contains("ssl-session: SSL_set_session(0x"));
    let leaks = run(&["--leaks", exe, "leak", "bug"], &[]);
    assert!(text(&leaks.stderr).contains("ssl-session: leak: libssl session 0x"));
    let openssl = run(&["openssl", "version"], &[]);
    assert!(openssl.status.success() && text(&openssl.stdout).starts_with("OpenSSL 3"));

    // Bad usage, and a library that cannot be found, say so clearly.
    let none = run(&[], &[]);
    assert_eq!(none.status.code(), Some(2));
    let bad = run(&["--frobnicate", "true"], &[]);
    assert!(text(&bad.stderr).contains("unknown option --frobnicate"));
    let lonely = dir.0.join("lonely");
    std::fs::create_dir_all(&lonely).unwrap();
    let copy = lonely.join("ssl-session-check");
    std::fs::copy(Path::new(ROOT).join("tools/ssl-session-check"), &copy).unwrap();
    let missing = check_cmd(&copy, &["true"])
        .env_remove("SSL_SESSION_CHECK_LIB")
        .output()
        .unwrap();
    assert_eq!(missing.status.code(), Some(127));
    assert!(
        text(&missing.stderr).contains("ssl-session-check: cannot find libssl_session.so"),
        "{}",
        text(&missing.stderr)
    );
    let chosen = check_cmd(&copy, &["sh", "-c", "echo $LD_PRELOAD"])
        .env("SSL_SESSION_CHECK_LIB", our_so())
        .env_remove("LD_PRELOAD")
        .output()
        .unwrap();
    assert_eq!(text(&chosen.stdout).trim(), our_so().to_str().unwrap());
}

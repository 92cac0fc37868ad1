//! ssl-session preloaded (LD_PRELOAD) into programs built against libssl.so.3 that run real
//! TLS: `openssl sess_id`, `openssl s_server` + `s_client` (both preloaded), and an
//! in-process handshake test (tests-c/preload_tls.c). Each must behave exactly as without
//! the preload. Everything runs on 127.0.0.1, on random ports; every server is killed and
//! reaped when its guard drops (also when a test fails), and every wait is bounded.

mod common;
use common::*;
use std::io::Write;
use std::os::unix::process::ExitStatusExt;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
use std::sync::OnceLock;
use std::time::{Duration, Instant};

/// How long any one program may take (valgrind included).
const LIMIT: Duration = Duration::from_secs(60);
const PSK_SUITE: &str = "TLS_AES_128_GCM_SHA256";

/// An `openssl` command, with our library preloaded (`pre`, whose log then proves the
/// binding: `Preload::check`) or not; never an inherited preload.
fn openssl(pre: Option<&Preload>, args: &[&str]) -> Command {
    let mut c = Command::new("openssl");
    c.args(args)
        .env_remove("LD_PRELOAD")
        .env_remove("LD_DEBUG")
        .env_remove("LD_DEBUG_OUTPUT");
    if let Some(p) = pre {
        p.apply(&mut c);
    }
    c
}

/// A `Preload` when `preload` is set.
fn maybe(preload: bool) -> Option<Preload> {
    preload.then(Preload::new)
}

/// Wait for `child` at most `limit`; killed and reaped if it takes longer.
fn wait_bounded(child: &mut Child, limit: Duration) -> std::process::ExitStatus {
    let t = Instant::now();
    loop {
        if let Some(st) = child.try_wait().unwrap() {
            return st;
        }
        if t.elapsed() > limit {
            let _ = child.kill();
            let st = child.wait().unwrap();
            panic!("process took longer than {limit:?}; killed ({st})");
        }
        std::thread::sleep(Duration::from_millis(20));
    }
}

fn read(p: &Path) -> String {
    std::fs::read(p).map(|b| text(&b)).unwrap_or_default()
}

/// A temporary directory for one test, removed at the end.
struct Dir(PathBuf);

impl Dir {
    fn new(name: &str) -> Dir {
        let d = lib_dir().join(format!("preload-{name}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&d);
        std::fs::create_dir_all(&d).unwrap();
        Dir(d)
    }
    fn path(&self, f: &str) -> PathBuf {
        self.0.join(f)
    }
}

impl Drop for Dir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// Remove what earlier runs of this test binary left (its fixtures live as long as the
/// process, so each run leaves them behind).
fn clean_old_runs() {
    let mine = format!("-{}", std::process::id());
    for e in std::fs::read_dir(lib_dir()).into_iter().flatten().flatten() {
        let name = e.file_name().to_string_lossy().into_owned();
        let dir = e.file_type().is_ok_and(|t| t.is_dir());
        if dir && name.starts_with("preload-") && !name.ends_with(&mine) {
            let _ = std::fs::remove_dir_all(e.path());
        }
    }
}

/// A self-signed RSA certificate for CN=localhost, made once per test run.
fn cert() -> &'static (PathBuf, PathBuf) {
    static CERT: OnceLock<(PathBuf, PathBuf)> = OnceLock::new();
    CERT.get_or_init(|| {
        clean_old_runs();
        let d = lib_dir().join(format!("preload-cert-{}", std::process::id()));
        std::fs::create_dir_all(&d).unwrap();
        self_signed_cert(&d, "localhost", "rsa:2048")
    })
}

/// A running `openssl s_server` on 127.0.0.1; killed and reaped on drop.
struct Server {
    child: Child,
    port: u16,
    out: PathBuf,
    err: PathBuf,
    pre: Option<Preload>,
}

impl Server {
    fn start(preload: bool, dir: &Dir, tag: &str, args: &[&str]) -> Server {
        let (cert, key) = cert();
        for attempt in 0..20 {
            let port = 20000 + (std::process::id() as u16 % 1000) * 40 + rand_u16() % 1000;
            let out = dir.path(&format!("{tag}.s{attempt}.out"));
            let err = dir.path(&format!("{tag}.s{attempt}.err"));
            let pre = maybe(preload);
            let child = openssl(pre.as_ref(), &["s_server", "-accept"])
                .arg(format!("127.0.0.1:{port}"))
                .arg("-cert")
                .arg(cert)
                .arg("-key")
                .arg(key)
                .args(args)
                // s_server quits at EOF on stdin: keep a pipe open until the guard drops.
                .stdin(Stdio::piped())
                .stdout(std::fs::File::create(&out).unwrap())
                .stderr(std::fs::File::create(&err).unwrap())
                .spawn()
                .expect("openssl s_server");
            let mut s = Server {
                child,
                port,
                out,
                err,
                pre,
            };
            let t = Instant::now();
            loop {
                if read(&s.out).contains("ACCEPT") {
                    return s;
                }
                if let Some(st) = s.child.try_wait().unwrap() {
                    let e = read(&s.err);
                    // What BIO_bind queues for EADDRINUSE; anything else is a failure.
                    assert!(
                        e.contains("Address already in use"),
                        "s_server exited ({st}): {e}"
                    );
                    break; // port taken: try another
                }
                assert!(t.elapsed() < LIMIT, "s_server never listened");
                std::thread::sleep(Duration::from_millis(20));
            }
        }
        panic!("no free port for s_server")
    }

    fn stderr(&self) -> String {
        read(&self.err)
    }

    /// When preloaded: prove our library was bound in the server (`Preload::check`).
    fn check_bound(&self, what: &str) {
        if let Some(p) = &self.pre {
            p.check(&format!("{what}: s_server"), &self.stderr());
        }
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn rand_u16() -> u16 {
    use std::hash::{BuildHasher, Hasher};
    let mut h = std::collections::hash_map::RandomState::new().build_hasher();
    h.write_u128(Instant::now().elapsed().as_nanos());
    h.finish() as u16
}

/// What a client run printed.
struct ClientRun {
    stdout: String,
    stderr: String,
}

impl ClientRun {
    /// "New, TLSv1.3, Cipher is ..." / "Reused, ..." lines: the outcome of each handshake.
    fn outcomes(&self) -> Vec<String> {
        self.stdout
            .lines()
            .filter(|l| l.starts_with("New, ") || l.starts_with("Reused, "))
            .map(String::from)
            .collect()
    }
}

/// `openssl s_client` against `server`, under `wrapper` (valgrind) if any. It quits
/// ("Q") once it has printed `handshakes` outcome lines (and written `sess_out`, if
/// given: for TLS 1.3, once a ticket has arrived).
#[allow(clippy::too_many_arguments)] // one call site per kind of run; a struct adds nothing
fn client(
    preload: bool,
    dir: &Dir,
    tag: &str,
    server: &Server,
    args: &[&str],
    handshakes: usize,
    sess_out: Option<&Path>,
    wrapper: &[&str],
) -> ClientRun {
    let out = dir.path(&format!("{tag}.c.out"));
    let err = dir.path(&format!("{tag}.c.err"));
    let pre = maybe(preload);
    let mut cmd = if wrapper.is_empty() {
        openssl(pre.as_ref(), &[])
    } else {
        let mut c = Command::new(wrapper[0]);
        c.args(&wrapper[1..])
            .arg("openssl")
            .env_remove("LD_PRELOAD")
            .env_remove("LD_DEBUG")
            .env_remove("LD_DEBUG_OUTPUT");
        if let Some(p) = &pre {
            p.apply(&mut c);
        }
        c
    };
    let mut child = cmd
        .args(["s_client", "-connect"])
        .arg(format!("127.0.0.1:{}", server.port))
        .args(args)
        .stdin(Stdio::piped())
        .stdout(std::fs::File::create(&out).unwrap())
        .stderr(std::fs::File::create(&err).unwrap())
        .spawn()
        .expect("openssl s_client");
    // Done once every handshake has its outcome line and, with `sess_out`, the session is
    // in the file: s_client writes it from its new-session callback, which for TLS 1.3
    // runs when a ticket arrives, so that is the event "the tickets are here". (Its
    // printed "Post-Handshake New Session Ticket" lines sit in stdio's buffer until exit.)
    let done = || {
        let o = read(&out);
        let n = o
            .lines()
            .filter(|l| l.starts_with("New, ") || l.starts_with("Reused, "))
            .count();
        n >= handshakes
            && o.contains("Verify return code")
            && sess_out.is_none_or(|p| read(p).contains("-----END SSL SESSION PARAMETERS-----"))
    };
    let t = Instant::now();
    while !done() {
        if child.try_wait().unwrap().is_some() {
            break;
        }
        if t.elapsed() > LIMIT {
            let _ = child.kill();
            let _ = child.wait();
            panic!(
                "{tag}: s_client never showed its handshakes (and session file):\n{}",
                read(&out)
            );
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    if let Some(mut stdin) = child.stdin.take() {
        let _ = stdin.write_all(b"Q\n");
    }
    let st = wait_bounded(&mut child, LIMIT);
    let run = ClientRun {
        stdout: read(&out),
        stderr: read(&err),
    };
    assert!(
        st.success(),
        "{tag}: s_client {st}:\n{}\nserver: {}",
        run.stderr,
        server.stderr()
    );
    if let Some(p) = &pre {
        p.check(&format!("{tag}: s_client"), &run.stderr);
    }
    run
}

/// Client sessions made with real handshakes (unpreloaded), once per test run:
/// TLS 1.2 with a ticket, TLS 1.2 with a session ID only, TLS 1.3 (ticket), and TLS 1.3
/// from an external PSK (no certificate), as contract §14.1 makes them.
fn sessions() -> &'static Vec<(String, PathBuf)> {
    static S: OnceLock<Vec<(String, PathBuf)>> = OnceLock::new();
    S.get_or_init(|| {
        let dir = lib_dir().join(format!("preload-sessions-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let d = Dir(dir.clone());
        let make = |name: &str, sargs: &[&str], cargs: &[&str]| {
            let srv = Server::start(false, &d, name, sargs);
            let f = dir.join(format!("{name}.pem"));
            let mut a = cargs.to_vec();
            let fs = f.to_str().unwrap().to_string();
            a.extend(["-sess_out", &fs]);
            client(false, &d, name, &srv, &a, 1, Some(&f), &[]);
            (name.to_string(), f)
        };
        let psk = "0123456789abcdef0123456789abcdef";
        let v = vec![
            make(
                "tls12-ticket",
                &["-alpn", "http/1.1"],
                &["-tls1_2", "-servername", "localhost", "-alpn", "http/1.1"],
            ),
            make(
                "tls12-id",
                &["-no_ticket"],
                &[
                    "-tls1_2",
                    "-no_ticket",
                    "-cipher",
                    "ECDHE-RSA-AES128-GCM-SHA256",
                ],
            ),
            make(
                "tls13",
                &["-alpn", "h2", "-early_data"],
                &["-tls1_3", "-servername", "localhost", "-alpn", "h2"],
            ),
            make(
                "tls13-psk",
                &[
                    "-tls1_3",
                    "-nocert",
                    "-psk",
                    psk,
                    "-ciphersuites",
                    PSK_SUITE,
                ],
                &["-tls1_3", "-psk", psk, "-ciphersuites", PSK_SUITE],
            ),
        ];
        std::mem::forget(d); // the files outlive this fixture
        v
    })
}

// ---- a. openssl sess_id --------------------------------------------------------------------

#[test]
fn sess_id_output_is_byte_identical_preloaded() {
    let dir = Dir::new("sess_id");
    let options: &[&[&str]] = &[
        &["-text", "-noout"],
        &["-noout"],
        &["-outform", "DER"],
        &["-outform", "PEM"],
        &["-outform", "NSS"],
        &["-cert"],
        &["-cert", "-text", "-noout"],
        &["-cert", "-outform", "DER"],
        &["-context", "x"],
        &["-context", "x", "-text", "-noout"],
        &["-context", "x", "-outform", "DER"],
    ];
    let mut compared = 0;
    for (name, pem) in sessions() {
        // The same session as DER input too.
        let der = dir.path(&format!("{name}.der"));
        let out = openssl(None, &["sess_id", "-outform", "DER", "-out"])
            .arg(&der)
            .arg("-in")
            .arg(pem)
            .output()
            .unwrap();
        assert!(out.status.success(), "{}", text(&out.stderr));
        let inputs: [(&str, &Path); 2] = [("PEM", pem), ("DER", &der)];
        for (inform, input) in inputs {
            for opts in options {
                let run = |p: Option<&Preload>| -> Output {
                    openssl(p, &["sess_id", "-inform", inform, "-in"])
                        .arg(input)
                        .args(*opts)
                        .output()
                        .unwrap()
                };
                let proof = Preload::new();
                let (plain, pre) = (run(None), run(Some(&proof)));
                let what = format!("{name} -inform {inform} {opts:?}");
                proof.check(&what, &text(&pre.stderr));
                assert!(plain.status.success(), "{what}: {}", text(&plain.stderr));
                assert_eq!(pre.status.code(), plain.status.code(), "{what}");
                assert!(
                    pre.stdout == plain.stdout,
                    "{what}: stdout differs\n--- libssl\n{}\n--- preloaded\n{}",
                    text(&plain.stdout),
                    text(&pre.stdout)
                );
                assert_eq!(text(&pre.stderr), text(&plain.stderr), "{what}");
                compared += 1;
            }
        }
    }
    assert_eq!(compared, 4 * 2 * options.len());
    // The runs did print sessions (not two empty outputs).
    let (_, tls13) = &sessions()[2];
    let proof = Preload::new();
    let out = openssl(Some(&proof), &["sess_id", "-text", "-noout", "-in"])
        .arg(tls13)
        .output()
        .unwrap();
    proof.check("sess_id -text", &text(&out.stderr));
    let o = text(&out.stdout);
    assert!(o.contains("Protocol  : TLSv1.3") && o.contains("TLS session ticket lifetime hint"));
}

#[test]
fn ld_debug_shows_openssl_bound_to_our_functions() {
    let (_, pem) = &sessions()[0];
    let out = openssl(None, &["sess_id", "-text", "-noout", "-in"])
        .arg(pem)
        .env("LD_PRELOAD", our_so())
        .env("LD_DEBUG", "bindings")
        .output()
        .unwrap();
    assert!(out.status.success());
    let log = text(&out.stderr);
    let bound = |from: &str, sym: &str| binds_to_us(&log, from, sym);
    for sym in [
        "PEM_read_bio_SSL_SESSION",
        "d2i_SSL_SESSION",
        "i2d_SSL_SESSION",
        "SSL_SESSION_print",
        "SSL_SESSION_get0_peer",
        "SSL_SESSION_free",
        "SSL_set_session",
    ] {
        assert!(bound("openssl [0]", sym), "openssl's {sym} is not ours");
    }
    // libssl's own calls reach us too (why constructors check their caller).
    for sym in ["SSL_SESSION_new", "d2i_SSL_SESSION", "SSL_SESSION_free"] {
        assert!(bound("libssl.so.3", sym), "libssl's {sym} is not ours");
    }
}

// ---- b. s_server and s_client, both preloaded ---------------------------------------------

/// One TLS scenario: the outcome lines of every client run, with and without the preload.
fn scenario(preload: bool, dir: &Dir, tag: &str, flow: &Flow) -> Vec<String> {
    let tag = format!("{tag}-{}", if preload { "pre" } else { "plain" });
    let sargs: Vec<&str> = flow.server.iter().map(String::as_str).collect();
    let server = Server::start(preload, dir, &tag, &sargs);
    let mut outcomes = Vec::new();
    let sess = dir.path(&format!("{tag}.sess"));
    let sess_s = sess.to_str().unwrap().to_string();
    for (i, (args, handshakes, sess_arg)) in flow.clients.iter().enumerate() {
        let mut a: Vec<&str> = args.iter().map(String::as_str).collect();
        let out = match sess_arg {
            Some("-sess_out") => {
                a.extend(["-sess_out", &sess_s]);
                Some(sess.as_path())
            }
            Some(opt) => {
                a.extend([*opt, &sess_s]);
                None
            }
            None => None,
        };
        let run = client(
            preload,
            dir,
            &format!("{tag}.{i}"),
            &server,
            &a,
            *handshakes,
            out,
            &[],
        );
        assert!(
            !run.stderr.contains("ssl-session:"),
            "{tag}: {}",
            run.stderr
        );
        outcomes.extend(run.outcomes());
    }
    assert!(
        !server.stderr().contains("ssl-session:"),
        "{tag}: {}",
        server.stderr()
    );
    server.check_bound(&tag);
    outcomes
}

struct Flow {
    server: Vec<String>,
    /// (client arguments, handshakes it makes, session file option)
    clients: Vec<(Vec<String>, usize, Option<&'static str>)>,
}

fn strs(a: &[&str]) -> Vec<String> {
    a.iter().map(|s| s.to_string()).collect()
}

fn run_flow(name: &str, flow: Flow, want: &[&str]) {
    let dir = Dir::new(name);
    let plain = scenario(false, &dir, name, &flow);
    let pre = scenario(true, &dir, name, &flow);
    assert_eq!(
        pre, plain,
        "{name}: preloaded outcomes differ from libssl's"
    );
    let got: Vec<&str> = pre.iter().map(|l| l.split(',').next().unwrap()).collect();
    assert_eq!(got, want, "{name}: {pre:?}");
}

#[test]
fn tls12_session_id_resumption_with_reconnect() {
    run_flow(
        "reconnect",
        Flow {
            server: strs(&["-tls1_2", "-no_ticket", "-naccept", "6"]),
            clients: vec![(strs(&["-tls1_2", "-reconnect"]), 6, None)],
        },
        &["New", "Reused", "Reused", "Reused", "Reused", "Reused"],
    );
}

#[test]
fn tls12_and_tls13_ticket_resumption_with_sess_out_then_sess_in() {
    for v in ["-tls1_2", "-tls1_3"] {
        run_flow(
            &format!("tickets{v}"),
            Flow {
                server: strs(&["-naccept", "2"]),
                clients: vec![
                    (strs(&[v]), 1, Some("-sess_out")),
                    (strs(&[v]), 1, Some("-sess_in")),
                ],
            },
            &["New", "Reused"],
        );
    }
}

#[test]
fn tls12_session_id_resumption_with_sess_in() {
    run_flow(
        "sess_in-id",
        Flow {
            server: strs(&["-no_ticket", "-naccept", "2"]),
            clients: vec![
                (strs(&["-tls1_2"]), 1, Some("-sess_out")),
                (strs(&["-tls1_2"]), 1, Some("-sess_in")),
            ],
        },
        &["New", "Reused"],
    );
}

#[test]
fn tls13_external_psk_on_both_sides() {
    let k = "0123456789abcdef0123456789abcdef";
    let common = ["-tls1_3", "-psk", k, "-ciphersuites", PSK_SUITE];
    let mut server = strs(&common);
    server.extend(strs(&["-nocert", "-naccept", "1"]));
    run_flow(
        "psk",
        Flow {
            server,
            clients: vec![(strs(&common), 1, None)],
        },
        // An external PSK handshake is a resumption for s_client.
        &["Reused"],
    );
}

/// The PSK of a TLS 1.3 session file (its "Resumption PSK").
fn resumption_psk(f: &Path) -> String {
    let out = openssl(None, &["sess_id", "-text", "-noout", "-in"])
        .arg(f)
        .output()
        .unwrap();
    text(&out.stdout)
        .lines()
        .find_map(|l| l.trim().strip_prefix("Resumption PSK: ").map(String::from))
        .expect("a TLS 1.3 session")
}

#[test]
fn tls13_psk_session_on_the_client() {
    let (_, f) = &sessions()[3]; // TLS_AES_128_GCM_SHA256, as the server's PSK suite
    let k = resumption_psk(f);
    let fs = f.to_str().unwrap();
    run_flow(
        "psk_session",
        Flow {
            server: strs(&[
                "-tls1_3",
                "-nocert",
                "-psk",
                &k,
                "-ciphersuites",
                PSK_SUITE,
                "-naccept",
                "1",
            ]),
            clients: vec![(
                strs(&["-tls1_3", "-ciphersuites", PSK_SUITE, "-psk_session", fs]),
                1,
                None,
            )],
        },
        &["Reused"],
    );
}

/// The errors valgrind reports, and the definitely/indirectly/possibly lost bytes (0
/// when valgrind prints no leak summary: nothing was left at all).
fn valgrind_summary(err: &str) -> (String, Vec<String>) {
    let errors = err
        .lines()
        .find(|l| l.contains("ERROR SUMMARY"))
        .map(|l| l.split("ERROR SUMMARY").nth(1).unwrap().to_string())
        .unwrap_or_default();
    let lost = ["definitely lost:", "indirectly lost:", "possibly lost:"]
        .iter()
        .map(|what| {
            let bytes = err
                .lines()
                .find_map(|l| l.split(what).nth(1))
                .map_or("0", |rest| rest.split_whitespace().next().unwrap_or("0"));
            format!("{what} {bytes}")
        })
        .collect();
    (errors, lost)
}

#[test]
fn preloaded_s_client_is_clean_under_valgrind() {
    let dir = Dir::new("valgrind");
    let mut reports = Vec::new();
    for preload in [false, true] {
        let tag = if preload { "pre" } else { "plain" };
        // A session-resuming TLS 1.3 run: PEM read, SSL_set_session (converted), tickets.
        let server = Server::start(preload, &dir, tag, &["-naccept", "2"]);
        let sess = dir.path(&format!("{tag}.sess"));
        let sess_s = sess.to_str().unwrap().to_string();
        client(
            preload,
            &dir,
            &format!("{tag}.0"),
            &server,
            &["-tls1_3", "-sess_out", &sess_s],
            1,
            Some(&sess),
            &[],
        );
        let run = client(
            preload,
            &dir,
            &format!("{tag}.1"),
            &server,
            &["-tls1_3", "-sess_in", &sess_s],
            1,
            None,
            &["valgrind", "--leak-check=full", "--error-exitcode=99"],
        );
        assert_eq!(run.outcomes().len(), 1);
        assert!(
            run.outcomes()[0].starts_with("Reused, TLSv1.3"),
            "{}",
            run.stdout
        );
        server.check_bound(tag);
        reports.push(valgrind_summary(&run.stderr));
        if preload {
            assert!(
                reports[1].0.contains(": 0 errors"),
                "valgrind errors preloaded:\n{}",
                run.stderr
            );
        }
    }
    assert_eq!(
        reports[1], reports[0],
        "preloaded s_client: new valgrind findings"
    );
}

// ---- c, d. A C program built against libssl, preloaded --------------------------------------

fn preload_tls(version: &str, preload: bool, probe: bool, env: &[(&str, &str)]) -> Output {
    let exe = program("preload_tls", Target::Libssl);
    let (cert, key) = cert();
    let mut args = vec![cert.to_str().unwrap(), key.to_str().unwrap(), version];
    if probe {
        args.push("probe");
    }
    let pre = maybe(preload);
    let mut c = Command::new(&exe);
    c.args(&args)
        .env_remove("LD_PRELOAD")
        .env_remove("LD_DEBUG")
        .env_remove("LD_DEBUG_OUTPUT");
    for (k, v) in env {
        c.env(k, v);
    }
    if let Some(p) = &pre {
        p.apply(&mut c);
    }
    let mut child = c
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let t = Instant::now();
    while child.try_wait().unwrap().is_none() {
        if t.elapsed() > LIMIT {
            let _ = child.kill();
            break;
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    let out = child.wait_with_output().unwrap();
    if let Some(p) = &pre {
        p.check(&format!("preload_tls {version}"), &text(&out.stderr));
    }
    out
}

#[test]
fn in_process_handshakes_resume_with_our_sessions() {
    for v in ["tls1_2", "tls1_3"] {
        let plain = preload_tls(v, false, false, &[]);
        assert!(plain.status.success(), "{v}: {}", text(&plain.stdout));
        let pre = preload_tls(v, true, true, &[("SSL_SESSION_MISUSE", "warn")]);
        assert!(
            pre.status.success(),
            "{v}: {}{}",
            text(&pre.stdout),
            text(&pre.stderr)
        );
        let (p, o) = (text(&plain.stdout), text(&pre.stdout));
        assert_eq!(o, p, "{v}: preloaded output differs");
        assert!(
            o.contains(&format!(
                "set_session: TLSv1.{}, client reused 1, server reused 1",
                &v[5..]
            )),
            "{o}"
        );
        assert!(o.contains("read back: DER and PEM equal libssl's"), "{o}");
        assert!(
            o.contains("ex_data on ours after the handshake: mine"),
            "{o}"
        );
        assert!(o.contains("after SSL_free: mine"), "{o}");
        if v == "tls1_2" {
            for l in [
                "after add_session: TLSv1.2, client reused 1, server reused 1",
                "remove_session: 1, cache 0, resumable 0",
                "after remove_session: TLSv1.2, client reused 0, server reused 0",
                "external cache: TLSv1.2, client reused 1, server reused 1",
            ] {
                assert!(o.contains(l), "{l}\n{o}");
            }
        }
        if v == "tls1_3" {
            let l = "external psk: TLSv1.3, client reused 1, server reused 1";
            assert!(o.contains(l), "{l}\n{o}");
        }
        assert!(o.ends_with("done\n"), "{o}");
        // The probe: the session d2i made for the application is ours (our report), and
        // libssl's, freed once each, are never reported.
        let err = text(&pre.stderr);
        let lines: Vec<&str> = err.lines().collect();
        assert_eq!(lines.len(), 2, "{v}: {err}");
        let victim = lines[0].strip_prefix("probe ").unwrap();
        assert_eq!(
            lines[1],
            format!(
                "ssl-session: SSL_SESSION_free({victim}): session already freed (double free or use after free)"
            )
        );
    }
}

#[test]
fn misuse_of_our_sessions_aborts_under_preload() {
    let out = preload_tls("tls1_3", true, true, &[]);
    assert_eq!(out.status.signal(), Some(libc::SIGABRT), "{out:?}");
    let err = text(&out.stderr);
    assert!(
        err.lines()
            .nth(1)
            .is_some_and(|l| l.starts_with("ssl-session: SSL_SESSION_free(0x")
                && l.ends_with("session already freed (double free or use after free)")),
        "{err}"
    );
    // It stopped at the double free (buffered stdout is lost with the abort).
    assert!(!text(&out.stdout).contains("done"));
}

#[test]
fn in_process_handshakes_preloaded_are_clean_under_valgrind() {
    let exe = program("preload_tls", Target::Libssl);
    let (cert, key) = cert();
    for v in ["tls1_2", "tls1_3"] {
        let proof = Preload::new();
        let out = proof
            .apply(
                Command::new("valgrind")
                    .env_remove("LD_PRELOAD")
                    .env_remove("LD_DEBUG"),
            )
            .args([
                "--quiet",
                "--leak-check=full",
                "--show-leak-kinds=definite,indirect,possible",
                "--errors-for-leak-kinds=definite,indirect,possible",
                "--error-exitcode=99",
            ])
            .arg(&exe)
            .args([cert.to_str().unwrap(), key.to_str().unwrap(), v])
            .output()
            .expect("valgrind");
        proof.check(&format!("valgrind preload_tls {v}"), &text(&out.stderr));
        assert!(
            out.status.success(),
            "{v}: {}\n{}",
            text(&out.stdout),
            text(&out.stderr)
        );
        assert!(text(&out.stdout).ends_with("done\n"));
    }
}

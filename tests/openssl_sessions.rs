//! Sessions made by the real OpenSSL, and real handshakes with sessions we wrote.
//!
//! `openssl req` makes throwaway certificates; `openssl s_server` and `openssl s_client`
//! (the system's binaries, which use the system libssl) talk on 127.0.0.1, on a port the
//! server picks (`-accept 127.0.0.1:0`, read back from its "ACCEPT" line). Every server
//! runs with `-naccept N`, a stdin that stays open, and a guard that kills and reaps it
//! when dropped, so nothing outlives a test, failed or not. Every wait has a deadline.
//!
//! 1. `real_sessions_read_like_libssl`: client sessions (`s_client -sess_out`) and server
//!    sessions (the PEM `s_server` prints) from many kinds of handshake. For each:
//!    examples/inspect.c's report is the same linked to ours and to libssl; the real
//!    `openssl sess_id -text -noout` is our SSL_SESSION_print byte for byte; `-outform
//!    DER` is our i2d; `-outform NSS` our keylog; our PEM_write gives the file back.
//! 2. `our_psk_session_file_resumes_with_openssl`: examples/psk_session.c (linked to ours
//!    only) builds a TLS 1.3 external-PSK session; `s_client -psk_session` with it
//!    completes a PSK handshake with `s_server -psk`, as `-psk` on both sides does; a
//!    wrong key fails; its max_early_data lets early data through.
//! 3. `sessions_rewritten_by_us_resume`: a client session read and written again by us
//!    (PEM -> DER -> PEM, in a program linked to ours only) is byte-identical and resumes
//!    against the server that issued it: TLS 1.2 session ID, TLS 1.2 ticket, TLS 1.3
//!    ticket (with early data).
//!
//! Secrets: these sessions are made here and thrown away; failure messages show only the
//! lines that matter, not whole outputs.

mod common;
use common::*;
use std::io::Read;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, ExitStatus, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

/// A 32-byte PSK (SHA-256 sized, as `s_server -psk` expects for TLS 1.3).
const PSK: &str = "000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f";
const PSK_ID: &str = "formats-test";

const END_LINE: &str = "-----END SSL SESSION PARAMETERS-----\n";

// ---------------------------------------------------------------------------------------
// Temporary directories and processes

/// A fresh directory under the system's temp dir, removed when dropped.
struct TempDir(PathBuf);

impl TempDir {
    fn new(tag: &str) -> TempDir {
        use std::sync::atomic::{AtomicUsize, Ordering};
        static N: AtomicUsize = AtomicUsize::new(0);
        let nanos = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap()
            .subsec_nanos();
        let d = std::env::temp_dir().join(format!(
            "ssl-session-{tag}-{}-{nanos}-{}",
            std::process::id(),
            N.fetch_add(1, Ordering::Relaxed)
        ));
        std::fs::create_dir(&d).unwrap_or_else(|e| panic!("{}: {e}", d.display()));
        TempDir(d)
    }
    fn path(&self) -> &Path {
        &self.0
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

fn openssl(dir: &Path) -> Command {
    let mut c = Command::new("openssl");
    c.current_dir(dir);
    c
}

fn spawn(mut c: Command, what: &str) -> Child {
    c.spawn().unwrap_or_else(|e| {
        panic!("{what}: cannot run the openssl binary ({e}); these tests need it (apt-get install openssl)")
    })
}

/// Runs `openssl args` to completion (bounded by its own work: no network).
fn openssl_ok(dir: &Path, args: &[&str]) -> Vec<u8> {
    let out = openssl(dir)
        .args(args)
        .stdin(Stdio::null())
        .output()
        .unwrap_or_else(|e| {
            panic!("cannot run the openssl binary ({e}); these tests need it (apt-get install openssl)")
        });
    assert!(
        out.status.success(),
        "openssl {args:?}: {}",
        text(&out.stderr)
    );
    out.stdout
}

/// A child process that is killed and reaped when dropped.
struct Guard(Child);

impl Guard {
    /// Waits for the process to exit by itself, up to `limit`.
    fn wait_for(&mut self, limit: Duration) -> Option<ExitStatus> {
        let end = Instant::now() + limit;
        loop {
            if let Some(s) = self.0.try_wait().expect("try_wait") {
                return Some(s);
            }
            if Instant::now() > end {
                return None;
            }
            std::thread::sleep(Duration::from_millis(10));
        }
    }
}

impl Drop for Guard {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// Reads a pipe to its end in a thread, into a shared buffer.
fn collect(
    mut r: impl Read + Send + 'static,
) -> (Arc<Mutex<Vec<u8>>>, std::thread::JoinHandle<()>) {
    let buf = Arc::new(Mutex::new(Vec::new()));
    let b = buf.clone();
    let t = std::thread::spawn(move || {
        let mut chunk = [0u8; 4096];
        while let Ok(n) = r.read(&mut chunk) {
            if n == 0 {
                break;
            }
            b.lock().unwrap().extend_from_slice(&chunk[..n]);
        }
    });
    (buf, t)
}

/// The lines of an s_client/s_server output worth showing when something fails (no keys,
/// no session dumps).
fn summary(out: &str) -> String {
    out.lines()
        .filter(|l| {
            l.starts_with("New, ")
                || l.starts_with("Reused, ")
                || l.contains("rror")
                || l.contains("arly data")
                || l.starts_with("ACCEPT")
                || l.contains("alert")
        })
        .collect::<Vec<_>>()
        .join("\n")
}

struct Server {
    guard: Guard,
    port: u16,
    out: PathBuf,
    err: PathBuf,
}

/// `openssl s_server -accept 127.0.0.1:0 args -naccept naccept`, in `dir`; returns once it
/// listens.
fn server(dir: &Path, tag: &str, naccept: u32, args: &[&str]) -> Server {
    let out = dir.join(format!("{tag}.server.out"));
    let err = dir.join(format!("{tag}.server.err"));
    let mut c = openssl(dir);
    let n = naccept.to_string();
    c.args(["s_server", "-accept", "127.0.0.1:0", "-naccept", &n])
        .args(args)
        // s_server quits when its stdin ends; the pipe stays open as long as the Child.
        .stdin(Stdio::piped())
        .stdout(std::fs::File::create(&out).unwrap())
        .stderr(std::fs::File::create(&err).unwrap());
    let mut guard = Guard(spawn(c, "s_server"));
    let end = Instant::now() + Duration::from_secs(10);
    loop {
        let o = std::fs::read_to_string(&out).unwrap_or_default();
        // Whole lines only: the file may be read in the middle of a write.
        if let Some(port) = o
            .split_inclusive('\n')
            .filter(|l| l.ends_with('\n'))
            .find_map(|l| l.strip_prefix("ACCEPT 127.0.0.1:"))
            .and_then(|p| p.trim().parse().ok())
        {
            return Server {
                guard,
                port,
                out,
                err,
            };
        }
        if let Some(s) = guard.wait_for(Duration::ZERO) {
            panic!(
                "{tag}: s_server {args:?} exited ({s}) before listening: {}",
                std::fs::read_to_string(&err).unwrap_or_default()
            );
        }
        assert!(Instant::now() < end, "{tag}: s_server never listened");
        std::thread::sleep(Duration::from_millis(10));
    }
}

impl Server {
    /// Waits for the server to exit after its connections (-naccept); returns its stdout
    /// and stderr.
    fn finish(mut self, tag: &str) -> (String, String) {
        let status = self.guard.wait_for(Duration::from_secs(10));
        let out = std::fs::read_to_string(&self.out).unwrap_or_default();
        let err = std::fs::read_to_string(&self.err).unwrap_or_default();
        assert!(
            status.is_some(),
            "{tag}: s_server still running after its connections:\n{}\n{}",
            summary(&out),
            err
        );
        (out, err)
    }
}

/// When s_client has done what it came for and may be told to stop (its stdin closed).
enum Until<'a> {
    /// The session file it writes (-sess_out) is complete.
    SessionFile(&'a Path),
    /// It printed the connection summary ("New, ..." or "Reused, ...").
    Summary,
}

struct ClientRun {
    /// None: it had to be killed.
    status: Option<ExitStatus>,
    stdout: String,
    stderr: String,
}

impl ClientRun {
    fn summary(&self) -> String {
        format!(
            "exit {:?}\n{}\n{}",
            self.status,
            summary(&self.stdout),
            summary(&self.stderr)
        )
    }
}

/// `openssl s_client -connect 127.0.0.1:port args`; stdin stays open until `until`
/// holds (a TLS 1.3 ticket comes after the handshake), then it is closed and s_client
/// leaves. Bounded: killed after 15 s.
fn client(dir: &Path, port: u16, args: &[&str], until: Until) -> ClientRun {
    let mut c = openssl(dir);
    c.args(["s_client", "-connect", &format!("127.0.0.1:{port}")])
        .args(args)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    let mut guard = Guard(spawn(c, "s_client"));
    let (out, t1) = collect(guard.0.stdout.take().unwrap());
    let (err, t2) = collect(guard.0.stderr.take().unwrap());
    let end = Instant::now() + Duration::from_secs(15);
    let mut status = None;
    while Instant::now() < end {
        if let Some(s) = guard.wait_for(Duration::ZERO) {
            status = Some(s);
            break;
        }
        let done = match until {
            Until::SessionFile(f) => {
                std::fs::read_to_string(f).is_ok_and(|s| s.ends_with(END_LINE))
            }
            Until::Summary => {
                let o = text(&out.lock().unwrap());
                o.contains("\nNew, ") || o.contains("\nReused, ")
            }
        };
        if done {
            drop(guard.0.stdin.take());
            status = guard.wait_for(Duration::from_secs(10));
            break;
        }
        std::thread::sleep(Duration::from_millis(10));
    }
    drop(guard); // kills it if it is still there
    t1.join().unwrap();
    t2.join().unwrap();
    let stdout = text(&out.lock().unwrap());
    let stderr = text(&err.lock().unwrap());
    ClientRun {
        status,
        stdout,
        stderr,
    }
}

/// Throwaway certificates in `dir`: cert.pem/key.pem (RSA-2048, CN=localhost),
/// cert2.pem/key2.pem (ECDSA P-256, CN=sni.localhost, for SNI), ccert.pem/ckey.pem
/// (ECDSA P-256, CN=client, for client authentication).
fn certificates(dir: &Path) {
    for (key, cert, kind, cn) in [
        ("key.pem", "cert.pem", "rsa:2048", "/CN=localhost"),
        ("key2.pem", "cert2.pem", "ec", "/CN=sni.localhost"),
        ("ckey.pem", "ccert.pem", "ec", "/CN=client"),
    ] {
        let mut args = vec!["req", "-x509", "-newkey", kind];
        if kind == "ec" {
            args.extend(["-pkeyopt", "ec_paramgen_curve:P-256"]);
        }
        args.extend([
            "-nodes", "-keyout", key, "-out", cert, "-subj", cn, "-days", "30",
        ]);
        openssl_ok(dir, &args);
    }
}

/// The first PEM session block in `s`.
fn pem_block(s: &str) -> Option<String> {
    let start = s.find("-----BEGIN SSL SESSION PARAMETERS-----\n")?;
    let end = s[start..].find(END_LINE)? + start + END_LINE.len();
    Some(s[start..end].to_string())
}

/// Runs the inspector built for `target` in `dir`: (exit code, stdout bytes).
fn inspect(target: Target, dir: &Path, args: &[&str]) -> (i32, Vec<u8>) {
    let exe = program("inspect", target);
    let out = Command::new(&exe)
        .args(args)
        .current_dir(dir)
        .output()
        .unwrap_or_else(|e| panic!("run {}: {e}", exe.display()));
    (out.status.code().expect("inspector killed"), out.stdout)
}

fn first_difference(a: &str, b: &str) -> String {
    a.lines()
        .zip(b.lines())
        .enumerate()
        .find(|(_, (x, y))| x != y)
        .map(|(i, (x, y))| format!("line {}:\n  ours:   {x}\n  libssl: {y}", i + 1))
        .unwrap_or_else(|| format!("lengths {} and {}", a.len(), b.len()))
}

// ---------------------------------------------------------------------------------------
// 1. Real sessions, read by us and by libssl

struct Flow {
    name: &'static str,
    server: &'static [&'static str],
    client: &'static [&'static str],
    /// Lines the inspector's report of the client session must contain ("DER ends with
    /// <hex>": its DER must end so).
    expect: &'static [&'static str],
    /// ... and of the server's session.
    server_expect: &'static [&'static str],
}

const SECLEVEL0: &str = "DEFAULT:@SECLEVEL=0";

const FLOWS: &[Flow] = &[
    Flow {
        name: "tls1.0",
        server: &["-tls1", "-cipher", SECLEVEL0],
        client: &["-tls1", "-cipher", SECLEVEL0],
        expect: &["protocol version    0x0301", "    Protocol  : TLSv1\n"],
        server_expect: &[],
    },
    Flow {
        name: "tls1.1",
        server: &["-tls1_1", "-cipher", SECLEVEL0],
        client: &["-tls1_1", "-cipher", SECLEVEL0],
        expect: &["protocol version    0x0302", "    Protocol  : TLSv1.1\n"],
        server_expect: &[],
    },
    Flow {
        name: "tls1.2-ticket",
        server: &[],
        client: &["-tls1_2"],
        expect: &[
            "protocol version    0x0303",
            "ticket              present",
            "Extended master secret: yes",
        ],
        server_expect: &[],
    },
    Flow {
        name: "tls1.2-session-id",
        server: &["-no_ticket"],
        client: &["-tls1_2", "-no_ticket"],
        expect: &[
            "ticket              absent",
            "session id          32 bytes",
            "resumable           1",
        ],
        server_expect: &["session id          32 bytes"],
    },
    Flow {
        name: "tls1.3",
        server: &[],
        client: &["-tls1_3"],
        expect: &[
            "protocol version    0x0304",
            "TLS_AES_256_GCM_SHA384",
            "Resumption PSK: ",
            "Max Early Data: 0",
        ],
        server_expect: &[],
    },
    Flow {
        name: "tls1.2-alpn",
        server: &["-alpn", "h2,http/1.1"],
        client: &["-tls1_2", "-alpn", "http/1.1"],
        expect: &["alpn                \"http/1.1\""],
        server_expect: &["alpn                \"http/1.1\""],
    },
    Flow {
        name: "tls1.3-alpn",
        server: &["-alpn", "h2"],
        client: &["-tls1_3", "-alpn", "h2"],
        expect: &["alpn                \"h2\""],
        server_expect: &[],
    },
    Flow {
        name: "tls1.3-sni",
        server: &[
            "-servername",
            "localhost",
            "-cert2",
            "cert2.pem",
            "-key2",
            "key2.pem",
        ],
        client: &["-tls1_3", "-servername", "localhost"],
        expect: &[
            "hostname            \"localhost\"",
            "peer                /CN=sni.localhost",
        ],
        server_expect: &["hostname            \"localhost\""],
    },
    Flow {
        name: "tls1.2-sni",
        server: &[
            "-servername",
            "localhost",
            "-cert2",
            "cert2.pem",
            "-key2",
            "key2.pem",
        ],
        client: &["-tls1_2", "-servername", "localhost"],
        expect: &[
            "hostname            \"localhost\"",
            "peer                /CN=sni.localhost",
            "ECDHE-ECDSA-",
        ],
        server_expect: &[],
    },
    Flow {
        name: "tls1.2-psk",
        server: &[
            "-nocert",
            "-psk",
            PSK,
            "-psk_identity",
            "client-id",
            "-psk_hint",
            "server-hint",
        ],
        client: &[
            "-tls1_2",
            "-psk",
            PSK,
            "-psk_identity",
            "client-id",
            "-cipher",
            "PSK-AES128-GCM-SHA256",
        ],
        expect: &[
            "    PSK identity: client-id\n",
            "    PSK identity hint: server-hint\n",
            "PSK-AES128-GCM-SHA256",
            "peer                (none)",
        ],
        server_expect: &[
            "    PSK identity: client-id\n",
            "    PSK identity hint: None\n",
        ],
    },
    Flow {
        name: "tls1.2-ecdhe-psk",
        server: &["-nocert", "-psk", PSK, "-psk_identity", "client-id"],
        client: &[
            "-tls1_2",
            "-psk",
            PSK,
            "-psk_identity",
            "client-id",
            "-cipher",
            "ECDHE-PSK-CHACHA20-POLY1305",
        ],
        expect: &[
            "    PSK identity: client-id\n",
            "ECDHE-PSK-CHACHA20-POLY1305",
        ],
        server_expect: &[],
    },
    Flow {
        name: "tls1.3-early-data",
        server: &["-early_data"],
        client: &["-tls1_3"],
        expect: &["max early data      16384", "Max Early Data: 16384"],
        server_expect: &[],
    },
    Flow {
        name: "tls1.2-client-cert",
        server: &["-Verify", "1"],
        client: &["-tls1_2", "-cert", "ccert.pem", "-key", "ckey.pem"],
        expect: &["peer                /CN=localhost"],
        server_expect: &[
            "peer                /CN=client",
            "Verify return code: 18 (self-signed certificate)",
        ],
    },
    Flow {
        name: "tls1.3-client-cert",
        server: &["-Verify", "1"],
        client: &["-tls1_3", "-cert", "ccert.pem", "-key", "ckey.pem"],
        expect: &["peer                /CN=localhost"],
        server_expect: &["peer                /CN=client"],
    },
    Flow {
        name: "tls1.2-aes128-gcm",
        server: &[],
        client: &["-tls1_2", "-cipher", "ECDHE-RSA-AES128-GCM-SHA256"],
        expect: &["cipher              ECDHE-RSA-AES128-GCM-SHA256, id 0x0300C02F"],
        server_expect: &[],
    },
    Flow {
        name: "tls1.2-aes256-gcm",
        server: &[],
        client: &["-tls1_2", "-cipher", "ECDHE-RSA-AES256-GCM-SHA384"],
        expect: &["cipher              ECDHE-RSA-AES256-GCM-SHA384, id 0x0300C030"],
        server_expect: &[],
    },
    Flow {
        name: "tls1.2-chacha20",
        server: &[],
        client: &["-tls1_2", "-cipher", "ECDHE-RSA-CHACHA20-POLY1305"],
        expect: &["cipher              ECDHE-RSA-CHACHA20-POLY1305, id 0x0300CCA8"],
        server_expect: &[],
    },
    Flow {
        name: "tls1.2-dhe",
        server: &[],
        client: &["-tls1_2", "-cipher", "DHE-RSA-AES256-GCM-SHA384"],
        expect: &["cipher              DHE-RSA-AES256-GCM-SHA384, id 0x0300009F"],
        server_expect: &[],
    },
    Flow {
        name: "tls1.2-rsa-kx",
        server: &[],
        client: &["-tls1_2", "-cipher", "AES128-SHA"],
        expect: &["cipher              AES128-SHA, id 0x0300002F"],
        server_expect: &[],
    },
    Flow {
        name: "tls1.3-aes128-gcm",
        server: &[],
        client: &["-tls1_3", "-ciphersuites", "TLS_AES_128_GCM_SHA256"],
        expect: &["cipher              TLS_AES_128_GCM_SHA256, id 0x03001301"],
        server_expect: &[],
    },
    Flow {
        name: "tls1.3-chacha20",
        server: &[],
        client: &["-tls1_3", "-ciphersuites", "TLS_CHACHA20_POLY1305_SHA256"],
        expect: &["cipher              TLS_CHACHA20_POLY1305_SHA256, id 0x03001303"],
        server_expect: &[],
    },
    // The group is kex_group, element [19] at the end of the DER (print shows no group).
    Flow {
        name: "tls1.3-x25519",
        server: &[],
        client: &["-tls1_3", "-groups", "X25519"],
        expect: &["DER ends with B30302011D"],
        server_expect: &["DER ends with B30302011D"],
    },
    Flow {
        name: "tls1.3-p256",
        server: &[],
        client: &["-tls1_3", "-groups", "P-256"],
        expect: &["DER ends with B303020117"],
        server_expect: &[],
    },
    Flow {
        name: "tls1.3-ffdhe2048",
        server: &[],
        client: &["-tls1_3", "-groups", "ffdhe2048"],
        expect: &["DER ends with B30402020100"],
        server_expect: &[],
    },
    Flow {
        name: "tls1.2-p384",
        server: &[],
        client: &["-tls1_2", "-groups", "P-384"],
        expect: &["DER ends with B303020118"],
        server_expect: &[],
    },
    Flow {
        name: "tls1.2-max-fragment",
        server: &[],
        client: &["-tls1_2", "-maxfraglen", "1024"],
        expect: &["max fragment length 2"],
        server_expect: &["max fragment length 2"],
    },
    Flow {
        name: "tls1.3-max-fragment",
        server: &[],
        client: &["-tls1_3", "-maxfraglen", "512"],
        expect: &["max fragment length 1"],
        server_expect: &[],
    },
];

/// Makes the flow's sessions in `dir`: `<name>.client.pem` and `<name>.server.pem`.
fn make_sessions(dir: &Path, f: &Flow) -> [String; 2] {
    let mut sargs = vec!["-cert", "cert.pem", "-key", "key.pem"];
    if f.server.contains(&"-nocert") {
        sargs.clear();
    }
    sargs.extend_from_slice(f.server);
    let srv = server(dir, f.name, 1, &sargs);
    let file = format!("{}.client.pem", f.name);
    let path = dir.join(&file);
    let mut cargs = f.client.to_vec();
    cargs.extend(["-sess_out", &file]);
    let c = client(dir, srv.port, &cargs, Until::SessionFile(&path));
    let (sout, serr) = srv.finish(f.name);
    assert!(
        c.status.is_some_and(|s| s.success()) && c.stdout.contains("\nNew, "),
        "{}: s_client {cargs:?}: {}\nserver: {}\n{}",
        f.name,
        c.summary(),
        summary(&sout),
        serr
    );
    let server_file = format!("{}.server.pem", f.name);
    let block = pem_block(&sout).unwrap_or_else(|| {
        panic!(
            "{}: s_server printed no session: {}",
            f.name,
            summary(&sout)
        )
    });
    std::fs::write(dir.join(&server_file), block).unwrap();
    [file, server_file]
}

/// Our output for one `openssl sess_id` form, and the real one (no preload: the system
/// binary with the system libssl).
fn sess_id_pair(
    dir: &Path,
    file: &str,
    ours: &[&str],
    real: &[&str],
) -> ((i32, Vec<u8>), (bool, Vec<u8>)) {
    let mut args = ours.to_vec();
    args.push(file);
    let o = inspect(Target::Ours, dir, &args);
    let mut rargs = vec!["sess_id", "-in", file];
    rargs.extend_from_slice(real);
    let out = openssl(dir)
        .args(&rargs)
        .stdin(Stdio::null())
        .output()
        .unwrap();
    (o, (out.status.success(), out.stdout))
}

#[test]
fn real_sessions_read_like_libssl() {
    let tmp = TempDir::new("real-sessions");
    let dir = tmp.path();
    certificates(dir);
    let started = Instant::now();
    let mut files: Vec<(String, &Flow, bool)> = Vec::new();
    for f in FLOWS {
        let [c, s] = make_sessions(dir, f);
        files.push((c, f, false));
        files.push((s, f, true));
    }
    let made = started.elapsed();

    // The DER form of every session too: the inspector reads both.
    let mut all: Vec<String> = Vec::new();
    for (file, ..) in &files {
        let der = openssl_ok(dir, &["sess_id", "-in", file, "-outform", "DER"]);
        let der_file = file.replace(".pem", ".der");
        std::fs::write(dir.join(&der_file), der).unwrap();
        all.push(file.clone());
        all.push(der_file);
    }

    // 1. The inspector's whole report: ours against libssl.
    let args: Vec<&str> = all.iter().map(String::as_str).collect();
    let (oc, ours) = inspect(Target::Ours, dir, &args);
    let (rc, real) = inspect(Target::Libssl, dir, &args);
    let (ours, real) = (text(&ours), text(&real));
    assert_eq!((oc, rc), (0, 0), "every session must load");
    let ob: Vec<&str> = ours.split("== ").skip(1).collect();
    let rb: Vec<&str> = real.split("== ").skip(1).collect();
    assert_eq!(ob.len(), all.len());
    assert_eq!(rb.len(), all.len());
    for (o, r) in ob.iter().zip(&rb) {
        let name = o.lines().next().unwrap();
        assert!(
            o == r,
            "{name}: reports differ at {}",
            first_difference(o, r)
        );
        assert!(
            o.contains("the same bytes as the input: yes"),
            "{name}: i2d is not the input"
        );
        assert!(
            o.contains("SSL_SESSION_dup: i2d of the copy is the same"),
            "{name}"
        );
        assert!(
            o.contains("d2i of the re-encoding: encodes the same"),
            "{name}"
        );
        assert!(o.contains("at the end: no error queued"), "{name}");
        assert!(o.contains("time: from the input"), "{name}");
    }
    // What each flow was for shows in its sessions.
    for (file, f, is_server) in &files {
        let report = ob
            .iter()
            .find(|b| b.starts_with(&format!("{file}\n")))
            .unwrap();
        for want in if *is_server {
            f.server_expect
        } else {
            f.expect
        } {
            if let Some(tail) = want.strip_prefix("DER ends with ") {
                let der = std::fs::read(dir.join(file.replace(".pem", ".der"))).unwrap();
                let hex: String = der.iter().map(|b| format!("{b:02X}")).collect();
                assert!(hex.ends_with(tail), "{file}: DER does not end with {tail}");
            } else {
                assert!(report.contains(want), "{file}: no {want:?} in the report");
            }
        }
    }

    // 2. The real `openssl sess_id` against ours, byte for byte.
    let mut keylogs = 0;
    for (file, ..) in &files {
        let ((oc, o), (rok, r)) = sess_id_pair(dir, file, &["-text"], &["-text", "-noout"]);
        assert!(rok && oc == 0, "{file}: sess_id -text");
        assert!(
            o == r,
            "{file}: -text differs at {}",
            first_difference(&text(&o), &text(&r))
        );

        let ((oc, o), (rok, r)) =
            sess_id_pair(dir, file, &["-outform", "DER"], &["-outform", "DER"]);
        assert!(rok && oc == 0, "{file}: sess_id -outform DER");
        assert!(o == r, "{file}: i2d differs from sess_id -outform DER");

        // An empty session ID (TLS 1.2 server sessions with a ticket) writes no key log
        // line: sess_id then fails ("unable to write SSL_SESSION"), and so do we.
        let ((oc, o), (rok, r)) =
            sess_id_pair(dir, file, &["-outform", "NSS"], &["-outform", "NSS"]);
        assert_eq!(oc == 0, rok, "{file}: keylog verdicts differ");
        assert!(o == r, "{file}: keylog differs from sess_id -outform NSS");
        keylogs += rok as usize;

        let (oc, o) = inspect(Target::Ours, dir, &["-outform", "PEM", file]);
        assert_eq!(oc, 0);
        let original = std::fs::read(dir.join(file)).unwrap();
        assert!(
            o == original,
            "{file}: our PEM_write does not give the file back"
        );
    }
    let clients = files.iter().filter(|f| !f.2).count();
    println!(
        "real sessions: {} flows, {} sessions ({clients} client, {} server) made in {:.1?}; \
         {} files (PEM and DER) with identical reports under ours and libssl; \
         sess_id -text and -outform DER identical to ours for all {}, and -outform NSS for \
         {keylogs} (the rest have no session ID: both refuse); our PEM_write gives every file back",
        FLOWS.len(),
        files.len(),
        files.len() - clients,
        made,
        all.len(),
        files.len(),
    );
}

// ---------------------------------------------------------------------------------------
// 2. A TLS 1.3 external-PSK session made by us

fn psk_session(dir: &Path, out: &str, args: &[&str]) {
    let exe = program("psk_session", Target::Ours);
    assert!(
        !needed(&exe).iter().any(|n| n.starts_with("libssl.so")),
        "psk_session must run without libssl"
    );
    let o = Command::new(&exe)
        .args(args)
        .current_dir(dir)
        .output()
        .unwrap();
    assert!(
        o.status.success(),
        "psk_session {args:?}: {}",
        text(&o.stderr)
    );
    std::fs::write(dir.join(out), &o.stdout).unwrap();
}

/// One PSK connection: server with `sargs` (no certificate: only a PSK handshake can
/// work), client with `cargs`. Returns the client run and the server's stdout.
fn psk_connection(dir: &Path, tag: &str, sargs: &[&str], cargs: &[&str]) -> (ClientRun, String) {
    let mut s = vec!["-tls1_3", "-nocert", "-psk_identity", PSK_ID];
    s.extend_from_slice(sargs);
    let srv = server(dir, tag, 1, &s);
    let mut c = vec![
        "-tls1_3",
        "-psk_identity",
        PSK_ID,
        "-ciphersuites",
        "TLS_AES_128_GCM_SHA256",
    ];
    c.extend_from_slice(cargs);
    let run = client(dir, srv.port, &c, Until::Summary);
    let (out, _) = srv.finish(tag);
    (run, out)
}

const PSK_RESUMED: &str = "\nReused, TLSv1.3, Cipher is TLS_AES_128_GCM_SHA256\n";

#[test]
fn our_psk_session_file_resumes_with_openssl() {
    let tmp = TempDir::new("psk");
    let dir = tmp.path();
    psk_session(dir, "psk.pem", &[PSK, "TLS_AES_128_GCM_SHA256", PSK_ID]);
    // By code and by standard name the same cipher is found.
    psk_session(dir, "psk-by-code.pem", &[PSK, "0x1301"]);
    psk_session(
        dir,
        "early.pem",
        &["-early_data", "16384", PSK, "TLS_AES_128_GCM_SHA256"],
    );
    let wrong = format!("ff{}", &PSK[2..]);
    psk_session(dir, "wrong.pem", &[&wrong, "TLS_AES_128_GCM_SHA256"]);
    let (_, print) = inspect(Target::Ours, dir, &["-text", "psk.pem"]);
    let print = text(&print);
    assert!(
        print.contains("    Protocol  : TLSv1.3\n    Cipher    : TLS_AES_128_GCM_SHA256\n"),
        "{print}"
    );
    assert!(print.contains(&format!("    Resumption PSK: {}\n", PSK.to_uppercase())));
    let (_, print) = inspect(Target::Ours, dir, &["-text", "psk-by-code.pem"]);
    assert!(text(&print).contains("    Cipher    : TLS_AES_128_GCM_SHA256\n"));

    // The reference: -psk on both sides.
    let (c, _) = psk_connection(dir, "psk-both", &["-psk", PSK], &["-psk", PSK]);
    assert!(
        c.stdout.contains(PSK_RESUMED),
        "-psk on both sides: {}",
        c.summary()
    );

    // Our session file on the client side: the same PSK handshake.
    let (c, _) = psk_connection(
        dir,
        "psk-session",
        &["-psk", PSK],
        &["-psk_session", "psk.pem"],
    );
    assert!(
        c.stdout.contains(PSK_RESUMED),
        "-psk_session ours: {}",
        c.summary()
    );
    assert!(c.status.is_some_and(|s| s.success()), "{}", c.summary());

    // Our session file on the server side too (s_server uses it with -psk set).
    let (c, _) = psk_connection(
        dir,
        "psk-session-server",
        &["-psk", PSK, "-psk_session", "psk-by-code.pem"],
        &["-psk_session", "psk.pem"],
    );
    assert!(
        c.stdout.contains(PSK_RESUMED),
        "ours on both sides: {}",
        c.summary()
    );

    // A wrong key: the server refuses the binder, there is no certificate to fall back on.
    let (c, _) = psk_connection(
        dir,
        "psk-wrong",
        &["-psk", PSK],
        &["-psk_session", "wrong.pem"],
    );
    assert!(
        !c.stdout.contains("\nReused, "),
        "a wrong key resumed: {}",
        c.summary()
    );
    assert!(!c.status.is_some_and(|s| s.success()), "{}", c.summary());

    // max_early_data in our session: early data goes through, on our session on both sides.
    std::fs::write(dir.join("early.txt"), "early data from the formats test\n").unwrap();
    let (c, sout) = psk_connection(
        dir,
        "psk-early",
        &["-psk", PSK, "-psk_session", "early.pem", "-early_data"],
        &["-psk_session", "early.pem", "-early_data", "early.txt"],
    );
    assert!(
        c.stdout.contains(PSK_RESUMED),
        "early data: {}",
        c.summary()
    );
    assert!(
        c.stdout.contains("\nEarly data was accepted\n"),
        "{}",
        c.summary()
    );
    // (s_server writes the data and its label through different buffers: any order.)
    assert!(
        sout.contains("Early data received:\n")
            && sout.contains("\nearly data from the formats test\n"),
        "server: {}",
        summary(&sout)
    );
    println!("psk: -psk both sides, our -psk_session client, ours on both sides: {PSK_RESUMED:?}; wrong key refused; early data accepted");
}

// ---------------------------------------------------------------------------------------
// 3. Client sessions rewritten by us resume

fn resume_rewritten(
    dir: &Path,
    tag: &str,
    sargs: &[&str],
    cargs: &[&str],
    extra: &[&str],
) -> ClientRun {
    let mut s = vec!["-cert", "cert.pem", "-key", "key.pem"];
    s.extend_from_slice(sargs);
    let srv = server(dir, tag, 2, &s);
    let orig = format!("{tag}.pem");
    let mut c1 = cargs.to_vec();
    c1.extend(["-sess_out", &orig]);
    let first = client(dir, srv.port, &c1, Until::SessionFile(&dir.join(&orig)));
    assert!(
        first.stdout.contains("\nNew, "),
        "{tag}: first connection: {}",
        first.summary()
    );

    // PEM -> (PEM_read_bio, i2d) DER -> (d2i, PEM_write_bio) PEM, linked to ours only.
    let exe = program("inspect", Target::Ours);
    assert!(!needed(&exe).iter().any(|n| n.starts_with("libssl.so")));
    let (code, der) = inspect(Target::Ours, dir, &["-outform", "DER", &orig]);
    assert_eq!(code, 0);
    std::fs::write(dir.join(format!("{tag}.der")), der).unwrap();
    let (code, pem) = inspect(
        Target::Ours,
        dir,
        &["-outform", "PEM", &format!("{tag}.der")],
    );
    assert_eq!(code, 0);
    let rewritten = format!("{tag}.rewritten.pem");
    std::fs::write(dir.join(&rewritten), &pem).unwrap();
    let original = std::fs::read(dir.join(&orig)).unwrap();
    assert!(
        pem == original,
        "{tag}: the rewritten session is not byte-identical"
    );

    let mut c2 = cargs.to_vec();
    c2.extend(["-sess_in", &rewritten]);
    c2.extend_from_slice(extra);
    let second = client(dir, srv.port, &c2, Until::Summary);
    let (sout, serr) = srv.finish(tag);
    assert!(
        second.status.is_some_and(|s| s.success()),
        "{tag}: {}\nserver: {}\n{serr}",
        second.summary(),
        summary(&sout)
    );
    second
}

#[test]
fn sessions_rewritten_by_us_resume() {
    let tmp = TempDir::new("resume");
    let dir = tmp.path();
    certificates(dir);

    let c = resume_rewritten(
        dir,
        "tls12-session-id",
        &["-no_ticket"],
        &["-tls1_2", "-no_ticket"],
        &[],
    );
    assert!(
        c.stdout.contains("\nReused, TLSv1.2, "),
        "session id: {}",
        c.summary()
    );

    let c = resume_rewritten(dir, "tls12-ticket", &[], &["-tls1_2"], &[]);
    assert!(
        c.stdout.contains("\nReused, TLSv1.2, "),
        "ticket: {}",
        c.summary()
    );

    std::fs::write(dir.join("early.txt"), "early data on a rewritten ticket\n").unwrap();
    let c = resume_rewritten(
        dir,
        "tls13-ticket",
        &["-early_data"],
        &["-tls1_3"],
        &["-early_data", "early.txt"],
    );
    assert!(
        c.stdout.contains("\nReused, TLSv1.3, "),
        "TLS 1.3 ticket: {}",
        c.summary()
    );
    assert!(
        c.stdout.contains("\nEarly data was accepted\n"),
        "{}",
        c.summary()
    );
    println!("resumption with sessions rewritten by us: TLS 1.2 session ID, TLS 1.2 ticket, TLS 1.3 ticket (+ early data): Reused");
}

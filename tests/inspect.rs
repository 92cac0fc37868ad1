//! examples/inspect.c, linked against our library (no libssl in the process) and against the
//! system libssl, over every file of `tests/corpus/` and the bundled examples/sessions/:
//! the two reports must be identical. The report covers the read verdict and errors, the
//! bytes d2i consumed, i2d, PEM_write, print, print_keylog, every getter, dup and a second
//! decode (see the program's header).

mod common;
use common::*;
use std::path::{Path, PathBuf};

fn corpus_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/corpus")
}

/// The corpus files, relative to `corpus_dir()`, sorted.
fn corpus_files() -> Vec<String> {
    let mut files = Vec::new();
    for sub in ["openssl-fuzz-asn1", "boringssl-session"] {
        let dir = corpus_dir().join(sub);
        for e in std::fs::read_dir(&dir).unwrap_or_else(|e| panic!("{}: {e}", dir.display())) {
            let name = e.unwrap().file_name().into_string().unwrap();
            files.push(format!("{sub}/{name}"));
        }
    }
    files.sort();
    files
}

/// Runs the inspector built for `target` in `dir` over `files`: (exit code, stdout).
fn inspect(target: Target, dir: &Path, args: &[String]) -> (i32, String) {
    let exe = program("inspect", target);
    let out = std::process::Command::new(&exe)
        .args(args)
        .current_dir(dir)
        .output()
        .unwrap_or_else(|e| panic!("run {}: {e}", exe.display()));
    assert!(
        out.stderr.is_empty(),
        "{target:?} inspector wrote to stderr: {}",
        text(&out.stderr)
    );
    (
        out.status.code().expect("inspector killed"),
        text(&out.stdout),
    )
}

/// The report split into per-file blocks (each starts with its "== file" line).
fn blocks(report: &str) -> Vec<String> {
    let mut v: Vec<String> = Vec::new();
    for line in report.lines() {
        if line.starts_with("== ") || v.is_empty() {
            v.push(String::new());
        }
        let b = v.last_mut().unwrap();
        b.push_str(line);
        b.push('\n');
    }
    v
}

/// The one known divergence: OpenSSL 3.0's SSL_SESSION_dup fails ("malloc failure") for a
/// session whose ALPN, ticket or ticket appdata is present but empty, because it copies
/// the field with OPENSSL_memdup and CRYPTO_malloc(0) returns NULL (ssl_session_dup_intern
/// in ssl/ssl_sess.c). Ours copies the empty field. The blocks must differ in exactly those
/// two lines, and the session must have such an empty field.
fn known_dup_divergence(ours: &str, real: &str) -> bool {
    let empty_field = ours.contains("\n  alpn                \"\"\n")
        || ours.contains("\n  ticket              present, 0 bytes,")
        || ours.contains("\n  ticket appdata      \"\"\n");
    let expected = real
        .replace(
            "SSL_SESSION_dup: NULL\n",
            "SSL_SESSION_dup: i2d of the copy is the same\n",
        )
        .replace(
            "at the end: first error 078C0100, last error 0A0C0100\n",
            "at the end: no error queued\n",
        );
    empty_field && real != ours && expected == ours
}

struct Tally {
    accepted: usize,
    rejected: usize,
    identical: usize,
    dup_divergence: Vec<String>,
}

fn compare(what: &str, ours: &str, real: &str) -> Tally {
    let (o, r) = (blocks(ours), blocks(real));
    assert_eq!(o.len(), r.len(), "{what}: block counts differ");
    let mut t = Tally {
        accepted: 0,
        rejected: 0,
        identical: 0,
        dup_divergence: Vec::new(),
    };
    for (a, b) in o.iter().zip(&r) {
        let name = a.lines().next().unwrap_or("");
        if b.contains(": ok, consumed ") || b.contains("PEM_read_bio_SSL_SESSION: ok") {
            t.accepted += 1;
        } else {
            t.rejected += 1;
        }
        if a == b {
            t.identical += 1;
        } else if known_dup_divergence(a, b) {
            t.dup_divergence.push(name.to_string());
        } else {
            let line = a
                .lines()
                .zip(b.lines())
                .find(|(x, y)| x != y)
                .map(|(x, y)| format!("ours:   {x}\nlibssl: {y}"))
                .unwrap_or_else(|| "one block is a prefix of the other".into());
            panic!("{what}: {name}: reports differ, first at\n{line}");
        }
    }
    t
}

#[test]
fn inspector_over_the_corpus_matches_libssl() {
    let files = corpus_files();
    assert_eq!(files.len(), 668, "expected the 668 corpus files");
    let (oc, ours) = inspect(Target::Ours, &corpus_dir(), &files);
    let (rc, real) = inspect(Target::Libssl, &corpus_dir(), &files);
    assert_eq!(oc, rc, "exit codes");
    let t = compare("corpus", &ours, &real);
    assert_eq!(t.accepted + t.rejected, files.len());
    println!(
        "corpus: {} files, libssl accepts {} and rejects {}; reports identical {}; \
         known divergence (dup of an empty ALPN/ticket/appdata) {}: {:?}",
        files.len(),
        t.accepted,
        t.rejected,
        t.identical,
        t.dup_divergence.len(),
        t.dup_divergence
    );
    // The README of the corpus: 31 of the OpenSSL inputs decode; BoringSSL's never do.
    assert_eq!(t.accepted, 31);
    // Sessions without a start time were given "now" by both libraries.
    assert!(!real.contains("set it to now: NO"));
    assert!(!ours.contains("set it to now: NO"));
}

fn sessions_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("examples/sessions")
}

fn bundled() -> Vec<String> {
    let mut v: Vec<String> = std::fs::read_dir(sessions_dir())
        .unwrap()
        .map(|e| e.unwrap().file_name().into_string().unwrap())
        .filter(|n| n.ends_with(".pem"))
        .collect();
    v.sort();
    v
}

#[test]
fn inspector_over_the_bundled_sessions_matches_libssl_and_the_golden_text() {
    let files = bundled();
    assert_eq!(files.len(), 5, "{files:?}");
    let (oc, ours) = inspect(Target::Ours, &sessions_dir(), &files);
    let (rc, real) = inspect(Target::Libssl, &sessions_dir(), &files);
    assert_eq!((oc, rc), (0, 0));
    let t = compare("examples/sessions", &ours, &real);
    assert_eq!((t.accepted, t.identical), (5, 5));
    for b in blocks(&ours) {
        assert!(b.contains("the same bytes as the input: yes"), "{b}");
        assert!(
            b.contains("SSL_SESSION_dup: i2d of the copy is the same"),
            "{b}"
        );
    }
    // -text is the print of the contract's samples, byte for byte (tests/golden).
    let golden = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/golden");
    for (file, print) in [
        ("s1_tls12_ticket.pem", "s1_print.txt"),
        ("s2_tls12_noticket.pem", "s2_print.txt"),
        ("s3_tls13.pem", "s3_print.txt"),
        ("g1_tls12_api.pem", "g1_print.txt"),
        ("g2_tls13_psk_api.pem", "g2_print.txt"),
    ] {
        let (code, text) = inspect(
            Target::Ours,
            &sessions_dir(),
            &["-text".into(), file.into()],
        );
        assert_eq!(code, 0);
        let want = std::fs::read_to_string(golden.join(print)).unwrap();
        assert_eq!(text, want, "{file}");
    }
}

#[test]
fn inspector_has_no_memory_errors_or_leaks() {
    let exe = program("inspect", Target::Ours);
    let mut args: Vec<String> = bundled()
        .iter()
        .map(|f| sessions_dir().join(f).display().to_string())
        .collect();
    args.extend(
        corpus_files()
            .iter()
            .map(|f| corpus_dir().join(f).display().to_string()),
    );
    let out = std::process::Command::new("valgrind")
        .args([
            "--quiet",
            "--leak-check=full",
            "--show-leak-kinds=definite,indirect,possible",
            "--errors-for-leak-kinds=definite,indirect,possible",
            "--error-exitcode=99",
        ])
        .arg(&exe)
        .args(&args)
        .output()
        .expect("valgrind is required for this test (apt-get install valgrind)");
    assert_ne!(
        out.status.code(),
        Some(99),
        "valgrind: {}",
        text(&out.stderr)
    );
    assert!(out.stderr.is_empty(), "{}", text(&out.stderr));
}

fn base64(data: &[u8]) -> String {
    const A: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let mut s = String::new();
    for c in data.chunks(3) {
        let n = (c[0] as u32) << 16
            | (*c.get(1).unwrap_or(&0) as u32) << 8
            | *c.get(2).unwrap_or(&0) as u32;
        for i in 0..4 {
            if i <= c.len() {
                s.push(A[(n >> (18 - 6 * i)) as usize & 63] as char);
            } else {
                s.push('=');
            }
        }
    }
    s
}

fn pem(label: &str, der: &[u8]) -> String {
    let b = base64(der);
    let mut s = format!("-----BEGIN {label}-----\n");
    for line in b.as_bytes().chunks(64) {
        s.push_str(std::str::from_utf8(line).unwrap());
        s.push('\n');
    }
    s + &format!("-----END {label}-----\n")
}

#[test]
fn inspector_on_pem_and_der_edge_cases_matches_libssl() {
    let golden = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/golden");
    let g1 = std::fs::read(golden.join("g1.der")).unwrap();
    let g2 = std::fs::read(golden.join("g2.der")).unwrap();
    const LABEL: &str = "SSL SESSION PARAMETERS";
    // G2 without its time element ([1] 1700000000: A1 06 02 04 65 53 F1 00).
    let time = [0xA1, 0x06, 0x02, 0x04, 0x65, 0x53, 0xF1, 0x00];
    let at = g2.windows(8).position(|w| w == time).unwrap();
    let mut no_time = g2.clone();
    no_time.drain(at..at + 8);
    no_time[1] -= 8;
    // G2 with an indefinite-length outer SEQUENCE.
    let mut indefinite = vec![0x30, 0x80];
    indefinite.extend_from_slice(&g2[2..]);
    indefinite.extend_from_slice(&[0, 0]);
    let mut trailing = g1.clone();
    trailing.extend_from_slice(&[1, 2, 3, 4]);
    let g1_pem = pem(LABEL, &g1);
    let truncated: String = {
        let lines: Vec<&str> = g1_pem.lines().collect();
        let mut v = lines[..lines.len() - 2].to_vec();
        v.push(lines[lines.len() - 1]);
        v.join("\n") + "\n"
    };
    let cases: Vec<(&str, Vec<u8>)> = vec![
        (
            "text-before.pem",
            format!("a session follows\n{g1_pem}").into_bytes(),
        ),
        (
            "other-block-first.pem",
            format!("-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n{g1_pem}")
                .into_bytes(),
        ),
        (
            "two-sessions.pem",
            format!("{g1_pem}{}", pem(LABEL, &g2)).into_bytes(),
        ),
        ("wrong-label.pem", pem("SSL SESSION", &g1).into_bytes()),
        (
            "trailing-bytes-in-pem.pem",
            pem(LABEL, &trailing).into_bytes(),
        ),
        ("truncated.pem", truncated.into_bytes()),
        ("no-time.pem", pem(LABEL, &no_time).into_bytes()),
        ("no-time.der", no_time),
        ("indefinite.der", indefinite),
        ("trailing-bytes.der", trailing),
        ("empty.der", Vec::new()),
    ];
    let tmp =
        std::env::temp_dir().join(format!("ssl-session-inspect-edges-{}", std::process::id()));
    std::fs::create_dir_all(&tmp).unwrap();
    let mut names = Vec::new();
    for (name, data) in &cases {
        std::fs::write(tmp.join(name), data).unwrap();
        names.push(name.to_string());
    }
    let (oc, ours) = inspect(Target::Ours, &tmp, &names);
    let (rc, real) = inspect(Target::Libssl, &tmp, &names);
    std::fs::remove_dir_all(&tmp).unwrap();
    assert_eq!(oc, rc);
    let t = compare("edge cases", &ours, &real);
    assert_eq!(t.identical, cases.len());
    // The cases did what they are named for.
    for (name, want) in [
        ("text-before.pem", "PEM_read_bio_SSL_SESSION: ok"),
        ("other-block-first.pem", "the same bytes as the input: yes"),
        ("two-sessions.pem", "164 bytes of DER"),
        ("wrong-label.pem", "PEM_read_bio_SSL_SESSION: NULL"),
        (
            "trailing-bytes-in-pem.pem",
            "the same bytes as the input: no",
        ),
        ("truncated.pem", "PEM_read_bio_SSL_SESSION: NULL"),
        ("no-time.pem", "d2i set it to now: yes"),
        ("no-time.der", "d2i set it to now: yes"),
        ("indefinite.der", "ok, consumed 102"),
        ("trailing-bytes.der", "ok, consumed 164"),
        ("empty.der", "d2i_SSL_SESSION: NULL"),
    ] {
        let b = blocks(&ours)
            .into_iter()
            .find(|b| b.starts_with(&format!("== {name}\n")))
            .unwrap();
        assert!(b.contains(want), "{name}: no {want:?} in\n{b}");
    }
}

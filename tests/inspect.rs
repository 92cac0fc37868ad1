//! examples/inspect.c, linked against our library (no libssl in the process) and against the
//! system libssl, over every file of `../shared/corpus/` and the bundled examples/sessions/:
//! the two reports must be identical. The report covers the read verdict and errors, the
//! bytes d2i consumed, i2d, PEM_write, print, print_keylog, every getter, dup and a second
//! decode (see the program's header).

mod common;
use common::*;
use std::path::{Path, PathBuf};

const INSPECT: &str = env!("CTEST_OBJ_inspect");

fn corpus_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../shared/corpus")
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
    let exe = program("inspect", INSPECT, target);
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
    let exe = program("inspect", INSPECT, Target::Ours);
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

//! Shared by the integration tests: build the C programs of tests-c/ against our library
//! or the system libssl, and run them.
#![allow(dead_code)]

use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::sync::{Mutex, OnceLock};

/// `target/<profile>/deps`, beside the test executable: where cargo put the
/// libssl_session.so (and .a) it built for this test run. `cargo test` does not copy them
/// up to `target/<profile>` (only `cargo build` does), so a copy there may be missing or stale.
pub fn lib_dir() -> PathBuf {
    let exe = std::env::current_exe().unwrap();
    exe.parent().unwrap().to_path_buf()
}

pub fn our_so() -> PathBuf {
    let p = lib_dir().join("libssl_session.so");
    assert!(p.exists(), "{} not built", p.display());
    p
}

/// The SONAME build.rs gives the library; programs linked with -lssl_session record it.
pub const SONAME: &str = concat!("libssl_session.so.", env!("CARGO_PKG_VERSION_MAJOR"));

/// Make `lib_dir()/SONAME` a link to the built library (as `make` and `ldconfig` do), so
/// that programs linked with -lssl_session and an rpath to `lib_dir()` find it.
pub fn soname_link() {
    our_so();
    match std::os::unix::fs::symlink("libssl_session.so", lib_dir().join(SONAME)) {
        Err(e) if e.kind() != std::io::ErrorKind::AlreadyExists => {
            panic!("link {SONAME}: {e}")
        }
        _ => {}
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Target {
    /// Linked with -lssl_session only: no libssl in the process.
    Ours,
    /// Linked with the system -lssl -lcrypto.
    Libssl,
}

fn build_dir() -> PathBuf {
    let d = lib_dir().join("ctests");
    std::fs::create_dir_all(&d).unwrap();
    d
}

/// The object file of tests-c/<stem>.c (or examples/<stem>.c), compiled by tests-c/build.rs.
pub fn c_object(stem: &str) -> &'static Path {
    ssl_session_ctests::object(stem)
}

/// Link the object of tests-c/<name>.c (or examples/<name>.c) into an executable.
pub fn program(name: &str, target: Target) -> PathBuf {
    static BUILT: OnceLock<Mutex<std::collections::HashMap<(String, Target), PathBuf>>> =
        OnceLock::new();
    let map = BUILT.get_or_init(Default::default);
    let mut map = map.lock().unwrap();
    if let Some(p) = map.get(&(name.to_string(), target)) {
        return p.clone();
    }
    let suffix = match target {
        Target::Ours => "ours",
        Target::Libssl => "libssl",
    };
    let exe = build_dir().join(format!("{name}-{suffix}"));
    let mut cc = Command::new("cc");
    cc.arg(c_object(name)).arg("-o").arg(&exe).arg("-pthread");
    match target {
        Target::Ours => {
            soname_link();
            let dir = lib_dir();
            // DT_RPATH, not RUNPATH: searched before LD_LIBRARY_PATH, which `cargo test`
            // sets to include target/<profile>, where a stale library from the last
            // `cargo build` may lie and would silently stand in for the one under test.
            cc.arg(format!("-L{}", dir.display()))
                .arg("-Wl,--disable-new-dtags")
                .arg(format!("-Wl,-rpath,{}", dir.display()))
                .arg("-lssl_session")
                // Programs that use ex_data call CRYPTO_get_ex_new_index (the macro).
                .arg("-lcrypto");
        }
        Target::Libssl => {
            cc.arg("-lssl").arg("-lcrypto");
        }
    }
    cc.arg("-ldl");
    let out = cc.output().expect("run cc");
    assert!(
        out.status.success(),
        "linking {name}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    map.insert((name.to_string(), target), exe.clone());
    exe
}

/// Run `exe` with `env` added. An `LD_PRELOAD` (or `LD_DEBUG`) inherited from the test
/// runner is never passed on: a preload reaches a program only when `env` asks for it, so
/// the reference side of a differential runs on libssl alone. Nor is cargo's
/// `LD_LIBRARY_PATH` (see `program`).
pub fn run(exe: &Path, args: &[&str], env: &[(&str, &str)]) -> Output {
    let mut c = Command::new(exe);
    c.args(args)
        .env_remove("LD_LIBRARY_PATH")
        .env_remove("LD_PRELOAD")
        .env_remove("LD_DEBUG")
        .env_remove("LD_DEBUG_OUTPUT");
    for (k, v) in env {
        c.env(k, v);
    }
    c.output()
        .unwrap_or_else(|e| panic!("run {}: {e}", exe.display()))
}

pub fn text(b: &[u8]) -> String {
    String::from_utf8_lossy(b).into_owned()
}

/// The shared object files `exe` needs (readelf -d), to prove what it links.
pub fn needed(path: &Path) -> Vec<String> {
    let out = Command::new("readelf")
        .arg("-d")
        .arg(path)
        .output()
        .expect("readelf");
    text(&out.stdout)
        .lines()
        .filter(|l| l.contains("(NEEDED)"))
        .filter_map(|l| {
            l.split('[')
                .nth(1)
                .map(|s| s.trim_end_matches(']').to_string())
        })
        .collect()
}

/// A preloaded run that must prove our library was bound: `LD_PRELOAD` names our library,
/// and the dynamic linker's binding log (`LD_DEBUG=bindings`, written to files in a
/// directory of its own so the program's stderr stays as it is) must show at least one
/// symbol bound to it. Without this a refused preload ("ERROR: ld.so: object ... cannot
/// be preloaded ... ignored") leaves the program running on libssl alone, and a
/// differential against libssl passes whatever our library does.
pub struct Preload {
    dir: PathBuf,
}

impl Preload {
    pub fn new() -> Preload {
        use std::sync::atomic::{AtomicUsize, Ordering};
        static N: AtomicUsize = AtomicUsize::new(0);
        let n = N.fetch_add(1, Ordering::Relaxed);
        let dir = lib_dir().join(format!("ldlog-{}-{n}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap();
        Preload { dir }
    }

    /// The variables that preload our library and log the bindings.
    pub fn vars(&self) -> [(&'static str, String); 3] {
        [
            ("LD_PRELOAD", our_so().to_str().unwrap().to_string()),
            ("LD_DEBUG", "bindings".to_string()),
            (
                "LD_DEBUG_OUTPUT",
                self.dir.join("ld").to_str().unwrap().to_string(),
            ),
        ]
    }

    /// Set the variables on `c`.
    pub fn apply<'c>(&self, c: &'c mut Command) -> &'c mut Command {
        for (k, v) in self.vars() {
            c.env(k, v);
        }
        c
    }

    /// Panic unless the run (whose stderr is `stderr`) had our library bound: no ld.so
    /// error, and a "binding file ... to .../libssl_session.so" line in the log.
    pub fn check(&self, what: &str, stderr: &str) {
        assert!(
            !stderr.contains("ERROR: ld.so"),
            "{what}: the dynamic linker refused the preload:\n{stderr}"
        );
        let mut log = String::new();
        for e in std::fs::read_dir(&self.dir).unwrap().flatten() {
            log.push_str(&text(&std::fs::read(e.path()).unwrap_or_default()));
        }
        let bound = log.lines().any(|l| {
            l.contains("binding file ")
                && l.split_once(" to ")
                    .is_some_and(|(_, to)| to.contains("libssl_session.so ["))
        });
        assert!(
            bound,
            "{what}: no symbol was bound to libssl_session.so (preload not in effect); \
             LD_DEBUG log has {} lines",
            log.lines().count()
        );
    }
}

impl Default for Preload {
    fn default() -> Self {
        Self::new()
    }
}

impl Drop for Preload {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

/// A self-signed certificate and key in `dir` for CN=`cn`, made by the system openssl
/// (never preloaded): `newkey` is `"ec"` (P-256) or an openssl `-newkey` argument such as
/// `"rsa:2048"`.
pub fn self_signed_cert(dir: &Path, cn: &str, newkey: &str) -> (PathBuf, PathBuf) {
    let (c, k) = (dir.join("cert.pem"), dir.join("key.pem"));
    let mut cmd = Command::new("openssl");
    cmd.args(["req", "-x509", "-newkey", newkey]);
    if newkey == "ec" {
        cmd.args(["-pkeyopt", "ec_paramgen_curve:P-256"]);
    }
    let out = cmd
        .args([
            "-nodes",
            "-subj",
            &format!("/CN={cn}"),
            "-days",
            "2",
            "-keyout",
        ])
        .arg(&k)
        .arg("-out")
        .arg(&c)
        .env_remove("LD_PRELOAD")
        .env_remove("LD_DEBUG")
        .env_remove("LD_DEBUG_OUTPUT")
        .output()
        .expect("run openssl req");
    assert!(out.status.success(), "openssl req: {}", text(&out.stderr));
    (c, k)
}

/// Whether an `LD_DEBUG=bindings` log shows `sym`, referenced from an object whose path
/// contains `from`, bound to our library.
pub fn binds_to_us(log: &str, from: &str, sym: &str) -> bool {
    let sym = format!("symbol `{sym}'");
    log.lines().any(|l| {
        l.contains("binding file")
            && l.contains(from)
            && l.contains("libssl_session.so")
            && l.contains(&sym)
    })
}

/// `run` with our library preloaded, checked to have been bound (`Preload::check`).
pub fn run_preloaded(exe: &Path, args: &[&str], env: &[(&str, &str)]) -> Output {
    let p = Preload::new();
    let vars = p.vars();
    let mut all: Vec<(&str, &str)> = env.to_vec();
    all.extend(vars.iter().map(|(k, v)| (*k, v.as_str())));
    let out = run(exe, args, &all);
    p.check(&exe.display().to_string(), &text(&out.stderr));
    out
}

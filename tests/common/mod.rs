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

/// Link the object of tests-c/<name>.c (compiled by build.rs) into an executable.
pub fn program(name: &str, obj: &str, target: Target) -> PathBuf {
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
    cc.arg(obj).arg("-o").arg(&exe).arg("-pthread");
    match target {
        Target::Ours => {
            soname_link();
            let dir = lib_dir();
            cc.arg(format!("-L{}", dir.display()))
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

pub fn run(exe: &Path, args: &[&str], env: &[(&str, &str)]) -> Output {
    let mut c = Command::new(exe);
    c.args(args);
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

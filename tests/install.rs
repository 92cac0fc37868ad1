//! The routes README gives for building a C program on the library, as a user runs them:
//! `make install` and `make uninstall` of the library this test run built into a temporary
//! prefix, a program built with the flags pkg-config gives (`--cflags --libs`, and
//! `--static --cflags --libs`), run; and a program linked against the plain `cargo build`
//! output. The install target only copies (it never runs cargo), so calling it from inside
//! `cargo test` neither waits for cargo's lock nor rebuilds.

mod common;
use common::*;
use std::path::{Path, PathBuf};
use std::process::Command;

const ROOT: &str = env!("CARGO_MANIFEST_DIR");
const VERSION: &str = env!("CARGO_PKG_VERSION");

const PROGRAM: &str = r#"
#define _GNU_SOURCE
#include <ssl.h>
#include <dlfcn.h>
#include <stdio.h>

int main(void)
{
    Dl_info info = {0};
    SSL_SESSION *s = SSL_SESSION_new();
    SSL_SESSION *d;
    if (!SSL_SESSION_set1_hostname(s, "example.com") || !(d = SSL_SESSION_dup(s)))
        return 1;
    printf("hostname %s\n", SSL_SESSION_get0_hostname(d));
    SSL_SESSION_free(d);
    SSL_SESSION_free(s);
    dladdr((void *)SSL_SESSION_new, &info);
    printf("SSL_SESSION_new from %s\n", info.dli_fname ? info.dli_fname : "?");
    return 0;
}
"#;

/// `make -C <checkout> <args>`, away from any make that runs this test (`make check`).
/// `LDCONFIG=true` unless `args` set it: no test touches the system's loader cache.
fn make(args: &[&str]) -> String {
    let mut cmd = Command::new("make");
    if !args.iter().any(|a| a.starts_with("LDCONFIG=")) {
        cmd.arg("LDCONFIG=true");
    }
    let out = cmd
        .arg("-C")
        .arg(ROOT)
        .args(args)
        .arg(format!("BUILD_DIR={}", lib_dir().display()))
        .env_remove("MAKEFLAGS")
        .env_remove("MFLAGS")
        .env_remove("MAKELEVEL")
        .output()
        .expect("run make");
    assert!(
        out.status.success(),
        "make {args:?}: {}\n{}",
        text(&out.stdout),
        text(&out.stderr)
    );
    text(&out.stdout)
}

fn pkg_config(pcdir: &Path, args: &[&str]) -> Vec<String> {
    let out = Command::new("pkg-config")
        .env("PKG_CONFIG_PATH", pcdir)
        .args(args)
        .arg("ssl-session")
        .output()
        .expect("pkg-config is required for this test (apt-get install pkg-config)");
    assert!(out.status.success(), "pkg-config {args:?}: {out:?}");
    text(&out.stdout)
        .split_whitespace()
        .map(String::from)
        .collect()
}

/// `cc -std=c11 -Wall -Werror src -o exe <flags>`: `cc app.c $(pkg-config ...)` as README
/// gives it, with warnings as errors.
fn cc(src: &Path, exe: &Path, flags: &[String]) {
    let out = Command::new("cc")
        .arg("-std=c11")
        .arg("-Wall")
        .arg("-Werror")
        .arg(src)
        .arg("-o")
        .arg(exe)
        .args(flags)
        .output()
        .expect("cc");
    assert!(out.status.success(), "cc {flags:?}: {}", text(&out.stderr));
}

/// Run `exe` as a user would: without the LD_LIBRARY_PATH cargo gives tests (it points at
/// the build directory and would win over the installed library's rpath).
fn run_installed(exe: &Path) -> std::process::Output {
    let out = Command::new(exe)
        .env_remove("LD_LIBRARY_PATH")
        .output()
        .unwrap();
    assert!(out.status.success(), "{out:?}");
    out
}

fn soname(path: &Path) -> Option<String> {
    let out = Command::new("readelf")
        .arg("-d")
        .arg(path)
        .output()
        .unwrap();
    text(&out.stdout)
        .lines()
        .find(|l| l.contains("(SONAME)"))
        .and_then(|l| l.split('[').nth(1))
        .map(|s| s.trim_end_matches(']').to_string())
}

/// Every file and symlink under `dir` (directories left out).
fn files_under(dir: &Path) -> Vec<PathBuf> {
    let mut found = Vec::new();
    let Ok(entries) = std::fs::read_dir(dir) else {
        return found;
    };
    for e in entries {
        let p = e.unwrap().path();
        if p.symlink_metadata().unwrap().is_dir() {
            found.extend(files_under(&p));
        } else {
            found.push(p);
        }
    }
    found.sort();
    found
}

/// A scratch directory, removed when dropped: also when the test fails.
struct Scratch(PathBuf);

impl std::ops::Deref for Scratch {
    type Target = Path;
    fn deref(&self) -> &Path {
        &self.0
    }
}

impl Drop for Scratch {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

fn fresh_dir(name: &str) -> Scratch {
    let dir = std::env::temp_dir().join(format!("ssl-session-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    Scratch(dir)
}

#[test]
fn install_then_build_with_pkg_config_then_uninstall() {
    let tmp = fresh_dir("install");
    let prefix = tmp.join("prefix");
    let p = prefix.to_str().unwrap();
    make(&["install", &format!("PREFIX={p}")]);

    // The layout, the links and the SONAME.
    let lib = prefix.join("lib");
    let real = format!("libssl_session.so.{VERSION}");
    let link = |name: &str| std::fs::read_link(lib.join(name)).unwrap();
    assert_eq!(link(SONAME), Path::new(&real));
    assert_eq!(link("libssl_session.so"), Path::new(SONAME));
    assert_eq!(soname(&lib.join(&real)).as_deref(), Some(SONAME));
    let header = std::fs::read(prefix.join("include/ssl-session/ssl.h")).unwrap();
    assert_eq!(
        header,
        std::fs::read(Path::new(ROOT).join("include/ssl.h")).unwrap()
    );
    let mut want: Vec<PathBuf> = [
        "bin/ssl-session-check",
        "include/ssl-session/ssl.h",
        "lib/libssl_session.a",
        "lib/libssl_session.so",
        SONAME,
        &real,
        "lib/ssl-session/libssl_session.a",
        "lib/pkgconfig/ssl-session.pc",
        "lib/pkgconfig/ssl-session-libdir.pc",
    ]
    .iter()
    .map(|f| {
        if f.contains('/') {
            prefix.join(f)
        } else {
            lib.join(f)
        }
    })
    .collect();
    want.sort();
    assert_eq!(files_under(&prefix), want);
    assert_eq!(
        std::fs::read_link(lib.join("ssl-session/libssl_session.a")).unwrap(),
        Path::new("../libssl_session.a")
    );

    // `cc app.c $(pkg-config --cflags --libs ssl-session)`, plus the rpath a private prefix
    // needs, builds a program that runs on the installed library.
    let pcdir = lib.join("pkgconfig");
    let flags = pkg_config(&pcdir, &["--cflags", "--libs"]);
    for f in [
        format!("-I{p}/include/ssl-session"),
        format!("-L{p}/lib"),
        "-lssl_session".to_string(),
    ] {
        assert!(flags.contains(&f), "{f} not in {flags:?}");
    }
    assert_eq!(pkg_config(&pcdir, &["--modversion"]), [VERSION]);
    let src = tmp.join("app.c");
    std::fs::write(&src, PROGRAM).unwrap();
    let exe = tmp.join("app");
    let mut shared = flags.clone();
    shared.push(format!("-Wl,-rpath,{}", lib.display()));
    cc(&src, &exe, &shared);
    assert!(needed(&exe).contains(&SONAME.to_string()));
    let out = run_installed(&exe);
    assert_eq!(
        text(&out.stdout),
        format!("hostname example.com\nSSL_SESSION_new from {p}/lib/{SONAME}\n")
    );

    // `cc app.c $(pkg-config --static --cflags --libs ssl-session)`, as given, links
    // libssl_session.a: no NEEDED of ours, and it still runs once the library is uninstalled.
    let st = pkg_config(&pcdir, &["--static", "--cflags", "--libs"]);
    assert!(st.contains(&"-lcrypto".to_string()), "{st:?}");
    let exe_static = tmp.join("app-static");
    cc(&src, &exe_static, &st);
    let needs = needed(&exe_static);
    assert!(
        !needs.iter().any(|n| n.starts_with("libssl_session")),
        "pkg-config --static {st:?} linked {needs:?}"
    );
    assert!(
        needs.iter().any(|n| n.starts_with("libcrypto.so")),
        "{needs:?}"
    );

    make(&["uninstall", &format!("PREFIX={p}")]);
    assert_eq!(files_under(&prefix), Vec::<PathBuf>::new());
    assert!(!prefix.join("include/ssl-session").exists());
    assert!(!lib.join("ssl-session").exists());
    let out = run_installed(&exe_static);
    assert_eq!(
        text(&out.stdout),
        format!(
            "hostname example.com\nSSL_SESSION_new from {}\n",
            exe_static.display()
        )
    );
}

#[test]
fn destdir_stages_under_the_final_prefix() {
    let tmp = fresh_dir("destdir");
    let stage = tmp.to_str().unwrap();
    make(&["install", &format!("DESTDIR={stage}"), "PREFIX=/usr"]);
    let pc = std::fs::read_to_string(tmp.join("usr/lib/pkgconfig/ssl-session.pc")).unwrap();
    assert!(pc.contains("\nprefix=/usr\n"), "{pc}");
    assert!(pc.contains("\nlibdir=/usr/lib\n"), "{pc}");
    assert!(pc.contains("\nincludedir=/usr/include\n"), "{pc}");
    assert!(!pc.contains(stage), "{pc}");
    assert_eq!(files_under(&tmp).len(), 9);
    let check = std::fs::read_to_string(tmp.join("usr/bin/ssl-session-check")).unwrap();
    assert!(check.contains("installed_libdir='/usr/lib'"), "{check}");
    assert!(!check.contains(stage));
    make(&["uninstall", &format!("DESTDIR={stage}"), "PREFIX=/usr"]);
    assert_eq!(files_under(&tmp), Vec::<PathBuf>::new());
}

/// A stand-in for ldconfig that notes each call, for `make install LDCONFIG=<it>`.
fn ldconfig_recorder(dir: &Path) -> (String, PathBuf) {
    use std::os::unix::fs::PermissionsExt;
    let log = dir.join("ldconfig.calls");
    let script = dir.join("ldconfig");
    std::fs::write(
        &script,
        format!("#!/bin/sh\necho called >> '{}'\n", log.display()),
    )
    .unwrap();
    std::fs::set_permissions(&script, std::fs::Permissions::from_mode(0o755)).unwrap();
    (format!("LDCONFIG={}", script.display()), log)
}

fn calls(log: &Path) -> usize {
    std::fs::read_to_string(log).map_or(0, |s| s.lines().count())
}

/// ldconfig rebuilds the cache of the loader's own directories: an install into a private
/// prefix, even as root, leaves it alone; one into a directory the cache covers (here a
/// temporary one given as LOADER_DIRS, standing for ld.so.conf's) runs it, as root.
#[test]
fn ldconfig_runs_only_for_the_loaders_directories() {
    let tmp = fresh_dir("ldconfig");
    let (ldconfig, log) = ldconfig_recorder(&tmp);
    let prefix = tmp.join("prefix");
    let p = format!("PREFIX={}", prefix.display());
    let out = make(&["install", &p, &ldconfig]);
    assert!(out.contains("ldconfig not run:"), "{out}");
    make(&["uninstall", &p, &ldconfig]);
    assert_eq!(calls(&log), 0, "ldconfig ran for a private prefix");

    let system = format!("LOADER_DIRS=/nonexistent {}/lib", prefix.display());
    // SAFETY: geteuid has no preconditions and cannot fail.
    let root = unsafe { libc::geteuid() } == 0;
    let out = make(&["install", &p, &ldconfig, &system]);
    make(&["uninstall", &p, &ldconfig, &system]);
    if root {
        assert_eq!(calls(&log), 2, "install and uninstall: {out}");
    } else {
        assert_eq!(calls(&log), 0, "{out}");
        assert!(out.contains("ldconfig not run: not root"), "{out}");
    }
    // Staging with DESTDIR never runs it.
    let stage = format!("DESTDIR={}", tmp.join("stage").display());
    make(&["install", &p, &ldconfig, &system, &stage]);
    make(&["uninstall", &p, &ldconfig, &system, &stage]);
    assert_eq!(calls(&log), if root { 2 } else { 0 });
}

/// README's plain cargo route: `cargo build --release`, then
/// `cc app.c -Iinclude -Ltarget/release -lssl_session -Wl,-rpath,$PWD/target/release`.
/// The program records the SONAME as NEEDED; build.rs leaves the link of that name beside
/// the library in cargo's output directory (`target/<profile>/`, the parent of this test's
/// `deps/`). That directory's libssl_session.so is only written by `cargo build` (not by
/// `cargo test`), so the program is linked in a copy of it: this run's library and the
/// link exactly as build.rs made it.
#[test]
fn plain_cargo_build_output_links_and_runs() {
    let out_dir = lib_dir().parent().unwrap().to_path_buf();
    let made = std::fs::read_link(out_dir.join(SONAME)).unwrap_or_else(|e| {
        panic!(
            "{}: {e} (build.rs makes this link)",
            out_dir.join(SONAME).display()
        )
    });
    assert_eq!(made, Path::new("libssl_session.so"));
    assert_eq!(soname(&our_so()).as_deref(), Some(SONAME));

    let tmp = fresh_dir("cargo-route");
    let release = tmp.join("release");
    std::fs::create_dir(&release).unwrap();
    std::fs::copy(our_so(), release.join("libssl_session.so")).unwrap();
    std::os::unix::fs::symlink(&made, release.join(SONAME)).unwrap();
    let src = tmp.join("app.c");
    std::fs::write(&src, PROGRAM).unwrap();
    let exe = tmp.join("app");
    let flags = [
        format!("-I{ROOT}/include"),
        format!("-L{}", release.display()),
        "-lssl_session".to_string(),
        format!("-Wl,-rpath,{}", release.display()),
    ];
    cc(&src, &exe, &flags);
    assert_eq!(needed(&exe).iter().filter(|n| *n == SONAME).count(), 1);
    let out = run_installed(&exe);
    assert_eq!(
        text(&out.stdout),
        format!(
            "hostname example.com\nSSL_SESSION_new from {}/{SONAME}\n",
            release.display()
        )
    );
}

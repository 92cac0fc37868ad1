//! `make install` and `make uninstall`, as a user runs them: install the library this test
//! run built into a temporary prefix, build a C program with the flags pkg-config gives
//! (shared, and static with --static), run it, then uninstall and find nothing left.
//! The install target only copies (it never runs cargo), so calling it from inside
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
fn make(args: &[&str]) -> String {
    let out = Command::new("make")
        .arg("-C")
        .arg(ROOT)
        .args(args)
        .arg(format!("BUILD_DIR={}", lib_dir().display()))
        .arg("LDCONFIG=true")
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

fn fresh_dir(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("ssl-session-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir
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
        "lib/pkgconfig/ssl-session.pc",
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

    // pkg-config's flags, exactly, build a program that runs on the installed library.
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

    // --static: libssl_session.a plus Libs.private and libcrypto (Requires.private).
    let mut st = pkg_config(&pcdir, &["--cflags", "--static", "--libs"]);
    let i = st.iter().position(|f| f == "-lssl_session").unwrap();
    st.splice(
        i..=i,
        ["-Wl,-Bstatic", "-lssl_session", "-Wl,-Bdynamic"].map(String::from),
    );
    assert!(st.contains(&"-lcrypto".to_string()), "{st:?}");
    let exe_static = tmp.join("app-static");
    cc(&src, &exe_static, &st);
    assert!(
        !needed(&exe_static)
            .iter()
            .any(|n| n.starts_with("libssl_session")),
        "{:?}",
        needed(&exe_static)
    );
    let out = run_installed(&exe_static);
    assert!(
        text(&out.stdout).starts_with("hostname example.com\n"),
        "{out:?}"
    );

    make(&["uninstall", &format!("PREFIX={p}")]);
    assert_eq!(files_under(&prefix), Vec::<PathBuf>::new());
    assert!(!prefix.join("include/ssl-session").exists());
    std::fs::remove_dir_all(&tmp).unwrap();
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
    assert_eq!(files_under(&tmp).len(), 7);
    let check = std::fs::read_to_string(tmp.join("usr/bin/ssl-session-check")).unwrap();
    assert!(check.contains("installed_libdir='/usr/lib'"), "{check}");
    assert!(!check.contains(stage));
    make(&["uninstall", &format!("DESTDIR={stage}"), "PREFIX=/usr"]);
    assert_eq!(files_under(&tmp), Vec::<PathBuf>::new());
    std::fs::remove_dir_all(&tmp).unwrap();
}

// Links libcrypto (ex_data, the error queue, X509, BIO) and compiles the C test programs
// in tests-c/, and the examples the tests run (examples/inspect.c, examples/psk_session.c),
// to object files. A build script runs before the library exists, so the test
// harness (tests/c_programs.rs) links those objects against the built libssl_session.so,
// and against the system libssl for the differential runs, exactly as a C user would.
use std::path::Path;

fn main() {
    println!("cargo:rustc-link-lib=dylib=crypto");
    // The shared library's SONAME carries the major version: `make install` puts it under
    // libssl_session.so.<version>, with the links libssl_session.so.<major> (this name,
    // what programs record as NEEDED) and libssl_session.so (for -lssl_session).
    let soname = format!("libssl_session.so.{}", env!("CARGO_PKG_VERSION_MAJOR"));
    println!("cargo:rustc-cdylib-link-arg=-Wl,-soname,{soname}");
    soname_link(&soname);
    println!("cargo:rerun-if-changed=tests-c");
    // Examples that the tests run too (tests/inspect.rs, tests/openssl_sessions.rs).
    println!("cargo:rerun-if-changed=examples/inspect.c");
    println!("cargo:rerun-if-changed=examples/psk_session.c");
    println!("cargo:rerun-if-changed=include/ssl.h");

    let mut names: Vec<_> = std::fs::read_dir("tests-c")
        .expect("tests-c/")
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.extension().is_some_and(|x| x == "c"))
        .collect();
    names.push("examples/inspect.c".into());
    names.push("examples/psk_session.c".into());
    names.sort();
    for src in names {
        let stem = src.file_stem().unwrap().to_string_lossy().into_owned();
        let objs = cc::Build::new()
            .file(&src)
            .include("include")
            .flag("-std=c11")
            .flag("-pthread")
            .warnings(true)
            .extra_warnings(true)
            .warnings_into_errors(true)
            .opt_level(1)
            .debug(true)
            .cargo_metadata(false)
            .compile_intermediates();
        let obj = objs.first().expect("one object per C file");
        println!(
            "cargo:rustc-env=CTEST_OBJ_{stem}={}",
            Path::new(obj).display()
        );
    }
}

/// The link `<SONAME> -> libssl_session.so` in the directory cargo puts the library in
/// (`target/<profile>/`), so that a program linked there with `-lssl_session` and an rpath
/// to it finds the NEEDED name after a plain `cargo build`, as ldconfig's link does once
/// installed. A fixed SONAME in every build keeps `make`, `cargo build` and `cargo test`
/// on one fingerprint (no relinking between them) and `make install` a plain copy. The
/// link is made before the library exists (dangling until rustc writes it). OUT_DIR is
/// `<dir>/build/<pkg>-<hash>/out`: the library goes to `<dir>`.
fn soname_link(soname: &str) {
    let out = std::env::var_os("OUT_DIR").expect("OUT_DIR");
    let mut up = Path::new(&out).ancestors();
    let (Some(build), Some(dir)) = (up.nth(2), up.next()) else {
        return;
    };
    if build.file_name() != Some("build".as_ref()) {
        return;
    }
    let link = dir.join(soname);
    if std::fs::read_link(&link).is_ok_and(|t| t == Path::new("libssl_session.so")) {
        return;
    }
    let _ = std::fs::remove_file(&link);
    std::os::unix::fs::symlink("libssl_session.so", &link)
        .unwrap_or_else(|e| panic!("link {}: {e}", link.display()));
}

// Links libcrypto (ex_data, the error queue, X509, BIO) and sets the SONAME. Nothing here
// compiles C: the C test programs are compiled by the tests' own helper package (tests-c/,
// a dev-dependency), so a plain or downstream `cargo build` never does.
use std::path::Path;

fn main() {
    // Without this line cargo would rerun the script (and rebuild the library) on a change
    // to any file of the package, the tests included.
    println!("cargo:rerun-if-changed=build.rs");
    println!("cargo:rustc-link-lib=dylib=crypto");
    // The shared library's SONAME carries the major version: `make install` puts it under
    // libssl_session.so.<version>, with the links libssl_session.so.<major> (this name,
    // what programs record as NEEDED) and libssl_session.so (for -lssl_session).
    let soname = format!("libssl_session.so.{}", env!("CARGO_PKG_VERSION_MAJOR"));
    println!("cargo:rustc-cdylib-link-arg=-Wl,-soname,{soname}");
    soname_link(&soname);
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

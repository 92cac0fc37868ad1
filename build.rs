// Links libcrypto (ex_data, the error queue, X509, BIO) and compiles the C test programs
// in tests-c/ to object files; the test harness links them against the built library.
fn main() {
    println!("cargo:rustc-link-lib=dylib=crypto");
    println!("cargo:rerun-if-changed=tests-c");
}

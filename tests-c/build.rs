// Compiles the C test programs of this directory, and the examples the tests run
// (examples/inspect.c, examples/psk_session.c), to object files with -Werror, and writes
// the table of their paths that lib.rs serves. A build script runs before the library
// exists, so the tests (tests/c_programs.rs and others) link these objects against the
// built libssl_session.so, and against the system libssl for the differential runs,
// exactly as a C user would.
use std::fmt::Write as _;
use std::path::{Path, PathBuf};

fn main() {
    // A new or removed C file changes the directory.
    println!("cargo:rerun-if-changed=.");
    println!("cargo:rerun-if-changed=../examples/inspect.c");
    println!("cargo:rerun-if-changed=../examples/psk_session.c");
    println!("cargo:rerun-if-changed=../include/ssl.h");

    let mut sources: Vec<PathBuf> = std::fs::read_dir(".")
        .expect("tests-c/")
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.extension().is_some_and(|x| x == "c"))
        .collect();
    sources.push("../examples/inspect.c".into());
    sources.push("../examples/psk_session.c".into());
    sources.sort_by(|a, b| a.file_stem().cmp(&b.file_stem()));

    let mut table = String::from("&[\n");
    for src in sources {
        let stem = src.file_stem().unwrap().to_str().expect("UTF-8 file name");
        let objs = cc::Build::new()
            .file(&src)
            .include("../include")
            .flag("-std=c11")
            .flag("-pthread")
            .warnings(true)
            .extra_warnings(true)
            .warnings_into_errors(true)
            .opt_level(1)
            .debug(true)
            .cargo_metadata(false)
            .compile_intermediates();
        let [obj] = &objs[..] else {
            panic!("{}: {} objects, not one", src.display(), objs.len());
        };
        let obj = obj.to_str().expect("UTF-8 OUT_DIR");
        writeln!(table, "    ({stem:?}, {obj:?}),").unwrap();
    }
    table.push(']');
    let out = PathBuf::from(std::env::var_os("OUT_DIR").expect("OUT_DIR"));
    std::fs::write(Path::new(&out).join("objects.rs"), table).expect("write objects.rs");
}

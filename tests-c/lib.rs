//! The object files build.rs compiled from the C programs of tests-c/ (and from
//! examples/inspect.c and examples/psk_session.c), for the root package's tests to link.

use std::path::Path;

/// (file stem, object file) for every C program build.rs compiled, sorted by stem.
const OBJECTS: &[(&str, &str)] = include!(concat!(env!("OUT_DIR"), "/objects.rs"));

/// The object file compiled from `tests-c/<stem>.c` (or `examples/<stem>.c`).
///
/// # Panics
///
/// When no C program of that name was compiled.
pub fn object(stem: &str) -> &'static Path {
    match OBJECTS.iter().find(|(s, _)| *s == stem) {
        Some((_, obj)) => Path::new(obj),
        None => panic!(
            "no C test program {stem:?}: tests-c/ compiled {:?}",
            OBJECTS.iter().map(|(s, _)| *s).collect::<Vec<_>>()
        ),
    }
}

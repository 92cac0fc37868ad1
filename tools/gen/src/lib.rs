//! The files committed in the repository that are made from its sources, each made by one
//! function here: `make header` and `make docs` write them (src/main.rs), and
//! tests/header.rs and tests/exports.rs compare the committed files with the same output.

use std::path::Path;

/// The repository: this package is `tools/gen/` in it.
pub fn root() -> &'static Path {
    let gen = Path::new(env!("CARGO_MANIFEST_DIR"));
    gen.parent()
        .and_then(Path::parent)
        .expect("tools/gen is two levels below the repository")
}

/// A generated file: where it is committed, the make target that rewrites it, and its
/// generator.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Generated {
    /// include/ssl.h, by cbindgen.
    Header,
    /// docs/api-coverage.md, from exports.txt.
    Docs,
}

impl Generated {
    /// The file, relative to the repository.
    pub fn path(self) -> &'static str {
        match self {
            Generated::Header => "include/ssl.h",
            Generated::Docs => "docs/api-coverage.md",
        }
    }

    /// The make target (and ssl-session-gen command) that rewrites the file.
    pub fn target(self) -> &'static str {
        match self {
            Generated::Header => "header",
            Generated::Docs => "docs",
        }
    }

    /// What the file must hold.
    pub fn generate(self) -> String {
        match self {
            Generated::Header => header(),
            Generated::Docs => api_coverage(),
        }
    }

    /// `None` when the committed file is current, else the message that says how to
    /// regenerate it.
    pub fn stale(self) -> Option<String> {
        let committed = std::fs::read(root().join(self.path())).unwrap_or_default();
        (committed != self.generate().into_bytes()).then(|| {
            format!(
                "{} is stale: run make {} (then commit {})",
                self.path(),
                self.target(),
                self.path()
            )
        })
    }

    /// Write the file if its content changed, and say whether it did. Only then: a new
    /// mtime alone on include/ssl.h makes the C test programs recompile.
    pub fn write(self) -> std::io::Result<bool> {
        let path = root().join(self.path());
        let want = self.generate();
        if std::fs::read(&path).is_ok_and(|have| have == want.as_bytes()) {
            return Ok(false);
        }
        std::fs::write(&path, want)?;
        Ok(true)
    }
}

/// include/ssl.h: cbindgen over the crate, with the settings of cbindgen.toml.
pub fn header() -> String {
    let root = root();
    let config = cbindgen::Config::from_file(root.join("cbindgen.toml")).expect("cbindgen.toml");
    let mut generated = Vec::new();
    cbindgen::Builder::new()
        .with_crate(root)
        .with_config(config)
        .generate()
        .expect("cbindgen could not parse the crate")
        .write(&mut generated);
    String::from_utf8(generated).expect("cbindgen wrote UTF-8")
}

/// The names exports.txt lists (the library's exact dynamic exports), in its order.
pub fn exports() -> Vec<String> {
    let text = std::fs::read_to_string(root().join("exports.txt")).expect("exports.txt");
    text.lines()
        .map(str::trim)
        .filter(|l| !l.is_empty() && !l.starts_with('#'))
        .map(String::from)
        .collect()
}

/// OpenSSL 3.0's SSL_SESSION API: the 44 functions libssl exports for the session object.
pub const OPENSSL_SESSION_API: &[&str] = &[
    "PEM_read_SSL_SESSION",
    "PEM_read_bio_SSL_SESSION",
    "PEM_write_SSL_SESSION",
    "PEM_write_bio_SSL_SESSION",
    "SSL_SESSION_dup",
    "SSL_SESSION_free",
    "SSL_SESSION_get0_alpn_selected",
    "SSL_SESSION_get0_cipher",
    "SSL_SESSION_get0_hostname",
    "SSL_SESSION_get0_id_context",
    "SSL_SESSION_get0_peer",
    "SSL_SESSION_get0_ticket",
    "SSL_SESSION_get0_ticket_appdata",
    "SSL_SESSION_get_compress_id",
    "SSL_SESSION_get_ex_data",
    "SSL_SESSION_get_id",
    "SSL_SESSION_get_master_key",
    "SSL_SESSION_get_max_early_data",
    "SSL_SESSION_get_max_fragment_length",
    "SSL_SESSION_get_protocol_version",
    "SSL_SESSION_get_ticket_lifetime_hint",
    "SSL_SESSION_get_time",
    "SSL_SESSION_get_timeout",
    "SSL_SESSION_has_ticket",
    "SSL_SESSION_is_resumable",
    "SSL_SESSION_new",
    "SSL_SESSION_print",
    "SSL_SESSION_print_fp",
    "SSL_SESSION_print_keylog",
    "SSL_SESSION_set1_alpn_selected",
    "SSL_SESSION_set1_hostname",
    "SSL_SESSION_set1_id",
    "SSL_SESSION_set1_id_context",
    "SSL_SESSION_set1_master_key",
    "SSL_SESSION_set1_ticket_appdata",
    "SSL_SESSION_set_cipher",
    "SSL_SESSION_set_ex_data",
    "SSL_SESSION_set_max_early_data",
    "SSL_SESSION_set_protocol_version",
    "SSL_SESSION_set_time",
    "SSL_SESSION_set_timeout",
    "SSL_SESSION_up_ref",
    "d2i_SSL_SESSION",
    "i2d_SSL_SESSION",
];

/// The libssl and libcrypto functions the sanitizer of libssl's sessions interposes
/// (src/capi/interpose/sanitize.rs).
const SANITIZER: &[&str] = &[
    "CRYPTO_free_ex_data",
    "CRYPTO_new_ex_data",
    "SSL_CTX_flush_sessions",
    "SSL_CTX_free",
    "SSL_CTX_sess_get_new_cb",
    "SSL_CTX_sess_set_new_cb",
    "SSL_free",
    "SSL_get1_session",
    "SSL_get_session",
    "SSL_set_SSL_CTX",
];

/// docs/api-coverage.md: which of OpenSSL's session functions exports.txt lists, and why
/// each other export is there.
pub fn api_coverage() -> String {
    let list = exports();
    let mut t = String::from(
        "# API coverage\n\nGenerated from `exports.txt` by `make docs` (tools/gen); \
         `tests/exports.rs` fails when this file is stale.\n\n\
         OpenSSL 3.0's session object API (44 functions):\n\n| function | status |\n|---|---|\n",
    );
    for f in OPENSSL_SESSION_API {
        let status = if list.iter().any(|e| e == f) {
            "implemented"
        } else {
            "not yet"
        };
        t.push_str(&format!("| `{f}` | {status} |\n"));
    }
    t.push_str("\nAlso exported:\n\n| function | why |\n|---|---|\n");
    for e in list
        .iter()
        .filter(|e| !OPENSSL_SESSION_API.contains(&e.as_str()))
    {
        let why = if SANITIZER.contains(&e.as_str()) {
            "interposed for the sanitizer of libssl's sessions (not in ssl.h): forwarded, \
             noting what the call means for a session's references (docs/preload.md)"
        } else if e.starts_with("SSL_CIPHER_") {
            "cipher accessors over our own cipher table; libssl's ciphers are forwarded"
        } else if e.starts_with("SSL_") {
            "libssl function interposed under LD_PRELOAD (not in ssl.h): forwarded to libssl, \
             handing it a libssl copy of a session of ours (docs/preload.md)"
        } else if e == "dlclose" {
            "libc's dlclose, interposed (not in ssl.h): forwarded unchanged, then ssl-session \
             forgets the libssl addresses it cached, which an unload may have taken (docs/preload.md)"
        } else {
            "libcrypto ex_data function: forwarded, and used to run session ex_data without libcrypto's global lock"
        };
        t.push_str(&format!("| `{e}` | {why} |\n"));
    }
    let done = OPENSSL_SESSION_API
        .iter()
        .filter(|f| list.iter().any(|e| e == *f))
        .count();
    t.push_str(&format!(
        "\n{done} of {} implemented.\n",
        OPENSSL_SESSION_API.len()
    ));
    t
}

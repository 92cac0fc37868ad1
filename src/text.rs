//! Text output of sessions (SSL_SESSION_print, print_keylog), byte-identical to OpenSSL 3.0. Safe Rust only.

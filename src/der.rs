//! DER codec for sessions (i2d/d2i), byte-identical to OpenSSL 3.0. Safe Rust only.

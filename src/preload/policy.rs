//! The sanitizer's settings, read once from the environment.
//!
//! - `SSL_SESSION_SANITIZE=0`: off (plain forwarding, as before the sanitizer).
//! - `SSL_SESSION_MISUSE=warn`: report, then leave everything as it was (`misuse.rs`).
//! - `SSL_SESSION_LEAKS=1`: list at exit the sessions the application kept references on.
//! - `SSL_SESSION_QUARANTINE=N` (sessions) and `SSL_SESSION_QUARANTINE_BYTES=N`: how many
//!   freed libssl sessions, and about how many bytes of them, wait before libssl really
//!   frees them.

use std::sync::OnceLock;

/// Default quarantine bounds: 1024 sessions, 4 MiB.
pub const DEFAULT_COUNT: usize = 1024;
pub const DEFAULT_BYTES: usize = 4 << 20;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Settings {
    pub enabled: bool,
    pub leaks: bool,
    pub max_count: usize,
    pub max_bytes: usize,
}

impl Settings {
    /// From the environment's values (`get("SSL_SESSION_SANITIZE")`, ...).
    pub fn from(get: impl Fn(&str) -> Option<String>) -> Settings {
        let num = |k: &str, d: usize| {
            get(k)
                .and_then(|v| v.trim().parse::<usize>().ok())
                .unwrap_or(d)
        };
        Settings {
            enabled: get("SSL_SESSION_SANITIZE").is_none_or(|v| v.trim() != "0"),
            leaks: get("SSL_SESSION_LEAKS").is_some_and(|v| v.trim() == "1"),
            max_count: num("SSL_SESSION_QUARANTINE", DEFAULT_COUNT),
            max_bytes: num("SSL_SESSION_QUARANTINE_BYTES", DEFAULT_BYTES),
        }
    }
}

pub fn get() -> &'static Settings {
    static S: OnceLock<Settings> = OnceLock::new();
    S.get_or_init(|| Settings::from(|k| std::env::var(k).ok()))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn with(pairs: &[(&str, &str)]) -> Settings {
        let pairs: Vec<(String, String)> = pairs
            .iter()
            .map(|(a, b)| (a.to_string(), b.to_string()))
            .collect();
        Settings::from(|k| pairs.iter().find(|(a, _)| a == k).map(|(_, b)| b.clone()))
    }

    #[test]
    fn on_by_default_and_off_only_with_zero() {
        let d = with(&[]);
        assert!(d.enabled && !d.leaks);
        assert_eq!((d.max_count, d.max_bytes), (DEFAULT_COUNT, DEFAULT_BYTES));
        assert!(!with(&[("SSL_SESSION_SANITIZE", "0")]).enabled);
        assert!(with(&[("SSL_SESSION_SANITIZE", "1")]).enabled);
        assert!(with(&[("SSL_SESSION_LEAKS", "1")]).leaks);
        let q = with(&[
            ("SSL_SESSION_QUARANTINE", "3"),
            ("SSL_SESSION_QUARANTINE_BYTES", "junk"),
        ]);
        assert_eq!((q.max_count, q.max_bytes), (3, DEFAULT_BYTES));
    }
}

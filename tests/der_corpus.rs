//! Differential test of the DER codec against the system's OpenSSL 3.0 (`libssl.so.3`,
//! loaded with dlopen so that nothing of ours can stand in for it).
//!
//! For every input: the verdict, the bytes consumed (`*pp` advance), on failure the first and
//! last queued error codes, and on success the re-encoding (libssl's i2d of its session
//! against our encode of our decode). Our decoder gets a "now" (`NOW`) that is no input's
//! time and not the clock, so a decoder that ignored the DER time shows: where ours used
//! "now", libssl's time must be its clock at the d2i call (the input had no time, or 0),
//! and only then is libssl's time put in ours before the encodings are compared.
//!
//! Inputs: the 668 files of `tests/corpus/` (relative to the crate), then deterministic
//! mutations of real sessions (`DER_FUZZ_ITERS`, default 10000).
//!
//! Every input is also decoded by the template decoder alone (`der::decode_cross_checked`),
//! which must give exactly what `der::decode_into` gives (same `Decoded`, or the same error); and
//! when the canonical-DER fast path takes an input, the template values it read must equal the
//! template decoder's. The reports count the inputs the fast path took.
//!
//! A session whose cipher libssl knows and our table lacks is a mismatch. The mutations
//! keep each seed's own cipher, so they cover the spread of ciphers in the corpus.

use ssl_session::der::{self, DecodeError, Silent};
use std::ffi::c_long;
use std::path::{Path, PathBuf};

#[path = "common/libssl_oracle.rs"]
mod oracle;
use oracle::{hex, Libssl, Oracle};

/// The "now" our decoder gets: 2001-09-09, the time of no input (checked) and never the
/// clock, so that where it shows up we know our decoder found no time in the input.
const NOW: i64 = 1_000_000_000;

#[derive(Default, Debug)]
struct Tally {
    total: usize,
    accepted: usize,
    rejected: usize,
    matched: usize,
    /// Distinct ciphers among the sessions libssl accepted.
    ciphers: std::collections::BTreeSet<u32>,
    /// Inputs the canonical-DER fast path decoded.
    fast: usize,
    mismatches: Vec<String>,
}

impl Tally {
    fn check(&mut self, lib: &Libssl, name: &str, input: &[u8]) {
        self.total += 1;
        let oracle = lib.run(input);
        let ours = match der::decode_cross_checked(input) {
            Ok(c) => {
                self.fast += usize::from(c.fast_path);
                c.result
            }
            Err(why) => {
                self.push_mismatch(name, input, why);
                return;
            }
        };
        let bad = match (&oracle, ours) {
            (
                Oracle::Accepted {
                    consumed,
                    time,
                    clock,
                    der,
                },
                Ok(d),
            ) => {
                self.accepted += 1;
                self.ciphers.insert(d.cipher_id());
                let used = d.consumed;
                let mut s = der::SessionData::new(NOW);
                der::install(&d, &mut s, NOW);
                let libssl_used_now = clock.0 <= *time && *time <= clock.1;
                let time_bad = if *time == NOW {
                    Some(format!(
                        "an input carries NOW ({NOW}) as its time: pick another"
                    ))
                } else if s.time == NOW && !libssl_used_now {
                    Some(format!(
                        "we found no time (used now), libssl read time {time}"
                    ))
                } else if s.time != NOW && libssl_used_now {
                    Some(format!("we read time {}, libssl found none", s.time))
                } else {
                    None
                };
                if s.time == NOW {
                    s.time = *time;
                }
                let mut out = Vec::new();
                der::encode(&s, &mut out);
                if let Some(why) = time_bad {
                    Some(why)
                } else if used != *consumed {
                    Some(format!("consumed {used}, libssl {consumed}"))
                } else if &out != der {
                    Some(format!(
                        "re-encoding differs:\n  ours   {}\n  libssl {}",
                        hex(&out),
                        hex(der)
                    ))
                } else {
                    None
                }
            }
            (o, Err(DecodeError::Silent(Silent::UnknownCipher(code))))
                if lib.knows_cipher(code.to_be_bytes()) =>
            {
                match o {
                    Oracle::Accepted { .. } => self.accepted += 1,
                    Oracle::Rejected { .. } => self.rejected += 1,
                }
                Some(format!(
                    "cipher {code:04X} is in libssl's table and not in ours"
                ))
            }
            (Oracle::Accepted { .. }, Err(e)) => {
                self.accepted += 1;
                Some(format!("libssl accepts, we reject with {e:?}"))
            }
            (Oracle::Rejected { first, last }, Err(e)) => {
                self.rejected += 1;
                if e.first_error() != *first || e.last_error() != *last {
                    Some(format!(
                        "errors differ: ours {:08X}/{:08X} ({e:?}), libssl {first:08X}/{last:08X}",
                        e.first_error(),
                        e.last_error()
                    ))
                } else {
                    None
                }
            }
            (Oracle::Rejected { first, last }, Ok(_)) => {
                self.rejected += 1;
                Some(format!(
                    "libssl rejects ({first:08X}/{last:08X}), we accept"
                ))
            }
        };
        match bad {
            None => self.matched += 1,
            Some(why) => self.push_mismatch(name, input, why),
        }
    }

    fn push_mismatch(&mut self, name: &str, input: &[u8], why: String) {
        if self.mismatches.len() < 20 {
            self.mismatches
                .push(format!("{name}: {why}\n  input {}", hex(input)));
        } else {
            self.mismatches.push(String::new());
        }
    }

    fn report(&self, what: &str) {
        println!(
            "{what}: {} inputs, libssl accepts {} / rejects {}; identical {}; ciphers {}; fast path {}; mismatches {}",
            self.total,
            self.accepted,
            self.rejected,
            self.matched,
            self.ciphers.len(),
            self.fast,
            self.mismatches.len()
        );
        for m in self.mismatches.iter().filter(|m| !m.is_empty()) {
            println!("MISMATCH {m}");
        }
        assert!(
            self.mismatches.is_empty(),
            "{what}: {} mismatches",
            self.mismatches.len()
        );
    }
}

fn corpus_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/corpus")
}

fn corpus_files() -> Vec<PathBuf> {
    let mut files = Vec::new();
    for sub in ["openssl-fuzz-asn1", "boringssl-session"] {
        let dir = corpus_dir().join(sub);
        for e in std::fs::read_dir(&dir).unwrap_or_else(|e| panic!("{}: {e}", dir.display())) {
            files.push(e.unwrap().path());
        }
    }
    files.sort();
    files
}

#[test]
fn corpus_matches_libssl() {
    let lib = Libssl::load();
    let files = corpus_files();
    assert_eq!(files.len(), 668, "expected the 668 corpus files");
    let mut t = Tally::default();
    for f in &files {
        let input = std::fs::read(f).unwrap();
        let name = f.strip_prefix(corpus_dir()).unwrap().display().to_string();
        t.check(&lib, &name, &input);
    }
    t.report("corpus");
}

// ---------------------------------------------------------------------------------------------
// Mutation fuzzing against libssl

struct Rng(u64);
impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }
    fn below(&mut self, n: usize) -> usize {
        (self.next() % n.max(1) as u64) as usize
    }
}

fn seeds(lib: &Libssl) -> Vec<Vec<u8>> {
    let mut v: Vec<Vec<u8>> = SEEDS_HEX.iter().map(|h| unhex(h)).collect();
    // Corpus files libssl accepts are good seeds too.
    for f in corpus_files() {
        let input = std::fs::read(&f).unwrap();
        if matches!(lib.run(&input), Oracle::Accepted { .. }) {
            v.push(input);
        }
    }
    v
}

/// Offset of the 2 cipher bytes when the seed starts in the usual DER shape.
fn find_cipher(s: &[u8]) -> Option<usize> {
    let mut p = match s.get(1)? {
        0x80 => 2,
        l if l & 0x80 != 0 => 2 + (l & 0x7F) as usize,
        _ => 2,
    };
    for _ in 0..2 {
        if *s.get(p)? != 0x02 {
            return None;
        }
        p += 2 + *s.get(p + 1)? as usize;
    }
    (s.get(p..p + 2)? == [0x04, 0x02]).then_some(p + 2)
}

fn unhex(h: &str) -> Vec<u8> {
    let h: Vec<u8> = h.bytes().filter(|b| b.is_ascii_hexdigit()).collect();
    h.chunks(2)
        .map(|c| u8::from_str_radix(std::str::from_utf8(c).unwrap(), 16).unwrap())
        .collect()
}

fn mutate(r: &mut Rng, seed: &[u8]) -> Vec<u8> {
    let mut v = seed.to_vec();
    let rounds = 1 + r.below(3);
    for _ in 0..rounds {
        if v.is_empty() {
            v.push(0x30);
        }
        let i = r.below(v.len());
        match r.below(10) {
            0 => v[i] = r.next() as u8,
            1 => v[i] ^= 1 << r.below(8),
            2 => {
                let n = 1 + r.below(8.min(v.len() - i));
                v.drain(i..i + n);
            }
            3 => {
                let n = 1 + r.below(4);
                for _ in 0..n {
                    v.insert(i, r.next() as u8);
                }
            }
            4 => v.truncate(i),
            5 => v[i] = [0x00, 0x80, 0xFF, 0x81, 0x82, 0x1F, 0x7F, 0x01, 0x24, 0x30][r.below(10)],
            6 => v[i] = v[i].wrapping_add(if r.below(2) == 0 { 1 } else { 0xFF }),
            7 => {
                // duplicate a slice
                let n = 1 + r.below(16.min(v.len() - i));
                let s: Vec<u8> = v[i..i + n].to_vec();
                let j = r.below(v.len() + 1);
                v.splice(j..j, s);
            }
            8 => v.extend_from_slice(&[0, 0]),
            _ => {
                // make a length indefinite or long-form
                if v[i] < 0x80 && i > 0 {
                    if r.below(2) == 0 {
                        v[i] = 0x80;
                        v.extend_from_slice(&[0, 0]);
                    } else {
                        let l = v[i];
                        v.splice(i..i + 1, [0x81, l]);
                    }
                }
            }
        }
    }
    v
}

#[test]
fn mutations_match_libssl() {
    let lib = Libssl::load();
    let seeds = seeds(&lib);
    let iters: usize = std::env::var("DER_FUZZ_ITERS")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(10000);
    let mut r = Rng(0x9E37_79B9_7F4A_7C15
        ^ std::env::var("DER_FUZZ_SEED")
            .ok()
            .and_then(|s| s.parse().ok())
            .unwrap_or(1));
    let mut t = Tally::default();
    for (k, s) in seeds.iter().enumerate() {
        t.check(&lib, &format!("seed {k}"), s);
    }
    for n in 0..iters {
        let seed = &seeds[r.below(seeds.len())];
        let input = mutate(&mut r, seed);
        t.check(&lib, &format!("mutant {n}"), &input);
    }
    t.report("mutations");
    // The seeds' own ciphers, not one rewritten into all of them.
    assert!(t.ciphers.len() >= 10, "ciphers covered: {:?}", t.ciphers);
}

/// S1, S2, S3 (real sessions), G1, G2 (golden vectors) and G3 (every tag [1]..[19] but [3]).
const SEEDS_HEX: &[&str] = &[SEED_S1, SEED_S2, SEED_S3, SEED_G1, SEED_G2, SEED_G3];

include!("data/der_vectors.rs");

/// Extra inputs, one hex string per line, from the file named by `DER_EXTRA` (for ad-hoc
/// generators, e.g. `tools/gen-der-sessions.py`, mostly canonical DER for the fast path).
/// Ignored (reported as such) by default; run it with
/// `DER_EXTRA=file cargo test --release --test der_corpus -- --ignored extra`.
#[test]
#[ignore = "needs DER_EXTRA=<file of hex lines>; run with --ignored"]
fn extra_inputs_match_libssl() {
    let path = std::env::var_os("DER_EXTRA")
        .expect("DER_EXTRA is unset: name a file of hex inputs, one per line");
    let lib = Libssl::load();
    let mut t = Tally::default();
    for (n, line) in std::fs::read_to_string(path).unwrap().lines().enumerate() {
        t.check(&lib, &format!("line {}", n + 1), &unhex(line));
    }
    t.report("extra");
}

/// Rough timing against libssl (run with `--release -- --ignored --nocapture`). Not a timed
/// test: it only prints ns/op.
#[test]
#[ignore]
fn bench_against_libssl() {
    use std::hint::black_box;
    use std::time::Instant;
    let lib = Libssl::load();
    let mut s1 = unhex(SEED_S1);
    let i = find_cipher(&s1).unwrap();
    s1[i..i + 2].copy_from_slice(&[0x13, 0x01]); // a cipher every table has
    let time = |name: &str, n: u32, f: &mut dyn FnMut()| -> f64 {
        f();
        let t = Instant::now();
        for _ in 0..n {
            f();
        }
        let ns = t.elapsed().as_nanos() as f64 / f64::from(n);
        println!("{name:40} {ns:10.1} ns/op");
        ns
    };
    // d2i + free, with the peer certificate.
    let ssl_d2i = time(
        "libssl d2i+free (S1, 1117 B, cert)",
        2_000,
        &mut || unsafe {
            let mut p = s1.as_ptr();
            let s = (lib.d2i)(std::ptr::null_mut(), &mut p, s1.len() as c_long);
            assert!(!s.is_null());
            (lib.free)(s);
        },
    );
    let our_d2i = time("ours decode+apply+drop (S1)", 200_000, &mut || {
        let mut d = der::Decoded::default();
        der::decode_into(black_box(&s1), &mut d).unwrap();
        let mut s = der::SessionData::new(0);
        der::install(&d, &mut s, 0);
        black_box(&s);
    });
    // i2d of the same session.
    let mut p = s1.as_ptr();
    let ls = unsafe { (lib.d2i)(std::ptr::null_mut(), &mut p, s1.len() as c_long) };
    let mut buf = vec![0u8; s1.len()];
    let ssl_i2d = time("libssl i2d (S1)", 100_000, &mut || unsafe {
        let mut q = buf.as_mut_ptr();
        assert_eq!((lib.i2d)(ls, &mut q) as usize, s1.len());
    });
    unsafe { (lib.free)(ls) };
    let mut d = der::Decoded::default();
    der::decode_into(&s1, &mut d).unwrap();
    let mut s = der::SessionData::new(0);
    der::install(&d, &mut s, 0);
    let our_i2d = time("ours encoded_len + write (S1)", 1_000_000, &mut || {
        let e = der::Encoder::new(black_box(&s)).unwrap();
        e.write(&mut buf[..e.len()]);
        black_box(&buf);
    });
    println!(
        "d2i+free speed-up {:.0}x, i2d speed-up {:.1}x",
        ssl_d2i / our_d2i,
        ssl_i2d / our_i2d
    );
}

//! Text output of sessions (`SSL_SESSION_print`, `SSL_SESSION_print_keylog`) and the
//! ticket hex dump (libcrypto's `BIO_dump_indent`), byte-identical to OpenSSL 3.0.
//! Safe Rust only.
//!
//! OpenSSL writes these texts piece by piece to a BIO and gives up at the first write
//! that reports `<= 0`, leaving the earlier pieces written. To reproduce that exactly for
//! any BIO (including ones with callbacks that count or fail calls), the printers here
//! make the same sequence of calls that 3.0's `ssl/ssl_txt.c` makes, through [`Sink`]:
//! one [`Sink::puts`] per `BIO_puts`, one [`Sink::write`] per `BIO_printf` (which formats
//! into a buffer, then makes exactly one `BIO_write`) and one [`Sink::write`] per dump row.

#![forbid(unsafe_code)]

use crate::model::session::{SessionData, TLS1_3_VERSION};

/// Where text goes: the two BIO calls the printers make.
///
/// Each method returns what the matching libcrypto call returns: `> 0` on success,
/// `0` or `< 0` on failure (the sign matters only inside [`dump_indent`], which, like
/// `BIO_dump_indent`, stops at a negative result but carries on after a 0).
pub trait Sink {
    /// `BIO_puts(bp, s)`. `s` is always a non-empty fixed label.
    fn puts(&mut self, s: &[u8]) -> i32;
    /// `BIO_write(bp, data, len)`. `data` may be empty (a `BIO_printf("%s", "")`), and
    /// then `BIO_write` returns 0 without calling the BIO.
    fn write(&mut self, data: &[u8]) -> i32;
}

/// Behaves as a growable memory BIO (`BIO_s_mem()`): every non-empty write succeeds and
/// returns its length; an empty write returns 0, as `BIO_write` does for `len <= 0`.
impl Sink for Vec<u8> {
    fn puts(&mut self, s: &[u8]) -> i32 {
        Sink::write(self, s)
    }

    fn write(&mut self, data: &[u8]) -> i32 {
        if data.is_empty() {
            return 0;
        }
        self.extend_from_slice(data);
        i32::try_from(data.len()).unwrap_or(i32::MAX)
    }
}

/// `ssl_protocol_to_string`: the name printed on the `Protocol  :` line.
pub fn protocol_name(version: i32) -> &'static str {
    match version {
        0x0304 => "TLSv1.3",
        0x0303 => "TLSv1.2",
        0x0302 => "TLSv1.1",
        0x0301 => "TLSv1",
        0x0300 => "SSLv3",
        0x0100 => "DTLSv0.9",
        0xFEFF => "DTLSv1",
        0xFEFD => "DTLSv1.2",
        _ => "unknown",
    }
}

/// `Some(())` when a BIO call succeeded (`> 0`), so that `?` stops at the first failure.
fn ok(r: i32) -> Option<()> {
    (r > 0).then_some(())
}

/// One `BIO_printf`: the formatted text goes out in a single write.
fn printf<S: Sink + ?Sized>(out: &mut S, text: &[u8]) -> Option<()> {
    ok(out.write(text))
}

/// `for (i = 0; i < len; i++) BIO_printf(bp, "%02X", p[i]);`: one 2-byte write per byte.
fn hex_bytes<S: Sink + ?Sized>(out: &mut S, data: &[u8]) -> Option<()> {
    const HEX: &[u8; 16] = b"0123456789ABCDEF";
    for &b in data {
        printf(out, &[HEX[usize::from(b >> 4)], HEX[usize::from(b & 15)]])?;
    }
    Some(())
}

/// `BIO_printf(bp, "%s", str ? str : "None")`. An empty string makes an empty write,
/// which fails: OpenSSL's print then returns 0 (a d2i'd session can have one).
fn string_or_none<S: Sink + ?Sized>(out: &mut S, s: Option<&[u8]>) -> Option<()> {
    printf(out, s.unwrap_or(b"None"))
}

fn concat(parts: &[&[u8]]) -> Vec<u8> {
    parts.concat()
}

/// `SSL_SESSION_print(bp, s)` for a non-NULL session: true for OpenSSL's 1, false for 0.
///
/// - `verify_string` is `X509_verify_cert_error_string(s.verify_result)` (libcrypto's
///   table, supplied by the caller).
/// - `compression_name` is the name of the `SSL_COMP` registered under id
///   `s.compress_meth` (`SSL_COMP_add_compression_method`), if any; it is used only when
///   `compress_meth != 0` and a cipher is set. This build of OpenSSL registers none by
///   default (no zlib), so normally `None`.
///
/// Odd 0 returns reproduced from 3.0: a ticket buffer of length 0 (nothing follows the
/// `TLS session ticket:` label); `compress_meth != 0` with no cipher (nothing follows
/// the SRP, hint or ticket piece); an empty PSK identity, PSK hint or SRP username (the
/// `%s` write is empty); and any failed write, leaving what came before it written.
pub fn print<S: Sink + ?Sized>(
    s: &SessionData,
    verify_string: &[u8],
    compression_name: Option<&[u8]>,
    out: &mut S,
) -> bool {
    print_pieces(s, verify_string, compression_name, out).is_some()
}

fn print_pieces<S: Sink + ?Sized>(
    s: &SessionData,
    verify_string: &[u8],
    compression_name: Option<&[u8]>,
    out: &mut S,
) -> Option<()> {
    let is_tls13 = s.ssl_version == TLS1_3_VERSION;
    ok(out.puts(b"SSL-Session:\n"))?;
    printf(
        out,
        format!("    Protocol  : {}\n", protocol_name(s.ssl_version)).as_bytes(),
    )?;

    // `cipher->name` is never NULL in our table, so 3.0's "unknown" fallback cannot occur.
    let cipher_line = match s.cipher {
        Some(c) => concat(&[b"    Cipher    : ", c.name.to_bytes(), b"\n"]),
        None if s.cipher_id & 0xFF00_0000 == 0x0200_0000 => {
            format!("    Cipher    : {:06X}\n", s.cipher_id & 0xFF_FFFF).into_bytes()
        }
        None => format!("    Cipher    : {:04X}\n", s.cipher_id & 0xFFFF).into_bytes(),
    };
    printf(out, &cipher_line)?;

    // An empty ID leaves the label's trailing space at the end of the line.
    ok(out.puts(b"    Session-ID: "))?;
    hex_bytes(out, s.session_id.as_slice())?;
    ok(out.puts(b"\n    Session-ID-ctx: "))?;
    hex_bytes(out, s.sid_ctx.as_slice())?;
    if is_tls13 {
        ok(out.puts(b"\n    Resumption PSK: "))?;
    } else {
        ok(out.puts(b"\n    Master-Key: "))?;
    }
    hex_bytes(out, s.master_key())?;

    // PSK and SRP are compiled into the reference build, so these lines always appear.
    ok(out.puts(b"\n    PSK identity: "))?;
    string_or_none(out, s.psk_identity.as_ref().map(|t| t.as_bytes()))?;
    ok(out.puts(b"\n    PSK identity hint: "))?;
    string_or_none(out, s.psk_identity_hint.as_ref().map(|t| t.as_bytes()))?;
    ok(out.puts(b"\n    SRP username: "))?;
    string_or_none(out, s.srp_username.as_ref().map(|t| t.as_bytes()))?;

    if s.tick_lifetime_hint != 0 {
        // `%ld` of an unsigned long: 2^64-1 prints as -1.
        let hint = s.tick_lifetime_hint as i64;
        printf(
            out,
            format!("\n    TLS session ticket lifetime hint: {hint} (seconds)").as_bytes(),
        )?;
    }
    if let Some(ticket) = &s.ticket {
        ok(out.puts(b"\n    TLS session ticket:\n"))?;
        // A zero-length ticket dumps no row, so the dump returns 0 and print fails here.
        ok(dump_indent(out, ticket.as_slice(), 4))?;
    }
    if s.compress_meth != 0 {
        // 3.0 looks the method up with ssl_cipher_get_evp(), which fails without a cipher.
        s.cipher?;
        // `%d` of an unsigned int.
        let id = s.compress_meth as i32;
        let line = match compression_name {
            None => format!("\n    Compression: {id}").into_bytes(),
            Some(name) => concat(&[format!("\n    Compression: {id} (").as_bytes(), name, b")"]),
        };
        printf(out, &line)?;
    }
    if s.time != 0 {
        printf(out, format!("\n    Start Time: {}", s.time).as_bytes())?;
    }
    if s.timeout != 0 {
        printf(
            out,
            format!("\n    Timeout   : {} (sec)", s.timeout).as_bytes(),
        )?;
    }
    ok(out.puts(b"\n"))?;

    ok(out.puts(b"    Verify return code: "))?;
    let verify = concat(&[
        format!("{} (", s.verify_result).as_bytes(),
        verify_string,
        b")\n",
    ]);
    printf(out, &verify)?;

    let ems = if s.flags & 1 != 0 { "yes" } else { "no" };
    printf(
        out,
        format!("    Extended master secret: {ems}\n").as_bytes(),
    )?;

    if is_tls13 {
        printf(
            out,
            format!("    Max Early Data: {}\n", s.max_early_data).as_bytes(),
        )?;
    }
    Some(())
}

/// `SSL_SESSION_print_keylog(bp, s)` for a non-NULL session (NSS key log format):
/// `RSA Session-ID:<hex> Master-Key:<hex>\n`, whatever the cipher or version (for TLS 1.3
/// the "master key" is the resumption PSK). False, with nothing written, when the session
/// ID or the master key is empty; false on the first failed write.
pub fn keylog<S: Sink + ?Sized>(s: &SessionData, out: &mut S) -> bool {
    keylog_pieces(s, out).is_some()
}

fn keylog_pieces<S: Sink + ?Sized>(s: &SessionData, out: &mut S) -> Option<()> {
    let id = s.session_id.as_slice();
    let mk = s.master_key();
    if id.is_empty() || mk.is_empty() {
        return None;
    }
    ok(out.puts(b"RSA "))?;
    ok(out.puts(b"Session-ID:"))?;
    hex_bytes(out, id)?;
    ok(out.puts(b" Master-Key:"))?;
    hex_bytes(out, mk)?;
    ok(out.puts(b"\n"))
}

/// libcrypto's `BIO_dump_indent(bp, data, (int)data.len(), indent)`, call for call.
///
/// One write per row of `16 - (indent - min(indent, 6) + 3) / 4` bytes (16 for indents up
/// to 7; `indent` is clamped to 0..=64). A row is `indent` spaces, the offset as `%04x`,
/// ` - `, then per column `xx` + (`-` after the 8th column, else ` `) or 3 spaces past
/// the end, two spaces, the row's bytes as ASCII (`.` outside 0x20..=0x7E), `\n`.
///
/// Returns the sum of the writes' results, or the first negative result (rows after a
/// write that returned 0 are still written). No rows (length 0, or a length that is
/// negative as a C `int`) returns 0.
pub fn dump_indent<S: Sink + ?Sized>(out: &mut S, data: &[u8], indent: i32) -> i32 {
    const HEX: &[u8; 16] = b"0123456789abcdef";
    let indent = indent.clamp(0, 64);
    let width = 16 - (indent - indent.min(6) + 3) / 4;
    // The length goes through a C `int`, as in OpenSSL (`(int)ticklen`).
    let len = data.len() as i32;
    if len <= 0 {
        return 0;
    }
    let data = &data[..len as usize];
    let width = width as usize;
    let mut ret: i32 = 0;
    let mut row = Vec::with_capacity(indent as usize + 12 + 4 * width);
    for (i, chunk) in data.chunks(width).enumerate() {
        row.clear();
        row.resize(indent as usize, b' ');
        // The buffer in OpenSSL is 289 bytes and every row fits: nothing is cut.
        row.extend_from_slice(format!("{:04x} - ", i * width).as_bytes());
        for j in 0..width {
            match chunk.get(j) {
                Some(&b) => {
                    row.push(HEX[usize::from(b >> 4)]);
                    row.push(HEX[usize::from(b & 15)]);
                    row.push(if j == 7 { b'-' } else { b' ' });
                }
                None => row.extend_from_slice(b"   "),
            }
        }
        row.extend_from_slice(b"  ");
        row.extend(
            chunk
                .iter()
                .map(|&b| if (b' '..=b'~').contains(&b) { b } else { b'.' }),
        );
        row.push(b'\n');
        let res = out.write(&row);
        if res < 0 {
            return res;
        }
        ret = ret.wrapping_add(res);
    }
    ret
}

#[cfg(test)]
mod tests;

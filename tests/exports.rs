//! The library exports exactly the symbols listed in exports.txt, and docs/api-coverage.md
//! (generated from it by tools/gen) is current: `make docs` rewrites the table.

mod common;
use std::path::Path;
use std::process::Command;

/// exports.txt, as the generator of docs/api-coverage.md reads it.
fn listed() -> Vec<String> {
    ssl_session_gen::exports()
}

#[test]
fn the_library_exports_exactly_the_list() {
    let list = listed();
    let mut sorted = list.clone();
    sorted.sort();
    sorted.dedup();
    assert_eq!(
        list, sorted,
        "exports.txt must be sorted, without duplicates"
    );
    let out = Command::new("nm")
        .args(["-D", "--defined-only"])
        .arg(common::our_so())
        .output()
        .expect("nm");
    let mut exported: Vec<String> = String::from_utf8_lossy(&out.stdout)
        .lines()
        .filter_map(|l| l.split_whitespace().nth(2).map(String::from))
        .collect();
    exported.sort();
    assert_eq!(
        exported, list,
        "the built library's exports differ from exports.txt"
    );
}

// ---- docs/api-coverage.md: made by tools/gen (make docs) ---------------------------------

#[test]
fn coverage_table_is_current() {
    if let Some(stale) = ssl_session_gen::Generated::Docs.stale() {
        panic!("{stale}");
    }
}

// ---- every export and every callback handed to C runs under the panic guard ---------------

/// What catches a panic at the C boundary: an export's `entry!` (src/capi/export.rs), or
/// the guard itself (src/misuse.rs) around a callback handed to C.
const GUARDS: &[&str] = &["entry!(", "guard("];

/// C-callable functions that are not under the guard, with the reason. None today; a
/// new entry needs a reason that a panic there cannot happen or cannot matter.
const UNGUARDED: &[(&str, &str)] = &[];

/// Strip string literals and `//` comments, so that braces inside them do not count.
fn code_only(line: &str) -> String {
    let mut out = String::new();
    let mut chars = line.chars().peekable();
    let mut in_str = false;
    while let Some(c) = chars.next() {
        if in_str {
            match c {
                '\\' => {
                    chars.next();
                }
                '"' => in_str = false,
                _ => {}
            }
            continue;
        }
        match c {
            '"' => in_str = true,
            '\'' if chars.peek() == Some(&'{') || chars.peek() == Some(&'}') => {
                chars.next();
            }
            '/' if chars.peek() == Some(&'/') => break,
            _ => out.push(c),
        }
    }
    out
}

/// Every `extern "C" fn` defined in src/: (file, name, exported, body).
fn c_functions() -> Vec<(String, String, bool, String)> {
    let mut files = Vec::new();
    let mut dirs = vec![Path::new(env!("CARGO_MANIFEST_DIR")).join("src")];
    while let Some(d) = dirs.pop() {
        for e in std::fs::read_dir(&d).unwrap().flatten() {
            let p = e.path();
            if p.is_dir() {
                dirs.push(p);
            } else if p.extension().is_some_and(|x| x == "rs") {
                files.push(p);
            }
        }
    }
    files.sort();
    let mut found = Vec::new();
    for f in files {
        let src = std::fs::read_to_string(&f).unwrap();
        let lines: Vec<&str> = src.lines().collect();
        // The signature is read from the raw line (`code_only` drops the "C").
        let sig = |l: &str| -> Option<String> {
            let t = l.trim_start();
            if t.starts_with("//") || t.starts_with("type ") || t.contains("= unsafe extern") {
                return None;
            }
            let at = l.find("extern \"C\" fn ")? + "extern \"C\" fn ".len();
            let rest = &l[at..];
            let end = rest.find(|c: char| !(c.is_alphanumeric() || c == '_'))?;
            Some(rest[..end].to_string())
        };
        let mut i = 0;
        while i < lines.len() {
            let Some(name) = sig(lines[i]) else {
                i += 1;
                continue;
            };
            let exported = lines[..i]
                .iter()
                .rev()
                .take_while(|l| {
                    l.trim_start().starts_with("#[") || l.trim_start().starts_with("///")
                })
                .any(|l| l.contains("#[no_mangle]"));
            // The body: from the first `{` after the signature to its matching `}`; a
            // declaration (`;` first) has none.
            let mut depth = 0i32;
            let mut body = String::new();
            let mut started = false;
            let mut j = i;
            'scan: while j < lines.len() {
                let code = code_only(lines[j]);
                for c in code.chars() {
                    if !started && c == ';' && depth == 0 {
                        break 'scan;
                    }
                    if c == '{' {
                        depth += 1;
                        started = true;
                    } else if c == '}' {
                        depth -= 1;
                    }
                }
                if started {
                    body.push_str(lines[j]);
                    body.push('\n');
                    if depth == 0 {
                        break;
                    }
                }
                j += 1;
            }
            if started {
                let file = f.file_name().unwrap().to_string_lossy().into_owned();
                found.push((file, name, exported, body));
            }
            i = j + 1;
        }
    }
    found
}

#[test]
fn every_export_and_callback_runs_under_the_panic_guard() {
    let fns = c_functions();
    let guarded = |body: &str| GUARDS.iter().any(|g| body.contains(g));
    let body_of = |name: &str| -> Option<String> {
        fns.iter()
            .find(|(_, n, _, _)| n == name)
            .map(|(_, _, _, b)| b.clone())
    };
    let mut exported: Vec<String> = Vec::new();
    let mut missing = Vec::new();
    for (file, name, is_export, body) in &fns {
        if *is_export {
            exported.push(name.clone());
        }
        if UNGUARDED.iter().any(|(n, _)| n == name) {
            continue;
        }
        // A naked entry (the caller's address as an extra argument) or another target's
        // variant delegates to one function: that one must be guarded.
        let ok = guarded(body)
            || body
                .split("with_caller!(")
                .nth(1)
                .or_else(|| {
                    let t = body.lines().nth(body.lines().count().saturating_sub(2))?;
                    Some(t.trim())
                })
                .and_then(|t| {
                    let callee: String = t
                        .chars()
                        .take_while(|c| c.is_alphanumeric() || *c == '_')
                        .collect();
                    (callee != *name).then(|| body_of(&callee)).flatten()
                })
                .is_some_and(|b| guarded(&b));
        if !ok {
            missing.push(format!("{file}: {name}"));
        }
    }
    assert!(
        missing.is_empty(),
        "C-callable functions outside the panic guard (src/misuse.rs):\n{}",
        missing.join("\n")
    );
    // The scan saw every export of exports.txt (so it cannot pass by missing them).
    exported.sort();
    exported.dedup();
    assert_eq!(
        exported,
        listed(),
        "the source scan's exports differ from exports.txt"
    );
    assert!(
        fns.len() > exported.len(),
        "no callbacks found: the scan is broken"
    );
}

/// Every export's body is one `entry!` naming the export itself (so the report, the
/// forwarding and the inferred C type are this export's), or a naked `with_caller!` whose
/// implementation's `entry!` names it; every export lives in src/capi/.
#[test]
fn every_export_is_one_entry_naming_itself_in_capi() {
    let fns = c_functions();
    let body_of = |name: &str| -> Option<String> {
        fns.iter()
            .find(|(_, n, _, _)| n == name)
            .map(|(_, _, _, b)| b.clone())
    };
    // `entry!(<form> NAME` (the form is one word, then the export's name).
    let names_itself = |body: &str, name: &str| {
        body.split("entry!(").skip(1).any(|rest| {
            let mut words = rest
                .split(|c: char| !(c.is_alphanumeric() || c == '_'))
                .filter(|w| !w.is_empty());
            let _form = words.next();
            words.next() == Some(name)
        })
    };
    let mut wrong = Vec::new();
    let mut seen = 0;
    for (file, name, is_export, body) in &fns {
        if !*is_export {
            continue;
        }
        seen += 1;
        let ok = if let Some(rest) = body.split("with_caller!(").nth(1) {
            let imp: String = rest
                .chars()
                .take_while(|c| c.is_alphanumeric() || *c == '_')
                .collect();
            body_of(&imp).is_some_and(|b| names_itself(&b, name))
        } else {
            names_itself(body, name)
        };
        if !ok {
            wrong.push(format!("{file}: {name}"));
        }
    }
    assert!(
        wrong.is_empty(),
        "exports whose body is not one entry! naming the export:\n{}",
        wrong.join("\n")
    );
    assert_eq!(seen, listed().len(), "the scan missed exports");
    // No export outside src/capi/.
    let out = Command::new("grep")
        .args(["-rln", "--include=*.rs", "no_mangle", "src"])
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .output()
        .expect("grep");
    let stray: Vec<_> = String::from_utf8_lossy(&out.stdout)
        .lines()
        .filter(|f| !f.starts_with("src/capi/"))
        .map(String::from)
        .collect();
    assert!(
        stray.is_empty(),
        "#[no_mangle] outside src/capi/: {stray:?}"
    );
}

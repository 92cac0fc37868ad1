//! ssl-session-gen header|docs [--check]: write include/ssl.h or docs/api-coverage.md from
//! the sources (`make header`, `make docs`), or, with --check, fail when the committed file
//! is stale and write nothing (`make`).

use ssl_session_gen::Generated;
use std::process::ExitCode;

const USAGE: &str = "usage: ssl-session-gen header|docs [--check]";

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let (what, check) = match args.iter().map(String::as_str).collect::<Vec<_>>()[..] {
        [w] => (w, false),
        [w, "--check"] => (w, true),
        _ => {
            eprintln!("{USAGE}");
            return ExitCode::from(2);
        }
    };
    let file = match what {
        "header" => Generated::Header,
        "docs" => Generated::Docs,
        _ => {
            eprintln!("ssl-session-gen: unknown file {what:?}\n{USAGE}");
            return ExitCode::from(2);
        }
    };
    if check {
        return match file.stale() {
            None => {
                println!("{}: current", file.path());
                ExitCode::SUCCESS
            }
            Some(msg) => {
                eprintln!("{msg}");
                ExitCode::FAILURE
            }
        };
    }
    match file.write() {
        Ok(true) => println!("{}: written", file.path()),
        Ok(false) => println!("{}: unchanged", file.path()),
        Err(e) => {
            eprintln!("ssl-session-gen: write {}: {e}", file.path());
            return ExitCode::FAILURE;
        }
    }
    ExitCode::SUCCESS
}

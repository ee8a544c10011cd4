//! `cargo temper ...`: cargo runs `cargo-temper temper ...`; this drops
//! cargo's extra `temper` argument and runs the `temper` binary installed
//! beside it, as `cargo fmt` runs rustfmt.

use std::ffi::OsString;
use std::path::PathBuf;
use std::process::{Command, ExitCode};

fn main() -> ExitCode {
    let mut args: Vec<OsString> = std::env::args_os().skip(1).collect();
    // Run as `cargo temper`, argv[1] is the subcommand name cargo was given;
    // run directly as `cargo-temper check`, there is none to drop.
    if args.first().is_some_and(|arg| arg == "temper") {
        args.remove(0);
    }
    let program = temper_binary();
    let mut command = Command::new(&program);
    command.args(&args);
    run(command, &program)
}

/// `temper` next to this executable (where `cargo install` puts both), else
/// the one on `PATH`.
fn temper_binary() -> PathBuf {
    let name = format!("temper{}", std::env::consts::EXE_SUFFIX);
    std::env::current_exe()
        .ok()
        .and_then(|exe| exe.parent().map(|dir| dir.join(&name)))
        .filter(|path| path.is_file())
        .unwrap_or_else(|| PathBuf::from(name))
}

#[cfg(unix)]
fn run(mut command: Command, program: &std::path::Path) -> ExitCode {
    use std::os::unix::process::CommandExt;
    // `exec` only returns on failure; on success the exit status, signals and
    // stdio are temper's own.
    let error = command.exec();
    failed(program, &error)
}

#[cfg(not(unix))]
fn run(mut command: Command, program: &std::path::Path) -> ExitCode {
    match command.status() {
        Ok(status) => match status.code() {
            Some(code) => ExitCode::from(u8::try_from(code).unwrap_or(2)),
            None => ExitCode::from(2),
        },
        Err(error) => failed(program, &error),
    }
}

fn failed(program: &std::path::Path, error: &std::io::Error) -> ExitCode {
    eprintln!(
        "error: cannot run `{}`: {error}; install temper with `cargo install --locked cargo-temper`, which provides both `temper` and `cargo-temper`",
        program.display()
    );
    ExitCode::from(2)
}

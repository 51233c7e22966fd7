//! `cargo xtask`: the project's two commands (`run`, `test`) plus `bench`.
//!
//! xtask depends on nothing but the standard library on purpose: it is the first thing built on a
//! fresh machine, before the system packages that the real crates need (webkit2gtk, ALSA, ...)
//! are installed, so it must compile without them.

mod bench;
mod package;
mod setup;
mod shell;

use std::process::ExitCode;

use shell::{Failure, Progress};

const USAGE: &str = "\
usage: cargo xtask <command> [options]

commands:
  run [--xvfb] [--port N]   install what is missing, build, start the server with the demo
                            organisation, print the demo page URL, open the desktop app signed in.
                            --xvfb starts the app under a virtual display (machines with no screen)
                            and saves a screenshot to target/screenshots/.
  test                      the same set-up, then every check: fmt, clippy, cargo tests, UI and
                            widget typecheck and tests, end-to-end suites (desktop app under Xvfb,
                            widget in Chromium). This is what CI runs.
  package                   release build of the desktop app and its Linux .deb (Tauri bundler,
                            several minutes); prints the package's path. Not part of `test`.
  bench [ring|ring-audio|core|memory|routing|all]
                            print the benchmark figures (not part of `test`).
";

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let Some(command) = args.first() else {
        eprint!("{USAGE}");
        return ExitCode::from(2);
    };
    let rest = &args[1..];
    let result = match command.as_str() {
        "run" => run(rest),
        "test" => test(),
        "bench" => bench::bench(rest),
        "package" => package::package(),
        "help" | "--help" | "-h" => {
            print!("{USAGE}");
            Ok(())
        }
        other => Err(Failure::new(format!(
            "unknown command `{other}`\n\n{USAGE}"
        ))),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(failure) => {
            eprintln!("\nxtask: {failure}");
            ExitCode::FAILURE
        }
    }
}

fn run(args: &[String]) -> Result<(), Failure> {
    let mut xvfb = false;
    let mut port: u16 = 8080;
    let mut iter = args.iter();
    while let Some(arg) = iter.next() {
        match arg.as_str() {
            "--xvfb" => xvfb = true,
            "--port" => {
                port = iter
                    .next()
                    .and_then(|value| value.parse().ok())
                    .ok_or_else(|| Failure::new("--port needs a number"))?;
            }
            other => return Err(Failure::new(format!("unknown option `{other}` for run"))),
        }
    }
    let mut progress = Progress::new(6);
    setup::prepare(&mut progress, setup::Purpose::Run)?;
    setup::build_apps(&mut progress)?;
    setup::run_demo(&mut progress, port, xvfb)
}

fn test() -> Result<(), Failure> {
    let mut progress = Progress::new(11);
    shell::prefer_lean_builds();
    setup::prepare(&mut progress, setup::Purpose::Test)?;
    setup::check_everything(&mut progress)?;
    progress.finish();
    Ok(())
}

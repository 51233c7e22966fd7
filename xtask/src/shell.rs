//! Running commands with visible progress, and the error type of every step.

use std::fmt;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::Instant;

/// Why a step failed, in a sentence for the person at the terminal.
#[derive(Debug)]
pub struct Failure(String);

impl Failure {
    pub fn new(message: impl Into<String>) -> Self {
        Self(message.into())
    }
}

impl fmt::Display for Failure {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl From<std::io::Error> for Failure {
    fn from(error: std::io::Error) -> Self {
        Self(error.to_string())
    }
}

/// Numbered progress lines (`==> [3/9] Building the console`) with the time each step took.
pub struct Progress {
    total: usize,
    current: usize,
    started: Instant,
    step_started: Instant,
}

impl Progress {
    pub fn new(total: usize) -> Self {
        let now = Instant::now();
        Self {
            total,
            current: 0,
            started: now,
            step_started: now,
        }
    }

    pub fn step(&mut self, title: &str) {
        self.close_step();
        self.current += 1;
        self.total = self.total.max(self.current);
        self.step_started = Instant::now();
        println!("\n==> [{}/{}] {title}", self.current, self.total);
    }

    fn close_step(&self) {
        if self.current > 0 {
            println!(
                "    done in {:.1} s",
                self.step_started.elapsed().as_secs_f64()
            );
        }
    }

    pub fn finish(&self) {
        self.close_step();
        println!(
            "\n==> all {} steps passed in {:.1} min",
            self.current,
            self.started.elapsed().as_secs_f64() / 60.0
        );
    }
}

/// The workspace root (the parent of this crate's folder).
pub fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .expect("xtask lives inside the workspace")
        .to_path_buf()
}

/// The cargo target directory (honours CARGO_TARGET_DIR).
pub fn target_dir() -> PathBuf {
    std::env::var_os("CARGO_TARGET_DIR")
        .map(PathBuf::from)
        .map(|dir| {
            if dir.is_absolute() {
                dir
            } else {
                root().join(dir)
            }
        })
        .unwrap_or_else(|| root().join("target"))
}

pub fn cargo() -> Command {
    Command::new(std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into()))
}

/// Runs a command to completion with inherited output, failing with its command line.
pub fn run(command: &mut Command) -> Result<(), Failure> {
    println!("    $ {}", describe(command));
    let status = command.status().map_err(|error| {
        Failure::new(format!("could not start `{}`: {error}", describe(command)))
    })?;
    if status.success() {
        Ok(())
    } else {
        Err(Failure::new(format!(
            "`{}` failed ({status})",
            describe(command)
        )))
    }
}

/// Runs a command and returns its standard output.
pub fn output(command: &mut Command) -> Result<String, Failure> {
    let out = command.stderr(Stdio::inherit()).output().map_err(|error| {
        Failure::new(format!("could not start `{}`: {error}", describe(command)))
    })?;
    if !out.status.success() {
        return Err(Failure::new(format!(
            "`{}` failed ({})",
            describe(command),
            out.status
        )));
    }
    Ok(String::from_utf8_lossy(&out.stdout).into_owned())
}

/// Whether a program is on PATH.
pub fn which(program: &str) -> Option<PathBuf> {
    let path = std::env::var_os("PATH")?;
    std::env::split_paths(&path)
        .map(|dir| dir.join(program))
        .find(|candidate| candidate.is_file())
}

pub fn describe(command: &Command) -> String {
    let mut text = command.get_program().to_string_lossy().into_owned();
    for arg in command.get_args() {
        text.push(' ');
        text.push_str(&arg.to_string_lossy());
    }
    text
}

/// A child process that is killed when dropped, so a failing step never leaves servers behind.
pub struct Guard {
    pub child: Child,
}

impl Guard {
    pub fn spawn(name: &'static str, command: &mut Command) -> Result<Self, Failure> {
        let child = command
            .spawn()
            .map_err(|error| Failure::new(format!("could not start {name}: {error}")))?;
        Ok(Self { child })
    }

    pub fn pid(&self) -> u32 {
        self.child.id()
    }
}

impl Drop for Guard {
    fn drop(&mut self) {
        if let Ok(None) = self.child.try_wait() {
            let _ = self.child.kill();
            let _ = self.child.wait();
        }
    }
}

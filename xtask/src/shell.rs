//! Running commands with visible progress, and the error type of every step.

use std::fmt;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicBool, Ordering};
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

/// Whether cargo runs without incremental compilation (set once by [`prefer_lean_builds`]).
static LEAN_BUILDS: AtomicBool = AtomicBool::new(false);

pub fn cargo() -> Command {
    let mut command = Command::new(std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into()));
    if LEAN_BUILDS.load(Ordering::Relaxed) && std::env::var_os("CARGO_INCREMENTAL").is_none() {
        command.env("CARGO_INCREMENTAL", "0");
    }
    command
}

/// A clean build of every target needs about this much room in the target directory (measured:
/// 7.9 GiB with incremental compilation, less without).
const CLEAN_BUILD_BYTES: u64 = 8 << 30;

/// Turns incremental compilation off on CI and when the disk is short, and warns when even a lean
/// build may not fit. A full disk does not fail politely: the linker dies with SIGBUS when the
/// file it maps runs out of room, which is how a CI run of this project once ended.
pub fn prefer_lean_builds() {
    let free = free_bytes(&target_dir());
    let short = free.is_some_and(|free| free < 3 * CLEAN_BUILD_BYTES);
    if std::env::var_os("CI").is_some() || short {
        LEAN_BUILDS.store(true, Ordering::Relaxed);
        println!("    incremental compilation off (CI, or less than 24 GiB free)");
    }
    if let Some(free) = free.filter(|free| *free < CLEAN_BUILD_BYTES) {
        println!(
            "    warning: {:.1} GiB free where {} builds; a clean build needs about {} GiB",
            free as f64 / f64::from(1 << 30),
            target_dir().display(),
            CLEAN_BUILD_BYTES >> 30
        );
    }
}

/// Free bytes on the file system that holds `path` (or its nearest existing parent), read from
/// POSIX `df -Pk`; `None` where there is no `df` (Windows) or its output is unexpected.
pub fn free_bytes(path: &Path) -> Option<u64> {
    let existing = path.ancestors().find(|dir| dir.exists())?;
    let out = Command::new("df")
        .arg("-Pk")
        .arg(existing)
        .stderr(Stdio::null())
        .output()
        .ok()?;
    let text = String::from_utf8_lossy(&out.stdout);
    let kib: u64 = text
        .lines()
        .nth(1)?
        .split_whitespace()
        .nth(3)?
        .parse()
        .ok()?;
    Some(kib * 1024)
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

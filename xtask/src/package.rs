//! `cargo xtask package`: the Linux `.deb` of the desktop app, built by the Tauri bundler.
//!
//! The bundler is the npm CLI (`@tauri-apps/cli`, a prebuilt binary, run through `npx`). It
//! takes the folder holding `tauri.conf.json` for the app crate's folder and reads the app's
//! `[package]` from the `Cargo.toml` beside it; at the repository root that is the workspace
//! manifest, which has none, so pointed at the root it stops with "No package info in the config
//! file". So, for the length of the build, a copy of the root config is staged next to the crate
//! (`src-tauri/tauri.conf.json`, ignored by git) with its paths made relative to there, and
//! removed afterwards, also when the build fails. The app itself still embeds the root config
//! (`generate_context!("../tauri.conf.json")`): there is one product config.

use std::path::{Path, PathBuf};
use std::process::Command;

use crate::setup;
use crate::shell::{self, Failure, Progress, root, target_dir};

/// The bundler: the CLI's major version matching the `tauri` crate.
const TAURI_CLI: &str = "@tauri-apps/cli@2";

/// Paths in the root config, relative to the root, and what they become seen from `src-tauri/`.
const RELATIVE_PATHS: &[(&str, &str)] = &[
    ("\"ui/dist\"", "\"../ui/dist\""),
    ("\"icons/", "\"../icons/"),
];

pub fn package() -> Result<(), Failure> {
    let mut progress = Progress::new(4);
    setup::prepare(&mut progress, setup::Purpose::Run)?;
    progress.step("Building the console");
    shell::run(
        Command::new("npm")
            .args(["run", "--silent", "build"])
            .current_dir(root().join("ui")),
    )?;

    progress.step("Release build and .deb (tauri build; the first one takes several minutes)");
    let staged = StagedConfig::write()?;
    let built = shell::run(
        Command::new("npx")
            .args(["--yes", TAURI_CLI, "build", "--bundles", "deb", "--ci"])
            // The console's @tauri-apps/api may be a minor version ahead of the tauri crate;
            // the JavaScript API the console uses is the same across 2.x.
            .arg("--ignore-version-mismatches")
            .current_dir(root().join("src-tauri"))
            .env("TAURI_FRONTEND_PATH", root().join("ui")),
    );
    drop(staged);
    built?;

    let bundles = target_dir().join("release/bundle/deb");
    let package = newest_deb(&bundles).ok_or_else(|| {
        Failure::new(format!(
            "tauri build finished but left no .deb in {}",
            bundles.display()
        ))
    })?;
    progress.finish();
    println!("\n    {}", package.display());
    println!(
        "    install it with: sudo apt install {}",
        package.display()
    );
    Ok(())
}

/// The staged copy of the root config; removed when dropped.
struct StagedConfig {
    path: PathBuf,
}

impl StagedConfig {
    fn write() -> Result<StagedConfig, Failure> {
        let original = root().join("tauri.conf.json");
        let mut text = std::fs::read_to_string(&original)
            .map_err(|error| Failure::new(format!("reading {}: {error}", original.display())))?;
        for (from_root, from_crate) in RELATIVE_PATHS {
            if !text.contains(from_root) {
                return Err(Failure::new(format!(
                    "tauri.conf.json no longer holds {from_root}: update RELATIVE_PATHS in \
                     xtask/src/package.rs to the config's paths"
                )));
            }
            text = text.replace(from_root, from_crate);
        }
        let path = root().join("src-tauri/tauri.conf.json");
        std::fs::write(&path, text)?;
        Ok(StagedConfig { path })
    }
}

impl Drop for StagedConfig {
    fn drop(&mut self) {
        let _ = std::fs::remove_file(&self.path);
    }
}

/// The most recently written `.deb` in `folder` (older versions may sit beside it).
fn newest_deb(folder: &Path) -> Option<PathBuf> {
    std::fs::read_dir(folder)
        .ok()?
        .flatten()
        .map(|entry| entry.path())
        .filter(|path| path.extension().is_some_and(|extension| extension == "deb"))
        .max_by_key(|path| {
            std::fs::metadata(path)
                .and_then(|metadata| metadata.modified())
                .ok()
        })
}

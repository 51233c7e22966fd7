// Release builds on Windows must not open a console window next to the app.
#![cfg_attr(not(debug_assertions), windows_subsystem = "windows")]

use std::process::ExitCode;

use anyhow::Context;
use tracing_subscriber::EnvFilter;

fn main() -> anyhow::Result<ExitCode> {
    let filter = EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new("info"));
    tracing_subscriber::fmt().with_env_filter(filter).init();
    let code = switchboard_desktop::run().context("the Switchboard app failed")?;
    Ok(ExitCode::from(u8::try_from(code).unwrap_or(1)))
}

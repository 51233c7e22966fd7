//! End-to-end test support: real cores against a real in-process server, and the ring
//! latency benchmark `cargo xtask bench ring` runs.

pub mod bench;
pub mod fault_proxy;

use std::path::Path;
use std::time::Duration;

use switchboard_core::{AudioOutput, Core, CoreConfig, CoreState, CredentialStore};

/// How long a scenario waits for any one change before failing.
pub const WAIT: Duration = Duration::from_secs(20);

/// A core for `server_url` with an in-memory credential store and no audio, caching in `data_dir`.
pub async fn headless_core(server_url: &str, data_dir: &Path) -> Core {
    Core::start(CoreConfig {
        server_url: server_url.to_owned(),
        data_dir: data_dir.to_owned(),
        credentials: CredentialStore::Memory,
        audio: AudioOutput::Disabled,
    })
    .await
    .expect("the core starts")
}

/// Waits until `condition` holds for the core's state; panics naming `what` otherwise.
pub async fn wait_for_state(
    core: &Core,
    what: &str,
    condition: impl Fn(&CoreState) -> bool,
) -> CoreState {
    match core.wait_until(WAIT, condition).await {
        Ok(state) => state,
        Err(last) => panic!("timed out waiting for {what}; last state: {last:#?}"),
    }
}

//! The shell's errors: what a command returns to the console, and what can stop the app starting.

use switchboard_core::CoreError;
use switchboard_core::protocol::ApiError;

/// Every command fails with the wire's `{code, message}`, so the console handles IPC and server
/// errors the same way.
pub type CommandResult<T> = Result<T, ApiError>;

/// Why the app could not start.
#[non_exhaustive]
#[derive(Debug, thiserror::Error)]
pub enum StartError {
    /// An environment variable held a value the app does not understand.
    #[error("{variable} must be one of {expected}, not {value:?}")]
    InvalidSetting {
        variable: &'static str,
        expected: &'static str,
        value: String,
    },
    /// No data folder was configured and the OS did not name one.
    #[error("the app data folder could not be determined")]
    DataDir(#[source] tauri::Error),
    /// Tauri could not build the app (window, webview, tray host).
    #[error("the app could not be built")]
    Tauri(#[source] tauri::Error),
    /// The core could not open its cache or credential store.
    #[error("the operator core could not start")]
    Core(#[from] CoreError),
}

//! The app's settings, read from the environment at start.
//!
//! - `SWITCHBOARD_SERVER_URL`: the server, default `http://127.0.0.1:8080`.
//! - `SWITCHBOARD_DATA_DIR`: the cache folder, default the OS app data folder
//!   (e.g. `~/.local/share/app.switchboard.desktop`).
//! - `SWITCHBOARD_CREDENTIALS`: `os` (default; keychain service `switchboard`) or `memory`
//!   (nothing persists; tests).
//! - `SWITCHBOARD_AUDIO`: `on` (default) or `off` (never opens a sound device).
//! - `SWITCHBOARD_EMAIL` and `SWITCHBOARD_PASSWORD`: when both are set and no session was
//!   restored, the app signs in at start (`cargo xtask run` opens the demo this way).

use std::path::PathBuf;

use switchboard_core::{AudioOutput, CoreConfig, CredentialStore, Sensitive};

use crate::error::StartError;

pub const DEFAULT_SERVER_URL: &str = "http://127.0.0.1:8080";
/// The keychain service the session token is stored under.
pub const KEYCHAIN_SERVICE: &str = "switchboard";

/// Credentials to sign in with at start; `Sensitive` keeps the password out of logs.
#[derive(Debug)]
pub struct AutoSignIn {
    pub email: String,
    pub password: Sensitive<String>,
}

/// Everything the environment decides.
#[derive(Debug)]
pub struct Settings {
    pub server_url: String,
    /// `None`: use the OS app data folder.
    pub data_dir: Option<PathBuf>,
    pub credentials: CredentialStore,
    pub audio: AudioOutput,
    pub auto_sign_in: Option<AutoSignIn>,
}

impl Settings {
    /// Reads the process environment.
    pub fn from_env() -> Result<Settings, StartError> {
        Settings::from_lookup(|name| std::env::var(name).ok())
    }

    /// Reads settings through `lookup` (the environment, or a map in tests). Empty values count
    /// as unset, so `VAR= app` falls back to the default.
    pub fn from_lookup(lookup: impl Fn(&str) -> Option<String>) -> Result<Settings, StartError> {
        let read = |name: &str| lookup(name).filter(|value| !value.trim().is_empty());
        let credentials = match read("SWITCHBOARD_CREDENTIALS").as_deref().map(str::trim) {
            None | Some("os") => CredentialStore::Os {
                service: KEYCHAIN_SERVICE.to_owned(),
            },
            Some("memory") => CredentialStore::Memory,
            Some(other) => {
                return Err(StartError::InvalidSetting {
                    variable: "SWITCHBOARD_CREDENTIALS",
                    expected: "os, memory",
                    value: other.to_owned(),
                });
            }
        };
        let audio = match read("SWITCHBOARD_AUDIO").as_deref().map(str::trim) {
            None | Some("on") => AudioOutput::Default,
            Some("off") => AudioOutput::Disabled,
            Some(other) => {
                return Err(StartError::InvalidSetting {
                    variable: "SWITCHBOARD_AUDIO",
                    expected: "on, off",
                    value: other.to_owned(),
                });
            }
        };
        let auto_sign_in = match (read("SWITCHBOARD_EMAIL"), read("SWITCHBOARD_PASSWORD")) {
            (Some(email), Some(password)) => Some(AutoSignIn {
                email,
                password: Sensitive::new(password),
            }),
            _ => None,
        };
        Ok(Settings {
            server_url: read("SWITCHBOARD_SERVER_URL")
                .map(|url| url.trim().trim_end_matches('/').to_owned())
                .unwrap_or_else(|| DEFAULT_SERVER_URL.to_owned()),
            data_dir: read("SWITCHBOARD_DATA_DIR").map(PathBuf::from),
            credentials,
            audio,
            auto_sign_in,
        })
    }

    /// The core's configuration, with `default_data_dir` used when none was set.
    pub fn core_config(
        &self,
        default_data_dir: impl FnOnce() -> Result<PathBuf, StartError>,
    ) -> Result<CoreConfig, StartError> {
        let data_dir = match &self.data_dir {
            Some(dir) => dir.clone(),
            None => default_data_dir()?,
        };
        Ok(CoreConfig {
            server_url: self.server_url.clone(),
            data_dir,
            credentials: self.credentials.clone(),
            audio: self.audio,
        })
    }
}

#[cfg(test)]
mod tests {
    use std::collections::HashMap;

    use super::*;

    fn settings(pairs: &[(&str, &str)]) -> Result<Settings, StartError> {
        let map: HashMap<String, String> = pairs
            .iter()
            .map(|(name, value)| ((*name).to_owned(), (*value).to_owned()))
            .collect();
        Settings::from_lookup(|name| map.get(name).cloned())
    }

    #[test]
    fn an_empty_environment_gives_the_documented_defaults() {
        let settings = settings(&[]).expect("defaults are valid");
        assert_eq!(settings.server_url, DEFAULT_SERVER_URL);
        assert_eq!(settings.data_dir, None);
        assert_eq!(
            settings.credentials,
            CredentialStore::Os {
                service: "switchboard".to_owned()
            }
        );
        assert_eq!(settings.audio, AudioOutput::Default);
        assert!(settings.auto_sign_in.is_none());
        let config = settings
            .core_config(|| Ok(PathBuf::from("/os/app/data")))
            .expect("the default folder is used");
        assert_eq!(config.data_dir, PathBuf::from("/os/app/data"));
    }

    #[test]
    fn every_variable_is_honoured() {
        let settings = settings(&[
            ("SWITCHBOARD_SERVER_URL", "http://127.0.0.1:9999/"),
            ("SWITCHBOARD_DATA_DIR", "/tmp/switchboard-test"),
            ("SWITCHBOARD_CREDENTIALS", "memory"),
            ("SWITCHBOARD_AUDIO", "off"),
            ("SWITCHBOARD_EMAIL", "ann@example.com"),
            ("SWITCHBOARD_PASSWORD", "switchboard"),
        ])
        .expect("all values are valid");
        assert_eq!(
            settings.server_url, "http://127.0.0.1:9999",
            "a trailing slash is dropped"
        );
        assert_eq!(settings.credentials, CredentialStore::Memory);
        assert_eq!(settings.audio, AudioOutput::Disabled);
        let auto = settings
            .auto_sign_in
            .as_ref()
            .expect("both credentials set");
        assert_eq!(auto.email, "ann@example.com");
        assert_eq!(auto.password.expose(), "switchboard");
        let config = settings
            .core_config(|| panic!("the configured folder wins over the OS default"))
            .expect("configured folder");
        assert_eq!(config.data_dir, PathBuf::from("/tmp/switchboard-test"));
    }

    #[test]
    fn auto_sign_in_needs_both_email_and_password() {
        let settings = settings(&[("SWITCHBOARD_EMAIL", "ann@example.com")]).expect("valid");
        assert!(settings.auto_sign_in.is_none());
    }

    #[test]
    fn unknown_values_are_refused_with_the_variable_named() {
        let error = settings(&[("SWITCHBOARD_AUDIO", "loud")]).expect_err("loud is not a value");
        assert!(error.to_string().contains("SWITCHBOARD_AUDIO"), "{error}");
        let error =
            settings(&[("SWITCHBOARD_CREDENTIALS", "file")]).expect_err("no plaintext store");
        assert!(
            error.to_string().contains("SWITCHBOARD_CREDENTIALS"),
            "{error}"
        );
    }

    #[test]
    fn the_password_never_shows_in_debug_output() {
        let settings = settings(&[
            ("SWITCHBOARD_EMAIL", "ann@example.com"),
            ("SWITCHBOARD_PASSWORD", "hunter2-secret"),
        ])
        .expect("valid");
        assert!(!format!("{settings:?}").contains("hunter2-secret"));
    }
}

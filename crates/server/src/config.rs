//! Server configuration: an optional TOML file, then environment variables, then CLI flags, each
//! overriding the one before.

use std::net::SocketAddr;
use std::path::{Path, PathBuf};

use serde::Deserialize;

/// Everything the server needs to start.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Config {
    pub bind: SocketAddr,
    /// The SQLite database file; created with its schema when missing.
    pub database: PathBuf,
    /// Folder holding the built widget (`widget.js`); `None` serves a clear 404 instead.
    pub widget_dir: Option<PathBuf>,
    /// Seed the demo organisation (idempotent).
    pub demo: bool,
    /// Lifetime of an operator token, in days.
    pub operator_token_days: i64,
    /// Lifetime of a visitor token, in days.
    pub visitor_token_days: i64,
    /// How long an operator stays available after their last connection closes (B07).
    pub operator_grace_seconds: i64,
    /// How long a pending chat waits for its visitor to reconnect before it is abandoned.
    pub visitor_grace_seconds: i64,
    /// How long an active chat waits after its visitor's last connection closed before it
    /// ends (B25: the visitor closed the page).
    pub visitor_inactivity_seconds: i64,
    /// How long a visitor message may stay unread by the responsible operator before every
    /// subscribed member is alerted (B12).
    pub unread_escalation_seconds: i64,
    /// How long an invitation or transfer waits for its answer before it goes back to the
    /// sender (B22, B23).
    pub invitation_timeout_seconds: i64,
    /// A request header set by a trusted reverse proxy with the visitor's ISO country code
    /// (e.g. `CF-IPCountry`); it takes precedence over the country guessed from the browser's
    /// time zone (B04). `None` (the default) ignores such headers: without a proxy that
    /// overwrites it, a visitor could pick their own country.
    pub country_header: Option<String>,
    /// Where transcript emails go out (B24, B25). Takes precedence over `mail_dir`.
    pub smtp: Option<crate::mail::SmtpSettings>,
    /// A folder receiving each transcript email as an `.eml` file, used only when no SMTP
    /// server is set (the demo writes there); with neither, sending is refused.
    pub mail_dir: Option<PathBuf>,
    /// Largest attachment accepted, in bytes (B32); larger uploads get a 413 `tooLarge`.
    pub attachment_max_bytes: u64,
    /// How long a visitor whose last page with the widget closed still counts as on site (B50),
    /// so a reload or a move to another page is not "left" and "arrived".
    pub visitor_leave_grace_ms: i64,
    /// Visitors with no chat, no customer record and no activity for this many days are
    /// deleted with their sessions (B50); 0 keeps them forever.
    pub visitor_retention_days: i64,
}

impl Default for Config {
    fn default() -> Self {
        Self {
            bind: SocketAddr::from(([127, 0, 0, 1], 8080)),
            database: PathBuf::from("switchboard.sqlite3"),
            widget_dir: None,
            demo: false,
            operator_token_days: 30,
            visitor_token_days: 30,
            operator_grace_seconds: 60,
            visitor_grace_seconds: 120,
            visitor_inactivity_seconds: 300,
            unread_escalation_seconds: 600,
            invitation_timeout_seconds: 60,
            country_header: None,
            smtp: None,
            mail_dir: None,
            attachment_max_bytes: switchboard_protocol::DEFAULT_ATTACHMENT_MAX_BYTES,
            visitor_leave_grace_ms: 30_000,
            visitor_retention_days: 30,
        }
    }
}

/// A config source failed to load or parse.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ConfigError {
    #[error("could not read config file {path}")]
    Read {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("config file {path} is not valid")]
    Parse {
        path: PathBuf,
        #[source]
        source: toml::de::Error,
    },
    #[error("{name} is not a valid socket address: {value:?}")]
    BadAddress { name: String, value: String },
}

/// The TOML file's shape: every key optional, unknown keys refused so typos surface.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "snake_case")]
struct FileConfig {
    bind: Option<String>,
    database: Option<PathBuf>,
    widget_dir: Option<PathBuf>,
    demo: Option<bool>,
    operator_token_days: Option<i64>,
    visitor_token_days: Option<i64>,
    operator_grace_seconds: Option<i64>,
    visitor_grace_seconds: Option<i64>,
    visitor_inactivity_seconds: Option<i64>,
    unread_escalation_seconds: Option<i64>,
    invitation_timeout_seconds: Option<i64>,
    country_header: Option<String>,
    smtp_host: Option<String>,
    attachment_max_bytes: Option<u64>,
    smtp_port: Option<u16>,
    smtp_from: Option<String>,
    mail_dir: Option<PathBuf>,
    visitor_retention_days: Option<i64>,
}

/// Values given on the command line; `None` keeps what file and environment said.
#[derive(Clone, Debug, Default)]
pub struct Overrides {
    pub bind: Option<SocketAddr>,
    pub database: Option<PathBuf>,
    pub widget_dir: Option<PathBuf>,
    pub demo: bool,
    pub mail_dir: Option<PathBuf>,
}

impl Config {
    /// Loads `file` (when given), then the `SWITCHBOARD_*` variables from `environment`, then
    /// `overrides`. The environment is passed in so tests need not touch the process's own.
    pub fn load(
        file: Option<&Path>,
        environment: impl IntoIterator<Item = (String, String)>,
        overrides: Overrides,
    ) -> Result<Config, ConfigError> {
        let mut config = Config::default();
        if let Some(path) = file {
            let text = std::fs::read_to_string(path).map_err(|source| ConfigError::Read {
                path: path.to_owned(),
                source,
            })?;
            let parsed: FileConfig =
                toml::from_str(&text).map_err(|source| ConfigError::Parse {
                    path: path.to_owned(),
                    source,
                })?;
            if let Some(bind) = parsed.bind {
                config.bind = parse_address("bind", &bind)?;
            }
            if let Some(database) = parsed.database {
                config.database = database;
            }
            if parsed.widget_dir.is_some() {
                config.widget_dir = parsed.widget_dir;
            }
            if let Some(demo) = parsed.demo {
                config.demo = demo;
            }
            if let Some(days) = parsed.operator_token_days {
                config.operator_token_days = days;
            }
            if let Some(days) = parsed.visitor_token_days {
                config.visitor_token_days = days;
            }
            if let Some(seconds) = parsed.operator_grace_seconds {
                config.operator_grace_seconds = seconds.max(0);
            }
            if let Some(seconds) = parsed.visitor_inactivity_seconds {
                config.visitor_inactivity_seconds = seconds.max(1);
            }
            if let Some(seconds) = parsed.unread_escalation_seconds {
                config.unread_escalation_seconds = seconds.max(1);
            }
            if let Some(seconds) = parsed.invitation_timeout_seconds {
                config.invitation_timeout_seconds = seconds.max(1);
            }
            if let Some(header) = parsed.country_header {
                config.country_header = Some(header).filter(|header| !header.trim().is_empty());
            }
            if let Some(bytes) = parsed.attachment_max_bytes {
                config.attachment_max_bytes = bytes;
            }
            if let Some(host) = parsed.smtp_host {
                config.smtp = Some(crate::mail::SmtpSettings {
                    host,
                    port: parsed.smtp_port.unwrap_or(25),
                    from: parsed
                        .smtp_from
                        .unwrap_or_else(|| crate::mail::DEFAULT_FROM.to_owned()),
                });
            }
            if parsed.mail_dir.is_some() {
                config.mail_dir = parsed.mail_dir;
            }
            if let Some(days) = parsed.visitor_retention_days {
                config.visitor_retention_days = days.max(0);
            }
            if let Some(seconds) = parsed.visitor_grace_seconds {
                config.visitor_grace_seconds = seconds.max(0);
            }
        }
        for (name, value) in environment {
            match name.as_str() {
                "SWITCHBOARD_BIND" => config.bind = parse_address(&name, &value)?,
                "SWITCHBOARD_DATABASE" => config.database = PathBuf::from(value),
                "SWITCHBOARD_WIDGET_DIR" => config.widget_dir = Some(PathBuf::from(value)),
                "SWITCHBOARD_MAIL_DIR" => config.mail_dir = Some(PathBuf::from(value)),
                "SWITCHBOARD_VISITOR_RETENTION_DAYS" => {
                    if let Ok(days) = value.trim().parse::<i64>() {
                        config.visitor_retention_days = days.max(0);
                    }
                }
                "SWITCHBOARD_ATTACHMENT_MAX_BYTES" => {
                    if let Ok(bytes) = value.trim().parse() {
                        config.attachment_max_bytes = bytes;
                    }
                }
                _ => {}
            }
        }
        if let Some(bind) = overrides.bind {
            config.bind = bind;
        }
        if let Some(database) = overrides.database {
            config.database = database;
        }
        if overrides.widget_dir.is_some() {
            config.widget_dir = overrides.widget_dir;
        }
        config.demo |= overrides.demo;
        if overrides.mail_dir.is_some() {
            config.mail_dir = overrides.mail_dir;
        }
        Ok(config)
    }

    /// How transcript emails leave: the SMTP server when one is set (a real deployment), else
    /// the mail folder, else `None` (sending is refused).
    pub fn mail_transport(&self) -> Option<crate::mail::MailTransport> {
        if let Some(smtp) = &self.smtp {
            return Some(crate::mail::MailTransport::Smtp(smtp.clone()));
        }
        self.mail_dir.as_ref().map(|path| {
            crate::mail::MailTransport::Folder(crate::mail::MailFolder {
                path: path.clone(),
                from: crate::mail::DEFAULT_FROM.to_owned(),
            })
        })
    }
}

fn parse_address(name: &str, value: &str) -> Result<SocketAddr, ConfigError> {
    value.parse().map_err(|_| ConfigError::BadAddress {
        name: name.to_owned(),
        value: value.to_owned(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn flags_override_environment_which_overrides_the_file() {
        let directory = tempfile::tempdir().expect("temp dir");
        let file = directory.path().join("server.toml");
        std::fs::write(
            &file,
            "bind = \"127.0.0.1:7000\"\ndatabase = \"from-file.db\"\ndemo = true\n",
        )
        .expect("write config");
        let environment = vec![
            ("SWITCHBOARD_DATABASE".to_owned(), "from-env.db".to_owned()),
            (
                "SWITCHBOARD_WIDGET_DIR".to_owned(),
                "widget/dist".to_owned(),
            ),
        ];
        let overrides = Overrides {
            bind: Some("127.0.0.1:0".parse().expect("address")),
            ..Overrides::default()
        };
        let config = Config::load(Some(&file), environment, overrides).expect("config loads");
        assert_eq!(config.bind, "127.0.0.1:0".parse().expect("address"));
        assert_eq!(config.database, PathBuf::from("from-env.db"));
        assert_eq!(config.widget_dir, Some(PathBuf::from("widget/dist")));
        assert!(
            config.demo,
            "demo from the file survives when no flag says otherwise"
        );
    }

    #[test]
    fn b50_visitor_retention_defaults_to_30_days_and_0_keeps_forever() {
        assert_eq!(Config::default().visitor_retention_days, 30);
        let directory = tempfile::tempdir().expect("temp dir");
        let file = directory.path().join("server.toml");
        std::fs::write(&file, "visitor_retention_days = 0\n").expect("write config");
        let config = Config::load(Some(&file), Vec::new(), Overrides::default()).expect("loads");
        assert_eq!(config.visitor_retention_days, 0);
        let environment = vec![(
            "SWITCHBOARD_VISITOR_RETENTION_DAYS".to_owned(),
            "7".to_owned(),
        )];
        let config = Config::load(Some(&file), environment, Overrides::default()).expect("loads");
        assert_eq!(config.visitor_retention_days, 7);
    }

    #[test]
    fn smtp_takes_precedence_over_the_mail_folder_and_the_flag_over_the_environment() {
        let directory = tempfile::tempdir().expect("temp dir");
        let file = directory.path().join("server.toml");
        std::fs::write(&file, "mail_dir = \"from-file\"\n").expect("write config");
        let environment = vec![("SWITCHBOARD_MAIL_DIR".to_owned(), "from-env".to_owned())];
        let config =
            Config::load(Some(&file), environment.clone(), Overrides::default()).expect("loads");
        assert_eq!(config.mail_dir, Some(PathBuf::from("from-env")));
        let overrides = Overrides {
            mail_dir: Some(PathBuf::from("from-flag")),
            ..Overrides::default()
        };
        let config = Config::load(Some(&file), environment, overrides).expect("loads");
        assert_eq!(
            config.mail_transport(),
            Some(crate::mail::MailTransport::Folder(
                crate::mail::MailFolder {
                    path: PathBuf::from("from-flag"),
                    from: crate::mail::DEFAULT_FROM.to_owned(),
                }
            ))
        );
        std::fs::write(&file, "mail_dir = \"mail\"\nsmtp_host = \"relay\"\n").expect("write");
        let config = Config::load(Some(&file), Vec::new(), Overrides::default()).expect("loads");
        assert!(matches!(
            config.mail_transport(),
            Some(crate::mail::MailTransport::Smtp(settings)) if settings.host == "relay"
        ));
        assert_eq!(Config::default().mail_transport(), None);
    }

    #[test]
    fn a_typo_in_the_file_is_an_error() {
        let directory = tempfile::tempdir().expect("temp dir");
        let file = directory.path().join("server.toml");
        std::fs::write(&file, "bnid = \"127.0.0.1:7000\"\n").expect("write config");
        let error = Config::load(Some(&file), Vec::new(), Overrides::default());
        assert!(matches!(error, Err(ConfigError::Parse { .. })));
    }
}

//! Transcript emails (B24, B25), with lettre: through a configured SMTP server (plain SMTP to a
//! relay the operator of the server runs, usually on the same host, which delivers onward), or,
//! when no SMTP server is configured but a mail folder is, as `.eml` files in that folder (the
//! demo uses it, so a newcomer sees the transcript without running a mail server).

use std::io::Write;
use std::path::{Path, PathBuf};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use lettre::message::Mailbox;
use lettre::message::header::ContentType;
use lettre::{AsyncSmtpTransport, AsyncTransport, Tokio1Executor};

/// The sender when the config names none.
pub const DEFAULT_FROM: &str = "Switchboard <switchboard@localhost>";

/// Where transcript emails go out.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SmtpSettings {
    pub host: String,
    pub port: u16,
    /// The sender, e.g. `Acme Support <support@acme.example>`.
    pub from: String,
}

/// A folder receiving each email as an RFC 5322 `.eml` file instead of sending it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct MailFolder {
    pub path: PathBuf,
    /// The sender written into each message.
    pub from: String,
}

/// How transcript emails leave the server.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum MailTransport {
    Smtp(SmtpSettings),
    Folder(MailFolder),
}

#[derive(Debug, thiserror::Error)]
pub enum MailError {
    #[error("{0:?} is not a valid email address")]
    Address(String),
    #[error("the email could not be built")]
    Build(#[from] lettre::error::Error),
    #[error("the SMTP server failed or refused the email")]
    Smtp(#[from] lettre::transport::smtp::Error),
    #[error("the email could not be written to the mail folder")]
    Folder(#[from] std::io::Error),
}

/// A plain-text email to one recipient.
#[derive(Clone, Debug)]
pub struct Email {
    pub to: String,
    pub subject: String,
    pub body: String,
}

/// Builds the message both transports carry. Header values are encoded by lettre, so a hostile
/// subject cannot inject headers.
fn build(from: &str, email: Email) -> Result<lettre::Message, MailError> {
    let from: Mailbox = from
        .parse()
        .map_err(|_| MailError::Address(from.to_owned()))?;
    let to: Mailbox = email
        .to
        .parse()
        .map_err(|_| MailError::Address(email.to.clone()))?;
    Ok(lettre::Message::builder()
        .from(from)
        .to(to)
        .subject(email.subject)
        .header(ContentType::TEXT_PLAIN)
        .body(email.body)?)
}

/// Sends one email through the SMTP server.
pub async fn send(settings: &SmtpSettings, email: Email) -> Result<(), MailError> {
    let message = build(&settings.from, email)?;
    let transport = AsyncSmtpTransport::<Tokio1Executor>::builder_dangerous(&settings.host)
        .port(settings.port)
        .timeout(Some(Duration::from_secs(10)))
        .build();
    transport.send(message).await?;
    Ok(())
}

/// Delivers one email the way the server is configured to.
pub async fn deliver(transport: &MailTransport, email: Email) -> Result<(), MailError> {
    match transport {
        MailTransport::Smtp(settings) => send(settings, email).await,
        MailTransport::Folder(folder) => write_to_folder(folder, email).await.map(|_| ()),
    }
}

/// Writes one email into the folder (created when missing) and returns the file's path. Names
/// start with the time, so a listing sorts oldest first, and end with random bytes, so two
/// emails in the same instant never collide. The message is written under a temporary dot-name
/// and renamed into place, so a reader never sees half a file.
pub async fn write_to_folder(folder: &MailFolder, email: Email) -> Result<PathBuf, MailError> {
    let bytes = build(&folder.from, email)?.formatted();
    let directory = folder.path.clone();
    tokio::task::spawn_blocking(move || write_atomically(&directory, &bytes))
        .await
        .map_err(std::io::Error::other)?
        .map_err(MailError::Folder)
}

fn write_atomically(directory: &Path, bytes: &[u8]) -> std::io::Result<PathBuf> {
    std::fs::create_dir_all(directory)?;
    let since_epoch = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap_or_default();
    let mut random = [0u8; 8];
    getrandom::fill(&mut random).map_err(|error| std::io::Error::other(error.to_string()))?;
    let name = format!(
        "{:020}-{:016x}.eml",
        since_epoch.as_nanos(),
        u64::from_le_bytes(random)
    );
    let temporary = directory.join(format!(".{name}.tmp"));
    let target = directory.join(&name);
    let written = (|| {
        let mut options = std::fs::OpenOptions::new();
        options.write(true).create_new(true);
        // Transcripts hold visitors' words and addresses: readable by the server's user only.
        #[cfg(unix)]
        std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
        let mut file = options.open(&temporary)?;
        file.write_all(bytes)?;
        file.sync_all()?;
        std::fs::rename(&temporary, &target)
    })();
    if let Err(error) = written {
        let _ = std::fs::remove_file(&temporary);
        return Err(error);
    }
    Ok(target)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn email(subject: &str) -> Email {
        Email {
            to: "wile@example.com".to_owned(),
            subject: subject.to_owned(),
            body: "Hello\n".to_owned(),
        }
    }

    #[tokio::test]
    async fn folder_emails_get_unique_sortable_names_and_no_temporary_file_stays() {
        let directory = tempfile::tempdir().expect("temp dir");
        let folder = MailFolder {
            path: directory.path().join("mail"),
            from: DEFAULT_FROM.to_owned(),
        };
        let first = write_to_folder(&folder, email("first"))
            .await
            .expect("first written");
        let second = write_to_folder(&folder, email("second"))
            .await
            .expect("second written");
        assert_ne!(first, second);
        let mut names: Vec<String> = std::fs::read_dir(&folder.path)
            .expect("list the folder")
            .map(|entry| {
                entry
                    .expect("entry")
                    .file_name()
                    .to_string_lossy()
                    .into_owned()
            })
            .collect();
        names.sort();
        let expected: Vec<String> = [&first, &second]
            .iter()
            .map(|path| {
                path.file_name()
                    .expect("file name")
                    .to_string_lossy()
                    .into_owned()
            })
            .collect();
        assert_eq!(names, expected, "sorted by name is the order written");
        let text = std::fs::read_to_string(&second).expect("read the email");
        assert!(text.contains("Subject: second"), "{text}");
        assert!(
            text.contains("From: Switchboard <switchboard@localhost>"),
            "{text}"
        );
    }

    #[tokio::test]
    async fn a_hostile_subject_cannot_add_headers_to_a_folder_email() {
        let directory = tempfile::tempdir().expect("temp dir");
        let folder = MailFolder {
            path: directory.path().to_owned(),
            from: DEFAULT_FROM.to_owned(),
        };
        let path = write_to_folder(&folder, email("hi\r\nBcc: eve@example.com"))
            .await
            .expect("written");
        let text = std::fs::read_to_string(path).expect("read the email");
        assert!(!text.lines().any(|line| line.starts_with("Bcc:")), "{text}");
    }
}

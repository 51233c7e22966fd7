//! Transcript emails (B24, B25) through a configured SMTP server, with lettre. Plain SMTP to a
//! relay the operator of the server runs (usually on the same host), which delivers onward.

use std::time::Duration;

use lettre::message::Mailbox;
use lettre::message::header::ContentType;
use lettre::{AsyncSmtpTransport, AsyncTransport, Tokio1Executor};

/// Where transcript emails go out.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SmtpSettings {
    pub host: String,
    pub port: u16,
    /// The sender, e.g. `Acme Support <support@acme.example>`.
    pub from: String,
}

#[derive(Debug, thiserror::Error)]
pub enum MailError {
    #[error("{0:?} is not a valid email address")]
    Address(String),
    #[error("the email could not be built")]
    Build(#[from] lettre::error::Error),
    #[error("the SMTP server failed or refused the email")]
    Smtp(#[from] lettre::transport::smtp::Error),
}

/// A plain-text email to one recipient.
#[derive(Clone, Debug)]
pub struct Email {
    pub to: String,
    pub subject: String,
    pub body: String,
}

/// Sends one email. Header values are encoded by lettre, so a hostile subject cannot inject
/// headers.
pub async fn send(settings: &SmtpSettings, email: Email) -> Result<(), MailError> {
    let from: Mailbox = settings
        .from
        .parse()
        .map_err(|_| MailError::Address(settings.from.clone()))?;
    let to: Mailbox = email
        .to
        .parse()
        .map_err(|_| MailError::Address(email.to.clone()))?;
    let message = lettre::Message::builder()
        .from(from)
        .to(to)
        .subject(email.subject)
        .header(ContentType::TEXT_PLAIN)
        .body(email.body)?;
    let transport = AsyncSmtpTransport::<Tokio1Executor>::builder_dangerous(&settings.host)
        .port(settings.port)
        .timeout(Some(Duration::from_secs(10)))
        .build();
    transport.send(message).await?;
    Ok(())
}

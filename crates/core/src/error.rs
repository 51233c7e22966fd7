//! Errors of the core, and their mapping to the `{code, message}` shape the console receives.

use switchboard_protocol::{ApiError, ErrorCode};

#[non_exhaustive]
#[derive(Debug, thiserror::Error)]
pub enum CoreError {
    /// The server refused a request or a command; carries its `{code, message}`.
    #[error("{0}")]
    Api(ApiError),
    /// There is no session: sign in first.
    #[error("not signed in")]
    SignedOut,
    /// The server could not be reached.
    #[error("the server could not be reached: {0}")]
    Unreachable(String),
    /// The live connection is down, so a command could not be delivered.
    #[error("not connected to the server")]
    Offline,
    /// The server did not answer a command in time.
    #[error("the server did not answer in time")]
    Timeout,
    /// Not delivered yet: kept in the outbox and sent when the connection is back.
    #[error("not delivered yet: it will be sent when the connection is back")]
    Queued,
    /// The server speaks a newer protocol: the app must be updated.
    #[error("this app is too old for the server: please update it")]
    UpgradeRequired,
    /// The server answered something this client does not understand.
    #[error("unexpected answer from the server: {0}")]
    Protocol(String),
    /// The local cache failed.
    #[error("local cache failed: {0}")]
    Cache(#[from] rusqlite::Error),
    /// The local cache folder could not be prepared.
    #[error("local cache folder failed: {0}")]
    Io(#[from] std::io::Error),
    /// The core was shut down.
    #[error("the core was shut down")]
    ShutDown,

    /// A setting the operator chose cannot be used (a sound file that does not play).
    #[error("{0}")]
    InvalidSetting(String),
}

impl CoreError {
    /// The code the console branches on.
    pub fn code(&self) -> ErrorCode {
        match self {
            CoreError::Api(error) => error.code,
            CoreError::SignedOut => ErrorCode::Unauthorized,
            CoreError::UpgradeRequired => ErrorCode::UpgradeRequired,
            CoreError::Protocol(_) => ErrorCode::BadFrame,
            CoreError::InvalidSetting(_) => ErrorCode::BadRequest,
            CoreError::Unreachable(_)
            | CoreError::Offline
            | CoreError::Timeout
            | CoreError::Queued
            | CoreError::Cache(_)
            | CoreError::Io(_)
            | CoreError::ShutDown => ErrorCode::Internal,
        }
    }
}

impl From<ApiError> for CoreError {
    fn from(error: ApiError) -> Self {
        CoreError::Api(error)
    }
}

impl From<CoreError> for ApiError {
    fn from(error: CoreError) -> Self {
        match error {
            CoreError::Api(api) => api,
            other => ApiError::new(other.code(), other.to_string()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn api_errors_keep_their_code_and_message_across_ipc() {
        let original = ApiError::new(ErrorCode::Conflict, "This chat was taken by Ann Operator.");
        let ipc: ApiError = CoreError::from(original.clone()).into();
        assert_eq!(ipc, original);
        let offline: ApiError = CoreError::Offline.into();
        assert_eq!(offline.code, ErrorCode::Internal);
        assert_eq!(CoreError::SignedOut.code(), ErrorCode::Unauthorized);
    }
}

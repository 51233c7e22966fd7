//! Attachments through the core (B32): uploads with progress, queued on disk while the server
//! cannot be reached, and downloads kept in the cache folder so files stay viewable offline
//! (D01).
//!
//! An upload is staged in `<cache folder>/uploads/` (the bytes and a small JSON description)
//! before the first byte goes out, under a fresh client id. Whatever happens to the link, the
//! app or the machine, it is sent again with the same id until the server answers; the server
//! treats the id as an idempotency key, so a file is never posted twice. A refusal (too large,
//! type not allowed, not your chat) is final: the staged copy is dropped and the console is told
//! why.

use std::path::{Path, PathBuf};
use std::sync::{Arc, Weak};
use std::time::Duration;

use futures_util::StreamExt;
use serde::{Deserialize, Serialize};
use switchboard_protocol::{
    ATTACHMENT_NAME_HEADER, ATTACHMENT_PATH, ApiError, AttachmentId, CLIENT_ID_HEADER, ChatId,
    ErrorCode, Message, UPLOAD_ATTACHMENT_PATH, Visibility,
};
use ts_rs::TS;

use crate::{ConnectionState, Core, CoreError, CoreEvent, Inner, lock, with_causes};

/// Bytes per progress step.
const CHUNK_BYTES: usize = 64 * 1024;
/// How long one upload or download may take; files are larger than REST bodies.
const TRANSFER_TIMEOUT: Duration = Duration::from_secs(300);
/// Folder of staged uploads inside the cache folder.
const UPLOADS_FOLDER: &str = "uploads";
/// Folder of downloaded files inside the cache folder.
const DOWNLOADS_FOLDER: &str = "attachments";

/// Where an upload stands.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, TS)]
#[serde(tag = "kind", rename_all = "camelCase")]
pub enum UploadState {
    /// Bytes are going out; see `sent` and `total`.
    Sending,
    /// The server cannot be reached: the file waits on disk and goes out when the link is back.
    Queued,
    /// Posted; its message arrives as `messagePosted` with the upload's id as `clientId`.
    Done,
    /// Refused for good (too large, not allowed, not your chat).
    Failed { error: ApiError },
}

/// Progress of one upload, for the console's progress bar.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, TS)]
#[serde(rename_all = "camelCase")]
pub struct UploadProgress {
    /// The upload's client id.
    pub id: String,
    pub chat: ChatId,
    pub name: String,
    pub visibility: Visibility,
    #[ts(type = "number")]
    pub sent: u64,
    #[ts(type = "number")]
    pub total: u64,
    pub state: UploadState,
}

/// A downloaded attachment.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct AttachmentFile {
    pub content_type: String,
    pub bytes: Vec<u8>,
}

/// What is staged next to the bytes of a queued upload.
#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
struct Staged {
    id: String,
    chat: ChatId,
    name: String,
    content_type: String,
    visibility: Visibility,
}

impl Staged {
    fn progress(&self, sent: u64, total: u64, state: UploadState) -> UploadProgress {
        UploadProgress {
            id: self.id.clone(),
            chat: self.chat,
            name: self.name.clone(),
            visibility: self.visibility,
            sent,
            total,
            state,
        }
    }
}

fn uploads_folder(data_dir: &Path) -> PathBuf {
    data_dir.join(UPLOADS_FOLDER)
}

fn staged_paths(data_dir: &Path, id: &str) -> (PathBuf, PathBuf) {
    let folder = uploads_folder(data_dir);
    (
        folder.join(format!("{id}.json")),
        folder.join(format!("{id}.bin")),
    )
}

fn stage(data_dir: &Path, staged: &Staged, bytes: &[u8]) -> Result<(), CoreError> {
    std::fs::create_dir_all(uploads_folder(data_dir))?;
    let (description, contents) = staged_paths(data_dir, &staged.id);
    std::fs::write(&contents, bytes)?;
    let json =
        serde_json::to_vec(staged).map_err(|error| CoreError::Protocol(error.to_string()))?;
    // The description is written last: a crash in between leaves bytes without one, which are
    // never sent (and are overwritten by nothing, as ids are fresh).
    std::fs::write(description, json)?;
    Ok(())
}

fn unstage(data_dir: &Path, id: &str) {
    let (description, contents) = staged_paths(data_dir, id);
    let _ = std::fs::remove_file(description);
    let _ = std::fs::remove_file(contents);
}

/// Staged uploads, oldest first.
fn staged_uploads(data_dir: &Path) -> Vec<(Staged, std::time::SystemTime)> {
    let Ok(entries) = std::fs::read_dir(uploads_folder(data_dir)) else {
        return Vec::new();
    };
    let mut found: Vec<(Staged, std::time::SystemTime)> = entries
        .filter_map(Result::ok)
        .filter(|entry| entry.path().extension().is_some_and(|ext| ext == "json"))
        .filter_map(|entry| {
            let modified = entry.metadata().and_then(|meta| meta.modified()).ok()?;
            let staged = serde_json::from_slice(&std::fs::read(entry.path()).ok()?).ok()?;
            Some((staged, modified))
        })
        .collect();
    found.sort_by_key(|(_, modified)| *modified);
    found
}

/// Percent-encodes a file name for [`ATTACHMENT_NAME_HEADER`] (headers are ASCII).
fn encode_name(name: &str) -> String {
    let mut out = String::with_capacity(name.len());
    for byte in name.bytes() {
        if byte.is_ascii_alphanumeric() || matches!(byte, b'-' | b'.' | b'_' | b'~' | b' ') {
            out.push(byte as char);
        } else {
            out.push_str(&format!("%{byte:02X}"));
        }
    }
    out
}

/// Whether an upload failure may pass once the link is back.
fn transient(error: &CoreError) -> bool {
    match error {
        CoreError::Unreachable(_) | CoreError::Timeout | CoreError::Offline => true,
        CoreError::Api(error) => error.code == ErrorCode::Internal,
        _ => false,
    }
}

async fn api_error(response: reqwest::Response) -> CoreError {
    let status = response.status();
    let text = response.text().await.unwrap_or_default();
    match serde_json::from_str::<ApiError>(&text) {
        Ok(error) => CoreError::Api(error),
        Err(_) => CoreError::Api(ApiError::new(
            match status.as_u16() {
                401 => ErrorCode::Unauthorized,
                403 => ErrorCode::Forbidden,
                404 => ErrorCode::NotFound,
                413 => ErrorCode::TooLarge,
                _ => ErrorCode::Internal,
            },
            format!("The server answered HTTP {status}."),
        )),
    }
}

impl Inner {
    /// Sends one staged upload, reporting progress, and applies the posted message.
    async fn send_upload(
        self: &Arc<Self>,
        staged: &Staged,
        bytes: Vec<u8>,
    ) -> Result<Message, CoreError> {
        let token = self.token().ok_or(CoreError::SignedOut)?;
        let total = bytes.len() as u64;
        let path = UPLOAD_ATTACHMENT_PATH.replace("{id}", &staged.chat.to_string());
        let visibility = match staged.visibility {
            Visibility::Public => "public",
            Visibility::Note => "note",
        };
        let url = format!("{}{path}?visibility={visibility}", self.server_url);
        let chunks: Vec<Vec<u8>> = bytes.chunks(CHUNK_BYTES).map(<[u8]>::to_vec).collect();
        drop(bytes);
        let reporter = Arc::downgrade(self);
        let described = staged.clone();
        let mut sent = 0_u64;
        // Progress is counted as the HTTP client takes each chunk: what has left the app.
        let body = futures_util::stream::iter(chunks).map(move |chunk| {
            sent += chunk.len() as u64;
            if let Some(inner) = reporter.upgrade() {
                inner.emit(CoreEvent::Upload {
                    upload: described.progress(sent, total, UploadState::Sending),
                });
            }
            Ok::<_, std::io::Error>(chunk)
        });
        self.emit(CoreEvent::Upload {
            upload: staged.progress(0, total, UploadState::Sending),
        });
        let response = self
            .http
            .post(url)
            .timeout(TRANSFER_TIMEOUT)
            .bearer_auth(token.expose())
            .header(reqwest::header::CONTENT_TYPE, &staged.content_type)
            // Lets the server refuse an oversized file before reading it.
            .header(reqwest::header::CONTENT_LENGTH, total)
            .header(ATTACHMENT_NAME_HEADER, encode_name(&staged.name))
            .header(CLIENT_ID_HEADER, &staged.id)
            .body(reqwest::Body::wrap_stream(body))
            .send()
            .await
            .map_err(|error| CoreError::Unreachable(with_causes(&error)))?;
        if !response.status().is_success() {
            return Err(api_error(response).await);
        }
        let message: Message = response
            .json()
            .await
            .map_err(|error| CoreError::Protocol(error.to_string()))?;
        if lock(&self.cache).apply_message(&message)? {
            self.emit(CoreEvent::MessagePosted {
                message: message.clone(),
            });
        }
        Ok(message)
    }

    /// Sends a staged upload and settles it: done and failed ones leave the queue, transient
    /// failures stay queued.
    async fn deliver_upload(self: &Arc<Self>, staged: Staged) -> Result<Message, CoreError> {
        {
            let mut sending = lock(&self.uploads);
            if !sending.insert(staged.id.clone()) {
                return Err(CoreError::Queued);
            }
        }
        let (_, contents) = staged_paths(&self.data_dir, &staged.id);
        let result = match tokio::fs::read(&contents).await {
            Ok(bytes) => {
                let total = bytes.len() as u64;
                let sent = self.send_upload(&staged, bytes).await;
                (sent, total)
            }
            Err(error) => (Err(CoreError::Io(error)), 0),
        };
        lock(&self.uploads).remove(&staged.id);
        let (sent, total) = result;
        match sent {
            Ok(message) => {
                unstage(&self.data_dir, &staged.id);
                self.emit(CoreEvent::Upload {
                    upload: staged.progress(total, total, UploadState::Done),
                });
                Ok(message)
            }
            Err(error) if transient(&error) => {
                tracing::info!(%error, "an upload waits for the link");
                self.emit(CoreEvent::Upload {
                    upload: staged.progress(0, total, UploadState::Queued),
                });
                Err(CoreError::Queued)
            }
            Err(error) => {
                unstage(&self.data_dir, &staged.id);
                self.emit(CoreEvent::Upload {
                    upload: staged.progress(
                        0,
                        total,
                        UploadState::Failed {
                            error: ApiError::from(clone_error(&error)),
                        },
                    ),
                });
                Err(error)
            }
        }
    }

    /// Sends every queued upload, oldest first.
    pub(crate) async fn flush_uploads(self: &Arc<Self>) {
        if self.token().is_none() {
            return;
        }
        for (staged, _) in staged_uploads(&self.data_dir) {
            if let Err(error) = self.deliver_upload(staged).await
                && matches!(error, CoreError::Queued)
            {
                // The link went again: the rest waits for the next connection.
                break;
            }
        }
    }
}

/// A copy of an error for the console event (the original goes back to the caller).
fn clone_error(error: &CoreError) -> CoreError {
    match error {
        CoreError::Api(api) => CoreError::Api(api.clone()),
        other => CoreError::Api(ApiError::new(other.code(), other.to_string())),
    }
}

/// Sends queued uploads whenever the link (re)connects, for as long as the core lives.
pub(crate) fn send_queued_on_connect(inner: &Arc<Inner>) {
    let mut connection = inner.connection.subscribe();
    let weak: Weak<Inner> = Arc::downgrade(inner);
    tokio::spawn(async move {
        loop {
            let connected = matches!(*connection.borrow_and_update(), ConnectionState::Connected);
            if connected {
                let Some(inner) = weak.upgrade() else {
                    return;
                };
                inner.flush_uploads().await;
            }
            if connection.changed().await.is_err() {
                return;
            }
        }
    });
}

/// Drops the signed-out session's files: queued uploads (like its outbox) and downloaded copies.
pub(crate) fn forget(data_dir: &Path) {
    for folder in [UPLOADS_FOLDER, DOWNLOADS_FOLDER] {
        let path = data_dir.join(folder);
        if let Err(error) = std::fs::remove_dir_all(&path)
            && error.kind() != std::io::ErrorKind::NotFound
        {
            tracing::warn!(%error, "could not delete {}", path.display());
        }
    }
}

/// Only ids the server could have made (hex) name files in the cache folder.
fn valid_id(id: &AttachmentId) -> bool {
    !id.0.is_empty() && id.0.len() <= 128 && id.0.bytes().all(|byte| byte.is_ascii_hexdigit())
}

impl Core {
    /// Uploads a file into a chat as a public reply or a note (B32) and returns the posted
    /// message. Progress arrives as [`CoreEvent::Upload`] under the returned message's
    /// `clientId`. The file is staged on disk first: when the server cannot be reached the call
    /// returns [`CoreError::Queued`] and the file goes out, exactly once, when the link is back
    /// (after a restart too). A refusal (`tooLarge`, `badRequest` for a type not allowed,
    /// `forbidden`) is final.
    pub async fn upload_attachment(
        &self,
        chat: ChatId,
        name: String,
        content_type: String,
        bytes: Vec<u8>,
        visibility: Visibility,
    ) -> Result<Message, CoreError> {
        if self.inner.token().is_none() {
            return Err(CoreError::SignedOut);
        }
        let staged = Staged {
            id: uuid::Uuid::new_v4().to_string(),
            chat,
            name,
            content_type,
            visibility,
        };
        let data_dir = self.inner.data_dir.clone();
        let to_stage = staged.clone();
        tokio::task::spawn_blocking(move || stage(&data_dir, &to_stage, &bytes))
            .await
            .map_err(|_| CoreError::ShutDown)??;
        self.inner.deliver_upload(staged).await
    }

    /// Uploads still waiting for the link, oldest first, for the console to show after a
    /// restart.
    pub fn queued_uploads(&self) -> Vec<UploadProgress> {
        staged_uploads(&self.inner.data_dir)
            .into_iter()
            .map(|(staged, _)| {
                let (_, contents) = staged_paths(&self.inner.data_dir, &staged.id);
                let total = std::fs::metadata(contents)
                    .map(|meta| meta.len())
                    .unwrap_or(0);
                staged.progress(0, total, UploadState::Queued)
            })
            .collect()
    }

    /// The bytes of an attachment, from the cache folder when it was fetched before (so it
    /// stays viewable offline, D01), else from the server with this session's token.
    pub async fn attachment(&self, id: &AttachmentId) -> Result<AttachmentFile, CoreError> {
        if !valid_id(id) {
            return Err(CoreError::Api(ApiError::new(
                ErrorCode::NotFound,
                "There is no such file.",
            )));
        }
        let folder = self.inner.data_dir.join(DOWNLOADS_FOLDER);
        let contents = folder.join(&id.0);
        let kind = folder.join(format!("{}.type", id.0));
        if let (Ok(bytes), Ok(content_type)) = (
            tokio::fs::read(&contents).await,
            tokio::fs::read_to_string(&kind).await,
        ) {
            return Ok(AttachmentFile {
                content_type,
                bytes,
            });
        }
        let token = self.inner.token().ok_or(CoreError::SignedOut)?;
        let url = format!(
            "{}{}",
            self.inner.server_url,
            ATTACHMENT_PATH.replace("{id}", &id.0)
        );
        let response = self
            .inner
            .http
            .get(url)
            .timeout(TRANSFER_TIMEOUT)
            .bearer_auth(token.expose())
            .send()
            .await
            .map_err(|error| CoreError::Unreachable(with_causes(&error)))?;
        if !response.status().is_success() {
            return Err(api_error(response).await);
        }
        let content_type = response
            .headers()
            .get(reqwest::header::CONTENT_TYPE)
            .and_then(|value| value.to_str().ok())
            .unwrap_or("application/octet-stream")
            .to_owned();
        let mut bytes = Vec::new();
        let mut stream = response.bytes_stream();
        while let Some(chunk) = stream.next().await {
            let chunk = chunk.map_err(|error| CoreError::Unreachable(with_causes(&error)))?;
            bytes.extend_from_slice(&chunk);
        }
        // Best effort: a full disk only costs the offline copy.
        if tokio::fs::create_dir_all(&folder).await.is_ok()
            && tokio::fs::write(&contents, &bytes).await.is_ok()
        {
            let _ = tokio::fs::write(&kind, &content_type).await;
        }
        Ok(AttachmentFile {
            content_type,
            bytes,
        })
    }
}

#[cfg(test)]
mod tests;

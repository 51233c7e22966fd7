//! Attachment commands (B32). Like `commands.rs`, each one calls the core and nothing else.
//!
//! The console hands over a picked, dropped or pasted file's bytes as the raw IPC body (an
//! `ArrayBuffer`, not a JSON array of numbers) with its description in headers, and gets a
//! file's bytes back the same way, raw, to show it through a `blob:` URL. The session token
//! never reaches the webview.

use switchboard_core::protocol::{ApiError, AttachmentId, ChatId, ErrorCode, Message, Visibility};
use switchboard_core::{Core, UploadProgress};
use tauri::State;
use tauri::ipc::{InvokeBody, Request, Response};

use crate::error::CommandResult;

/// Headers of an `upload_attachment` invocation.
const CHAT_HEADER: &str = "x-chat";
const NAME_HEADER: &str = "x-name";
const CONTENT_TYPE_HEADER: &str = "x-content-type";
const VISIBILITY_HEADER: &str = "x-visibility";

fn bad_request(message: &str) -> ApiError {
    ApiError::new(ErrorCode::BadRequest, message)
}

fn header(request: &Request<'_>, name: &str) -> Option<String> {
    request
        .headers()
        .get(name)
        .and_then(|value| value.to_str().ok())
        .map(str::to_owned)
}

/// Decodes the `encodeURIComponent` form the console uses for non-ASCII file names.
fn percent_decode(text: &str) -> String {
    let bytes = text.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut index = 0;
    while index < bytes.len() {
        let escaped = (bytes[index] == b'%' && index + 2 < bytes.len())
            .then(|| {
                let high = (bytes[index + 1] as char).to_digit(16)?;
                let low = (bytes[index + 2] as char).to_digit(16)?;
                Some((high * 16 + low) as u8)
            })
            .flatten();
        match escaped {
            Some(byte) => {
                out.push(byte);
                index += 3;
            }
            None => {
                out.push(bytes[index]);
                index += 1;
            }
        }
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// Uploads the raw body as a file into a chat; progress arrives as `upload` core events.
#[tauri::command]
pub async fn upload_attachment(
    core: State<'_, Core>,
    request: Request<'_>,
) -> CommandResult<Message> {
    let InvokeBody::Raw(bytes) = request.body() else {
        return Err(bad_request("Send the file's bytes as the raw body."));
    };
    let chat = header(&request, CHAT_HEADER)
        .and_then(|chat| chat.parse::<i64>().ok())
        .map(ChatId)
        .ok_or_else(|| bad_request("Say which chat the file is for."))?;
    let name = percent_decode(&header(&request, NAME_HEADER).unwrap_or_default());
    let content_type = header(&request, CONTENT_TYPE_HEADER).unwrap_or_default();
    let visibility = match header(&request, VISIBILITY_HEADER).as_deref() {
        Some("note") => Visibility::Note,
        _ => Visibility::Public,
    };
    let bytes = bytes.clone();
    Ok(core
        .upload_attachment(chat, name, content_type, bytes, visibility)
        .await?)
}

/// The bytes of an attachment, raw.
#[tauri::command]
pub async fn attachment_bytes(core: State<'_, Core>, id: AttachmentId) -> CommandResult<Response> {
    let file = core.attachment(&id).await?;
    Ok(Response::new(file.bytes))
}

/// Uploads still waiting for the link (after a restart, say).
#[tauri::command]
pub fn queued_uploads(core: State<'_, Core>) -> Vec<UploadProgress> {
    core.queued_uploads()
}

#[cfg(test)]
mod tests {
    #[test]
    fn file_names_come_back_from_uri_encoding() {
        assert_eq!(
            super::percent_decode("r%C3%A9sum%C3%A9%20v2.pdf"),
            "résumé v2.pdf"
        );
        assert_eq!(super::percent_decode("100%"), "100%");
    }
}

//! Attachments (B32): a file uploaded into a chat becomes a message carrying it, and is served
//! back only to those who may read that message. The bytes live on disk in the attachments
//! folder under a random id; SQLite holds the name, the sniffed type and the message.
//!
//! Every upload is hostile until proven otherwise: its size is capped while it streams in, its
//! type is decided from its first bytes against an allow-list (the declared type only picks
//! between look-alikes such as the zip-based office formats), and downloads carry `nosniff`, a
//! sandboxing CSP and `Content-Disposition: attachment` for anything but a raster image, so no
//! upload ever runs as a page in the server's origin.

use std::path::{Path, PathBuf};

use axum::body::Body;
use axum::extract::{Path as UrlPath, Query, State};
use axum::http::{HeaderMap, HeaderValue, header};
use axum::response::{IntoResponse, Response};
use futures_util::StreamExt;
use rusqlite::{Connection, OptionalExtension, params};
use serde::Deserialize;
use switchboard_protocol::{
    ATTACHMENT_NAME_HEADER, ApiError, Attachment, AttachmentId, CLIENT_ID_HEADER, ChatId,
    ChatState, ClientId, EmojiSettings, ErrorCode, LiveChatId, Message, MessageId, OperatorEvent,
    OperatorId, Outcome, Visibility, VisitorId, VisitorMessage,
};
use tokio::io::AsyncWriteExt;

use crate::http::{AppState, HttpError, authenticated_operator, bearer_token, with_hub};
use crate::hub::Hub;
use crate::storage::{self, ChatRow, NewAuthor, StoreError, StoreResult};

/// Longest kept file name, in characters.
const MAX_NAME_CHARS: usize = 200;
/// Largest declared size of a too-large upload whose body is still read (and dropped) before
/// it is refused, so the client reliably gets the refusal; beyond it the connection is cut.
const REFUSED_BODY_READ_LIMIT: u64 = 64 * 1024 * 1024;
/// How much of a file the type sniffing reads.
const SNIFF_BYTES: usize = 8 * 1024;
/// Types a browser shows inline as an image without running anything.
const RASTER_IMAGES: [&str; 4] = ["image/png", "image/jpeg", "image/gif", "image/webp"];

/// Where uploads go and how large they may be.
#[derive(Clone, Debug)]
pub struct AttachmentStore {
    pub folder: PathBuf,
    pub max_bytes: u64,
}

impl AttachmentStore {
    /// The folder next to the database file, so one data folder holds everything.
    pub fn beside(database: &Path, max_bytes: u64) -> Self {
        let parent = database
            .parent()
            .filter(|parent| !parent.as_os_str().is_empty())
            .unwrap_or(Path::new("."));
        Self {
            folder: parent.join("attachments"),
            max_bytes,
        }
    }

    fn file(&self, id: &AttachmentId) -> PathBuf {
        self.folder.join(&id.0)
    }
}

/// The attachments of one message, in upload order.
pub fn of_message(connection: &Connection, message: MessageId) -> StoreResult<Vec<Attachment>> {
    let mut statement = connection.prepare_cached(
        "SELECT id, name, size, content_type FROM attachments WHERE message_id = ?1 ORDER BY rowid",
    )?;
    let attachments = statement
        .query_map([message.0], |row| {
            Ok(Attachment {
                id: AttachmentId(row.get(0)?),
                name: row.get(1)?,
                size: row.get::<_, i64>(2)?.max(0) as u64,
                content_type: row.get(3)?,
            })
        })?
        .collect::<Result<Vec<_>, _>>()?;
    Ok(attachments)
}

fn error(code: ErrorCode, message: &str) -> HttpError {
    HttpError(ApiError::new(code, message))
}

fn internal(context: &str, failure: impl std::fmt::Display) -> HttpError {
    tracing::error!(%failure, "{context}");
    error(
        ErrorCode::Internal,
        "The file could not be stored. Try again.",
    )
}

// ----- names and types -----

/// Decodes `%XX` escapes; anything malformed is kept as it is.
fn percent_decode(text: &str) -> String {
    let bytes = text.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut index = 0;
    while index < bytes.len() {
        if bytes[index] == b'%'
            && index + 2 < bytes.len()
            && let (Some(high), Some(low)) = (
                (bytes[index + 1] as char).to_digit(16),
                (bytes[index + 2] as char).to_digit(16),
            )
        {
            out.push((high * 16 + low) as u8);
            index += 3;
        } else {
            out.push(bytes[index]);
            index += 1;
        }
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// Encodes everything but unreserved characters, for `filename*=UTF-8''…`.
fn percent_encode(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for byte in text.bytes() {
        if byte.is_ascii_alphanumeric() || matches!(byte, b'-' | b'.' | b'_' | b'~') {
            out.push(byte as char);
        } else {
            out.push_str(&format!("%{byte:02X}"));
        }
    }
    out
}

/// The uploader's file name without path parts or control characters; "file" when nothing
/// is left.
pub fn clean_name(raw: &str) -> String {
    let decoded = percent_decode(raw);
    let last = decoded.rsplit(['/', '\\']).next().unwrap_or_default();
    let cleaned: String = last
        .chars()
        .filter(|character| !character.is_control())
        .take(MAX_NAME_CHARS)
        .collect();
    let trimmed = cleaned.trim().trim_start_matches('.').trim();
    if trimmed.is_empty() {
        "file".to_owned()
    } else {
        trimmed.to_owned()
    }
}

fn extension(name: &str) -> String {
    name.rsplit_once('.')
        .map(|(_, extension)| extension.to_ascii_lowercase())
        .unwrap_or_default()
}

/// Decides the type a file is stored and served as, from its first bytes; `None` when it is not
/// an allowed kind (images, PDF, text, office documents). Markup that browsers would run (HTML,
/// SVG, XML, scripts) is refused even when it is text.
pub fn sniff(head: &[u8], declared: &str, name: &str) -> Option<&'static str> {
    let declared = declared
        .split(';')
        .next()
        .unwrap_or_default()
        .trim()
        .to_ascii_lowercase();
    let extension = extension(name);
    if head.starts_with(b"\x89PNG\r\n\x1a\n") {
        return Some("image/png");
    }
    if head.starts_with(&[0xFF, 0xD8, 0xFF]) {
        return Some("image/jpeg");
    }
    if head.starts_with(b"GIF87a") || head.starts_with(b"GIF89a") {
        return Some("image/gif");
    }
    if head.len() >= 12 && head.starts_with(b"RIFF") && &head[8..12] == b"WEBP" {
        return Some("image/webp");
    }
    if head.starts_with(b"%PDF-") {
        return Some("application/pdf");
    }
    if head.starts_with(b"PK\x03\x04") {
        // Office Open XML and OpenDocument files are zip archives; the name tells them apart,
        // and any other archive is refused.
        return match extension.as_str() {
            "docx" => {
                Some("application/vnd.openxmlformats-officedocument.wordprocessingml.document")
            }
            "xlsx" => Some("application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"),
            "pptx" => {
                Some("application/vnd.openxmlformats-officedocument.presentationml.presentation")
            }
            "odt" => Some("application/vnd.oasis.opendocument.text"),
            "ods" => Some("application/vnd.oasis.opendocument.spreadsheet"),
            "odp" => Some("application/vnd.oasis.opendocument.presentation"),
            _ => None,
        };
    }
    if head.starts_with(&[0xD0, 0xCF, 0x11, 0xE0, 0xA1, 0xB1, 0x1A, 0xE1]) {
        return match extension.as_str() {
            "doc" => Some("application/msword"),
            "xls" => Some("application/vnd.ms-excel"),
            "ppt" => Some("application/vnd.ms-powerpoint"),
            _ => None,
        };
    }
    let markup_declared = declared.contains("html")
        || declared.contains("svg")
        || declared.contains("xml")
        || declared.contains("javascript");
    let markup_named = matches!(
        extension.as_str(),
        "html" | "htm" | "xhtml" | "svg" | "svgz" | "xml" | "js" | "mjs"
    );
    if markup_declared || markup_named || !is_text(head) {
        return None;
    }
    let leading = String::from_utf8_lossy(&head[..head.len().min(256)]).to_ascii_lowercase();
    let leading = leading.trim_start_matches('\u{feff}').trim_start();
    if leading.starts_with("<!doctype")
        || leading.starts_with("<html")
        || leading.starts_with("<svg")
        || leading.starts_with("<?xml")
        || leading.starts_with("<script")
    {
        return None;
    }
    if declared == "text/csv" || extension == "csv" {
        Some("text/csv")
    } else {
        Some("text/plain")
    }
}

/// UTF-8 without NUL bytes; a multi-byte character cut off at the end of the sample is fine.
fn is_text(head: &[u8]) -> bool {
    if head.contains(&0) {
        return false;
    }
    match std::str::from_utf8(head) {
        Ok(_) => true,
        Err(failure) => failure.error_len().is_none() && head.len() - failure.valid_up_to() < 4,
    }
}

// ----- storage -----

fn insert(
    connection: &Connection,
    message: MessageId,
    attachment: &Attachment,
    now: switchboard_protocol::Timestamp,
) -> StoreResult<()> {
    connection.execute(
        "INSERT INTO attachments (id, message_id, name, content_type, size, created_at)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
        params![
            attachment.id.0,
            message.0,
            attachment.name,
            attachment.content_type,
            i64::try_from(attachment.size).unwrap_or(i64::MAX),
            now.0
        ],
    )?;
    Ok(())
}

/// Deletes the rows of a message's attachments (its deletion, B16) and returns their ids. The
/// files go only after the commit ([`remove_files`]): a crash in between leaves files without
/// rows, which the start-up sweep ([`sweep_orphans`]) removes; never a row without its file.
pub(crate) fn delete_of_message(
    connection: &Connection,
    message: MessageId,
) -> StoreResult<Vec<AttachmentId>> {
    let mut statement =
        connection.prepare_cached("DELETE FROM attachments WHERE message_id = ?1 RETURNING id")?;
    let ids = statement
        .query_map([message.0], |row| Ok(AttachmentId(row.get(0)?)))?
        .collect::<Result<Vec<_>, _>>()?;
    Ok(ids)
}

/// The attachments folder of the server using this database: next to its file, as
/// [`AttachmentStore::beside`] puts it. `None` for a database without a file.
pub(crate) fn folder_of(database: &Connection) -> Option<PathBuf> {
    let path = database.path().filter(|path| !path.is_empty())?;
    Some(AttachmentStore::beside(Path::new(path), 0).folder)
}

/// Removes stored files whose rows are gone; a file already missing is not an error.
pub(crate) fn remove_files(folder: &Path, ids: &[AttachmentId]) {
    for id in ids {
        match std::fs::remove_file(folder.join(&id.0)) {
            Ok(()) => {}
            Err(error) if error.kind() == std::io::ErrorKind::NotFound => {}
            Err(error) => tracing::warn!(%error, attachment = %id.0, "could not remove a file"),
        }
    }
}

/// Removes the files in `folder` that no attachment row names (left by a crash between a
/// deletion's commit and its file removal, or between an upload's file and its row). Run at
/// start-up, before any upload can be under way; returns how many went.
pub fn sweep_orphans(connection: &Connection, folder: &Path) -> StoreResult<usize> {
    let entries = match std::fs::read_dir(folder) {
        Ok(entries) => entries,
        Err(error) if error.kind() == std::io::ErrorKind::NotFound => return Ok(0),
        Err(error) => {
            return Err(StoreError::Invalid(format!(
                "cannot list the attachments folder: {error}"
            )));
        }
    };
    let mut known =
        connection.prepare_cached("SELECT EXISTS (SELECT 1 FROM attachments WHERE id = ?1)")?;
    let mut removed = 0;
    for entry in entries.flatten() {
        let is_file = entry.file_type().is_ok_and(|kind| kind.is_file());
        let Some(name) = entry.file_name().to_str().map(str::to_owned) else {
            continue;
        };
        // Only names uploads get (random hex ids): anything else was not put there by us.
        let an_id = !name.is_empty() && name.bytes().all(|byte| byte.is_ascii_hexdigit());
        if !is_file || !an_id || known.query_row([&name], |row| row.get::<_, bool>(0))? {
            continue;
        }
        match std::fs::remove_file(entry.path()) {
            Ok(()) => removed += 1,
            Err(error) => tracing::warn!(%error, file = %name, "could not remove an orphan file"),
        }
    }
    Ok(removed)
}

/// What a download needs to decide who may have it.
struct Stored {
    attachment: Attachment,
    chat: ChatId,
    visibility: Visibility,
}

fn stored(connection: &Connection, id: &AttachmentId) -> StoreResult<Option<Stored>> {
    let row = connection
        .query_row(
            "SELECT a.name, a.size, a.content_type, m.chat_id, m.visibility
             FROM attachments a JOIN messages m ON m.id = a.message_id
             WHERE a.id = ?1 AND m.deleted_at IS NULL",
            [&id.0],
            |row| {
                Ok((
                    row.get::<_, String>(0)?,
                    row.get::<_, i64>(1)?,
                    row.get::<_, String>(2)?,
                    ChatId(row.get(3)?),
                    row.get::<_, String>(4)?,
                ))
            },
        )
        .optional()?;
    Ok(
        row.map(|(name, size, content_type, chat, visibility)| Stored {
            attachment: Attachment {
                id: id.clone(),
                name,
                size: size.max(0) as u64,
                content_type,
            },
            chat,
            visibility: if visibility == "public" {
                Visibility::Public
            } else {
                Visibility::Note
            },
        }),
    )
}

/// The live chat's emoji switches.
pub fn emoji_settings(
    connection: &Connection,
    live_chat: LiveChatId,
) -> StoreResult<EmojiSettings> {
    connection
        .query_row(
            "SELECT staff_emoji, visitor_emoji FROM live_chats WHERE id = ?1",
            [live_chat.0],
            |row| {
                Ok(EmojiSettings {
                    staff: row.get(0)?,
                    visitors: row.get(1)?,
                })
            },
        )
        .map_err(StoreError::from)
}

// ----- who may post -----

/// Who is uploading, with what their upload becomes.
#[derive(Clone, Copy)]
enum Uploader {
    Operator(OperatorId, Visibility),
    Visitor(VisitorId),
}

impl Uploader {
    /// Upload outcomes are remembered apart from WebSocket commands: their reply has its own
    /// shape.
    fn actor(self) -> String {
        match self {
            Uploader::Operator(operator, _) => format!("upload:operator:{operator}"),
            Uploader::Visitor(visitor) => format!("upload:visitor:{visitor}"),
        }
    }
}

/// The chat the upload goes into, if this uploader may post there now: the same rules as a text
/// reply (responsible or joined, not locked out) or a note (any member); a visitor only into
/// their own open chat.
fn writable_chat(
    database: &Connection,
    uploader: Uploader,
    chat: Option<ChatId>,
) -> Result<ChatRow, ApiError> {
    match uploader {
        Uploader::Operator(operator, visibility) => {
            let chat = Hub::member_chat(
                database,
                operator,
                chat.ok_or_else(|| ApiError::new(ErrorCode::NotFound, "There is no such chat."))?,
            )?;
            if visibility == Visibility::Public {
                let speaks = chat.state == ChatState::Active
                    && (chat.responsible == Some(operator)
                        || crate::supervision::is_participant(database, chat.id, operator)?);
                if !speaks {
                    return Err(ApiError::new(
                        ErrorCode::Forbidden,
                        "Accept the chat first: only the operator responsible for it can send the visitor files. Notes are always allowed.",
                    ));
                }
                crate::supervision::check_reply_lock(database, chat.id, operator)?;
            }
            Ok(chat)
        }
        Uploader::Visitor(visitor) => {
            let open = storage::open_chat_of_visitor(database, visitor)?.ok_or_else(|| {
                ApiError::new(
                    ErrorCode::NotFound,
                    "You have no open chat. Start one first.",
                )
            })?;
            storage::chat_row(database, open)?
                .ok_or_else(|| ApiError::new(ErrorCode::NotFound, "There is no such chat."))
        }
    }
}

/// A remembered outcome of an earlier upload with this client id, as JSON.
fn earlier_outcome(
    hub: &Hub,
    uploader: Uploader,
    client_id: &ClientId,
) -> Result<Option<String>, ApiError> {
    Ok(storage::command_outcome(
        hub.database(),
        &uploader.actor(),
        client_id,
    )?)
}

/// Posts the stored file as a message, under the hub lock in one transaction.
fn post(
    hub: &mut Hub,
    uploader: Uploader,
    chat: Option<ChatId>,
    client_id: &ClientId,
    attachment: &Attachment,
) -> Result<String, ApiError> {
    if let Some(outcome) = earlier_outcome(hub, uploader, client_id)? {
        return Ok(outcome);
    }
    let actor = uploader.actor();
    let posted = hub.transact(|effects| {
        let chat = writable_chat(effects.database, uploader, chat)?;
        let (author, visibility) = match uploader {
            Uploader::Operator(operator, visibility) => (NewAuthor::Operator(operator), visibility),
            Uploader::Visitor(_) => (NewAuthor::Visitor, Visibility::Public),
        };
        let inserted = storage::insert_message(
            effects.database,
            chat.id,
            author,
            visibility,
            "",
            Some(client_id),
            effects.now,
        )?;
        insert(effects.database, inserted.id, attachment, effects.now)?;
        let message = storage::live_message(effects.database, inserted.id)?.ok_or_else(|| {
            StoreError::Invalid(format!("message {} vanished after insert", inserted.id))
        })?;
        effects.message_posted(&chat, &message)?;
        let outcome = match uploader {
            Uploader::Operator(..) => {
                serde_json::to_string(&Outcome::<Message>::Ok { response: message })
            }
            Uploader::Visitor(_) => {
                let visible: VisitorMessage =
                    storage::visitor_message(&message).ok_or_else(|| {
                        StoreError::Invalid("a visitor upload is not public".to_owned())
                    })?;
                serde_json::to_string(&Outcome::<VisitorMessage>::Ok { response: visible })
            }
        }
        .map_err(|failure| StoreError::Invalid(failure.to_string()))?;
        storage::store_command_outcome(effects.database, &actor, client_id, &outcome, effects.now)?;
        Ok(outcome)
    })?;
    Ok(posted)
}

// ----- HTTP -----

#[derive(Debug, Deserialize)]
pub(crate) struct UploadQuery {
    visibility: Option<String>,
}

fn header_text<'a>(headers: &'a HeaderMap, name: &str) -> Option<&'a str> {
    headers.get(name).and_then(|value| value.to_str().ok())
}

fn client_id(headers: &HeaderMap) -> Result<ClientId, HttpError> {
    header_text(headers, CLIENT_ID_HEADER)
        .map(str::trim)
        .filter(|id| !id.is_empty() && id.len() <= ClientId::MAX_LEN)
        .map(|id| ClientId(id.to_owned()))
        .ok_or_else(|| {
            error(
                ErrorCode::BadRequest,
                "An upload needs an x-client-id header of 1 to 64 characters.",
            )
        })
}

fn too_large(store: &AttachmentStore) -> HttpError {
    HttpError(ApiError::new(
        ErrorCode::TooLarge,
        format!(
            "This file is too large: the limit is {}.",
            human_size(store.max_bytes)
        ),
    ))
}

/// "10 MB"-style sizes for messages people read.
fn human_size(bytes: u64) -> String {
    const MIB: u64 = 1024 * 1024;
    if bytes >= MIB && bytes.is_multiple_of(MIB) {
        format!("{} MB", bytes / MIB)
    } else if bytes >= 1024 {
        format!("{} KB", bytes / 1024)
    } else {
        format!("{bytes} bytes")
    }
}

/// Streams the body into a new file, stopping at the limit; returns its id and size.
async fn receive(
    store: &AttachmentStore,
    headers: &HeaderMap,
    body: Body,
) -> Result<(AttachmentId, u64), HttpError> {
    let declared_length = header_text(headers, header::CONTENT_LENGTH.as_str())
        .and_then(|length| length.parse::<u64>().ok());
    if let Some(length) = declared_length.filter(|length| *length > store.max_bytes) {
        // The refusal is read before it is sent, up to a bound: a connection closed with
        // request bytes unread is reset by the kernel, and a client still writing its body
        // then sees a broken connection instead of this answer (and keeps the file queued to
        // retry, as if the server were unreachable).
        if length <= REFUSED_BODY_READ_LIMIT {
            let mut stream = body.into_data_stream();
            while let Some(Ok(_)) = stream.next().await {}
        }
        return Err(too_large(store));
    }
    tokio::fs::create_dir_all(&store.folder)
        .await
        .map_err(|failure| internal("cannot create the attachments folder", failure))?;
    let id = AttachmentId(
        crate::credentials::new_token()
            .map_err(|failure| internal("no randomness for an attachment id", failure))?,
    );
    let path = store.file(&id);
    let mut file = tokio::fs::File::create(&path)
        .await
        .map_err(|failure| internal("cannot create an attachment file", failure))?;
    let mut size: u64 = 0;
    let mut stream = body.into_data_stream();
    let outcome = async {
        while let Some(chunk) = stream.next().await {
            let chunk = chunk.map_err(|_| {
                error(
                    ErrorCode::BadRequest,
                    "The upload was interrupted. Try again.",
                )
            })?;
            size += chunk.len() as u64;
            if size > store.max_bytes {
                return Err(too_large(store));
            }
            file.write_all(&chunk)
                .await
                .map_err(|failure| internal("cannot write an attachment file", failure))?;
        }
        file.flush()
            .await
            .map_err(|failure| internal("cannot write an attachment file", failure))?;
        if size == 0 {
            return Err(error(ErrorCode::BadRequest, "This file is empty."));
        }
        Ok(())
    }
    .await;
    drop(file);
    match outcome {
        Ok(()) => Ok((id, size)),
        Err(failure) => {
            let _ = tokio::fs::remove_file(&path).await;
            Err(failure)
        }
    }
}

async fn head_of(path: &Path) -> std::io::Result<Vec<u8>> {
    use tokio::io::AsyncReadExt;
    let mut file = tokio::fs::File::open(path).await?;
    let mut head = vec![0_u8; SNIFF_BYTES];
    let mut filled = 0;
    while filled < head.len() {
        let read = file.read(&mut head[filled..]).await?;
        if read == 0 {
            break;
        }
        filled += read;
    }
    head.truncate(filled);
    Ok(head)
}

/// The shared part of both upload routes: authorise, take the file, post it.
async fn upload(
    state: AppState,
    uploader: Uploader,
    chat: Option<ChatId>,
    headers: HeaderMap,
    body: Body,
) -> Result<Response, HttpError> {
    let client_id = client_id(&headers)?;
    // A stranger must not be able to fill the disk, and a resend must not store twice: both are
    // settled before a byte of the body is read.
    let check_id = client_id.clone();
    let earlier = with_hub(&state, move |hub| {
        let hub = hub.lock();
        if let Some(outcome) = earlier_outcome(&hub, uploader, &check_id)? {
            return Ok(Some(outcome));
        }
        writable_chat(hub.database(), uploader, chat)?;
        Ok(None)
    })
    .await?;
    if let Some(outcome) = earlier {
        return Ok(outcome_response(outcome));
    }
    let store = state.attachments.clone();
    let (id, size) = receive(&store, &headers, body).await?;
    let path = store.file(&id);
    let head = match head_of(&path).await {
        Ok(head) => head,
        Err(failure) => {
            let _ = tokio::fs::remove_file(&path).await;
            return Err(internal("cannot read an attachment back", failure));
        }
    };
    let name = clean_name(header_text(&headers, ATTACHMENT_NAME_HEADER).unwrap_or_default());
    let declared = header_text(&headers, header::CONTENT_TYPE.as_str()).unwrap_or_default();
    let Some(content_type) = sniff(&head, declared, &name) else {
        let _ = tokio::fs::remove_file(&path).await;
        return Err(error(
            ErrorCode::BadRequest,
            "This kind of file cannot be sent. Images, PDF, text and office documents can.",
        ));
    };
    let attachment = Attachment {
        id,
        name,
        size,
        content_type: content_type.to_owned(),
    };
    let posted = with_hub(&state, move |hub| {
        post(&mut hub.lock(), uploader, chat, &client_id, &attachment)
    })
    .await;
    match posted {
        Ok(outcome) => {
            // A concurrent resend may have won: then this copy belongs to no message.
            if !outcome.contains(&store.file_name_marker(&path)) {
                let _ = tokio::fs::remove_file(&path).await;
            }
            Ok(outcome_response(outcome))
        }
        Err(failure) => {
            let _ = tokio::fs::remove_file(&path).await;
            Err(failure)
        }
    }
}

impl AttachmentStore {
    /// The id part of a stored file's path, as it appears in a posted message's JSON.
    fn file_name_marker(&self, path: &Path) -> String {
        path.file_name()
            .map(|name| format!("\"{}\"", name.to_string_lossy()))
            .unwrap_or_default()
    }
}

/// Answers with a remembered or new outcome: the response itself, or its error and status.
fn outcome_response(outcome: String) -> Response {
    match serde_json::from_str::<Outcome<serde_json::Value>>(&outcome) {
        Ok(Outcome::Ok { response }) => axum::Json(response).into_response(),
        Ok(Outcome::Error { error }) => HttpError(error).into_response(),
        Err(_) => error(ErrorCode::Internal, "The upload's outcome was lost.").into_response(),
    }
}

/// `POST /api/v1/chats/{id}/attachments`.
pub(crate) async fn operator_upload(
    State(state): State<AppState>,
    UrlPath(chat): UrlPath<String>,
    Query(query): Query<UploadQuery>,
    headers: HeaderMap,
    body: Body,
) -> Result<Response, HttpError> {
    let operator = authenticated_operator(&state, &headers).await?;
    let chat = chat
        .parse::<i64>()
        .map(ChatId)
        .map_err(|_| error(ErrorCode::NotFound, "There is no such chat."))?;
    let visibility = match query.visibility.as_deref() {
        None | Some("public") => Visibility::Public,
        Some("note") => Visibility::Note,
        Some(_) => {
            return Err(error(
                ErrorCode::BadRequest,
                "visibility is either public or note.",
            ));
        }
    };
    upload(
        state,
        Uploader::Operator(operator, visibility),
        Some(chat),
        headers,
        body,
    )
    .await
}

async fn authenticated_visitor(
    state: &AppState,
    headers: &HeaderMap,
) -> Result<VisitorId, HttpError> {
    let token = bearer_token(headers)?;
    with_hub(state, move |hub| {
        hub.lock()
            .visitor_for_token(&token)?
            .map(|(visitor, _)| visitor)
            .ok_or_else(|| {
                ApiError::new(
                    ErrorCode::Unauthorized,
                    "This session is not valid any more.",
                )
            })
    })
    .await
}

/// `POST /api/v1/visitor/attachments`.
pub(crate) async fn visitor_upload(
    State(state): State<AppState>,
    headers: HeaderMap,
    body: Body,
) -> Result<Response, HttpError> {
    let visitor = authenticated_visitor(&state, &headers).await?;
    upload(state, Uploader::Visitor(visitor), None, headers, body).await
}

/// `GET /api/v1/attachments/{id}`: an operator token of a member of the chat's live chat, or
/// the chat's visitor's token for a public message.
pub(crate) async fn download(
    State(state): State<AppState>,
    UrlPath(id): UrlPath<String>,
    headers: HeaderMap,
) -> Result<Response, HttpError> {
    let token = bearer_token(&headers)?;
    let id = AttachmentId(id);
    let lookup = id.clone();
    let allowed = with_hub(&state, move |hub| {
        let hub = hub.lock();
        let database = hub.database();
        let operator = hub.operator_for_token(&token)?;
        let visitor = match operator {
            Some(_) => None,
            None => hub.visitor_for_token(&token)?.map(|(visitor, _)| visitor),
        };
        if operator.is_none() && visitor.is_none() {
            return Err(ApiError::new(
                ErrorCode::Unauthorized,
                "This session is not valid any more.",
            ));
        }
        // Strangers learn nothing, not even that the file exists.
        let hidden = || ApiError::new(ErrorCode::NotFound, "There is no such file.");
        let stored = stored(database, &lookup)?.ok_or_else(hidden)?;
        let chat = storage::chat_row(database, stored.chat)?.ok_or_else(hidden)?;
        let permitted = match (operator, visitor) {
            (Some(operator), _) => storage::is_member(database, operator, chat.live_chat)?,
            (None, Some(visitor)) => {
                chat.visitor == visitor && stored.visibility == Visibility::Public
            }
            (None, None) => false,
        };
        if permitted {
            Ok(stored.attachment)
        } else {
            Err(hidden())
        }
    })
    .await?;
    let bytes = tokio::fs::read(state.attachments.file(&id))
        .await
        .map_err(|failure| internal("a stored attachment file is missing", failure))?;
    Ok(file_response(&allowed, bytes))
}

/// The file with headers that keep it inert: sniffing off, a CSP that allows nothing and
/// sandboxes, and a download prompt for everything but raster images.
fn file_response(attachment: &Attachment, bytes: Vec<u8>) -> Response {
    let content_type = if attachment.content_type.starts_with("text/") {
        format!("{}; charset=utf-8", attachment.content_type)
    } else {
        attachment.content_type.clone()
    };
    let disposition = if RASTER_IMAGES.contains(&attachment.content_type.as_str()) {
        "inline".to_owned()
    } else {
        format!(
            "attachment; filename*=UTF-8''{}",
            percent_encode(&attachment.name)
        )
    };
    let mut response = Body::from(bytes).into_response();
    let headers = response.headers_mut();
    let values = [
        (header::CONTENT_TYPE, content_type),
        (header::CONTENT_DISPOSITION, disposition),
        (header::X_CONTENT_TYPE_OPTIONS, "nosniff".to_owned()),
        (
            header::CONTENT_SECURITY_POLICY,
            "default-src 'none'; img-src 'self'; style-src 'unsafe-inline'; sandbox".to_owned(),
        ),
        (header::CACHE_CONTROL, "private, no-store".to_owned()),
    ];
    for (name, value) in values {
        if let Ok(value) = HeaderValue::from_str(&value) {
            headers.insert(name, value);
        }
    }
    response
}

/// `GET /api/v1/live-chats/{id}/emoji` (member).
pub(crate) async fn get_emoji(
    State(state): State<AppState>,
    UrlPath(live_chat): UrlPath<String>,
    headers: HeaderMap,
) -> Result<axum::Json<EmojiSettings>, HttpError> {
    let operator = authenticated_operator(&state, &headers).await?;
    let live_chat = live_chat_id(&live_chat)?;
    with_hub(&state, move |hub| {
        let hub = hub.lock();
        if !storage::is_member(hub.database(), operator, live_chat)? {
            return Err(ApiError::new(
                ErrorCode::Forbidden,
                "You are not a member of this live chat.",
            ));
        }
        Ok(emoji_settings(hub.database(), live_chat)?)
    })
    .await
    .map(axum::Json)
}

/// `POST /api/v1/live-chats/{id}/emoji` (supervisor).
pub(crate) async fn save_emoji(
    State(state): State<AppState>,
    UrlPath(live_chat): UrlPath<String>,
    headers: HeaderMap,
    axum::Json(settings): axum::Json<EmojiSettings>,
) -> Result<axum::Json<EmojiSettings>, HttpError> {
    let operator = authenticated_operator(&state, &headers).await?;
    let live_chat = live_chat_id(&live_chat)?;
    with_hub(&state, move |hub| {
        let mut hub = hub.lock();
        if !storage::is_supervisor(hub.database(), operator, live_chat)? {
            return Err(ApiError::new(
                ErrorCode::Forbidden,
                "Only a supervisor of this live chat can change its emoji settings.",
            ));
        }
        hub.transact(|effects| {
            let before = emoji_settings(effects.database, live_chat)?;
            effects
                .database
                .execute(
                    "UPDATE live_chats SET staff_emoji = ?2, visitor_emoji = ?3 WHERE id = ?1",
                    params![live_chat.0, settings.staff, settings.visitors],
                )
                .map_err(StoreError::from)?;
            // Members' consoles show or hide the emoji button at once, without signing in
            // again; an unchanged switch logs nothing.
            if before.staff != settings.staff {
                effects.notify_members(
                    live_chat,
                    &OperatorEvent::StaffEmojiChanged {
                        live_chat,
                        enabled: settings.staff,
                    },
                )?;
            }
            // Widgets of open chats show or hide their picker at once. It travels in the chat
            // itself (logged `ChatUpdated`), so a resume or a snapshot says the same.
            if before.visitors != settings.visitors {
                effects.resend_open_chats(live_chat)?;
            }
            Ok(emoji_settings(effects.database, live_chat)?)
        })
    })
    .await
    .map(axum::Json)
}

fn live_chat_id(text: &str) -> Result<LiveChatId, HttpError> {
    text.parse::<i64>()
        .map(LiveChatId)
        .map_err(|_| error(ErrorCode::NotFound, "There is no such live chat."))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn b32_sniffing_allows_images_pdf_text_and_office_documents_only() {
        assert_eq!(
            sniff(b"\x89PNG\r\n\x1a\n....", "", "a.png"),
            Some("image/png")
        );
        assert_eq!(
            sniff(b"\x89PNG\r\n\x1a\n....", "text/html", "a.html"),
            Some("image/png"),
            "the bytes decide, not the declared type"
        );
        assert_eq!(sniff(b"%PDF-1.7", "", "a.pdf"), Some("application/pdf"));
        assert_eq!(
            sniff("héllo, wörld".as_bytes(), "text/plain", "notes.txt"),
            Some("text/plain")
        );
        assert_eq!(sniff(b"a,b\n1,2\n", "", "table.csv"), Some("text/csv"));
        assert_eq!(
            sniff(b"PK\x03\x04rest", "", "report.docx"),
            Some("application/vnd.openxmlformats-officedocument.wordprocessingml.document")
        );
        assert_eq!(
            sniff(b"PK\x03\x04rest", "application/zip", "archive.zip"),
            None
        );
        assert_eq!(
            sniff(b"<html><script>alert(1)</script>", "text/plain", "x.txt"),
            None
        );
        assert_eq!(sniff(b"<svg onload=alert(1)>", "", "x.txt"), None);
        assert_eq!(sniff(b"hello", "image/svg+xml", "x.svg"), None);
        assert_eq!(sniff(b"hello", "text/html", "x.txt"), None);
        assert_eq!(
            sniff(b"MZ\x90\x00\x03\x00", "application/octet-stream", "a.exe"),
            None
        );
    }

    #[test]
    fn file_names_lose_paths_and_control_characters() {
        assert_eq!(clean_name("..%2F..%2Fetc%2Fpasswd"), "passwd");
        assert_eq!(
            clean_name("C:\\Users\\ann\\r%C3%A9sum%C3%A9.pdf"),
            "résumé.pdf"
        );
        assert_eq!(clean_name("a\u{7}b.txt"), "ab.txt");
        assert_eq!(clean_name(""), "file");
        assert_eq!(clean_name("..."), "file");
        assert_eq!(percent_encode("r é\"s.pdf"), "r%20%C3%A9%22s.pdf");
    }

    #[test]
    fn a_truncated_character_at_the_end_of_the_sample_is_still_text() {
        let text = "ééé".as_bytes();
        assert!(is_text(&text[..text.len() - 1]));
        assert!(!is_text(b"\xff\xfe\x00a"));
    }
}

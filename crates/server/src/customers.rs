//! Customer records (B34): staff turn a chat's visitor into a customer record with a name, an
//! optional email and staff-only notes. The visitor row points at the record, so every later chat
//! of the same visitor (the widget keeps its visitor token) shows it in the customer panel.
//! Members of the chat's live chat may read and create; nothing here ever reaches the visitor.

use axum::body::Bytes;
use axum::extract::rejection::BytesRejection;
use axum::extract::{Path, State};
use axum::http::HeaderMap;
use rusqlite::{Connection, OptionalExtension, params};
use switchboard_protocol::{
    ApiError, ChatId, CreateCustomerRequest, Customer, ErrorCode, LiveChatId,
    MAX_CUSTOMER_NAME_CHARS, MAX_CUSTOMER_NOTES_CHARS, OperatorId, OperatorRef, Timestamp,
    VisitorId,
};

use crate::http::{AppState, HttpResult, authenticated_operator, json_body, path_id, with_hub};
use crate::hub::Hub;
use crate::storage::{StoreError, StoreResult};

const MAX_EMAIL_CHARS: usize = 254;

fn customer_by_id(connection: &Connection, id: i64) -> StoreResult<Option<Customer>> {
    Ok(connection
        .query_row(
            "SELECT c.id, c.live_chat_id, c.name, c.email, c.notes, c.created_by, o.name,
                    c.created_at
             FROM customers c LEFT JOIN operators o ON o.id = c.created_by
             WHERE c.id = ?1",
            [id],
            |row| {
                let created_by = match (
                    row.get::<_, Option<i64>>(5)?,
                    row.get::<_, Option<String>>(6)?,
                ) {
                    (Some(id), Some(name)) => Some(OperatorRef {
                        id: OperatorId(id),
                        name,
                    }),
                    _ => None,
                };
                Ok(Customer {
                    id: row.get(0)?,
                    live_chat: LiveChatId(row.get(1)?),
                    name: row.get(2)?,
                    email: row.get(3)?,
                    notes: row.get(4)?,
                    created_by,
                    created_at: Timestamp(row.get(7)?),
                })
            },
        )
        .optional()?)
}

fn customer_of_visitor(
    connection: &Connection,
    visitor: VisitorId,
) -> StoreResult<Option<Customer>> {
    let linked: Option<i64> = connection
        .query_row(
            "SELECT customer_id FROM visitors WHERE id = ?1",
            [visitor.0],
            |row| row.get(0),
        )
        .optional()?
        .flatten();
    match linked {
        Some(id) => customer_by_id(connection, id),
        None => Ok(None),
    }
}

fn bad_request(message: String) -> ApiError {
    ApiError::new(ErrorCode::BadRequest, message)
}

/// The request with its text trimmed, or why it cannot be stored.
fn validated(request: CreateCustomerRequest) -> Result<CreateCustomerRequest, ApiError> {
    let name = request.name.trim().to_owned();
    if name.is_empty() {
        return Err(bad_request("A customer needs a name.".to_owned()));
    }
    if name.chars().count() > MAX_CUSTOMER_NAME_CHARS {
        return Err(bad_request(format!(
            "A customer name can have at most {MAX_CUSTOMER_NAME_CHARS} characters."
        )));
    }
    let email = request
        .email
        .map(|email| email.trim().to_owned())
        .filter(|email| !email.is_empty());
    if let Some(email) = &email
        && (email.chars().count() > MAX_EMAIL_CHARS || !email.contains('@'))
    {
        return Err(bad_request("That email address is not valid.".to_owned()));
    }
    let notes = request.notes.trim().to_owned();
    if notes.chars().count() > MAX_CUSTOMER_NOTES_CHARS {
        return Err(bad_request(format!(
            "Customer notes can have at most {MAX_CUSTOMER_NOTES_CHARS} characters."
        )));
    }
    Ok(CreateCustomerRequest {
        chat: request.chat,
        name,
        email,
        notes,
    })
}

impl Hub {
    /// The customer record of the chat's visitor, for a member of its live chat.
    pub fn chat_customer(
        &self,
        operator: OperatorId,
        chat: ChatId,
    ) -> Result<Option<Customer>, ApiError> {
        let row = Self::member_chat(self.database(), operator, chat)?;
        Ok(customer_of_visitor(self.database(), row.visitor)?)
    }

    /// Creates a customer record for the chat's visitor and links the visitor to it.
    pub fn create_customer(
        &mut self,
        operator: OperatorId,
        request: CreateCustomerRequest,
    ) -> Result<Customer, ApiError> {
        let request = validated(request)?;
        self.transact(|effects| {
            let row = Self::member_chat(effects.database, operator, request.chat)?;
            if customer_of_visitor(effects.database, row.visitor)?.is_some() {
                return Err(ApiError::new(
                    ErrorCode::Conflict,
                    "This visitor already has a customer record.",
                ));
            }
            effects
                .database
                .execute(
                    "INSERT INTO customers (live_chat_id, name, email, notes, created_by, created_at)
                     VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
                    params![
                        row.live_chat.0,
                        request.name,
                        request.email,
                        request.notes,
                        operator.0,
                        effects.now.0
                    ],
                )
                .map_err(StoreError::from)?;
            let id = effects.database.last_insert_rowid();
            effects
                .database
                .execute(
                    "UPDATE visitors SET customer_id = ?1 WHERE id = ?2",
                    [id, row.visitor.0],
                )
                .map_err(StoreError::from)?;
            Ok(customer_by_id(effects.database, id)?.ok_or_else(|| {
                StoreError::Invalid(format!("customer {id} vanished after insert"))
            })?)
        })
    }
}

pub(crate) async fn get_for_chat(
    State(state): State<AppState>,
    headers: HeaderMap,
    Path(chat): Path<String>,
) -> HttpResult<Option<Customer>> {
    let operator = authenticated_operator(&state, &headers).await?;
    let chat = ChatId(path_id(&chat, "chat")?);
    with_hub(&state, move |hub| hub.lock().chat_customer(operator, chat))
        .await
        .map(axum::Json)
}

pub(crate) async fn create(
    State(state): State<AppState>,
    headers: HeaderMap,
    body: Result<Bytes, BytesRejection>,
) -> HttpResult<Customer> {
    let operator = authenticated_operator(&state, &headers).await?;
    let request: CreateCustomerRequest = json_body(body)?;
    with_hub(&state, move |hub| {
        hub.lock().create_customer(operator, request)
    })
    .await
    .map(axum::Json)
}

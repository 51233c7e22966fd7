//! Knowledge base articles (B31): published per live chat, searched on the server so the
//! console never needs the whole knowledge base.

use rusqlite::{Connection, params};
use switchboard_protocol::{Article, LiveChatId, MAX_ARTICLE_RESULTS, OperatorId};

use crate::storage::StoreResult;

/// Articles of the operator's live chats whose title or text contains `query` (any case),
/// title matches first; the newest articles for an empty query.
pub fn search_articles(
    connection: &Connection,
    operator: OperatorId,
    query: &str,
) -> StoreResult<Vec<Article>> {
    // LIKE with the query's own wildcards escaped: "100%" finds "100%", not everything.
    let escaped = query
        .trim()
        .replace('\\', "\\\\")
        .replace('%', "\\%")
        .replace('_', "\\_");
    let pattern = format!("%{escaped}%");
    let mut statement = connection.prepare_cached(
        "SELECT id, live_chat_id, title, url, body FROM articles
         WHERE live_chat_id IN (SELECT live_chat_id FROM memberships WHERE operator_id = ?1)
           AND (title LIKE ?2 ESCAPE '\\' OR body LIKE ?2 ESCAPE '\\')
         ORDER BY (title LIKE ?2 ESCAPE '\\') DESC, id DESC
         LIMIT ?3",
    )?;
    let rows = statement.query_map(
        params![operator.0, pattern, MAX_ARTICLE_RESULTS as i64],
        |row| {
            Ok(Article {
                id: row.get(0)?,
                live_chat: LiveChatId(row.get(1)?),
                title: row.get(2)?,
                url: row.get(3)?,
                body: row.get(4)?,
            })
        },
    )?;
    Ok(rows.collect::<Result<_, _>>()?)
}

pub fn insert_article(
    connection: &Connection,
    live_chat: LiveChatId,
    title: &str,
    url: &str,
    body: &str,
) -> StoreResult<i64> {
    connection.execute(
        "INSERT INTO articles (live_chat_id, title, url, body) VALUES (?1, ?2, ?3, ?4)",
        params![live_chat.0, title, url, body],
    )?;
    Ok(connection.last_insert_rowid())
}

/// The demo live chat's articles, added once.
pub fn seed_demo(connection: &Connection, live_chat: LiveChatId) -> StoreResult<()> {
    let existing: i64 = connection.query_row(
        "SELECT COUNT(*) FROM articles WHERE live_chat_id = ?1",
        [live_chat.0],
        |row| row.get(0),
    )?;
    if existing > 0 {
        return Ok(());
    }
    for (title, url, body) in DEMO_ARTICLES {
        insert_article(connection, live_chat, title, url, body)?;
    }
    Ok(())
}

const DEMO_ARTICLES: &[(&str, &str, &str)] = &[
    (
        "Shipping times",
        "https://help.acme.example/shipping",
        "Orders ship within 2 working days; delivery takes 3 to 5 days.",
    ),
    (
        "Refunds",
        "https://help.acme.example/refunds",
        "Refunds reach your account within 5 working days.",
    ),
    (
        "Resetting your password",
        "https://help.acme.example/password",
        "Use \"Forgot password\" on the sign-in page; the link is valid for an hour.",
    ),
];

//! Visitor retention (B50) on real SQLite files, with the clock passed in: visitors without a
//! chat, a customer record or recent activity go with their sessions and logs, in batches;
//! visitors with chats, customers or an open connection stay.

use rusqlite::{Connection, params};
use switchboard_protocol::{OperatorEvent, Timestamp, VisitorId, VisitorPageView, VisitorResponse};
use switchboard_server::retention;
use switchboard_server::storage;
use switchboard_server::test_support::{
    ANN, DEMO_EMBED_KEY, DEMO_PASSWORD, TestOperator, TestServer, TestVisitor,
};

const DAY: i64 = 24 * 60 * 60 * 1000;
const NOW: Timestamp = Timestamp(1_800_000_000_000);

fn demo_database() -> (tempfile::TempDir, Connection) {
    let directory = tempfile::tempdir().expect("temp dir");
    let mut connection =
        storage::open(&directory.path().join("switchboard.sqlite3")).expect("open the database");
    storage::seed_demo(&mut connection).expect("seed the demo");
    (directory, connection)
}

/// A visitor of the demo live chat last seen `days_ago`, with a session, a logged event and a
/// logged command outcome, as a page load leaves them.
fn visitor_seen(connection: &Connection, days_ago: i64) -> VisitorId {
    let at = Timestamp(NOW.0 - days_ago * DAY);
    let visitor = storage::insert_visitor(connection, switchboard_protocol::LiveChatId(1), at)
        .expect("visitor");
    storage::insert_visitor_token(
        connection,
        &format!("hash-{}", visitor.0),
        visitor,
        at,
        Timestamp(at.0 + 30 * DAY),
    )
    .expect("token");
    let stream = format!("visitor:{}", visitor.0);
    connection
        .execute(
            "INSERT INTO events (stream, seq, payload, at) VALUES (?1, 1, '{}', ?2)",
            params![stream, at.0],
        )
        .expect("event");
    connection
        .execute(
            "INSERT INTO command_log (actor, client_id, outcome, at) VALUES (?1, 'c1', '{}', ?2)",
            params![stream, at.0],
        )
        .expect("command outcome");
    visitor
}

fn count(connection: &Connection, sql: &str, visitor: VisitorId) -> i64 {
    connection
        .query_row(sql, [visitor.0], |row| row.get(0))
        .expect("count")
}

fn exists(connection: &Connection, visitor: VisitorId) -> bool {
    count(
        connection,
        "SELECT COUNT(*) FROM visitors WHERE id = ?1",
        visitor,
    ) == 1
}

fn cutoff_30_days() -> Timestamp {
    retention::cutoff(NOW, 30).expect("30 days is a retention")
}

#[test]
fn b50_idle_visitors_without_chat_or_customer_go_with_their_sessions_and_logs() {
    let (_directory, mut connection) = demo_database();
    let idle = visitor_seen(&connection, 31);
    let recent = visitor_seen(&connection, 29);
    let with_chat = visitor_seen(&connection, 400);
    connection
        .execute(
            "INSERT INTO chats (live_chat_id, visitor_id, state, subject, created_at, updated_at)
             VALUES (1, ?1, 'closed', 'Anvils', ?2, ?2)",
            params![with_chat.0, NOW.0 - 400 * DAY],
        )
        .expect("chat");
    let customer_linked = visitor_seen(&connection, 400);
    connection
        .execute(
            "INSERT INTO customers (live_chat_id, name, created_at) VALUES (1, 'Wile E.', 0)",
            [],
        )
        .expect("customer");
    connection
        .execute(
            "UPDATE visitors SET customer_id = last_insert_rowid() WHERE id = ?1",
            [customer_linked.0],
        )
        .expect("link");

    let deleted =
        retention::prune_batch(&mut connection, cutoff_30_days(), retention::BATCH, |_| {
            false
        })
        .expect("prune");

    assert_eq!(deleted, 1);
    assert!(!exists(&connection, idle));
    for kept in [recent, with_chat, customer_linked] {
        assert!(exists(&connection, kept), "visitor {kept:?} is kept");
    }
    let sql_per_table = [
        "SELECT COUNT(*) FROM visitor_tokens WHERE visitor_id = ?1",
        "SELECT COUNT(*) FROM events WHERE stream = 'visitor:' || ?1",
        "SELECT COUNT(*) FROM command_log WHERE actor = 'visitor:' || ?1",
    ];
    for sql in sql_per_table {
        assert_eq!(count(&connection, sql, idle), 0, "{sql}");
        assert_eq!(count(&connection, sql, recent), 1, "{sql}");
    }
}

#[test]
fn b50_pruning_goes_in_batches_and_skips_visitors_the_caller_keeps() {
    let (_directory, mut connection) = demo_database();
    let kept = visitor_seen(&connection, 100);
    for _ in 0..450 {
        visitor_seen(&connection, 60);
    }
    let mut batches = Vec::new();
    loop {
        let deleted = retention::prune_batch(&mut connection, cutoff_30_days(), 200, |visitor| {
            visitor == kept
        })
        .expect("prune");
        if deleted == 0 {
            break;
        }
        batches.push(deleted);
    }
    // The kept visitor is the oldest, so it takes a place in every batch.
    assert_eq!(batches, vec![199, 199, 52]);
    assert!(exists(&connection, kept));
    let left: i64 = connection
        .query_row("SELECT COUNT(*) FROM visitors", [], |row| row.get(0))
        .expect("count");
    assert_eq!(left, 1);
}

#[test]
fn b50_the_retention_query_uses_indexes() {
    let (_directory, connection) = demo_database();
    let mut statement = connection
        .prepare(
            "EXPLAIN QUERY PLAN SELECT v.id FROM visitors v
             WHERE v.last_seen_at < ?1 AND v.customer_id IS NULL
               AND NOT EXISTS (SELECT 1 FROM chats c WHERE c.visitor_id = v.id)
             ORDER BY v.last_seen_at LIMIT ?2",
        )
        .expect("plan");
    let plan = statement
        .query_map(params![NOW.0, 200], |row| row.get::<_, String>(3))
        .expect("plan rows")
        .collect::<Result<Vec<_>, _>>()
        .expect("plan rows")
        .join("\n");
    assert!(plan.contains("visitors_by_last_seen"), "{plan}");
    assert!(plan.contains("chats_by_visitor"), "{plan}");
    assert!(!plan.contains("TEMP B-TREE"), "{plan}");
}

#[tokio::test]
async fn b50_the_server_keeps_connected_visitors_and_visitors_with_chats() {
    let server = TestServer::start_tweaked(|config| config.visitor_leave_grace_ms = 0).await;
    let mut ann = TestOperator::sign_in(&server.url(), ANN, DEMO_PASSWORD).await;
    let mut gone = TestVisitor::connect(&server.url(), DEMO_EMBED_KEY).await;
    let mut chatting = TestVisitor::connect(&server.url(), DEMO_EMBED_KEY).await;
    chatting.start_chat("Wile E.", "Where is my anvil?").await;
    let still_here = TestVisitor::connect(&server.url(), DEMO_EMBED_KEY).await;
    match gone
        .command(VisitorPageView {
            url: "https://acme.example/".into(),
            title: None,
            referrer: None,
            time_zone: None,
        })
        .await
    {
        Ok(VisitorResponse::PageView(_)) => {}
        other => panic!("page view answered with {other:?}"),
    }
    gone.socket().disconnect().await;
    // The departure is announced after the server saw the last socket close (and noted it).
    ann.socket()
        .wait_for_transient("the idle visitor's departure", |event| {
            matches!(event, OperatorEvent::VisitorLeft { visitor, .. } if *visitor == gone.id())
        })
        .await;
    chatting.socket().disconnect().await;
    // Zero days keeps everyone forever.
    assert_eq!(server.prune_visitors(Timestamp(i64::MAX / 2), 0), 0);

    let forty_days_on = Timestamp(storage::now().0 + 40 * DAY);
    assert_eq!(server.prune_visitors(forty_days_on, 30), 1);
    let database = Connection::open(server.database_path()).expect("open the database");
    assert!(!exists(&database, gone.id()), "the idle visitor went");
    assert!(
        exists(&database, chatting.id()),
        "a visitor with a chat stays"
    );
    assert!(
        exists(&database, still_here.id()),
        "a connected visitor stays"
    );
    server.stop().await;
}

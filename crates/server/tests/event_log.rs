//! The shared operator event log (issue 3): an event many operators get is stored once, each
//! operator's frames still form one ordered stream (`prev` names the predecessor), and resume
//! stays exact. Real server, real SQLite, real WebSockets.

use switchboard_protocol::{ChatId, OperatorEvent, RingStopReason};
use switchboard_server::test_support::{
    ANN, BOB, DEMO_EMBED_KEY, DEMO_PASSWORD, SUE, TestOperator, TestServer, TestVisitor,
};

fn rings(chat: ChatId) -> impl Fn(&OperatorEvent) -> bool {
    move |event| matches!(event, OperatorEvent::RingStarted { chat: ringing } if *ringing == chat)
}

fn stops(chat: ChatId) -> impl Fn(&OperatorEvent) -> bool {
    move |event| matches!(event, OperatorEvent::RingStopped { chat: stopped, .. } if *stopped == chat)
}

/// (seq, prev) of every event frame received so far, oldest first.
fn event_numbers(operator: &TestOperator) -> Vec<(u64, Option<u64>)> {
    operator
        .raw_frames()
        .iter()
        .filter_map(|frame| {
            let frame: serde_json::Value = serde_json::from_str(frame).ok()?;
            (frame["type"] == "event").then(|| {
                (
                    frame["seq"].as_u64().expect("a sequence number"),
                    frame["prev"].as_u64(),
                )
            })
        })
        .collect()
}

fn stored_events(server: &TestServer) -> i64 {
    let database =
        rusqlite::Connection::open(server.database_path()).expect("open the test database");
    database
        .query_row("SELECT COUNT(*) FROM operator_events", [], |row| row.get(0))
        .expect("count the log")
}

#[tokio::test]
async fn b01_a_ring_all_chat_stores_each_event_once_for_every_operator() {
    let server = TestServer::start().await;
    let mut operators = Vec::new();
    for email in [ANN, BOB, SUE] {
        operators.push(TestOperator::sign_in(&server.url(), email, DEMO_PASSWORD).await);
    }
    let before = stored_events(&server);
    let mut visitor = TestVisitor::connect(&server.url(), DEMO_EMBED_KEY).await;
    let chat = visitor.start_chat("Coyote", "Who answers?").await;
    for operator in &mut operators {
        operator.wait_for("the ring", rings(chat.id)).await;
    }
    let numbers: Vec<Vec<(u64, Option<u64>)>> = operators.iter().map(event_numbers).collect();
    // Everyone got the same events (chat, question, ring) under the same numbers...
    let new_events: Vec<u64> = numbers[0]
        .iter()
        .map(|(seq, _)| *seq)
        .filter(|seq| *seq as i64 > before)
        .collect();
    assert!(
        new_events.len() >= 3,
        "chat, question and ring: {new_events:?}"
    );
    for other in &numbers[1..] {
        let theirs: Vec<u64> = other
            .iter()
            .map(|(seq, _)| *seq)
            .filter(|seq| *seq as i64 > before)
            .collect();
        assert_eq!(theirs, new_events, "every member sees the same events");
    }
    // ... stored once, not once per operator.
    assert_eq!(
        stored_events(&server) - before,
        new_events.len() as i64,
        "one row per event, however many operators get it"
    );
    // Each live frame names the previous one of its stream.
    for stream in &numbers {
        for pair in stream.windows(2) {
            assert_eq!(
                pair[1].1,
                Some(pair[0].0),
                "prev chains the stream: {stream:?}"
            );
        }
    }
    server.stop().await;
}

#[tokio::test]
async fn d02_a_missed_ring_stop_is_replayed_once_after_events_of_other_operators() {
    let server = TestServer::start().await;
    let mut ann = TestOperator::sign_in(&server.url(), ANN, DEMO_PASSWORD).await;
    let mut bob = TestOperator::sign_in(&server.url(), BOB, DEMO_PASSWORD).await;
    let mut visitor = TestVisitor::connect(&server.url(), DEMO_EMBED_KEY).await;
    let chat = visitor.start_chat("Coyote", "Anyone?").await;
    ann.wait_for("the ring", rings(chat.id)).await;
    bob.wait_for("the ring", rings(chat.id)).await;
    let since = ann.last_seq();
    ann.socket().disconnect().await;

    // While Ann is away Bob accepts: Ann's ring stops for Bob, and Bob's own ring stop
    // (accepted by you) takes a number in the shared log that Ann's stream skips.
    bob.accept(chat.id).await.expect("Bob accepts");
    bob.wait_for("Bob's ring stops", stops(chat.id)).await;

    let welcome = ann.reconnect_since(Some(since)).await;
    assert!(welcome.resumed, "the log holds everything after {since}");
    let stopped = ann.wait_for("the missed ring stop", stops(chat.id)).await;
    match stopped {
        OperatorEvent::RingStopped {
            reason: RingStopReason::AcceptedBy { operator },
            ..
        } => assert_eq!(operator.name, "Bob Operator"),
        other => panic!("expected the ring to stop for Bob's accept, got {other:?}"),
    }
    ann.socket().ping(1).await;
    let numbers = event_numbers(&ann);
    let replayed: Vec<&(u64, Option<u64>)> =
        numbers.iter().filter(|(seq, _)| *seq > since).collect();
    let mut seqs: Vec<u64> = replayed.iter().map(|(seq, _)| *seq).collect();
    seqs.dedup();
    assert_eq!(seqs.len(), replayed.len(), "nothing replayed twice");
    assert_eq!(replayed.last().map(|(seq, _)| *seq), Some(welcome.head));
    // Numbers skip, so "syncing N of M" counts the replay the server announced, not head - since.
    assert_eq!(
        welcome.missed,
        Some(replayed.len() as u64),
        "the welcome says how many events the replay holds"
    );
    assert!(
        welcome.head - since > replayed.len() as u64,
        "Bob's own events sit between Ann's numbers, so counting by number would overstate"
    );
    server.stop().await;
}

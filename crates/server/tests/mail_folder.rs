//! Transcript emails written to a mail folder (the demo's transport) against a real server, real
//! SQLite and real WebSockets: the `.eml` file holds the public conversation and never a note.

use switchboard_protocol::{
    ChatId, EmailTranscript, Endpoint, GetTickets, MonitorChat, OperatorEvent, StartChat, Ticket,
    TranscriptSent, Visibility, VisitorResponse,
};
use switchboard_server::test_support::{
    ANN, DEMO_EMBED_KEY, DEMO_PASSWORD, SUE, TestOperator, TestServer, TestVisitor, WAIT, get_json,
    post_json,
};

fn rings(chat: ChatId) -> impl Fn(&OperatorEvent) -> bool {
    move |event| matches!(event, OperatorEvent::RingStarted { chat: ringing } if *ringing == chat)
}

/// The `.eml` files in the folder, oldest first.
fn emails_in(folder: &std::path::Path) -> Vec<std::path::PathBuf> {
    let mut files: Vec<_> = std::fs::read_dir(folder)
        .map(|entries| {
            entries
                .map(|entry| entry.expect("folder entry").path())
                .collect()
        })
        .unwrap_or_default();
    files.sort();
    files
}

#[tokio::test]
async fn b25_without_smtp_the_transcript_is_written_to_the_mail_folder_without_notes() {
    let directory = tempfile::tempdir().expect("temp dir");
    let folder = directory.path().join("mail");
    let server = TestServer::start_tweaked(|config| {
        config.smtp = None;
        config.mail_dir = Some(folder.clone());
    })
    .await;
    let url = server.url();
    let mut ann = TestOperator::sign_in(&url, ANN, DEMO_PASSWORD).await;
    let mut sue = TestOperator::sign_in(&url, SUE, DEMO_PASSWORD).await;
    let mut visitor = TestVisitor::connect(&url, DEMO_EMBED_KEY).await;
    let chat = match visitor
        .command(StartChat {
            name: "Wile E.".to_owned(),
            email: Some("wile@example.com".to_owned()),
            question: "Where is my anvil?".to_owned(),
            page_url: None,
            topic: None,
            language: None,
            time_zone: None,
        })
        .await
        .expect("start the chat")
    {
        VisitorResponse::Start(chat) => chat.id,
        other => panic!("unexpected {other:?}"),
    };
    ann.wait_for("Ann's ring", rings(chat)).await;
    ann.accept(chat).await.expect("Ann accepts");
    sue.command(MonitorChat { chat })
        .await
        .expect("Sue monitors");
    sue.send(chat, "psst: offer the loyalty discount", Visibility::Note)
        .await
        .expect("Sue whispers");
    visitor.send("Please hurry, the roadrunner is near.").await;
    ann.send(chat, "It ships tomorrow.", Visibility::Public)
        .await
        .expect("Ann replies");
    ann.send(chat, "internal: check the warehouse", Visibility::Note)
        .await
        .expect("Ann notes");
    ann.end(chat).await.expect("Ann ends the chat");
    assert!(
        emails_in(&folder).is_empty(),
        "nothing is written before asked"
    );

    let tickets: Vec<Ticket> = get_json(&format!("{url}{}", GetTickets::PATH), Some(ann.token()))
        .await
        .expect("Ann lists tickets");
    let ticket = tickets
        .iter()
        .find(|ticket| ticket.chat == chat)
        .expect("ending the chat opened a ticket");
    let sent: TranscriptSent = tokio::time::timeout(
        WAIT,
        post_json(
            &format!(
                "{url}{}",
                EmailTranscript::PATH.replace("{id}", &ticket.id.to_string())
            ),
            &(),
            Some(ann.token()),
        ),
    )
    .await
    .expect("answered in time")
    .expect("the transcript is emailed");
    assert_eq!(sent.to, "wile@example.com");

    // The handler answers after the rename, so the file is complete by now.
    let files = emails_in(&folder);
    assert_eq!(files.len(), 1, "one email: {files:?}");
    let name = files[0]
        .file_name()
        .expect("file name")
        .to_string_lossy()
        .into_owned();
    assert!(name.ends_with(".eml") && !name.starts_with('.'), "{name}");
    let email = std::fs::read_to_string(&files[0]).expect("read the .eml");
    assert!(email.contains("To: wile@example.com"), "{email}");
    assert!(
        email.contains("Subject: Your chat with Acme website: Where is my anvil?"),
        "{email}"
    );
    assert!(email.contains("Wile E.: Where is my anvil?"), "{email}");
    assert!(
        email.contains("Wile E.: Please hurry, the roadrunner is near."),
        "{email}"
    );
    assert!(
        email.contains("Ann Operator: It ships tomorrow."),
        "{email}"
    );
    let lower = email.to_lowercase();
    for secret in [
        "psst",
        "loyalty",
        "internal:",
        "warehouse",
        "sue",
        "supervisor",
    ] {
        assert!(
            !lower.contains(secret),
            "the email mentions {secret:?}: {email}"
        );
    }
    server.stop().await;
}

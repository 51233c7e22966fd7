//! Customer records (B34) against a real server and real SQLite: staff create one from a chat,
//! it is shown again when the visitor returns with a new chat, a visitor has at most one, input
//! is validated, and nothing of it reaches the visitor.

use switchboard_protocol::{
    ChatId, CreateCustomer, CreateCustomerRequest, Customer, Endpoint, ErrorCode, GetChatCustomer,
    OperatorEvent,
};
use switchboard_server::test_support::{
    ANN, BOB, DEMO_EMBED_KEY, DEMO_PASSWORD, TestOperator, TestServer, TestVisitor, get_json,
    post_json,
};

fn customer_url(server: &TestServer, chat: ChatId) -> String {
    format!(
        "{}{}",
        server.url(),
        GetChatCustomer::PATH.replace("{id}", &chat.to_string())
    )
}

async fn chat_customer(
    server: &TestServer,
    operator: &TestOperator,
    chat: ChatId,
) -> Option<Customer> {
    get_json(&customer_url(server, chat), Some(operator.token()))
        .await
        .expect("the customer record of a chat")
}

async fn create(
    server: &TestServer,
    operator: &TestOperator,
    request: &CreateCustomerRequest,
) -> Result<Customer, (u16, ErrorCode)> {
    post_json(
        &format!("{}{}", server.url(), CreateCustomer::PATH),
        request,
        Some(operator.token()),
    )
    .await
    .map_err(|(status, error)| (status, error.code))
}

fn request(chat: ChatId, name: &str) -> CreateCustomerRequest {
    CreateCustomerRequest {
        chat,
        name: name.to_owned(),
        email: Some(" vera@example.com ".to_owned()),
        notes: "Prefers email; VIP since 2024".to_owned(),
    }
}

#[tokio::test]
async fn b34_a_customer_record_created_from_a_chat_is_shown_when_the_visitor_returns() {
    let server = TestServer::start().await;
    let mut ann = TestOperator::sign_in(&server.url(), ANN, DEMO_PASSWORD).await;
    let bob = TestOperator::sign_in(&server.url(), BOB, DEMO_PASSWORD).await;
    let mut visitor = TestVisitor::connect(&server.url(), DEMO_EMBED_KEY).await;
    let first = visitor.start_chat("Vera", "Where is my parcel?").await.id;
    ann.wait_for(
        "Ann's ring",
        |event| matches!(event, OperatorEvent::RingStarted { chat } if *chat == first),
    )
    .await;
    assert_eq!(chat_customer(&server, &ann, first).await, None);

    let created = create(&server, &ann, &request(first, "  Vera Visitor "))
        .await
        .expect("Ann creates the record");
    assert_eq!(created.name, "Vera Visitor");
    assert_eq!(created.email.as_deref(), Some("vera@example.com"));
    assert_eq!(
        created
            .created_by
            .as_ref()
            .map(|author| author.name.as_str()),
        Some("Ann Operator")
    );
    // A colleague sees it too; a second record for the same visitor is refused.
    assert_eq!(
        chat_customer(&server, &bob, first).await,
        Some(created.clone())
    );
    assert_eq!(
        create(&server, &bob, &request(first, "Someone else")).await,
        Err((409, ErrorCode::Conflict))
    );

    // The visitor ends the chat and comes back with a new one: the record is there.
    visitor.leave().await;
    let second = visitor.start_chat("Vera", "Another question").await.id;
    assert_ne!(first, second);
    assert_eq!(chat_customer(&server, &ann, second).await, Some(created));

    // Staff-only: nothing of the record ever reached the visitor.
    for frame in visitor.raw_frames() {
        assert!(!frame.contains("VIP since"), "the notes leaked: {frame}");
    }
}

#[tokio::test]
async fn b34_customer_records_are_validated_and_need_a_signed_in_member() {
    let server = TestServer::start().await;
    let ann = TestOperator::sign_in(&server.url(), ANN, DEMO_PASSWORD).await;
    let mut visitor = TestVisitor::connect(&server.url(), DEMO_EMBED_KEY).await;
    let chat = visitor.start_chat("Vera", "Hello").await.id;

    assert_eq!(
        create(&server, &ann, &request(chat, "   ")).await,
        Err((400, ErrorCode::BadRequest))
    );
    let mut bad_email = request(chat, "Vera");
    bad_email.email = Some("not an address".to_owned());
    assert_eq!(
        create(&server, &ann, &bad_email).await,
        Err((400, ErrorCode::BadRequest))
    );
    let mut long_notes = request(chat, "Vera");
    long_notes.notes = "x".repeat(switchboard_protocol::MAX_CUSTOMER_NOTES_CHARS + 1);
    assert_eq!(
        create(&server, &ann, &long_notes).await,
        Err((400, ErrorCode::BadRequest))
    );
    assert_eq!(
        create(&server, &ann, &request(ChatId(999_999), "Vera")).await,
        Err((404, ErrorCode::NotFound))
    );
    let anonymous: Result<Option<Customer>, _> = get_json(&customer_url(&server, chat), None).await;
    assert_eq!(
        anonymous.map_err(|(status, error)| (status, error.code)),
        Err((401, ErrorCode::Unauthorized))
    );
    // A visitor's token is not a staff token.
    let as_visitor: Result<Option<Customer>, _> =
        get_json(&customer_url(&server, chat), Some(visitor.token())).await;
    assert_eq!(
        as_visitor.map_err(|(status, error)| (status, error.code)),
        Err((401, ErrorCode::Unauthorized))
    );
    assert_eq!(chat_customer(&server, &ann, chat).await, None);
}

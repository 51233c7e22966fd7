//! The reply library over the real REST endpoints, real SQLite and real sign-in: canned
//! responses (B30), knowledge base articles (B31) and colleagues to @mention (B26).

use rusqlite::params;
use switchboard_protocol::{
    Article, ArticleSearch, CannedResponse, Endpoint, ErrorCode, GetCannedResponses, GetColleagues,
    LiveChatId, OperatorRef, SearchArticles,
};
use switchboard_server::articles::insert_article;
use switchboard_server::canned::insert_canned_response;
use switchboard_server::storage;
use switchboard_server::test_support::{
    ANN, BOB, DEMO_PASSWORD, TestOperator, TestServer, get_json, post_json,
};

#[tokio::test]
async fn b30_canned_responses_are_personal_or_shared_with_the_live_chat_and_need_a_session() {
    let server = TestServer::start().await;
    let ann = TestOperator::sign_in(&server.url(), ANN, DEMO_PASSWORD).await;
    let bob = TestOperator::sign_in(&server.url(), BOB, DEMO_PASSWORD).await;
    let demo_live_chat = ann.profile().live_chats[0].id;

    let database = storage::open(server.database_path()).expect("open the server's database");
    insert_canned_response(&database, ann.id(), None, "Ann's sign-off", "Cheers, Ann")
        .expect("Ann's personal response");
    insert_canned_response(&database, bob.id(), None, "Bob's sign-off", "Bye, Bob")
        .expect("Bob's personal response");
    database
        .execute(
            "INSERT INTO live_chats (name, embed_key) VALUES (?1, ?2)",
            params!["Other shop", "other-shop-key"],
        )
        .expect("a live chat Ann is not in");
    let other = LiveChatId(database.last_insert_rowid());
    insert_canned_response(
        &database,
        bob.id(),
        Some(other),
        "Other shop",
        "Not for Ann",
    )
    .expect("another live chat's response");

    let url = format!("{}{}", server.url(), GetCannedResponses::PATH);
    let listed: Vec<CannedResponse> = get_json(&url, Some(ann.token()))
        .await
        .expect("Ann lists her canned responses");
    let titles: Vec<&str> = listed.iter().map(|canned| canned.title.as_str()).collect();
    assert_eq!(
        titles,
        [
            "Ann's sign-off",
            "Follow up by email",
            "Goodbye",
            "Greeting"
        ],
        "hers and the demo live chat's, by title; never Bob's personal or another live chat's"
    );
    let greeting = listed
        .iter()
        .find(|canned| canned.title == "Greeting")
        .unwrap();
    assert_eq!(greeting.live_chat, Some(demo_live_chat));
    assert!(
        greeting.body.contains("{{ visitor.name }}"),
        "variables reach the console as written"
    );
    let personal = listed
        .iter()
        .find(|canned| canned.title == "Ann's sign-off")
        .unwrap();
    assert_eq!(personal.live_chat, None);

    let (status, error) = get_json::<Vec<CannedResponse>>(&url, None)
        .await
        .expect_err("no token, no canned responses");
    assert_eq!((status, error.code), (401, ErrorCode::Unauthorized));
    server.stop().await;
}

#[tokio::test]
async fn b31_articles_are_searched_on_the_server_within_the_operators_live_chats() {
    let server = TestServer::start().await;
    let ann = TestOperator::sign_in(&server.url(), ANN, DEMO_PASSWORD).await;
    let database = storage::open(server.database_path()).expect("open the server's database");
    database
        .execute(
            "INSERT INTO live_chats (name, embed_key) VALUES (?1, ?2)",
            params!["Other shop", "other-shop-key"],
        )
        .expect("a live chat Ann is not in");
    let other = LiveChatId(database.last_insert_rowid());
    insert_article(
        &database,
        other,
        "Refunds elsewhere",
        "https://other.example/r",
        "Not Ann's",
    )
    .expect("another live chat's article");
    insert_article(
        &database,
        ann.profile().live_chats[0].id,
        "Discounts",
        "https://help.acme.example/discounts",
        "Get 100% of your money back with our refund promise.",
    )
    .expect("an article mentioning refunds in its text");

    let url = format!("{}{}", server.url(), SearchArticles::PATH);
    let search = |query: &str| ArticleSearch {
        query: query.to_owned(),
    };
    let found: Vec<Article> = post_json(&url, &search("REFUND"), Some(ann.token()))
        .await
        .expect("search");
    let titles: Vec<&str> = found.iter().map(|article| article.title.as_str()).collect();
    assert_eq!(
        titles,
        ["Refunds", "Discounts"],
        "title matches first, any case, only Ann's live chats"
    );

    let percent: Vec<Article> = post_json(&url, &search("100%"), Some(ann.token()))
        .await
        .expect("search with a wildcard character");
    assert_eq!(percent.len(), 1, "% is a character, not a wildcard");
    let nothing: Vec<Article> = post_json(&url, &search("%_%"), Some(ann.token()))
        .await
        .expect("search");
    assert!(nothing.is_empty());

    let (status, error) = post_json::<Vec<Article>>(&url, &search("refund"), None)
        .await
        .expect_err("no token, no articles");
    assert_eq!((status, error.code), (401, ErrorCode::Unauthorized));
    server.stop().await;
}

#[tokio::test]
async fn b26_colleagues_to_mention_are_the_other_staff_of_my_live_chats() {
    let server = TestServer::start().await;
    let ann = TestOperator::sign_in(&server.url(), ANN, DEMO_PASSWORD).await;
    let database = storage::open(server.database_path()).expect("open the server's database");
    database
        .execute(
            "INSERT INTO live_chats (name, embed_key) VALUES (?1, ?2)",
            params!["Other shop", "other-shop-key"],
        )
        .expect("a live chat Ann is not in");
    let other = database.last_insert_rowid();
    let stranger = server.create_operator("zed@example.com", "Zed Stranger", "a long password");
    database
        .execute(
            "DELETE FROM memberships WHERE operator_id = ?1",
            params![stranger.0],
        )
        .expect("Zed leaves the demo live chat");
    database
        .execute(
            "INSERT INTO memberships (operator_id, live_chat_id, supervisor) VALUES (?1, ?2, 0)",
            params![stranger.0, other],
        )
        .expect("Zed works for the other shop");

    let url = format!("{}{}", server.url(), GetColleagues::PATH);
    let colleagues: Vec<OperatorRef> = get_json(&url, Some(ann.token()))
        .await
        .expect("Ann's colleagues");
    let names: Vec<&str> = colleagues
        .iter()
        .map(|colleague| colleague.name.as_str())
        .collect();
    assert_eq!(
        names,
        ["Bob Operator", "Sue Supervisor"],
        "not Ann herself, not staff of other live chats"
    );
    let (status, _) = get_json::<Vec<OperatorRef>>(&url, None)
        .await
        .expect_err("no token, no colleagues");
    assert_eq!(status, 401);
    server.stop().await;
}

//! Snapshot tests for every wire type (the JSON a peer sees), and the TypeScript drift check.

use std::path::PathBuf;

use insta::assert_json_snapshot;

use crate::*;

fn operator_ref() -> OperatorRef {
    OperatorRef {
        id: OperatorId(2),
        name: "Ann Operator".into(),
    }
}

fn chat_summary() -> ChatSummary {
    ChatSummary {
        id: ChatId(7),
        live_chat: LiveChatId(1),
        state: ChatState::Active,
        channel: Channel::Web,
        visitor: VisitorProfile {
            id: VisitorId(11),
            name: "Maria".into(),
            email: Some("maria@example.com".into()),
            page_url: Some("https://shop.example.com/pricing".into()),
            location: None,
            country: None,
            language: None,
            time_zone: None,
            topic: None,
        },
        subject: "Pricing question".into(),
        responsible: Some(operator_ref()),
        created_at: Timestamp(1_700_000_000_000),
        updated_at: Timestamp(1_700_000_060_000),
        rating: None,
    }
}

fn message(visibility: Visibility) -> Message {
    Message {
        id: MessageId(42),
        chat: ChatId(7),
        client_id: Some(ClientId("5f0c6a3e-client".into())),
        author: Author::Operator {
            id: OperatorId(2),
            name: "Ann Operator".into(),
        },
        visibility,
        body: "<b>hello</b> stays text".into(),
        sent_at: Timestamp(1_700_000_030_000),
        attachments: Vec::new(),
        edited_at: None,
    }
}

fn visitor_chat() -> VisitorChat {
    VisitorChat {
        id: ChatId(7),
        state: ChatState::Pending,
        subject: "Pricing question".into(),
        operators: vec!["Ann Operator".into()],
        created_at: Timestamp(1_700_000_000_000),
        emoji_enabled: true,
        rating_enabled: true,
    }
}

fn visitor_message() -> VisitorMessage {
    VisitorMessage {
        id: MessageId(43),
        client_id: None,
        from: VisitorSideAuthor::Operator {
            name: "Ann Operator".into(),
        },
        body: "Hi Maria".into(),
        sent_at: Timestamp(1_700_000_031_000),
        attachments: Vec::new(),
        edited_at: None,
        deleted_at: None,
    }
}

#[test]
fn operator_events() {
    assert_json_snapshot!(
        "operator_events",
        vec![
            OperatorEvent::Snapshot {
                chats: vec![chat_summary()],
                ringing: vec![ChatId(8)],
                availability: Availability::Online,
            },
            OperatorEvent::ChatUpserted {
                chat: chat_summary()
            },
            OperatorEvent::MessagePosted {
                message: message(Visibility::Note)
            },
            OperatorEvent::RingStarted { chat: ChatId(8) },
            OperatorEvent::RingStopped {
                chat: ChatId(8),
                reason: RingStopReason::AcceptedBy {
                    operator: operator_ref()
                },
            },
            OperatorEvent::RingStopped {
                chat: ChatId(8),
                reason: RingStopReason::AcceptedByYou,
            },
            OperatorEvent::RingStopped {
                chat: ChatId(8),
                reason: RingStopReason::Muted,
            },
            OperatorEvent::RingStopped {
                chat: ChatId(8),
                reason: RingStopReason::Abandoned,
            },
            OperatorEvent::RingStopped {
                chat: ChatId(8),
                reason: RingStopReason::Ended,
            },
            OperatorEvent::RingStopped {
                chat: ChatId(8),
                reason: RingStopReason::Unavailable,
            },
            OperatorEvent::AvailabilityChanged {
                availability: Availability::Away,
            },
        ]
    );
}

#[test]
fn visitor_events() {
    assert_json_snapshot!(
        "visitor_events",
        vec![
            VisitorEvent::Snapshot {
                chat: Some(visitor_chat()),
                messages: vec![visitor_message()],
            },
            VisitorEvent::ChatUpdated {
                chat: visitor_chat()
            },
            VisitorEvent::MessagePosted {
                message: VisitorMessage {
                    from: VisitorSideAuthor::Me,
                    ..visitor_message()
                },
            },
            VisitorEvent::MessagePosted {
                message: VisitorMessage {
                    from: VisitorSideAuthor::System,
                    ..visitor_message()
                },
            },
            VisitorEvent::OperatorJoined {
                name: "Ann Operator".into()
            },
            VisitorEvent::OperatorLeft {
                name: "Ann Operator".into()
            },
        ]
    );
}

#[test]
fn operator_frames() {
    let client: Vec<OperatorClientFrame> = vec![
        ClientFrame::Hello {
            token: "token".into(),
            since: Some(12),
        },
        ClientFrame::Command {
            id: ClientId("c1".into()),
            command: AcceptChat { chat: ChatId(7) }.into(),
        },
        ClientFrame::Command {
            id: ClientId("c2".into()),
            command: SendMessage {
                chat: ChatId(7),
                body: "Hello".into(),
                visibility: Visibility::Public,
            }
            .into(),
        },
        ClientFrame::Command {
            id: ClientId("c3".into()),
            command: EndChat { chat: ChatId(7) }.into(),
        },
        ClientFrame::Command {
            id: ClientId("c4".into()),
            command: MuteRing { chat: ChatId(7) }.into(),
        },
        ClientFrame::Command {
            id: ClientId("c5".into()),
            command: SetAvailability {
                availability: Availability::Online,
            }
            .into(),
        },
        ClientFrame::Ping { nonce: 3 },
    ];
    assert_json_snapshot!("operator_client_frames", client);

    let server: Vec<OperatorServerFrame> = vec![
        ServerFrame::Welcome {
            protocol: PROTOCOL_VERSION,
            head: 12,
            resumed: true,
            missed: Some(4),
        },
        ServerFrame::Event {
            seq: 13,
            prev: Some(9),
            event: OperatorEvent::RingStarted { chat: ChatId(7) },
        },
        ServerFrame::Reply {
            id: ClientId("c1".into()),
            outcome: Outcome::Ok {
                response: OperatorResponse::Accept(chat_summary()),
            },
        },
        ServerFrame::Reply {
            id: ClientId("c2".into()),
            outcome: Outcome::Ok {
                response: OperatorResponse::Send(message(Visibility::Public)),
            },
        },
        ServerFrame::Reply {
            id: ClientId("c3".into()),
            outcome: Outcome::Ok {
                response: OperatorResponse::End(chat_summary()),
            },
        },
        ServerFrame::Reply {
            id: ClientId("c4".into()),
            outcome: Outcome::Ok {
                response: OperatorResponse::Mute(Ack {}),
            },
        },
        ServerFrame::Reply {
            id: ClientId("c5".into()),
            outcome: Outcome::Ok {
                response: OperatorResponse::SetAvailability(AvailabilityState {
                    availability: Availability::Online,
                }),
            },
        },
        ServerFrame::Reply {
            id: ClientId("c6".into()),
            outcome: Outcome::Error {
                error: ApiError::new(ErrorCode::Conflict, "This chat was taken by Bob."),
            },
        },
        ServerFrame::Error {
            error: ApiError::new(ErrorCode::BadFrame, "expected a JSON frame"),
        },
        ServerFrame::Pong { nonce: 3 },
    ];
    assert_json_snapshot!("operator_server_frames", server);
}

#[test]
fn visitor_frames() {
    let client: Vec<VisitorClientFrame> = vec![
        ClientFrame::Hello {
            token: "visitor-token".into(),
            since: None,
        },
        ClientFrame::Command {
            id: ClientId("v1".into()),
            command: StartChat {
                name: "Maria".into(),
                email: None,
                question: "Pricing question".into(),
                page_url: Some("https://shop.example.com/pricing".into()),
                topic: None,
                language: None,
                time_zone: None,
            }
            .into(),
        },
        ClientFrame::Command {
            id: ClientId("v2".into()),
            command: VisitorSend {
                body: "Hello?".into(),
            }
            .into(),
        },
        ClientFrame::Command {
            id: ClientId("v3".into()),
            command: LeaveChat {}.into(),
        },
    ];
    assert_json_snapshot!("visitor_client_frames", client);

    let server: Vec<VisitorServerFrame> = vec![
        ServerFrame::Reply {
            id: ClientId("v1".into()),
            outcome: Outcome::Ok {
                response: VisitorResponse::Start(visitor_chat()),
            },
        },
        ServerFrame::Reply {
            id: ClientId("v2".into()),
            outcome: Outcome::Ok {
                response: VisitorResponse::Send(visitor_message()),
            },
        },
        ServerFrame::Reply {
            id: ClientId("v3".into()),
            outcome: Outcome::Ok {
                response: VisitorResponse::Leave(visitor_chat()),
            },
        },
    ];
    assert_json_snapshot!("visitor_server_frames", server);
}

#[test]
fn rest_bodies() {
    assert_json_snapshot!(
        "health",
        Health {
            status: "ok".into(),
            protocol: PROTOCOL_VERSION,
            version: "0.1.0".into(),
        }
    );
    assert_json_snapshot!(
        "sign_in_request",
        SignInRequest {
            email: "ann@example.com".into(),
            password: "secret".into(),
        }
    );
    assert_json_snapshot!(
        "sign_in_response",
        SignInResponse {
            token: "token".into(),
            operator: OperatorProfile {
                id: OperatorId(2),
                name: "Ann Operator".into(),
                email: "ann@example.com".into(),
                live_chats: vec![LiveChatSummary {
                    id: LiveChatId(1),
                    name: "Acme website".into(),
                    supervisor: false,
                    staff_emoji: true,
                }],
            },
        }
    );
    assert_json_snapshot!(
        "chat_history",
        ChatHistory {
            chat: chat_summary(),
            messages: vec![
                message(Visibility::Public),
                Message {
                    author: Author::Visitor {
                        name: "Maria".into()
                    },
                    ..message(Visibility::Public)
                },
                Message {
                    author: Author::System,
                    ..message(Visibility::Public)
                },
            ],
        }
    );
    assert_json_snapshot!(
        "visitor_session",
        (
            VisitorSessionRequest {
                embed_key: "demo".into()
            },
            VisitorSessionResponse {
                token: "visitor-token".into(),
                visitor: VisitorId(11),
                live_chat_name: "Acme website".into(),
                topics: vec!["Billing".into()],
                rating_enabled: true,
            }
        )
    );
    assert_json_snapshot!(
        "errors",
        [
            ErrorCode::BadRequest,
            ErrorCode::BadFrame,
            ErrorCode::Unauthorized,
            ErrorCode::Forbidden,
            ErrorCode::NotFound,
            ErrorCode::Conflict,
            ErrorCode::UpgradeRequired,
            ErrorCode::TooLarge,
            ErrorCode::Internal,
        ]
    );
}

#[test]
fn routing_wire_types() {
    assert_json_snapshot!(
        "routing_operator_events",
        [
            OperatorEvent::Offered {
                offer: Offer {
                    chat: ChatId(7),
                    deadline: Timestamp(1_700_000_030_000),
                    subject: "Pricing question".into(),
                    group: "Acme website".into(),
                    location: None,
                    created_at: Timestamp(1_700_000_000_000),
                },
            },
            OperatorEvent::RoutingChanged { routing: false },
            OperatorEvent::RingStopped {
                chat: ChatId(7),
                reason: RingStopReason::TimedOut,
            },
            OperatorEvent::RingStopped {
                chat: ChatId(7),
                reason: RingStopReason::Declined,
            },
        ]
    );
    assert_json_snapshot!(
        "routing_operator_commands",
        [
            OperatorCommand::from(DeclineOffer { chat: ChatId(7) }),
            OperatorCommand::from(SetRouting {
                operator: Some(OperatorId(3)),
                routing: true,
            }),
            OperatorCommand::from(SetOperatorAvailability {
                operator: OperatorId(3),
                availability: Availability::Away,
            }),
            OperatorCommand::from(ReleaseChat { chat: ChatId(7) }),
        ]
    );
    assert_json_snapshot!(
        "routing_settings",
        RoutingSettings {
            mode: RoutingMode::Offer,
            offer_timeout_seconds: DEFAULT_OFFER_TIMEOUT_SECONDS,
            capacity: Some(3),
            capacity_overrides: vec![CapacityOverride {
                operator: OperatorId(2),
                capacity: None,
            }],
            rules: vec![RoutingRule {
                name: "Billing".into(),
                conditions: vec![RuleCondition {
                    field: RuleField::PageUrl,
                    matching: RuleMatch::Contains,
                    value: "/billing".into(),
                }],
                operators: vec![OperatorId(2)],
                teams: vec![TeamId(4)],
                fallback: RuleFallback::WidenToAll,
            }],
            topics: vec!["Billing".into(), "Sales".into()],
        }
    );
    assert_json_snapshot!(
        "routing_history",
        [RoutingHistoryEntry {
            action: RoutingAction::Offered,
            operator: Some(operator_ref()),
            at: Timestamp(1_700_000_000_000),
        }]
    );
}

#[test]
fn canned_responses_snapshot() {
    assert_json_snapshot!(
        "canned_responses",
        [
            CannedResponse {
                id: 1,
                title: "Greeting".into(),
                body: "Hi {{ visitor.name }}, this is {{ operator.name }}.".into(),
                live_chat: Some(LiveChatId(1)),
            },
            CannedResponse {
                id: 2,
                title: "Goodbye".into(),
                body: "Have a good day!".into(),
                live_chat: None,
            },
        ]
    );
    assert_eq!(GetCannedResponses::PATH, "/api/v1/canned-responses");
}

#[test]
fn article_search_snapshot() {
    assert_json_snapshot!(
        "article_search",
        (
            ArticleSearch {
                query: "refund".into(),
            },
            [Article {
                id: 2,
                live_chat: LiveChatId(1),
                title: "Refunds".into(),
                url: "https://help.example.com/refunds".into(),
                body: "Refunds reach your account within 5 working days.".into(),
            }],
        )
    );
    assert_eq!(SearchArticles::PATH, "/api/v1/articles/search");
    assert_eq!(GetColleagues::PATH, "/api/v1/colleagues");
}

#[test]
fn frames_round_trip() {
    let frame: OperatorServerFrame = ServerFrame::Event {
        seq: 5,
        prev: Some(3),
        event: OperatorEvent::MessagePosted {
            message: message(Visibility::Public),
        },
    };
    let text = serde_json::to_string(&frame).unwrap();
    let back: OperatorServerFrame = serde_json::from_str(&text).unwrap();
    assert_eq!(
        back, frame,
        "a server frame must survive a JSON round trip unchanged"
    );
}

#[test]
fn typed_command_pairs_unwrap_only_their_own_response() {
    let accepted = OperatorResponse::Accept(chat_summary());
    assert_eq!(AcceptChat::response(accepted.clone()), Some(chat_summary()));
    assert_eq!(
        EndChat::response(accepted),
        None,
        "an Accept response must not pass for an End response"
    );
}

#[test]
fn secrets_are_redacted_in_debug_output() {
    let request = SignInRequest {
        email: "ann@example.com".into(),
        password: "hunter2".into(),
    };
    assert!(!format!("{request:?}").contains("hunter2"));
    let response = VisitorSessionResponse {
        token: "tok-secret".into(),
        visitor: VisitorId(1),
        live_chat_name: "x".into(),
        topics: Vec::new(),
        rating_enabled: true,
    };
    assert!(!format!("{response:?}").contains("tok-secret"));
}

#[test]
fn typescript_bindings_are_current() {
    let rendered = typescript::render();
    let root = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../..");
    let update = std::env::var_os("UPDATE_TYPESCRIPT").is_some();
    for copy in typescript::COMMITTED_COPIES {
        let path = root.join(copy);
        if update {
            std::fs::create_dir_all(path.parent().unwrap()).unwrap();
            std::fs::write(&path, &rendered).unwrap();
            continue;
        }
        let committed = std::fs::read_to_string(&path).unwrap_or_default();
        assert!(
            committed == rendered,
            "{copy} is out of date with the Rust wire types; \
             run `UPDATE_TYPESCRIPT=1 cargo test -p switchboard-protocol` and commit the result"
        );
    }
}

#[test]
fn supervision_wire_types() {
    assert_json_snapshot!(
        "supervision_operator_commands",
        [
            OperatorCommand::from(MonitorChat { chat: ChatId(7) }),
            OperatorCommand::from(JoinChat { chat: ChatId(7) }),
            OperatorCommand::from(TakeOverChat {
                chat: ChatId(7),
                previous_stays: true,
            }),
        ]
    );
    assert_json_snapshot!(
        "supervision_audit_log",
        [AuditEntry {
            chat: ChatId(7),
            action: AuditAction::TookOver,
            actor: operator_ref(),
            previous: Some(OperatorRef {
                id: OperatorId(3),
                name: "Bob Operator".into(),
            }),
            at: Timestamp(1_700_000_000_000),
        }]
    );
    assert_eq!(GetAuditLog::PATH, "/api/v1/live-chats/{id}/audit");
}

#[test]
fn collaboration_wire_types() {
    assert_json_snapshot!(
        "collaboration_operator_commands",
        [
            OperatorCommand::from(ReassignChat {
                chat: ChatId(7),
                operator: OperatorId(3),
            }),
            OperatorCommand::from(InviteOperator {
                chat: ChatId(7),
                operator: OperatorId(3),
            }),
            OperatorCommand::from(TransferChat {
                chat: ChatId(7),
                operator: OperatorId(3),
                note: "Knows the billing system".into(),
            }),
            OperatorCommand::from(TransferToTeam {
                chat: ChatId(7),
                team: TeamId(2),
                note: "Billing question".into(),
            }),
            OperatorCommand::from(AnswerInvitation {
                chat: ChatId(7),
                accept: false,
            }),
            OperatorCommand::from(DismissInvitationOutcomes { chat: ChatId(7) }),
            OperatorCommand::from(LockReplies {
                chat: ChatId(7),
                locked: true,
            }),
            OperatorCommand::from(StaffLeaveChat { chat: ChatId(7) }),
        ]
    );
    assert_json_snapshot!(
        "collaboration_operator_events",
        [
            OperatorEvent::Invited {
                invitation: Invitation {
                    chat: ChatId(7),
                    kind: InvitationKind::Transfer,
                    from: operator_ref(),
                    note: Some("Knows the billing system".into()),
                    subject: "Pricing question".into(),
                    team: Some("Billing".into()),
                },
            },
            OperatorEvent::InvitationAnswered {
                chat: ChatId(7),
                kind: InvitationKind::Invite,
                operator: operator_ref(),
                accepted: false,
            },
            OperatorEvent::ReplyLockChanged {
                chat: ChatId(7),
                locked_by: Some(operator_ref()),
            },
            OperatorEvent::InvitationExpired {
                chat: ChatId(7),
                kind: InvitationKind::Transfer,
                operator: operator_ref(),
                outcome: Some(InvitationOutcome::Withdrawn { by: operator_ref() }),
            },
            // From a server that keeps no outcomes.
            OperatorEvent::InvitationExpired {
                chat: ChatId(7),
                kind: InvitationKind::Invite,
                operator: operator_ref(),
                outcome: None,
            },
            OperatorEvent::OpenInvitations {
                received: vec![Invitation {
                    chat: ChatId(8),
                    kind: InvitationKind::Invite,
                    from: operator_ref(),
                    note: None,
                    subject: "Pricing question".into(),
                    team: None,
                }],
                sent: vec![OutgoingInvitation {
                    chat: ChatId(7),
                    kind: InvitationKind::Transfer,
                    to: operator_ref(),
                    team: Some(TeamId(2)),
                }],
                decided: Some(vec![DecidedInvitation {
                    chat: ChatId(6),
                    kind: InvitationKind::Transfer,
                    from: operator_ref(),
                    to: operator_ref(),
                    team: None,
                    outcome: InvitationOutcome::Withdrawn { by: operator_ref() },
                    decided_at: Timestamp(1_700_000_000_000),
                }]),
            },
            OperatorEvent::ColleaguesChanged {
                colleagues: vec![Colleague {
                    id: OperatorId(2),
                    name: "Bob Operator".into(),
                    availability: Availability::Away,
                    routing: false,
                }],
            },
            OperatorEvent::ColleagueChanged {
                colleague: Colleague {
                    id: OperatorId(2),
                    name: "Bob Operator".into(),
                    availability: Availability::Online,
                    routing: true,
                },
            },
        ]
    );
}

#[test]
fn ticket_wire_types() {
    let ticket = Ticket {
        id: 4,
        chat: ChatId(7),
        live_chat: LiveChatId(1),
        subject: "Pricing question".into(),
        status: TicketStatus::Open,
        assignee: Some(operator_ref()),
        visitor: chat_summary().visitor,
        created_at: Timestamp(1_700_000_000_000),
        updated_at: Timestamp(1_700_000_060_000),
    };
    assert_json_snapshot!(
        "tickets",
        (
            TicketDetail {
                ticket: ticket.clone(),
                messages: vec![message(Visibility::Note)],
                rating: Some(ChatRating {
                    chat: ChatId(7),
                    score: RatingScore::Bad,
                    comment: None,
                    rated_at: Timestamp(1_700_000_090_000),
                }),
            },
            TicketUpdate {
                subject: "Pricing question".into(),
                status: TicketStatus::Solved,
                assignee: None,
            },
            TranscriptSent {
                to: "wile@example.com".into(),
            },
        )
    );
    assert_eq!(GetTickets::PATH, "/api/v1/tickets");
    assert_eq!(GetTicket::PATH, UpdateTicket::PATH);
    assert_eq!(EmailTranscript::PATH, "/api/v1/tickets/{id}/email");
}

#[test]
fn edit_and_delete_wire_types() {
    assert_json_snapshot!(
        "edit_and_delete",
        (
            [
                OperatorCommand::from(EditMessage {
                    message: MessageId(9),
                    body: "Corrected text".into(),
                }),
                OperatorCommand::from(DeleteMessage {
                    message: MessageId(9),
                }),
            ],
            [
                OperatorEvent::MessageEdited {
                    message: Message {
                        edited_at: Some(Timestamp(1_700_000_040_000)),
                        ..message(Visibility::Public)
                    },
                },
                OperatorEvent::MessageDeleted {
                    chat: ChatId(7),
                    message: MessageId(9),
                },
            ],
            [
                VisitorEvent::MessageEdited {
                    message: visitor_message(),
                },
                VisitorEvent::MessageDeleted {
                    message: MessageId(9),
                },
            ],
        )
    );
}

#[test]
fn escalation_wire_types() {
    assert_json_snapshot!(
        "escalation",
        (
            [
                OperatorCommand::from(MarkRead {
                    chat: ChatId(7),
                    up_to: MessageId(9),
                }),
                OperatorCommand::from(SubscribeChat { chat: ChatId(7) }),
                OperatorCommand::from(UnsubscribeChat { chat: ChatId(7) }),
            ],
            OperatorEvent::UnreadEscalation {
                chat: ChatId(7),
                messages: vec![message(Visibility::Public)],
            },
        )
    );
}

#[test]
fn typing_and_read_wire_types() {
    assert_json_snapshot!(
        "typing_and_read",
        (
            OperatorCommand::from(SetTyping {
                chat: ChatId(7),
                typing: true,
                visibility: Visibility::Public,
            }),
            [
                VisitorCommand::from(VisitorTyping { typing: true }),
                VisitorCommand::from(VisitorMarkRead {
                    up_to: MessageId(9),
                }),
            ],
            [
                OperatorServerFrame::Transient {
                    event: OperatorEvent::VisitorTyping {
                        chat: ChatId(7),
                        typing: true,
                    },
                },
                OperatorServerFrame::Event {
                    seq: 4,
                    prev: Some(2),
                    event: OperatorEvent::VisitorRead {
                        chat: ChatId(7),
                        up_to: MessageId(9),
                    },
                },
            ],
            [
                VisitorServerFrame::Transient {
                    event: VisitorEvent::OperatorTyping {
                        name: "Ann Operator".into(),
                        typing: false,
                    },
                },
                VisitorServerFrame::Event {
                    seq: 5,
                    prev: None,
                    event: VisitorEvent::Read {
                        up_to: MessageId(9),
                    },
                },
            ],
        )
    );
}

#[test]
fn attachment_wire_types() {
    let attachment = Attachment {
        id: AttachmentId("3f2a9c0d8e7b6a5f4e3d2c1b0a998877".into()),
        name: "<img src=x onerror=alert(1)>.png".into(),
        size: 2_048,
        content_type: "image/png".into(),
    };
    assert_json_snapshot!(
        "attachments",
        (
            Message {
                body: String::new(),
                attachments: vec![attachment.clone()],
                ..message(Visibility::Note)
            },
            VisitorMessage {
                body: String::new(),
                attachments: vec![attachment],
                ..visitor_message()
            },
            EmojiSettings {
                staff: false,
                visitors: true,
            },
        )
    );
}

#[test]
fn visitor_edits_deletions_and_emoji_switch_wire_type() {
    assert_json_snapshot!(
        "visitor_edits_deletions_and_emoji_switch",
        (
            VisitorMessage {
                body: "Hi Maria, corrected".into(),
                edited_at: Some(Timestamp(1_700_000_032_000)),
                ..visitor_message()
            },
            VisitorMessage {
                body: String::new(),
                deleted_at: Some(Timestamp(1_700_000_033_000)),
                ..visitor_message()
            },
            VisitorChat {
                emoji_enabled: false,
                rating_enabled: false,
                ..visitor_chat()
            },
        )
    );
    let older: VisitorMessage = serde_json::from_str(
        r#"{"id":1,"clientId":null,"from":{"kind":"system"},"body":"hi","sentAt":3}"#,
    )
    .expect("an older visitor message still parses");
    assert_eq!((older.edited_at, older.deleted_at), (None, None));
    let older: VisitorChat = serde_json::from_str(
        r#"{"id":1,"state":"pending","subject":"Hi","operators":[],"createdAt":3}"#,
    )
    .expect("an older visitor chat still parses");
    assert!(
        older.emoji_enabled,
        "the widget's emoji picker is on unless the live chat switches it off"
    );
}

#[test]
fn messages_from_older_servers_have_no_attachments() {
    let older = r#"{"id":1,"chat":2,"clientId":null,"author":{"kind":"system"},"visibility":"public","body":"hi","sentAt":3}"#;
    let message: Message = serde_json::from_str(older).expect("an older message still parses");
    assert!(message.attachments.is_empty());
    assert_eq!(message.edited_at, None, "and was never edited");
    let live_chat: LiveChatSummary =
        serde_json::from_str(r#"{"id":1,"name":"Acme","supervisor":false}"#).expect("parses");
    assert!(
        live_chat.staff_emoji,
        "emoji are on unless a live chat switches them off"
    );
}

#[test]
fn staff_emoji_switch_wire_type() {
    assert_json_snapshot!(
        "staff_emoji_changed",
        OperatorEvent::StaffEmojiChanged {
            live_chat: LiveChatId(1),
            enabled: false,
        }
    );
}

#[test]
fn team_and_visitor_context_wire_types() {
    assert_json_snapshot!(
        "teams_changed",
        OperatorEvent::TeamsChanged {
            teams: vec![Team {
                id: TeamId(4),
                live_chat: LiveChatId(1),
                name: "Billing".into(),
                members: vec![OperatorId(2), OperatorId(3)],
            }],
        }
    );
    assert_json_snapshot!(
        "team_request",
        TeamRequest {
            name: "Billing".into(),
            members: vec![OperatorId(2)],
        }
    );
    let mut summary = chat_summary();
    summary.visitor.location = Some("Berlin, Germany".into());
    summary.visitor.country = Some("DE".into());
    summary.visitor.language = Some("de-DE".into());
    summary.visitor.time_zone = Some("Europe/Berlin".into());
    summary.visitor.topic = Some("Billing".into());
    assert_json_snapshot!("visitor_profile_with_context", summary.visitor);
    assert_json_snapshot!(
        "start_chat_with_context",
        VisitorCommand::from(StartChat {
            name: "Maria".into(),
            email: None,
            question: "Pricing question".into(),
            page_url: None,
            topic: Some("Billing".into()),
            language: Some("de-DE".into()),
            time_zone: Some("Europe/Berlin".into()),
        })
    );
}

#[test]
fn older_clients_without_context_still_parse() {
    let start: StartChat =
        serde_json::from_str(r#"{"name":"M","email":null,"question":"Hi","pageUrl":null}"#)
            .expect("an old StartChat parses");
    assert_eq!(start.topic, None);
    let rule: RoutingRule =
        serde_json::from_str(r#"{"name":"R","conditions":[],"operators":[2],"fallback":"wait"}"#)
            .expect("an old rule parses");
    assert!(rule.teams.is_empty());
}

#[test]
fn customer_wire_types() {
    assert_json_snapshot!(
        "customer",
        (
            CreateCustomerRequest {
                chat: ChatId(7),
                name: "Vera Visitor".into(),
                email: Some("vera@example.com".into()),
                notes: "Prefers email".into(),
            },
            Customer {
                id: 3,
                live_chat: LiveChatId(1),
                name: "Vera Visitor".into(),
                email: None,
                notes: String::new(),
                created_by: Some(operator_ref()),
                created_at: Timestamp(1_700_000_000_000),
            },
        )
    );
    assert_eq!(GetChatCustomer::PATH, "/api/v1/chats/{id}/customer");
    assert_eq!(CreateCustomer::PATH, "/api/v1/customers");
}

#[test]
fn b50_visitors_on_site_wire_types() {
    let visitor = SiteVisitor {
        visitor: VisitorId(3),
        live_chat: LiveChatId(1),
        name: None,
        page_url: Some("https://example.com/pricing".into()),
        page_title: Some("Pricing".into()),
        referrer: Some("https://search.example/".into()),
        location: Some("Berlin, Germany".into()),
        first_seen: Timestamp(1_700_000_000_000),
        pages_viewed: 2,
        in_chat: false,
    };
    assert_json_snapshot!(
        "visitors_on_site",
        (
            VisitorCommand::from(VisitorPageView {
                url: "https://example.com/pricing".into(),
                title: Some("Pricing".into()),
                referrer: None,
                time_zone: Some("Europe/Berlin".into()),
            }),
            [
                OperatorServerFrame::Transient {
                    event: OperatorEvent::VisitorsOnSite {
                        visitors: vec![visitor.clone()],
                    },
                },
                OperatorServerFrame::Transient {
                    event: OperatorEvent::VisitorArrived {
                        visitor: visitor.clone(),
                    },
                },
                OperatorServerFrame::Transient {
                    event: OperatorEvent::VisitorUpdated { visitor },
                },
                OperatorServerFrame::Transient {
                    event: OperatorEvent::VisitorLeft {
                        live_chat: LiveChatId(1),
                        visitor: VisitorId(3),
                    },
                },
            ],
        )
    );
}

#[test]
fn b33_chat_rating_wire_types() {
    let rating = ChatRating {
        chat: ChatId(7),
        score: RatingScore::Good,
        comment: Some("Quick and <b>kind</b>".into()),
        rated_at: Timestamp(1_700_000_000_000),
    };
    assert_json_snapshot!(
        "chat_rating",
        (
            VisitorCommand::from(RateChat {
                chat: ChatId(7),
                score: RatingScore::Bad,
                comment: None,
            }),
            VisitorResponse::Rate(rating.clone()),
            OperatorEvent::ChatRated { rating },
            RatingSettings { enabled: false },
        )
    );
    let older: VisitorSessionResponse =
        serde_json::from_str(r#"{"token":"t","visitor":1,"liveChatName":"Acme"}"#)
            .expect("an older session response still parses");
    assert!(older.rating_enabled, "ratings are on unless switched off");

    // The rating travels in the chat summary (snapshot, history) and the visitor's chat carries
    // the switch; both are absent in older payloads.
    let rated = ChatSummary {
        rating: Some(ChatRating {
            chat: ChatId(7),
            score: RatingScore::Good,
            comment: None,
            rated_at: Timestamp(1_700_000_000_000),
        }),
        ..chat_summary()
    };
    let json = serde_json::to_value(&rated).expect("a summary serializes");
    assert_eq!(json["rating"]["score"], "good");
    let mut older_summary = serde_json::to_value(chat_summary()).expect("a summary serializes");
    assert!(older_summary.get("rating").is_none(), "no rating, no field");
    older_summary["subject"] = "Older".into();
    let parsed: ChatSummary = serde_json::from_value(older_summary).expect("still parses");
    assert_eq!(parsed.rating, None);
    let mut older_chat = serde_json::to_value(visitor_chat()).expect("a chat serializes");
    older_chat
        .as_object_mut()
        .expect("an object")
        .remove("ratingEnabled");
    let parsed: VisitorChat = serde_json::from_value(older_chat).expect("still parses");
    assert!(parsed.rating_enabled, "ratings are on unless switched off");
}

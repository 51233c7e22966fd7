//! The cache behind a trait: what the core needs from local storage, whatever stores it. The
//! SQLite cache ([`crate::cache::Cache`]) is the implementation; the conformance suite below
//! is written against the trait and run for every implementation (and both ways the SQLite one
//! opens), so a new backend passes the same proof.

use switchboard_protocol::{
    ApiError, Article, Availability, CannedResponse, ChatHistory, ChatId, ChatSummary, Message,
    MessageId, OperatorEvent, OperatorProfile, OperatorRef,
};

use crate::error::CoreError;
use crate::state::CachedChat;

/// What one applied event changed, so the core knows what to tell the console.
#[derive(Debug, Default, PartialEq, Eq)]
pub(crate) struct Applied {
    pub chats_changed: bool,
    pub new_message: Option<Message>,
    pub availability: Option<Availability>,
    /// A message whose text its author changed (B16).
    pub edited_message: Option<Message>,
    /// A message its author deleted (B16): its chat and id.
    pub deleted_message: Option<(ChatId, MessageId)>,
    /// The visitor has seen the staff's messages of a chat up to this one.
    pub visitor_read: Option<(ChatId, MessageId)>,
    /// The operator's profile changed (a live chat's staff emoji switch).
    pub operator: Option<OperatorProfile>,
}

/// A command kept in the outbox until the server confirms it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct QueuedCommand {
    pub id: String,
    /// The whole `Command` frame, resent as is (same client id: the server runs it once).
    pub frame: String,
    pub created_at: i64,
    /// Set when the server refused it for good; then it waits for retry or discard.
    pub failure: Option<ApiError>,
}

/// What a local search found.
#[derive(Clone, Debug, Default)]
pub(crate) struct Found {
    /// Chats whose visitor name or subject matched, best first.
    pub chats: Vec<CachedChat>,
    /// Messages that matched, newest first.
    pub messages: Vec<Message>,
}

impl Found {
    #[cfg(test)]
    pub(crate) fn chat_ids(&self) -> Vec<ChatId> {
        self.chats.iter().map(|chat| chat.summary.id).collect()
    }
}

/// Local storage of one operator's console: chats, messages, the ringing and awaiting sets,
/// unread counts, the profile, the outbox and the stream cursor. Never the session token.
pub(crate) trait Store: Send {
    /// The canned responses last fetched (B30); none before the first fetch or after sign-out.
    fn canned_responses(&self) -> Option<Vec<CannedResponse>>;
    fn store_canned_responses(&mut self, canned: &[CannedResponse]) -> Result<(), CoreError>;
    /// The last knowledge base search results (B31), shown when the server cannot be reached.
    fn last_articles(&self) -> Option<Vec<Article>>;
    fn store_last_articles(&mut self, articles: &[Article]) -> Result<(), CoreError>;
    /// The colleagues last fetched (B26), for @mentions offline.
    fn colleagues(&self) -> Option<Vec<OperatorRef>>;
    fn store_colleagues(&mut self, colleagues: &[OperatorRef]) -> Result<(), CoreError>;
    /// Invitations, transfers, reply locks and unsubscriptions (issue 7), kept across restarts.
    fn collaboration(&self) -> Option<crate::supervision::Collaboration>;
    fn store_collaboration(
        &mut self,
        collaboration: &crate::supervision::Collaboration,
    ) -> Result<(), CoreError>;
    fn operator(&self) -> Option<OperatorProfile>;

    fn availability(&self) -> Option<Availability>;

    fn cursor(&self) -> Option<u64>;

    fn clear_cursor(&mut self) -> Result<(), CoreError>;

    /// Records the signed-in operator. A different operator than the cached one starts from an
    /// empty cache, so nobody sees the previous person's chats.
    fn set_operator(&mut self, operator: &OperatorProfile) -> Result<(), CoreError>;

    /// Forgets everything (sign-out).
    fn clear(&mut self) -> Result<(), CoreError>;

    fn chats(&self) -> Result<Vec<CachedChat>, CoreError>;

    /// How many chats ring for this operator right now. Only pending chats are ever in the
    /// set: a chat leaving `pending` leaves it in the same transaction.
    fn ringing_count(&self) -> Result<usize, CoreError>;

    fn messages(&self, chat: ChatId) -> Result<Vec<Message>, CoreError>;

    /// Stores a chat's full history fetched over REST.
    fn store_history(&mut self, history: &ChatHistory) -> Result<(), CoreError>;

    /// Keeps a command frame until the server confirms it.
    fn outbox_add(&mut self, id: &str, frame: &str, at: i64) -> Result<(), CoreError>;

    fn outbox_remove(&mut self, id: &str) -> Result<bool, CoreError>;

    /// Marks a queued command refused for good, with the server's reason.
    fn outbox_fail(&mut self, id: &str, failure: &ApiError) -> Result<bool, CoreError>;

    /// Puts a failed command back in line (it keeps its place and its client id). Returns the
    /// command, or `None` when there is no such command.
    fn outbox_retry(&mut self, id: &str) -> Result<Option<QueuedCommand>, CoreError>;

    /// Unconfirmed commands, oldest first.
    fn outbox(&self) -> Result<Vec<QueuedCommand>, CoreError>;

    /// Full-text search over the cache (B42): chat names and subjects (only `chat`'s when one
    /// is given) and message history (only `chat`'s when one is given, else every chat's,
    /// newest first). Every word must match, each as a prefix; at most 50 of each kind.
    fn search(&self, query: &str, chat: Option<ChatId>) -> Result<Found, CoreError>;

    /// Whether the chat's full history is here (else only what arrived as events).
    fn history_loaded(&self, chat: ChatId) -> Result<bool, CoreError>;

    fn mark_read(&mut self, chat: ChatId) -> Result<bool, CoreError>;

    /// The newest cached message of a chat (B12: how far a read mark reaches).
    fn last_message(&self, chat: ChatId) -> Result<Option<MessageId>, CoreError>;

    /// Applies a chat summary the server returned for a command; older than the cached one is
    /// ignored, so a late reply never undoes a newer event.
    fn apply_summary(&mut self, chat: &ChatSummary) -> Result<bool, CoreError>;

    /// Stores a message the server returned for a command. Returns whether it was new.
    fn apply_message(&mut self, message: &Message) -> Result<bool, CoreError>;

    fn set_availability(&mut self, availability: Availability) -> Result<(), CoreError>;

    /// Applies one stream event and moves the cursor to `seq`, atomically.
    fn apply(&mut self, seq: u64, event: &OperatorEvent) -> Result<Applied, CoreError>;

    /// Applies consecutive stream events in one transaction and moves the cursor to the last
    /// (a catch-up: thousands of small transactions cost far more than one).
    fn apply_all(&mut self, events: &[(u64, OperatorEvent)]) -> Result<Vec<Applied>, CoreError>;

    /// Applies what a command's success implies before the server's event says so (the event
    /// applies the same change again, harmlessly). The cursor does not move.
    fn apply_local(&mut self, event: &OperatorEvent) -> Result<Applied, CoreError>;
}

/// The conformance suite: every check runs against every implementation.
#[cfg(test)]
mod conformance {
    use super::*;
    use crate::cache::Cache;
    use switchboard_protocol::{
        Author, Channel, ChatState, LiveChatId, MessageId, OperatorId, OperatorRef, RingStopReason,
        Timestamp, Visibility, VisitorId, VisitorProfile,
    };

    /// Every implementation, freshly opened, with what must outlive it.
    fn implementations() -> Vec<(&'static str, Box<dyn Store>, Option<tempfile::TempDir>)> {
        let folder = tempfile::tempdir().unwrap();
        vec![
            (
                "sqlite file",
                Box::new(Cache::open(folder.path()).unwrap()) as Box<dyn Store>,
                Some(folder),
            ),
            (
                "sqlite in memory",
                Box::new(Cache::in_memory().unwrap()),
                None,
            ),
        ]
    }

    macro_rules! conformance_tests {
        ($($check:ident),* $(,)?) => {
            $(
                #[test]
                fn $check() {
                    for (name, store, _folder) in implementations() {
                        eprintln!("conformance: {name}");
                        checks::$check(store);
                    }
                }
            )*
        };
    }

    conformance_tests!(
        events_move_chats_through_ringing_awaiting_and_unread,
        an_older_summary_never_overwrites_a_newer_one,
        b42_search_finds_chat_names_and_the_open_chats_history_offline,
        b42_message_search_follows_edits_deletions_resyncs_and_long_prefixes,
        d01_outbox_keeps_order_and_a_refused_command_until_retry_or_discard,
        another_operator_signing_in_starts_from_an_empty_cache,
    );

    mod checks {
        use super::*;

        const ME: OperatorId = OperatorId(1);

        fn profile() -> OperatorProfile {
            OperatorProfile {
                id: ME,
                name: "Ann Operator".to_owned(),
                email: "ann@example.com".to_owned(),
                live_chats: Vec::new(),
            }
        }

        fn chat(
            id: i64,
            state: ChatState,
            responsible: Option<OperatorId>,
            at: i64,
        ) -> ChatSummary {
            ChatSummary {
                id: ChatId(id),
                live_chat: LiveChatId(1),
                state,
                channel: Channel::Web,
                visitor: VisitorProfile {
                    id: VisitorId(id),
                    name: format!("Visitor {id}"),
                    email: None,
                    page_url: None,
                    location: None,
                    country: None,
                    language: None,
                    time_zone: None,
                    topic: None,
                },
                subject: "Help".to_owned(),
                responsible: responsible.map(|id| OperatorRef {
                    id,
                    name: format!("Operator {id}"),
                }),
                created_at: Timestamp(at),
                updated_at: Timestamp(at),
                rating: None,
            }
        }

        fn visitor_message(id: i64, chat: i64) -> Message {
            Message {
                id: MessageId(id),
                chat: ChatId(chat),
                client_id: None,
                author: Author::Visitor {
                    name: "Visitor".to_owned(),
                },
                visibility: Visibility::Public,
                body: "<script>alert(1)</script>".to_owned(),
                sent_at: Timestamp(10),
                attachments: Vec::new(),
                edited_at: None,
            }
        }

        pub(super) fn events_move_chats_through_ringing_awaiting_and_unread(
            mut cache: Box<dyn Store>,
        ) {
            cache.set_operator(&profile()).unwrap();
            let snapshot = OperatorEvent::Snapshot {
                chats: vec![
                    chat(1, ChatState::Pending, None, 1),
                    chat(2, ChatState::Pending, None, 2),
                ],
                ringing: vec![ChatId(1), ChatId(2)],
                availability: Availability::Online,
            };
            cache.apply(5, &snapshot).unwrap();
            assert_eq!(cache.cursor(), Some(5));
            assert_eq!(cache.ringing_count().unwrap(), 2);
            assert_eq!(cache.availability(), Some(Availability::Online));

            let muted = OperatorEvent::RingStopped {
                chat: ChatId(2),
                reason: RingStopReason::Muted,
            };
            cache.apply(6, &muted).unwrap();
            assert_eq!(cache.ringing_count().unwrap(), 1);
            let awaiting: Vec<_> = cache
                .chats()
                .unwrap()
                .into_iter()
                .filter(|c| c.awaiting)
                .collect();
            assert_eq!(awaiting.len(), 1);
            assert_eq!(awaiting[0].summary.id, ChatId(2));

            // Accepted by me: it stops ringing even before the RingStopped event arrives.
            cache
                .apply(
                    7,
                    &OperatorEvent::ChatUpserted {
                        chat: chat(1, ChatState::Active, Some(ME), 3),
                    },
                )
                .unwrap();
            assert_eq!(cache.ringing_count().unwrap(), 0);

            let applied = cache
                .apply(
                    8,
                    &OperatorEvent::MessagePosted {
                        message: visitor_message(100, 1),
                    },
                )
                .unwrap();
            assert!(applied.chats_changed);
            assert_eq!(applied.new_message.map(|m| m.id), Some(MessageId(100)));
            // A replayed event changes nothing.
            let again = cache
                .apply(
                    8,
                    &OperatorEvent::MessagePosted {
                        message: visitor_message(100, 1),
                    },
                )
                .unwrap();
            assert_eq!(again, Applied::default());
            let unread = |cache: &dyn Store, id: i64| {
                cache
                    .chats()
                    .unwrap()
                    .into_iter()
                    .find(|c| c.summary.id == ChatId(id))
                    .unwrap()
                    .unread
            };
            assert_eq!(unread(cache.as_ref(), 1), 1);
            // A message in a chat I am not responsible for does not count (B12).
            cache
                .apply(
                    9,
                    &OperatorEvent::MessagePosted {
                        message: visitor_message(101, 2),
                    },
                )
                .unwrap();
            assert_eq!(unread(cache.as_ref(), 2), 0);
            assert_eq!(cache.messages(ChatId(1)).unwrap().len(), 1);

            // A later snapshot keeps unread counts and the still-pending muted chat in Awaiting.
            let resnapshot = OperatorEvent::Snapshot {
                chats: vec![
                    chat(1, ChatState::Active, Some(ME), 3),
                    chat(2, ChatState::Pending, None, 2),
                ],
                ringing: vec![],
                availability: Availability::Away,
            };
            cache.apply(20, &resnapshot).unwrap();
            assert_eq!(unread(cache.as_ref(), 1), 1);
            assert!(
                cache
                    .chats()
                    .unwrap()
                    .iter()
                    .any(|c| c.summary.id == ChatId(2) && c.awaiting)
            );
            assert!(cache.mark_read(ChatId(1)).unwrap());
            assert_eq!(unread(cache.as_ref(), 1), 0);
            assert_eq!(cache.cursor(), Some(20));
        }

        pub(super) fn an_older_summary_never_overwrites_a_newer_one(mut cache: Box<dyn Store>) {
            cache
                .apply_summary(&chat(1, ChatState::Closed, Some(ME), 50))
                .unwrap();
            assert!(
                !cache
                    .apply_summary(&chat(1, ChatState::Active, Some(ME), 40))
                    .unwrap()
            );
            assert_eq!(cache.chats().unwrap()[0].summary.state, ChatState::Closed);
        }

        pub(super) fn b42_search_finds_chat_names_and_the_open_chats_history_offline(
            mut cache: Box<dyn Store>,
        ) {
            cache.set_operator(&profile()).unwrap();
            let mut maria = chat(1, ChatState::Active, Some(ME), 1);
            maria.visitor.name = "María Lopez".to_owned();
            maria.subject = "Invoice".to_owned();
            let mut paul = chat(2, ChatState::Pending, None, 2);
            paul.visitor.name = "Paul".to_owned();
            paul.subject = "Refund for order 1234".to_owned();
            cache.apply_summary(&maria).unwrap();
            cache.apply_summary(&paul).unwrap();
            let mut message = visitor_message(10, 1);
            message.body = "My invoice number is INV-99, refund please".to_owned();
            cache.apply_message(&message).unwrap();
            let mut other = visitor_message(11, 2);
            other.body = "refund refund refund".to_owned();
            cache.apply_message(&other).unwrap();

            // No chat open: chat names (and subjects), accents and case ignored, prefixes...
            let found = cache.search("mari", None).unwrap();
            assert_eq!(found.chat_ids(), vec![ChatId(1)]);
            assert!(found.messages.is_empty());
            // ...and the messages of every chat, newest first.
            let found = cache.search("REFUND", None).unwrap();
            assert_eq!(found.chat_ids(), vec![ChatId(2)]);
            assert_eq!(
                found.messages.iter().map(|m| m.id).collect::<Vec<_>>(),
                vec![MessageId(11), MessageId(10)]
            );
            // A chat open: its name and its own history, not other chats' messages.
            let found = cache.search("refund", Some(ChatId(1))).unwrap();
            assert!(found.chats.is_empty());
            assert_eq!(
                found.messages.iter().map(|m| m.id).collect::<Vec<_>>(),
                vec![MessageId(10)]
            );
            assert_eq!(
                cache
                    .search("lopez invoice", Some(ChatId(1)))
                    .unwrap()
                    .chat_ids(),
                vec![ChatId(1)]
            );
            // Accents and case are ignored in history too, and words are prefixes.
            let mut accented = visitor_message(12, 1);
            accented.body = "Le CAFÉ était fermé".to_owned();
            cache.apply_message(&accented).unwrap();
            assert_eq!(
                cache
                    .search("cafe etai", Some(ChatId(1)))
                    .unwrap()
                    .messages
                    .iter()
                    .map(|m| m.id)
                    .collect::<Vec<_>>(),
                vec![MessageId(12)]
            );
            // Every word must match.
            assert!(
                cache
                    .search("refund zebra", Some(ChatId(1)))
                    .unwrap()
                    .messages
                    .is_empty()
            );
            // FTS syntax in the input is plain text, never an error or an injection.
            for hostile in [
                "\"",
                "*",
                "NEAR(",
                "body:x",
                "chat:c1",
                "a OR",
                "-",
                "')",
                "",
                "^refund",
                "refund\" OR \"",
                "{body chat}: x",
                "inv*",
            ] {
                assert!(
                    cache.search(hostile, Some(ChatId(1))).is_ok(),
                    "{hostile:?}"
                );
                assert!(cache.search(hostile, None).is_ok(), "{hostile:?}");
            }
            assert!(
                cache.search("chat c1", None).unwrap().messages.is_empty(),
                "the chat scope token is not searchable text"
            );
            // A pasted paragraph is answered (its first words decide), not an error.
            let pasted = format!("invoice {}", "lorem ipsum dolor sit amet ".repeat(200));
            assert!(cache.search(&pasted, None).is_ok());
            assert_eq!(
                cache
                    .search("my invoice number", None)
                    .unwrap()
                    .messages
                    .len(),
                1
            );
            // A renamed chat is found by its new name only; sign-out forgets the index.
            maria.visitor.name = "Maria Garcia".to_owned();
            maria.updated_at = Timestamp(5);
            cache.apply_summary(&maria).unwrap();
            assert!(cache.search("lopez", None).unwrap().chats.is_empty());
            assert_eq!(
                cache.search("garcia", None).unwrap().chat_ids(),
                vec![ChatId(1)]
            );
            cache.clear().unwrap();
            assert!(
                cache
                    .search("refund", Some(ChatId(1)))
                    .unwrap()
                    .messages
                    .is_empty()
            );
            assert!(cache.search("garcia", None).unwrap().chats.is_empty());
        }

        pub(super) fn b42_message_search_follows_edits_deletions_resyncs_and_long_prefixes(
            mut cache: Box<dyn Store>,
        ) {
            cache.set_operator(&profile()).unwrap();
            cache
                .apply_summary(&chat(1, ChatState::Active, Some(ME), 1))
                .unwrap();
            cache
                .apply_summary(&chat(2, ChatState::Active, Some(ME), 2))
                .unwrap();
            let ids = |found: &Found| found.messages.iter().map(|m| m.id.0).collect::<Vec<_>>();
            let post = |cache: &mut Box<dyn Store>, seq: u64, id: i64, chat: i64, body: &str| {
                let mut message = visitor_message(id, chat);
                message.body = body.to_owned();
                cache
                    .apply(seq, &OperatorEvent::MessagePosted { message })
                    .unwrap();
            };
            post(&mut cache, 1, 1, 1, "Where is my parcel?");
            post(&mut cache, 2, 2, 2, "The parcel arrived damaged");
            post(&mut cache, 3, 3, 1, "Parcels and invoices");

            // Prefixes longer than the prefix index expand to the words they start.
            assert_eq!(ids(&cache.search("parce", None).unwrap()), [3, 2, 1]);
            assert_eq!(ids(&cache.search("parcels", None).unwrap()), [3]);
            assert_eq!(ids(&cache.search("parc", Some(ChatId(2))).unwrap()), [2]);
            assert_eq!(
                ids(&cache.search("invoi parc", Some(ChatId(1))).unwrap()),
                [3]
            );
            assert!(cache.search("parcelx", None).unwrap().messages.is_empty());

            // An edit replaces the indexed text; a deletion removes it.
            let mut edited = visitor_message(1, 1);
            edited.body = "Where is my delivery?".to_owned();
            cache
                .apply(4, &OperatorEvent::MessageEdited { message: edited })
                .unwrap();
            assert_eq!(ids(&cache.search("parcel", Some(ChatId(1))).unwrap()), [3]);
            assert_eq!(ids(&cache.search("deliv", None).unwrap()), [1]);
            cache
                .apply(
                    5,
                    &OperatorEvent::MessageDeleted {
                        chat: ChatId(2),
                        message: MessageId(2),
                    },
                )
                .unwrap();
            assert_eq!(
                ids(&cache.search("damaged", None).unwrap()),
                Vec::<i64>::new()
            );
            assert_eq!(ids(&cache.search("parcel", None).unwrap()), [3]);

            // A snapshot resync keeps the cached history searchable.
            cache
                .apply(
                    6,
                    &OperatorEvent::Snapshot {
                        chats: vec![chat(1, ChatState::Active, Some(ME), 3)],
                        ringing: vec![],
                        availability: Availability::Online,
                    },
                )
                .unwrap();
            assert_eq!(ids(&cache.search("deliv", Some(ChatId(1))).unwrap()), [1]);

            // More words start with the prefix than it expands to: still every one matches.
            let many: Vec<String> = (0..70).map(|index| format!("order{index:02}x")).collect();
            post(&mut cache, 7, 10, 1, &many.join(" "));
            post(&mut cache, 8, 11, 1, "order42x only");
            assert_eq!(ids(&cache.search("orde", None).unwrap()), [11, 10]);
            assert_eq!(ids(&cache.search("order4", None).unwrap()), [11, 10]);
            assert_eq!(ids(&cache.search("order69x", None).unwrap()), [10]);

            // Newest first, at most 50.
            for id in 100..160 {
                post(&mut cache, 9 + id as u64, id, 2, "hello again");
            }
            let found = cache.search("hello", None).unwrap();
            assert_eq!(ids(&found), (110..160).rev().collect::<Vec<_>>());
            assert_eq!(
                cache.search("he", Some(ChatId(1))).unwrap().messages.len(),
                0
            );
        }

        pub(super) fn d01_outbox_keeps_order_and_a_refused_command_until_retry_or_discard(
            mut cache: Box<dyn Store>,
        ) {
            cache.outbox_add("b", "frame b", 5).unwrap();
            cache.outbox_add("a", "frame a", 5).unwrap();
            cache.outbox_add("c", "frame c", 6).unwrap();
            // Adding the same id again (a resend) changes nothing.
            cache.outbox_add("a", "other", 1).unwrap();
            let ids = |cache: &dyn Store| {
                cache
                    .outbox()
                    .unwrap()
                    .into_iter()
                    .map(|q| q.id)
                    .collect::<Vec<_>>()
            };
            assert_eq!(
                ids(cache.as_ref()),
                ["b", "a", "c"],
                "oldest first, ties in write order"
            );
            let refused = ApiError::new(
                switchboard_protocol::ErrorCode::Conflict,
                "This chat was taken by Bob.",
            );
            assert!(cache.outbox_fail("a", &refused).unwrap());
            assert_eq!(cache.outbox().unwrap()[1].failure, Some(refused));
            let retried = cache.outbox_retry("a").unwrap().unwrap();
            assert_eq!((retried.frame.as_str(), retried.failure), ("frame a", None));
            assert_eq!(
                ids(cache.as_ref()),
                ["b", "a", "c"],
                "a retry keeps its place"
            );
            assert_eq!(cache.outbox_retry("missing").unwrap(), None);
            assert!(cache.outbox_remove("b").unwrap());
            assert!(!cache.outbox_remove("b").unwrap());
            assert_eq!(ids(cache.as_ref()), ["a", "c"]);
        }

        pub(super) fn another_operator_signing_in_starts_from_an_empty_cache(
            mut cache: Box<dyn Store>,
        ) {
            cache.set_operator(&profile()).unwrap();
            cache
                .apply_summary(&chat(1, ChatState::Pending, None, 1))
                .unwrap();
            let mut bob = profile();
            bob.id = OperatorId(2);
            cache.set_operator(&bob).unwrap();
            assert!(
                cache.chats().unwrap().is_empty(),
                "Bob must not see Ann's cache"
            );
            assert_eq!(cache.operator().map(|o| o.id), Some(OperatorId(2)));
        }
    }
}

//! The console-facing view of the core: what the console renders and the events that update it.
//!
//! Everything here crosses to the console over IPC, so it is serialisable and has a generated
//! TypeScript declaration (see [`crate::typescript`]).

use serde::{Deserialize, Serialize};
use switchboard_protocol::{
    ApiError, Availability, ChatId, ChatState, ChatSummary, Message, MessageId, OperatorCommand,
    OperatorId, OperatorProfile, SiteVisitor, Timestamp,
};
use ts_rs::TS;

/// Health of the link to the server, one value at a time (the console shows one banner).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, TS)]
#[serde(tag = "type", rename_all = "camelCase")]
pub enum ConnectionState {
    /// No session: the console shows the sign-in form.
    SignedOut,
    /// Opening the first connection of this session.
    Connecting,
    /// Live: events arrive as they happen.
    Connected,
    /// Signed in, but not connected and not trying (the core was shut down).
    Offline,
    /// Waiting to retry; `at` is when the next attempt starts.
    Reconnecting { at: Timestamp },
    /// The server speaks a newer protocol: the app must be updated. No retries.
    UpgradeRequired,
}

/// Whether the OS keychain holds the session token.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, TS)]
#[serde(tag = "type", rename_all = "camelCase")]
pub enum KeychainState {
    Available,
    /// The token lives in memory only for this run; the operator signs in again next start.
    Unavailable {
        reason: String,
    },
}

/// What the ring tone is doing.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, TS)]
#[serde(tag = "type", rename_all = "camelCase")]
pub enum RingerState {
    /// Nothing rings.
    Silent,
    /// At least one chat rings and the tone plays.
    Ringing,
    /// Chats ring but the operator muted ringing globally: visual alerts only.
    Muted,
    /// No sound output; alerts are visual only (D03).
    NoDevice { reason: String },
    /// Sound is switched off for this app (`SWITCHBOARD_AUDIO=off`); alerts are visual only.
    Disabled,
}

/// The console list a chat belongs to (B40).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize, TS)]
#[serde(rename_all = "camelCase")]
pub enum ChatGroup {
    /// Pending, waiting for an operator.
    Unassigned,
    /// Pending, muted by me: mine to find and start (B02).
    Awaiting,
    /// Active with me responsible.
    MyChats,
    /// Active with someone else responsible (visible to supervisors).
    OthersActive,
    /// Closed or abandoned.
    Closed,
}

/// A chat as the console lists it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, TS)]
#[serde(rename_all = "camelCase")]
pub struct ConsoleChat {
    pub summary: ChatSummary,
    /// Visitor messages not yet read by me (counted while I am responsible, B12).
    pub unread: u32,
    /// Rings for me right now.
    pub ringing: bool,
    /// Muted by me while still pending.
    pub awaiting: bool,
    pub group: ChatGroup,
    /// The visitor has seen the staff's messages up to this one ("Seen"); kept in the cache,
    /// so it survives an app restart. Absent until the visitor reads something.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[ts(optional)]
    pub visitor_read_up_to: Option<MessageId>,
    /// The visitor's rating of the chat (B33), kept in the cache; absent until they rate it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[ts(optional)]
    pub rating: Option<switchboard_protocol::ChatRating>,
}

/// The console's counters (B41); the tray shows the same numbers. The group counts (`unassigned`,
/// `my_chats`, `awaiting`, `others_active`, `closed`) are how many chats each list holds; `red`
/// and `blue` are the header's and the tray's badges, computed only here so they cannot differ.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize, TS)]
#[serde(rename_all = "camelCase")]
pub struct Counters {
    /// Unread visitor messages in every chat this operator handles.
    pub unread: u32,
    pub unassigned: u32,
    pub ringing: u32,
    pub my_chats: u32,
    pub awaiting: u32,
    /// Unread visitor messages in My Chats: the red badge beside that group.
    #[serde(default)]
    pub my_chats_unread: u32,
    /// Active chats other operators handle (the supervisor's "All active" group).
    #[serde(default)]
    pub others_active: u32,
    #[serde(default)]
    pub closed: u32,
    /// The red badge (B41): unread messages for an operator, chats waiting in the live chats
    /// they supervise for a supervisor, the sum for someone who is both.
    #[serde(default)]
    pub red: u32,
    /// The blue badge (B41): new unassigned requests in my live chats.
    #[serde(default)]
    pub blue: u32,
}

/// Catching up after a reconnect: "syncing `applied` of `total`" (D02).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, TS)]
#[serde(rename_all = "camelCase")]
pub struct SyncProgress {
    #[ts(type = "number")]
    pub applied: u64,
    #[ts(type = "number")]
    pub total: u64,
}

/// Where a command in the outbox stands.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, TS)]
#[serde(tag = "type", rename_all = "camelCase")]
pub enum OutboxState {
    /// Waiting to be sent or confirmed; sent in order whenever the link is up.
    Pending,
    /// The server refused it for good; the console offers retry or discard.
    Failed { error: ApiError },
}

/// A command the operator issued that the server has not confirmed yet: the console shows it
/// at once (a reply as a local echo in its chat) with its state (D01).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, TS)]
#[serde(rename_all = "camelCase")]
pub struct OutboxItem {
    /// The command's client id, which retry and discard take.
    pub id: String,
    pub command: OperatorCommand,
    pub created_at: Timestamp,
    pub state: OutboxState,
}

/// What a local search found (B42), best matches first.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize, TS)]
#[serde(rename_all = "camelCase")]
pub struct SearchResults {
    /// Chats whose visitor name or subject matched.
    pub chats: Vec<ConsoleChat>,
    /// Messages that matched, newest first: the open chat's, or every chat's when none is open.
    pub messages: Vec<Message>,
}

/// Everything the console needs to draw itself.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, TS)]
#[serde(rename_all = "camelCase")]
pub struct CoreState {
    pub connection: ConnectionState,
    pub keychain: KeychainState,
    pub operator: Option<OperatorProfile>,
    pub availability: Availability,
    pub chats: Vec<ConsoleChat>,
    pub counters: Counters,
    /// Requests ringing for me, oldest first (the tray's list): exactly the chats listed as
    /// ringing, so `counters.ringing` is always its length.
    #[serde(default)]
    pub ringing_requests: Vec<crate::RingingRequest>,
    pub ringer: RingerState,
    pub ringer_muted: bool,
    /// Commands not yet confirmed by the server, oldest first.
    pub outbox: Vec<OutboxItem>,
    /// Set while catching up after a reconnect.
    pub sync: Option<SyncProgress>,
    /// Visitors on the pages of my live chats (B50); absent when signed out.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[ts(optional)]
    pub visitors_on_site: Option<Vec<SiteVisitor>>,
}

/// Changes the console subscribes to.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, TS)]
#[serde(tag = "type", rename_all = "camelCase")]
pub enum CoreEvent {
    Connection {
        state: ConnectionState,
    },
    Session {
        operator: Option<OperatorProfile>,
        keychain: KeychainState,
    },
    /// The whole chat list after any change.
    Chats {
        chats: Vec<ConsoleChat>,
        counters: Counters,
    },
    MessagePosted {
        message: Message,
    },
    /// The author changed a message's text (B16): replace the message with the same id.
    MessageEdited {
        message: Message,
    },
    /// The author deleted a message (B16): show "message deleted" in its place.
    MessageDeleted {
        chat: ChatId,
        message: MessageId,
    },
    Ringer {
        state: RingerState,
        muted: bool,
    },
    Availability {
        availability: Availability,
    },
    /// The whole outbox after any change (a command queued, confirmed, failed, retried or
    /// discarded).
    Outbox {
        items: Vec<OutboxItem>,
    },
    /// Catch-up progress; `null` when caught up.
    Sync {
        progress: Option<SyncProgress>,
    },
    /// Show a native notification (D05); clicking it opens `notification.chat`.
    Notify {
        notification: crate::Notification,
    },
    /// The chat's visitor started or stopped typing. Ephemeral: hide it after
    /// `TYPING_EXPIRY_MS` without a refresh.
    VisitorTyping {
        chat: ChatId,
        typing: bool,
    },
    /// The chat's visitor has seen the staff's messages up to `upTo` ("Seen").
    #[serde(rename_all = "camelCase")]
    VisitorRead {
        chat: ChatId,
        up_to: MessageId,
    },
    /// Ask for (or stop asking for) the taskbar's attention: requests ring and the window is
    /// not focused.
    UserAttention {
        wanted: bool,
    },
    /// An attachment upload moved on (B32): bytes sent, queued for the link, done or failed.
    Upload {
        upload: crate::UploadProgress,
    },
    /// Visitors on site changed (B50): the whole list, oldest visit first.
    VisitorsOnSite {
        visitors: Vec<SiteVisitor>,
    },
    /// Invitations, transfers, reply locks or subscriptions changed (issue 7): the whole state.
    Collaboration {
        collaboration: crate::Collaboration,
    },
}

/// Chat facts the cache keeps per chat, before grouping.
#[derive(Clone, Debug)]
pub(crate) struct CachedChat {
    pub summary: ChatSummary,
    pub unread: u32,
    pub ringing: bool,
    pub awaiting: bool,
    pub visitor_read_up_to: Option<MessageId>,
    pub rating: Option<switchboard_protocol::ChatRating>,
}

/// Which list a chat belongs in, seen by operator `me`.
pub(crate) fn group_of(chat: &CachedChat, me: Option<OperatorId>) -> ChatGroup {
    match chat.summary.state {
        ChatState::Closed | ChatState::Abandoned => ChatGroup::Closed,
        ChatState::Pending if chat.awaiting => ChatGroup::Awaiting,
        ChatState::Pending => ChatGroup::Unassigned,
        ChatState::Active => match (&chat.summary.responsible, me) {
            (Some(responsible), Some(me)) if responsible.id == me => ChatGroup::MyChats,
            _ => ChatGroup::OthersActive,
        },
    }
}

/// Groups the cached chats for the console, newest activity first, and counts them as seen by
/// `operator` (who is "me", and which live chats they supervise).
pub(crate) fn console_view(
    chats: Vec<CachedChat>,
    operator: Option<&OperatorProfile>,
) -> (Vec<ConsoleChat>, Counters) {
    let me = operator.map(|operator| operator.id);
    let supervised: Vec<_> = operator
        .map(|operator| {
            operator
                .live_chats
                .iter()
                .filter(|live| live.supervisor)
                .map(|live| live.id)
                .collect()
        })
        .unwrap_or_default();
    let mut waiting_supervised = 0;
    let mut counters = Counters::default();
    let mut console: Vec<ConsoleChat> = chats
        .into_iter()
        .map(|chat| {
            let group = group_of(&chat, me);
            // A ring or an awaiting mark only means something while the chat is pending.
            let pending = chat.summary.state == ChatState::Pending;
            let ringing = chat.ringing && pending;
            let awaiting = chat.awaiting && pending;
            counters.unread += chat.unread;
            counters.ringing += u32::from(ringing);
            if pending && supervised.contains(&chat.summary.live_chat) {
                waiting_supervised += 1;
            }
            match group {
                ChatGroup::Unassigned => counters.unassigned += 1,
                ChatGroup::Awaiting => counters.awaiting += 1,
                ChatGroup::MyChats => {
                    counters.my_chats += 1;
                    counters.my_chats_unread += chat.unread;
                }
                ChatGroup::OthersActive => counters.others_active += 1,
                ChatGroup::Closed => counters.closed += 1,
            }
            ConsoleChat {
                summary: chat.summary,
                unread: chat.unread,
                ringing,
                awaiting,
                group,
                visitor_read_up_to: chat.visitor_read_up_to,
                rating: chat.rating,
            }
        })
        .collect();
    console.sort_by(|a, b| {
        b.summary
            .updated_at
            .cmp(&a.summary.updated_at)
            .then(b.summary.id.cmp(&a.summary.id))
    });
    counters.red = counters.unread + waiting_supervised;
    counters.blue = counters.unassigned;
    (console, counters)
}

#[cfg(test)]
mod tests {
    use super::*;
    use switchboard_protocol::{
        Channel, ChatId, LiveChatId, OperatorRef, VisitorId, VisitorProfile,
    };

    const ME: OperatorId = OperatorId(1);
    const OTHER: OperatorId = OperatorId(2);

    fn cached(id: i64, state: ChatState, responsible: Option<OperatorId>) -> CachedChat {
        CachedChat {
            summary: ChatSummary {
                id: ChatId(id),
                live_chat: LiveChatId(1),
                state,
                channel: Channel::Web,
                visitor: VisitorProfile {
                    id: VisitorId(id),
                    name: "Visitor".to_owned(),
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
                    name: "Operator".to_owned(),
                }),
                created_at: Timestamp(id),
                updated_at: Timestamp(id),
                rating: None,
            },
            unread: 0,
            ringing: false,
            awaiting: false,
            visitor_read_up_to: None,
            rating: None,
        }
    }

    #[test]
    fn b40_chats_are_grouped_and_b41_counted_for_the_console() {
        let mut ringing = cached(1, ChatState::Pending, None);
        ringing.ringing = true;
        let mut muted = cached(2, ChatState::Pending, None);
        muted.awaiting = true;
        let mut mine = cached(3, ChatState::Active, Some(ME));
        mine.unread = 2;
        let theirs = cached(4, ChatState::Active, Some(OTHER));
        let closed = cached(5, ChatState::Closed, Some(ME));
        let mut abandoned = cached(6, ChatState::Abandoned, None);
        // A stale ring mark on a chat that is no longer pending must not count.
        abandoned.ringing = true;

        let operator = OperatorProfile {
            id: ME,
            name: "Ann Operator".to_owned(),
            email: "ann@example.com".to_owned(),
            live_chats: Vec::new(),
        };
        let (chats, counters) = console_view(
            vec![ringing, muted, mine, theirs, closed, abandoned],
            Some(&operator),
        );
        let group = |id: i64| {
            chats
                .iter()
                .find(|c| c.summary.id == ChatId(id))
                .unwrap()
                .group
        };
        assert_eq!(group(1), ChatGroup::Unassigned);
        assert_eq!(group(2), ChatGroup::Awaiting);
        assert_eq!(group(3), ChatGroup::MyChats);
        assert_eq!(group(4), ChatGroup::OthersActive);
        assert_eq!(group(5), ChatGroup::Closed);
        assert_eq!(group(6), ChatGroup::Closed);
        assert_eq!(
            counters,
            Counters {
                unread: 2,
                unassigned: 1,
                ringing: 1,
                my_chats: 1,
                awaiting: 1,
                my_chats_unread: 2,
                others_active: 1,
                closed: 2,
                red: 2,
                blue: 1,
            }
        );
        assert_eq!(
            chats.iter().map(|c| c.summary.id.0).collect::<Vec<_>>(),
            vec![6, 5, 4, 3, 2, 1],
            "newest activity first"
        );
    }

    #[test]
    fn b41_red_adds_waiting_chats_of_supervised_live_chats() {
        let waiting = cached(1, ChatState::Pending, None);
        let mut muted = cached(2, ChatState::Pending, None);
        muted.awaiting = true;
        let mut mine = cached(3, ChatState::Active, Some(ME));
        mine.unread = 3;
        let mut elsewhere = cached(4, ChatState::Pending, None);
        elsewhere.summary.live_chat = LiveChatId(2);
        let live = |id: i64, supervisor: bool| switchboard_protocol::LiveChatSummary {
            id: LiveChatId(id),
            name: format!("Live chat {id}"),
            supervisor,
            staff_emoji: true,
        };
        let operator = OperatorProfile {
            id: ME,
            name: "Sue Supervisor".to_owned(),
            email: "sue@example.com".to_owned(),
            live_chats: vec![live(1, true), live(2, false)],
        };
        let chats = vec![waiting, muted, mine, elsewhere];
        let (_, counters) = console_view(chats.clone(), Some(&operator));
        // Both waiting chats of live chat 1 (muted or not) plus the three unread messages; the
        // pending chat of live chat 2, which she only operates, counts in blue alone.
        assert_eq!(counters.red, 3 + 2);
        assert_eq!(counters.blue, 2);
        assert_eq!(counters.my_chats, 1);
        assert_eq!(counters.my_chats_unread, 3);

        let operator_only = OperatorProfile {
            live_chats: vec![live(1, false), live(2, false)],
            ..operator
        };
        let (_, counters) = console_view(chats, Some(&operator_only));
        assert_eq!(counters.red, 3, "an operator's red is their unread only");
    }

    #[test]
    fn console_types_serialise_camel_case_and_tagged() {
        let event = CoreEvent::Connection {
            state: ConnectionState::Reconnecting { at: Timestamp(5) },
        };
        assert_eq!(
            serde_json::to_value(&event).unwrap(),
            serde_json::json!({"type": "connection", "state": {"type": "reconnecting", "at": 5}})
        );
        let counters = serde_json::to_value(Counters::default()).unwrap();
        assert!(counters.get("myChats").is_some());
        assert_eq!(
            serde_json::to_value(ChatGroup::OthersActive).unwrap(),
            serde_json::json!("othersActive")
        );
    }
}

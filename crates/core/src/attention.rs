//! What should ring, chime, notify and flash, decided from server events and the operator's
//! switches (D03, D05). Pure: no audio, no window, no clock of its own, so every start and stop
//! reason is tested directly; the core feeds it and the ringer and the shell only obey.
//!
//! Ringing is derived from server events, never guessed: a ring starts with `RingStarted` and
//! stops with `RingStopped` (accepted by anyone, muted, offered away, abandoned, unavailable), a
//! chat that is no longer pending, or a snapshot that no longer lists it (a reconnect resync).

use std::collections::{BTreeMap, HashMap, HashSet, VecDeque};

use serde::{Deserialize, Serialize};
use switchboard_protocol::{
    Author, Availability, ChatId, ChatState, ChatSummary, InvitationKind, Message, OperatorEvent,
    OperatorId, Timestamp, Visibility,
};
use ts_rs::TS;

use crate::RingerState;
use crate::sounds::SoundUnavailable;

/// How many notification keys are remembered for deduplication; old keys are forgotten first.
/// A replay after a reconnect only repeats recent events, so a bounded memory is enough.
const REMEMBERED_KEYS: usize = 4_096;

/// The sounds the app plays. One ring loops for any number of ringing requests; the others
/// are short and play once.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize, TS)]
#[serde(rename_all = "camelCase")]
pub enum Sound {
    /// The loop while requests ring for me.
    Ring,
    /// A new visitor message in one of my chats.
    Message,
    /// A colleague invites me into a chat or transfers one to me (B22, B23).
    Invitation,
    /// A colleague's note mentions me by name (B26).
    Mention,
    /// A new visitor on the site (B50); off unless the operator chose a sound for it.
    NewVisitor,
}

/// What a native notification is about.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, TS)]
#[serde(tag = "type", rename_all = "camelCase")]
pub enum NotificationKind {
    /// A request rings for me.
    Ringing,
    /// A visitor wrote in one of my chats.
    Message,
    /// A colleague invites me into a chat (B23): answer with Accept or Decline.
    Invitation,
    /// A colleague transfers a chat to me (B22): answer with Accept or Decline.
    Transfer,
    /// A colleague's note mentions me (B26).
    Mention,
    /// Visitor messages stayed unread by the responsible operator (B12).
    Escalation,
}

/// A native notification to show (D05). Clicking it opens `chat`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, TS)]
#[serde(rename_all = "camelCase")]
pub struct Notification {
    /// Same event, same key: a replayed event after a reconnect is not notified twice.
    pub key: String,
    pub chat: ChatId,
    pub kind: NotificationKind,
    /// "Maria – pricing question". Visitor text: shown as plain text only.
    pub title: String,
    pub body: String,
}

/// A one-off consequence of an event.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) enum Effect {
    /// Play a short sound once.
    Chime(Sound),
    Notify(Notification),
}

/// A request ringing for me, as the tray lists it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, TS)]
#[serde(rename_all = "camelCase")]
pub struct RingingRequest {
    pub chat: ChatId,
    /// Since when it rings on this device.
    pub since: Timestamp,
}

/// What the attention logic knows about a chat.
#[derive(Clone, Debug)]
struct ChatFacts {
    visitor: String,
    subject: String,
    pending: bool,
    mine: bool,
}

/// The attention state machine.
#[derive(Debug)]
pub(crate) struct Attention {
    ringing: BTreeMap<ChatId, Timestamp>,
    chats: HashMap<ChatId, ChatFacts>,
    /// The global "mute ringing" switch: silences the loop, requests still ring.
    muted: bool,
    availability: Availability,
    focused: bool,
    /// Why no sound can play, when none can.
    unavailable: Option<SoundUnavailable>,
    notified: HashSet<String>,
    notified_order: VecDeque<String>,
    /// My display name, for @mentions in notes (B26); `None` before sign-in.
    my_name: Option<String>,
}

impl Attention {
    pub(crate) fn new(unavailable: Option<SoundUnavailable>) -> Attention {
        Attention {
            ringing: BTreeMap::new(),
            chats: HashMap::new(),
            muted: false,
            availability: Availability::Online,
            // The window starts shown; the shell reports focus changes.
            focused: true,
            unavailable,
            notified: HashSet::new(),
            notified_order: VecDeque::new(),
            my_name: None,
        }
    }

    /// Applies one server event (after the cache applied it) and returns what it triggers.
    pub(crate) fn observe(
        &mut self,
        event: &OperatorEvent,
        me: Option<OperatorId>,
        now: Timestamp,
    ) -> Vec<Effect> {
        let mut effects = Vec::new();
        match event {
            OperatorEvent::Snapshot {
                chats,
                ringing,
                availability,
            } => {
                self.chats.clear();
                for chat in chats {
                    self.learn(chat, me);
                }
                self.availability = *availability;
                let listed: HashSet<ChatId> = ringing.iter().copied().collect();
                // The snapshot is the whole truth: a ring it no longer lists was stopped while
                // we were away (someone else took it, it was abandoned, ...).
                self.ringing.retain(|chat, _| listed.contains(chat));
                for chat in ringing {
                    self.start_ring(*chat, now, &mut effects);
                }
            }
            OperatorEvent::ChatUpserted { chat } => {
                self.learn(chat, me);
                if chat.state != ChatState::Pending {
                    self.ringing.remove(&chat.id);
                }
            }
            OperatorEvent::RingStarted { chat } => {
                // A late ring for a chat that is no longer pending is ignored, like the cache does.
                let pending = self.chats.get(chat).is_none_or(|facts| facts.pending);
                if pending {
                    self.start_ring(*chat, now, &mut effects);
                }
            }
            OperatorEvent::RingStopped { chat, .. } => {
                self.ringing.remove(chat);
            }
            OperatorEvent::AvailabilityChanged { availability } => {
                self.availability = *availability;
            }
            OperatorEvent::MessagePosted { message } => {
                let from_visitor = matches!(message.author, Author::Visitor { .. });
                let mine = self
                    .chats
                    .get(&message.chat)
                    .is_some_and(|facts| facts.mine);
                if message.visibility == Visibility::Note {
                    self.observe_note(message, me, &mut effects);
                }
                if from_visitor && mine && message.visibility == Visibility::Public {
                    let key = format!("message:{}", message.id);
                    if self.remember(&key) {
                        if self.sounds_allowed() {
                            effects.push(Effect::Chime(Sound::Message));
                        }
                        if !self.focused {
                            effects.push(Effect::Notify(Notification {
                                key,
                                chat: message.chat,
                                kind: NotificationKind::Message,
                                title: self.title(message.chat),
                                body: message.body.chars().take(200).collect(),
                            }));
                        }
                    }
                }
            }
            OperatorEvent::Offered { .. } | OperatorEvent::RoutingChanged { .. } => {}
            OperatorEvent::Invited { invitation } => {
                // The server has no invitation id; chat, kind and sender name one open
                // invitation, so a replay after a reconnect is recognised.
                let (kind, label, what) = match invitation.kind {
                    InvitationKind::Invite => (
                        NotificationKind::Invitation,
                        "invite",
                        "invites you to this chat",
                    ),
                    InvitationKind::Transfer => (
                        NotificationKind::Transfer,
                        "transfer",
                        "transfers this chat to you",
                    ),
                };
                let key = format!("{label}:{}:{}", invitation.chat, invitation.from.id);
                if self.remember(&key) {
                    if self.sounds_allowed() {
                        effects.push(Effect::Chime(Sound::Invitation));
                    }
                    if !self.focused {
                        let title = match self.chats.get(&invitation.chat) {
                            Some(_) => self.title(invitation.chat),
                            None if invitation.subject.is_empty() => {
                                format!("Chat {}", invitation.chat)
                            }
                            None => invitation.subject.clone(),
                        };
                        let mut body = format!("{} {what}", invitation.from.name);
                        // Issue 7: a team transfer says which team it came through.
                        if let Some(team) = &invitation.team {
                            body.push_str(&format!(" via team {team}"));
                        }
                        if let Some(note) = &invitation.note {
                            body.push_str(": ");
                            body.extend(note.chars().take(200));
                        }
                        effects.push(Effect::Notify(Notification {
                            key,
                            chat: invitation.chat,
                            kind,
                            title,
                            body,
                        }));
                    }
                }
            }
            OperatorEvent::VisitorArrived { visitor } => {
                // B50: once per visitor (a reload or a second tab is no arrival, and the
                // arrivals a server restart repeats are not new visitors); the sound settings
                // keep it silent unless the operator chose a sound (off by default).
                let key = format!("visitor:{}:{}", visitor.live_chat, visitor.visitor);
                if self.remember(&key) && self.sounds_allowed() {
                    effects.push(Effect::Chime(Sound::NewVisitor));
                }
            }
            OperatorEvent::UnreadEscalation { chat, messages } => {
                self.observe_escalation(*chat, messages, &mut effects);
            }
            // After a snapshot: each open invitation as if it arrived again; one already
            // announced is recognised and stays quiet.
            OperatorEvent::OpenInvitations { received, .. } => {
                for invitation in received {
                    let replay = OperatorEvent::Invited {
                        invitation: invitation.clone(),
                    };
                    effects.extend(self.observe(&replay, me, now));
                }
            }
            OperatorEvent::InvitationAnswered { .. }
            | OperatorEvent::ReplyLockChanged { .. }
            | OperatorEvent::InvitationExpired { .. }
            | OperatorEvent::TeamsChanged { .. }
            | OperatorEvent::StaffEmojiChanged { .. }
            | OperatorEvent::MessageEdited { .. }
            | OperatorEvent::VisitorTyping { .. }
            | OperatorEvent::VisitorRead { .. }
            | OperatorEvent::ColleaguesChanged { .. }
            | OperatorEvent::ColleagueChanged { .. }
            | OperatorEvent::VisitorsOnSite { .. }
            | OperatorEvent::VisitorUpdated { .. }
            | OperatorEvent::VisitorLeft { .. }
            | OperatorEvent::MessageDeleted { .. }
            | OperatorEvent::ChatRated { .. } => {}
        }
        effects
    }

    /// Applies a chat summary the server returned to one of my commands (accept, end).
    pub(crate) fn observe_summary(&mut self, chat: &ChatSummary, me: Option<OperatorId>) {
        self.learn(chat, me);
        if chat.state != ChatState::Pending {
            self.ringing.remove(&chat.id);
        }
    }

    /// Seeds the ringing set from the cache at start-up (the previous run's state, which the
    /// resumed stream then corrects). No notification: these rang before.
    pub(crate) fn restore(&mut self, ringing: impl IntoIterator<Item = ChatId>, now: Timestamp) {
        for chat in ringing {
            self.ringing.entry(chat).or_insert(now);
            self.remember(&format!("ring:{chat}"));
        }
    }

    /// Signed out: nothing rings for nobody.
    pub(crate) fn clear(&mut self) {
        self.ringing.clear();
        self.chats.clear();
    }

    /// The cache holds no ringing chat: whatever is listed here is stale.
    pub(crate) fn clear_rings(&mut self) {
        self.ringing.clear();
    }

    pub(crate) fn set_muted(&mut self, muted: bool) {
        self.muted = muted;
    }

    pub(crate) fn set_availability(&mut self, availability: Availability) {
        self.availability = availability;
    }

    pub(crate) fn set_focused(&mut self, focused: bool) {
        self.focused = focused;
    }

    /// My display name, as the server knows it: a note mentions me when it contains `@` and
    /// this name (B26).
    pub(crate) fn set_my_name(&mut self, name: Option<String>) {
        self.my_name = name;
    }

    /// B12: unread visitor messages escalated to me. One notification per batch (keyed by the
    /// newest message), shown even while the window is focused: the chat may not be on screen,
    /// and someone has waited for minutes.
    fn observe_escalation(
        &mut self,
        chat: ChatId,
        messages: &[Message],
        effects: &mut Vec<Effect>,
    ) {
        let Some(newest) = messages.last() else {
            return;
        };
        let key = format!("escalation:{chat}:{}", newest.id);
        if !self.remember(&key) {
            return;
        }
        if self.sounds_allowed() {
            effects.push(Effect::Chime(Sound::Message));
        }
        let count = messages.len();
        let unread = if count == 1 {
            "1 unread message".to_owned()
        } else {
            format!("{count} unread messages")
        };
        effects.push(Effect::Notify(Notification {
            key,
            chat,
            kind: NotificationKind::Escalation,
            title: self.title(chat),
            body: format!(
                "{unread}: {}",
                newest.body.chars().take(200).collect::<String>()
            ),
        }));
    }

    /// A colleague's note that mentions me chimes and, while the window is not focused,
    /// notifies (B26). My own notes never do.
    fn observe_note(
        &mut self,
        message: &Message,
        me: Option<OperatorId>,
        effects: &mut Vec<Effect>,
    ) {
        let from_colleague = match &message.author {
            Author::Operator { id, .. } => Some(*id) != me,
            Author::Visitor { .. } | Author::System => false,
        };
        let Some(name) = &self.my_name else {
            return;
        };
        if !from_colleague || !mentions(&message.body, name) {
            return;
        }
        let key = format!("mention:{}", message.id);
        if !self.remember(&key) {
            return;
        }
        if self.sounds_allowed() {
            effects.push(Effect::Chime(Sound::Mention));
        }
        if !self.focused {
            let author = match &message.author {
                Author::Operator { name, .. } => name.clone(),
                Author::Visitor { .. } | Author::System => String::new(),
            };
            effects.push(Effect::Notify(Notification {
                key,
                chat: message.chat,
                kind: NotificationKind::Mention,
                title: format!("{author} mentioned you"),
                body: message.body.chars().take(200).collect(),
            }));
        }
    }

    /// Whether the ring loop plays.
    pub(crate) fn ring_plays(&self) -> bool {
        !self.ringing.is_empty() && !self.muted && self.sounds_allowed()
    }

    /// Whether the taskbar should ask for the operator's attention (flash, bounce).
    pub(crate) fn wants_user_attention(&self) -> bool {
        !self.ringing.is_empty() && !self.focused && self.availability == Availability::Online
    }

    /// The ringer state the console and tray show.
    pub(crate) fn ringer_state(&self) -> RingerState {
        match &self.unavailable {
            Some(SoundUnavailable::Disabled) => RingerState::Disabled,
            Some(SoundUnavailable::NoDevice { reason }) => RingerState::NoDevice {
                reason: reason.clone(),
            },
            None if self.ringing.is_empty() => RingerState::Silent,
            None if !self.ring_plays() => RingerState::Muted,
            None => RingerState::Ringing,
        }
    }

    /// Ringing requests, oldest first (the keyboard shortcut accepts the first).
    pub(crate) fn ringing(&self) -> Vec<RingingRequest> {
        let mut requests: Vec<RingingRequest> = self
            .ringing
            .iter()
            .map(|(chat, since)| RingingRequest {
                chat: *chat,
                since: *since,
            })
            .collect();
        requests.sort_by_key(|request| (request.since, request.chat));
        requests
    }

    /// Sounds play only while I take chats: away (do-not-disturb) or offline is silent at once,
    /// before the server's `RingStopped` arrives.
    fn sounds_allowed(&self) -> bool {
        self.unavailable.is_none() && self.availability == Availability::Online
    }

    fn learn(&mut self, chat: &ChatSummary, me: Option<OperatorId>) {
        let mine = chat.state == ChatState::Active
            && me.is_some_and(|me| {
                chat.responsible
                    .as_ref()
                    .is_some_and(|operator| operator.id == me)
            });
        self.chats.insert(
            chat.id,
            ChatFacts {
                visitor: chat.visitor.name.clone(),
                subject: chat.subject.clone(),
                pending: chat.state == ChatState::Pending,
                mine,
            },
        );
    }

    fn start_ring(&mut self, chat: ChatId, now: Timestamp, effects: &mut Vec<Effect>) {
        if self.ringing.contains_key(&chat) {
            return;
        }
        self.ringing.insert(chat, now);
        let key = format!("ring:{chat}");
        if self.remember(&key) && !self.focused && self.availability == Availability::Online {
            effects.push(Effect::Notify(Notification {
                key,
                chat,
                kind: NotificationKind::Ringing,
                title: self.title(chat),
                body: "New chat request".to_owned(),
            }));
        }
    }

    /// "Maria – pricing question", or a neutral title for a chat not known yet.
    fn title(&self, chat: ChatId) -> String {
        match self.chats.get(&chat) {
            Some(facts) if facts.subject.is_empty() => facts.visitor.clone(),
            Some(facts) => format!("{} – {}", facts.visitor, facts.subject),
            None => format!("Chat {chat}"),
        }
    }

    /// Records a notification key; `false` when it was seen before.
    fn remember(&mut self, key: &str) -> bool {
        if !self.notified.insert(key.to_owned()) {
            return false;
        }
        self.notified_order.push_back(key.to_owned());
        if self.notified_order.len() > REMEMBERED_KEYS
            && let Some(oldest) = self.notified_order.pop_front()
        {
            self.notified.remove(&oldest);
        }
        true
    }
}

/// Whether quitting the app asks first (D04): only while I have active chats (My Chats is not
/// empty), since quitting then leaves visitors waiting; with nothing active it quits at once.
pub fn quit_needs_confirmation(counters: &crate::Counters) -> bool {
    counters.my_chats > 0
}

/// Whether `body` mentions `name`: the console inserts `@` and the display name, so the core
/// looks for exactly that, ignoring case, and only where the name ends the word (`@Ann` does
/// not mention "Anna", `@Anna,` does mention her). Names may hold spaces ("@Ann Lee"). The
/// console strips bidi controls from the name it inserts, so they are ignored on both sides.
pub(crate) fn mentions(body: &str, name: &str) -> bool {
    let is_bidi_control =
        |character: char| matches!(character, '\u{202A}'..='\u{202E}' | '\u{2066}'..='\u{2069}');
    let name: String = name
        .chars()
        .filter(|character| !is_bidi_control(*character))
        .collect();
    let name = name.trim();
    if name.is_empty() {
        return false;
    }
    let body: String = body
        .chars()
        .filter(|character| !is_bidi_control(*character))
        .collect::<String>()
        .to_lowercase();
    let wanted = format!("@{}", name.to_lowercase());
    let mut start = 0;
    while let Some(found) = body[start..].find(&wanted) {
        let end = start + found + wanted.len();
        let ends_word = body[end..]
            .chars()
            .next()
            .is_none_or(|next| !next.is_alphanumeric() && next != '_');
        if ends_word {
            return true;
        }
        start = start + found + 1;
    }
    false
}

#[cfg(test)]
mod tests;

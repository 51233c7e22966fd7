//! The attention state machine, event by event: every reason a ring starts or stops, the one
//! loop for many requests, chimes, notifications and their deduplication.

use switchboard_protocol::{
    Channel, Invitation, LiveChatId, Message, MessageId, OperatorRef, RingStopReason, VisitorId,
    VisitorProfile,
};

use super::*;

const ME: OperatorId = OperatorId(7);
const NOW: Timestamp = Timestamp(1_000);

fn chat(id: i64, state: ChatState, responsible: Option<OperatorId>) -> ChatSummary {
    ChatSummary {
        id: ChatId(id),
        live_chat: LiveChatId(1),
        state,
        channel: Channel::Web,
        visitor: VisitorProfile {
            id: VisitorId(id),
            name: "Maria".to_owned(),
            email: None,
            page_url: None,
            location: None,
            country: None,
            language: None,
            time_zone: None,
            topic: None,
        },
        subject: "pricing question".to_owned(),
        responsible: responsible.map(|id| OperatorRef {
            id,
            name: "Someone".to_owned(),
        }),
        created_at: Timestamp(id),
        updated_at: Timestamp(id),
        rating: None,
    }
}

fn upsert(summary: ChatSummary) -> OperatorEvent {
    OperatorEvent::ChatUpserted { chat: summary }
}

fn ring(id: i64) -> OperatorEvent {
    OperatorEvent::RingStarted { chat: ChatId(id) }
}

fn stop(id: i64, reason: RingStopReason) -> OperatorEvent {
    OperatorEvent::RingStopped {
        chat: ChatId(id),
        reason,
    }
}

fn visitor_message(id: i64, chat: i64, visibility: Visibility) -> OperatorEvent {
    OperatorEvent::MessagePosted {
        message: Message {
            id: MessageId(id),
            chat: ChatId(chat),
            client_id: None,
            author: Author::Visitor {
                name: "Maria".to_owned(),
            },
            visibility,
            body: "hello?".to_owned(),
            sent_at: NOW,
            attachments: Vec::new(),
            edited_at: None,
        },
    }
}

/// A machine where chat 1 is pending and rings.
fn ringing_one() -> Attention {
    let mut attention = Attention::new(None);
    attention.observe(&upsert(chat(1, ChatState::Pending, None)), Some(ME), NOW);
    attention.observe(&ring(1), Some(ME), NOW);
    assert!(attention.ring_plays());
    assert_eq!(attention.ringer_state(), RingerState::Ringing);
    attention
}

#[test]
fn d03_a_ring_event_starts_the_loop() {
    let mut attention = Attention::new(None);
    assert!(!attention.ring_plays());
    assert_eq!(attention.ringer_state(), RingerState::Silent);
    attention.observe(&ring(1), Some(ME), NOW);
    assert!(attention.ring_plays());
    assert_eq!(
        attention.ringing(),
        vec![RingingRequest {
            chat: ChatId(1),
            since: NOW
        }]
    );
}

#[test]
fn d03_every_stop_reason_stops_the_ring() {
    let reasons = [
        RingStopReason::AcceptedByYou,
        RingStopReason::AcceptedBy {
            operator: OperatorRef {
                id: OperatorId(9),
                name: "Bob".to_owned(),
            },
        },
        RingStopReason::Muted,
        RingStopReason::Abandoned,
        RingStopReason::Ended,
        RingStopReason::Unavailable,
        RingStopReason::Declined,
        RingStopReason::TimedOut,
    ];
    for reason in reasons {
        let mut attention = ringing_one();
        attention.observe(&stop(1, reason.clone()), Some(ME), NOW);
        assert!(!attention.ring_plays(), "{reason:?} must stop the ring");
        assert_eq!(attention.ringer_state(), RingerState::Silent, "{reason:?}");
    }
}

#[test]
fn d03_a_chat_accepted_by_anyone_stops_ringing_even_without_a_ring_stopped() {
    let mut attention = ringing_one();
    attention.observe(
        &upsert(chat(1, ChatState::Active, Some(OperatorId(9)))),
        Some(ME),
        NOW,
    );
    assert!(!attention.ring_plays());

    let mut attention = ringing_one();
    attention.observe_summary(&chat(1, ChatState::Active, Some(ME)), Some(ME));
    assert!(!attention.ring_plays(), "my own accept stops it at once");

    let mut attention = ringing_one();
    attention.observe(&upsert(chat(1, ChatState::Abandoned, None)), Some(ME), NOW);
    assert!(!attention.ring_plays(), "abandoned");
}

#[test]
fn d03_a_late_ring_for_a_chat_no_longer_pending_is_ignored() {
    let mut attention = Attention::new(None);
    attention.observe(
        &upsert(chat(1, ChatState::Active, Some(OperatorId(9)))),
        Some(ME),
        NOW,
    );
    attention.observe(&ring(1), Some(ME), NOW);
    assert!(!attention.ring_plays());
}

#[test]
fn d03_one_ring_for_any_number_of_requests() {
    let mut attention = ringing_one();
    attention.observe(&ring(2), Some(ME), Timestamp(2_000));
    attention.observe(&ring(3), Some(ME), Timestamp(3_000));
    assert_eq!(attention.ringing().len(), 3);
    attention.observe(&stop(1, RingStopReason::Muted), Some(ME), NOW);
    attention.observe(&stop(2, RingStopReason::Abandoned), Some(ME), NOW);
    assert!(attention.ring_plays(), "one request still rings");
    assert_eq!(attention.ringing()[0].chat, ChatId(3));
    attention.observe(&stop(3, RingStopReason::AcceptedByYou), Some(ME), NOW);
    assert!(!attention.ring_plays());
}

#[test]
fn d03_ringing_requests_are_listed_oldest_first() {
    let mut attention = Attention::new(None);
    attention.observe(&ring(5), Some(ME), Timestamp(10));
    attention.observe(&ring(2), Some(ME), Timestamp(20));
    attention.observe(&ring(5), Some(ME), Timestamp(30));
    let order: Vec<ChatId> = attention
        .ringing()
        .iter()
        .map(|request| request.chat)
        .collect();
    assert_eq!(order, vec![ChatId(5), ChatId(2)]);
    assert_eq!(
        attention.ringing()[0].since,
        Timestamp(10),
        "a repeat keeps the start"
    );
}

#[test]
fn d03_reconnect_resync_stops_a_ring_the_snapshot_no_longer_lists() {
    let mut attention = ringing_one();
    attention.observe(&ring(2), Some(ME), NOW);
    // Chat 1 was taken by someone else while we were offline; chat 2 still rings.
    let resync = OperatorEvent::Snapshot {
        chats: vec![
            chat(1, ChatState::Active, Some(OperatorId(9))),
            chat(2, ChatState::Pending, None),
        ],
        ringing: vec![ChatId(2)],
        availability: Availability::Online,
    };
    let effects = attention.observe(&resync, Some(ME), Timestamp(5_000));
    let ringing: Vec<ChatId> = attention
        .ringing()
        .iter()
        .map(|request| request.chat)
        .collect();
    assert_eq!(ringing, vec![ChatId(2)]);
    assert_eq!(
        attention.ringing()[0].since,
        NOW,
        "still ringing since before"
    );
    assert!(effects.is_empty(), "nothing new to announce: {effects:?}");

    let empty = OperatorEvent::Snapshot {
        chats: Vec::new(),
        ringing: Vec::new(),
        availability: Availability::Online,
    };
    attention.observe(&empty, Some(ME), NOW);
    assert!(!attention.ring_plays());
}

#[test]
fn d03_global_mute_silences_the_loop_but_requests_still_ring() {
    let mut attention = ringing_one();
    attention.set_muted(true);
    assert!(!attention.ring_plays());
    assert_eq!(attention.ringer_state(), RingerState::Muted);
    assert_eq!(
        attention.ringing().len(),
        1,
        "muting silences the sound only"
    );
    attention.set_muted(false);
    assert!(attention.ring_plays());
}

#[test]
fn d03_do_not_disturb_silences_everything_at_once() {
    let mut attention = ringing_one();
    attention.observe(&upsert(chat(4, ChatState::Active, Some(ME))), Some(ME), NOW);
    attention.set_availability(Availability::Away);
    assert!(!attention.ring_plays(), "before the server's RingStopped");
    assert_eq!(attention.ringer_state(), RingerState::Muted);
    let effects = attention.observe(&visitor_message(1, 4, Visibility::Public), Some(ME), NOW);
    assert!(
        !effects.contains(&Effect::Chime(Sound::Message)),
        "no chime while away: {effects:?}"
    );
    attention.observe(
        &OperatorEvent::AvailabilityChanged {
            availability: Availability::Online,
        },
        Some(ME),
        NOW,
    );
    assert!(attention.ring_plays());
    attention.observe(
        &OperatorEvent::AvailabilityChanged {
            availability: Availability::Offline,
        },
        Some(ME),
        NOW,
    );
    assert!(!attention.ring_plays());
}

#[test]
fn d03_no_audio_device_means_visual_only_and_says_why() {
    let mut attention = Attention::new(Some(SoundUnavailable::NoDevice {
        reason: "no audio output: no device".to_owned(),
    }));
    attention.observe(&ring(1), Some(ME), NOW);
    assert!(!attention.ring_plays());
    assert_eq!(
        attention.ringer_state(),
        RingerState::NoDevice {
            reason: "no audio output: no device".to_owned()
        }
    );
    assert_eq!(attention.ringing().len(), 1, "the request is still listed");
}

#[test]
fn d03_sound_switched_off_is_told_apart_from_a_missing_device() {
    let mut attention = Attention::new(Some(SoundUnavailable::Disabled));
    attention.observe(&ring(1), Some(ME), NOW);
    assert!(!attention.ring_plays());
    assert_eq!(attention.ringer_state(), RingerState::Disabled);
    assert_eq!(attention.ringing().len(), 1, "the request is still listed");
}

#[test]
fn d03_a_visitor_message_in_my_chat_chimes_once() {
    let mut attention = Attention::new(None);
    attention.observe(&upsert(chat(4, ChatState::Active, Some(ME))), Some(ME), NOW);
    let effects = attention.observe(&visitor_message(1, 4, Visibility::Public), Some(ME), NOW);
    assert_eq!(effects, vec![Effect::Chime(Sound::Message)]);
    let replayed = attention.observe(&visitor_message(1, 4, Visibility::Public), Some(ME), NOW);
    assert!(
        replayed.is_empty(),
        "a replayed message does not chime again"
    );
}

#[test]
fn d03_messages_elsewhere_do_not_chime() {
    let mut attention = Attention::new(None);
    attention.observe(
        &upsert(chat(4, ChatState::Active, Some(OperatorId(9)))),
        Some(ME),
        NOW,
    );
    attention.observe(&upsert(chat(5, ChatState::Active, Some(ME))), Some(ME), NOW);
    assert!(
        attention
            .observe(&visitor_message(1, 4, Visibility::Public), Some(ME), NOW)
            .is_empty(),
        "someone else's chat"
    );
    assert!(
        attention
            .observe(&visitor_message(2, 5, Visibility::Note), Some(ME), NOW)
            .is_empty(),
        "a note is not a visitor message"
    );
    let operator_reply = OperatorEvent::MessagePosted {
        message: Message {
            id: MessageId(3),
            chat: ChatId(5),
            client_id: None,
            author: Author::Operator {
                id: ME,
                name: "Me".to_owned(),
            },
            visibility: Visibility::Public,
            body: "hi".to_owned(),
            sent_at: NOW,
            attachments: Vec::new(),
            edited_at: None,
        },
    };
    assert!(attention.observe(&operator_reply, Some(ME), NOW).is_empty());
}

#[test]
fn d05_unfocused_ring_and_message_notify_with_the_chat_to_open() {
    let mut attention = Attention::new(None);
    attention.set_focused(false);
    attention.observe(&upsert(chat(1, ChatState::Pending, None)), Some(ME), NOW);
    let effects = attention.observe(&ring(1), Some(ME), NOW);
    assert_eq!(
        effects,
        vec![Effect::Notify(Notification {
            key: "ring:1".to_owned(),
            chat: ChatId(1),
            kind: NotificationKind::Ringing,
            title: "Maria – pricing question".to_owned(),
            body: "New chat request".to_owned(),
        })]
    );
    assert!(attention.wants_user_attention());

    attention.observe(&upsert(chat(4, ChatState::Active, Some(ME))), Some(ME), NOW);
    let effects = attention.observe(&visitor_message(8, 4, Visibility::Public), Some(ME), NOW);
    assert_eq!(effects.len(), 2, "{effects:?}");
    assert!(matches!(
        &effects[1],
        Effect::Notify(Notification { key, chat: ChatId(4), kind: NotificationKind::Message, .. })
            if key == "message:8"
    ));
}

#[test]
fn d05_focused_window_gets_no_notification_and_no_taskbar_flash() {
    let mut attention = Attention::new(None);
    let effects = attention.observe(&ring(1), Some(ME), NOW);
    assert!(effects.is_empty());
    assert!(!attention.wants_user_attention());
    attention.set_focused(false);
    assert!(attention.wants_user_attention());
    attention.observe(&stop(1, RingStopReason::AcceptedByYou), Some(ME), NOW);
    assert!(!attention.wants_user_attention());
}

#[test]
fn d05_no_duplicate_notification_after_a_reconnect() {
    let mut attention = Attention::new(None);
    attention.set_focused(false);
    assert_eq!(attention.observe(&ring(1), Some(ME), NOW).len(), 1);
    // The link drops; the resync lists it again (and a replay repeats the ring event).
    let resync = OperatorEvent::Snapshot {
        chats: vec![chat(1, ChatState::Pending, None)],
        ringing: vec![ChatId(1)],
        availability: Availability::Online,
    };
    assert!(attention.observe(&resync, Some(ME), NOW).is_empty());
    assert!(attention.observe(&ring(1), Some(ME), NOW).is_empty());
    // Even after the snapshot forgot it for a moment.
    let gone = OperatorEvent::Snapshot {
        chats: Vec::new(),
        ringing: Vec::new(),
        availability: Availability::Online,
    };
    attention.observe(&gone, Some(ME), NOW);
    assert!(attention.observe(&resync, Some(ME), NOW).is_empty());
}

#[test]
fn d05_restored_rings_are_not_announced_again() {
    let mut attention = Attention::new(None);
    attention.set_focused(false);
    attention.restore([ChatId(1)], NOW);
    assert!(attention.ring_plays());
    assert!(attention.observe(&ring(1), Some(ME), NOW).is_empty());
    assert_eq!(attention.observe(&ring(2), Some(ME), NOW).len(), 1);
}

#[test]
fn d05_the_key_memory_is_bounded() {
    let mut attention = Attention::new(None);
    for key in 0..(REMEMBERED_KEYS + 10) {
        attention.remember(&key.to_string());
    }
    assert_eq!(attention.notified.len(), REMEMBERED_KEYS);
    assert!(attention.remember("0"), "the oldest key was forgotten");
}

#[test]
fn sign_out_clears_every_ring() {
    let mut attention = ringing_one();
    attention.clear();
    assert!(!attention.ring_plays());
    assert!(attention.ringing().is_empty());
}

const COLLEAGUE: OperatorId = OperatorId(9);

fn invited(chat: i64, kind: InvitationKind) -> OperatorEvent {
    OperatorEvent::Invited {
        invitation: Invitation {
            chat: ChatId(chat),
            kind,
            from: OperatorRef {
                id: COLLEAGUE,
                name: "Bob".to_owned(),
            },
            note: Some("VIP customer".to_owned()),
            subject: "pricing question".to_owned(),
            team: None,
        },
    }
}

fn note(id: i64, chat: i64, author: OperatorId, body: &str) -> OperatorEvent {
    OperatorEvent::MessagePosted {
        message: Message {
            id: MessageId(id),
            chat: ChatId(chat),
            client_id: None,
            author: Author::Operator {
                id: author,
                name: "Bob".to_owned(),
            },
            visibility: Visibility::Note,
            body: body.to_owned(),
            sent_at: NOW,
            attachments: Vec::new(),
            edited_at: None,
        },
    }
}

fn chimes(effects: &[Effect]) -> Vec<Sound> {
    effects
        .iter()
        .filter_map(|effect| match effect {
            Effect::Chime(sound) => Some(*sound),
            Effect::Notify(_) => None,
        })
        .collect()
}

fn notifications(effects: &[Effect]) -> Vec<Notification> {
    effects
        .iter()
        .filter_map(|effect| match effect {
            Effect::Notify(notification) => Some(notification.clone()),
            Effect::Chime(_) => None,
        })
        .collect()
}

#[test]
fn d03_an_invitation_or_transfer_to_me_plays_the_short_sound_not_the_ring() {
    let mut attention = Attention::new(None);
    attention.observe(
        &upsert(chat(4, ChatState::Active, Some(COLLEAGUE))),
        Some(ME),
        NOW,
    );
    let effects = attention.observe(&invited(4, InvitationKind::Invite), Some(ME), NOW);
    assert_eq!(chimes(&effects), vec![Sound::Invitation]);
    let effects = attention.observe(&invited(5, InvitationKind::Transfer), Some(ME), NOW);
    assert_eq!(chimes(&effects), vec![Sound::Invitation]);
    assert!(
        !attention.ring_plays(),
        "an invitation is not a ringing request"
    );
    assert_eq!(attention.ringer_state(), RingerState::Silent);
}

#[test]
fn d03_an_invitation_while_away_or_without_a_device_is_silent() {
    let mut attention = Attention::new(None);
    attention.set_availability(Availability::Away);
    let effects = attention.observe(&invited(4, InvitationKind::Invite), Some(ME), NOW);
    assert!(chimes(&effects).is_empty());
    let mut attention = Attention::new(Some(SoundUnavailable::NoDevice {
        reason: "no audio output".to_owned(),
    }));
    let effects = attention.observe(&invited(4, InvitationKind::Transfer), Some(ME), NOW);
    assert!(chimes(&effects).is_empty());
}

#[test]
fn d05_an_unfocused_invitation_and_transfer_notify_with_sender_and_note() {
    let mut attention = Attention::new(None);
    attention.set_focused(false);
    attention.observe(
        &upsert(chat(4, ChatState::Active, Some(COLLEAGUE))),
        Some(ME),
        NOW,
    );
    let effects = attention.observe(&invited(4, InvitationKind::Invite), Some(ME), NOW);
    let shown = notifications(&effects);
    assert_eq!(shown.len(), 1);
    assert_eq!(shown[0].kind, NotificationKind::Invitation);
    assert_eq!(shown[0].chat, ChatId(4));
    assert_eq!(shown[0].title, "Maria – pricing question");
    assert_eq!(shown[0].body, "Bob invites you to this chat: VIP customer");
    // A chat not known yet is titled by the invitation's subject.
    let effects = attention.observe(&invited(5, InvitationKind::Transfer), Some(ME), NOW);
    let shown = notifications(&effects);
    assert_eq!(shown[0].kind, NotificationKind::Transfer);
    assert_eq!(shown[0].title, "pricing question");
    assert_eq!(
        shown[0].body,
        "Bob transfers this chat to you: VIP customer"
    );
}

#[test]
fn d05_a_team_transfer_notification_names_the_team() {
    let mut attention = Attention::new(None);
    attention.set_focused(false);
    let mut event = invited(6, InvitationKind::Transfer);
    if let OperatorEvent::Invited { invitation } = &mut event {
        invitation.team = Some("Billing".to_owned());
    }
    let effects = attention.observe(&event, Some(ME), NOW);
    assert_eq!(
        notifications(&effects)[0].body,
        "Bob transfers this chat to you via team Billing: VIP customer"
    );
}

#[test]
fn d05_a_focused_window_gets_the_sound_but_no_invitation_notification() {
    let mut attention = Attention::new(None);
    let effects = attention.observe(&invited(4, InvitationKind::Invite), Some(ME), NOW);
    assert!(notifications(&effects).is_empty());
    assert_eq!(chimes(&effects), vec![Sound::Invitation]);
}

#[test]
fn d05_a_replayed_invitation_after_a_reconnect_is_not_announced_twice() {
    let mut attention = Attention::new(None);
    attention.set_focused(false);
    let first = attention.observe(&invited(4, InvitationKind::Transfer), Some(ME), NOW);
    assert_eq!(notifications(&first).len(), 1);
    let replayed = attention.observe(&invited(4, InvitationKind::Transfer), Some(ME), NOW);
    assert!(
        replayed.is_empty(),
        "no sound and no notification: {replayed:?}"
    );
}

#[test]
fn b26_a_note_mentioning_me_alerts_me() {
    let mut attention = Attention::new(None);
    attention.set_my_name(Some("Ann Lee".to_owned()));
    attention.set_focused(false);
    let effects = attention.observe(
        &note(30, 2, COLLEAGUE, "@Ann Lee can you check the invoice?"),
        Some(ME),
        NOW,
    );
    assert_eq!(chimes(&effects), vec![Sound::Mention]);
    let shown = notifications(&effects);
    assert_eq!(shown.len(), 1);
    assert_eq!(shown[0].kind, NotificationKind::Mention);
    assert_eq!(shown[0].chat, ChatId(2));
    assert_eq!(shown[0].title, "Bob mentioned you");
    assert_eq!(shown[0].body, "@Ann Lee can you check the invoice?");
    // Replayed after a reconnect: nothing again.
    let replayed = attention.observe(
        &note(30, 2, COLLEAGUE, "@Ann Lee can you check the invoice?"),
        Some(ME),
        NOW,
    );
    assert!(replayed.is_empty());
}

#[test]
fn b26_only_a_colleagues_note_with_my_whole_name_mentions_me() {
    let mut attention = Attention::new(None);
    attention.set_my_name(Some("Ann".to_owned()));
    attention.set_focused(false);
    // Someone else's name that starts with mine.
    assert!(
        attention
            .observe(&note(1, 2, COLLEAGUE, "@Anna please"), Some(ME), NOW)
            .is_empty()
    );
    // My name without the @ the console inserts.
    assert!(
        attention
            .observe(&note(2, 2, COLLEAGUE, "Ann please"), Some(ME), NOW)
            .is_empty()
    );
    // My own note mentioning myself.
    assert!(
        attention
            .observe(&note(3, 2, ME, "@Ann reminder"), Some(ME), NOW)
            .is_empty()
    );
    // A public message is not a note.
    let public = OperatorEvent::MessagePosted {
        message: Message {
            id: MessageId(4),
            chat: ChatId(2),
            client_id: None,
            author: Author::Operator {
                id: COLLEAGUE,
                name: "Bob".to_owned(),
            },
            visibility: Visibility::Public,
            body: "@Ann".to_owned(),
            sent_at: NOW,
            attachments: Vec::new(),
            edited_at: None,
        },
    };
    assert!(attention.observe(&public, Some(ME), NOW).is_empty());
    // Case and punctuation after the name do not matter.
    let effects = attention.observe(&note(5, 2, COLLEAGUE, "thanks @ann, done"), Some(ME), NOW);
    assert_eq!(notifications(&effects).len(), 1);
}

#[test]
fn b26_mentions_before_sign_in_and_while_focused() {
    let mut attention = Attention::new(None);
    // No name known yet: nothing can mention me.
    assert!(
        attention
            .observe(&note(1, 2, COLLEAGUE, "@Ann"), None, NOW)
            .is_empty()
    );
    attention.set_my_name(Some("Ann".to_owned()));
    // Focused: the sound only, the console shows the note.
    let effects = attention.observe(&note(2, 2, COLLEAGUE, "@Ann"), Some(ME), NOW);
    assert_eq!(chimes(&effects), vec![Sound::Mention]);
    assert!(notifications(&effects).is_empty());
}

#[test]
fn b26_mention_detection_matches_whole_names() {
    assert!(mentions("@Ann", "Ann"));
    assert!(mentions("hi @ANN!", "Ann"));
    assert!(mentions("@Anna and @Ann", "Ann"));
    assert!(mentions("@José?", "José"));
    assert!(
        mentions("@Ann Lee", "\u{202E}Ann Lee"),
        "the console strips bidi controls"
    );
    assert!(!mentions("@Anna", "Ann"));
    assert!(!mentions("@Ann_b", "Ann"));
    assert!(!mentions("email ann@example.com", "Ann"));
    assert!(!mentions("@", ""));
    assert!(!mentions("@  ", "  "));
}

#[test]
fn d04_quitting_asks_only_while_chats_are_active() {
    let idle = crate::Counters {
        unassigned: 3,
        ringing: 2,
        awaiting: 1,
        ..crate::Counters::default()
    };
    assert!(
        !quit_needs_confirmation(&idle),
        "ringing or waiting chats are not mine yet"
    );
    let busy = crate::Counters {
        my_chats: 1,
        ..idle
    };
    assert!(quit_needs_confirmation(&busy));
}

fn escalation(chat: i64, message_ids: &[i64]) -> OperatorEvent {
    let messages = message_ids
        .iter()
        .map(|id| match visitor_message(*id, chat, Visibility::Public) {
            OperatorEvent::MessagePosted { message } => message,
            _ => unreachable!("visitor_message builds a MessagePosted"),
        })
        .collect();
    OperatorEvent::UnreadEscalation {
        chat: ChatId(chat),
        messages,
    }
}

#[test]
fn b12_an_escalation_notifies_even_a_focused_colleague_once_per_batch() {
    let mut attention = Attention::new(None);
    attention.set_focused(true);
    // Someone else's chat: its messages do not alert me in real time, the escalation does.
    attention.observe(
        &upsert(chat(3, ChatState::Active, Some(OperatorId(99)))),
        Some(ME),
        NOW,
    );
    assert!(
        attention
            .observe(&visitor_message(20, 3, Visibility::Public), Some(ME), NOW)
            .is_empty()
    );
    let effects = attention.observe(&escalation(3, &[20]), Some(ME), NOW);
    assert_eq!(chimes(&effects), [Sound::Message]);
    let shown = notifications(&effects);
    assert_eq!(shown.len(), 1);
    assert_eq!(shown[0].kind, NotificationKind::Escalation);
    assert_eq!(shown[0].chat, ChatId(3));
    assert_eq!(shown[0].body, "1 unread message: hello?");
    // A replay after a reconnect is the same batch: nothing new.
    assert!(
        attention
            .observe(&escalation(3, &[20]), Some(ME), NOW)
            .is_empty()
    );
    // The next batch is news again.
    let next = notifications(&attention.observe(&escalation(3, &[20, 21]), Some(ME), NOW));
    assert_eq!(next.len(), 1);
    assert_eq!(next[0].body, "2 unread messages: hello?");
}

fn site_visitor(id: i64, first_seen: i64) -> switchboard_protocol::SiteVisitor {
    switchboard_protocol::SiteVisitor {
        visitor: VisitorId(id),
        live_chat: LiveChatId(1),
        name: None,
        page_url: Some("https://shop.example/".to_owned()),
        page_title: Some("Home".to_owned()),
        referrer: None,
        location: None,
        first_seen: Timestamp(first_seen),
        pages_viewed: 1,
        in_chat: false,
    }
}

#[test]
fn b50_a_new_visitor_cues_once_never_for_moves_lists_or_while_away() {
    let mut attention = Attention::new(None);
    let arrived = OperatorEvent::VisitorArrived {
        visitor: site_visitor(3, 100),
    };
    assert_eq!(
        chimes(&attention.observe(&arrived, Some(ME), NOW)),
        vec![Sound::NewVisitor]
    );
    // The same arrival again (a duplicate frame, or repeated after a server restart): no
    // second cue.
    assert_eq!(chimes(&attention.observe(&arrived, Some(ME), NOW)), vec![]);
    let repeated = OperatorEvent::VisitorArrived {
        visitor: site_visitor(3, 900),
    };
    assert_eq!(chimes(&attention.observe(&repeated, Some(ME), NOW)), vec![]);
    // Moving between pages or reloading is an update, and the list on every (re)connect is a
    // resync: neither cues.
    let mut moved = site_visitor(3, 100);
    moved.pages_viewed = 2;
    assert_eq!(
        chimes(&attention.observe(
            &OperatorEvent::VisitorUpdated { visitor: moved },
            Some(ME),
            NOW
        )),
        vec![]
    );
    assert_eq!(
        chimes(&attention.observe(
            &OperatorEvent::VisitorsOnSite {
                visitors: vec![site_visitor(4, 200), site_visitor(5, 300)],
            },
            Some(ME),
            NOW
        )),
        vec![]
    );
    // Away or do-not-disturb: silent.
    attention.set_availability(Availability::Away);
    let another = OperatorEvent::VisitorArrived {
        visitor: site_visitor(6, 400),
    };
    assert_eq!(chimes(&attention.observe(&another, Some(ME), NOW)), vec![]);
    // No notification for a visitor, ever: a cue only.
    attention.set_availability(Availability::Online);
    let effects = attention.observe(
        &OperatorEvent::VisitorArrived {
            visitor: site_visitor(7, 500),
        },
        Some(ME),
        NOW,
    );
    assert_eq!(chimes(&effects), vec![Sound::NewVisitor]);
    assert_eq!(notifications(&effects), vec![]);
}

#[test]
fn b50_the_new_visitor_sound_is_off_by_default() {
    let settings = crate::SoundSettings::default();
    assert_eq!(settings.new_visitor, crate::SoundChoice::Off);
}

//! The attention state machine, event by event: every reason a ring starts or stops, the one
//! loop for many requests, chimes, notifications and their deduplication.

use switchboard_protocol::{
    Channel, LiveChatId, Message, MessageId, OperatorRef, RingStopReason, VisitorId, VisitorProfile,
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
        },
        subject: "pricing question".to_owned(),
        responsible: responsible.map(|id| OperatorRef {
            id,
            name: "Someone".to_owned(),
        }),
        created_at: Timestamp(id),
        updated_at: Timestamp(id),
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
    let mut attention = Attention::new(Some("no audio output: no device".to_owned()));
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

//! Builds large caches for the `core` benchmark (`switchboard-bench core`): not for the app.
//!
//! The cache is filled through the same insert paths events use (rows, search index), in big
//! transactions so a million messages take seconds, not hours.

use std::path::Path;

use switchboard_protocol::{
    Author, Channel, ChatId, ChatState, ChatSummary, LiveChatId, Message, MessageId, OperatorRef,
    Timestamp, Visibility, VisitorId, VisitorProfile,
};

use crate::cache::Cache;
use crate::error::CoreError;
use crate::store::Store;

const SYLLABLES: &[&str] = &[
    "ka", "lo", "mi", "ra", "to", "ne", "su", "vi", "de", "po", "an", "el", "or", "us", "ti", "ba",
    "go", "fe", "ju", "ry",
];

/// A deterministic vocabulary of 8,000 made-up words; low indexes are the common ones.
pub fn word(index: usize) -> String {
    let count = SYLLABLES.len();
    format!(
        "{}{}{}",
        SYLLABLES[index % count],
        SYLLABLES[(index / count) % count],
        SYLLABLES[(index / count / count) % count]
    )
}

/// Words in the vocabulary.
pub const VOCABULARY: usize = 8_000;

/// A word drawn with a skew towards common words, as text has.
pub fn random_word(random: &mut fastrand::Rng) -> String {
    let skewed = random.f64().powi(3);
    word((skewed * VOCABULARY as f64) as usize % VOCABULARY)
}

/// Adds `chats` chats of `messages_per_chat` messages each to the cache in `data_dir`, for
/// the operator already signed in there (ids start at 1).
pub fn populate(
    data_dir: &Path,
    chats: usize,
    messages_per_chat: usize,
    seed: u64,
) -> Result<(), CoreError> {
    let mut cache = Cache::open(data_dir)?;
    let me = cache.operator().map(|operator| OperatorRef {
        id: operator.id,
        name: operator.name,
    });
    let mut random = fastrand::Rng::with_seed(seed);
    let base = Timestamp(1_790_000_000_000);
    const CHATS_PER_TRANSACTION: usize = 100;
    let mut batch = Vec::with_capacity(CHATS_PER_TRANSACTION);
    for index in 0..chats {
        let id = i64::try_from(index + 1).unwrap_or(i64::MAX);
        let at = Timestamp(base.0 + id * 60_000);
        let state = match index % 10 {
            0 => ChatState::Pending,
            1..=3 => ChatState::Active,
            _ => ChatState::Closed,
        };
        let summary = ChatSummary {
            id: ChatId(id),
            live_chat: LiveChatId(1),
            state,
            channel: Channel::Web,
            visitor: VisitorProfile {
                id: VisitorId(id),
                name: format!(
                    "{} {}",
                    capitalised(&random_word(&mut random)),
                    capitalised(&random_word(&mut random))
                ),
                email: None,
                page_url: None,
                location: None,
                country: None,
                language: None,
                time_zone: None,
                topic: None,
            },
            subject: sentence(&mut random, 4),
            responsible: (state != ChatState::Pending).then(|| me.clone()).flatten(),
            created_at: at,
            updated_at: at,
            rating: None,
        };
        let messages = (0..messages_per_chat)
            .map(|position| {
                let message_id = (id - 1) * i64::try_from(messages_per_chat).unwrap_or(0)
                    + i64::try_from(position).unwrap_or(0)
                    + 1;
                let length = 6 + random.usize(..10);
                Message {
                    id: MessageId(message_id),
                    chat: ChatId(id),
                    client_id: None,
                    author: if position % 2 == 0 {
                        Author::Visitor {
                            name: summary.visitor.name.clone(),
                        }
                    } else {
                        Author::System
                    },
                    visibility: Visibility::Public,
                    body: sentence(&mut random, length),
                    sent_at: Timestamp(at.0 + i64::try_from(position).unwrap_or(0)),
                    attachments: Vec::new(),
                    edited_at: None,
                }
            })
            .collect();
        batch.push((summary, messages));
        if batch.len() == CHATS_PER_TRANSACTION {
            cache.bulk_load(&batch)?;
            batch.clear();
        }
    }
    cache.bulk_load(&batch)?;
    cache.checkpoint()?;
    Ok(())
}

fn sentence(random: &mut fastrand::Rng, words: usize) -> String {
    (0..words)
        .map(|_| random_word(random))
        .collect::<Vec<_>>()
        .join(" ")
}

fn capitalised(word: &str) -> String {
    let mut characters = word.chars();
    match characters.next() {
        Some(first) => first.to_uppercase().chain(characters).collect(),
        None => String::new(),
    }
}

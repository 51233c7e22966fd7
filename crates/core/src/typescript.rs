//! TypeScript declarations of the console-facing types, generated with ts-rs.
//!
//! Committed as `ui/src/lib/core.ts` so the console builds without Rust; protocol types are
//! imported from the generated `./protocol`. The test `typescript_bindings_are_current` fails
//! on drift; `UPDATE_TYPESCRIPT=1 cargo test -p switchboard-core` rewrites the file.

use ts_rs::{Config, TS};

use crate::state::*;

/// Path of the committed copy, relative to the workspace root.
pub const COMMITTED_COPY: &str = "ui/src/lib/core.ts";

/// Protocol types the declarations refer to.
const PROTOCOL_IMPORTS: &[&str] = &[
    "ApiError",
    "Availability",
    "ChatId",
    "ChatRating",
    "ChatSummary",
    "Colleague",
    "Invitation",
    "InvitationKind",
    "InvitationOutcome",
    "OperatorRef",
    "OperatorId",
    "TeamId",
    "Message",
    "MessageId",
    "OperatorCommand",
    "OperatorProfile",
    "SiteVisitor",
    "Timestamp",
    "Visibility",
];

/// Renders the console-facing types into one TypeScript module.
pub fn render() -> String {
    let config = Config::default();
    let declarations = [
        ConnectionState::decl(&config),
        KeychainState::decl(&config),
        RingerState::decl(&config),
        ChatGroup::decl(&config),
        ConsoleChat::decl(&config),
        Counters::decl(&config),
        SyncProgress::decl(&config),
        OutboxState::decl(&config),
        OutboxItem::decl(&config),
        SearchResults::decl(&config),
        CoreState::decl(&config),
        crate::NotificationKind::decl(&config),
        crate::Notification::decl(&config),
        crate::RingingRequest::decl(&config),
        crate::SoundChoice::decl(&config),
        crate::SoundSettings::decl(&config),
        crate::Sound::decl(&config),
        crate::SoundUnavailable::decl(&config),
        crate::OutputDevice::decl(&config),
        crate::SoundStatus::decl(&config),
        crate::SentState::decl(&config),
        crate::SentInvitation::decl(&config),
        crate::EndedInvitation::decl(&config),
        crate::ReplyLock::decl(&config),
        crate::Collaboration::decl(&config),
        crate::UploadState::decl(&config),
        crate::UploadProgress::decl(&config),
        CoreEvent::decl(&config),
    ];
    let mut out = String::from(
        "// Generated from crates/core by ts-rs. Do not edit: run\n\
         // `UPDATE_TYPESCRIPT=1 cargo test -p switchboard-core` after changing the Rust types.\n\n",
    );
    out.push_str(&format!(
        "import type {{ {} }} from \"./protocol\";\n\n",
        PROTOCOL_IMPORTS.join(", ")
    ));
    for declaration in declarations {
        out.push_str("export ");
        out.push_str(declaration.trim());
        out.push_str("\n\n");
    }
    out.truncate(out.trim_end().len());
    out.push('\n');
    out
}

#[cfg(test)]
mod tests {
    use std::path::Path;

    #[test]
    fn typescript_bindings_are_current() {
        let rendered = super::render();
        let path = Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("../..")
            .join(super::COMMITTED_COPY);
        if std::env::var_os("UPDATE_TYPESCRIPT").is_some() {
            std::fs::write(&path, &rendered).expect("write the TypeScript bindings");
            return;
        }
        let committed = std::fs::read_to_string(&path).unwrap_or_default();
        assert!(
            committed == rendered,
            "{} is stale: run `UPDATE_TYPESCRIPT=1 cargo test -p switchboard-core`",
            super::COMMITTED_COPY
        );
    }
}

//! TypeScript declarations for every wire type, generated from the Rust types with ts-rs.
//!
//! The output is committed twice, as `ui/src/lib/protocol.ts` and `widget/src/protocol.ts`, so
//! the console and the widget build without Rust. The test `typescript_bindings_are_current`
//! fails when they drift; `UPDATE_TYPESCRIPT=1 cargo test -p switchboard-protocol` rewrites them.

use ts_rs::{Config, TS};

use crate::*;

/// Paths of the committed copies, relative to the workspace root.
pub const COMMITTED_COPIES: [&str; 2] = ["ui/src/lib/protocol.ts", "widget/src/protocol.ts"];

/// Renders every wire type into one self-contained TypeScript module.
pub fn render() -> String {
    let config = Config::default();
    let declarations = [
        ChatId::decl(&config),
        OperatorId::decl(&config),
        VisitorId::decl(&config),
        LiveChatId::decl(&config),
        MessageId::decl(&config),
        TeamId::decl(&config),
        Team::decl(&config),
        AttachmentId::decl(&config),
        Attachment::decl(&config),
        Timestamp::decl(&config),
        ClientId::decl(&config),
        ErrorCode::decl(&config),
        ApiError::decl(&config),
        ChatState::decl(&config),
        Channel::decl(&config),
        Availability::decl(&config),
        OperatorRef::decl(&config),
        LiveChatSummary::decl(&config),
        OperatorProfile::decl(&config),
        VisitorProfile::decl(&config),
        ChatSummary::decl(&config),
        Author::decl(&config),
        Visibility::decl(&config),
        Message::decl(&config),
        RingStopReason::decl(&config),
        RoutingMode::decl(&config),
        Offer::decl(&config),
        InvitationKind::decl(&config),
        Invitation::decl(&config),
        OutgoingInvitation::decl(&config),
        InvitationOutcome::decl(&config),
        DecidedInvitation::decl(&config),
        Colleague::decl(&config),
        OperatorEvent::decl(&config),
        VisitorMessage::decl(&config),
        VisitorSideAuthor::decl(&config),
        VisitorChat::decl(&config),
        VisitorEvent::decl(&config),
        ClientFrame::<Ack>::decl(&config),
        ServerFrame::<Ack, Ack>::decl(&config),
        Outcome::<Ack>::decl(&config),
        Ack::decl(&config),
        AcceptChat::decl(&config),
        SendMessage::decl(&config),
        EndChat::decl(&config),
        MuteRing::decl(&config),
        SetAvailability::decl(&config),
        AvailabilityState::decl(&config),
        DeclineOffer::decl(&config),
        SetRouting::decl(&config),
        RoutingState::decl(&config),
        SetOperatorAvailability::decl(&config),
        ReleaseChat::decl(&config),
        MonitorChat::decl(&config),
        JoinChat::decl(&config),
        TakeOverChat::decl(&config),
        ReassignChat::decl(&config),
        InviteOperator::decl(&config),
        TransferChat::decl(&config),
        TransferToTeam::decl(&config),
        AnswerInvitation::decl(&config),
        DismissInvitationOutcomes::decl(&config),
        LockReplies::decl(&config),
        StaffLeaveChat::decl(&config),
        EditMessage::decl(&config),
        DeleteMessage::decl(&config),
        MarkRead::decl(&config),
        SubscribeChat::decl(&config),
        UnsubscribeChat::decl(&config),
        SetTyping::decl(&config),
        OperatorCommand::decl(&config),
        OperatorResponse::decl(&config),
        StartChat::decl(&config),
        VisitorSend::decl(&config),
        LeaveChat::decl(&config),
        VisitorTyping::decl(&config),
        VisitorMarkRead::decl(&config),
        VisitorPageView::decl(&config),
        RatingScore::decl(&config),
        ChatRating::decl(&config),
        RateChat::decl(&config),
        RatingSettings::decl(&config),
        SiteVisitor::decl(&config),
        VisitorCommand::decl(&config),
        VisitorResponse::decl(&config),
        Health::decl(&config),
        SignInRequest::decl(&config),
        SignInResponse::decl(&config),
        ChatHistory::decl(&config),
        VisitorSessionRequest::decl(&config),
        VisitorSessionResponse::decl(&config),
        CapacityOverride::decl(&config),
        RuleField::decl(&config),
        RuleMatch::decl(&config),
        RuleCondition::decl(&config),
        RuleFallback::decl(&config),
        RoutingRule::decl(&config),
        RoutingSettings::decl(&config),
        TeamRequest::decl(&config),
        RoutingAction::decl(&config),
        RoutingHistoryEntry::decl(&config),
        CannedResponse::decl(&config),
        Article::decl(&config),
        ArticleSearch::decl(&config),
        AuditAction::decl(&config),
        AuditEntry::decl(&config),
        TicketStatus::decl(&config),
        Ticket::decl(&config),
        TicketDetail::decl(&config),
        TicketUpdate::decl(&config),
        TranscriptSent::decl(&config),
        EmojiSettings::decl(&config),
        Customer::decl(&config),
        CreateCustomerRequest::decl(&config),
    ];
    let mut out = String::from(
        "// Generated from crates/protocol by ts-rs. Do not edit: run\n\
         // `UPDATE_TYPESCRIPT=1 cargo test -p switchboard-protocol` after changing the Rust types.\n\n",
    );
    out.push_str(&format!(
        "export const PROTOCOL_VERSION = {PROTOCOL_VERSION};\n\
         export const MAX_MESSAGE_CHARS = {MAX_MESSAGE_CHARS};\n\
         export const TYPING_REFRESH_MS = {TYPING_REFRESH_MS};\n\
         export const TYPING_EXPIRY_MS = {TYPING_EXPIRY_MS};\n\
         export const OPERATOR_WS_PATH = \"{OPERATOR_WS_PATH}\";\n\
         export const VISITOR_WS_PATH = \"{VISITOR_WS_PATH}\";\n\
         export const VISITOR_SESSION_PATH = \"{}\";\n\
         export const UPLOAD_ATTACHMENT_PATH = \"{UPLOAD_ATTACHMENT_PATH}\";\n\
         export const VISITOR_UPLOAD_ATTACHMENT_PATH = \"{VISITOR_UPLOAD_ATTACHMENT_PATH}\";\n\
         export const ATTACHMENT_PATH = \"{ATTACHMENT_PATH}\";\n\
         export const ATTACHMENT_NAME_HEADER = \"{ATTACHMENT_NAME_HEADER}\";\n\
         export const CLIENT_ID_HEADER = \"{CLIENT_ID_HEADER}\";\n\
         export const DEFAULT_ATTACHMENT_MAX_BYTES = {DEFAULT_ATTACHMENT_MAX_BYTES};\n\
         export const MAX_RATING_COMMENT_CHARS = {MAX_RATING_COMMENT_CHARS};\n\n",
        CreateVisitorSession::PATH
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

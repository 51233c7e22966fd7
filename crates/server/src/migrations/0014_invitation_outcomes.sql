-- How each invitation (B23) and transfer (B22) ended, so a snapshot can say why to the sender
-- and the invited operator: listed for a day after the decision, until each of them dismisses it.
CREATE TABLE invitation_outcomes (
    id INTEGER PRIMARY KEY,
    chat_id INTEGER NOT NULL REFERENCES chats(id) ON DELETE CASCADE,
    -- The invited operator.
    operator_id INTEGER NOT NULL REFERENCES operators(id) ON DELETE CASCADE,
    from_operator_id INTEGER NOT NULL REFERENCES operators(id) ON DELETE CASCADE,
    kind TEXT NOT NULL CHECK (kind IN ('invite', 'transfer')),
    team_id INTEGER REFERENCES teams(id) ON DELETE SET NULL,
    outcome TEXT NOT NULL CHECK (outcome IN ('accepted', 'declined', 'timedOut', 'withdrawn', 'chatEnded')),
    -- Who accepted, or who withdrew.
    by_operator_id INTEGER REFERENCES operators(id) ON DELETE CASCADE,
    decided_at INTEGER NOT NULL
);
CREATE INDEX invitation_outcomes_by_operator ON invitation_outcomes(operator_id, decided_at);
CREATE INDEX invitation_outcomes_by_sender ON invitation_outcomes(from_operator_id, decided_at);

-- Outcomes an operator dismissed: they stay hidden after the next snapshot.
CREATE TABLE invitation_outcome_dismissals (
    outcome_id INTEGER NOT NULL REFERENCES invitation_outcomes(id) ON DELETE CASCADE,
    operator_id INTEGER NOT NULL REFERENCES operators(id) ON DELETE CASCADE,
    PRIMARY KEY (outcome_id, operator_id)
) WITHOUT ROWID;

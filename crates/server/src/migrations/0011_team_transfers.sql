-- Transfers to a team (B22): the invitations of one team transfer share the team, so the first
-- member to accept withdraws the others, and only the last decline goes back to the sender.
ALTER TABLE chat_invitations ADD COLUMN team_id INTEGER REFERENCES teams(id) ON DELETE SET NULL;

-- Staff sessions (issue 19): one row per login, shared by every refresh of that login (its
-- refresh-token family). Access tokens carry the row id (`sid`), so a session revoked here
-- stops working at the next request, and 在线会话 can list and end sessions.

CREATE TABLE admin_sessions (
    id            INTEGER PRIMARY KEY,
    admin_id      INTEGER NOT NULL REFERENCES admins(id),
    -- The refresh-token family of this login.
    family        TEXT NOT NULL UNIQUE,
    -- The account's token version at login: a password change or disable ends the session.
    token_version INTEGER NOT NULL,
    ip            TEXT NOT NULL,
    user_agent    TEXT NOT NULL DEFAULT '',
    created_at    INTEGER NOT NULL,
    -- Updated at each refresh (not on every request: reads never write).
    last_seen_at  INTEGER NOT NULL,
    -- When the refresh token of this login stops working.
    expires_at    INTEGER NOT NULL,
    revoked_at    INTEGER,
    revoked_by    INTEGER
);
CREATE INDEX admin_sessions_admin ON admin_sessions(admin_id, revoked_at);
CREATE INDEX admin_sessions_live ON admin_sessions(expires_at) WHERE revoked_at IS NULL;

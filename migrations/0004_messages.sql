-- Message center and the permission codes of activities, news, messages and settings.
--
-- A broadcast is stored once: `message_orgs` says which orgs (optionally with descendants) it
-- reaches, and a member sees it only if it was sent after the member entered that org
-- (`members.org_since`). Direct and event messages name their recipients in
-- `message_recipients`. Read state is one row per (member, message) plus a per-member
-- "read everything up to" watermark, so read-all is one write.

ALTER TABLE members ADD COLUMN org_since INTEGER;
UPDATE members SET org_since = COALESCE(joined_at, created_at) WHERE org_id IS NOT NULL;

CREATE TABLE messages (
    id               INTEGER PRIMARY KEY,
    -- broadcast: to orgs; direct: to listed members by staff; event: from a system event.
    kind             TEXT NOT NULL CHECK (kind IN ('broadcast', 'direct', 'event')),
    -- For event messages: the event type, e.g. `membership.approved`.
    event            TEXT,
    title            TEXT NOT NULL,
    content          TEXT NOT NULL,
    link             TEXT,
    -- Owning org: the staff scope that may see the message and its statistics.
    org_id           INTEGER REFERENCES orgs(id),
    sender_admin_id  INTEGER REFERENCES admins(id),
    -- Recipients counted when sent (broadcast: active members reached at that moment).
    recipient_count  INTEGER NOT NULL DEFAULT 0,
    -- Event messages: one per event occurrence, so a retried job does not notify twice.
    dedupe_key       TEXT UNIQUE,
    created_at       INTEGER NOT NULL
);
CREATE INDEX messages_org ON messages(org_id, created_at);

CREATE TABLE message_orgs (
    message_id           INTEGER NOT NULL REFERENCES messages(id) ON DELETE CASCADE,
    org_id               INTEGER NOT NULL REFERENCES orgs(id),
    -- The org's materialised path at send time (`/1/5/`), matched against a member's ancestors.
    org_path             TEXT NOT NULL,
    include_descendants  INTEGER NOT NULL DEFAULT 1,
    PRIMARY KEY (message_id, org_id)
) WITHOUT ROWID;
CREATE INDEX message_orgs_path ON message_orgs(org_path, message_id);

CREATE TABLE message_recipients (
    member_id   INTEGER NOT NULL REFERENCES members(id),
    message_id  INTEGER NOT NULL REFERENCES messages(id) ON DELETE CASCADE,
    PRIMARY KEY (member_id, message_id)
) WITHOUT ROWID;
CREATE INDEX message_recipients_message ON message_recipients(message_id);

CREATE TABLE message_reads (
    member_id   INTEGER NOT NULL REFERENCES members(id),
    message_id  INTEGER NOT NULL REFERENCES messages(id) ON DELETE CASCADE,
    read_at     INTEGER NOT NULL,
    PRIMARY KEY (member_id, message_id)
) WITHOUT ROWID;
CREATE INDEX message_reads_message ON message_reads(message_id);

CREATE TABLE member_message_state (
    member_id     INTEGER PRIMARY KEY REFERENCES members(id),
    -- Every message with id <= this is read (set by read-all).
    read_upto_id  INTEGER NOT NULL DEFAULT 0
);

INSERT INTO role_permissions (role_id, code) VALUES
    (1, 'setting:read'), (1, 'setting:write'),
    (4, 'activity:read'), (4, 'activity:write'), (4, 'activity:review'), (4, 'activity:checkin'),
    (4, 'activity:export'), (4, 'news:read'), (4, 'news:write'), (4, 'message:read'),
    (4, 'message:write'),
    (5, 'activity:read'), (5, 'activity:write'), (5, 'activity:review'), (5, 'activity:checkin'),
    (5, 'activity:export'), (5, 'news:read'), (5, 'news:write'), (5, 'message:read'),
    (5, 'message:write');

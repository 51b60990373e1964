-- Tickets (互动工单): a member's question, complaint or report, routed to an org, answered by
-- its staff within the category's deadline, rated by the member. Deadlines are counted in
-- calendar hours (no working-day calendar yet); the categories say how many.

CREATE TABLE ticket_categories (
    id              INTEGER PRIMARY KEY,
    code            TEXT NOT NULL UNIQUE,
    name            TEXT NOT NULL,
    -- Hours from opening (or reopening) to the first staff reply.
    deadline_hours  INTEGER NOT NULL CHECK (deadline_hours >= 1 AND deadline_hours <= 2160),
    sort            INTEGER NOT NULL DEFAULT 0,
    enabled         INTEGER NOT NULL DEFAULT 1
);

INSERT INTO ticket_categories (id, code, name, deadline_hours, sort) VALUES
    (1, 'rights', '劳动维权', 24, 1),
    (2, 'policy', '政策咨询', 48, 2),
    (3, 'suggestion', '意见建议', 72, 3),
    (4, 'complaint', '投诉举报', 24, 4),
    (5, 'other', '其他', 72, 5);

CREATE TABLE tickets (
    id                    INTEGER PRIMARY KEY,
    member_id             INTEGER NOT NULL REFERENCES members(id),
    -- The org handling it now (transfer and escalation move it); staff scope follows it.
    org_id                INTEGER NOT NULL REFERENCES orgs(id),
    -- Where it was first routed (the member's org, or the root for non-members).
    origin_org_id         INTEGER NOT NULL REFERENCES orgs(id),
    category_id           INTEGER NOT NULL REFERENCES ticket_categories(id),
    title                 TEXT NOT NULL,
    content               TEXT NOT NULL,
    -- JSON array of the opening images' file ids (also in file_refs as `ticket`).
    file_ids              TEXT NOT NULL DEFAULT '[]',
    -- Hide the member's name from staff below county level.
    anonymous             INTEGER NOT NULL DEFAULT 0,
    -- Call-back phone: sealed (FieldCipher, aad `ticket.callback_phone`) and masked.
    callback_phone_enc    TEXT,
    callback_phone_masked TEXT,
    status                TEXT NOT NULL DEFAULT 'open'
                          CHECK (status = 'open' OR status = 'resolved' OR status = 'closed'),
    -- Content safety: 0 visible, 1 held for moderation, 2 rejected by moderation.
    held                  INTEGER NOT NULL DEFAULT 0 CHECK (held >= 0 AND held <= 2),
    deadline_at           INTEGER NOT NULL,
    -- A staff reply since the deadline was (re)set: an answered ticket is never overdue.
    answered              INTEGER NOT NULL DEFAULT 0,
    first_reply_at        INTEGER,
    -- When the handling org's staff were told it is overdue (once per deadline).
    overdue_notified_at   INTEGER,
    reopened              INTEGER NOT NULL DEFAULT 0,
    resolved_at           INTEGER,
    closed_at             INTEGER,
    rating                INTEGER CHECK (rating IS NULL OR (rating >= 1 AND rating <= 5)),
    rating_comment        TEXT,
    rated_at              INTEGER,
    created_at            INTEGER NOT NULL,
    updated_at            INTEGER NOT NULL
);
CREATE INDEX tickets_org ON tickets(org_id, status, deadline_at);
CREATE INDEX tickets_member ON tickets(member_id, id);
CREATE INDEX tickets_open_deadline ON tickets(status, answered, deadline_at);

CREATE TABLE ticket_messages (
    id          INTEGER PRIMARY KEY,
    ticket_id   INTEGER NOT NULL REFERENCES tickets(id),
    -- 'member' or 'staff'.
    author      TEXT NOT NULL CHECK (author = 'member' OR author = 'staff'),
    -- The staff account, kept for audit; members are shown only the org's name.
    admin_id    INTEGER REFERENCES admins(id),
    -- The org the staff reply was given for.
    org_id      INTEGER REFERENCES orgs(id),
    content     TEXT NOT NULL,
    -- JSON array of file ids (also in file_refs as `ticket_message`).
    file_ids    TEXT NOT NULL DEFAULT '[]',
    held        INTEGER NOT NULL DEFAULT 0 CHECK (held >= 0 AND held <= 2),
    created_at  INTEGER NOT NULL
);
CREATE INDEX ticket_messages_ticket ON ticket_messages(ticket_id, id);

-- Transfers and escalations, append-only history of who moved a ticket where.
CREATE TABLE ticket_routes (
    id           INTEGER PRIMARY KEY,
    ticket_id    INTEGER NOT NULL REFERENCES tickets(id),
    kind         TEXT NOT NULL CHECK (kind = 'transfer' OR kind = 'escalate'),
    from_org_id  INTEGER NOT NULL REFERENCES orgs(id),
    to_org_id    INTEGER NOT NULL REFERENCES orgs(id),
    note         TEXT NOT NULL DEFAULT '',
    admin_id     INTEGER REFERENCES admins(id),
    created_at   INTEGER NOT NULL
);
CREATE INDEX ticket_routes_ticket ON ticket_routes(ticket_id, id);

-- Notices for the staff of an org (a ticket arrived, the member wrote, it went overdue).
CREATE TABLE ticket_notices (
    id          INTEGER PRIMARY KEY,
    org_id      INTEGER NOT NULL REFERENCES orgs(id),
    ticket_id   INTEGER NOT NULL REFERENCES tickets(id),
    event       TEXT NOT NULL,
    title       TEXT NOT NULL,
    dedupe_key  TEXT NOT NULL UNIQUE,
    created_at  INTEGER NOT NULL
);
CREATE INDEX ticket_notices_org ON ticket_notices(org_id, id);

-- The county admin and the grassroots clerk answer tickets in their scope.
INSERT INTO role_permissions (role_id, code) VALUES
    (4, 'ticket:read'), (4, 'ticket:reply'), (4, 'ticket:export'),
    (5, 'ticket:read'), (5, 'ticket:reply'), (5, 'ticket:export');

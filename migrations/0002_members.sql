-- Members: accounts from WeChat / SMS login, real-name data (ID encrypted with a blind index),
-- consents, membership applications, SMS codes, and the durable outbox for notifications.

CREATE TABLE members (
    id                   INTEGER PRIMARY KEY,
    openid               TEXT UNIQUE,
    unionid              TEXT,
    -- Phone: encrypted, blind index for uniqueness and lookup, last 4 digits for staff search.
    phone_enc            TEXT,
    phone_bidx           TEXT UNIQUE,
    phone_last4          TEXT,
    -- Display forms (e.g. 138****5678), kept so lists need no decryption.
    phone_masked         TEXT,
    nickname             TEXT NOT NULL DEFAULT '',
    avatar_file_id       INTEGER REFERENCES files(id),
    status               TEXT NOT NULL DEFAULT 'registered'
                         CHECK (status IN ('registered', 'pending', 'active', 'rejected', 'left', 'deleted')),
    org_id               INTEGER REFERENCES orgs(id),
    member_no            TEXT UNIQUE,
    joined_at            INTEGER,
    left_at              INTEGER,
    work_unit            TEXT,
    job_title            TEXT,
    real_name            TEXT,
    gender               TEXT CHECK (gender IN ('male', 'female')),
    birth_date           TEXT,
    id_enc               TEXT,
    id_bidx              TEXT UNIQUE,
    id_masked            TEXT,
    realname_verified_at INTEGER,
    token_version        INTEGER NOT NULL DEFAULT 1,
    created_by           INTEGER,
    created_at           INTEGER NOT NULL,
    updated_at           INTEGER NOT NULL,
    deleted_at           INTEGER
);
CREATE INDEX members_org_status ON members(org_id, status);
CREATE INDEX members_unionid ON members(unionid);
CREATE INDEX members_phone_last4 ON members(phone_last4);

CREATE TABLE member_consents (
    id         INTEGER PRIMARY KEY,
    member_id  INTEGER NOT NULL REFERENCES members(id),
    kind       TEXT NOT NULL CHECK (kind IN ('privacy', 'sensitive')),
    version    TEXT NOT NULL,
    ip         TEXT NOT NULL DEFAULT '',
    at         INTEGER NOT NULL
);
CREATE INDEX member_consents_member ON member_consents(member_id, kind);

CREATE TABLE membership_applications (
    id           INTEGER PRIMARY KEY,
    member_id    INTEGER NOT NULL REFERENCES members(id),
    org_id       INTEGER NOT NULL REFERENCES orgs(id),
    work_unit    TEXT NOT NULL,
    job_title    TEXT,
    answers      TEXT NOT NULL DEFAULT '{}',
    status       TEXT NOT NULL DEFAULT 'pending' CHECK (status IN ('pending', 'approved', 'rejected', 'withdrawn')),
    reason       TEXT,
    reviewed_by  INTEGER REFERENCES admins(id),
    reviewed_at  INTEGER,
    created_at   INTEGER NOT NULL
);
CREATE INDEX membership_applications_org_status ON membership_applications(org_id, status);
CREATE INDEX membership_applications_member ON membership_applications(member_id);

-- Member numbers are unique within the installation (one root org): a counter per year.
CREATE TABLE member_no_seq (
    year  INTEGER PRIMARY KEY,
    last  INTEGER NOT NULL
);

CREATE TABLE sms_codes (
    id          INTEGER PRIMARY KEY,
    phone_bidx  TEXT NOT NULL,
    code_hash   TEXT NOT NULL,
    tries       INTEGER NOT NULL DEFAULT 0,
    expires_at  INTEGER NOT NULL,
    used_at     INTEGER,
    ip          TEXT NOT NULL DEFAULT '',
    created_at  INTEGER NOT NULL
);
CREATE INDEX sms_codes_phone ON sms_codes(phone_bidx, created_at);
CREATE INDEX sms_codes_ip ON sms_codes(ip, created_at);

-- Durable outbox: written in the same transaction as the event, delivered by a worker.
CREATE TABLE outbox (
    id               INTEGER PRIMARY KEY,
    kind             TEXT NOT NULL,
    member_id        INTEGER,
    payload          TEXT NOT NULL,
    status           TEXT NOT NULL DEFAULT 'pending' CHECK (status IN ('pending', 'sent', 'refused', 'failed')),
    attempts         INTEGER NOT NULL DEFAULT 0,
    next_attempt_at  INTEGER NOT NULL,
    last_error       TEXT,
    idempotency_key  TEXT UNIQUE,
    created_at       INTEGER NOT NULL,
    done_at          INTEGER
);
CREATE INDEX outbox_due ON outbox(status, next_attempt_at);

INSERT INTO role_permissions (role_id, code) VALUES
    (1, 'member:read'), (1, 'member:write'),
    (4, 'member:read'), (4, 'member:write'), (4, 'member:review'), (4, 'member:export'), (4, 'member:import'),
    (5, 'member:read'), (5, 'member:review');

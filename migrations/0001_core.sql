-- Core system tables: org tree, staff accounts, roles, tokens, login log, audit log, files, settings.
-- Times are INTEGER unix seconds (UTC); shown as +08:00 by the API.

CREATE TABLE orgs (
    id          INTEGER PRIMARY KEY,
    parent_id   INTEGER REFERENCES orgs(id),
    name        TEXT NOT NULL,
    code        TEXT NOT NULL UNIQUE,
    kind        TEXT NOT NULL CHECK (kind IN ('prefecture', 'county', 'grassroots', 'other')),
    -- Materialised path of ids, e.g. '/1/5/12/'; subtree = path GLOB '/1/5/*' (uses the index).
    path        TEXT NOT NULL UNIQUE,
    sort        INTEGER NOT NULL DEFAULT 0,
    created_at  INTEGER NOT NULL,
    updated_at  INTEGER NOT NULL
);
CREATE INDEX orgs_parent ON orgs(parent_id);

CREATE TABLE roles (
    id          INTEGER PRIMARY KEY,
    name        TEXT NOT NULL UNIQUE,
    code        TEXT UNIQUE,
    -- Locked roles (the three separated duties) cannot be edited or deleted.
    locked      INTEGER NOT NULL DEFAULT 0,
    -- 'system' | 'security' | 'audit': one account holds at most one duty (三员分立).
    duty        TEXT CHECK (duty IN ('system', 'security', 'audit')),
    data_scope  TEXT NOT NULL CHECK (data_scope IN ('all', 'org_and_below', 'org', 'custom', 'self')),
    org_id      INTEGER REFERENCES orgs(id),
    created_at  INTEGER NOT NULL,
    updated_at  INTEGER NOT NULL
);

CREATE TABLE role_permissions (
    role_id INTEGER NOT NULL REFERENCES roles(id) ON DELETE CASCADE,
    code    TEXT NOT NULL,
    PRIMARY KEY (role_id, code)
) WITHOUT ROWID;

CREATE TABLE role_orgs (
    role_id INTEGER NOT NULL REFERENCES roles(id) ON DELETE CASCADE,
    org_id  INTEGER NOT NULL REFERENCES orgs(id),
    PRIMARY KEY (role_id, org_id)
) WITHOUT ROWID;

CREATE TABLE admins (
    id                   INTEGER PRIMARY KEY,
    username             TEXT NOT NULL UNIQUE,
    name                 TEXT NOT NULL,
    org_id               INTEGER NOT NULL REFERENCES orgs(id),
    password_hash        TEXT NOT NULL,
    must_change_password INTEGER NOT NULL DEFAULT 0,
    disabled             INTEGER NOT NULL DEFAULT 0,
    is_super             INTEGER NOT NULL DEFAULT 0,
    -- Bumped on disable, password change and role change: older tokens stop working.
    token_version        INTEGER NOT NULL DEFAULT 1,
    created_by           INTEGER,
    created_at           INTEGER NOT NULL,
    updated_at           INTEGER NOT NULL
);
CREATE INDEX admins_org ON admins(org_id);

CREATE TABLE admin_roles (
    admin_id INTEGER NOT NULL REFERENCES admins(id) ON DELETE CASCADE,
    role_id  INTEGER NOT NULL REFERENCES roles(id),
    PRIMARY KEY (admin_id, role_id)
) WITHOUT ROWID;
CREATE INDEX admin_roles_role ON admin_roles(role_id);

CREATE TABLE refresh_tokens (
    id          INTEGER PRIMARY KEY,
    audience    TEXT NOT NULL CHECK (audience IN ('admin', 'app')),
    subject_id  INTEGER NOT NULL,
    token_hash  TEXT NOT NULL UNIQUE,
    -- All rotations of one login share a family; reuse of a rotated token revokes the family.
    family      TEXT NOT NULL,
    expires_at  INTEGER NOT NULL,
    created_at  INTEGER NOT NULL,
    revoked_at  INTEGER
);
CREATE INDEX refresh_tokens_subject ON refresh_tokens(audience, subject_id);
CREATE INDEX refresh_tokens_family ON refresh_tokens(family);

CREATE TABLE login_logs (
    id          INTEGER PRIMARY KEY,
    at          INTEGER NOT NULL,
    audience    TEXT NOT NULL,
    username    TEXT NOT NULL,
    admin_id    INTEGER,
    org_id      INTEGER,
    ip          TEXT NOT NULL,
    user_agent  TEXT NOT NULL DEFAULT '',
    success     INTEGER NOT NULL,
    -- ok | bad_credentials | locked | disabled | rate_limited | password_reset
    reason      TEXT NOT NULL
);
CREATE INDEX login_logs_username_at ON login_logs(username, at);
CREATE INDEX login_logs_at ON login_logs(at);

CREATE TABLE audit_logs (
    id           INTEGER PRIMARY KEY,
    at           INTEGER NOT NULL,
    actor_type   TEXT NOT NULL,
    actor_id     INTEGER,
    actor_name   TEXT NOT NULL,
    org_id       INTEGER,
    action       TEXT NOT NULL,
    target_type  TEXT NOT NULL,
    target_id    TEXT,
    summary      TEXT NOT NULL,
    ip           TEXT NOT NULL DEFAULT '',
    result       TEXT NOT NULL,
    prev_hash    TEXT NOT NULL,
    hash         TEXT NOT NULL
);
CREATE INDEX audit_logs_at ON audit_logs(at);
CREATE INDEX audit_logs_actor ON audit_logs(actor_id, at);
CREATE INDEX audit_logs_action ON audit_logs(action, at);

-- The audit log is append-only.
CREATE TRIGGER audit_logs_no_update BEFORE UPDATE ON audit_logs
BEGIN SELECT RAISE(ABORT, 'audit_logs is append-only'); END;
CREATE TRIGGER audit_logs_no_delete BEFORE DELETE ON audit_logs
BEGIN SELECT RAISE(ABORT, 'audit_logs is append-only'); END;

CREATE TABLE files (
    id            INTEGER PRIMARY KEY,
    purpose       TEXT NOT NULL,
    visibility    TEXT NOT NULL CHECK (visibility IN ('public', 'private')),
    content_type  TEXT NOT NULL,
    size          INTEGER NOT NULL,
    sha256        TEXT NOT NULL,
    storage_key   TEXT NOT NULL UNIQUE,
    owner_type    TEXT NOT NULL CHECK (owner_type IN ('admin', 'member')),
    owner_id      INTEGER NOT NULL,
    org_id        INTEGER REFERENCES orgs(id),
    created_at    INTEGER NOT NULL,
    deleted_at    INTEGER
);
CREATE INDEX files_org ON files(org_id);

CREATE TABLE settings (
    key         TEXT PRIMARY KEY,
    value       TEXT NOT NULL,
    updated_at  INTEGER NOT NULL
) WITHOUT ROWID;

-- Built-in roles. The three separated duties are locked; the two examples are editable.
INSERT INTO roles (id, name, code, locked, duty, data_scope, created_at, updated_at) VALUES
    (1, '系统管理员', 'system_admin', 1, 'system', 'all', 0, 0),
    (2, '安全保密管理员', 'security_admin', 1, 'security', 'all', 0, 0),
    (3, '安全审计员', 'audit_admin', 1, 'audit', 'all', 0, 0),
    (4, '县级工会管理员', 'county_admin', 0, NULL, 'org_and_below', 0, 0),
    (5, '基层工会专干', 'grassroots_clerk', 0, NULL, 'org', 0, 0);

INSERT INTO role_permissions (role_id, code) VALUES
    (1, 'org:read'), (1, 'org:write'), (1, 'account:read'), (1, 'account:write'), (1, 'role:read'),
    (1, 'file:read'), (1, 'file:write'),
    (2, 'role:read'), (2, 'role:write'), (2, 'account:read'), (2, 'account:write'), (2, 'loginlog:read'),
    (3, 'audit:read'), (3, 'loginlog:read'),
    (4, 'org:read'), (4, 'org:write'), (4, 'account:read'), (4, 'account:write'), (4, 'role:read'),
    (4, 'file:read'), (4, 'file:write'),
    (5, 'org:read'), (5, 'file:read'), (5, 'file:write');

-- Hardship aid (帮扶服务): aid types with their approval flow, applications with a snapshot of
-- the flow taken at submit, family members, evidence attachments, the approval log,
-- disbursements and the 困难职工 register.
--
-- Personal values (income figures, health, housing, the cause in the applicant's words, family
-- members' names and ID numbers) live only in the `sealed` columns, encrypted with the field
-- cipher (crypto/field.rs); the plain columns hold what lists and statistics need: codes,
-- counts, masked forms. CHECKs are OR chains, not IN lists (see 0010).

CREATE TABLE aid_types (
    id           INTEGER PRIMARY KEY,
    code         TEXT NOT NULL UNIQUE,
    name         TEXT NOT NULL UNIQUE,
    description  TEXT NOT NULL DEFAULT '',
    -- JSON array of steps in order: [{"name": "基层初审", "level": "grassroots"}, …]; the level
    -- is an org kind (grassroots, county, prefecture).
    steps        TEXT NOT NULL,
    -- An approved application of this type enters the 困难职工 register.
    registers    INTEGER NOT NULL DEFAULT 0,
    enabled      INTEGER NOT NULL DEFAULT 1,
    sort         INTEGER NOT NULL DEFAULT 0,
    created_at   INTEGER NOT NULL,
    updated_at   INTEGER NOT NULL
);

INSERT INTO aid_types (code, name, description, steps, registers, sort, created_at, updated_at) VALUES
    ('hardship', '困难帮扶', '困难职工生活帮扶，审批通过后纳入困难职工档案',
     '[{"name":"基层初审","level":"grassroots"},{"name":"县级审核","level":"county"},{"name":"州级审批","level":"prefecture"}]', 1, 10, 0, 0),
    ('illness', '大病救助', '职工本人或家庭成员患重大疾病的救助',
     '[{"name":"基层初审","level":"grassroots"},{"name":"县级审核","level":"county"},{"name":"州级审批","level":"prefecture"}]', 0, 20, 0, 0),
    ('education', '金秋助学', '困难职工子女上学资助',
     '[{"name":"基层初审","level":"grassroots"},{"name":"县级审批","level":"county"}]', 0, 30, 0, 0),
    ('legal', '法律援助', '劳动争议等法律援助',
     '[{"name":"基层受理","level":"grassroots"},{"name":"县级审批","level":"county"}]', 0, 40, 0, 0);

CREATE TABLE aid_applications (
    id               INTEGER PRIMARY KEY,
    type_id          INTEGER NOT NULL REFERENCES aid_types(id),
    member_id        INTEGER NOT NULL REFERENCES members(id),
    -- The applicant's org when the application was made: scope and step orgs follow it.
    org_id           INTEGER NOT NULL REFERENCES orgs(id),
    status           TEXT NOT NULL CHECK (status = 'draft' OR status = 'pending' OR status = 'returned'
                         OR status = 'approved' OR status = 'rejected' OR status = 'cancelled'),
    -- Step being decided (1-based) while pending or returned; the last step reached after.
    current_step     INTEGER,
    -- Cause of hardship, a code of model::REASONS.
    reason_code      TEXT NOT NULL,
    household_size   INTEGER NOT NULL CHECK (household_size >= 1),
    -- Encrypted JSON of the applicant's personal values; NULL once erased.
    sealed           TEXT,
    -- The clerk who filed it on the worker's behalf (代申请).
    proxy_admin_id   INTEGER REFERENCES admins(id),
    -- The register entry whose yearly review (复核) opened this application.
    review_of        INTEGER,
    submitted_at     INTEGER,
    decided_at       INTEGER,
    erased_at        INTEGER,
    created_at       INTEGER NOT NULL,
    updated_at       INTEGER NOT NULL
);
-- At most one open application per worker and type.
CREATE UNIQUE INDEX aid_applications_open ON aid_applications(member_id, type_id)
    WHERE status = 'draft' OR status = 'pending' OR status = 'returned';
CREATE INDEX aid_applications_member ON aid_applications(member_id, id);
CREATE INDEX aid_applications_org ON aid_applications(org_id, status, id);

-- The flow of one application, resolved to orgs when it was first submitted: changing the
-- type's flow later does not touch it.
CREATE TABLE aid_steps (
    application_id  INTEGER NOT NULL REFERENCES aid_applications(id),
    step_no         INTEGER NOT NULL CHECK (step_no >= 1),
    name            TEXT NOT NULL,
    level           TEXT NOT NULL,
    org_id          INTEGER NOT NULL REFERENCES orgs(id),
    PRIMARY KEY (application_id, step_no)
) WITHOUT ROWID;
CREATE INDEX aid_steps_org ON aid_steps(org_id, application_id);

CREATE TABLE aid_family_members (
    id              INTEGER PRIMARY KEY,
    application_id  INTEGER NOT NULL REFERENCES aid_applications(id),
    seq             INTEGER NOT NULL,
    relation        TEXT NOT NULL,
    age             INTEGER,
    name_masked     TEXT NOT NULL,
    id_masked       TEXT,
    -- Encrypted JSON {name, id_number, occupation, income, health}.
    sealed          TEXT
);
CREATE INDEX aid_family_members_app ON aid_family_members(application_id, seq);

CREATE TABLE aid_attachments (
    application_id  INTEGER NOT NULL REFERENCES aid_applications(id),
    file_id         INTEGER NOT NULL REFERENCES files(id),
    -- What it proves: 户口本, 诊断证明, 收入证明, …
    label           TEXT NOT NULL,
    PRIMARY KEY (application_id, file_id)
) WITHOUT ROWID;

-- Append-only history of an application: what happened at which step, never who in person
-- to the member.
CREATE TABLE aid_log (
    id              INTEGER PRIMARY KEY,
    application_id  INTEGER NOT NULL REFERENCES aid_applications(id),
    step_no         INTEGER,
    step_name       TEXT,
    action          TEXT NOT NULL CHECK (action = 'submit' OR action = 'resubmit' OR action = 'approve'
                        OR action = 'reject' OR action = 'return' OR action = 'cancel'),
    opinion         TEXT,
    admin_id        INTEGER REFERENCES admins(id),
    org_id          INTEGER REFERENCES orgs(id),
    created_at      INTEGER NOT NULL
);
CREATE INDEX aid_log_app ON aid_log(application_id, id);

-- What was given (recorded, not paid here).
CREATE TABLE aid_disbursements (
    id              INTEGER PRIMARY KEY,
    application_id  INTEGER NOT NULL REFERENCES aid_applications(id),
    amount_cents    INTEGER NOT NULL CHECK (amount_cents > 0),
    given_on        TEXT NOT NULL,
    form            TEXT NOT NULL CHECK (form = 'cash' OR form = 'goods' OR form = 'service'),
    note            TEXT NOT NULL DEFAULT '',
    admin_id        INTEGER REFERENCES admins(id),
    created_at      INTEGER NOT NULL
);
CREATE INDEX aid_disbursements_app ON aid_disbursements(application_id, id);

-- 困难职工 register (建档).
CREATE TABLE aid_register (
    id              INTEGER PRIMARY KEY,
    member_id       INTEGER NOT NULL REFERENCES members(id),
    org_id          INTEGER NOT NULL REFERENCES orgs(id),
    application_id  INTEGER NOT NULL REFERENCES aid_applications(id),
    level           TEXT NOT NULL CHECK (level = 'general' OR level = 'deep'),
    valid_until     TEXT NOT NULL,
    status          TEXT NOT NULL DEFAULT 'active' CHECK (status = 'active' OR status = 'left'),
    left_reason     TEXT,
    left_at         INTEGER,
    created_at      INTEGER NOT NULL,
    updated_at      INTEGER NOT NULL
);
CREATE UNIQUE INDEX aid_register_active ON aid_register(member_id) WHERE status = 'active';
CREATE INDEX aid_register_org ON aid_register(org_id, status, id);

-- The type editor belongs to the system administrator; county admins and grassroots clerks
-- run the applications in their part of the tree.
INSERT INTO role_permissions (role_id, code) VALUES
    (1, 'aid:type'),
    (4, 'aid:read'), (4, 'aid:approve'), (4, 'aid:write'), (4, 'aid:reveal'), (4, 'aid:export'),
    (5, 'aid:read'), (5, 'aid:approve'), (5, 'aid:write');

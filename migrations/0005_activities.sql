-- Activities: dictionary of activity categories, registration form templates, activities,
-- registrations (answers, review, check-in, rating).
--
-- No oversell: the writer checks the live count inside the same job as the insert, and the
-- trigger below refuses an insert that would exceed the quota even if some future code path
-- forgot to. One live registration per member and activity is a partial UNIQUE index.

CREATE TABLE dictionary_items (
    dict        TEXT NOT NULL,
    code        TEXT NOT NULL,
    name        TEXT NOT NULL,
    sort        INTEGER NOT NULL DEFAULT 0,
    builtin     INTEGER NOT NULL DEFAULT 0,
    created_at  INTEGER NOT NULL,
    PRIMARY KEY (dict, code)
) WITHOUT ROWID;

INSERT INTO dictionary_items (dict, code, name, sort, builtin, created_at) VALUES
    ('activity_category', 'sports', '体育', 10, 1, 0),
    ('activity_category', 'culture', '文化', 20, 1, 0),
    ('activity_category', 'volunteer', '志愿服务', 30, 1, 0),
    ('activity_category', 'training', '培训', 40, 1, 0),
    ('activity_category', 'recuperation', '疗休养', 50, 1, 0),
    ('activity_category', 'other', '其他', 90, 1, 0);

CREATE TABLE form_templates (
    id          INTEGER PRIMARY KEY,
    org_id      INTEGER NOT NULL REFERENCES orgs(id),
    name        TEXT NOT NULL,
    -- JSON array of field definitions.
    fields      TEXT NOT NULL,
    created_by  INTEGER REFERENCES admins(id),
    created_at  INTEGER NOT NULL,
    updated_at  INTEGER NOT NULL
);
CREATE INDEX form_templates_org ON form_templates(org_id);

CREATE TABLE activities (
    id                INTEGER PRIMARY KEY,
    org_id            INTEGER NOT NULL REFERENCES orgs(id),
    title             TEXT NOT NULL,
    category          TEXT NOT NULL,
    -- Sanitised HTML.
    description       TEXT NOT NULL DEFAULT '',
    cover_file_id     INTEGER REFERENCES files(id),
    location_name     TEXT NOT NULL,
    lat               REAL,
    lng               REAL,
    checkin_radius_m  INTEGER,
    starts_at         INTEGER NOT NULL,
    ends_at           INTEGER NOT NULL,
    signup_starts_at  INTEGER NOT NULL,
    signup_ends_at    INTEGER NOT NULL,
    quota             INTEGER NOT NULL CHECK (quota > 0),
    members_only      INTEGER NOT NULL DEFAULT 1,
    needs_review      INTEGER NOT NULL DEFAULT 0,
    form_template_id  INTEGER REFERENCES form_templates(id),
    points            INTEGER NOT NULL DEFAULT 0,
    status            TEXT NOT NULL DEFAULT 'draft'
                      CHECK (status IN ('draft', 'published', 'cancelled', 'finished')),
    cancel_reason     TEXT,
    created_by        INTEGER REFERENCES admins(id),
    created_at        INTEGER NOT NULL,
    updated_at        INTEGER NOT NULL,
    published_at      INTEGER,
    closed_at         INTEGER
);
CREATE INDEX activities_org ON activities(org_id, status);
CREATE INDEX activities_status_start ON activities(status, starts_at);
CREATE INDEX activities_template ON activities(form_template_id);

CREATE TABLE activity_registrations (
    id              INTEGER PRIMARY KEY,
    activity_id     INTEGER NOT NULL REFERENCES activities(id),
    member_id       INTEGER NOT NULL REFERENCES members(id),
    -- The member's org when registering (statistics by org).
    org_id          INTEGER REFERENCES orgs(id),
    -- pending / approved are "live" and hold a place.
    status          TEXT NOT NULL CHECK (status IN ('pending', 'approved', 'rejected', 'cancelled')),
    -- Answers for display: ID-number answers are masked here.
    answers         TEXT NOT NULL DEFAULT '{}',
    -- Encrypted clear values of ID-number answers, by field key.
    answers_enc     TEXT NOT NULL DEFAULT '{}',
    reason          TEXT,
    reviewed_by     INTEGER REFERENCES admins(id),
    reviewed_at     INTEGER,
    checked_in_at   INTEGER,
    checkin_method  TEXT CHECK (checkin_method IN ('qr', 'geo')),
    points_awarded  INTEGER,
    rating          INTEGER CHECK (rating BETWEEN 1 AND 5),
    comment         TEXT,
    rated_at        INTEGER,
    reminded_at     INTEGER,
    created_at      INTEGER NOT NULL,
    cancelled_at    INTEGER
);
CREATE UNIQUE INDEX activity_registrations_live ON activity_registrations(activity_id, member_id)
    WHERE status IN ('pending', 'approved');
CREATE INDEX activity_registrations_activity ON activity_registrations(activity_id, status);
CREATE INDEX activity_registrations_member ON activity_registrations(member_id, id);

CREATE TRIGGER activity_registrations_quota BEFORE INSERT ON activity_registrations
WHEN NEW.status IN ('pending', 'approved')
 AND (SELECT count(*) FROM activity_registrations
      WHERE activity_id = NEW.activity_id AND status IN ('pending', 'approved'))
     >= (SELECT quota FROM activities WHERE id = NEW.activity_id)
BEGIN
    SELECT RAISE(ABORT, 'quota_full');
END;

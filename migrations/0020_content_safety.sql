-- Content safety: the local sensitive-word list and the moderation queue of member-written
-- content held for a person to decide.

CREATE TABLE sensitive_words (
    id          INTEGER PRIMARY KEY,
    word        TEXT NOT NULL,
    -- Normalised form (full-width → half-width, lower case, no whitespace): what is matched.
    normalized  TEXT NOT NULL UNIQUE,
    -- 'block' refuses the content; 'review' accepts it but holds it for moderation.
    level       TEXT NOT NULL CHECK (level = 'block' OR level = 'review'),
    created_by  INTEGER REFERENCES admins(id),
    created_at  INTEGER NOT NULL
);

INSERT INTO sensitive_words (word, normalized, level, created_at) VALUES
    ('代开发票', '代开发票', 'block', 0),
    ('网络赌博', '网络赌博', 'block', 0),
    ('枪支出售', '枪支出售', 'block', 0),
    ('六合彩', '六合彩', 'block', 0),
    ('群体事件', '群体事件', 'review', 0),
    ('集体上访', '集体上访', 'review', 0);

CREATE TABLE moderation_items (
    id          INTEGER PRIMARY KEY,
    -- 'ticket', 'ticket_message', 'activity_review', 'registration', 'nickname'.
    kind        TEXT NOT NULL,
    ref_id      INTEGER NOT NULL,
    member_id   INTEGER NOT NULL REFERENCES members(id),
    -- Scope of the moderators: the org the content belongs to.
    org_id      INTEGER NOT NULL REFERENCES orgs(id),
    -- The held text as written (shown to the moderator).
    content     TEXT NOT NULL,
    -- What to apply on approval (e.g. the new nickname, the review comment), JSON.
    payload     TEXT NOT NULL DEFAULT '{}',
    -- The matched rule: 'word:<word>', 'wechat:review:<label>', 'wechat:unavailable'.
    rule        TEXT NOT NULL,
    status      TEXT NOT NULL DEFAULT 'pending'
                CHECK (status = 'pending' OR status = 'approved' OR status = 'rejected'),
    reason      TEXT,
    decided_by  INTEGER REFERENCES admins(id),
    decided_at  INTEGER,
    created_at  INTEGER NOT NULL
);
CREATE INDEX moderation_items_org ON moderation_items(status, org_id, id);
CREATE INDEX moderation_items_ref ON moderation_items(kind, ref_id);

-- The security admin keeps the word list; the county admin moderates in their county.
INSERT INTO role_permissions (role_id, code) VALUES (2, 'safety:manage'), (4, 'safety:manage');

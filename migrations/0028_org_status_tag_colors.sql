-- Issue 19, admin UI gaps: an org can be disabled (停用) on the org tree-table, and every
-- dictionary item may carry the tag colour the lists show it in (字典管理).

-- A disabled org keeps its members, accounts and history but takes no new child orgs and is
-- not offered when placing new members or accounts.
ALTER TABLE orgs ADD COLUMN status TEXT NOT NULL DEFAULT 'active'
    CHECK (status = 'active' OR status = 'disabled');

-- Tag colour per dictionary item: the built-in status dictionaries (member_status,
-- activity_status, …) and the stored ones (activity_category). Rows exist only for items
-- whose colour an admin changed; the others use the built-in colour.
CREATE TABLE dictionary_colors (
    dict        TEXT NOT NULL,
    code        TEXT NOT NULL,
    -- OR chain rather than IN list, as everywhere since 0010.
    color       TEXT NOT NULL CHECK (color = 'primary' OR color = 'success' OR color = 'warning'
                                     OR color = 'danger' OR color = 'info'),
    updated_at  INTEGER NOT NULL,
    PRIMARY KEY (dict, code)
) WITHOUT ROWID;

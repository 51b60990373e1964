-- Issue 23 part 1: statistics. Per-org member counts kept by triggers in the same transaction
-- as every write to `members` (any code path: admin edit, import, approval, erasure), so a
-- dashboard or a list total never scans a million member rows.
--
-- One row per (org, status, dimension, key): dimension 'all' (key ''), 'gender' (male,
-- female or ''), 'birth_year' ('1980' or '') and 'join_month' ('2024-03' in +08:00, or '').
-- Members without an org are counted under org 0 (no such org), so the whole-table total
-- stays exact while per-org queries (which join `orgs`) leave them out. Rows at n = 0 stay.
-- `gonghui check` recounts from `members` and compares.
CREATE TABLE member_stat_counts (
    org_id  INTEGER NOT NULL,
    status  TEXT NOT NULL,
    dim     TEXT NOT NULL,
    key     TEXT NOT NULL,
    n       INTEGER NOT NULL,
    PRIMARY KEY (org_id, status, dim, key)
) WITHOUT ROWID;

INSERT INTO member_stat_counts (org_id, status, dim, key, n)
SELECT COALESCE(org_id, 0), status, 'all', '', count(*) FROM members GROUP BY 1, 2;
INSERT INTO member_stat_counts (org_id, status, dim, key, n)
SELECT COALESCE(org_id, 0), status, 'gender', COALESCE(gender, ''), count(*) FROM members GROUP BY 1, 2, 4;
INSERT INTO member_stat_counts (org_id, status, dim, key, n)
SELECT COALESCE(org_id, 0), status, 'birth_year', COALESCE(substr(birth_date, 1, 4), ''), count(*)
FROM members GROUP BY 1, 2, 4;
INSERT INTO member_stat_counts (org_id, status, dim, key, n)
SELECT COALESCE(org_id, 0), status, 'join_month',
       COALESCE(strftime('%Y-%m', joined_at + 28800, 'unixepoch'), ''), count(*)
FROM members GROUP BY 1, 2, 4;

CREATE TRIGGER member_stats_insert AFTER INSERT ON members
BEGIN
    INSERT INTO member_stat_counts (org_id, status, dim, key, n) VALUES
        (COALESCE(NEW.org_id, 0), NEW.status, 'all', '', 1),
        (COALESCE(NEW.org_id, 0), NEW.status, 'gender', COALESCE(NEW.gender, ''), 1),
        (COALESCE(NEW.org_id, 0), NEW.status, 'birth_year', COALESCE(substr(NEW.birth_date, 1, 4), ''), 1),
        (COALESCE(NEW.org_id, 0), NEW.status, 'join_month',
            COALESCE(strftime('%Y-%m', NEW.joined_at + 28800, 'unixepoch'), ''), 1)
    ON CONFLICT (org_id, status, dim, key) DO UPDATE SET n = n + 1;
END;

-- Only when a counted column changes: token, phone or nickname updates pay nothing.
CREATE TRIGGER member_stats_update AFTER UPDATE OF org_id, status, gender, birth_date, joined_at ON members
WHEN OLD.org_id IS NOT NEW.org_id OR OLD.status IS NOT NEW.status OR OLD.gender IS NOT NEW.gender
  OR OLD.birth_date IS NOT NEW.birth_date OR OLD.joined_at IS NOT NEW.joined_at
BEGIN
    UPDATE member_stat_counts SET n = n - 1
    WHERE org_id = COALESCE(OLD.org_id, 0) AND status = OLD.status AND dim = 'all' AND key = '';
    UPDATE member_stat_counts SET n = n - 1
    WHERE org_id = COALESCE(OLD.org_id, 0) AND status = OLD.status AND dim = 'gender'
      AND key = COALESCE(OLD.gender, '');
    UPDATE member_stat_counts SET n = n - 1
    WHERE org_id = COALESCE(OLD.org_id, 0) AND status = OLD.status AND dim = 'birth_year'
      AND key = COALESCE(substr(OLD.birth_date, 1, 4), '');
    UPDATE member_stat_counts SET n = n - 1
    WHERE org_id = COALESCE(OLD.org_id, 0) AND status = OLD.status AND dim = 'join_month'
      AND key = COALESCE(strftime('%Y-%m', OLD.joined_at + 28800, 'unixepoch'), '');
    INSERT INTO member_stat_counts (org_id, status, dim, key, n) VALUES
        (COALESCE(NEW.org_id, 0), NEW.status, 'all', '', 1),
        (COALESCE(NEW.org_id, 0), NEW.status, 'gender', COALESCE(NEW.gender, ''), 1),
        (COALESCE(NEW.org_id, 0), NEW.status, 'birth_year', COALESCE(substr(NEW.birth_date, 1, 4), ''), 1),
        (COALESCE(NEW.org_id, 0), NEW.status, 'join_month',
            COALESCE(strftime('%Y-%m', NEW.joined_at + 28800, 'unixepoch'), ''), 1)
    ON CONFLICT (org_id, status, dim, key) DO UPDATE SET n = n + 1;
END;

CREATE TRIGGER member_stats_delete AFTER DELETE ON members
BEGIN
    UPDATE member_stat_counts SET n = n - 1
    WHERE org_id = COALESCE(OLD.org_id, 0) AND status = OLD.status AND dim = 'all' AND key = '';
    UPDATE member_stat_counts SET n = n - 1
    WHERE org_id = COALESCE(OLD.org_id, 0) AND status = OLD.status AND dim = 'gender'
      AND key = COALESCE(OLD.gender, '');
    UPDATE member_stat_counts SET n = n - 1
    WHERE org_id = COALESCE(OLD.org_id, 0) AND status = OLD.status AND dim = 'birth_year'
      AND key = COALESCE(substr(OLD.birth_date, 1, 4), '');
    UPDATE member_stat_counts SET n = n - 1
    WHERE org_id = COALESCE(OLD.org_id, 0) AND status = OLD.status AND dim = 'join_month'
      AND key = COALESCE(strftime('%Y-%m', OLD.joined_at + 28800, 'unixepoch'), '');
END;

-- The statistics permission, for the built-in county and grassroots roles when they still
-- exist (they are editable; an installation may have removed them).
INSERT OR IGNORE INTO role_permissions (role_id, code)
SELECT id, 'stats:read' FROM roles WHERE code IN ('county_admin', 'grassroots_clerk');

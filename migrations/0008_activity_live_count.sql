-- Live (pending or approved) registrations per activity, kept by triggers, so the quota check
-- and every activity read cost one row rather than a count over all its registrations (which
-- made each sign-up O(registrations) and a large activity's sign-up burst quadratic).
ALTER TABLE activities ADD COLUMN live_count INTEGER NOT NULL DEFAULT 0;

UPDATE activities SET live_count = (
    SELECT count(*) FROM activity_registrations r
    WHERE r.activity_id = activities.id AND r.status IN ('pending', 'approved'));

CREATE TRIGGER activity_registrations_live_insert AFTER INSERT ON activity_registrations
WHEN NEW.status IN ('pending', 'approved')
BEGIN
    UPDATE activities SET live_count = live_count + 1 WHERE id = NEW.activity_id;
END;

CREATE TRIGGER activity_registrations_live_update AFTER UPDATE OF status, activity_id ON activity_registrations
WHEN (OLD.status IN ('pending', 'approved')) <> (NEW.status IN ('pending', 'approved'))
  OR OLD.activity_id <> NEW.activity_id
BEGIN
    UPDATE activities SET live_count = live_count - 1
    WHERE id = OLD.activity_id AND OLD.status IN ('pending', 'approved');
    UPDATE activities SET live_count = live_count + 1
    WHERE id = NEW.activity_id AND NEW.status IN ('pending', 'approved');
END;

CREATE TRIGGER activity_registrations_live_delete AFTER DELETE ON activity_registrations
WHEN OLD.status IN ('pending', 'approved')
BEGIN
    UPDATE activities SET live_count = live_count - 1 WHERE id = OLD.activity_id;
END;

-- The last line of defence against overselling now reads the counter too.
DROP TRIGGER activity_registrations_quota;
CREATE TRIGGER activity_registrations_quota BEFORE INSERT ON activity_registrations
WHEN NEW.status IN ('pending', 'approved')
 AND (SELECT live_count >= quota FROM activities WHERE id = NEW.activity_id)
BEGIN
    SELECT RAISE(ABORT, 'quota_full');
END;

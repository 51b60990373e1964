-- Member xlsx imports run as background jobs; the staff UI polls their progress.
-- Errors hold row numbers, field names and Chinese messages only, never personal values.

CREATE TABLE member_import_jobs (
    id           INTEGER PRIMARY KEY,
    admin_id     INTEGER NOT NULL REFERENCES admins(id),
    status       TEXT NOT NULL DEFAULT 'running' CHECK (status IN ('running', 'done', 'failed')),
    total        INTEGER NOT NULL DEFAULT 0,
    processed    INTEGER NOT NULL DEFAULT 0,
    imported     INTEGER NOT NULL DEFAULT 0,
    failed       INTEGER NOT NULL DEFAULT 0,
    -- JSON array of {row, field, message}, capped; `errors_truncated` says when more failed.
    errors       TEXT NOT NULL DEFAULT '[]',
    errors_truncated INTEGER NOT NULL DEFAULT 0,
    message      TEXT,
    created_at   INTEGER NOT NULL,
    updated_at   INTEGER NOT NULL,
    finished_at  INTEGER
);
CREATE INDEX member_import_jobs_admin ON member_import_jobs(admin_id, status);

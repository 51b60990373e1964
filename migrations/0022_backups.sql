-- Issue 23: backups made by the server (scheduled or from the admin page), with the result of
-- their verification. The archives themselves live in `backup.dir`; a row names its file.
CREATE TABLE backups (
    id            INTEGER PRIMARY KEY,
    file_name     TEXT NOT NULL UNIQUE,
    -- `scheduled` (the daily job) or `manual` (the admin page).
    kind          TEXT NOT NULL CHECK (kind = 'scheduled' OR kind = 'manual'),
    -- `running` while being written and verified, then `ok` or `failed`.
    status        TEXT NOT NULL CHECK (status = 'running' OR status = 'ok' OR status = 'failed'),
    encrypted     INTEGER NOT NULL CHECK (encrypted = 0 OR encrypted = 1),
    size_bytes    INTEGER,
    -- Row counts at the snapshot (JSON object), from the manifest.
    counts        TEXT,
    created_by    INTEGER REFERENCES admins(id),
    created_at    INTEGER NOT NULL,
    finished_at   INTEGER,
    verified_at   INTEGER,
    verify_ok     INTEGER CHECK (verify_ok = 0 OR verify_ok = 1),
    -- Problems of the last verification or why the backup failed (Chinese).
    message       TEXT
);
CREATE INDEX backups_created ON backups(created_at);

-- Issue 23: a backup archive is kept in the local backup directory or in an S3-compatible
-- store (`backup.destination`); each row says where its archive went, so verify, download
-- and delete still find it after the setting changes.
ALTER TABLE backups ADD COLUMN destination TEXT NOT NULL DEFAULT 'local'
    CHECK (destination = 'local' OR destination = 's3');
